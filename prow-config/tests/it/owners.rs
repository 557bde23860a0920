//! OWNERS and OWNERS_ALIASES: parsing, who owns which path (aliases, filters,
//! `no_parent_owners`, labels), the approval arithmetic and approver suggestions.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use prow_config::owners::{
    Approvals, OwnersError, RepoOwners, norm_login, parse_aliases, parse_owners,
};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/owners/repo")
}

/// The fixture repository's owners, read as the plugins read them: aliases first, then every
/// OWNERS file by directory.
fn repo() -> RepoOwners {
    let root = fixture_dir();
    let aliases_path = root.join("OWNERS_ALIASES");
    let aliases = parse_aliases(
        "OWNERS_ALIASES",
        &std::fs::read_to_string(&aliases_path)
            .unwrap_or_else(|e| panic!("{}: {e}", aliases_path.display())),
    )
    .unwrap();
    let mut owners = RepoOwners::new(aliases);
    for dir in ["", "pkg", "pkg/util", "docs", "api"] {
        let path = root.join(dir).join("OWNERS");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = parse_owners(&path.display().to_string(), &text).unwrap();
        assert!(owners.add(dir, &file).is_empty(), "{dir}");
    }
    owners
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn join(s: &BTreeSet<String>) -> String {
    s.iter().cloned().collect::<Vec<_>>().join(",")
}

/// Parses `text` and prints it in a line: options, then each filter's people and labels.
fn check_parse(text: &str, expected: &str) {
    let got = match parse_owners("OWNERS", text) {
        Ok(f) => {
            let mut out = format!(
                "no_parent={} auto={}",
                f.options.no_parent_owners, f.options.auto_approve_unowned_subfolders
            );
            for (re, e) in &f.filters {
                out.push_str(&format!(
                    " | {} a={} r={} rr={} l={}",
                    re.as_deref().unwrap_or("*"),
                    e.approvers.join(","),
                    e.reviewers.join(","),
                    e.required_reviewers.join(","),
                    e.labels.join(",")
                ));
            }
            out
        }
        Err(e) => format!("error: {e}"),
    };
    assert!(
        got.starts_with(expected),
        "{text:?}\n got: {got}\nwant: {expected}"
    );
}

#[test]
fn owners_files_parse_in_both_forms() {
    check_parse(
        "approvers: [a, b]\nreviewers: [c]\nlabels: [sig/x]\n",
        "no_parent=false auto=false | * a=a,b r=c rr= l=sig/x",
    );
    check_parse(
        "options:\n  no_parent_owners: true\napprovers:\n- a\n",
        "no_parent=true auto=false | * a=a r= rr= l=",
    );
    check_parse(
        "filters:\n  '.*':\n    approvers: [a]\n  '\\.go$':\n    labels: [lang/go]\n",
        "no_parent=false auto=false | * a=a r= rr= l= | \\.go$ a= r= rr= l=lang/go",
    );
    check_parse(
        "options: {auto_approve_unowned_subfolders: true}\nrequired_reviewers: [sec]\n",
        "no_parent=false auto=true | * a= r= rr=sec l=",
    );
    // Keys Prow does not know are ignored; nulls read as empty.
    check_parse(
        "approvers:\nemeritus_approvers: [old]\nreviewers: [r]\n",
        "no_parent=false auto=false | * a= r=r",
    );
    check_parse("", "no_parent=false auto=false");
    check_parse("# only a comment\n", "no_parent=false auto=false");
    check_parse("approvers: nobody\n", "error: cannot parse OWNERS:");
    check_parse("approvers: [a\n", "error: cannot parse OWNERS:");
    check_parse("filters: [a, b]\n", "error: cannot parse OWNERS:");
}

#[test]
fn aliases_parse_as_prow_reads_them() {
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("aliases:\n  Team: [Alice, '@Bob']\n", Ok("team=alice,bob")),
        ("aliases:\n  team: {alice, bob}\n", Ok("team=alice,bob")),
        ("aliases:\n  team:\n", Ok("team=")),
        ("aliases:\n", Ok("")),
        ("", Ok("")),
        (
            "aliases:\n  team: alice\n",
            Err("alias group 'team' must contain a list of members"),
        ),
        (
            "aliases:\n  team: [[alice]]\n",
            Err("unexpected type for members of alias group 'team'"),
        ),
        ("aliases: [a]\n", Err("cannot parse OWNERS_ALIASES")),
    ];
    for (text, want) in cases {
        let got = parse_aliases("OWNERS_ALIASES", text).map(|a| {
            a.iter()
                .map(|(k, v)| format!("{k}={}", join(v)))
                .collect::<Vec<_>>()
                .join(" ")
        });
        match (got, want) {
            (Ok(g), Ok(w)) => assert_eq!(g, *w, "{text:?}"),
            (Err(e), Err(w)) => assert!(e.to_string().starts_with(w), "{text:?}: {e}"),
            (g, w) => panic!("{text:?}: got {g:?}, want {w:?}"),
        }
    }
}

#[test]
fn logins_are_normalised() {
    assert_eq!(norm_login("@Alice"), "alice");
    assert_eq!(norm_login("BOB"), "bob");
}

/// For `file`: the OWNERS directory with approvers, all approvers, the leaf approvers, all
/// reviewers, required reviewers and labels.
fn check_paths(file: &str, expected: [&str; 6]) {
    let o = repo();
    let all = |l: Vec<BTreeSet<String>>| join(&l.into_iter().flatten().collect());
    let got = [
        o.approver_owners_dir(file),
        all(o.approvers(file)),
        join(&o.leaf_approvers(file)),
        all(o.reviewers(file)),
        join(&o.required_reviewers(file)),
        join(&o.labels_for(file)),
    ];
    assert_eq!(got, expected, "{file}");
}

#[test]
fn owners_resolve_walking_up_the_tree() {
    check_paths(
        "README.md",
        [
            "",
            "alice,bob,root-approver",
            "alice,bob,root-approver",
            "root-reviewer",
            "",
            "area/repo",
        ],
    );
    check_paths(
        "pkg/a.go",
        [
            "pkg",
            "alice,bob,pkg-approver,root-approver",
            "pkg-approver",
            "carol,pkg-reviewer,root-reviewer",
            "security-person",
            "area/pkg,area/repo",
        ],
    );
    // no_parent_owners: the root and pkg owners do not own pkg/util; it cuts the walk only
    // once something was found, so required reviewers and labels (none in pkg/util) still
    // come from above.
    check_paths(
        "pkg/util/sets/x.go",
        [
            "pkg/util",
            "util-approver",
            "util-approver",
            "util-reviewer",
            "security-person",
            "area/pkg,area/repo",
        ],
    );
    // Filters: `.*` applies to every file, `\.md$` only to Markdown, relative to docs/.
    check_paths(
        "docs/guide.md",
        [
            "docs",
            "alice,bob,docs-approver,root-approver",
            "docs-approver",
            "dana,erin,root-reviewer",
            "",
            "area/repo,kind/documentation",
        ],
    );
    check_paths(
        "docs/generated/x.txt",
        [
            "docs",
            "alice,bob,docs-approver,root-approver",
            "docs-approver",
            "root-reviewer",
            "",
            "area/repo,generated,kind/documentation",
        ],
    );
}

/// With `approvers` having approved, the unapproved OWNERS directories for `files`.
fn check_approval(files: &[&str], approvers: &[&str], unapproved: &[&str]) {
    let o = repo();
    let mut ap = Approvals::new(&o, files.iter().map(|f| (*f).to_owned()).collect());
    for a in approvers {
        ap.add_approver(a, "https://x", false);
    }
    let got: Vec<String> = ap.unapproved_dirs().into_iter().collect();
    assert_eq!(got, unapproved, "{files:?} approved by {approvers:?}");
    assert_eq!(
        ap.files_approved(),
        unapproved.is_empty() && !files.is_empty()
    );
}

#[test]
fn approvals_need_an_approver_for_every_owners_directory() {
    check_approval(&["pkg/a.go"], &[], &["pkg"]);
    check_approval(&["pkg/a.go"], &["pkg-approver"], &[]);
    // A root approver approves everything below, through an alias too, case-insensitively.
    check_approval(&["pkg/a.go", "docs/x.md"], &["ROOT-APPROVER"], &[]);
    check_approval(&["pkg/a.go", "docs/x.md"], &["Alice"], &[]);
    // ...but not below no_parent_owners.
    check_approval(&["pkg/util/x.go"], &["root-approver"], &["pkg/util"]);
    check_approval(
        &["pkg/util/x.go", "pkg/b.go"],
        &["pkg-approver"],
        &["pkg/util"],
    );
    // Nested directories fold into their parent: one root approval covers both.
    check_approval(&["pkg/a.go", "README.md"], &["pkg-approver"], &[""]);
    // Someone who owns nothing here approves nothing.
    check_approval(&["pkg/a.go"], &["stranger"], &["pkg"]);
    // auto_approve_unowned_subfolders: api/v1/x.go needs nobody, api/x.go does.
    check_approval(&["api/v1/types.go"], &[], &[]);
    check_approval(&["api/types.go"], &[], &["api"]);
    // No changed files: nothing to approve, and not approved either.
    check_approval(&[], &["root-approver"], &[]);
}

#[test]
fn cancelled_and_no_issue_approvals() {
    let o = repo();
    let mut ap = Approvals::new(&o, vec!["pkg/a.go".to_owned()]);
    ap.require_issue = true;
    ap.add_approver("pkg-approver", "u", false);
    assert!(ap.files_approved());
    assert!(!ap.requirements_met(), "an issue is required");
    ap.add_approver("pkg-approver", "u", true);
    assert!(ap.requirements_met(), "no-issue from an owner waives it");
    // A later plain /approve does not undo the no-issue waiver.
    ap.add_approver("pkg-approver", "u", false);
    assert!(ap.requirements_met());
    ap.remove_approver("PKG-APPROVER");
    assert!(!ap.files_approved());
    // no-issue from someone who owns nothing does not waive.
    ap.add_approver("pkg-approver", "u", false);
    ap.add_approver("stranger", "u", true);
    assert!(!ap.requirements_met());
    ap.associated_issue = Some(7);
    assert!(ap.requirements_met());
    ap.manually_approved = true;
    assert!(ap.is_approved());
}

#[test]
fn suggestions_cover_every_unapproved_directory_minimally() {
    let o = repo();
    let files = ["pkg/a.go", "pkg/util/x.go", "docs/guide.md"];
    for seed in 0..20 {
        let mut ap = Approvals::new(&o, files.iter().map(|f| (*f).to_owned()).collect());
        ap.seed = seed;
        let ccs = ap.ccs();
        // One leaf approver per unapproved directory.
        assert_eq!(
            ccs,
            ["docs-approver", "pkg-approver", "util-approver"],
            "seed {seed}"
        );
        let mut trial = Approvals::new(&o, files.iter().map(|f| (*f).to_owned()).collect());
        for c in &ccs {
            trial.add_approver(c, "", false);
        }
        assert!(trial.files_approved(), "suggestions must suffice");
    }
    // Already approved directories need no suggestion; an assignee who can approve is kept.
    let mut ap = Approvals::new(&o, files.iter().map(|f| (*f).to_owned()).collect());
    ap.add_approver("docs-approver", "", false);
    ap.add_assignees(["Util-Approver"]);
    assert_eq!(ap.assigned_ccs(), ["util-approver"]);
    assert_eq!(ap.suggested_ccs(), ["pkg-approver"]);
}

#[test]
fn broken_filters_are_reported_and_skipped() {
    let file = parse_owners(
        "OWNERS",
        "filters:\n  '([':\n    approvers: [a]\n  '.*':\n    approvers: [b]\n",
    )
    .unwrap();
    let mut o = RepoOwners::new(Default::default());
    assert_eq!(o.add("x", &file), ["(["]);
    assert_eq!(o.leaf_approvers("x/y"), set(&["b"]));
}

#[test]
fn parse_errors_name_the_file() {
    let e = parse_owners("pkg/OWNERS", "approvers: {a: [}").unwrap_err();
    assert!(matches!(&e, OwnersError::Parse { file, .. } if file == "pkg/OWNERS"));
    assert!(
        e.to_string().starts_with("cannot parse pkg/OWNERS: "),
        "{e}"
    );
}

/// Every OWNERS and OWNERS_ALIASES file of the corpus parses.
#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn corpus_owners_files_parse() {
    let corpus = crate::corpus::corpus();
    let mut found = 0;
    let mut stack = vec![corpus];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let shown = path.display().to_string();
            if name == "OWNERS" {
                found += 1;
                parse_owners(&shown, &text).unwrap_or_else(|e| panic!("{e}"));
            } else if name == "OWNERS_ALIASES" {
                found += 1;
                parse_aliases(&shown, &text).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
    if found == 0 {
        eprintln!("notice: the corpus has no OWNERS files; only the committed fixtures ran");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn proptest_owners_parsing_never_panics(text in ".{0,200}") {
        let _ = parse_owners("OWNERS", &text);
        let _ = parse_aliases("OWNERS_ALIASES", &text);
    }

    #[test]
    fn proptest_yamlish_owners_never_panic_and_resolve(
        keys in prop::collection::vec(
            prop_oneof![
                Just("approvers"), Just("reviewers"), Just("labels"), Just("options"),
                Just("filters"), Just("no_parent_owners"), Just("aliases"), Just("'.*'"),
            ],
            0..6,
        ),
        values in prop::collection::vec("[a-z@\\[\\]{}:\\-\\s.*]{0,12}", 0..6),
        path in "[a-z]{1,3}(/[a-z]{1,3}){0,3}",
    ) {
        let text: String = keys
            .iter()
            .zip(values.iter().chain(std::iter::repeat(&String::new())))
            .enumerate()
            .map(|(i, (k, v))| format!("{}{k}: {v}\n", "  ".repeat(i % 3)))
            .collect();
        if let Ok(file) = parse_owners("OWNERS", &text) {
            let mut o = RepoOwners::new(Default::default());
            o.add("", &file);
            let _ = o.approvers(&path);
            let _ = o.labels_for(&path);
            let ap = Approvals::new(&o, vec![path.clone()]);
            let _ = ap.ccs();
        }
        let _ = parse_aliases("OWNERS_ALIASES", &text);
    }

    /// The simple form round-trips through YAML.
    #[test]
    fn proptest_simple_owners_round_trip(
        approvers in prop::collection::vec("[a-z][a-z0-9-]{0,8}", 1..4),
        reviewers in prop::collection::vec("[a-z][a-z0-9-]{0,8}", 0..4),
        no_parent in any::<bool>(),
    ) {
        let text = format!(
            "options:\n  no_parent_owners: {no_parent}\napprovers:\n{}reviewers:\n{}",
            approvers.iter().map(|a| format!("- \"{a}\"\n")).collect::<String>(),
            reviewers.iter().map(|a| format!("- \"{a}\"\n")).collect::<String>(),
        );
        let file = parse_owners("OWNERS", &text).unwrap();
        prop_assert_eq!(file.options.no_parent_owners, no_parent);
        prop_assert_eq!(&file.filters[0].1.approvers, &approvers);
        prop_assert_eq!(&file.filters[0].1.reviewers, &reviewers);
    }
}
