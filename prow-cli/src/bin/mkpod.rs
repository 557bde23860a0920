//! `mkpod`: prints the pod a ProwJob would run as (`prow_jobs::mkpod`), with Prow's flags.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use prow_jobs::mkpod::{self, VolumeChoice};

/// Print the Pod YAML a ProwJob would run as.
#[derive(Parser)]
#[command(name = "mkpod", version)]
struct Flags {
    #[command(flatten)]
    _log: prow_cli::logging::LogArgs,
    /// ProwJob to decorate, - for stdin.
    #[arg(long = "prow-job")]
    prow_job: PathBuf,
    /// Build ID for the job run, or 'snowflake' to generate one (default: the ProwJob status's,
    /// else a fresh one, as plank makes).
    #[arg(long, default_value = "")]
    build_id: String,
    /// Copy results to a directory on the host instead of uploading (no credentials needed).
    #[arg(long)]
    local: bool,
    /// Only with --local: the directory to copy results to (default: a new temp dir).
    #[arg(long, default_value = "")]
    out_dir: String,
}

fn run() -> anyhow::Result<()> {
    let flags = Flags::parse();
    if !flags.local && !flags.out_dir.is_empty() {
        bail!("invalid options: out-dir may only be specified in --local mode");
    }
    let text = prow_cli::read_input(&flags.prow_job)?;
    let job = prow_core::prowjob_from_yaml(&text)
        .with_context(|| format!("could not read ProwJob {}", flags.prow_job.display()))?
        .value;
    let mut build_id = mkpod::build_id_for(&job, &flags.build_id);
    if build_id.is_empty() {
        // `mkpj | mkpod` gives no build ID; plank would make one when it starts the pod, so do
        // the same (Prow's mkpod leaves it empty, which places uploads badly, and warns).
        build_id = mkpod::build_id_for(&job, "snowflake");
        tracing::debug!(
            build_id,
            "no build ID in the ProwJob status or --build-id; made one"
        );
    }
    let local_dir = if flags.local {
        let dir = if flags.out_dir.is_empty() {
            let prefix = format!("prowjob-out-{}-{build_id}-", job.spec.job);
            std::env::temp_dir().join(format!("{prefix}{}", std::process::id()))
        } else {
            PathBuf::from(&flags.out_dir).join(&build_id)
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
        eprintln!(
            "mkpod: results will be copied to {} on the node",
            dir.display()
        );
        Some(dir.display().to_string())
    } else {
        None
    };
    let mut pod = mkpod::make_pod(&job, &build_id, local_dir.as_deref())?;
    if flags.local {
        let volumes = mkpod::non_local_volumes(&pod);
        if !volumes.is_empty() {
            eprintln!(
                "For each of the following volumes specify one of:\n - 'empty' to use an emptyDir;\n - a path on the host to use hostPath;\n - '' (nothing) to use the existing volume source and assume it is available in the cluster"
            );
            let mut lines = std::io::stdin().lock().lines();
            for name in volumes {
                eprint!("Volume {name:?}: ");
                let answer = lines.next().transpose()?.unwrap_or_default();
                mkpod::apply_volume_choice(&mut pod, &name, &VolumeChoice::parse(&answer));
            }
        }
    }
    print!(
        "{}",
        serde_yaml::to_string(&pod).context("could not write Pod YAML")?
    );
    Ok(())
}

fn main() -> ExitCode {
    prow_cli::exit::quiet_broken_pipe();
    prow_cli::logging::init_from_command_line("mkpod");
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => prow_cli::exit::report("mkpod:", &err, ExitCode::FAILURE),
    }
}
