//! `phony`: sends signed fake GitHub webhooks to a hook (`prow_github::phony`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use prow_github::phony;

/// Send fake GitHub webhooks, signed like GitHub's, to a hook.
#[derive(Parser)]
#[command(name = "phony", version)]
struct Flags {
    #[command(flatten)]
    _log: prow_cli::logging::LogArgs,
    /// Where to send the webhook.
    #[arg(long, default_value = "http://localhost:8888/hook")]
    address: String,
    /// The HMAC secret to sign with.
    #[arg(long, default_value = "abcde12345")]
    hmac: String,
    /// The event type (`X-GitHub-Event`) [default: ping, or for a folder the name of the
    /// folder holding each file].
    #[arg(long)]
    event: Option<String>,
    /// A file with the JSON payload (`{}` when not given), or a folder whose every file is sent.
    #[arg(long)]
    payload: Option<PathBuf>,
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("could not read payload file {}", path.display()))
}

/// Sends every file under `dir`, printing each reply's status; fails if any was refused.
async fn send_folder(flags: &Flags, dir: &Path) -> anyhow::Result<()> {
    let files = phony::payload_files(dir)
        .with_context(|| format!("could not list payload folder {}", dir.display()))?;
    let client = reqwest::Client::new();
    let mut refused = 0;
    for file in &files {
        let event = flags.event.as_deref().unwrap_or(&file.event);
        let payload = read(&file.path)?;
        let hmac = flags.hmac.as_bytes();
        let reply = phony::deliver(&client, &flags.address, event, &payload, hmac).await?;
        println!("{} {event} {}", reply.status, file.path.display());
        refused += usize::from(reply.status != 200);
    }
    anyhow::ensure!(
        refused == 0,
        "{refused} of {} webhooks were refused",
        files.len()
    );
    Ok(())
}

fn run() -> anyhow::Result<()> {
    let flags = Flags::parse();
    let runtime = prow_cli::runtime()?;
    if let Some(dir) = flags.payload.as_deref().filter(|p| p.is_dir()) {
        return runtime.block_on(send_folder(&flags, dir));
    }
    let payload = match &flags.payload {
        Some(path) => read(path)?,
        None => b"{}".to_vec(),
    };
    let event = flags.event.as_deref().unwrap_or("ping");
    let hmac = flags.hmac.as_bytes();
    runtime.block_on(phony::send(&flags.address, event, &payload, hmac))?;
    println!("Webhook sent.");
    Ok(())
}

fn main() -> ExitCode {
    prow_cli::exit::quiet_broken_pipe();
    prow_cli::logging::init_from_command_line("phony");
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => prow_cli::exit::report("phony:", &err, ExitCode::FAILURE),
    }
}
