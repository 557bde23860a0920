//! `prow`: the prow-rs multi-tool: print the ProwJob CRD, check ProwJob files, explain which
//! jobs a change triggers, and run the job controllers (plank, horologium, sinker, crier) on
//! the embedded default.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use prow_cli::controllers;
use prow_core::validate::ValidationContext;
use prow_server::process::Part;

/// Prow, rebuilt in Rust.
#[derive(Parser)]
#[command(name = "prow", version, about)]
struct Cli {
    #[command(flatten)]
    log: prow_cli::logging::LogArgs,
    #[command(subcommand)]
    command: Command,
}

impl Command {
    /// The component name log lines carry (Prow's binary names).
    fn component(&self) -> &'static str {
        match self {
            Command::Crd | Command::CheckProwjob { .. } | Command::Triggers(_) => "prow",
            Command::Plank { .. } => "plank",
            Command::Horologium { .. } => "horologium",
            Command::Sinker { .. } => "sinker",
            Command::Crier { .. } => "crier",
            Command::Deck { .. } => "deck",
            Command::Tide { .. } => "tide",
            Command::StatusReconciler { .. } => "status-reconciler",
            Command::Serve { .. } | Command::Demo { .. } => "prow-serve",
            Command::Hook { .. } => "hook",
            Command::ExternalPlugin { .. } => "external-plugin",
            Command::RunPod { .. } => "run-pod",
            Command::Branchprotector(_) => "branchprotector",
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Print the CustomResourceDefinition of prowjobs.prow.k8s.io as YAML.
    Crd,
    /// Read ProwJob files (or `-` for standard input) and report every problem.
    CheckProwjob {
        /// ProwJob YAML or JSON files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Build cluster aliases that exist; jobs on other clusters are rejected.
        #[arg(long = "cluster", value_name = "ALIAS")]
        clusters: Vec<String>,
    },
    /// For every job of a repository, say whether a change runs it and why.
    Triggers(TriggersArgs),
    /// Run triggered ProwJobs on this machine until stopped (the embedded default).
    Plank {
        #[command(flatten)]
        config: controllers::ConfigArgs,
        #[command(flatten)]
        data: controllers::DataArgs,
        /// Where containers run.
        #[arg(long, value_enum, default_value = "auto")]
        runtime: controllers::RuntimeFlag,
        /// How often to look at every job even when nothing was heard of.
        #[arg(long, value_name = "DURATION", default_value = "1s")]
        resync_period: prow_core::Duration,
        #[command(flatten)]
        process: controllers::ProcessArgs,
    },
    /// Start periodic jobs on schedule until stopped.
    Horologium {
        #[command(flatten)]
        config: controllers::ConfigArgs,
        #[command(flatten)]
        data: controllers::DataArgs,
        #[command(flatten)]
        process: controllers::ProcessArgs,
    },
    /// Delete old ProwJobs and pods until stopped.
    Sinker {
        #[command(flatten)]
        config: controllers::ConfigArgs,
        #[command(flatten)]
        data: controllers::DataArgs,
        #[command(flatten)]
        process: controllers::ProcessArgs,
    },
    /// Report ProwJob states to GitHub (statuses and the failed-tests comment) until stopped.
    Crier {
        #[command(flatten)]
        config: controllers::ConfigArgs,
        #[command(flatten)]
        data: controllers::DataArgs,
        #[command(flatten)]
        github: controllers::GitHubArgs,
        #[command(flatten)]
        process: controllers::ProcessArgs,
    },
    /// Run deck alone: the web UI and Prow's JSON over the jobs in the store.
    Deck {
        #[command(flatten)]
        config: controllers::ConfigArgs,
        #[command(flatten)]
        data: controllers::DataArgs,
        /// Path to plugins.yaml (for the command help page).
        #[arg(long, value_name = "FILE")]
        plugin_config: Option<std::path::PathBuf>,
        /// The port to serve on.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        #[command(flatten)]
        github: controllers::GitHubArgs,
        #[command(flatten)]
        process: controllers::ProcessArgs,
    },
    /// Run tide alone: merge pull requests that meet the `tide.queries` once their jobs pass.
    Tide {
        #[command(flatten)]
        config: controllers::ConfigArgs,
        #[command(flatten)]
        data: controllers::DataArgs,
        #[command(flatten)]
        github: controllers::GitHubArgs,
        /// Where `/tide.js`, `/tide-history.js` and `/metrics` are served.
        #[arg(long, default_value_t = 8888)]
        port: u16,
        #[command(flatten)]
        process: controllers::ProcessArgs,
    },
    /// Run status-reconciler alone: when the presubmits change, run newly required ones on
    /// open trusted pull requests and retire or move the contexts of removed or renamed ones.
    StatusReconciler {
        #[command(flatten)]
        config: controllers::ConfigArgs,
        #[command(flatten)]
        data: controllers::DataArgs,
        #[command(flatten)]
        github: controllers::GitHubArgs,
        /// Path to plugins.yaml (trigger's trust settings).
        #[arg(long, value_name = "FILE", default_value = controllers::DEFAULT_PLUGIN_CONFIG)]
        plugin_config: PathBuf,
        #[command(flatten)]
        reconciler: controllers::StatusReconcilerArgs,
        /// Only log what would be done; as upstream this is on unless `--dry-run=false`.
        #[arg(long, value_name = "BOOL", default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
        dry_run: bool,
        #[command(flatten)]
        process: controllers::ProcessArgs,
    },
    /// Run hook, plank, horologium, sinker, crier, tide, deck, metrics and status-reconciler
    /// in one process on one port.
    Serve {
        #[command(flatten)]
        config: controllers::ConfigArgs,
        #[command(flatten)]
        data: controllers::DataArgs,
        #[command(flatten)]
        hook: controllers::HookArgs,
        #[command(flatten)]
        github: controllers::GitHubArgs,
        /// Where containers run.
        #[arg(long, value_enum, default_value = "auto")]
        runtime: controllers::RuntimeFlag,
        /// Leave this part out (repeat for more).
        #[arg(long, value_enum, value_name = "PART")]
        without: Vec<controllers::Component>,
        #[command(flatten)]
        reconciler: controllers::StatusReconcilerArgs,
        #[command(flatten)]
        process: controllers::ProcessArgs,
    },
    /// The demo: `prow serve` on `examples/prow/` with the fake GitHub, which then sends itself
    /// the demo's signed `/test all` comment; deck shows the jobs it runs.
    Demo {
        /// The port to serve on.
        #[arg(long, default_value_t = 8888)]
        port: u16,
        /// Where the demo keeps its jobs and artifacts (default: a fresh temporary directory,
        /// removed when the demo stops unless --keep is given).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<std::path::PathBuf>,
        /// Keep the temporary directory when the demo stops.
        #[arg(long)]
        keep: bool,
        /// Where containers run.
        #[arg(long, value_enum, default_value = "host")]
        runtime: controllers::RuntimeFlag,
        /// Stop once the jobs finish and exit 0 only if all of them passed.
        #[arg(long)]
        once: bool,
    },
    /// Serve the GitHub webhook and run the plugins until stopped.
    Hook {
        #[command(flatten)]
        config: controllers::ConfigArgs,
        #[command(flatten)]
        data: controllers::DataArgs,
        #[command(flatten)]
        hook: controllers::HookArgs,
        #[command(flatten)]
        github: controllers::GitHubArgs,
        #[command(flatten)]
        process: controllers::ProcessArgs,
    },
    /// Serve one plugin as an external plugin (needs-rebase, cherrypicker, refresh): hook
    /// forwards it the deliveries of the repositories that list it under `external_plugins:`.
    ExternalPlugin {
        /// The plugin (`needs-rebase`).
        name: String,
        #[command(flatten)]
        config: controllers::ConfigArgs,
        #[command(flatten)]
        data: controllers::DataArgs,
        #[command(flatten)]
        hook: controllers::HookArgs,
        #[command(flatten)]
        github: controllers::GitHubArgs,
        #[command(flatten)]
        process: controllers::ProcessArgs,
    },
    /// Apply `branch-protection:` to GitHub as upstream's branchprotector does (a dry run that
    /// prints the changes unless --confirm).
    Branchprotector(prow_cli::branchprotector::BranchprotectorArgs),
    /// Play one local pod (used by plank's local runner).
    #[command(hide = true)]
    RunPod {
        /// The pod's directory.
        dir: PathBuf,
    },
}

/// `prow triggers`: "why did my job (not) run?".
#[derive(clap::Args)]
struct TriggersArgs {
    /// Path to config.yaml.
    #[arg(long, value_name = "FILE")]
    config_path: PathBuf,
    /// Path to the job config file or directory.
    #[arg(long, value_name = "PATH")]
    job_config_path: Option<PathBuf>,
    /// The repository, as org/repo.
    #[arg(long, value_name = "ORG/REPO")]
    repo: String,
    /// The repository's in-repo config: a `.prow.yaml` file, or a checkout whose `.prow/` or
    /// `.prow.yaml` is read; its jobs are asked about with the central ones.
    #[arg(long, value_name = "FILE|DIR")]
    prow_yaml_path: Option<PathBuf>,
    /// The target branch of the pull request, or the pushed branch.
    #[arg(long, value_name = "BRANCH", default_value = "main")]
    base_ref: String,
    /// A changed file (repeatable).
    #[arg(long = "changed-file", value_name = "PATH")]
    changed_files: Vec<String>,
    /// A file listing changed files, one per line (`-` for standard input), e.g. the output of
    /// `git diff --name-only`.
    #[arg(long, value_name = "FILE")]
    changed_files_from: Option<PathBuf>,
    /// A pull request comment, e.g. `/test all` or `/retest`; without one, a new pull request.
    #[arg(long, value_name = "BODY")]
    comment: Option<String>,
    /// A context that failed on the head commit (repeatable; for `/retest`).
    #[arg(long = "failed-context", value_name = "CONTEXT")]
    failed_contexts: Vec<String>,
    /// A context already reported and not failed (repeatable; for `/retest`).
    #[arg(long = "reported-context", value_name = "CONTEXT")]
    reported_contexts: Vec<String>,
    /// The event: a pull request (presubmits) or a push (postsubmits).
    #[arg(long, value_enum, default_value = "pull_request")]
    event: Event,
    /// Honour `/ok-to-test` (false when the repo sets `ignore_ok_to_test`).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    honor_ok_to_test: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Event {
    #[value(name = "pull_request")]
    PullRequest,
    Push,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Output {
    Text,
    Json,
}

fn triggers(args: TriggersArgs) -> anyhow::Result<ExitCode> {
    let options = prow_config::LoadOptions::new(&args.config_path, args.job_config_path.clone());
    let config = match prow_config::load(&options) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error loading prow config: {err}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut changes = args.changed_files.clone();
    if let Some(path) = &args.changed_files_from {
        let text = prow_cli::read_input(path)?;
        changes.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    let branch = args.base_ref.as_str();
    let mut config = config;
    if let Some(path) = &args.prow_yaml_path {
        let loaded = if path.is_dir() {
            prow_config::inrepo::load_prow_yaml(&config, &args.repo, path)
        } else {
            match prow_config::inrepo::read_prow_yaml_file(path) {
                Ok((mut prow_yaml, errors)) if errors.is_empty() => {
                    let errors = prow_config::inrepo::default_and_validate(
                        &config,
                        &args.repo,
                        &mut prow_yaml,
                    );
                    if errors.is_empty() {
                        Ok(prow_yaml)
                    } else {
                        Err(prow_config::Error::Invalid { errors })
                    }
                }
                Ok((_, errors)) => Err(prow_config::Error::Invalid { errors }),
                Err(e) => Err(e),
            }
        };
        match loaded {
            Ok(prow_yaml) => {
                config
                    .jobs
                    .presubmits
                    .entry(args.repo.clone())
                    .or_default()
                    .extend(prow_yaml.presubmits);
                config
                    .jobs
                    .postsubmits
                    .entry(args.repo.clone())
                    .or_default()
                    .extend(prow_yaml.postsubmits);
            }
            Err(prow_config::Error::Invalid { errors }) => {
                for finding in errors {
                    eprintln!("{finding}");
                }
                eprintln!("error loading in-repo config {}", path.display());
                return Ok(ExitCode::FAILURE);
            }
            Err(err) => {
                eprintln!("error loading in-repo config {}: {err}", path.display());
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    let known = config.jobs.presubmits.contains_key(&args.repo)
        || config.jobs.postsubmits.contains_key(&args.repo);
    if !known {
        eprintln!(
            "warning: no presubmits or postsubmits are configured for {}",
            args.repo
        );
    }
    let rows = match args.event {
        Event::Push => {
            let jobs = config
                .jobs
                .postsubmits
                .get(&args.repo)
                .map(Vec::as_slice)
                .unwrap_or_default();
            prow_config::why_postsubmits(&changes, branch, jobs)?
        }
        Event::PullRequest => {
            let jobs = config.jobs.presubmits_for(&args.repo);
            match &args.comment {
                None => prow_config::why_presubmits(
                    &prow_config::PresubmitFilter::test_all(),
                    &changes,
                    branch,
                    jobs,
                )?,
                Some(body) => {
                    let failed: std::collections::HashSet<String> =
                        args.failed_contexts.iter().cloned().collect();
                    let all = failed
                        .iter()
                        .chain(&args.reported_contexts)
                        .cloned()
                        .collect();
                    // The trigger plugin's own decision for the whole comment.
                    prow_config::decide_comment(
                        body,
                        args.honor_ok_to_test,
                        prow_config::Contexts { failed, all },
                        &changes,
                        branch,
                        jobs,
                    )?
                    .jobs
                }
            }
        }
    };
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Output::Text => {
            let mut rows = rows;
            rows.sort_by(|a, b| b.runs.cmp(&a.runs).then_with(|| a.name.cmp(&b.name)));
            let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
            for row in &rows {
                let runs = if row.runs { "runs" } else { "skip" };
                println!("{runs}  {:width$}  {}", row.name, row.reason);
            }
            if let Some(body) = &args.comment {
                let count = rows.iter().filter(|r| r.runs).count();
                if let Some(note) = prow_config::help_note(body, count) {
                    let presubmits = config.jobs.presubmits_for(&args.repo);
                    let available =
                        prow_config::available_presubmits(&changes, branch, presubmits)?;
                    let (org, repo) = args.repo.split_once('/').unwrap_or((&args.repo, ""));
                    println!(
                        "\nProw would reply:\n{}",
                        prow_config::help_message(org, repo, branch, note, &available)
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn multi_thread() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")
}

/// A long-running command over `config` and `data` running `parts`.
fn command<'a>(
    config: &'a controllers::ConfigArgs,
    data: &'a controllers::DataArgs,
    parts: Vec<Part>,
) -> controllers::Command<'a> {
    controllers::Command {
        config,
        plugin_config: None,
        data,
        runtime: controllers::RuntimeFlag::Host,
        github: None,
        port: None,
        parts,
    }
}

/// hook's options on top of `command`'s: its port, path, secret, plugins and dry run.
fn hook_options<'a>(
    mut command: controllers::Command<'a>,
    hook: &'a controllers::HookArgs,
    process: &controllers::ProcessArgs,
) -> anyhow::Result<prow_server::process::ProcessOptions> {
    command.plugin_config = Some(&hook.plugin_config);
    command.port = Some(hook.port);
    let mut options = command.options(process)?;
    prow_cli::exit::require_file(
        "--hmac-secret-file",
        &hook.hmac_secret_file,
        Some(controllers::DEFAULT_HMAC_SECRET_FILE),
    )?;
    options.hmac_secret_file = Some(hook.hmac_secret_file.clone());
    options.hook.webhook_path.clone_from(&hook.webhook_path);
    options.hook.dry_run = hook.dry_run;
    options.trackers = hook.trackers.options();
    Ok(options)
}

/// Runs a long-running command's process until SIGTERM or SIGINT.
fn serve(options: prow_server::process::ProcessOptions) -> anyhow::Result<ExitCode> {
    multi_thread()?.block_on(controllers::run(options))?;
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    prow_cli::exit::quiet_broken_pipe();
    let cli = Cli::parse();
    if let Err(err) = prow_cli::logging::init(cli.command.component(), &cli.log) {
        eprintln!("error: {err:#}");
        return ExitCode::from(2);
    }
    match run(cli) {
        Ok(code) => code,
        Err(err) => prow_cli::exit::report("error:", &err, ExitCode::from(2)),
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Crd => {
            let crd = prow_core::prowjob_crd();
            print!(
                "{}",
                serde_yaml::to_string(&crd).context("failed to write the CRD")?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckProwjob { files, clusters } => {
            let context = if clusters.is_empty() {
                ValidationContext::default()
            } else {
                ValidationContext::with_clusters(clusters)
            };
            let mut failed = false;
            for file in &files {
                let text = prow_cli::read_input(file)?;
                let name = file.display();
                let loaded = match prow_core::prowjob_from_yaml(&text) {
                    Ok(loaded) => loaded,
                    Err(err) => {
                        println!("{name}: {err}");
                        failed = true;
                        continue;
                    }
                };
                for field in &loaded.unknown_fields {
                    println!("{name}: warning: unknown field {field}");
                }
                let job = loaded.value;
                let problems = job.problems(&context);
                for problem in &problems {
                    println!("{name}: {problem}");
                }
                failed |= !problems.is_empty();
                if problems.is_empty() {
                    let refs = job
                        .spec
                        .main_refs()
                        .map(|r| format!(" {} PULL_REFS={}", r.org_repo(), r.pull_refs()))
                        .unwrap_or_default();
                    println!(
                        "{name}: ok: {} job {}{refs}",
                        job.spec.job_type, job.spec.job
                    );
                }
            }
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Triggers(args) => triggers(args),
        Command::Branchprotector(args) => {
            multi_thread()?.block_on(prow_cli::branchprotector::run(&args))
        }
        Command::Plank {
            config,
            data,
            runtime,
            resync_period,
            process,
        } => {
            let resync = resync_period
                .to_std()
                .context("--resync-period must be positive")?;
            let mut options = command(&config, &data, vec![Part::Plank])
                .runtime(runtime)
                .options(&process)?;
            options.plank_resync = resync;
            serve(options)
        }
        Command::Horologium {
            config,
            data,
            process,
        } => serve(command(&config, &data, vec![Part::Horologium]).options(&process)?),
        Command::Sinker {
            config,
            data,
            process,
        } => serve(command(&config, &data, vec![Part::Sinker]).options(&process)?),
        Command::Crier {
            config,
            data,
            github,
            process,
        } => serve(
            command(&config, &data, vec![Part::Crier])
                .github(&github)
                .options(&process)?,
        ),
        Command::Deck {
            config,
            data,
            plugin_config,
            port,
            github,
            process,
        } => {
            let mut command = command(&config, &data, vec![Part::Deck, Part::Metrics])
                .github(&github)
                .port(port);
            command.plugin_config = plugin_config.as_deref();
            serve(command.options(&process)?)
        }
        Command::Tide {
            config,
            data,
            github,
            port,
            process,
        } => serve(
            command(&config, &data, vec![Part::Tide, Part::Metrics])
                .github(&github)
                .port(port)
                .options(&process)?,
        ),
        Command::StatusReconciler {
            config,
            data,
            github,
            plugin_config,
            reconciler,
            dry_run,
            process,
        } => {
            let mut command = command(&config, &data, vec![Part::StatusReconciler]).github(&github);
            command.plugin_config = Some(&plugin_config);
            let mut options = command.options(&process)?;
            options.status_reconciler = reconciler.options(dry_run)?;
            serve(options)
        }
        Command::Serve {
            config,
            data,
            hook,
            github,
            runtime,
            without,
            reconciler,
            process,
        } => {
            let parts = controllers::parts_without(&without);
            let mut options = hook_options(
                command(&config, &data, parts)
                    .runtime(runtime)
                    .github(&github),
                &hook,
                &process,
            )?;
            // hook's --dry-run keeps status-reconciler from acting too.
            options.status_reconciler = reconciler.options(hook.dry_run)?;
            serve(options)
        }
        Command::Demo {
            port,
            data_dir,
            runtime,
            once,
            keep,
        } => {
            // Removed when the demo returns, unless kept.
            let temporary = match data_dir {
                Some(_) => None,
                None => Some(
                    tempfile::Builder::new()
                        .prefix("prow-demo-")
                        .tempdir()
                        .context("create the demo's data directory")?,
                ),
            };
            let data_dir = temporary
                .as_ref()
                .map(|dir| dir.path().to_owned())
                .or(data_dir)
                .unwrap_or_default();
            let passed = multi_thread()?.block_on(prow_cli::demo::demo(
                std::path::Path::new("examples/prow"),
                &data_dir,
                port,
                runtime,
                once,
            ));
            if let Some(dir) = temporary {
                if keep {
                    eprintln!("demo: kept {}", dir.keep().display());
                } else {
                    drop(dir);
                }
            }
            let passed = passed?;
            Ok(if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Hook {
            config,
            data,
            hook,
            github,
            process,
        } => serve(hook_options(
            command(&config, &data, vec![Part::Hook, Part::Metrics]).github(&github),
            &hook,
            &process,
        )?),
        Command::ExternalPlugin {
            name,
            config,
            data,
            hook,
            github,
            process,
        } => {
            if !prow_plugins::builtin().contains_key(name.as_str()) {
                anyhow::bail!("external-plugin: unknown plugin {name:?}");
            }
            let mut options = hook_options(
                command(&config, &data, vec![Part::Hook, Part::Metrics]).github(&github),
                &hook,
                &process,
            )?;
            options.hook.external_plugin = Some(name);
            serve(options)
        }
        Command::RunPod { dir } => {
            let code = prow_cli::runtime()?.block_on(controllers::run_pod(&dir));
            Ok(prow_cli::exit_code(code))
        }
    }
}
