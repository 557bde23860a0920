//! `checkconfig --plugin-config`: plugins.yaml and its supplements are checked with the rest.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The committed plugin fixtures of prow-config.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../prow-config/tests/data/plugins")
}

/// Runs checkconfig on the example config.yaml plus `args`.
fn run(args: &[&Path]) -> Output {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/config");
    Command::new(env!("CARGO_BIN_EXE_checkconfig"))
        .arg("--config-path")
        .arg(examples.join("config.yaml"))
        .args(args)
        .output()
        .expect("run checkconfig")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn checkconfig_checks_plugins_and_merges_supplements() {
    let main = fixtures().join("supplemental/main/plugins.yaml");
    let extra = fixtures().join("supplemental/extra");
    let out = run(&[
        Path::new("--plugin-config"),
        &main,
        Path::new("--supplemental-plugin-config-dir"),
        &extra,
        Path::new("--strict"),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    // org, team-a, team-a/special and team-b: the supplements were merged.
    assert!(
        text(&out).contains("plugin config ok (4 orgs and repos)"),
        "{}",
        text(&out)
    );
}

#[test]
fn checkconfig_fails_on_a_bad_plugin_config() {
    let bad = fixtures().join("bad/plugins.yaml");
    let out = run(&[Path::new("--plugin-config"), &bad]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("plugins.yaml:5: plugins.org.plugins[3]: unknown plugin: no-such-plugin"),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("error: ")).count(),
        39
    );
}

#[test]
fn checkconfig_strict_fails_on_unknown_plugin_fields_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plugins.yaml");
    // The legacy form is only a deprecation notice, as in Prow.
    std::fs::write(&path, "plugins:\n  org: [trigger]\n").expect("write");
    let out = run(&[Path::new("--plugin-config"), &path, Path::new("--strict")]);
    assert!(out.status.success(), "{}", text(&out));
    std::fs::write(&path, "plugins:\n  org: [trigger]\nsurprise: 1\n").expect("write");
    let out = run(&[Path::new("--plugin-config"), &path, Path::new("--strict")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("plugins.yaml:3: surprise: unknown field")
    );
}

#[test]
fn checkconfig_plugin_warnings_fail_strict_unless_excluded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plugins.yaml");
    std::fs::write(&path, "plugins:\n  org:\n    plugins: [approve]\n").expect("write");
    let strict = [Path::new("--plugin-config"), &path, Path::new("--strict")];
    let out = run(&strict);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("do not enable the verify-owners plugin"),
        "{}",
        text(&out)
    );
    let mut excluded = strict.to_vec();
    excluded.extend([Path::new("--exclude-warning"), Path::new("validate-owners")]);
    let out = run(&excluded);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn checkconfig_warns_when_jobs_have_no_trigger() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plugins.yaml");
    let jobs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/config/jobs");
    std::fs::write(&path, "plugins:\n  other-org:\n    plugins: [trigger]\n").expect("write");
    let args = [
        Path::new("--plugin-config"),
        &path,
        Path::new("--job-config-path"),
        &jobs,
        Path::new("--strict"),
    ];
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("do not have the trigger plugin enabled: repo: example-org/example-repo"),
        "{}",
        text(&out)
    );
    std::fs::write(&path, "plugins:\n  example-org:\n    plugins: [trigger]\n").expect("write");
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out));
}

/// A plugin Prow no longer has stops both checkconfig and `prow serve`, each naming the file,
/// the line and what replaced it.
#[test]
fn an_unknown_plugin_fails_checkconfig_and_prow_serve_with_file_and_line() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/prow");
    let dir = tempfile::tempdir().expect("temp dir");
    let plugins = dir.path().join("plugins.yaml");
    std::fs::write(
        &plugins,
        "plugins:\n  prow-demo:\n    plugins:\n    - trigger\n    - transfer-issue\n",
    )
    .expect("write plugins.yaml");
    let expected = "plugins.yaml:5: plugins.prow-demo.plugins[1]: unknown plugin: transfer-issue (upstream moved /transfer-issue into the issue-management plugin: enable issue-management instead)";

    let out = run(&[Path::new("--plugin-config"), &plugins]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(expected), "{}", text(&out));

    let out = Command::new(env!("CARGO_BIN_EXE_prow"))
        .arg("serve")
        .arg("--config-path")
        .arg(demo.join("config.yaml"))
        .arg("--job-config-path")
        .arg(demo.join("jobs"))
        .arg("--plugin-config")
        .arg(&plugins)
        .arg("--hmac-secret-file")
        .arg(demo.join("hmac"))
        .arg("--github-fake")
        .arg(demo.join("github-fake.yaml"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--port", "0", "--runtime", "host"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run prow serve");
    assert!(!out.status.success(), "prow serve started: {}", text(&out));
    assert!(text(&out).contains(expected), "{}", text(&out));
}
