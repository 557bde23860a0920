//! entrypoint: runs a test command under Prow's wrapper contract (timeout, signals, marker file).
//!
//! Decorated pods start their test containers with `/tools/entrypoint`, which reads
//! `ENTRYPOINT_OPTIONS`, runs the real command with its output teed to the process log, stops it
//! with SIGINT and then SIGKILL when it overruns its timeout or the pod is told to stop, and
//! writes the exit code to a marker file that sidecar waits for. The codes are part of the
//! contract: 127 when the command could not run or timed out, 130 when it was aborted, 1130 when
//! a previous step failed and this one was skipped.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use prow_core::Duration;
use tokio::sync::mpsc;

use crate::error::{Error, io_error};
pub use crate::podutils::{ENTRYPOINT_OPTIONS, EntrypointOptions, WrapperOptions};

/// The exit code when the command could not be started, or ran past its timeout.
pub const INTERNAL_ERROR_CODE: i32 = 127;
/// The exit code when the command was stopped by a signal to entrypoint.
pub const ABORTED_ERROR_CODE: i32 = 130;
/// The exit code when a previous step failed, so this one did not run.
pub const PREVIOUS_ERROR_CODE: i32 = 1000 + ABORTED_ERROR_CODE;
/// How long the command may run when the options name no timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_mins(120);
/// How long the command has to exit after SIGINT when the options name no grace period.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(15);
/// Where place-entrypoint copies the binary by default.
pub const DEFAULT_COPY_DESTINATION: &str = "/tools/entrypoint";

impl EntrypointOptions {
    /// Reads options from their JSON form (`ENTRYPOINT_OPTIONS`).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| Error::InvalidOptions {
            utility: "entrypoint",
            reason: e.to_string(),
        })
    }

    /// Checks the options like Prow (copy mode needs none of this).
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |m: &str| {
            Err(Error::InvalidOptions {
                utility: "entrypoint",
                reason: m.to_owned(),
            })
        };
        if self.wrapper.args.is_empty() {
            return invalid("no process to wrap specified");
        }
        if self.propagate_error_code && self.always_zero {
            return invalid("cannot propagate error code and always exit zero");
        }
        if self.wrapper.process_log.is_empty() {
            return invalid("no log file specified with --process-log");
        }
        if self.wrapper.marker_file.is_empty() {
            return invalid("no marker file specified with --marker-file");
        }
        Ok(())
    }

    fn timeout(&self) -> std::time::Duration {
        or_default(self.timeout, DEFAULT_TIMEOUT)
    }

    fn grace_period(&self) -> std::time::Duration {
        or_default(self.grace_period, DEFAULT_GRACE_PERIOD)
    }
}

fn or_default(value: Duration, default: Duration) -> std::time::Duration {
    let value = if value == Duration::ZERO {
        default
    } else {
        value
    };
    value.to_std().unwrap_or_default()
}

/// A signal asking entrypoint to stop the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// SIGINT.
    Interrupt,
    /// SIGTERM (what the kubelet sends when a pod is deleted).
    Terminate,
}

impl Interrupt {
    fn signal(self) -> Signal {
        match self {
            Interrupt::Interrupt => Signal::SIGINT,
            Interrupt::Terminate => Signal::SIGTERM,
        }
    }
}

/// Output shared by the command and entrypoint's own messages: the process log and a copy
/// (the container's stdout in a pod).
#[derive(Clone)]
struct Tee {
    inner: Arc<Mutex<(File, Box<dyn Write + Send>)>>,
}

impl Tee {
    fn write(&self, bytes: &[u8]) {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (log, copy) = &mut *guard;
        // A full disk or closed stdout must not stop the command; the marker still gets written.
        let _ = log.write_all(bytes);
        let _ = copy.write_all(bytes);
        let _ = copy.flush();
    }

    fn message(&self, level: &str, msg: &str) {
        let line = serde_json::json!({"component": "entrypoint", "level": level, "msg": msg});
        self.write(format!("{line}\n").as_bytes());
    }
}

/// How entrypoint ends: the code to exit with and, when something went wrong on entrypoint's
/// side (not the command's), why.
#[derive(Debug)]
pub struct Exit {
    /// The exit code (the marker file holds the command's code even under `always_zero`).
    pub code: i32,
    /// What went wrong in entrypoint itself, if anything.
    pub error: Option<Error>,
}

/// Runs the command as the options say and writes the marker file. `interrupts` delivers
/// SIGINT/SIGTERM received by entrypoint; `copy` receives the command's output besides the
/// process log (the container's stdout in a pod).
pub async fn run(
    options: &EntrypointOptions,
    interrupts: mpsc::UnboundedReceiver<Interrupt>,
    copy: Box<dyn Write + Send>,
) -> Exit {
    run_in(options, &Process::default(), interrupts, copy).await
}

/// Where and with what environment the command runs, when not simply entrypoint's own: a
/// runner that plays several containers in one process gives each its own.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Process {
    /// Variables set for the command on top of the inherited environment (or, when
    /// `isolated`, instead of it).
    pub env: Vec<(String, String)>,
    /// The command's working directory; entrypoint's own when `None`.
    pub current_dir: Option<std::path::PathBuf>,
    /// The command gets `env` only, nothing of entrypoint's own environment.
    pub isolated: bool,
}

impl Process {
    /// A process with `env` on top of the inherited environment, run in `current_dir`.
    pub fn new(env: Vec<(String, String)>, current_dir: Option<std::path::PathBuf>) -> Self {
        Process {
            env,
            current_dir,
            isolated: false,
        }
    }

    /// A process whose environment is `env` and nothing else (a later entry wins over an
    /// earlier one of the same name), run in `current_dir`: how a runner keeps its own
    /// variables from a job it runs on its host.
    pub fn isolated(env: Vec<(String, String)>, current_dir: Option<std::path::PathBuf>) -> Self {
        Process {
            env,
            current_dir,
            isolated: true,
        }
    }
}

/// [`run`], with the command's environment and working directory given by `process`.
pub async fn run_in(
    options: &EntrypointOptions,
    process: &Process,
    interrupts: mpsc::UnboundedReceiver<Interrupt>,
    copy: Box<dyn Write + Send>,
) -> Exit {
    let (code, error) = match execute(options, process, interrupts, copy).await {
        Ok(code) => (code, None),
        Err(err) => (INTERNAL_ERROR_CODE, Some(err)),
    };
    if let Err(err) = write_marker(&options.wrapper, code) {
        // Without a marker sidecar cannot tell what happened: always fail.
        return Exit {
            code: INTERNAL_ERROR_CODE,
            error: Some(err),
        };
    }
    Exit {
        code: if options.always_zero { 0 } else { code },
        error,
    }
}

/// Runs the command and decides its exit code, without writing the marker.
async fn execute(
    options: &EntrypointOptions,
    process: &Process,
    mut interrupts: mpsc::UnboundedReceiver<Interrupt>,
    copy: Box<dyn Write + Send>,
) -> Result<i32, Error> {
    if !options.artifact_dir.is_empty() {
        let dir = Path::new(&options.artifact_dir);
        std::fs::create_dir_all(dir).map_err(io_error("create artifact directory", dir))?;
    }
    let log_path = Path::new(&options.wrapper.process_log);
    let log = File::create(log_path).map_err(io_error("create process log", log_path))?;
    let tee = Tee {
        inner: Arc::new(Mutex::new((log, copy))),
    };

    if !options.previous_marker.is_empty() {
        let previous = tokio::select! {
            code = wait_for_marker(Path::new(&options.previous_marker)) => code,
            Some(signal) = interrupts.recv() => {
                tee.message("error", &format!("received {signal:?} while waiting for the previous step"));
                return Ok(INTERNAL_ERROR_CODE);
            }
        };
        match previous {
            Ok(0) => {}
            Ok(code) => {
                tee.message("info", &format!("skipping as previous step exited {code}"));
                return Ok(PREVIOUS_ERROR_CODE);
            }
            Err(reason) => {
                tee.message(
                    "error",
                    &format!("failed to read previous marker: {reason}"),
                );
                return Ok(INTERNAL_ERROR_CODE);
            }
        }
    }

    let (reader, writer) = io::pipe().map_err(io_error("create output pipe for", log_path))?;
    let stderr = writer
        .try_clone()
        .map_err(io_error("create output pipe for", log_path))?;
    let args = &options.wrapper.args;
    let mut command = tokio::process::Command::new(&args[0]);
    if process.isolated {
        // Set before `envs`, so the program is looked up on the process's own `PATH`.
        command.env_clear();
    }
    command
        .args(&args[1..])
        .envs(process.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(stderr)
        // Its own process group, so that stopping the command stops everything it started.
        .process_group(0);
    if let Some(dir) = &process.current_dir {
        command.current_dir(dir);
    }
    let spawned = command.spawn();
    // Our copies of the pipe's write end must close so the reader sees the end of output.
    drop(command);
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) => {
            tee.write(format!("could not start the process: {err}").as_bytes());
            return Ok(INTERNAL_ERROR_CODE);
        }
    };
    let copier = {
        let tee = tee.clone();
        tokio::task::spawn_blocking(move || copy_output(reader, &tee))
    };
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);

    let (timeout, grace) = (options.timeout(), options.grace_period());
    let mut cancelled = None;
    let status = tokio::select! {
        status = child.wait() => status,
        () = tokio::time::sleep(timeout) => {
            tee.message("error", &format!("process did not finish before {} timeout", options_duration(timeout)));
            cancelled = Some(None);
            terminate(&mut child, pid, None, grace, &tee).await
        }
        Some(signal) = interrupts.recv() => {
            tee.message("error", &format!("entrypoint received interrupt: {signal:?}"));
            cancelled = Some(Some(signal));
            terminate(&mut child, pid, Some(signal), grace, &tee).await
        }
    };
    // Output written before the command ended is in the log before the marker appears. A
    // descendant that escaped the process group may hold the pipe open; don't wait for it long.
    let _ = tokio::time::timeout(grace, copier).await;
    let exit_code = status.ok().map(|s| s.code().unwrap_or(-1));
    Ok(match cancelled {
        Some(_) if options.propagate_error_code => exit_code.unwrap_or(-1),
        Some(Some(_)) => ABORTED_ERROR_CODE,
        Some(None) => INTERNAL_ERROR_CODE,
        None => exit_code.unwrap_or(1),
    })
}

fn options_duration(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or_default()
}

/// SIGINT (and the received signal, if any) to the command's process group, then SIGKILL to
/// the group once the grace period is over.
async fn terminate(
    child: &mut tokio::process::Child,
    pid: Option<Pid>,
    signal: Option<Interrupt>,
    grace: std::time::Duration,
    tee: &Tee,
) -> io::Result<std::process::ExitStatus> {
    // A negative pid addresses the process group the command leads.
    let group = pid.map(|p| Pid::from_raw(-p.as_raw()));
    if let Some(group) = group {
        let _ = kill(group, Signal::SIGINT);
        if let Some(signal) = signal
            && signal != Interrupt::Interrupt
        {
            let _ = kill(group, signal.signal());
        }
    }
    tokio::select! {
        status = child.wait() => {
            tee.message("error", &format!("process gracefully exited before {} grace period", options_duration(grace)));
            status
        }
        () = tokio::time::sleep(grace) => {
            tee.message("error", &format!("process did not exit before {} grace period", options_duration(grace)));
            if let Some(group) = group {
                let _ = kill(group, Signal::SIGKILL);
            }
            let _ = child.start_kill();
            child.wait().await
        }
    }
}

fn copy_output(mut reader: io::PipeReader, tee: &Tee) {
    let mut buffer = [0u8; 8192];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => tee.write(&buffer[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Waits until `path` exists and reads the exit code in it.
async fn wait_for_marker(path: &Path) -> Result<i32, String> {
    const POLL: std::time::Duration = std::time::Duration::from_millis(200);
    loop {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                return text
                    .trim()
                    .parse()
                    .map_err(|e| format!("invalid return code in {}: {e}", path.display()));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => tokio::time::sleep(POLL).await,
            Err(e) => return Err(format!("bad read of {}: {e}", path.display())),
        }
    }
}

/// Writes the exit code to the marker file atomically: a temp file in the same directory,
/// synced, then renamed over the marker, so sidecar never reads half a number.
pub fn write_marker(wrapper: &WrapperOptions, code: i32) -> Result<(), Error> {
    let marker = Path::new(&wrapper.marker_file);
    let dir = marker
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(&format!("{}-marker", wrapper.container_name))
        .tempfile_in(dir)
        .map_err(io_error("create temp marker file in", dir))?;
    temp.write_all(code.to_string().as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .map_err(io_error("write temp marker file in", dir))?;
    temp.persist(marker)
        .map_err(|e| e.error)
        .map_err(io_error("move marker file to", marker))?;
    Ok(())
}

/// Copies the running binary to `destination` (place-entrypoint's copy mode), keeping its mode.
pub fn copy_self(destination: &Path) -> Result<(), Error> {
    let source = std::env::current_exe().map_err(io_error("find own executable", destination))?;
    if let Some(dir) = destination.parent() {
        std::fs::create_dir_all(dir).map_err(io_error("create directory", dir))?;
    }
    std::fs::copy(&source, destination).map_err(io_error("copy entrypoint to", destination))?;
    Ok(())
}
