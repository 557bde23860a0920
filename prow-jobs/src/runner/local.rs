//! The local runner: each pod is a directory and a process group on this machine.
//!
//! A pod lives in `<root>/<job name>/`:
//!
//! - `pod.json`: the ProwJob and how to run it, written before anything starts;
//! - `supervisor`: the process that plays the pod (`pid starttime`), so a restarted runner can
//!   tell a live pod from one whose process died;
//! - `started` and `running`: when the pod began setting up and when its test containers began;
//! - `result.json`: how it ended, written last;
//! - `deleting`: present once the pod was asked to stop;
//! - `vol/<volume>/`: the pod's volumes (logs, code, tools, ...);
//! - `home/`: `HOME` of the commands run on the host.
//!
//! The pod itself is played by [`run_pod`]: the decorated pod Prow would create
//! ([`crate::prow_job_to_pod`]) with its init containers and containers run in order, the pod
//! utilities called as library functions with the options decoration put in their
//! environment, and every path the pod mounts moved into the pod's directory. A container
//! with an image runs under docker or podman when one answers; otherwise its command runs
//! directly on the host, with the environment a container would have (Prow's job variables
//! and the container's `env`) plus a minimal `PATH` and a `HOME` in the pod's directory, and
//! nothing of the runner's own environment.
//!
//! With [`Launch::Command`] each pod's supervisor is a separate process in its own session,
//! so pods outlive a runner that is killed; [`Launch::InProcess`] runs them as tasks of this
//! process, which is faster and suits tests and benchmarks, but a killed runner takes its
//! pods with it (and a restarted one then revives or fails them).

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use prow_core::ProwJob;
use prow_core::k8s_openapi::api::core::v1::{Container, Pod};
use prow_core::k8s_openapi::jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{PodPhase, PodStatus, Runner, RunnerError, StopCause};
use crate::entrypoint::{self, Interrupt, Process};
use crate::podutils::{
    CLONEREFS_OPTIONS, ClonerefsOptions, ENTRYPOINT_OPTIONS, EntrypointOptions, INITUPLOAD_OPTIONS,
    InitUploadOptions, SIDECAR_OPTIONS, SidecarOptions,
};

const POD_FILE: &str = "pod.json";
const SUPERVISOR_FILE: &str = "supervisor";
const STARTED_FILE: &str = "started";
const RUNNING_FILE: &str = "running";
const RESULT_FILE: &str = "result.json";
const DELETING_FILE: &str = "deleting";
/// The log of an undecorated pod's containers (decorated ones log into their logs volume).
pub const BUILD_LOG_FILE: &str = "build-log.txt";
/// How long a pod asked to stop has before its processes are killed outright, on top of the
/// job's grace period.
const KILL_AFTER: std::time::Duration = std::time::Duration::from_secs(15);
/// `HOME` of the commands a pod runs on the host, in the pod's directory.
const HOME_DIR: &str = "home";
/// `PATH` of the commands a pod runs on the host, unless the container's `env` sets one.
pub const HOST_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// How often sidecar looks for the containers' marker files.
const SIDECAR_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// How pods are started.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Launch {
    /// As tasks of this process.
    InProcess,
    /// As separate processes, each in its own session: `program args... <pod dir>`, which
    /// must call [`run_pod_process`] (the `prow` binary's `run-pod` command does).
    Command {
        /// The program.
        program: PathBuf,
        /// Its arguments before the pod directory.
        args: Vec<OsString>,
    },
}

/// Where containers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ContainerRuntime {
    /// docker when it answers, else podman when it answers, else the host.
    Auto,
    /// Run each container's command on the host, ignoring its image.
    Host,
    /// Run containers with `docker run`.
    Docker,
    /// Run containers with `podman run`.
    Podman,
}

impl ContainerRuntime {
    /// What [`ContainerRuntime::Auto`] means on this machine; the others as they are.
    pub fn resolve(self) -> ContainerRuntime {
        let answers = |program: &str| {
            std::process::Command::new(program)
                .args(["info", "--format", "{{.ID}}"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        match self {
            ContainerRuntime::Auto if answers("docker") => ContainerRuntime::Docker,
            ContainerRuntime::Auto if answers("podman") => ContainerRuntime::Podman,
            ContainerRuntime::Auto => ContainerRuntime::Host,
            other => other,
        }
    }

    /// Where a pod runs, in words for job descriptions.
    pub fn place(self) -> &'static str {
        match self {
            ContainerRuntime::Docker => "in docker",
            ContainerRuntime::Podman => "in podman",
            ContainerRuntime::Host | ContainerRuntime::Auto => "on the host",
        }
    }

    fn program(self) -> Option<&'static str> {
        match self {
            ContainerRuntime::Docker => Some("docker"),
            ContainerRuntime::Podman => Some("podman"),
            ContainerRuntime::Host | ContainerRuntime::Auto => None,
        }
    }
}

/// How a [`LocalRunner`] works.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LocalOptions {
    /// The directory pods live in.
    pub root: PathBuf,
    /// Where decorated jobs upload their artifacts: `Some(dir)` replaces every job's bucket
    /// with the local folder `dir` (the embedded default); `None` uploads where the job's
    /// decoration config says.
    pub artifacts: Option<PathBuf>,
    /// How pods are started.
    pub launch: Launch,
    /// Where containers run.
    pub runtime: ContainerRuntime,
    /// Local checkouts used instead of cloning, by `org/repo`.
    pub repos: BTreeMap<String, PathBuf>,
    /// The docker or podman executable (default: `docker` or `podman` found on `PATH`); any
    /// program taking `run --rm --init --name N -w DIR -v HOST:PATH -e K=V IMAGE CMD...` works.
    pub engine: Option<PathBuf>,
}

impl LocalOptions {
    /// Pods under `root`, artifacts in `root/artifacts`, run in-process on the host or in
    /// docker or podman when one answers.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        LocalOptions {
            artifacts: Some(root.join("artifacts")),
            root,
            launch: Launch::InProcess,
            runtime: ContainerRuntime::Auto,
            repos: BTreeMap::new(),
            engine: None,
        }
    }
}

/// What `pod.json` holds: everything a supervisor needs to play the pod.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PodFile {
    job: ProwJob,
    created: String,
    artifacts: Option<PathBuf>,
    runtime: ContainerRuntime,
    #[serde(default)]
    repos: BTreeMap<String, PathBuf>,
    #[serde(default)]
    engine: Option<PathBuf>,
}

/// How a pod ended (`result.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct PodResult {
    /// 0 when the test passed.
    pub code: i32,
    /// When the pod finished.
    pub finished: String,
    /// Whether every container recorded a result.
    pub all_containers_finished: bool,
    /// What went wrong, for people; empty when the test passed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

struct Task {
    interrupts: mpsc::UnboundedSender<Interrupt>,
    done: Arc<AtomicBool>,
}

/// The embedded default [`Runner`]: pods as directories and processes on this machine.
#[derive(Clone)]
pub struct LocalRunner {
    inner: Arc<Inner>,
}

struct Inner {
    options: LocalOptions,
    runtime: ContainerRuntime,
    tasks: Mutex<HashMap<String, Task>>,
    changes: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for LocalRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalRunner")
            .field("options", &self.inner.options)
            .field("runtime", &self.inner.runtime)
            .finish_non_exhaustive()
    }
}

fn transient(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> RunnerError {
    let message = format!("{what} {}", path.display());
    move |e| RunnerError::Transient(format!("{message}: {e}"))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path)
}

fn now_text() -> String {
    Timestamp::now().to_string()
}

fn read_time(path: &Path) -> Option<Timestamp> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The start time of process `pid` in clock ticks since boot (`/proc/<pid>/stat` field 22),
/// and whether it is a zombie; `None` when there is no such process.
fn process_identity(pid: i32) -> Option<(u64, bool)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let zombie = matches!(fields.first(), Some(&"Z") | Some(&"X"));
    Some((fields.get(19)?.parse().ok()?, zombie))
}

fn supervisor_record(pid: u32) -> String {
    let pid = i32::try_from(pid).unwrap_or(0);
    let start = process_identity(pid).map_or(0, |(start, _)| start);
    format!("{pid} {start}\n")
}

/// Whether the process named in a supervisor file still runs.
fn recorded_process_alive(record: &str) -> Option<i32> {
    let mut parts = record.split_whitespace();
    let pid: i32 = parts.next()?.parse().ok()?;
    let start: u64 = parts.next()?.parse().ok()?;
    match process_identity(pid) {
        Some((actual, false)) if actual == start => Some(pid),
        Some(_) => None,
        // Without /proc, a signal-0 probe is the best there is.
        None if !Path::new("/proc/self/stat").exists() => {
            kill(Pid::from_raw(pid), None).ok().map(|()| pid)
        }
        None => None,
    }
}

impl LocalRunner {
    /// A runner with `options`; resolves [`ContainerRuntime::Auto`] once, here.
    pub fn new(options: LocalOptions) -> Result<Self, RunnerError> {
        std::fs::create_dir_all(&options.root).map_err(transient("create", &options.root))?;
        Ok(LocalRunner {
            inner: Arc::new(Inner {
                runtime: options.runtime.resolve(),
                options,
                tasks: Mutex::new(HashMap::new()),
                changes: Arc::new(tokio::sync::Notify::new()),
            }),
        })
    }

    /// Where containers run.
    pub fn runtime(&self) -> ContainerRuntime {
        self.inner.runtime
    }

    /// The directory of the pod called `name`.
    pub fn pod_dir(&self, name: &str) -> PathBuf {
        self.inner.options.root.join(name)
    }

    fn tasks(&self) -> std::sync::MutexGuard<'_, HashMap<String, Task>> {
        self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the pod's supervisor runs; `Some(pid)` for a separate process.
    fn alive(&self, name: &str, dir: &Path) -> (bool, Option<i32>) {
        if let Some(task) = self.tasks().get(name) {
            return (!task.done.load(Ordering::Acquire), None);
        }
        match std::fs::read_to_string(dir.join(SUPERVISOR_FILE)) {
            Ok(record) if record.starts_with("task ") => (false, None),
            Ok(record) => match recorded_process_alive(&record) {
                Some(pid) => (true, Some(pid)),
                None => (false, None),
            },
            Err(_) => (false, None),
        }
    }

    fn status_of(&self, name: &str) -> Result<Option<PodStatus>, RunnerError> {
        let dir = self.pod_dir(name);
        let pod_path = dir.join(POD_FILE);
        let text = match std::fs::read_to_string(&pod_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A directory without pod.json is a create that never finished: nothing runs.
                if dir.is_dir() {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                return Ok(None);
            }
            Err(e) => return Err(transient("read", &pod_path)(e)),
        };
        let pod: PodFile = serde_json::from_str(&text)
            .map_err(|e| RunnerError::Transient(format!("read {}: {e}", pod_path.display())))?;
        let result: Option<PodResult> = std::fs::read_to_string(dir.join(RESULT_FILE))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let deleting = dir.join(DELETING_FILE).exists();
        let (alive, pid) = self.alive(name, &dir);
        if deleting && !alive {
            std::fs::remove_dir_all(&dir).map_err(transient("remove", &dir))?;
            self.tasks().remove(name);
            return Ok(None);
        }
        if deleting && let Some(pid) = pid {
            let asked = read_time(&dir.join(DELETING_FILE));
            let grace = grace_period(&pod.job);
            if asked.is_some_and(|t| {
                Timestamp::now().duration_since(t).unsigned_abs() > grace + KILL_AFTER
            }) {
                let _ = kill(Pid::from_raw(-pid), Signal::SIGKILL);
            }
        }
        let phase = match &result {
            Some(r) if r.code == 0 => PodPhase::Succeeded,
            Some(_) => PodPhase::Failed,
            None if alive && dir.join(RUNNING_FILE).exists() => PodPhase::Running,
            None if alive => PodPhase::Pending,
            None => PodPhase::Unknown,
        };
        Ok(Some(PodStatus {
            name: name.to_owned(),
            prowjob: pod.job.name().to_owned(),
            build_id: pod
                .job
                .status
                .as_ref()
                .map(|s| s.build_id.clone())
                .unwrap_or_default(),
            phase,
            created: pod.created.parse().unwrap_or_else(|_| Timestamp::now()),
            started: read_time(&dir.join(STARTED_FILE)),
            finished: result.as_ref().and_then(|r| r.finished.parse().ok()),
            stop_cause: (phase == PodPhase::Unknown).then_some(StopCause::Unknown),
            deleting,
            all_containers_finished: result.as_ref().is_some_and(|r| r.all_containers_finished),
            place: pod.runtime.place().to_owned(),
            message: result.map(|r| r.reason).unwrap_or_default(),
        }))
    }

    /// Writes the pod for `job` (whose `status.build_id` is set) without starting it and
    /// returns its directory; [`run_pod`] plays it. What [`Runner::create`] does before it
    /// launches the pod, for callers that play the pod themselves (phaino streams its output).
    pub fn prepare(&self, job: &ProwJob) -> Result<PathBuf, RunnerError> {
        let name = job.name();
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(RunnerError::Unprocessable(format!(
                "invalid pod name {name:?}"
            )));
        }
        let build_id = job
            .status
            .as_ref()
            .map(|s| s.build_id.as_str())
            .unwrap_or_default();
        let prepared = prepare_job(job, self.inner.options.artifacts.as_deref());
        crate::prow_job_to_pod(&prepared, build_id)
            .map_err(|e| RunnerError::Unprocessable(e.to_string()))?;
        let dir = self.pod_dir(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(RunnerError::AlreadyExists {
                    name: name.to_owned(),
                });
            }
            Err(e) => return Err(transient("create", &dir)(e)),
        }
        let pod = PodFile {
            job: job.clone(),
            created: now_text(),
            artifacts: self.inner.options.artifacts.clone(),
            runtime: self.inner.runtime,
            repos: self.inner.options.repos.clone(),
            engine: self.inner.options.engine.clone(),
        };
        let text = serde_json::to_vec(&pod)
            .map_err(|e| RunnerError::Unprocessable(format!("encode pod: {e}")))?;
        write_atomic(&dir.join(POD_FILE), &text).map_err(transient("write", &dir))?;
        Ok(dir)
    }

    fn launch(&self, name: &str, dir: &Path) -> Result<(), RunnerError> {
        match &self.inner.options.launch {
            Launch::InProcess => {
                let (tx, rx) = mpsc::unbounded_channel();
                let done = Arc::new(AtomicBool::new(false));
                self.tasks().insert(
                    name.to_owned(),
                    Task {
                        interrupts: tx,
                        done: done.clone(),
                    },
                );
                write_atomic(&dir.join(SUPERVISOR_FILE), b"task\n")
                    .map_err(transient("write", dir))?;
                let dir = dir.to_owned();
                let changes = self.inner.changes.clone();
                tokio::spawn(async move {
                    run_pod(&dir, rx, Box::new(std::io::sink())).await;
                    done.store(true, Ordering::Release);
                    changes.notify_one();
                });
            }
            Launch::Command { program, args } => {
                let log = std::fs::File::create(dir.join("supervisor.log"))
                    .map_err(transient("create", dir))?;
                let err = log.try_clone().map_err(transient("create", dir))?;
                let mut command = tokio::process::Command::new(program);
                command
                    .args(args)
                    .arg(dir)
                    .stdin(std::process::Stdio::null())
                    .stdout(log)
                    .stderr(err)
                    // Its own process group: signals to the runner's group do not reach it,
                    // and it outlives the runner.
                    .process_group(0);
                let mut child = command.spawn().map_err(|e| {
                    RunnerError::Transient(format!("start {}: {e}", program.display()))
                })?;
                let pid = child.id().unwrap_or(0);
                write_atomic(
                    &dir.join(SUPERVISOR_FILE),
                    supervisor_record(pid).as_bytes(),
                )
                .map_err(transient("write", dir))?;
                // Reap it when it ends, so it does not linger as a zombie.
                let changes = self.inner.changes.clone();
                tokio::spawn(async move {
                    let _ = child.wait().await;
                    changes.notify_one();
                });
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Runner for LocalRunner {
    async fn create(&self, job: &ProwJob) -> Result<PodStatus, RunnerError> {
        let dir = self.prepare(job)?;
        let name = job.name();
        self.launch(name, &dir)?;
        self.status_of(name)?
            .ok_or_else(|| RunnerError::Transient(format!("pod {name:?} vanished at creation")))
    }

    async fn get(&self, name: &str) -> Result<Option<PodStatus>, RunnerError> {
        let this = self.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || this.status_of(&name))
            .await
            .map_err(|e| RunnerError::Transient(e.to_string()))?
    }

    async fn delete(&self, name: &str) -> Result<(), RunnerError> {
        let dir = self.pod_dir(name);
        if !dir.join(POD_FILE).exists() {
            if dir.is_dir() {
                std::fs::remove_dir_all(&dir).map_err(transient("remove", &dir))?;
            }
            return Ok(());
        }
        let marker = dir.join(DELETING_FILE);
        if !marker.exists() {
            write_atomic(&marker, now_text().as_bytes()).map_err(transient("write", &dir))?;
        }
        let (alive, pid) = self.alive(name, &dir);
        if !alive {
            std::fs::remove_dir_all(&dir).map_err(transient("remove", &dir))?;
            self.tasks().remove(name);
            return Ok(());
        }
        if let Some(task) = self.tasks().get(name) {
            let _ = task.interrupts.send(Interrupt::Terminate);
        }
        if let Some(pid) = pid {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        Ok(())
    }

    fn changes(&self) -> Option<Arc<tokio::sync::Notify>> {
        Some(self.inner.changes.clone())
    }

    async fn list(&self) -> Result<Vec<PodStatus>, RunnerError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let root = &this.inner.options.root;
            let entries = std::fs::read_dir(root).map_err(transient("read", root))?;
            let mut pods = Vec::new();
            for entry in entries.flatten() {
                if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if name == "artifacts" {
                    continue;
                }
                if let Some(status) = this.status_of(&name)? {
                    pods.push(status);
                }
            }
            pods.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(pods)
        })
        .await
        .map_err(|e| RunnerError::Transient(e.to_string()))?
    }
}

fn grace_period(job: &ProwJob) -> std::time::Duration {
    job.spec
        .decoration_config
        .as_ref()
        .and_then(|d| d.grace_period)
        .and_then(|d| d.to_std())
        .unwrap_or_else(|| {
            entrypoint::DEFAULT_GRACE_PERIOD
                .to_std()
                .unwrap_or_default()
        })
}

/// The job as the local pod runs it: with a local artifact folder, its bucket is that folder
/// and no storage credentials are mounted.
fn prepare_job(job: &ProwJob, artifacts: Option<&Path>) -> ProwJob {
    let mut job = job.clone();
    if let (Some(dir), Some(decoration)) = (artifacts, job.spec.decoration_config.as_mut()) {
        let decoration = std::sync::Arc::make_mut(decoration);
        let gcs = decoration.gcs_configuration.get_or_insert_default();
        gcs.bucket = format!("file://{}", dir.display());
        decoration.gcs_credentials_secret = None;
        decoration.s3_credentials_secret = None;
    }
    job
}

/// Plays the pod in `dir` in a process of its own (what `Launch::Command`'s program calls):
/// SIGTERM and SIGINT are passed on to the pod's containers as Kubernetes would.
pub async fn run_pod_process(dir: &Path) -> PodResult {
    let (tx, rx) = mpsc::unbounded_channel();
    let forward = |kind, interrupt| {
        let tx = tx.clone();
        tokio::signal::unix::signal(kind).map(|mut signal| {
            tokio::spawn(async move {
                while signal.recv().await.is_some() {
                    if tx.send(interrupt).is_err() {
                        return;
                    }
                }
            })
        })
    };
    let _term = forward(
        tokio::signal::unix::SignalKind::terminate(),
        Interrupt::Terminate,
    );
    let _int = forward(
        tokio::signal::unix::SignalKind::interrupt(),
        Interrupt::Interrupt,
    );
    run_pod(dir, rx, Box::new(std::io::stdout())).await
}

/// What a local pod is doing, for a caller that shows progress (`phaino`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// clonerefs clones the job's refs.
    Cloning,
    /// The test containers run.
    Running,
    /// The sidecar uploads the results, the tests having finished.
    Uploading,
}

/// Plays the pod in `dir`: init containers in order, then the containers together, then
/// writes `result.json`. `interrupts` stops the pod as deleting it would; `copy` receives the
/// test containers' output as it is written.
pub async fn run_pod(
    dir: &Path,
    interrupts: mpsc::UnboundedReceiver<Interrupt>,
    copy: Box<dyn Write + Send>,
) -> PodResult {
    run_pod_with_progress(dir, interrupts, copy, &|_| {}).await
}

/// [`run_pod`], telling `progress` each [`Phase`] as the pod enters it.
pub async fn run_pod_with_progress(
    dir: &Path,
    interrupts: mpsc::UnboundedReceiver<Interrupt>,
    copy: Box<dyn Write + Send>,
    progress: &(dyn Fn(Phase) + Send + Sync),
) -> PodResult {
    let _ = write_atomic(&dir.join(STARTED_FILE), now_text().as_bytes());
    let (code, all_finished, reason) = match play(dir, interrupts, copy, progress).await {
        Ok((code, all_finished)) => {
            let reason = if code == 0 {
                String::new()
            } else {
                format!("a container exited {code}")
            };
            (code, all_finished, reason)
        }
        Err(reason) => (entrypoint::INTERNAL_ERROR_CODE, false, reason),
    };
    let result = PodResult {
        code,
        finished: now_text(),
        all_containers_finished: all_finished,
        reason,
    };
    if let Ok(text) = serde_json::to_vec(&result) {
        let _ = write_atomic(&dir.join(RESULT_FILE), &text);
    }
    result
}

/// A writer several containers share.
#[derive(Clone)]
struct SharedWriter(Arc<Mutex<Box<dyn Write + Send>>>);

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

/// Where a container's mount paths are on this machine.
struct Mounts {
    /// `(mount path, host directory)`, longest mount path first.
    pairs: Vec<(String, PathBuf)>,
}

impl Mounts {
    fn of(container: &Container, volumes: &BTreeMap<String, PathBuf>) -> Self {
        let mut pairs: Vec<(String, PathBuf)> = container
            .volume_mounts
            .iter()
            .flatten()
            .filter_map(|m| {
                let dir = volumes.get(&m.name)?;
                let dir = match &m.sub_path {
                    Some(sub) if !sub.is_empty() => dir.join(sub),
                    _ => dir.clone(),
                };
                Some((m.mount_path.trim_end_matches('/').to_owned(), dir))
            })
            .collect();
        pairs.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
        Mounts { pairs }
    }

    /// `path` moved to its host directory when it lies under a mount; as it is otherwise.
    fn path(&self, path: &str) -> String {
        for (mount, dir) in &self.pairs {
            if let Some(after) = path.strip_prefix(mount.as_str())
                && (after.is_empty() || after.starts_with('/'))
            {
                return format!("{}{after}", dir.display());
            }
        }
        path.to_owned()
    }

    /// A value from a container's environment with its paths moved: a JSON document (the pod
    /// utilities' options, `JOB_SPEC`) has each string that is a path moved, except inside the
    /// refs, whose clone URIs and aliases are not paths of the pod; anything else is moved
    /// when it is a path.
    fn value(&self, text: &str) -> String {
        fn walk(mounts: &Mounts, value: &mut serde_json::Value) {
            match value {
                serde_json::Value::String(s) => *s = mounts.path(s),
                serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk(mounts, v)),
                serde_json::Value::Object(map) => {
                    for (key, v) in map.iter_mut() {
                        if !matches!(key.as_str(), "refs" | "extra_refs") {
                            walk(mounts, v);
                        }
                    }
                }
                _ => {}
            }
        }
        if text.starts_with('{')
            && let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(text)
        {
            walk(self, &mut doc);
            return doc.to_string();
        }
        self.path(text)
    }
}

fn env_value(container: &Container, name: &str) -> Option<String> {
    container
        .env
        .iter()
        .flatten()
        .find(|e| e.name == name)
        .and_then(|e| e.value.clone())
}

fn plain_env(container: &Container) -> Vec<(String, String)> {
    container
        .env
        .iter()
        .flatten()
        .filter_map(|e| Some((e.name.clone(), e.value.clone()?)))
        .collect()
}

fn parse<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("{what}: {e}"))
}

/// Runs the pod; returns the test's code and whether every container recorded a result.
async fn play(
    dir: &Path,
    mut interrupts: mpsc::UnboundedReceiver<Interrupt>,
    copy: Box<dyn Write + Send>,
    progress: &(dyn Fn(Phase) + Send + Sync),
) -> Result<(i32, bool), String> {
    let text = std::fs::read_to_string(dir.join(POD_FILE)).map_err(|e| format!("pod.json: {e}"))?;
    let pod_file: PodFile = parse(&text, "pod.json")?;
    let job = prepare_job(&pod_file.job, pod_file.artifacts.as_deref());
    let build_id = job
        .status
        .as_ref()
        .map(|s| s.build_id.clone())
        .unwrap_or_default();
    let pod: Pod = crate::prow_job_to_pod(&job, &build_id).map_err(|e| e.to_string())?;
    let spec = pod.spec.unwrap_or_default();
    let engine = match (&pod_file.engine, pod_file.runtime.program()) {
        (_, None) => None,
        (Some(path), Some(_)) => Some(path.display().to_string()),
        (None, Some(program)) => Some(program.to_owned()),
    };
    let runtime = engine.as_deref();
    // Even with a container engine: a container without an image runs on the host.
    let home = dir.join(HOME_DIR);
    std::fs::create_dir_all(&home).map_err(|e| format!("{}: {e}", home.display()))?;

    let mut volumes = BTreeMap::new();
    for volume in spec.volumes.iter().flatten() {
        let path = dir.join("vol").join(&volume.name);
        std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        volumes.insert(volume.name.clone(), path);
    }

    // clonerefs's records, once it ran.
    let mut clone_log: Option<PathBuf> = None;
    for init in spec.init_containers.iter().flatten() {
        if let Ok(interrupt) = interrupts.try_recv() {
            return Err(format!("stopped ({interrupt:?}) while setting up"));
        }
        let mounts = Mounts::of(init, &volumes);
        if let Some(options) = env_value(init, CLONEREFS_OPTIONS) {
            let mut options: ClonerefsOptions = parse(&mounts.value(&options), "clonerefs")?;
            link_local_repos(&mut options, &pod_file.repos)?;
            if options.git_refs.is_empty() {
                std::fs::write(&options.log, "[]").map_err(|e| format!("{}: {e}", options.log))?;
                continue;
            }
            progress(Phase::Cloning);
            let log = PathBuf::from(&options.log);
            tokio::task::spawn_blocking(move || crate::clonerefs::run(&options))
                .await
                .map_err(|e| format!("clonerefs: {e}"))?
                .map_err(|e| with_clone_failures(format!("clonerefs: {e}"), &log))?;
            clone_log = Some(log);
        } else if let Some(options) = env_value(init, INITUPLOAD_OPTIONS) {
            let options: InitUploadOptions = parse(&mounts.value(&options), "initupload")?;
            let job_spec = crate::downwardapi::resolve_spec(env_value(init, "JOB_SPEC").as_deref())
                .map_err(|e| e.to_string())?;
            crate::initupload::run(&options, &job_spec, Timestamp::now().as_second())
                .await
                .map_err(|e| match &clone_log {
                    // initupload fails the job for failed clones: say which command failed.
                    Some(log) => with_clone_failures(format!("initupload: {e}"), log),
                    None => format!("initupload: {e}"),
                })?;
        } else if is_place_entrypoint(init) {
            // entrypoint runs in this process; there is nothing to copy.
        } else {
            let code = run_plain(init, &mounts, runtime, dir, &mut interrupts).await?;
            if code != 0 {
                return Err(format!("init container {:?} exited {code}", init.name));
            }
        }
    }
    let _ = write_atomic(&dir.join(RUNNING_FILE), now_text().as_bytes());
    progress(Phase::Running);

    let copy = SharedWriter(Arc::new(Mutex::new(copy)));
    let mut senders = Vec::new();
    let mut tests = Vec::new();
    let mut sidecar = None;
    let mut plain = Vec::new();
    for container in &spec.containers {
        let mounts = Mounts::of(container, &volumes);
        if let Some(options) = env_value(container, SIDECAR_OPTIONS) {
            let mut options: SidecarOptions = parse(&mounts.value(&options), "sidecar")?;
            options.validate().map_err(|e| e.to_string())?;
            let job_spec =
                crate::downwardapi::resolve_spec(env_value(container, "JOB_SPEC").as_deref())
                    .map_err(|e| e.to_string())?;
            let (tx, rx) = mpsc::unbounded_channel();
            senders.push(tx);
            sidecar = Some(tokio::spawn(async move {
                crate::sidecar::run(&options, &job_spec, rx, SIDECAR_POLL).await
            }));
        } else if let Some(options) = env_value(container, ENTRYPOINT_OPTIONS) {
            let mut options: EntrypointOptions = parse(&mounts.value(&options), "entrypoint")?;
            let process = container_process(container, &mounts, runtime, dir, &mut options);
            let (tx, rx) = mpsc::unbounded_channel();
            senders.push(tx);
            let copy = Box::new(copy.clone());
            tests.push(tokio::spawn(async move {
                entrypoint::run_in(&options, &process, rx, copy).await
            }));
        } else {
            plain.push((container.clone(), mounts));
        }
    }
    let mut codes = Vec::new();
    let mut all_finished = true;
    if !plain.is_empty() {
        // An undecorated pod: its containers' output goes to the pod's build log.
        for (container, mounts) in plain {
            let mut options = EntrypointOptions {
                timeout: prow_core::Duration::from_hours(24 * 365),
                grace_period: entrypoint::DEFAULT_GRACE_PERIOD,
                ..EntrypointOptions::default()
            };
            options.wrapper.process_log = dir.join(BUILD_LOG_FILE).display().to_string();
            options.wrapper.marker_file = dir
                .join(format!("marker-{}", container.name))
                .display()
                .to_string();
            options.wrapper.args = command_of(&container);
            let process = container_process(&container, &mounts, runtime, dir, &mut options);
            let (tx, rx) = mpsc::unbounded_channel();
            senders.push(tx);
            let copy = Box::new(copy.clone());
            tests.push(tokio::spawn(async move {
                entrypoint::run_in(&options, &process, rx, copy).await
            }));
        }
    }
    let forwarder = tokio::spawn(async move {
        while let Some(interrupt) = interrupts.recv().await {
            senders.retain(|tx| tx.send(interrupt).is_ok());
        }
    });
    for test in tests {
        match test.await {
            Ok(exit) => codes.push(exit.code),
            Err(e) => {
                all_finished = false;
                codes.push(entrypoint::INTERNAL_ERROR_CODE);
                let _ = writeln!(copy.clone(), "container task failed: {e}");
            }
        }
    }
    let mut code = codes.iter().copied().find(|&c| c != 0).unwrap_or(0);
    if let Some(sidecar) = sidecar {
        progress(Phase::Uploading);
        match sidecar.await {
            Ok(Ok((outcome, _))) => {
                if !outcome.passed && code == 0 {
                    code = 1;
                }
            }
            Ok(Err(e)) => return Err(format!("sidecar: {e}")),
            Err(e) => return Err(format!("sidecar: {e}")),
        }
    }
    forwarder.abort();
    Ok((code, all_finished))
}

/// `reason` followed by the git commands that failed according to the clone records in
/// `log`, with what they printed.
fn with_clone_failures(reason: String, log: &Path) -> String {
    let records: Vec<crate::clonerefs::CloneRecord> = std::fs::read(log)
        .ok()
        .and_then(|text| serde_json::from_slice(&text).ok())
        .unwrap_or_default();
    match crate::clonerefs::failure_summary(&records) {
        Some(summary) => format!("{reason}; what failed:\n{summary}"),
        None => reason,
    }
}

fn is_place_entrypoint(container: &Container) -> bool {
    container.name == "place-entrypoint"
}

fn command_of(container: &Container) -> Vec<String> {
    container
        .command
        .iter()
        .flatten()
        .chain(container.args.iter().flatten())
        .cloned()
        .collect()
}

/// The environment and working directory of a container's command, and for a container
/// runtime the `run` command wrapped around it in `options`.
fn container_process(
    container: &Container,
    mounts: &Mounts,
    engine: Option<&str>,
    dir: &Path,
    options: &mut EntrypointOptions,
) -> Process {
    let env = plain_env(container);
    match (engine, container.image.as_deref()) {
        (Some(program), Some(image)) if !image.is_empty() => {
            let mut run = vec![
                program.to_owned(),
                "run".to_owned(),
                "--rm".to_owned(),
                "--init".to_owned(),
                "--name".to_owned(),
                format!(
                    "prow-{}-{}",
                    dir.file_name().and_then(|n| n.to_str()).unwrap_or("pod"),
                    container.name
                ),
            ];
            if let Some(work_dir) = &container.working_dir {
                run.extend(["-w".to_owned(), work_dir.clone()]);
            }
            for (mount, host) in &mounts.pairs {
                run.extend(["-v".to_owned(), format!("{}:{mount}", host.display())]);
            }
            // Always `NAME=value`: a bare `-e NAME` would pass the engine's own variable on.
            for (name, value) in &env {
                run.extend(["-e".to_owned(), format!("{name}={value}")]);
            }
            run.push(image.to_owned());
            run.append(&mut options.wrapper.args);
            options.wrapper.args = run;
            // The engine's client needs its own environment (DOCKER_HOST, XDG_RUNTIME_DIR,
            // ...); the container gets none of it, only the `-e` variables above.
            Process::new(Vec::new(), None)
        }
        _ => {
            // What the container would see, and nothing of the runner's environment: a
            // minimal PATH and a HOME of the pod's own, which the container's env may replace.
            let home =
                std::path::absolute(dir.join(HOME_DIR)).unwrap_or_else(|_| dir.join(HOME_DIR));
            let mut isolated = vec![
                ("PATH".to_owned(), HOST_PATH.to_owned()),
                ("HOME".to_owned(), home.display().to_string()),
            ];
            isolated.extend(env.into_iter().map(|(k, v)| {
                let v = mounts.value(&v);
                (k, v)
            }));
            options.wrapper.args = options
                .wrapper
                .args
                .iter()
                .map(|a| mounts.path(a))
                .collect();
            let work_dir = container
                .working_dir
                .as_deref()
                .map(|w| PathBuf::from(mounts.path(w)))
                .filter(|w| w.is_dir());
            Process::isolated(isolated, work_dir)
        }
    }
}

/// Runs a container that is neither a pod utility nor decorated, to completion.
async fn run_plain(
    container: &Container,
    mounts: &Mounts,
    runtime: Option<&str>,
    dir: &Path,
    interrupts: &mut mpsc::UnboundedReceiver<Interrupt>,
) -> Result<i32, String> {
    let mut options = EntrypointOptions {
        timeout: prow_core::Duration::from_hours(24),
        grace_period: entrypoint::DEFAULT_GRACE_PERIOD,
        ..EntrypointOptions::default()
    };
    options.wrapper.process_log = dir
        .join(format!("init-{}.log", container.name))
        .display()
        .to_string();
    options.wrapper.marker_file = dir
        .join(format!("marker-init-{}", container.name))
        .display()
        .to_string();
    options.wrapper.args = command_of(container);
    if options.wrapper.args.is_empty() {
        return Ok(0);
    }
    let process = container_process(container, mounts, runtime, dir, &mut options);
    let (tx, rx) = mpsc::unbounded_channel();
    let run = entrypoint::run_in(&options, &process, rx, Box::new(std::io::sink()));
    tokio::pin!(run);
    loop {
        tokio::select! {
            exit = &mut run => return Ok(exit.code),
            Some(interrupt) = interrupts.recv() => { let _ = tx.send(interrupt); }
        }
    }
}

/// Refs with a local checkout are not cloned: their place in the source tree links to it.
fn link_local_repos(
    options: &mut ClonerefsOptions,
    repos: &BTreeMap<String, PathBuf>,
) -> Result<(), String> {
    if repos.is_empty() {
        return Ok(());
    }
    let root = PathBuf::from(&options.src_root);
    let mut kept = Vec::new();
    for refs in std::mem::take(&mut options.git_refs) {
        match repos.get(&format!("{}/{}", refs.org, refs.repo)) {
            Some(local) => {
                let target = crate::clonerefs::path_for_refs(&root, &refs);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("{}: {e}", parent.display()))?;
                }
                let local = std::fs::canonicalize(local)
                    .map_err(|e| format!("local checkout {}: {e}", local.display()))?;
                std::os::unix::fs::symlink(&local, &target)
                    .map_err(|e| format!("link {}: {e}", target.display()))?;
            }
            None => kept.push(refs),
        }
    }
    options.git_refs = kept;
    Ok(())
}
