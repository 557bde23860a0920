//! `initupload`: uploads `started.json` and the clone logs (`prow_jobs::initupload`).

use std::process::ExitCode;

use clap::Parser;
use prow_jobs::downwardapi::{self, JOB_SPEC};
use prow_jobs::initupload::{self, INITUPLOAD_OPTIONS, InitUploadOptions};

/// Upload started.json and clone records. Reads INITUPLOAD_OPTIONS and JOB_SPEC.
#[derive(Parser)]
#[command(name = "initupload", version)]
struct Flags {
    #[command(flatten)]
    _log: prow_cli::logging::LogArgs,
    /// Path to the clone records log.
    #[arg(long, default_value = "")]
    clone_log: String,
    #[command(flatten)]
    gcs: prow_cli::GcsUploadFlags,
    /// Files and directories to upload.
    items: Vec<String>,
}

fn options() -> anyhow::Result<InitUploadOptions> {
    if let Some(options) = prow_cli::options_from_env(INITUPLOAD_OPTIONS)? {
        return Ok(options);
    }
    let f = Flags::parse();
    Ok(InitUploadOptions {
        gcs_options: f.gcs.into_options(f.items)?,
        log: f.clone_log,
    })
}

fn run() -> anyhow::Result<()> {
    let options = options()?;
    options
        .gcs_options
        .validate()
        .map_err(|reason| anyhow::anyhow!("invalid options: {reason}"))?;
    let spec = downwardapi::resolve_spec(std::env::var(JOB_SPEC).ok().as_deref())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    prow_cli::runtime()?.block_on(initupload::run(&options, &spec, now))?;
    Ok(())
}

fn main() -> ExitCode {
    prow_cli::exit::quiet_broken_pipe();
    prow_cli::logging::init_from_command_line("initupload");
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => prow_cli::exit::report("initupload:", &err, ExitCode::FAILURE),
    }
}
