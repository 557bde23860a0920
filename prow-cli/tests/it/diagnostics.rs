//! What a newcomer sees when something is off: a closed output pipe ends every command
//! quietly, a missing file or a taken port comes with a hint, `mkpj | mkpod` is warning-free,
//! every example passes `checkconfig --strict`, phaino shows its phases and what failed, and
//! temporary directories are removed unless kept.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::phaino::{mkpj, repository};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `command` with its standard output a pipe whose reader is already gone.
fn into_a_closed_pipe(command: &mut Command) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    command
        .stdout(writer)
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn every_command_that_prints_ends_quietly_when_its_reader_is_gone() {
    let config = examples().join("config/config.yaml");
    let jobs = examples().join("config/jobs");
    let prowjob = examples().join("prowjobs/presubmit.yaml");
    let prow = || Command::new(env!("CARGO_BIN_EXE_prow"));
    let mut commands = vec![
        ("prow crd", {
            let mut c = prow();
            c.arg("crd");
            c
        }),
        ("prow check-prowjob", {
            let mut c = prow();
            c.arg("check-prowjob").arg(&prowjob);
            c
        }),
        ("prow triggers", {
            let mut c = prow();
            c.arg("triggers").arg("--config-path").arg(&config);
            c.arg("--job-config-path").arg(&jobs);
            c.args(["--repo", "example-org/example-repo"]);
            c
        }),
        ("mkpod", {
            let mut c = Command::new(env!("CARGO_BIN_EXE_mkpod"));
            c.arg("--prow-job").arg(&prowjob);
            c
        }),
        ("mkpj", {
            let mut c = Command::new(env!("CARGO_BIN_EXE_mkpj"));
            c.args(["--job", "ci-example-hello", "--config-path"])
                .arg(&config)
                .arg("--job-config-path")
                .arg(&jobs);
            c
        }),
        ("phaino --print", {
            let mut c = Command::new(env!("CARGO_BIN_EXE_phaino"));
            c.arg(&prowjob).args(["--print", "--runtime", "host"]);
            c
        }),
        ("checkconfig --output json", {
            let mut c = Command::new(env!("CARGO_BIN_EXE_checkconfig"));
            c.arg("--config-path").arg(&config);
            c.arg("--job-config-path").arg(&jobs);
            c.args(["--output", "json"]);
            c
        }),
    ];
    for (name, command) in &mut commands {
        let out = into_a_closed_pipe(command);
        let err = stderr(&out);
        assert!(
            matches!(out.status.code(), Some(0 | 141)),
            "{name} exited {:?} on a closed pipe: {err}",
            out.status
        );
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{name} complained about the closed pipe: {err}"
        );
    }
}

#[test]
fn a_missing_file_names_the_flag_to_pass() {
    let demo = examples().join("prow");
    // plugins.yaml at its default path, which is not there on this machine.
    let out = Command::new(env!("CARGO_BIN_EXE_prow"))
        .arg("hook")
        .arg("--config-path")
        .arg(demo.join("config.yaml"))
        .arg("--hmac-secret-file")
        .arg(demo.join("hmac"))
        .arg("--github-fake")
        .arg(demo.join("github-fake.yaml"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("error: --plugin-config /etc/plugins/plugins.yaml: no such file or directory")
            && err.contains(
                "hint: /etc/plugins/plugins.yaml is --plugin-config's default (where Prow's \
                 manifests mount it): pass --plugin-config with the path of your file"
            ),
        "{err}"
    );

    // A path the user gave.
    let out = Command::new(env!("CARGO_BIN_EXE_prow"))
        .arg("deck")
        .arg("--config-path")
        .arg(demo.join("no-such-config.yaml"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("no-such-config.yaml: no such file or directory")
            && err.contains("hint: check the path given to --config-path"),
        "{err}"
    );

    // Any other file a command reads.
    for command in [
        vec![
            env!("CARGO_BIN_EXE_mkpod"),
            "--prow-job",
            "/no/such/job.yaml",
        ],
        vec![env!("CARGO_BIN_EXE_phaino"), "/no/such/job.yaml"],
        vec![
            env!("CARGO_BIN_EXE_prow"),
            "check-prowjob",
            "/no/such/job.yaml",
        ],
        vec![
            env!("CARGO_BIN_EXE_checkconfig"),
            "--config-path",
            "/no/such/config.yaml",
        ],
    ] {
        let out = Command::new(command[0])
            .args(&command[1..])
            .output()
            .unwrap();
        // checkconfig lists its findings on standard output.
        let all = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
        assert!(!out.status.success(), "{command:?}");
        assert!(
            all.contains("/no/such/")
                && all.contains("hint: no such file or directory: check the path"),
            "{command:?}: {all}"
        );
    }
}

#[test]
fn a_taken_port_says_to_choose_another_with_port() {
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_prow"))
        .arg("deck")
        .arg("--config-path")
        .arg(examples().join("prow/config.yaml"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["--port", &port.to_string()])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("listen on 0.0.0.0:{port}"))
            && err.contains("choose another with --port")
            && err.contains("Address already in use"),
        "{err}"
    );
}

#[test]
fn mkpj_into_mkpod_as_the_readme_pipes_them_warns_of_nothing() {
    let job = mkpj(
        "pull-example-docs",
        "5b3a1c0e2f4d6a8b9c1e3f5a7b9d1f3a5c7e9b1d",
    );
    let mut mkpod = Command::new(env!("CARGO_BIN_EXE_mkpod"))
        .args(["--prow-job", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut mkpod.stdin.take().unwrap(), &job).unwrap();
    let out = mkpod.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "mkpod warned");
    let pod = String::from_utf8_lossy(&out.stdout);
    // The pod got a build ID of its own, as plank would give it.
    let build_id = pod
        .lines()
        .skip_while(|l| !l.contains("name: BUILD_ID"))
        .nth(1)
        .unwrap_or_default()
        .trim()
        .trim_start_matches("value: ")
        .trim_matches(['\'', '"']);
    assert!(
        build_id.len() > 10 && build_id.chars().all(|c| c.is_ascii_digit()),
        "BUILD_ID {build_id:?} in\n{pod}"
    );
}

/// `checkconfig --strict` on `config` and `jobs` (and `plugins`) passes with no finding.
pub(crate) fn checkconfig_strict_passes(config: &Path, jobs: &Path, plugins: Option<&Path>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_checkconfig"));
    command
        .arg("--config-path")
        .arg(config)
        .arg("--job-config-path")
        .arg(jobs)
        .arg("--strict");
    if let Some(plugins) = plugins {
        command.arg("--plugin-config").arg(plugins);
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "checkconfig --strict {}: {}{}",
        config.display(),
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
}

#[test]
fn every_example_configuration_passes_checkconfig_strict() {
    // examples/deploy's ConfigMaps are checked by deploy.rs, which unpacks them.
    checkconfig_strict_passes(
        &examples().join("config/config.yaml"),
        &examples().join("config/jobs"),
        None,
    );
    checkconfig_strict_passes(
        &examples().join("prow/config.yaml"),
        &examples().join("prow/jobs"),
        Some(&examples().join("prow/plugins.yaml")),
    );
}

#[test]
fn phaino_shows_its_phases_and_the_git_command_that_failed_then_removes_its_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = tmp.path().join("origin");
    repository(&origin);
    // The job asks for a commit the repository does not have: clonerefs fetches, then fails
    // to check it out.
    let missing = "1111111111111111111111111111111111111111";
    let job = String::from_utf8(mkpj("pull-example-docs", missing)).unwrap();
    let job = job.replacen(
        "    repo: example-repo\n",
        &format!(
            "    repo: example-repo\n    clone_uri: file://{}\n",
            origin.display()
        ),
        1,
    );
    assert!(job.contains("clone_uri"), "{job}");
    let file = tmp.path().join("job.yaml");
    std::fs::write(&file, job).unwrap();
    // phaino's temporary directory goes under TMPDIR: a fresh one, to see what is left.
    let scratch = tmp.path().join("tmp");
    std::fs::create_dir(&scratch).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_phaino"))
        .arg(&file)
        .args(["--runtime", "host"])
        .env("TMPDIR", &scratch)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("phaino: pull-example-docs: cloning\n"),
        "{err}"
    );
    assert!(
        err.contains("1 clone records failed; what failed:\n")
            && err.contains(&format!("  $ git checkout {missing}\n")),
        "the failing command is shown: {err}"
    );
    assert!(
        err.contains("pass --keep to keep them"),
        "says the directory goes: {err}"
    );
    assert_eq!(
        std::fs::read_dir(&scratch).unwrap().count(),
        0,
        "phaino left its temporary directory behind"
    );

    // A passing job: every phase is shown, and --keep keeps the directory.
    let checkout = tmp.path().join("checkout");
    std::fs::create_dir_all(checkout.join("docs")).unwrap();
    std::fs::write(checkout.join("docs/guide.md"), "# guide\n").unwrap();
    std::fs::write(&file, mkpj("pull-example-docs", missing)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_phaino"))
        .arg(&file)
        .arg("--repo")
        .arg(format!("example-org/example-repo={}", checkout.display()))
        .args(["--runtime", "host", "--keep"])
        .env("TMPDIR", &scratch)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let phases: Vec<&str> = err
        .lines()
        .filter_map(|l| l.strip_prefix("phaino: pull-example-docs: "))
        .collect();
    assert_eq!(phases, ["running", "uploading"], "{err}");
    let kept: Vec<PathBuf> = std::fs::read_dir(&scratch)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{err}");
    assert!(kept[0].join("artifacts").is_dir(), "{kept:?}");
}

#[test]
fn the_demo_removes_its_temporary_directory_unless_kept() {
    let scratch = tempfile::tempdir().unwrap();
    for keep in [false, true] {
        // A port of its own for each run: while the first ran, another test may have taken
        // the first one.
        let port = crate::demo_support::free_port();
        let mut demo = Command::new(env!("CARGO_BIN_EXE_prow"));
        demo.current_dir(examples().join(".."))
            .args(["demo", "--once", "--port", &port.to_string()])
            .env("TMPDIR", scratch.path());
        if keep {
            demo.arg("--keep");
        }
        let out = demo.output().unwrap();
        let err = stderr(&out);
        assert!(out.status.success(), "{err}");
        let left: Vec<PathBuf> = std::fs::read_dir(scratch.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        if keep {
            assert_eq!(left.len(), 1, "{err}");
            assert!(
                err.contains(&format!("demo: kept {}", left[0].display())),
                "{err}"
            );
            // The demo's jobs are decorated: their logs and metadata were uploaded.
            let artifacts = left[0].join("artifacts/pr-logs/pull/prow-demo_hello/1");
            for job in ["pull-hello-unit", "pull-hello-lint"] {
                let builds: Vec<PathBuf> = std::fs::read_dir(artifacts.join(job))
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.is_dir())
                    .collect();
                assert_eq!(builds.len(), 1, "{job}: {builds:?}");
                for file in ["build-log.txt", "started.json", "finished.json"] {
                    assert!(builds[0].join(file).is_file(), "{job} has no {file}");
                }
            }
        } else {
            assert!(left.is_empty(), "the demo left {left:?}: {err}");
        }
    }
}
