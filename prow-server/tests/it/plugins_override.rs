//! The override plugin: parsing, which contexts may be overridden, who may, and what it
//! records.

use std::collections::BTreeSet;

use prow_config::plugins::Override;
use prow_core::ProwJobState;
use prow_github::types::{BranchProtection, Permission, RequiredStatusChecks, Status, StatusState};
use prow_plugins::plugins::override_::{self as ov, Unknown};
use prow_server::hook::Options;

use crate::plugins_common::plugin_config;
use crate::plugins_misc_support::InProcess;
use crate::support::{self, HEAD, ORG, REPO, comment, comments, github};

const BASE_SHA: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";

#[test]
fn contexts_split_at_spaces_except_in_quotes() {
    let check = |input: &str, expected: &[&str]| assert_eq!(ov::parse_contexts(input), expected);
    check("unit", &["unit"]);
    check("unit  lint", &["unit", "lint"]);
    check(
        "\"test / Unit Tests\" ci/circleci",
        &["test / Unit Tests", "ci/circleci"],
    );
    check("", &[]);
    // As upstream's `parseOverrideInput`: a lone pair of quotes names the empty context.
    check("unit \"\"", &["unit", ""]);
}

#[test]
fn commands_are_read_per_line() {
    let set = |items: &[&str]| {
        items
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        ov::requested("/override unit", false),
        Some(Some(set(&["unit"])))
    );
    assert_eq!(
        ov::requested("/override unit\n/override lint e2e", false),
        Some(Some(set(&["unit", "lint", "e2e"])))
    );
    assert_eq!(ov::requested("/override", false), Some(None));
    assert_eq!(ov::requested("/override-sticky unit", false), None);
    assert_eq!(
        ov::requested("/override-sticky unit", true),
        Some(Some(set(&["unit"])))
    );
    assert_eq!(ov::requested("please /override unit", false), None);
}

fn status(context: &str, state: StatusState) -> Status {
    Status {
        state,
        context: context.to_owned(),
        ..Status::default()
    }
}

#[test]
fn only_failed_or_required_contexts_may_be_overridden() {
    let statuses = [
        status("pull-unit", StatusState::Failure),
        status("lint", StatusState::Success),
        status("ci/circleci", StatusState::Pending),
    ];
    let presubmits = [("unit".to_owned(), "pull-unit".to_owned())];
    let required = ["required-check".to_owned()];
    let plan = |names: &[&str]| {
        let names = names.iter().map(|s| (*s).to_owned()).collect();
        ov::plan(&names, &statuses, &presubmits, &required).map(|targets| {
            targets
                .into_iter()
                .map(|t| format!("{} {:?}", t.context, t.job))
                .collect::<Vec<_>>()
        })
    };
    // By context or by job name.
    assert_eq!(plan(&["pull-unit"]).unwrap(), ["pull-unit Some(\"unit\")"]);
    assert_eq!(plan(&["unit"]).unwrap(), ["pull-unit Some(\"unit\")"]);
    assert_eq!(
        plan(&["ci/circleci", "required-check"]).unwrap(),
        ["ci/circleci None", "required-check None"]
    );
    assert_eq!(
        plan(&["lint", "nope"]).unwrap_err(),
        Unknown {
            unknown: vec!["lint".to_owned(), "nope".to_owned()],
            expected: ["ci/circleci", "pull-unit", "required-check", "unit"]
                .map(str::to_owned)
                .to_vec(),
        }
    );
}

#[test]
fn who_can_use_lists_owners_and_teams() {
    let config = |yaml: &str| plugin_config(yaml).override_;
    assert_eq!(
        ov::who_can_use(&Override::default(), "o", "r"),
        "Repo administrators."
    );
    let c = config(
        "override:\n  allow_top_level_owners: true\n  allowed_github_teams:\n    o/r: [t1, t2]\n    o: [t3]\n    x: [t4]\n",
    );
    assert_eq!(
        ov::who_can_use(&c, "o", "r"),
        "Repo administrators, approvers in top level OWNERS file, and the following github teams:o/r: t1 t2, o: t3."
    );
    assert_eq!(
        ov::who_can_use(&c, "", ""),
        "Repo administrators, approvers in top level OWNERS file, and the following github teams:o/r: t1 t2, o: t3, x: t4."
    );
}

#[test]
fn top_level_approvers_expand_aliases() {
    let approvers = ov::top_level_approvers(
        "approvers:\n- Alice\n- sig-leads\nreviewers:\n- carol\n",
        Some("aliases:\n  sig-leads:\n  - bob\n"),
    );
    assert_eq!(approvers.into_iter().collect::<Vec<_>>(), ["alice", "bob"]);
}

const PLUGINS: &str = "plugins:\n  Codertocat/Hello-World:\n    plugins: [override]\noverride:\n  allow_top_level_owners: true\n  allowed_github_teams:\n    Codertocat: [release-team]\n";

fn hook() -> InProcess {
    let github = github("author");
    {
        let mut state = github.state();
        state.statuses.insert(
            (ORG.to_owned(), REPO.to_owned(), HEAD.to_owned()),
            vec![
                status("unit", StatusState::Failure),
                status("lint", StatusState::Success),
                status("ci/external", StatusState::Error),
            ],
        );
        state.collaborators.insert(
            (ORG.to_owned(), REPO.to_owned(), "admin".to_owned()),
            Permission::Admin,
        );
        state
            .team_members
            .entry((ORG.to_owned(), "release-team".to_owned()))
            .or_default()
            .insert("releaser".to_owned());
        state.files.insert(
            (
                ORG.to_owned(),
                REPO.to_owned(),
                "master".to_owned(),
                "OWNERS".to_owned(),
            ),
            b"approvers:\n- owner\n".to_vec(),
        );
        state.branches.insert(
            (ORG.to_owned(), REPO.to_owned(), "master".to_owned()),
            BASE_SHA.to_owned(),
        );
        state.protections.insert(
            (ORG.to_owned(), REPO.to_owned(), "master".to_owned()),
            BranchProtection {
                required_status_checks: Some(RequiredStatusChecks {
                    contexts: vec!["cla".to_owned()],
                    ..RequiredStatusChecks::default()
                }),
                ..BranchProtection::default()
            },
        );
    }
    InProcess::start(
        github,
        support::hook_config(support::CONFIG, PLUGINS),
        Options::default(),
        Vec::new(),
    )
}

fn head_statuses(hook: &InProcess) -> Vec<(String, StatusState, String)> {
    hook.github
        .state()
        .statuses
        .get(&(ORG.to_owned(), REPO.to_owned(), HEAD.to_owned()))
        .unwrap()
        .iter()
        .map(|s| {
            (
                s.context.clone(),
                s.state,
                s.description.clone().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_admin_overrides_a_prow_job_and_it_is_recorded() {
    let hook = hook();
    hook.deliver(
        "issue_comment",
        &comment("/override unit", "admin", "author"),
    )
    .await;
    let statuses = head_statuses(&hook);
    let (context, state, description) = statuses.last().unwrap();
    assert_eq!((context.as_str(), *state), ("unit", StatusState::Success));
    assert!(
        description.starts_with("Overridden by admin"),
        "{description}"
    );
    assert!(
        description.ends_with(&format!(" BaseSHA:{BASE_SHA}")),
        "{description}"
    );
    let jobs = hook.store.list(&Default::default()).await.unwrap();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(job.spec.job, "unit");
    let status = job.status.as_ref().unwrap();
    assert_eq!(status.state, ProwJobState::Success);
    assert_eq!(status.description, "Overridden by admin");
    assert!(status.completion_time.is_some());
    let said = comments(&hook.github);
    assert_eq!(said.len(), 1);
    assert!(
        said[0].contains("Overrode contexts on behalf of admin: unit"),
        "{}",
        said[0]
    );
    hook.shutdown().await;
}

#[tokio::test]
async fn team_members_and_top_level_owners_may_override_other_contexts() {
    let hook = hook();
    hook.deliver(
        "issue_comment",
        &comment("/override ci/external", "releaser", "author"),
    )
    .await;
    hook.deliver(
        "issue_comment",
        &comment("/override-sticky cla", "owner", "author"),
    )
    .await;
    let statuses = head_statuses(&hook);
    let n = statuses.len();
    assert_eq!(statuses[n - 2].0, "ci/external");
    assert_eq!(statuses[n - 1].0, "cla");
    assert!(
        statuses[n - 1]
            .2
            .starts_with("Overridden by owner [prow:skip-retest]")
    );
    // No Prow job reports these contexts, so none is recorded.
    assert!(
        hook.store
            .list(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    let said = comments(&hook.github);
    assert!(said[1].contains("These overrides will persist across retests"));
    hook.shutdown().await;
}

#[tokio::test]
async fn others_are_told_who_may() {
    let hook = hook();
    hook.deliver(
        "issue_comment",
        &comment("/override unit", "reviewer", "author"),
    )
    .await;
    let said = comments(&hook.github);
    assert_eq!(said.len(), 1);
    assert!(said[0].contains(
        "reviewer unauthorized: /override is restricted to Repo administrators, approvers in top level OWNERS file, and the following github teams:Codertocat: release-team."
    ), "{}", said[0]);
    assert_eq!(head_statuses(&hook).len(), 3);
    hook.shutdown().await;
}

#[tokio::test]
async fn unknown_or_missing_contexts_get_the_list() {
    let hook = hook();
    hook.deliver(
        "issue_comment",
        &comment("/override lint", "admin", "author"),
    )
    .await;
    hook.deliver("issue_comment", &comment("/override", "admin", "author"))
        .await;
    let said = comments(&hook.github);
    assert!(said[0].contains("The following unknown contexts/checkruns were given:\n - `lint`\nOnly the following failed contexts/checkruns were expected:\n - `ci/external`\n - `cla`\n - `unit`\n"), "{}", said[0]);
    assert!(
        said[1].contains(
            "/override requires failed status contexts to operate on, but none was given"
        )
    );
    assert_eq!(head_statuses(&hook).len(), 3);
    hook.shutdown().await;
}

#[test]
fn cancel_picks_overridden_statuses() {
    let with = |context: &str, description: &str| Status {
        description: Some(description.to_owned()),
        ..status(context, StatusState::Success)
    };
    let statuses = [
        with("unit", "Overridden by admin"),
        with("lint", "Job succeeded."),
        with("cla", "Overridden by owner [prow:skip-retest]"),
    ];
    let contexts = |cancel: Option<&BTreeSet<String>>| {
        ov::to_cancel(&statuses, cancel)
            .into_iter()
            .map(|s| s.context)
            .collect::<Vec<_>>()
    };
    assert_eq!(contexts(None), ["unit", "cla"]);
    let only = ["cla".to_owned(), "lint".to_owned()].into();
    assert_eq!(contexts(Some(&only)), ["cla"]);
    assert_eq!(ov::cancel_requested("/override-cancel"), Some(None));
    assert_eq!(
        ov::cancel_requested("/override-cancel unit"),
        Some(Some(["unit".to_owned()].into()))
    );
    assert_eq!(ov::cancel_requested("/override unit"), None);
}

#[tokio::test]
async fn an_override_can_be_cancelled_by_those_who_may_override() {
    let hook = hook();
    hook.deliver(
        "issue_comment",
        &comment("/override unit", "admin", "author"),
    )
    .await;
    hook.deliver(
        "issue_comment",
        &comment("/override-cancel", "reviewer", "author"),
    )
    .await;
    hook.deliver(
        "issue_comment",
        &comment("/override-cancel unit", "releaser", "author"),
    )
    .await;
    hook.deliver(
        "issue_comment",
        &comment("/override-cancel", "admin", "author"),
    )
    .await;
    let statuses = head_statuses(&hook);
    let (context, state, description) = statuses.last().unwrap();
    assert_eq!(
        (context.as_str(), *state, description.as_str()),
        (
            "unit",
            StatusState::Failure,
            "Override cancelled by releaser"
        )
    );
    let said = comments(&hook.github);
    assert_eq!(said.len(), 4);
    assert!(said[1].contains("reviewer unauthorized: /override-cancel is restricted to"));
    assert!(said[2].contains("Cancelled overrides on behalf of releaser: unit"));
    assert!(said[3].contains("No overrides found to cancel"));
    hook.shutdown().await;
}

#[test]
fn help_lists_the_three_commands_and_who_may_use_them() {
    let config = plugin_config(PLUGINS);
    let help = prow_plugins::Plugin::help(&ov::OverridePlugin, &config);
    let usages: Vec<&str> = help.commands.iter().map(|c| c.usage.as_str()).collect();
    assert_eq!(
        usages,
        [
            "/override [context1] [context2]",
            "/override-sticky [context1] [context2]",
            "/override-cancel [context]"
        ]
    );
    assert_eq!(
        help.commands[0].who_can_use,
        "Repo administrators, approvers in top level OWNERS file, and the following github teams:Codertocat: release-team."
    );
}
