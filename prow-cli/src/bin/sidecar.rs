//! `sidecar`: waits for the test containers, then uploads logs, artifacts and `finished.json`
//! (`prow_jobs::sidecar`).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use prow_jobs::downwardapi::{self, JOB_SPEC};
use prow_jobs::sidecar::{self, SIDECAR_OPTIONS, SidecarOptions};

/// How often marker files are checked.
const MARKER_POLL: Duration = Duration::from_millis(500);

/// Wait for the test containers and upload their results. Reads SIDECAR_OPTIONS and JOB_SPEC.
#[derive(Parser)]
#[command(name = "sidecar", version)]
struct Flags {
    #[command(flatten)]
    _log: prow_cli::logging::LogArgs,
    #[command(flatten)]
    gcs: prow_cli::GcsUploadFlags,
    /// Files and directories to upload.
    items: Vec<String>,
}

fn options() -> anyhow::Result<SidecarOptions> {
    if let Some(options) = prow_cli::options_from_env(SIDECAR_OPTIONS)? {
        return Ok(options);
    }
    let f = Flags::parse();
    Ok(SidecarOptions {
        gcs_options: Some(f.gcs.into_options(f.items)?),
        ..SidecarOptions::default()
    })
}

fn run() -> anyhow::Result<ExitCode> {
    let mut options = options()?;
    options.validate()?;
    let spec = downwardapi::resolve_spec(std::env::var(JOB_SPEC).ok().as_deref())?;
    let (outcome, _) = prow_cli::runtime()?.block_on(async {
        let interrupts = prow_cli::forward_interrupts();
        sidecar::run(&options, &spec, interrupts, MARKER_POLL).await
    })?;
    if outcome.failures > 0 && options.entry_error {
        eprintln!("sidecar: {} containers failed", outcome.failures);
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    prow_cli::exit::quiet_broken_pipe();
    prow_cli::logging::init_from_command_line("sidecar");
    run().unwrap_or_else(|err| prow_cli::exit::report("sidecar:", &err, ExitCode::FAILURE))
}
