//! `phony`: sends a signed fake GitHub webhook to a hook (`prow_github::phony`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

/// Send a fake GitHub webhook, signed like GitHub's, to a hook.
#[derive(Parser)]
#[command(name = "phony", version)]
struct Flags {
    /// Where to send the webhook.
    #[arg(long, default_value = "http://localhost:8888/hook")]
    address: String,
    /// The HMAC secret to sign with.
    #[arg(long, default_value = "abcde12345")]
    hmac: String,
    /// The event type (`X-GitHub-Event`).
    #[arg(long, default_value = "ping")]
    event: String,
    /// A file with the JSON payload; `{}` when not given.
    #[arg(long)]
    payload: Option<PathBuf>,
}

fn run() -> anyhow::Result<()> {
    let flags = Flags::parse();
    let payload = match &flags.payload {
        Some(path) => std::fs::read(path)
            .with_context(|| format!("could not read payload file {}", path.display()))?,
        None => b"{}".to_vec(),
    };
    let runtime = prow_cli::runtime()?;
    runtime.block_on(prow_github::phony::send(
        &flags.address,
        &flags.event,
        &payload,
        flags.hmac.as_bytes(),
    ))?;
    println!("Webhook sent.");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("phony: {err:#}");
            ExitCode::FAILURE
        }
    }
}
