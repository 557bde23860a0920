//! The typed form of `plugins.yaml` (Prow's `plugins.Configuration`), with Prow's YAML names.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Deref, DerefMut};

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};

use crate::jobs::nullable;

/// Declares a config section: every field optional and `null` read as its default, as Go does.
macro_rules! section {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            $(
                $(#[$fm])*
                #[serde(default, deserialize_with = "nullable")]
                pub $field: $ty,
            )*
        }
    };
}

/// A string-keyed map (org, `org/repo`, cluster, branch…) whose `null` values read as the
/// value type's default, as Go's decoder does.
#[derive(Debug, Clone, PartialEq)]
pub struct LenientMap<V>(pub BTreeMap<String, V>);

impl<V> Default for LenientMap<V> {
    fn default() -> Self {
        LenientMap(BTreeMap::new())
    }
}

impl<V> Deref for LenientMap<V> {
    type Target = BTreeMap<String, V>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<V> DerefMut for LenientMap<V> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<'de, V: Default + Deserialize<'de>> Deserialize<'de> for LenientMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, Option<V>>::deserialize(d)?;
        Ok(LenientMap(
            raw.into_iter()
                .map(|(k, v)| (k, v.unwrap_or_default()))
                .collect(),
        ))
    }
}

section! {
    /// `plugins.yaml`: which plugins run where, and each plugin's settings.
    PluginConfig {
        /// Org or `org/repo` to the plugins enabled there.
        plugins: Plugins,
        /// Org or `org/repo` to the external plugins that receive its events.
        external_plugins: LenientMap<Vec<ExternalPlugin>>,
        /// How OWNERS files are read.
        owners: Owners,
        /// The approve plugin, per org or repo.
        approve: Vec<Approve>,
        /// The blockade plugin: paths that may not change.
        blockades: Vec<Blockade>,
        /// The blunderbuss plugin: reviewer requests from OWNERS.
        blunderbuss: Blunderbuss,
        /// The rifle plugin: reviewer requests from git blame (same settings as blunderbuss).
        rifle: Blunderbuss,
        /// The bugzilla plugin.
        bugzilla: Bugzilla,
        /// The branchcleaner plugin.
        branch_cleaner: BranchCleaner,
        /// The cat plugin.
        cat: KeyPath,
        /// The cherry-pick-approved plugin.
        cherry_pick_approved: Vec<CherryPickApproved>,
        /// The cherry-pick-unapproved plugin.
        cherry_pick_unapproved: CherryPickUnapproved,
        /// The config-updater plugin: files synced into ConfigMaps.
        config_updater: ConfigUpdater,
        /// The dco plugin, keyed by `*`, org or `org/repo`.
        dco: LenientMap<Dco>,
        /// The golint plugin.
        golint: Golint,
        /// The goose plugin.
        goose: Goose,
        /// The heart plugin.
        heart: Heart,
        /// The label plugin.
        label: Label,
        /// The lgtm plugin, per org or repo.
        lgtm: Vec<Lgtm>,
        /// The jira plugin.
        jira: Option<Jira>,
        /// The milestoneapplier plugin: `org/repo` to branch to milestone.
        milestone_applier: LenientMap<LenientMap<String>>,
        /// The release-note plugin.
        release_note: ReleaseNote,
        /// The milestone plugin, keyed by `org/repo` (empty key for the default).
        repo_milestone: LenientMap<Milestone>,
        /// The project plugin.
        #[serde(rename = "project_config")]
        project: ProjectConfig,
        /// The project-manager plugin.
        project_manager: ProjectManager,
        /// The require-matching-label plugin.
        require_matching_label: Vec<RequireMatchingLabel>,
        /// The retitle plugin.
        retitle: Retitle,
        /// The slackevents plugin.
        slack: Slack,
        /// The sigmention plugin.
        sigmention: SigMention,
        /// The size plugin.
        size: Size,
        /// The trigger plugin, per org or repo.
        triggers: Vec<Trigger>,
        /// The welcome plugin, per org or repo.
        welcome: Vec<Welcome>,
        /// The override plugin.
        #[serde(rename = "override")]
        override_: Override,
        /// The help plugin.
        help: Help,
        /// The invalidcommitmsg plugin, per org or repo.
        invalid_commit_msg: Vec<InvalidCommitMsg>,
        /// The trick-or-treat plugin (our extension: upstream has no settings for it).
        trick_or_treat: ImageEndpoint,
    }
}

/// How the `plugins` map was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Form {
    /// `org: null`, which both forms accept.
    #[default]
    Null,
    /// The deprecated `org: [trigger, lgtm]`.
    List,
    /// `org: {plugins: [...], excluded_repos: [...]}`.
    Map,
}

/// The `plugins` map: org or `org/repo` to the plugins enabled there.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plugins {
    entries: BTreeMap<String, OrgPlugins>,
    legacy: bool,
    mixed: Option<(String, String)>,
    /// Keys written in the list form, whose plugins sit at `plugins.<key>[i]`.
    listed: BTreeSet<String>,
}

impl Plugins {
    /// Whether the map was written in the deprecated list form (`org: [trigger, lgtm]`).
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }

    /// When both forms are used, which Prow cannot read: the first key in the list form and
    /// the first in the map form.
    pub fn mixed_forms(&self) -> Option<(&str, &str)> {
        self.mixed.as_ref().map(|(l, m)| (l.as_str(), m.as_str()))
    }

    /// Whether `key` was written in the list form.
    pub(crate) fn is_listed(&self, key: &str) -> bool {
        self.listed.contains(key)
    }

    /// Takes `key` over from another file's map, keeping how it was written.
    pub(crate) fn adopt(&mut self, other: &Plugins, key: &str) {
        if let Some(value) = other.entries.get(key) {
            self.entries.insert(key.to_owned(), value.clone());
            if other.listed.contains(key) {
                self.listed.insert(key.to_owned());
            }
        }
    }
}

impl Deref for Plugins {
    type Target = BTreeMap<String, OrgPlugins>;
    fn deref(&self) -> &Self::Target {
        &self.entries
    }
}

impl DerefMut for Plugins {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.entries
    }
}

impl FromIterator<(String, OrgPlugins)> for Plugins {
    fn from_iter<I: IntoIterator<Item = (String, OrgPlugins)>>(iter: I) -> Self {
        Plugins {
            entries: iter.into_iter().collect(),
            legacy: false,
            mixed: None,
            listed: BTreeSet::new(),
        }
    }
}

impl<'de> Deserialize<'de> for Plugins {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, Entry>::deserialize(d)?;
        let first = |form| {
            raw.iter()
                .find(|(_, e)| e.1 == form)
                .map(|(k, _)| k.clone())
        };
        let (list, map) = (first(Form::List), first(Form::Map));
        let legacy = map.is_none();
        let listed = raw
            .iter()
            .filter(|(_, e)| e.1 == Form::List)
            .map(|(k, _)| k.clone())
            .collect();
        Ok(Plugins {
            entries: raw.into_iter().map(|(k, e)| (k, e.0)).collect(),
            // Go tries the list form first, so a map without any `{plugins: ...}` value is
            // read as the deprecated form.
            legacy,
            // Reported by the loader, which knows where the keys are.
            mixed: list.zip(map),
            listed,
        })
    }
}

/// One value of the `plugins` map, in either form.
struct Entry(OrgPlugins, Form);

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Entry;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a mapping with `plugins` and `excluded_repos`, or a list of plugin names")
    }
    fn visit_unit<E>(self) -> Result<Entry, E> {
        Ok(Entry(OrgPlugins::default(), Form::Null))
    }
    fn visit_none<E>(self) -> Result<Entry, E> {
        Ok(Entry(OrgPlugins::default(), Form::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Entry, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Entry, A::Error> {
        let plugins = Vec::<String>::deserialize(SeqAccessDeserializer::new(seq))?;
        Ok(Entry(
            OrgPlugins {
                plugins,
                excluded_repos: Vec::new(),
            },
            Form::List,
        ))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Entry, A::Error> {
        let value = OrgPlugins::deserialize(MapAccessDeserializer::new(map))?;
        Ok(Entry(value, Form::Map))
    }
}

section! {
    /// The plugins of one org or repo.
    OrgPlugins {
        /// Repos of the org (names without the org) that do not get the org's plugins.
        excluded_repos: Vec<String>,
        /// Plugin names.
        plugins: Vec<String>,
    }
}

section! {
    /// A plugin running outside hook, sent events over HTTP.
    ExternalPlugin {
        /// Its name.
        name: String,
        /// Where events go; defaults to `http://<name>`.
        endpoint: String,
        /// Event types it receives; all when empty.
        events: Vec<String>,
    }
}

section! {
    /// How OWNERS files are found and used.
    Owners {
        /// Orgs or repos whose markdown files may carry an OWNERS header.
        mdyamlrepos: Vec<String>,
        /// Orgs or repos where approve and lgtm trust OWNERS files only.
        skip_collaborators: Vec<String>,
        /// Labels OWNERS files may not set (default `approved`, `lgtm`; `None` when unset).
        labels_denylist: Option<Vec<String>>,
        /// Org or `org/repo` to the names of its OWNERS files.
        filenames: LenientMap<OwnersFilenames>,
    }
}

section! {
    /// Names of the OWNERS and OWNERS_ALIASES files.
    OwnersFilenames {
        /// Instead of `OWNERS`.
        owners: String,
        /// Instead of `OWNERS_ALIASES`.
        owners_aliases: String,
    }
}

section! {
    /// Settings of the approve plugin for some orgs or repos.
    Approve {
        /// `org` or `org/repo` entries.
        repos: Vec<String>,
        /// Whether approval needs a linked issue.
        issue_required: bool,
        /// Whether an approver-author must still `/approve` (default: no).
        require_self_approval: Option<bool>,
        /// Whether `/lgtm` from an approver also approves.
        lgtm_acts_as_approve: bool,
        /// Whether GitHub review states are ignored (default: no).
        ignore_review_state: Option<bool>,
        /// Link to the command help.
        #[serde(rename = "commandHelpLink")]
        command_help_link: String,
        /// Link to the review process.
        pr_process_link: String,
    }
}

section! {
    /// One blockade: changed paths that block PRs.
    Blockade {
        /// `org` or `org/repo` entries.
        repos: Vec<String>,
        /// Branches it applies to (all when unset).
        branchregexp: Option<String>,
        /// Paths to block.
        blockregexps: Vec<String>,
        /// Paths exempt from `blockregexps`.
        exceptionregexps: Vec<String>,
        /// Why, shown in the comment.
        explanation: String,
    }
}

section! {
    /// Reviewer requests of blunderbuss (and rifle, which has the same settings).
    Blunderbuss {
        /// How many reviewers to request (default 2).
        request_count: Option<i64>,
        /// At most this many (0: no limit).
        max_request_count: i64,
        /// Never request approvers.
        exclude_approvers: bool,
        /// Skip reviewers GitHub marks busy.
        use_status_availability: bool,
        /// Skip draft PRs.
        ignore_drafts: bool,
        /// PR authors for whom no reviewers are requested.
        ignore_authors: Vec<String>,
        /// Request only once a status context says reviews are missing.
        wait_for_status: Option<ContextMatch>,
    }
}

section! {
    /// A status context to wait for.
    ContextMatch {
        /// Context name (default `tide`).
        context: String,
        /// Regex over the description.
        description: String,
        /// State (default `pending`).
        state: String,
    }
}

section! {
    /// Bugzilla settings: global, per org, per repo, each per branch (`*` for all).
    Bugzilla {
        /// Branch (or `*`) to options, for every org.
        default: Option<LenientMap<BugzillaBranchOptions>>,
        /// Per-org settings.
        orgs: LenientMap<BugzillaOrg>,
    }
}

section! {
    /// Bugzilla settings of one org.
    BugzillaOrg {
        /// Branch (or `*`) to options.
        default: Option<LenientMap<BugzillaBranchOptions>>,
        /// Per-repo settings.
        repos: LenientMap<BugzillaRepo>,
    }
}

section! {
    /// Bugzilla settings of one repo.
    BugzillaRepo {
        /// Branch (or `*`) to options.
        branches: LenientMap<BugzillaBranchOptions>,
    }
}

section! {
    /// What makes a Bugzilla bug valid for a branch, and what happens to it.
    BugzillaBranchOptions {
        /// Ignore the options inherited from wider levels.
        exclude_defaults: Option<bool>,
        /// Allow cherry-pick clones of bugs.
        enable_backporting: Option<bool>,
        /// Validate bugs without a `/bugzilla refresh`.
        validate_by_default: Option<bool>,
        /// The bug must be open.
        is_open: Option<bool>,
        /// Required target release.
        target_release: Option<String>,
        /// Valid statuses (deprecated, use `valid_states`).
        statuses: Option<Vec<String>>,
        /// Valid states.
        valid_states: Option<Vec<BugzillaBugState>>,
        /// Valid statuses of dependent bugs (deprecated).
        dependent_bug_statuses: Option<Vec<String>>,
        /// Valid states of dependent bugs.
        dependent_bug_states: Option<Vec<BugzillaBugState>>,
        /// Valid target releases of dependent bugs.
        dependent_bug_target_releases: Option<Vec<String>>,
        /// One valid target release of dependent bugs (deprecated).
        dependent_bug_target_release: Option<String>,
        /// Status after validation (deprecated).
        status_after_validation: Option<String>,
        /// State after validation.
        state_after_validation: Option<BugzillaBugState>,
        /// Link the PR from the bug.
        add_external_link: Option<bool>,
        /// Status after merge (deprecated).
        status_after_merge: Option<String>,
        /// State after merge.
        state_after_merge: Option<BugzillaBugState>,
        /// State after the PR closes unmerged.
        state_after_close: Option<BugzillaBugState>,
        /// Bugzilla groups a bug may belong to.
        allowed_groups: Vec<String>,
    }
}

section! {
    /// A Bugzilla status with an optional resolution.
    BugzillaBugState {
        /// Status.
        status: String,
        /// Resolution.
        resolution: String,
    }
}

section! {
    /// The branchcleaner plugin.
    BranchCleaner {
        /// Org or `org/repo` to branches (names or regexes) never deleted.
        preserved_branches: LenientMap<Vec<String>>,
    }
}

section! {
    /// A plugin reading one secret file (cat, goose).
    KeyPath {
        /// Path of the API key file.
        key_path: String,
    }
}

section! {
    /// The goose plugin.
    Goose {
        /// Path of the unsplash.com API key file.
        key_path: String,
        /// Where to ask for a random image (our extension; default unsplash.com's random goose
        /// when `key_path` is set, else the built-in images).
        endpoint: String,
    }
}

section! {
    /// Where a picture plugin asks for a random image (our extension).
    ImageEndpoint {
        /// A URL answering unsplash.com's random-photo JSON (`{"urls": {"small": ...}}`); the
        /// built-in images when empty.
        endpoint: String,
    }
}

section! {
    /// The cherry-pick-approved plugin for one repo.
    CherryPickApproved {
        /// Org.
        org: String,
        /// Repo.
        repo: String,
        /// Branches (default `^release-.*$`).
        branchregexp: String,
        /// Who may approve.
        approvers: Vec<String>,
        /// Approve without the `approved` label.
        allow_missing_approved_label: bool,
        /// Approve without the `lgtm` label.
        allow_missing_lgtm_label: bool,
    }
}

section! {
    /// The cherry-pick-unapproved plugin.
    CherryPickUnapproved {
        /// Branches (default `^release-.*$`).
        branchregexp: String,
        /// Comment to post.
        comment: String,
    }
}

section! {
    /// The config-updater plugin.
    ConfigUpdater {
        /// Named groups of clusters and namespaces.
        cluster_groups: LenientMap<ClusterGroup>,
        /// File or glob to the ConfigMap it updates.
        maps: LenientMap<ConfigMapSpec>,
        /// Whether contents are gzipped (default for every map).
        gzip: bool,
    }
}

section! {
    /// Clusters and namespaces a ConfigMap goes to.
    ClusterGroup {
        /// Cluster aliases.
        clusters: Vec<String>,
        /// Namespaces.
        namespaces: Vec<String>,
    }
}

section! {
    /// One ConfigMap updated from a file or glob.
    ConfigMapSpec {
        /// ConfigMap name (exclusive with `partitioned_names`).
        name: String,
        /// Names of ConfigMaps the data is spread over.
        partitioned_names: Vec<String>,
        /// Key in the ConfigMap (default: the file's base name).
        key: String,
        /// Whether to gzip (default: the plugin's `gzip`).
        gzip: Option<bool>,
        /// Cluster alias to namespaces.
        clusters: LenientMap<Vec<String>>,
        /// Names of `cluster_groups` (exclusive with `clusters`).
        cluster_groups: Vec<String>,
        /// Use the file's full path as key.
        use_full_path_as_key: bool,
        /// Only these orgs or repos may update it.
        allowed_repos: Vec<String>,
        /// These orgs or repos may not update it.
        denied_repos: Vec<String>,
    }
}

section! {
    /// The dco plugin for one org or repo.
    Dco {
        /// Members need no sign-off.
        skip_dco_check_for_members: bool,
        /// Apps whose commits need no sign-off.
        trusted_apps: Vec<String>,
        /// Org whose members need no sign-off.
        trusted_org: String,
        /// Collaborators need no sign-off.
        skip_dco_check_for_collaborators: bool,
        /// Repo with the contributing guide.
        contributing_repo: String,
        /// Branch of that guide.
        contributing_branch: String,
        /// Path of that guide.
        contributing_path: String,
    }
}

section! {
    /// The golint plugin.
    Golint {
        /// Smallest confidence reported (default 0.8).
        minimum_confidence: Option<f64>,
    }
}

section! {
    /// The heart plugin.
    Heart {
        /// Users whose comments get a heart.
        adorees: Vec<String>,
        /// Comments that get a heart.
        commentregexp: String,
    }
}

section! {
    /// The label plugin.
    Label {
        /// Labels beyond the default ones that `/label` may set.
        additional_labels: Vec<String>,
        /// `*`, org or `org/repo` to labels only some people may set.
        restricted_labels: LenientMap<Vec<RestrictedLabel>>,
    }
}

section! {
    /// A label only some people may set.
    RestrictedLabel {
        /// The label.
        label: String,
        /// Teams allowed to set it.
        allowed_teams: Vec<String>,
        /// Users allowed to set it.
        allowed_users: Vec<String>,
        /// Labels whose addition assigns the allowed users.
        assign_on: Vec<AssignOnLabel>,
    }
}

section! {
    /// A label that assigns the allowed users of a restricted label.
    AssignOnLabel {
        /// The label.
        label: String,
    }
}

section! {
    /// Settings of the lgtm plugin for some orgs or repos.
    Lgtm {
        /// `org` or `org/repo` entries.
        repos: Vec<String>,
        /// An approving review counts as `/lgtm`.
        review_acts_as_lgtm: bool,
        /// Keep `lgtm` across pushes that keep the tree.
        store_tree_hash: bool,
        /// Team whose `lgtm` survives pushes.
        #[serde(rename = "trusted_team_for_sticky_lgtm")]
        sticky_lgtm_team: String,
    }
}

section! {
    /// The jira plugin.
    Jira {
        /// Projects whose keys are not linked.
        disabled_jira_projects: Vec<String>,
    }
}

section! {
    /// The release-note plugin.
    ReleaseNote {
        /// Link to the release-note guidelines.
        guidelines_url: String,
    }
}

section! {
    /// Who maintains milestones of a repo.
    Milestone {
        /// Team id (deprecated, use `maintainers_team`).
        maintainers_id: i64,
        /// Team slug.
        maintainers_team: String,
        /// Name used in comments (default `SIG Chairs/TLs`).
        maintainers_friendly_name: String,
    }
}

section! {
    /// The project plugin.
    ProjectConfig {
        /// Org to its project settings.
        #[serde(rename = "project_org_configs")]
        orgs: LenientMap<ProjectOrgConfig>,
    }
}

section! {
    /// Project settings of one org.
    ProjectOrgConfig {
        /// Team allowed to manage projects.
        #[serde(rename = "org_maintainers_team_id")]
        maintainer_team_id: i64,
        /// Project to default column.
        #[serde(rename = "org_default_column_map")]
        project_column_map: LenientMap<String>,
        /// Repo to its settings.
        #[serde(rename = "project_repo_configs")]
        repos: LenientMap<ProjectRepoConfig>,
    }
}

section! {
    /// Project settings of one repo.
    ProjectRepoConfig {
        /// Team allowed to manage projects.
        #[serde(rename = "repo_maintainers_team_id")]
        maintainer_team_id: i64,
        /// Project to default column.
        #[serde(rename = "repo_default_column_map")]
        project_column_map: LenientMap<String>,
    }
}

section! {
    /// The project-manager plugin.
    ProjectManager {
        /// Org or `org/repo` to managed projects.
        #[serde(rename = "orgsRepos")]
        org_repos: LenientMap<ManagedOrgRepo>,
    }
}

section! {
    /// Projects managed for one org or repo.
    ManagedOrgRepo {
        /// Project name to its columns.
        projects: LenientMap<ManagedProject>,
    }
}

section! {
    /// One managed project.
    ManagedProject {
        /// Its columns.
        columns: Vec<ManagedColumn>,
    }
}

section! {
    /// A project column and the labels that put cards in it.
    ManagedColumn {
        /// Column id (or `name`).
        id: Option<i64>,
        /// Column name (or `id`).
        name: String,
        /// Issue state.
        state: String,
        /// Labels that move a card here.
        labels: Vec<String>,
        /// Org of the project.
        org: String,
    }
}

section! {
    /// The require-matching-label plugin: one rule.
    RequireMatchingLabel {
        /// Org (required).
        org: String,
        /// Repo name without the org (all repos when empty).
        repo: String,
        /// Branch of PRs (all when empty).
        branch: String,
        /// Applies to PRs.
        prs: bool,
        /// Applies to issues.
        issues: bool,
        /// Labels that satisfy the rule.
        regexp: String,
        /// Label added when none matches.
        missing_label: String,
        /// Comment posted when none matches.
        missing_comment: String,
        /// How long to wait for other plugins (default `5s`).
        grace_period: String,
    }
}

section! {
    /// The retitle plugin.
    Retitle {
        /// Closed issues and PRs may be retitled.
        allow_closed_issues: bool,
    }
}

section! {
    /// The slackevents plugin.
    Slack {
        /// Channels whose mentions are relayed.
        mentionchannels: Vec<String>,
        /// Warnings about merges outside the merge bot.
        mergewarnings: Vec<MergeWarning>,
    }
}

section! {
    /// One merge-warning rule.
    MergeWarning {
        /// `org` or `org/repo` entries.
        repos: Vec<String>,
        /// Channels to warn on.
        channels: Vec<String>,
        /// Users who may merge.
        exempt_users: Vec<String>,
        /// Branch to users who may merge there.
        exempt_branches: LenientMap<Vec<String>>,
    }
}

section! {
    /// The sigmention plugin.
    SigMention {
        /// Regex of team mentions.
        regexp: String,
    }
}

section! {
    /// Lower bounds (lines changed) of each size label; XS starts at 0.
    Size {
        /// Size S.
        s: i64,
        /// Size M.
        m: i64,
        /// Size L.
        l: i64,
        /// Size XL.
        xl: i64,
        /// Size XXL.
        xxl: i64,
    }
}

section! {
    /// Settings of the trigger plugin for some orgs or repos.
    Trigger {
        /// `org` or `org/repo` entries.
        repos: Vec<String>,
        /// GitHub apps whose PRs are trusted.
        trusted_apps: Vec<String>,
        /// Org whose members are trusted (deprecated).
        trusted_org: String,
        /// Where to join the org (default from `trusted_org`).
        join_org_url: String,
        /// Only org members are trusted, not collaborators.
        only_org_members: bool,
        /// Ignore `/ok-to-test`.
        ignore_ok_to_test: bool,
        /// Also re-run GitHub workflows on `/retest`.
        trigger_github_workflows: bool,
        /// How untrusted authors are invited to the org.
        org_invite: OrgInviteConfig,
    }
}

section! {
    /// How untrusted authors are invited to the org.
    OrgInviteConfig {
        /// The prominent invitation.
        prominent: ProminentOrgInviteConfig,
    }
}

section! {
    /// The prominent invitation of frequent contributors.
    ProminentOrgInviteConfig {
        /// Turns it off.
        disabled: bool,
        /// Merged PRs before the invitation (default 3).
        merged_pr_threshold: Option<i64>,
        /// Text of the invitation.
        message: String,
    }
}

section! {
    /// Settings of the welcome plugin for some orgs or repos.
    Welcome {
        /// `org` or `org/repo` entries.
        repos: Vec<String>,
        /// Go template of the message.
        message_template: String,
        /// Post even when the author is not new.
        always_post: bool,
    }
}

section! {
    /// The override plugin.
    Override {
        /// Top-level OWNERS approvers may override.
        allow_top_level_owners: bool,
        /// Org or `org/repo` to teams that may override.
        allowed_github_teams: LenientMap<Vec<String>>,
    }
}

section! {
    /// The help plugin.
    Help {
        /// Link to the help-wanted guidelines.
        help_guidelines_url: String,
        /// Summary of those guidelines.
        help_guidelines_summary: String,
    }
}

section! {
    /// Settings of the invalidcommitmsg plugin for some orgs or repos.
    InvalidCommitMsg {
        /// `org` or `org/repo` entries.
        repos: Vec<String>,
        /// Checks, each of which may be disabled.
        checks: Vec<InvalidCommitMsgCheck>,
    }
}

impl InvalidCommitMsg {
    /// Whether check `name` is turned off (upstream `IsCheckDisabled`).
    pub fn is_check_disabled(&self, name: &str) -> bool {
        self.checks
            .iter()
            .find(|c| c.name == name)
            .is_some_and(|c| c.disabled)
    }
}

section! {
    /// One check of invalidcommitmsg.
    InvalidCommitMsgCheck {
        /// `fixupPrefix` or `issueClosingKeywords`.
        name: String,
        /// Skip it.
        disabled: bool,
    }
}
