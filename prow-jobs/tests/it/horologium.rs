//! horologium's decision table: interval, minimum_interval, cron and descriptors, first runs,
//! unfinished runs, and no second start after a restart.

use prow_config::{JobConfig, Periodic};
use prow_core::ProwJob;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_jobs::horologium::{Schedule, Verdict, decide};

fn periodic(yaml: &str) -> Periodic {
    let config: JobConfig = serde_yaml::from_str(&format!(
        "periodics:\n- name: p\n  {}",
        yaml.replace('\n', "\n  ")
    ))
    .expect("periodic parses");
    config.periodics[0].clone()
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

/// A run of periodic `p` that started at `start` and, when given, completed at `end`.
fn run(start: &str, end: Option<&str>) -> ProwJob {
    crate::support::run_of("periodic", "p", "x", start, end)
}

#[test]
fn decision_table() {
    use Verdict::*;
    let seen = "2026-11-23T10:30:00Z";
    let done = |s, e| Some(run(s, Some(e)));
    let cases: Vec<(&str, Option<ProwJob>, &str, Verdict)> = vec![
        // interval: the first run starts at once; then interval after the last start.
        ("interval: 1h", None, "2026-11-23T10:30:00Z", FirstRun),
        (
            "interval: 1h",
            Some(run("2026-11-23T10:00:00Z", None)),
            "2026-11-23T12:00:00Z",
            StillRunning,
        ),
        (
            "interval: 1h",
            done("2026-11-23T10:00:00Z", "2026-11-23T10:50:00Z"),
            "2026-11-23T10:59:00Z",
            NotDue,
        ),
        (
            "interval: 1h",
            done("2026-11-23T10:00:00Z", "2026-11-23T10:50:00Z"),
            "2026-11-23T11:00:01Z",
            IntervalElapsed,
        ),
        // minimum_interval counts from the completion.
        (
            "minimum_interval: 1h",
            None,
            "2026-11-23T10:30:00Z",
            FirstRun,
        ),
        (
            "minimum_interval: 1h",
            done("2026-11-23T10:00:00Z", "2026-11-23T10:50:00Z"),
            "2026-11-23T11:30:00Z",
            NotDue,
        ),
        (
            "minimum_interval: 1h",
            done("2026-11-23T10:00:00Z", "2026-11-23T10:50:00Z"),
            "2026-11-23T11:50:01Z",
            IntervalElapsed,
        ),
        // cron: the next tick after the last start (or after first seen), in UTC.
        ("cron: '0 * * * *'", None, "2026-11-23T10:45:00Z", NotDue),
        ("cron: '0 * * * *'", None, "2026-11-23T11:00:00Z", CronTick),
        (
            "cron: '0 * * * *'",
            done("2026-11-23T10:00:05Z", "2026-11-23T10:20:00Z"),
            "2026-11-23T10:59:59Z",
            NotDue,
        ),
        (
            "cron: '0 * * * *'",
            done("2026-11-23T10:00:05Z", "2026-11-23T10:20:00Z"),
            "2026-11-23T11:00:00Z",
            CronTick,
        ),
        (
            "cron: '0 * * * *'",
            Some(run("2026-11-23T10:00:05Z", None)),
            "2026-11-23T11:00:00Z",
            StillRunning,
        ),
        // A tick missed while horologium was down still fires once it is back.
        (
            "cron: '0 * * * *'",
            done("2026-11-23T07:00:05Z", "2026-11-23T07:20:00Z"),
            "2026-11-23T10:40:00Z",
            CronTick,
        ),
        // Descriptors.
        (
            "cron: '@hourly'",
            done("2026-11-23T10:00:05Z", "2026-11-23T10:20:00Z"),
            "2026-11-23T11:00:00Z",
            CronTick,
        ),
        (
            "cron: '@daily'",
            done("2026-11-23T00:00:05Z", "2026-11-23T00:20:00Z"),
            "2026-11-23T23:59:00Z",
            NotDue,
        ),
        (
            "cron: '@daily'",
            done("2026-11-23T00:00:05Z", "2026-11-23T00:20:00Z"),
            "2026-11-24T00:00:00Z",
            CronTick,
        ),
        ("cron: '@every 2h'", None, "2026-11-23T10:30:00Z", FirstRun),
        (
            "cron: '@every 2h'",
            done("2026-11-23T09:00:00Z", "2026-11-23T09:10:00Z"),
            "2026-11-23T10:30:00Z",
            NotDue,
        ),
    ];
    for (yaml, latest, now, expected) in cases {
        let schedule = Schedule::of(&periodic(yaml)).expect("schedule");
        let got = decide(&schedule, latest.as_ref(), at(seen), at(now));
        assert_eq!(
            got,
            expected,
            "{yaml} at {now} with {:?}",
            latest.as_ref().and_then(|j| j.status.as_ref())
        );
        assert_eq!(
            got.fires(),
            matches!(expected, FirstRun | IntervalElapsed | CronTick)
        );
    }
}

#[test]
fn a_restart_right_after_a_tick_does_not_start_a_second_run() {
    let schedule = Schedule::of(&periodic("cron: '0 * * * *'")).expect("schedule");
    // The 11:00 tick started a run at 11:00:02 that finished at 11:10; horologium restarts
    // at 11:30 and first sees the periodic then.
    let latest = run("2026-11-23T11:00:02Z", Some("2026-11-23T11:10:00Z"));
    let restarted = at("2026-11-23T11:30:00Z");
    assert_eq!(
        decide(&schedule, Some(&latest), restarted, restarted),
        Verdict::NotDue
    );
    assert_eq!(
        decide(
            &schedule,
            Some(&latest),
            restarted,
            at("2026-11-23T12:00:00Z")
        ),
        Verdict::CronTick
    );
}

#[test]
fn schedules_without_a_valid_rule_say_why() {
    for (yaml, expected) in [
        (
            "tags: [x]",
            "at least one of cron, interval, or minimum_interval must be set in periodic p",
        ),
        (
            "interval: soon",
            "cannot parse duration \"soon\" of periodic p",
        ),
    ] {
        assert_eq!(
            Schedule::of(&periodic(yaml)).expect_err("no schedule"),
            expected
        );
    }
    let err = Schedule::of(&periodic("cron: '61 * * * *'")).expect_err("bad cron");
    assert!(
        err.starts_with("invalid cron string 61 * * * * in periodic p"),
        "{err}"
    );
}
