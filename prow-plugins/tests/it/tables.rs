//! The plugins' pure decisions, table by table (hold, lgtm, trust).

use prow_plugins::plugins::{hold, lgtm};
use prow_plugins::{Action, trust};

#[test]
fn hold_reads_commands_like_prow() {
    // Upstream's `labelCancelRe` is tried first, so a release anywhere wins; `/hold` takes
    // anything after a space; the comment is read as it is (a fenced `/hold` holds).
    let cases = [
        ("/hold", Some(true)),
        ("/hold cancel", Some(false)),
        ("/HOLD", Some(true)),
        ("/unhold", Some(false)),
        ("/remove-hold", Some(false)),
        ("/hold\n/hold cancel", Some(false)),
        ("/hold cancel\n/hold", Some(false)),
        ("/hold\tcancel", Some(false)),
        ("please /hold", None),
        ("/holding", None),
        ("  /hold", None),
        ("```\n/hold\n```", Some(true)),
        ("<!-- /hold -->", None),
        ("/hold forever", Some(true)),
        ("/unhold now", Some(false)),
    ];
    for (body, want) in cases {
        assert_eq!(hold::requested(body), want, "{body:?}");
    }
}

#[test]
fn lgtm_reads_commands_like_prow() {
    let cases = [
        ("/lgtm", Some(true)),
        ("/lgtm no-issue", Some(true)),
        ("/LGTM", Some(true)),
        ("/lgtm cancel", Some(false)),
        ("/remove-lgtm", Some(false)),
        // Upstream tries `LGTMRe` first: `/lgtm` anywhere wins.
        ("/lgtm\n/lgtm cancel", Some(true)),
        ("/lgtm cancel\n/lgtm", Some(true)),
        ("/lgtm please", None),
        ("/lgtm\r\n", Some(true)),
        (" /lgtm", None),
        ("> /lgtm", None),
        ("lgtm", None),
    ];
    for (body, want) in cases {
        assert_eq!(lgtm::requested(body), want, "{body:?}");
    }
}

#[test]
fn lgtm_decides_who_may_change_the_label() {
    let request = lgtm::Request {
        org: "o",
        repo: "r",
        number: 1,
        user: "u",
        body: "/lgtm",
        url: "https://x",
    };
    let facts = |is_author, collaborator, has_lgtm, is_assignee| {
        let mut f = lgtm::Facts::default();
        f.is_author = is_author;
        f.collaborator = collaborator;
        f.has_lgtm = has_lgtm;
        f.is_assignee = is_assignee;
        f
    };
    let kinds = |actions: Vec<Action>| -> Vec<String> {
        actions
            .iter()
            .map(|a| match a {
                Action::AddLabels { labels, .. } => format!("add {}", labels.join(",")),
                Action::RemoveLabel { label, .. } => format!("remove {label}"),
                Action::Assign { logins, .. } => format!("assign {}", logins.join(",")),
                Action::Comment { body, .. } => {
                    format!("say {}", body.lines().next().unwrap_or_default())
                }
                other => format!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(
        kinds(lgtm::decide(
            true,
            &request,
            &facts(false, true, false, true)
        )),
        ["add lgtm"]
    );
    assert_eq!(
        kinds(lgtm::decide(
            true,
            &request,
            &facts(false, true, false, false)
        )),
        ["assign u", "add lgtm"]
    );
    assert_eq!(
        kinds(lgtm::decide(
            true,
            &request,
            &facts(false, true, true, true)
        )),
        Vec::<String>::new()
    );
    assert_eq!(
        kinds(lgtm::decide(
            true,
            &request,
            &facts(true, true, false, false)
        )),
        ["say @u: you cannot LGTM your own PR."]
    );
    assert_eq!(
        kinds(lgtm::decide(
            false,
            &request,
            &facts(true, false, true, false)
        )),
        ["remove lgtm"],
        "authors may cancel"
    );
    assert_eq!(
        kinds(lgtm::decide(
            true,
            &request,
            &facts(false, false, false, false)
        )),
        ["say @u: changing LGTM is restricted to collaborators"]
    );
}

#[test]
fn trust_follows_prows_rules() {
    let trigger = |only_org_members: bool, trusted_org: &str| {
        let mut t = prow_config::plugins::Trigger::default();
        t.only_org_members = only_org_members;
        t.trusted_org = trusted_org.to_owned();
        t
    };
    let facts = |org_member, collaborator, trusted_org_member| {
        let mut f = trust::UserFacts::default();
        f.org_member = org_member;
        f.collaborator = collaborator;
        f.trusted_org_member = trusted_org_member;
        f
    };
    assert!(trust::decide(&facts(true, false, false), &trigger(false, "")).is_ok());
    assert!(trust::decide(&facts(false, true, false), &trigger(false, "")).is_ok());
    assert_eq!(
        trust::decide(&facts(false, true, false), &trigger(true, "")),
        Err("not a member of the org".to_owned())
    );
    assert!(trust::decide(&facts(false, false, true), &trigger(false, "k8s")).is_ok());
    assert_eq!(
        trust::decide(&facts(false, false, false), &trigger(false, "k8s")),
        Err(
            "not a member of the org, not a collaborator, not a member of the trusted org k8s"
                .to_owned()
        )
    );
}
