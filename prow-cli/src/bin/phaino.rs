//! `phaino`: runs ProwJobs on this machine, as `mkpj` prints them, and streams their output.
//!
//! Each job runs as one local pod of the embedded default's runner: decorated jobs clone (or
//! link a local checkout given with `--repo`), run their test containers under entrypoint and
//! upload to the local artifact folder; containers with an image run in docker or podman when
//! one answers, else directly on the host.
//!
//! Each phase (cloning, running, uploading) is shown on standard error: a spinner on a
//! terminal, one line each otherwise. A job that fails says why, with the failing command
//! and what it printed. Without `--data-dir` the pods and artifacts live in a temporary
//! directory that is removed at the end unless `--keep` is given.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use prow_cli::controllers::RuntimeFlag;
use prow_core::ProwJob;
use prow_jobs::entrypoint::Interrupt;
use prow_jobs::runner::{LocalOptions, LocalRunner, Phase};

/// Run ProwJobs locally.
#[derive(Parser)]
#[command(name = "phaino", version)]
struct Flags {
    #[command(flatten)]
    _log: prow_cli::logging::LogArgs,
    /// ProwJob YAML or JSON files (`-` or none: standard input).
    files: Vec<PathBuf>,
    /// Run the remaining jobs after one fails.
    #[arg(long)]
    keep_going: bool,
    /// Print how each job would run instead of running it.
    #[arg(long)]
    print: bool,
    /// Allow jobs with privileged containers.
    #[arg(long)]
    privileged: bool,
    /// How long each job may run before it is interrupted.
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    timeout: prow_core::Duration,
    /// How long all jobs together may run (0: no limit).
    #[arg(long, value_name = "DURATION", default_value = "0s")]
    total_timeout: prow_core::Duration,
    /// How long an interrupted job has to stop before it is killed (at least 1s).
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    grace: prow_core::Duration,
    /// Use a local checkout instead of cloning: `org/repo=PATH` (repeatable).
    #[arg(long = "repo", value_name = "ORG/REPO=PATH")]
    repos: Vec<String>,
    /// Where containers run.
    #[arg(long, value_enum, default_value = "auto")]
    runtime: RuntimeFlag,
    /// Where pods and artifacts go (default: a new temporary directory, removed at the end
    /// unless --keep is given).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Keep the temporary directory of pods and artifacts.
    #[arg(long)]
    keep: bool,
}

/// Shows a job's phases on standard error: a spinner while it clones or uploads on a terminal
/// (none while it runs, whose log streams to standard output), one line per phase otherwise.
struct Phases {
    job: String,
    spinner: Option<Mutex<Option<indicatif::ProgressBar>>>,
}

impl Phases {
    fn new(job: &str) -> Self {
        Phases {
            job: job.to_owned(),
            spinner: std::io::stderr().is_terminal().then(|| Mutex::new(None)),
        }
    }

    fn show(&self, phase: Phase) {
        let what = match phase {
            Phase::Cloning => "cloning",
            Phase::Running => "running",
            Phase::Uploading => "uploading",
            _ => "working",
        };
        let Some(spinner) = &self.spinner else {
            eprintln!("phaino: {}: {what}", self.job);
            return;
        };
        let mut spinner = spinner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(done) = spinner.take() {
            done.finish_and_clear();
        }
        if phase == Phase::Running {
            eprintln!("phaino: {}: {what}", self.job);
            return;
        }
        let bar = indicatif::ProgressBar::new_spinner()
            .with_message(format!("phaino: {}: {what}", self.job));
        bar.enable_steady_tick(Duration::from_millis(100));
        *spinner = Some(bar);
    }

    fn done(&self) {
        if let Some(spinner) = &self.spinner
            && let Some(bar) = spinner.lock().unwrap_or_else(|e| e.into_inner()).take()
        {
            bar.finish_and_clear();
        }
    }
}

fn read_jobs(files: &[PathBuf]) -> anyhow::Result<Vec<(String, ProwJob)>> {
    let stdin = [PathBuf::from("-")];
    let files = if files.is_empty() { &stdin[..] } else { files };
    let mut jobs = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let text = prow_cli::read_input(file)?;
        let loaded =
            prow_core::prowjob_from_yaml(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        for field in &loaded.unknown_fields {
            eprintln!("{name}: warning: unknown field {field}");
        }
        let job = loaded.value;
        if job.spec.pod_spec.is_none() {
            anyhow::bail!("{name}: job {} has no pod_spec to run", job.spec.job);
        }
        jobs.push((name, job));
    }
    Ok(jobs)
}

fn privileged(job: &ProwJob) -> bool {
    job.spec
        .pod_spec
        .iter()
        .flat_map(|s| &s.containers)
        .any(|c| {
            c.security_context
                .as_ref()
                .and_then(|s| s.privileged)
                .unwrap_or(false)
        })
}

/// Each container's name and command line (decoration names a job's only container "test",
/// as Prow does).
fn commands(job: &ProwJob) -> Vec<(String, String)> {
    let containers = job.spec.pod_spec.iter().flat_map(|s| &s.containers);
    containers
        .map(|c| {
            let command: Vec<&str> = c
                .command
                .iter()
                .flatten()
                .chain(c.args.iter().flatten())
                .map(String::as_str)
                .collect();
            let name = if c.name.is_empty() { "test" } else { &c.name };
            (name.to_owned(), command.join(" "))
        })
        .collect()
}

fn main() -> ExitCode {
    prow_cli::exit::quiet_broken_pipe();
    prow_cli::logging::init_from_command_line("phaino");
    match run(Flags::parse()) {
        Ok(code) => code,
        Err(err) => prow_cli::exit::report("phaino:", &err, ExitCode::from(2)),
    }
}

fn run(flags: Flags) -> anyhow::Result<ExitCode> {
    let timeout = flags
        .timeout
        .to_std()
        .context("--timeout must be positive")?;
    let grace = flags
        .grace
        .to_std()
        .context("--grace must be positive")?
        .max(Duration::from_secs(1));
    let total = flags.total_timeout.to_std().filter(|d| !d.is_zero());
    let jobs = read_jobs(&flags.files)?;
    // Removed when `run` returns, unless kept.
    let mut temporary = None;
    let data_dir = match &flags.data_dir {
        Some(dir) => dir.clone(),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("phaino-")
                .tempdir()
                .context("create a data directory")?;
            let path = dir.path().to_owned();
            if flags.keep {
                let _ = dir.keep();
            } else {
                temporary = Some(dir);
            }
            path
        }
    };
    let artifacts = data_dir.join("artifacts");
    let kept = if temporary.is_some() {
        " (removed at the end: pass --keep to keep them)"
    } else {
        ""
    };
    let mut options = LocalOptions::new(data_dir.join("pods"));
    options.artifacts = Some(data_dir.join("artifacts"));
    options.runtime = flags.runtime.into();
    for repo in &flags.repos {
        let (name, path) = repo
            .split_once('=')
            .with_context(|| format!("--repo {repo:?}: want org/repo=PATH"))?;
        options.repos.insert(name.to_owned(), PathBuf::from(path));
    }
    let runner = LocalRunner::new(options)?;
    let rt = prow_cli::runtime()?;
    let started = std::time::Instant::now();
    let mut failed = 0;
    for (file, mut job) in jobs {
        if privileged(&job) && !flags.privileged {
            eprintln!(
                "phaino: {file}: job {} has privileged containers; pass --privileged to run it",
                job.spec.job
            );
            failed += 1;
            if flags.keep_going { continue } else { break }
        }
        if let Some(decoration) = job.spec.decoration_config.as_mut() {
            let decoration = std::sync::Arc::make_mut(decoration);
            decoration.timeout = prow_core::Duration::from_std(timeout);
            decoration.grace_period = prow_core::Duration::from_std(grace);
        }
        let build_id = prow_core::buildid::Snowflake::new(1).next_build_id();
        job.status.get_or_insert_default().build_id = build_id.clone();
        if flags.print {
            for (name, command) in commands(&job) {
                println!(
                    "{}: {name} {}: {command}",
                    job.spec.job,
                    runner.runtime().place(),
                );
            }
            continue;
        }
        let dir = runner.prepare(&job)?;
        eprintln!(
            "phaino: running {} (build {build_id}) {} in {}",
            job.spec.job,
            runner.runtime().place(),
            dir.display()
        );
        let limit = match total {
            Some(total) => timeout.min(total.saturating_sub(started.elapsed())),
            None => timeout,
        };
        let phases = Phases::new(&job.spec.job);
        let result = rt.block_on(async {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let mut signals = prow_cli::forward_interrupts();
            let show = |phase| phases.show(phase);
            let pod = prow_jobs::runner::run_pod_with_progress(
                &dir,
                rx,
                Box::new(std::io::stdout()),
                &show,
            );
            tokio::pin!(pod);
            let deadline = tokio::time::sleep(limit);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    result = &mut pod => return result,
                    () = &mut deadline, if !deadline.is_elapsed() => {
                        eprintln!("phaino: {} ran past {}; interrupting", job.spec.job, flags.timeout);
                        let _ = tx.send(Interrupt::Interrupt);
                    }
                    Some(signal) = signals.recv() => { let _ = tx.send(signal); }
                }
            }
        });
        phases.done();
        if result.code == 0 {
            eprintln!(
                "phaino: {} passed; artifacts under {}{kept}",
                job.spec.job,
                artifacts.display()
            );
        } else {
            eprintln!(
                "phaino: {} failed: {}\nphaino: artifacts under {}{kept}",
                job.spec.job,
                result.reason,
                artifacts.display()
            );
            if result.reason.starts_with("a container exited") {
                // Its output streamed above; say what ran.
                for (name, command) in commands(&job) {
                    eprintln!("phaino: {name} ran: {command}");
                }
            }
            failed += 1;
            if !flags.keep_going {
                break;
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
