//! entrypoint: exit codes, marker files, logs, timeouts and signals, with real processes.

use std::path::{Path, PathBuf};

use prow_core::Duration;
use prow_jobs::entrypoint::{
    self, ABORTED_ERROR_CODE, EntrypointOptions, INTERNAL_ERROR_CODE, Interrupt,
    PREVIOUS_ERROR_CODE, WrapperOptions,
};
use tokio::sync::mpsc;

struct Run {
    _dir: tempfile::TempDir,
    root: PathBuf,
    options: EntrypointOptions,
}

fn setup(script: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let path = |name: &str| root.join(name).display().to_string();
    let options = EntrypointOptions {
        timeout: Duration::from_secs(60),
        grace_period: Duration::from_secs(10),
        artifact_dir: path("artifacts"),
        wrapper: WrapperOptions {
            args: vec!["sh".into(), "-c".into(), script.into()],
            container_name: "test".into(),
            process_log: path("process-log.txt"),
            marker_file: path("marker-file.txt"),
            metadata_file: path("artifacts/metadata.json"),
        },
        ..EntrypointOptions::default()
    };
    Run {
        _dir: dir,
        root,
        options,
    }
}

impl Run {
    async fn go(&self, interrupts: &[Interrupt]) -> (i32, String, String) {
        let (tx, rx) = mpsc::unbounded_channel();
        for i in interrupts {
            tx.send(*i).unwrap();
        }
        let exit = entrypoint::run(&self.options, rx, Box::new(std::io::sink())).await;
        assert!(exit.error.is_none(), "{:?}", exit.error);
        let code = exit.code;
        drop(tx);
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        (
            code,
            read(&self.options.wrapper.marker_file),
            read(&self.options.wrapper.process_log),
        )
    }

    fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

#[tokio::test]
async fn success_writes_zero_and_tees_both_streams() {
    let run = setup("echo to-stdout; echo to-stderr >&2");
    let (code, marker, log) = run.go(&[]).await;
    assert_eq!((code, marker.as_str()), (0, "0"));
    assert!(
        log.contains("to-stdout\n") && log.contains("to-stderr\n"),
        "{log}"
    );
    assert!(run.file("artifacts").is_dir());
}

#[tokio::test]
async fn failure_code_is_recorded_and_returned_unless_always_zero() {
    let mut run = setup("exit 3");
    assert_eq!(run.go(&[]).await.0, 3);
    run.options.always_zero = true;
    let (code, marker, _) = run.go(&[]).await;
    assert_eq!((code, marker.as_str()), (0, "3"));
}

#[tokio::test]
async fn unstartable_command_is_127() {
    let mut run = setup("");
    run.options.wrapper.args = vec!["/nonexistent/command".into()];
    let (code, marker, log) = run.go(&[]).await;
    assert_eq!((code, marker.as_str()), (INTERNAL_ERROR_CODE, "127"));
    assert!(log.starts_with("could not start the process"), "{log}");
}

#[tokio::test]
async fn timeout_interrupts_and_is_127() {
    let mut run = setup("echo started; exec sleep 30");
    run.options.timeout = Duration::from_nanos(300_000_000);
    let (code, marker, log) = run.go(&[]).await;
    assert_eq!((code, marker.as_str()), (INTERNAL_ERROR_CODE, "127"));
    assert!(log.contains("did not finish before 300ms timeout"), "{log}");
    assert!(log.contains("gracefully exited"), "{log}");
}

#[tokio::test]
async fn timeout_with_propagated_code_records_the_signal_death() {
    let mut run = setup("exec sleep 30");
    run.options.timeout = Duration::from_nanos(100_000_000);
    run.options.propagate_error_code = true;
    let (code, marker, _) = run.go(&[]).await;
    assert_eq!((code, marker.as_str()), (-1, "-1"));
}

#[tokio::test]
async fn a_command_ignoring_sigint_is_killed_after_the_grace_period() {
    let mut run = setup("trap '' INT; echo ignoring; sleep 30; echo never");
    // Long enough for the shell to install its trap before the timeout fires.
    run.options.timeout = Duration::from_secs(1);
    run.options.grace_period = Duration::from_nanos(200_000_000);
    let (code, _, log) = run.go(&[]).await;
    assert_eq!(code, INTERNAL_ERROR_CODE);
    assert!(
        log.contains("did not exit before 200ms grace period"),
        "{log}"
    );
    assert!(!log.contains("never"), "{log}");
}

#[tokio::test]
async fn a_signal_to_entrypoint_aborts_with_130() {
    let run = setup("exec sleep 30");
    let (code, marker, log) = run.go(&[Interrupt::Terminate]).await;
    assert_eq!((code, marker.as_str()), (ABORTED_ERROR_CODE, "130"));
    assert!(log.contains("received interrupt: Terminate"), "{log}");
}

#[tokio::test]
async fn a_failed_previous_step_skips_this_one() {
    let mut run = setup("touch ran");
    let previous = run.file("previous-marker.txt");
    std::fs::write(&previous, "1\n").unwrap();
    run.options.previous_marker = previous.display().to_string();
    let (code, marker, log) = run.go(&[]).await;
    assert_eq!((code, marker.as_str()), (PREVIOUS_ERROR_CODE, "1130"));
    assert!(log.contains("skipping as previous step exited 1"), "{log}");
    assert!(!Path::new("ran").exists() && !run.file("ran").exists());

    std::fs::write(&previous, "0").unwrap();
    run.options.wrapper.args[2] = format!("touch {}", run.file("ran").display());
    assert_eq!(run.go(&[]).await.0, 0);
    assert!(run.file("ran").exists());
}

#[test]
fn options_read_and_write_prows_json() {
    // ENTRYPOINT_OPTIONS from upstream's decoration golden TestProwJobToPod_1.yaml.
    let go = r#"{"timeout":7200000000000,"grace_period":10000000000,"artifact_dir":"/logs/artifacts","args":["/bin/thing","some","args"],"container_name":"test","process_log":"/logs/process-log.txt","marker_file":"/logs/marker-file.txt","metadata_file":"/logs/artifacts/metadata.json"}"#;
    let options = EntrypointOptions::from_json(go).unwrap();
    assert_eq!(options.timeout, Duration::from_hours(2));
    assert_eq!(options.wrapper.args, ["/bin/thing", "some", "args"]);
    assert_eq!(serde_json::to_string(&options).unwrap(), go);
    options.validate().unwrap();
}

#[test]
fn validation_messages_match_prow() {
    let check = |options: EntrypointOptions, expected: &str| {
        assert_eq!(
            options.validate().unwrap_err().to_string(),
            format!("load entrypoint options: {expected}")
        );
    };
    let base = setup("true").options;
    check(
        EntrypointOptions {
            wrapper: WrapperOptions::default(),
            ..base.clone()
        },
        "no process to wrap specified",
    );
    check(
        EntrypointOptions {
            always_zero: true,
            propagate_error_code: true,
            ..base.clone()
        },
        "cannot propagate error code and always exit zero",
    );
    let mut no_log = base.clone();
    no_log.wrapper.process_log.clear();
    check(no_log, "no log file specified with --process-log");
    let mut no_marker = base;
    no_marker.wrapper.marker_file.clear();
    check(no_marker, "no marker file specified with --marker-file");
}
