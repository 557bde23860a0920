//! plugins.yaml: real files load, both `plugins` forms, supplemental merging, every validation
//! error listed with its place, per-repo look-ups, and a loader that never panics.

use std::io::Write;
use std::path::{Path, PathBuf};

use prow_config::plugins::{PluginConfig, PluginLoadOptions, load_plugins, parse_plugin_config};
use prow_config::{Error, Finding, Severity};

use crate::corpus::corpus;

/// The committed fixtures, `tests/data/plugins`.
fn data_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/plugins")
}

/// A committed fixture under `tests/data/plugins`.
fn data(path: &str) -> PathBuf {
    data_root().join(path)
}

/// Loads with checkconfig's settings; errors become a panic naming every finding.
fn load_ok(options: &PluginLoadOptions) -> (PluginConfig, Vec<Finding>) {
    match load_plugins(options) {
        Ok(loaded) => loaded,
        Err(Error::Invalid { errors }) => {
            let listing: Vec<_> = errors.iter().map(ToString::to_string).collect();
            panic!(
                "{}: {} errors:\n{}",
                options.path.display(),
                errors.len(),
                listing.join("\n")
            );
        }
        Err(e) => panic!("{}: {e}", options.path.display()),
    }
}

/// Every finding of a load (the errors when it fails, else the warnings), one per line, with
/// `root` cut from paths.
fn listing(options: &PluginLoadOptions, root: &Path) -> String {
    let findings = match load_plugins(options) {
        Ok((_, warnings)) => warnings,
        Err(Error::Invalid { errors }) => errors,
        Err(e) => return e.to_string(),
    };
    findings
        .iter()
        .map(|f| {
            let text = f.to_string().replace(&format!("{}/", root.display()), "");
            match f.severity {
                Severity::Error => format!("error: {text}"),
                Severity::Warning => format!("warning: {text}"),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes `text` as `plugins.yaml` in a temporary directory and lists what loading it reports.
fn check(text: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plugins.yaml");
    std::fs::write(&path, text).expect("write plugins.yaml");
    listing(&PluginLoadOptions::new(&path), dir.path())
}

/// Loads `text` that must be valid.
fn load_text(text: &str) -> (PluginConfig, Vec<Finding>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plugins.yaml");
    std::fs::write(&path, text).expect("write plugins.yaml");
    load_ok(&PluginLoadOptions::new(&path))
}

fn total_enabled(c: &PluginConfig) -> usize {
    c.plugins.values().map(|o| o.plugins.len()).sum()
}

fn total_external(c: &PluginConfig) -> usize {
    c.external_plugins.values().map(Vec::len).sum()
}

fn names<'a>(
    plugins: impl IntoIterator<Item = &'a prow_config::plugins::ExternalPlugin>,
) -> Vec<&'a str> {
    plugins.into_iter().map(|p| p.name.as_str()).collect()
}

// Counts below were taken with PyYAML over the same files, independently of this loader.

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn k8s_test_infra_loads_clean() {
    let root = corpus();
    let (c, warnings) = load_ok(&PluginLoadOptions::new(
        root.join("k8s-test-infra/config/prow/plugins.yaml"),
    ));
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert!(!c.plugins.is_legacy());
    assert_eq!((c.plugins.len(), total_enabled(&c)), (82, 325));
    assert_eq!(total_external(&c), 64);
    // Org list (32) then the repo's own three.
    let autoscaler = c.plugins_for("kubernetes", "autoscaler");
    assert_eq!(autoscaler.len(), 35);
    assert_eq!(autoscaler[0], "approve");
    assert_eq!(
        &autoscaler[32..],
        ["milestone", "release-note", "require-matching-label"]
    );
    assert_eq!(
        names(c.external_plugins_for("kubernetes", "autoscaler")),
        ["needs-rebase", "cherrypicker"]
    );
    let rebase = &c.external_plugins_for("kubernetes", "kubernetes")[0];
    assert_eq!(rebase.endpoint, "http://needs-rebase");
    // An `org/repo` trigger entry wins over the org entry listed after it.
    let capi = c.trigger_for("kubernetes-sigs", "cluster-api");
    assert!(capi.only_org_members && capi.trigger_github_workflows);
    let other = c.trigger_for("kubernetes-sigs", "kind");
    assert!(other.only_org_members && !other.trigger_github_workflows);
    assert_eq!(
        (c.size.s, c.size.m, c.size.l, c.size.xl, c.size.xxl),
        (10, 30, 100, 500, 1000)
    );
    assert!(!c.lgtm_for("kubernetes-sigs", "kind").repos.is_empty());
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn kyma_fails_only_on_a_plugin_prow_no_longer_has() {
    let root = corpus();
    let path = root.join("kyma-project-test-infra/prow/plugins.yaml");
    // The 2024 config enables `transfer-issue`, which Prow later folded into
    // `issue-management` (kubernetes-sigs/prow 1f6d66b17), so today's checkconfig rejects it.
    insta::assert_snapshot!(listing(&PluginLoadOptions::new(&path), &root), @r#"
    error: kyma-project-test-infra/prow/plugins.yaml:55: plugins.kyma-incubator.plugins[13]: unknown plugin: transfer-issue (upstream moved /transfer-issue into the issue-management plugin: enable issue-management instead)
    error: kyma-project-test-infra/prow/plugins.yaml:17: plugins.kyma-project.plugins[13]: unknown plugin: transfer-issue (upstream moved /transfer-issue into the issue-management plugin: enable issue-management instead)
    "#);
    // Hook does not check names, and then the file loads.
    let mut options = PluginLoadOptions::new(&path);
    options.check_unknown_plugins = false;
    let (c, warnings) = load_ok(&options);
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!((c.plugins.len(), total_enabled(&c)), (6, 48));
    assert_eq!(total_external(&c), 3);
    let trigger = c.trigger_for("kyma-project", "anything");
    assert_eq!(trigger.trusted_apps, ["dependabot"]);
    assert!(trigger.only_org_members && trigger.ignore_ok_to_test);
    let maps = &c.config_updater.maps;
    assert_eq!(maps.len(), 5);
    assert_eq!(maps["prow/jobs/**/*.yaml"].gzip, Some(true));
    // Maps without clusters get the default cluster, as Prow's SetDefaults does.
    assert_eq!(maps["prow/config.yaml"].clusters["default"], [""]);
    assert_eq!(
        maps["configs/kaniko-build-config.yaml"].clusters["untrusted-workload"],
        ["default"]
    );
}

/// jetstack's file, from the shared corpus or the committed copy: the same assertions.
fn check_jetstack(path: &Path, root: &Path) {
    // The deprecated list form, `trusted_org` and `maintainers_id` are what Prow logs about.
    insta::assert_snapshot!(
        "jetstack_warnings",
        listing(&PluginLoadOptions::new(path), root)
    );
    let (c, _) = load_ok(&PluginLoadOptions::new(path));
    assert!(c.plugins.is_legacy());
    assert_eq!((c.plugins.len(), total_enabled(&c)), (10, 91));
    assert_eq!(total_external(&c), 4);
    let cm = c.plugins_for("jetstack", "cert-manager");
    assert_eq!(
        cm.len(),
        c.plugins["jetstack"].plugins.len() + c.plugins["jetstack/cert-manager"].plugins.len()
    );
    assert_eq!(c.blunderbuss.request_count, Some(1));
    assert_eq!(
        c.trigger_for("jetstack", "tarmak").join_org_url,
        "https://github.com/orgs/jetstack/people"
    );
    assert_eq!(c.require_matching_label[0].grace_period, "5s");
    assert_eq!(
        c.milestone_applier["jetstack/cert-manager"]["release-0.10"],
        "v0.10"
    );
    assert_eq!(
        names(c.external_plugins_for_event("cert-manager", "x", "issue_comment")),
        ["cherrypick"]
    );
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn jetstack_legacy_form_loads_with_warnings() {
    let root = corpus();
    check_jetstack(&root.join("jetstack-testing/config/plugins.yaml"), &root);
}

#[test]
fn committed_jetstack_copy_loads() {
    check_jetstack(
        &data("corpus/jetstack-testing/config/plugins.yaml"),
        &data("corpus"),
    );
}

fn check_knative(path: &Path) {
    let (c, warnings) = load_ok(&PluginLoadOptions::new(path));
    // `repo_milestone[""]` still sets the deprecated team id.
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(warnings[0].field, r#"repo_milestone[""].maintainers_id"#);
    assert_eq!((c.plugins.len(), total_enabled(&c)), (4, 77));
    assert_eq!(total_external(&c), 5);
    assert!(c.lgtm_for("knative", "serving").review_acts_as_lgtm);
    assert_eq!(
        c.override_.allowed_github_teams["knative-extensions"].len(),
        6
    );
    assert_eq!(c.label.additional_labels.len(), 18);
    assert_eq!(
        (c.blunderbuss.request_count, c.blunderbuss.max_request_count),
        (Some(2), 3)
    );
    assert_eq!(
        names(c.external_plugins_for("knative-prow-robot", "infra")),
        ["needs-rebase"]
    );
    let infra = c.plugins_for("knative", "infra");
    assert_eq!(
        infra.len(),
        c.plugins["knative"].plugins.len() + c.plugins["knative/infra"].plugins.len()
    );
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn knative_loads() {
    let root = corpus();
    check_knative(&root.join("knative-infra/prow/plugins.yaml"));
}

#[test]
fn committed_knative_copy_loads() {
    check_knative(&data("corpus/knative-infra/prow/plugins.yaml"));
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn prow_integration_plugins_load() {
    let root = corpus();
    let (c, warnings) = load_ok(&PluginLoadOptions::new(
        root.join("prow-testdata/test/integration/config/prow/plugins.yaml"),
    ));
    assert!(warnings.is_empty());
    assert_eq!(c.plugins_for("fake-org-hook", "any"), ["label"]);
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn documented_config_has_no_unknown_fields() {
    let root = corpus();
    let path = root.join("prow-testdata/pkg/plugins/plugin-config-documented.yaml");
    let text = std::fs::read_to_string(&path).expect("read documented config");
    let (c, warnings) = parse_plugin_config(&text, &path).unwrap_or_else(|f| panic!("{f}"));
    assert!(warnings.is_empty(), "{warnings:#?}");
    // Spot checks that nested sections were read, not skipped.
    assert_eq!(
        c.triggers[0].org_invite.prominent.merged_pr_threshold,
        Some(0)
    );
    assert_eq!(
        c.project_manager.org_repos[""].projects[""].columns[0].id,
        Some(0)
    );
    assert_eq!(c.owners.filenames[""].owners_aliases, " ");
    let branch = &c.bugzilla.orgs[""].repos[""].branches[""];
    assert_eq!(branch.allowed_groups, [""]);
    assert_eq!(branch.valid_states, None);
    assert_eq!(
        branch
            .state_after_close
            .as_ref()
            .map(|s| s.resolution.as_str()),
        Some(" ")
    );
    assert_eq!(c.invalid_commit_msg[0].checks[0].name, " ");
    // Its placeholder values break these rules, each reported where it is written.
    insta::assert_snapshot!(listing(&PluginLoadOptions::new(&path), &root));
}

#[test]
fn every_validation_error_is_listed() {
    let path = data("bad/plugins.yaml");
    insta::assert_snapshot!(listing(&PluginLoadOptions::new(&path), &data_root()));
}

#[test]
fn unknown_fields_are_warnings() {
    let text = "plugins:\n  org:\n    plugins: [trigger]\n    exclude_repos: [x]\ntriggers:\n- repos: [org]\n  trusted_app: [bot]\nsurprise: 1\nlgtm:\n- repos: [org]\n  sticky: true\n";
    insta::assert_snapshot!(check(text), @r#"
    warning: plugins.yaml:4: plugins.org.exclude_repos: unknown field
    warning: plugins.yaml:7: triggers[0].trusted_app: unknown field
    warning: plugins.yaml:8: surprise: unknown field
    warning: plugins.yaml:11: lgtm[0].sticky: unknown field
    "#);
}

#[test]
fn unknown_fields_inside_maps_and_lists_are_located() {
    let text = "plugins:\n  org: {plugins: [trigger]}\ndco:\n  org: {trusted_orgg: x}\nconfig_updater:\n  maps:\n    a.yaml: {nme: a}\nlabel:\n  restricted_labels:\n    org:\n    - label: x\n      allowed_user: [me]\n";
    insta::assert_snapshot!(check(text), @r#"
    warning: plugins.yaml:4: dco.org.trusted_orgg: unknown field
    warning: plugins.yaml:7: config_updater.maps["a.yaml"].nme: unknown field
    warning: plugins.yaml:12: label.restricted_labels.org[0].allowed_user: unknown field
    "#);
}

#[test]
fn yaml11_booleans_are_read_as_go_does() {
    let (c, warnings) = load_text(
        "plugins:\n  org: {plugins: [trigger]}\ntriggers:\n- repos: [org]\n  only_org_members: yes\n  org_invite:\n    prominent:\n      disabled: Off  # comment\nlgtm:\n- repos: [org]\n  store_tree_hash: n\nwelcome:\n- repos: [org]\n  message_template: yes\n",
    );
    assert!(warnings.is_empty(), "{warnings:#?}");
    let trigger = c.trigger_for("org", "repo");
    assert!(trigger.only_org_members);
    assert!(!trigger.org_invite.prominent.disabled);
    assert!(!c.lgtm_for("org", "repo").store_tree_hash);
    // Only boolean fields are rewritten; a string field keeps the text.
    assert_eq!(c.welcome[0].message_template, "yes");
}

#[test]
fn findings_through_aliases_point_at_the_key() {
    let text = "base: &b\n  plugins: [trigger]\nplugins:\n  org:\n    <<: *b\n    excluded_repos: [x]\n  org/y: *b\n";
    // `org/y` gets the org's `trigger` again through the alias, which Prow rejects.
    insta::assert_snapshot!(check(text), @r#"error: plugins.yaml:7: plugins["org/y"]: plugins [trigger] are duplicated for y and org"#);
}

#[test]
fn parse_errors_name_file_line_and_field() {
    insta::assert_snapshot!(check("plugins:\n  org:\n    plugins: trigger\n"), @r#"error: plugins.yaml:3: plugins.org.plugins: invalid type: string "trigger", expected a sequence"#);
    insta::assert_snapshot!(check("size:\n  s: ten\n"), @r#"error: plugins.yaml:2: size.s: invalid type: string "ten", expected i64"#);
}

#[test]
fn legacy_list_form_is_accepted_with_a_warning() {
    let (c, warnings) =
        load_text("plugins:\n  org: [trigger, lgtm]\n  org/repo: [approve]\n  quiet:\n");
    assert!(c.plugins.is_legacy());
    assert_eq!(c.plugins_for("org", "repo"), ["trigger", "lgtm", "approve"]);
    assert_eq!(c.plugins_for("org", "other"), ["trigger", "lgtm"]);
    assert!(c.plugins_for("quiet", "x").is_empty());
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].line, Some(1));
    assert!(warnings[0].message.contains("deprecated config style"));
    // Unknown names in the list form point at the item.
    insta::assert_snapshot!(check("plugins:\n  org:\n  - trigger\n  - nope\n"), @"error: plugins.yaml:4: plugins.org[1]: unknown plugin: nope");
}

#[test]
fn mixing_both_forms_is_an_error() {
    // Go reads the map one way or the other, so a mix fails; we say where.
    insta::assert_snapshot!(check("size:\n  s: 0\nplugins:\n  org: [trigger]\n  org/repo:\n    plugins: [lgtm]\n"), @r#"error: plugins.yaml:4: plugins.org: plugins mixes the deprecated list form (here) with the map form (as in "org/repo"); Prow reads only one form per file"#);
}

#[test]
fn excluded_repos_drop_only_the_org_plugins() {
    let (c, _) = load_text(
        "plugins:\n  org:\n    excluded_repos: [private]\n    plugins: [trigger, lgtm]\n  org/private:\n    plugins: [lgtm]\n  org/public:\n    plugins: [hold]\n",
    );
    assert_eq!(c.plugins_for("org", "private"), ["lgtm"]);
    assert_eq!(c.plugins_for("org", "public"), ["trigger", "lgtm", "hold"]);
    assert!(c.plugins_for("elsewhere", "repo").is_empty());
}

#[test]
fn supplemental_configs_are_merged() {
    let main = data("supplemental/main/plugins.yaml");
    let options = PluginLoadOptions::new(&main)
        .with_supplements(&[data("supplemental/extra")], "_pluginconfig.yaml");
    let (c, warnings) = load_ok(&options);
    assert!(warnings.is_empty(), "{warnings:#?}");
    // `notes.yaml` lacks the suffix and `..2026_11_23/` is mount bookkeeping: neither is read.
    let keys: Vec<&str> = c.plugins.keys().map(String::as_str).collect();
    assert_eq!(keys, ["org", "team-a", "team-a/special", "team-b"]);
    assert_eq!(
        c.plugins_for("team-a", "special"),
        ["trigger", "approve", "verify-owners", "hold"]
    );
    assert_eq!(c.plugins_for("team-b", "x"), ["size", "lgtm"]);
    assert_eq!(
        names(c.external_plugins_for("team-a", "x")),
        ["cherrypicker"]
    );
    assert_eq!(
        c.external_plugins_for("team-a", "x")[0].endpoint,
        "http://cherrypicker"
    );
    assert_eq!(c.approve.len(), 2);
    assert_eq!(c.approve_for("org", "x").require_self_approval, Some(true));
    assert_eq!(c.approve_for("team-a", "x").require_self_approval, None);
    assert!(c.lgtm_for("team-a", "x").review_acts_as_lgtm);
    assert!(c.trigger_for("team-a", "x").only_org_members);
    assert_eq!(c.welcome[0].message_template, "welcome to team a");
    let restricted: Vec<&str> = c
        .label
        .restricted_labels
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(restricted, ["org", "team-a"]);
    // Without a suffix Prow reads no supplements at all.
    let (c, _) =
        load_ok(&PluginLoadOptions::new(&main).with_supplements(&[data("supplemental/extra")], ""));
    assert_eq!(c.plugins.len(), 1);
}

#[test]
fn supplemental_conflicts_point_into_the_supplement() {
    let options = PluginLoadOptions::new(data("supplemental/main/plugins.yaml")).with_supplements(
        &[data("supplemental/conflicts"), data("supplemental/absent")],
        "_pluginconfig.yaml",
    );
    insta::assert_snapshot!(listing(&options, &data_root()));
}

#[test]
fn an_unreadable_supplement_is_reported_with_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(
        root.join("plugins.yaml"),
        "plugins:\n  org: {plugins: [trigger]}\n",
    )
    .expect("write main");
    let extra = root.join("extra");
    std::fs::create_dir(&extra).expect("mkdir");
    std::fs::write(extra.join("a_pluginconfig.yaml"), b"plugins: \xff\n").expect("write bad");
    std::fs::write(
        extra.join("b_pluginconfig.yaml"),
        "plugins:\n  other: {plugins: [nope]}\n",
    )
    .expect("write good");
    let options = PluginLoadOptions::new(root.join("plugins.yaml"))
        .with_supplements(&[extra], "_pluginconfig.yaml");
    insta::assert_snapshot!(listing(&options, root), @"
    error: extra/a_pluginconfig.yaml: failed to read extra/a_pluginconfig.yaml: invalid utf-8 sequence of 1 bytes from index 9
    error: extra/b_pluginconfig.yaml:2: plugins.other.plugins[0]: unknown plugin: nope
    ");
}

#[test]
fn each_file_keeps_its_own_form() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(
        root.join("plugins.yaml"),
        "plugins:\n  org:\n    plugins: [nope-a]\n",
    )
    .expect("write main");
    let extra = root.join("extra");
    std::fs::create_dir(&extra).expect("mkdir");
    std::fs::write(
        extra.join("team_pluginconfig.yaml"),
        "plugins:\n  team:\n  - trigger\n  - nope-b\n",
    )
    .expect("write supplement");
    let options = PluginLoadOptions::new(root.join("plugins.yaml"))
        .with_supplements(&[extra], "_pluginconfig.yaml");
    insta::assert_snapshot!(listing(&options, root), @"
    error: plugins.yaml:3: plugins.org.plugins[0]: unknown plugin: nope-a
    error: extra/team_pluginconfig.yaml:4: plugins.team[1]: unknown plugin: nope-b
    ");
}

#[test]
fn gzipped_config_is_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plugins.yaml");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).expect("create"),
        flate2::Compression::default(),
    );
    gz.write_all(b"plugins:\n  org:\n    plugins: [trigger]\n")
        .expect("write");
    gz.finish().expect("finish");
    let (c, _) = load_ok(&PluginLoadOptions::new(&path));
    assert_eq!(c.plugins_for("org", "repo"), ["trigger"]);
}

#[test]
fn defaults_and_lookups() {
    let (c, warnings) = load_text(
        "plugins:\n  org: {plugins: [dco]}\ndco:\n  '*': {trusted_org: everyone}\n  org: {trusted_org: org-members}\n  org/repo: {skip_dco_check_for_members: true}\nlgtm:\n- repos: [org]\n  store_tree_hash: true\n- repos: [org/repo]\n  review_acts_as_lgtm: true\nowners:\n  filenames:\n    org/repo: {owners: OWNERS.md, owners_aliases: ALIASES}\n  skip_collaborators: [org]\n  mdyamlrepos: [org/docs]\nexternal_plugins:\n  org:\n  - name: a\n    events: [push]\n  - name: b\n",
    );
    assert!(warnings.is_empty());
    assert!(c.dco_for("org", "repo").skip_dco_check_for_members);
    assert_eq!(c.dco_for("org", "other").trusted_org, "org-members");
    assert_eq!(c.dco_for("else", "x").trusted_org, "everyone");
    assert!(c.lgtm_for("org", "repo").review_acts_as_lgtm);
    assert!(c.lgtm_for("org", "other").store_tree_hash);
    assert!(!c.lgtm_for("else", "x").store_tree_hash);
    let approve = c.approve_for("org", "repo");
    assert_eq!(approve.command_help_link, "https://go.k8s.io/bot-commands");
    assert!(
        approve
            .pr_process_link
            .ends_with("#the-code-review-process")
    );
    assert_eq!(c.owners_filenames("org", "repo").owners, "OWNERS.md");
    assert_eq!(
        c.owners_filenames("org", "other").owners_aliases,
        "OWNERS_ALIASES"
    );
    assert!(c.skip_collaborators("org", "any") && !c.skip_collaborators("else", "any"));
    assert!(c.mdyaml_enabled("org", "docs") && !c.mdyaml_enabled("org", "code"));
    assert_eq!(
        names(c.external_plugins_for_event("org", "r", "push")),
        ["a", "b"]
    );
    assert_eq!(
        names(c.external_plugins_for_event("org", "r", "issues")),
        ["b"]
    );
    // Prow's defaults are applied on load.
    assert_eq!(c.blunderbuss.request_count, Some(2));
    assert_eq!(
        c.owners.labels_denylist.as_deref(),
        Some(&["approved".to_owned(), "lgtm".to_owned()][..])
    );
    assert_eq!(c.cherry_pick_unapproved.branchregexp, "^release-.*$");
    assert_eq!(
        c.config_updater.maps["config/prow/plugins.yaml"].name,
        "plugins"
    );
    assert!(c.help.help_guidelines_url.ends_with("help-wanted.md"));
}

#[test]
fn an_empty_file_loads_with_a_warning() {
    insta::assert_snapshot!(check(""), @"warning: plugins.yaml: plugins: no plugins specified-- check syntax?");
}

#[test]
fn restricted_labels_and_config_updater_clusters() {
    let (c, _) = load_text(
        "plugins:\n  org: {plugins: [label, config-updater]}\nlabel:\n  restricted_labels:\n    '*':\n    - label: Priority/Critical\n      allowed_teams: [release]\n      assign_on: [{label: urgent}]\n    org:\n    - label: priority/critical\n      allowed_users: [bob, alice]\n      allowed_teams: [leads, release]\n      assign_on: [{label: blocker}]\n    org/other:\n    - label: other-only\nconfig_updater:\n  cluster_groups:\n    build: {clusters: [b1, b2], namespaces: [ci]}\n    prow: {clusters: [b1], namespaces: [prow]}\n  maps:\n    jobs/*.yaml: {name: job-config, cluster_groups: [build, prow]}\n    config.yaml: {name: config, clusters: {app: [default]}}\n",
    );
    let labels = c.restricted_labels_for("org", "repo");
    let keys: Vec<&str> = labels.keys().map(String::as_str).collect();
    assert_eq!(keys, ["priority/critical"]);
    let critical = &labels["priority/critical"];
    // The first spelling wins; people and teams are united.
    assert_eq!(critical.label, "Priority/Critical");
    assert_eq!(critical.allowed_users, ["alice", "bob"]);
    assert_eq!(critical.allowed_teams, ["leads", "release"]);
    let assign: Vec<&str> = critical
        .assign_on
        .iter()
        .map(|a| a.label.as_str())
        .collect();
    assert_eq!(assign, ["blocker", "urgent"]);
    assert_eq!(c.restricted_labels_for("org", "other").len(), 2);
    let updater = &c.config_updater;
    let jobs = updater.clusters_for(&updater.maps["jobs/*.yaml"]);
    assert_eq!(jobs["b1"], ["ci", "prow"]);
    assert_eq!(jobs["b2"], ["ci"]);
    let config = updater.clusters_for(&updater.maps["config.yaml"]);
    assert_eq!(config.keys().collect::<Vec<_>>(), ["app"]);
}

/// checkconfig's plugin-only warnings for `text`, one per line as `name: finding`.
fn checkconfig_warnings(text: &str) -> String {
    let (c, _) = load_text(text);
    prow_config::plugins::checkconfig_warnings(&c)
        .iter()
        .map(|w| format!("{}: {}", w.name, w.finding))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn checkconfig_validate_owners() {
    // verify-owners on one repo only leaves the rest of the org unchecked.
    insta::assert_snapshot!(checkconfig_warnings(
        "plugins:\n  o: {plugins: [approve]}\n  o/a: {plugins: [verify-owners]}\n"
    ), @"validate-owners: plugins: the following orgs or repos enable at least one plugin that uses OWNERS files (approve, blunderbuss, rifle, owners-label) but do not enable the verify-owners plugin to ensure validity of OWNERS files: [org: o without repo(s) o/a 'o/a']");
    // An org-wide verify-owners covers the org's excluded repo too.
    insta::assert_snapshot!(checkconfig_warnings(
        "plugins:\n  o: {plugins: [approve, verify-owners], excluded_repos: [x]}\n  o/x: {plugins: [verify-owners]}\n"
    ), @"");
    // verify-owners excluding a repo the approve plugin still reaches.
    insta::assert_snapshot!(checkconfig_warnings(
        "plugins:\n  o: {plugins: [verify-owners], excluded_repos: [x]}\n  o/x: {plugins: [approve]}\n  o/y: {plugins: [blunderbuss]}\n  p/r: {plugins: [owners-label]}\n"
    ), @"validate-owners: plugins: the following orgs or repos enable at least one plugin that uses OWNERS files (approve, blunderbuss, rifle, owners-label) but do not enable the verify-owners plugin to ensure validity of OWNERS files: [repo: o/x repo: p/r]");
}

#[test]
fn checkconfig_missing_trigger() {
    let dir = tempfile::tempdir().expect("temp dir");
    let jobs = dir.path().join("jobs.yaml");
    std::fs::write(
        &jobs,
        "presubmits:\n  org/a: [{name: a}]\n  org/b: [{name: b}]\npostsubmits:\n  other/c: [{name: c}]\n",
    )
    .expect("write jobs");
    let (jobs, _) = prow_config::read_job_config(&jobs).expect("read jobs");
    let (c, _) = load_text("plugins:\n  org:\n    plugins: [trigger]\n    excluded_repos: [a]\n");
    let warning = prow_config::plugins::missing_trigger_warning(&c, &jobs).expect("a warning");
    assert_eq!(warning.name, "missing-trigger");
    insta::assert_snapshot!(warning.finding, @"plugins: the following repos have jobs configured but do not have the trigger plugin enabled: repo: org/a, repo: other/c");
    let (all, _) = load_text("plugins:\n  org: [trigger]\n  other/c: [trigger]\n");
    assert_eq!(
        prow_config::plugins::missing_trigger_warning(&all, &jobs),
        None
    );
}

#[test]
fn checkconfig_validate_label_and_config_updater_acls() {
    insta::assert_snapshot!(checkconfig_warnings(
        "plugins:\n  o: {plugins: [label]}\nlabel:\n  additional_labels: [api-review]\n  restricted_labels:\n    o:\n    - label: api-review\n    - label: ''\n    '*':\n    - label: api-review\nconfig_updater:\n  maps:\n    config.yaml:\n      name: config\n      allowed_repos: [o/r, a/b/c]\n      denied_repos: ['', /r]\n"
    ), @r#"
    validate-label: label.restricted_labels: the following orgs or repos have configuration of label plugin using the restricted label api-review which is also configured as an additional label: *, o
    validate-label: label.restricted_labels: the following orgs or repos have configuration of label plugin using the empty string as label name in restricted labels: o
    validate-config-updater-acls: config_updater.maps["config.yaml"].allowed_repos[1]: org/repo contains too many slashes '/'
    validate-config-updater-acls: config_updater.maps["config.yaml"].denied_repos[0]: org/repo cannot be empty
    validate-config-updater-acls: config_updater.maps["config.yaml"].denied_repos[1]: you cannot set a repo without an org
    "#);
}

mod proptests {
    use proptest::prelude::*;

    use super::*;

    /// Section names and values that reach deep into the typed sections.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("plugins"),
            Just("external_plugins"),
            Just("triggers"),
            Just("approve"),
            Just("lgtm"),
            Just("size"),
            Just("config_updater"),
            Just("maps"),
            Just("require_matching_label"),
            Just("project_manager"),
            Just("orgsRepos"),
            Just("repos"),
            Just("name"),
            Just("org"),
            Just("org/repo"),
            Just("regexp"),
            Just("request_count"),
            Just("excluded_repos"),
            Just("bugzilla"),
            Just("label"),
            Just("restricted_labels"),
        ]
        .prop_map(str::to_owned)
    }

    fn value() -> impl Strategy<Value = serde_yaml::Value> {
        let leaf = prop_oneof![
            Just(serde_yaml::Value::Null),
            any::<bool>().prop_map(serde_yaml::Value::Bool),
            any::<i32>().prop_map(|n| serde_yaml::Value::Number(n.into())),
            "[a-z(*/ -]{0,6}".prop_map(serde_yaml::Value::String),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_yaml::Value::Sequence),
                prop::collection::vec((key(), inner), 0..4).prop_map(|entries| {
                    serde_yaml::Value::Mapping(
                        entries
                            .into_iter()
                            .map(|(k, v)| (serde_yaml::Value::String(k), v))
                            .collect(),
                    )
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn proptest_structured_yaml_never_panics(doc in value()) {
            let text = serde_yaml::to_string(&doc).unwrap_or_default();
            let _ = check(&text);
        }

        #[test]
        fn proptest_arbitrary_text_never_panics(text in "[a-z:\\-\\[\\]{}\"' \n#&*!|>%@]{0,80}") {
            let _ = check(&text);
        }
    }
}
