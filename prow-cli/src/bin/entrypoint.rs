//! `entrypoint`: runs a test command under Prow's wrapper contract (`prow_jobs::entrypoint`).

use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use prow_core::Duration;
use prow_jobs::entrypoint::{
    self, DEFAULT_COPY_DESTINATION, ENTRYPOINT_OPTIONS, EntrypointOptions, INTERNAL_ERROR_CODE,
    WrapperOptions,
};

/// Run a test command under Prow's wrapper contract. Reads ENTRYPOINT_OPTIONS when set.
#[derive(Parser)]
#[command(name = "entrypoint", version)]
struct Flags {
    #[command(flatten)]
    _log: prow_cli::logging::LogArgs,
    /// Timeout for the test command.
    #[arg(long, default_value = "2h0m0s")]
    timeout: Duration,
    /// Grace period after SIGINT before SIGKILL.
    #[arg(long, default_value = "15s")]
    grace_period: Duration,
    /// Directory created for artifacts.
    #[arg(long, default_value = "")]
    artifact_dir: String,
    /// Only copy this binary to --copy-destination (place-entrypoint).
    #[arg(long)]
    copy_mode_only: bool,
    /// Where copy mode puts the binary.
    #[arg(long, default_value = DEFAULT_COPY_DESTINATION)]
    copy_destination: String,
    /// Record the command's own exit code on timeout or abort.
    #[arg(long)]
    propagate_error_code: bool,
    /// Where the command's output is written.
    #[arg(long, default_value = "")]
    process_log: String,
    /// Where the exit code is written.
    #[arg(long, default_value = "")]
    marker_file: String,
    /// Where the job may write metadata.
    #[arg(long, default_value = "")]
    metadata_file: String,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

fn options() -> anyhow::Result<EntrypointOptions> {
    if let Some(options) = prow_cli::options_from_env(ENTRYPOINT_OPTIONS)? {
        return Ok(options);
    }
    let f = Flags::parse();
    Ok(EntrypointOptions {
        timeout: f.timeout,
        grace_period: f.grace_period,
        artifact_dir: f.artifact_dir,
        propagate_error_code: f.propagate_error_code,
        copy_mode_only: f.copy_mode_only,
        copy_dst: f.copy_destination,
        wrapper: WrapperOptions {
            args: f.args,
            process_log: f.process_log,
            marker_file: f.marker_file,
            metadata_file: f.metadata_file,
            ..WrapperOptions::default()
        },
        ..EntrypointOptions::default()
    })
}

fn main() -> ExitCode {
    prow_cli::exit::quiet_broken_pipe();
    prow_cli::logging::init_from_command_line("entrypoint");
    match run() {
        Ok(code) => prow_cli::exit_code(code),
        Err(err) => prow_cli::exit::report(
            "entrypoint:",
            &err,
            prow_cli::exit_code(INTERNAL_ERROR_CODE),
        ),
    }
}

fn run() -> anyhow::Result<i32> {
    let options = options()?;
    if options.copy_mode_only {
        let destination = match options.copy_dst.as_str() {
            "" => DEFAULT_COPY_DESTINATION,
            dst => dst,
        };
        entrypoint::copy_self(Path::new(destination))?;
        return Ok(0);
    }
    options.validate()?;
    let exit = prow_cli::runtime()?.block_on(async {
        let interrupts = prow_cli::forward_interrupts();
        entrypoint::run(&options, interrupts, Box::new(std::io::stdout())).await
    });
    if let Some(err) = &exit.error {
        eprintln!("entrypoint: {err}");
    }
    Ok(exit.code)
}
