//! `prow demo`: `prow serve` on the example configuration with the fake GitHub, which then
//! sends itself the demo's signed `/test all` comment and, with `--once`, waits for the jobs.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use prow_server::process::{DEFAULT_ENDPOINT, Part};

use crate::controllers::{
    Command, ConfigArgs, DataArgs, GitHubArgs, ProcessArgs, RuntimeFlag, run_until, shutdown_signal,
};

/// The demo's admin: an org member in `github-fake.yaml`, allowed to rerun in `config.yaml`.
pub const DEMO_ADMIN: &str = "demo-admin";

/// How long the demo's stop may take.
const DEMO_GRACE: Duration = Duration::from_secs(10);

/// `prow demo`: `prow serve` on the demo files in `dir` (`examples/prow/`) with the fake
/// GitHub, then the demo's signed `/test all` comment sent to it like `phony` would. With
/// `once`, stops when the jobs it started have finished and answers whether all passed;
/// otherwise serves until SIGTERM or SIGINT.
pub async fn demo(
    dir: &Path,
    data_dir: &Path,
    port: u16,
    runtime: RuntimeFlag,
    once: bool,
) -> anyhow::Result<bool> {
    if !dir.join("config.yaml").is_file() {
        anyhow::bail!(
            "{} not found: run prow demo from a prow-rs checkout, or prow serve with your own files",
            dir.join("config.yaml").display()
        );
    }
    let path = |name: &str| dir.join(name).display().to_string();
    let config = ConfigArgs {
        config_path: dir.join("config.yaml"),
        job_config_path: Some(dir.join("jobs")),
    };
    let data = DataArgs {
        data_dir: data_dir.to_owned(),
        kubeconfig: None,
        kubeconfig_dir: None,
        in_cluster: false,
    };
    let github = GitHubArgs {
        github_endpoint: DEFAULT_ENDPOINT.to_owned(),
        github_fake: Some(dir.join("github-fake.yaml")),
        ..GitHubArgs::default()
    };
    let plugins = dir.join("plugins.yaml");
    let command = Command {
        config: &config,
        plugin_config: Some(&plugins),
        data: &data,
        runtime,
        github: Some(&github),
        port: Some(port),
        parts: Part::ALL.to_vec(),
    };
    let mut options = command.options(&ProcessArgs {
        grace_period: prow_core::Duration::from_std(DEMO_GRACE)
            .context("the demo's grace period")?,
        deck_trusted_proxy_header: None,
        github_oauth_config_file: None,
        cookie_secret: None,
        gcs_credentials_file: None,
        s3_credentials_file: None,
        crier: Default::default(),
    })?;
    options.hmac_secret_file = Some(dir.join("hmac"));
    // deck's rerun and abort act as the demo's admin, whom the demo config allows; so the demo
    // listens on the loopback interface only, where nobody else can claim that.
    options.deck_acting_user = Some(DEMO_ADMIN.to_owned());
    options.listen = Some(std::net::SocketAddr::from((
        std::net::Ipv4Addr::LOCALHOST,
        port,
    )));
    let secret = std::fs::read_to_string(dir.join("hmac"))
        .with_context(|| format!("read {}", path("hmac")))?;
    let payload = std::fs::read(dir.join("payloads/test-comment.json"))
        .with_context(|| format!("read {}", path("payloads/test-comment.json")))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        tokio::select! {
            () = shutdown_signal() => {}
            _ = stopped => {}
        }
    };
    let server = run_until(options, shutdown);
    let base = format!("http://127.0.0.1:{port}");
    let driver = async {
        let client = reqwest::Client::new();
        let ready = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let answer = client.get(format!("{base}/healthz/ready")).send().await;
                if answer.is_ok_and(|a| a.status().is_success()) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        ready
            .await
            .map_err(|_| anyhow::anyhow!("prow serve was not ready within 60 s"))?;
        let reply = prow_github::phony::deliver(
            &client,
            &format!("{base}/hook"),
            "issue_comment",
            &payload,
            secret.trim().as_bytes(),
        )
        .await?;
        eprintln!(
            "demo: sent the signed `/test all` comment on prow-demo/hello#1 ({}); deck: http://localhost:{port}/",
            reply.status
        );
        if !once {
            return Ok(true);
        }
        wait_for_finished_jobs(&client, &base).await
    };
    tokio::pin!(server);
    tokio::select! {
        served = &mut server => {
            served?;
            anyhow::bail!("prow serve stopped before the demo's jobs finished")
        }
        driven = driver => {
            let passed = driven?;
            if once {
                let _ = stop.send(());
            }
            server.await?;
            Ok(passed)
        }
    }
}

/// Polls `/prowjobs.js` until there are jobs and all have finished, prints each one's state and
/// answers whether all passed.
async fn wait_for_finished_jobs(client: &reqwest::Client, base: &str) -> anyhow::Result<bool> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    loop {
        let body = client
            .get(format!("{base}/prowjobs.js"))
            .send()
            .await?
            .bytes()
            .await?;
        let jobs: serde_json::Value = serde_json::from_slice(&body)?;
        let states: Vec<(String, String)> = jobs["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|j| {
                        (
                            j["spec"]["job"].as_str().unwrap_or_default().to_owned(),
                            j["status"]["state"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let finished = |s: &str| matches!(s, "success" | "failure" | "aborted" | "error");
        if !states.is_empty() && states.iter().all(|(_, s)| finished(s)) {
            for (job, state) in &states {
                println!("{job}: {state}");
            }
            return Ok(states.iter().all(|(_, s)| s == "success"));
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("the demo's jobs did not finish within 10 minutes: {states:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
