//! mkpj → phaino: a job of the example config runs here on a local git repository, its log
//! streams to standard output and its results land in the local artifact folder.

use std::path::{Path, PathBuf};
use std::process::Command;

use git2::{Repository, Signature};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/config")
}

/// A repository with `docs/guide.md` on `main`; returns its head.
pub(crate) fn repository(dir: &Path) -> String {
    let repo = Repository::init(dir).unwrap();
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    std::fs::write(dir.join("docs/guide.md"), "# Guide\n").unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("docs/guide.md")).unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::now("dev", "dev@example.com").unwrap();
    repo.commit(Some("refs/heads/main"), &sig, &sig, "docs", &tree, &[])
        .unwrap()
        .to_string()
}

/// mkpj's ProwJob for `job` of the example config, on `sha` of PR 1.
pub(crate) fn mkpj(job: &str, sha: &str) -> Vec<u8> {
    crate::stdout_of(
        Command::new(env!("CARGO_BIN_EXE_mkpj"))
            .args(["--job", job, "--config-path"])
            .arg(examples().join("config.yaml"))
            .arg("--job-config-path")
            .arg(examples().join("jobs"))
            .args([
                "--base-ref",
                "main",
                "--base-sha",
                sha,
                "--pull-number",
                "1",
            ])
            .args(["--pull-sha", sha, "--pull-author", "dev"]),
    )
}

fn files_under(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn mkpj_then_phaino_runs_an_example_job_on_a_local_checkout() {
    let tmp = tempfile::tempdir().unwrap();
    let checkout = tmp.path().join("example-repo");
    let sha = repository(&checkout);
    let job = tmp.path().join("job.yaml");
    std::fs::write(&job, mkpj("pull-example-docs", &sha)).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_phaino"))
        .arg(&job)
        .arg("--repo")
        .arg(format!("example-org/example-repo={}", checkout.display()))
        .args(["--runtime", "host", "--data-dir"])
        .arg(tmp.path().join("data"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("checking docs\nguide.md"),
        "the log streams: {stdout}"
    );
    assert!(stderr.contains("running pull-example-docs"), "{stderr}");
    assert!(stderr.contains("on the host"), "{stderr}");

    let artifacts = files_under(&tmp.path().join("data/artifacts"));
    let build = artifacts
        .iter()
        .find(|f| {
            f.starts_with("pr-logs/pull/example-org_example-repo/1/pull-example-docs/")
                && f.ends_with("/build-log.txt")
        })
        .unwrap_or_else(|| panic!("no build log in {artifacts:?}"));
    let log = std::fs::read_to_string(tmp.path().join("data/artifacts").join(build)).unwrap();
    assert!(log.contains("guide.md"), "{log}");
    assert!(
        artifacts.iter().any(|f| f.ends_with("/finished.json")),
        "{artifacts:?}"
    );
    assert!(
        artifacts.iter().any(|f| f.ends_with("latest-build.txt")),
        "{artifacts:?}"
    );
}

#[test]
fn phaino_prints_instead_of_running_and_fails_with_a_failing_job() {
    let tmp = tempfile::tempdir().unwrap();
    let checkout = tmp.path().join("example-repo");
    let sha = repository(&checkout);
    let job = tmp.path().join("job.yaml");
    std::fs::write(&job, mkpj("pull-example-docs", &sha)).unwrap();
    let printed = crate::stdout_of(Command::new(env!("CARGO_BIN_EXE_phaino")).arg(&job).args([
        "--print",
        "--runtime",
        "host",
    ]));
    assert_eq!(
        String::from_utf8_lossy(&printed),
        "pull-example-docs: test on the host: sh -c echo checking docs; ls docs\n"
    );

    // Without the checkout the docs folder is missing: `ls docs` fails, and so does phaino.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_phaino"))
        .arg(&job)
        .arg("--repo")
        .arg(format!("example-org/example-repo={}", empty.display()))
        .args(["--runtime", "host", "--data-dir"])
        .arg(tmp.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("pull-example-docs failed"));
}
