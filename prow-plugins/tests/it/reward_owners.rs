//! reward-owners: which changes count, who the owners are, and the welcome (through the real
//! hook with a real repository: prow-server's `plugins_pla`).

use std::collections::BTreeSet;

use prow_config::plugins::PluginConfig;
use prow_github::types::PullRequestFile;
use prow_plugins::Action;
use prow_plugins::plugins::reward_owners as ro;

fn file(name: &str, status: &str) -> PullRequestFile {
    PullRequestFile {
        filename: name.to_owned(),
        status: status.to_owned(),
        ..PullRequestFile::default()
    }
}

#[test]
fn only_owners_and_aliases_changes_count() {
    let names = PluginConfig::default().owners_filenames("o", "r");
    let cases: [(&[(&str, &str)], bool); 7] = [
        (&[("OWNERS", "modified")], true),
        (&[("pkg/api/OWNERS", "added")], true),
        (&[("OWNERS_ALIASES", "modified")], true),
        (&[("pkg/OWNERS_ALIASES", "modified")], false),
        (&[("pkg/OWNERS", "removed")], false),
        (&[("README.md", "modified"), ("OWNERS.md", "added")], false),
        (&[("README.md", "modified"), ("a/OWNERS", "renamed")], true),
    ];
    for (files, want) in cases {
        let files: Vec<PullRequestFile> = files.iter().map(|(n, s)| file(n, s)).collect();
        assert_eq!(ro::owners_modified(&files, &names), want, "{files:?}");
    }
}

fn owners(files: &[(&str, &str)], aliases: Option<&str>) -> BTreeSet<String> {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect();
    ro::all_owners(&files, aliases)
}

#[test]
fn all_owners_are_every_approver_and_reviewer_with_aliases_expanded() {
    let got = owners(
        &[
            (
                "OWNERS",
                "approvers: [Alice, sig-leads]\nreviewers: ['@bob']\nlabels: [sig/x]\n",
            ),
            (
                "pkg/OWNERS",
                "filters:\n  '.*\\.go$':\n    reviewers: [carol]\n  '.*':\n    approvers: [dave]\n",
            ),
            ("broken/OWNERS", "approvers: {not: [a list]\n"),
            (
                "docs/OWNERS",
                "required_reviewers: [erin]\nemeritus_approvers: [frank]\n",
            ),
        ],
        Some("aliases:\n  sig-leads: [gina, Hank]\n"),
    );
    let want: BTreeSet<String> = ["alice", "bob", "carol", "dave", "gina", "hank"]
        .map(str::to_owned)
        .into();
    assert_eq!(got, want);
    // A broken aliases file leaves aliases as written.
    assert!(owners(&[("OWNERS", "approvers: [team]\n")], Some("aliases: [")).contains("team"));
}

#[test]
fn the_welcome_tags_new_owners_in_order() {
    assert!(ro::decide("o", "r", 3, &BTreeSet::new()).is_empty());
    let new: BTreeSet<String> = ["zed", "amy"].map(str::to_owned).into();
    match ro::decide("o", "r", 3, &new).as_slice() {
        [
            Action::Comment {
                body, number: 3, ..
            },
        ] => {
            assert!(
                body.starts_with("\nThanks to @amy, @zed for serving the community in this new capacity!\n\nNext steps:\n1- Reach out in [slack.k8s.io](http://slack.k8s.io/) -> #sig-contribex"),
                "{body}"
            );
            assert!(body.ends_with(
                "now that you are actively involved in the maintenance of the project.\n"
            ));
        }
        other => panic!("{other:?}"),
    }
}
