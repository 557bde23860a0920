//! `/metrics` over real HTTP on 127.0.0.1: it parses as the text format, and its families move
//! with webhooks, ProwJobs, GitHub requests, tide's figures and config reloads.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use proptest::prelude::*;
use prow_core::ProwJobState;
use prow_github::GitHubClient;
use prow_server::hook::Options;
use prow_server::metrics::{Exporter, Samples, TideFiguresCell, parse_text};

use crate::support::{self, Server, comment, github};

/// Serves `router` on 127.0.0.1 and returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// GETs `/metrics` and parses it, failing on anything that is not the text format.
async fn scrape(base: &str) -> Samples {
    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    parse_text(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_and_prowjob_families_move_with_events() {
    let server = Server::start(github(support::ORG), Options::default()).await;
    let base = serve(
        Exporter::new()
            .with_store(server.store.clone())
            .with_hook(server.metrics.clone())
            .router(),
    )
    .await;

    let before = scrape(&base).await;
    assert_eq!(before.types["prowjobs"], "gauge");
    assert_eq!(before.types["prow_webhook_counter"], "counter");
    assert_eq!(before.value("prowjobs", &[]), 0.0);
    assert_eq!(before.value("plank_queue_depth", &[]), 0.0);
    let comments_before = before.value(
        "prow_webhook_counter_total",
        &[("event_type", "issue_comment")],
    );

    server
        .send(
            "issue_comment",
            &comment("/test all", "member", support::ORG),
        )
        .await;
    server.metrics.wait_processed(1).await;

    let jobs = server.store.list(&Default::default()).await.unwrap();
    assert!(!jobs.is_empty(), "/test all created no job");
    let after = scrape(&base).await;
    assert_eq!(
        after.value(
            "prow_webhook_counter_total",
            &[("event_type", "issue_comment")]
        ),
        comments_before + 1.0
    );
    assert_eq!(
        after.value("prow_webhook_deliveries_total", &[("outcome", "processed")]),
        1.0
    );
    assert_eq!(
        after.value(
            "prow_plugin_handled_total",
            &[("plugin", "trigger"), ("outcome", "ok")]
        ),
        1.0
    );
    assert_eq!(after.value("prowjobs", &[]), jobs.len() as f64);
    assert_eq!(
        after.value(
            "prowjobs",
            &[
                ("job_name", "unit"),
                ("type", "presubmit"),
                ("state", "triggered"),
                ("org", support::ORG),
                ("repo", support::REPO),
                ("base_ref", "master"),
                ("retest", "false"),
            ]
        ),
        1.0
    );
    assert_eq!(after.value("plank_queue_depth", &[]), jobs.len() as f64);

    // A job finishing moves it from triggered to success and out of the queue.
    let mut unit = jobs.into_iter().find(|j| j.spec.job == "unit").unwrap();
    unit.status.get_or_insert_with(Default::default).state = ProwJobState::Success;
    server.store.update(unit).await.unwrap();
    let finished = scrape(&base).await;
    assert_eq!(
        finished.value("prowjobs", &[("job_name", "unit"), ("state", "success")]),
        1.0
    );
    assert_eq!(
        finished.value("prowjobs", &[("job_name", "unit"), ("state", "triggered")]),
        0.0
    );
    assert_eq!(
        finished.value("plank_queue_depth", &[]),
        after.value("plank_queue_depth", &[]) - 1.0
    );
    server.shutdown().await;
}

/// A GitHub on 127.0.0.1 answering `/user` with a rate limit and an ETag, `304` when the ETag
/// comes back.
async fn github_with_rate_limit() -> String {
    async fn user(headers: HeaderMap) -> axum::response::Response {
        let limit = [
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "4321"),
            ("x-ratelimit-reset", "1700000000"),
            ("etag", "\"v1\""),
        ];
        if headers
            .get("if-none-match")
            .is_some_and(|v| v.as_bytes() == b"\"v1\"")
        {
            return (StatusCode::NOT_MODIFIED, limit).into_response();
        }
        (
            limit,
            axum::Json(serde_json::json!({"login": "ci-robot", "id": 1})),
        )
            .into_response()
    }
    serve(Router::new().route("/user", get(user))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_usage_is_read_from_the_client_per_token() {
    let endpoint = github_with_rate_limit().await;
    let client =
        Arc::new(prow_github::octo::OctocrabClient::with_token(&endpoint, "t0ken").unwrap());
    let fake = Arc::new(prow_github::fake::FakeGitHub::new("ci-robot"));
    let base = serve(
        Exporter::new()
            .with_github("bot", client.clone())
            .with_github("fake", fake)
            .router(),
    )
    .await;

    let before = scrape(&base).await;
    assert_eq!(
        before.value("github_requests_total", &[("token_hash", "bot")]),
        0.0
    );
    assert_eq!(before.sum("github_token_usage", &[]), None);

    client.bot_user().await.unwrap();
    client.bot_user().await.unwrap();
    let after = scrape(&base).await;
    assert_eq!(
        after.value("github_requests_total", &[("token_hash", "bot")]),
        2.0
    );
    assert_eq!(
        after.value("github_cache_hits_total", &[("token_hash", "bot")]),
        1.0
    );
    assert_eq!(
        after.value(
            "github_token_usage",
            &[("token_hash", "bot"), ("ratelimit_resource", "core")]
        ),
        4321.0
    );
    assert_eq!(
        after.value("github_token_reset", &[("token_hash", "bot")]),
        1_700_000_000.0
    );
    // The in-memory fake keeps no count: nothing is reported for it.
    assert_eq!(
        after.sum("github_requests_total", &[("token_hash", "fake")]),
        None
    );
}

#[tokio::test]
async fn tide_figures_are_read_at_scrape_time() {
    let tide = TideFiguresCell::default();
    let exporter = Exporter::new().with_tide(tide.clone());
    let empty = parse_text(&exporter.render().await).unwrap();
    assert_eq!(empty.sum("pooledprs", &[]), None);
    assert_eq!(empty.value("tidesyncheartbeat_total", &[]), 0.0);

    tide.update(|f| {
        f.syncs += 3;
        let pool = f.pool("kubernetes", "test-infra", "master");
        pool.prs = 7;
        pool.merges += 2;
        pool.merged_prs += 5;
        *pool.batches.entry("success".to_owned()).or_default() += 1;
        *pool.batches.entry("failure".to_owned()).or_default() += 2;
        f.pool("kubernetes", "kubernetes", "main").errors += 1;
    });
    let text = exporter.render().await;
    let samples = parse_text(&text).unwrap();
    let pool = [
        ("org", "kubernetes"),
        ("repo", "test-infra"),
        ("branch", "master"),
    ];
    assert_eq!(samples.value("pooledprs", &pool), 7.0);
    assert_eq!(samples.value("tide_merges_total", &pool), 2.0);
    assert_eq!(samples.value("tide_merged_prs_total", &pool), 5.0);
    assert_eq!(
        samples.value("tide_batches_total", &[("outcome", "failure")]),
        2.0
    );
    assert_eq!(
        samples.value("tidepoolerrors_total", &[("repo", "kubernetes")]),
        1.0
    );
    assert_eq!(
        samples.value("tidesyncheartbeat_total", &[("controller", "sync")]),
        3.0
    );
    insta::assert_snapshot!("tide_figures", text);
}

/// Broken expositions and why each is refused.
#[test]
fn parse_text_refuses_what_prometheus_would() {
    let cases = [
        "no_type 1",
        "# TYPE a gauge\na{x=\"1\"}",
        "# TYPE a gauge\na{x=1} 1",
        "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1",
        "# TYPE a gauge\na{x=\"\\q\"} 1",
        "# TYPE a gauge\na{1x=\"1\"} 1",
        "# TYPE a gauge\na{x=\"1\" 1",
        "# TYPE a gauge\na one",
        "# TYPE a gauge\na 1 2 3",
        "# TYPE 9a gauge",
        "# TYPE a meter",
        "# TYPE a gauge\n# TYPE a gauge",
        "# TYPE a gauge\n# EOF\na 1",
    ];
    let listing: String = cases
        .iter()
        .map(|case| match parse_text(case) {
            Ok(samples) => panic!("{case:?} parsed: {samples:?}"),
            Err(e) => format!("{case:?}\n  {e}\n"),
        })
        .collect();
    insta::assert_snapshot!("parse_text_errors", listing);
}

#[test]
fn parse_text_reads_prometheus_and_openmetrics_samples() {
    let samples = parse_text(
        "# HELP up Whether it is up.\n# TYPE up gauge\nup{job=\"a\\\"b\",x=\"1\\n2\"} 1 1700000000\nup 0\n\
         # TYPE c counter\nc_total 3\nc_created 1.5e9\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum NaN\n# EOF\n",
    )
    .unwrap();
    assert_eq!(samples.value("up", &[("job", "a\"b"), ("x", "1\n2")]), 1.0);
    assert_eq!(samples.sum("up", &[]), Some(1.0));
    assert_eq!(samples.value("c_total", &[]), 3.0);
    assert_eq!(samples.value("h_bucket", &[("le", "+Inf")]), 2.0);
    assert!(samples.value("h_sum", &[]).is_nan());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the pool names (quotes, backslashes, newlines, any Unicode), the exporter's
    /// text parses back to the same figures.
    #[test]
    fn proptest_exported_tide_figures_parse_back(
        pools in proptest::collection::btree_map(
            ("\\PC{0,12}", "[\"\\\\\n a-z]{0,8}", "[a-z/._-]{1,10}"),
            0u64..1_000_000,
            0..6,
        ),
        syncs in 0u64..u64::from(u32::MAX),
    ) {
        let tide = TideFiguresCell::default();
        tide.update(|f| {
            f.syncs = syncs;
            for ((org, repo, branch), prs) in &pools {
                f.pool(org, repo, branch).prs = *prs;
            }
        });
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let text = rt.block_on(Exporter::new().with_tide(tide).render());
        let samples = parse_text(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(samples.value("tidesyncheartbeat_total", &[]), syncs as f64);
        let read: Vec<(String, String, String, u64)> = samples
            .samples
            .iter()
            .filter(|s| s.name == "pooledprs")
            .map(|s| (s.labels["org"].clone(), s.labels["repo"].clone(), s.labels["branch"].clone(), s.value as u64))
            .collect();
        let mut read = read;
        read.sort();
        let expected: Vec<(String, String, String, u64)> = pools
            .iter()
            .map(|((o, r, b), n)| (o.clone(), r.clone(), b.clone(), *n))
            .collect();
        prop_assert_eq!(read, expected);
    }
}
