//! Hot reload in the real `prow serve`: a job added on disk is triggered by `/test` without a
//! restart; a broken configuration is reported and the previous one keeps serving.

use std::path::Path;

use crate::metrics::{Serve, demo, wait_for};

const EXTRA: &str = r#"
presubmits:
  prow-demo/hello:
  - name: pull-hello-extra
    always_run: false
    decorate: false
    spec:
      containers:
      - image: alpine:3.20
        command: [sh, -c, 'echo extra']
"#;

/// Copies the demo's files into `dir`, so that the test can change them.
fn copy_demo(dir: &Path) {
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    for file in [
        "config.yaml",
        "plugins.yaml",
        "hmac",
        "github-fake.yaml",
        "jobs/hello.yaml",
    ] {
        std::fs::copy(demo().join(file), dir.join(file)).unwrap();
    }
}

/// Writes `path` whole at once (as a ConfigMap update does), so that no check sees it half
/// written.
fn write_atomically(path: &Path, text: &str) {
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

/// The jobs the store of `serve` holds, as the metrics count them, by name.
fn runs_of(serve: &Serve, job: &str) -> f64 {
    serve.scrape().value("prowjobs", &[("job_name", job)])
}

#[test]
fn prow_serve_reloads_a_changed_job_config_and_keeps_serving_a_broken_one() {
    let tmp = tempfile::tempdir().unwrap();
    let files = tmp.path().join("files");
    copy_demo(&files);
    let serve = Serve::start(&files, &tmp.path().join("data"));

    // A new job in a new file of the job tree.
    std::fs::create_dir_all(serve.files.join("jobs/more")).unwrap();
    write_atomically(&serve.files.join("jobs/more/extra.yaml"), EXTRA);
    wait_for("the reload", || {
        serve
            .scrape()
            .value("prow_config_reloads_total", &[("outcome", "success")])
            >= 1.0
    });
    serve.comment("/test pull-hello-extra");
    wait_for("the new job", || runs_of(&serve, "pull-hello-extra") == 1.0);

    // A broken config.yaml: rejected, reported, and the jobs it knew still trigger.
    write_atomically(&serve.files.join("config.yaml"), "plank: [\n");
    wait_for("the rejection", || {
        let samples = serve.scrape();
        samples.value("prow_config_reloads_total", &[("outcome", "failure")]) >= 1.0
            && samples.value("prow_config_last_reload_successful", &[]) == 0.0
    });
    serve.comment("/test pull-hello-extra");
    wait_for("the job again", || {
        runs_of(&serve, "pull-hello-extra") == 2.0
    });

    let stderr = serve.stop();
    assert!(stderr.contains("configuration reloaded"), "{stderr}");
    assert!(
        stderr.contains("new configuration rejected, the previous one keeps serving"),
        "{stderr}"
    );
    assert!(stderr.contains("config.yaml"), "{stderr}");
}
