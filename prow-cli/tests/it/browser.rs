//! deck in a real headless browser: `prow serve` runs the demo, phony sends the signed
//! `/test all`, and Debian's Chromium renders the job list (which picks the jobs up without a
//! reload, with state icons, the state histogram and short SHAs linking to GitHub), the job page
//! with its log and uploaded artifacts, the command help (sanitised HTML, `?repo=`, no
//! horizontal scrolling at 1280 px) and the tide page's explanation of pools.
//!
//! Chromium comes from the helper shared with prow-server's deck test ([`crate::chromium`]):
//! without it the test skips with a notice, except under `CI=true`. The screenshots of the job
//! list, a job page and the command help are the README's (`PROW_UPDATE_SCREENSHOTS=1`
//! refreshes them in `docs/`).

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::chromium::Chromium;
use crate::demo_support::{free_port, on_the_demo, prowjobs, send_test_all, wait_for};

/// How long the demo's jobs may take to pass; a backstop, not a schedule.
const JOB_TIMEOUT: Duration = Duration::from_secs(120);

/// Stops `prow serve` or `prow demo` when the test ends, passed or not.
struct Stop(std::process::Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// A proxy in front of deck on `port`. When the job list asks for its jobs the second time,
/// the proxy first sends the demo's `/test all` and waits until its jobs passed, so the page
/// must show jobs it did not have when it loaded. Answers its address and how many job-list
/// requests it saw.
fn proxy_sending_the_comment_on_the_second_poll(port: u16) -> (SocketAddr, Arc<AtomicUsize>) {
    let polls = Arc::new(AtomicUsize::new(0));
    let seen = polls.clone();
    let (ready, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let client = reqwest::Client::new();
            let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
                let (client, seen) = (client.clone(), seen.clone());
                async move {
                    let path = request
                        .uri()
                        .path_and_query()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default();
                    if request.uri().path() == "/deck/jobs.json"
                        && seen.fetch_add(1, Ordering::SeqCst) == 1
                    {
                        // A thread of its own: the helpers block and start runtimes.
                        let send = std::thread::spawn(move || {
                            send_test_all(port);
                            let rt = tokio::runtime::Builder::new_current_thread()
                                .enable_all()
                                .build()
                                .unwrap();
                            wait_for("the demo's jobs to pass", JOB_TIMEOUT, || {
                                prowjobs(&rt, port).is_some_and(|jobs| {
                                    jobs.len() == 2 && jobs.iter().all(|j| j.state == "success")
                                })
                            });
                        });
                        tokio::task::spawn_blocking(move || send.join().unwrap())
                            .await
                            .unwrap();
                    }
                    let answer = client
                        .request(
                            request.method().clone(),
                            format!("http://127.0.0.1:{port}{path}"),
                        )
                        .send()
                        .await
                        .unwrap();
                    let status = answer.status();
                    let kind = answer.headers().get("content-type").cloned();
                    let body = answer.bytes().await.unwrap();
                    let mut response = axum::response::Response::new(axum::body::Body::from(body));
                    *response.status_mut() = status;
                    if let Some(kind) = kind {
                        response.headers_mut().insert("content-type", kind);
                    }
                    response
                }
            });
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            ready.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (address.recv().unwrap(), polls)
}

#[test]
fn chromium_shows_the_demo_jobs_live_their_pages_command_help_and_tide() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(chromium) = Chromium::find(&tmp.path().join("chromium")) else {
        return;
    };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _serve = Stop(
        on_the_demo("serve", &tmp.path().join("data"), port)
            .args(["--runtime", "host"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the server to listen", JOB_TIMEOUT, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });

    // The job list, opened before any job exists, shows the jobs without a reload.
    let (proxy, polls) = proxy_sending_the_comment_on_the_second_poll(port);
    let dom = chromium.dom(&format!("http://{proxy}/"));
    // The first poll found no job (the comment is sent on the second).
    assert!(
        polls.load(Ordering::SeqCst) >= 2,
        "the list polled {polls:?} times"
    );
    for wanted in [
        r#"data-job="pull-hello-unit" data-state="success""#,
        r#"data-job="pull-hello-lint" data-state="success""#,
        // State icons and the state histogram.
        r#"class="state-icon""#,
        r#"class="histogram-segment state-success""#,
        r#"data-state="success" data-count="2""#,
        // The PR and its head commit on GitHub, by short SHA; the PR's jobs in deck.
        r#"href="https://github.com/prow-demo/hello/pull/1""#,
        r#"href="https://github.com/prow-demo/hello/pull/1/commits/8c2e4f6a1b3d5e7f9a2c4e6b8d1f3a5c7e9b2d4f""#,
        r#"title="8c2e4f6a1b3d5e7f9a2c4e6b8d1f3a5c7e9b2d4f">8c2e4f6</a>"#,
        r#"href="/pr?org=prow-demo&amp;repo=hello&amp;pr=1""#,
    ] {
        assert!(dom.contains(wanted), "the job list lacks {wanted}:\n{dom}");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let unit = prowjobs(&rt, port)
        .unwrap()
        .into_iter()
        .find(|j| j.job == "pull-hello-unit")
        .unwrap();

    // The job page: its log, and the artifacts its decoration uploaded.
    let page = format!("{base}/job?prowjob={}", unit.name);
    let dom = chromium.dom(&page);
    for wanted in [
        "unit tests of PR 1 at",
        "state-success",
        ">build-log.txt<",
        ">finished.json<",
    ] {
        assert!(dom.contains(wanted), "the job page lacks {wanted}:\n{dom}");
    }

    // Command help for the demo's repository: the plugins enabled there, help HTML rendered
    // as markup (never shown as tags), and nothing wider than the window.
    let help = format!("{base}/command-help?repo=prow-demo/hello");
    let (dom, stderr) = chromium.run(
        &help,
        &[
            "--dump-dom".to_owned(),
            "--window-size=1280,1000".to_owned(),
        ],
    );
    for wanted in [
        "commands enabled in prow-demo/hello",
        r#"data-plugin="trigger""#,
        r#"data-overflow-x="false""#,
        r#"<dd class="plugin-description">"#,
    ] {
        assert!(
            dom.contains(wanted),
            "command help lacks {wanted}:\n{dom}\n{stderr}"
        );
    }
    for unwanted in ["&lt;a ", "&lt;br", "&lt;code"] {
        assert!(
            !dom.contains(unwanted),
            "command help shows {unwanted}:\n{dom}"
        );
    }

    // Tide without pools explains what a pool is.
    let dom = chromium.dom(&format!("{base}/tide"));
    assert!(
        dom.contains(r#"<div id="no-pools" class="empty-state">"#)
            && dom.contains("is the set of open pull requests"),
        "{dom}"
    );

    chromium.screenshot(&format!("{base}/"), "deck-job-list.png", 1280, 640);
    chromium.screenshot(&page, "deck-job-page.png", 1280, 900);
    chromium.screenshot(&help, "deck-command-help.png", 1280, 900);
}

#[test]
fn the_demo_lets_its_admin_rerun_a_job() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let _demo = Stop(
        Command::new(env!("CARGO_BIN_EXE_prow"))
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .args(["demo", "--port", &port.to_string(), "--data-dir"])
            .arg(data.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let passed = |n: usize| {
        prowjobs(&rt, port)
            .is_some_and(|jobs| jobs.len() == n && jobs.iter().all(|j| j.state == "success"))
    };
    wait_for("the demo's jobs to pass", JOB_TIMEOUT, || passed(2));
    let unit = prowjobs(&rt, port)
        .unwrap()
        .into_iter()
        .find(|j| j.job == "pull-hello-unit")
        .unwrap();
    let (status, body) = rt.block_on(async {
        let answer = reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{port}/rerun?prowjob={}",
                unit.name
            ))
            .send()
            .await
            .unwrap();
        (answer.status(), answer.text().await.unwrap())
    });
    assert_eq!(status, 200, "{body}");
    wait_for("the rerun to pass", JOB_TIMEOUT, || passed(3));
}
