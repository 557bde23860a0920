//! How plugins find `/command`s in comments: exactly as Prow's plugins do, each with its own
//! upstream regexes, copied verbatim and read with Go's semantics ([`GoRegex`]).
//!
//! Every upstream command regex is anchored at the start of a line (`(?m)^/lgtm`): a command
//! counts only when its `/` is the line's first character. So an indented command (`    /lgtm`,
//! which Markdown shows as code), a quoted one (`> /lgtm`) or one after other text on its line
//! (`<!-- /lgtm -->`) never acts. Case rules, arguments and `\r` handling are each regex's own:
//! most are `(?i)`, while label's, milestone's and trigger's are case-sensitive.
//!
//! What text each plugin reads is upstream's too:
//! - trigger drops fenced code blocks first (upstream `markdown.DropCodeBlock`,
//!   [`prow_config::drop_code_block`]) but builds its job filter from the whole comment;
//! - label removes HTML comments first (`<!-- ... -->`), so a command inside one is ignored and
//!   `<!-- x -->/kind bug` is a command;
//! - every other plugin reads the comment as it is: a line `/lgtm` inside a ```` ``` ```` fence or
//!   inside a multi-line `<!-- -->` comment does act, as in Prow.
//!
//! [`command_regexes`] lists every plugin's command regexes with their upstream source, for
//! the table test that holds them to upstream's.
//!
//! Deviations from upstream in what counts as a command: none known. Regexes that come from
//! the configuration rather than from upstream's code compile through the same Go reading for
//! presubmit triggers only; heart's `commentregexp`, require-matching-label's `regexp` and the
//! branch and change rules still use Rust's Unicode `\s`, `\d`, `\w`.

pub use prow_config::GoRegex;

/// The part of `body` where a command can be: from the start of its first line that begins
/// with `/` to the end, or nothing when no line does (most comments).
///
/// Every command regex matches from a line start with `/`, and a match only extends forward,
/// so a plugin matching its regexes against this text finds exactly the matches it would find
/// in the whole body; the hook computes it once per event ([`super::Context::commands`]) and a
/// plugin with nothing to look at stops at once. Regexes that are not anchored that way
/// (presubmit triggers from the configuration, label after removing HTML comments) read the
/// whole comment instead.
pub fn command_lines(body: &str) -> String {
    let start = if body.starts_with('/') {
        Some(0)
    } else {
        body.find("\n/").map(|i| i + 1)
    };
    start.map_or_else(String::new, |i| body[i..].to_owned())
}

/// One command regex of a built-in plugin.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct CommandRegex {
    /// The plugin's name in `plugins.yaml`.
    pub plugin: &'static str,
    /// Upstream's name for the regex (`LGTMRe`).
    pub name: &'static str,
    /// The regex, with its upstream source file and pattern.
    pub regex: &'static GoRegex,
}

/// Every command regex of every built-in plugin, in plugin order.
pub fn command_regexes() -> Vec<CommandRegex> {
    use crate::plugins::*;
    let table: &[(&'static str, &'static str, &'static GoRegex)] = &[
        ("approve", "commandRegex", &approve::COMMAND_RE),
        ("assign", "assignRe", &assign::ASSIGN_RE),
        ("assign", "CCRegexp", &assign::CC_RE),
        ("blunderbuss", "AutoCCMatch", &blunderbuss::AUTO_CC_RE),
        ("bugzilla", "refreshCommandMatch", &bugzilla::REFRESH_RE),
        ("bugzilla", "qaAssignCommandMatch", &bugzilla::ASSIGN_QA_RE),
        ("bugzilla", "qaReviewCommandMatch", &bugzilla::CC_QA_RE),
        ("buildifier", "buildifyRe", &buildifier::BUILDIFY_RE),
        ("cat", "match", &cat::MEOW_RE),
        (
            "cherrypicker",
            "cherryPickRe",
            &cherrypicker::CHERRY_PICK_RE,
        ),
        ("cla", "checkCLARe", &cla::CHECK_CLA_RE),
        ("dco", "checkDCORe", &dco::CHECK_DCO_RE),
        ("dog", "match", &dog::WOOF_RE),
        ("dog", "fineRegex", &dog::FINE_RE),
        ("dog", "notFineRegex", &dog::NOT_FINE_RE),
        ("dog", "unbearableRegex", &dog::UNBEARABLE_RE),
        ("golint", "lintRe", &golint::LINT_RE),
        ("goose", "match", &goose::HONK_RE),
        ("help", "helpRe", &help::HELP_RE),
        ("help", "helpRemoveRe", &help::REMOVE_HELP_RE),
        ("help", "helpGoodFirstIssueRe", &help::GOOD_FIRST_ISSUE_RE),
        (
            "help",
            "helpGoodFirstIssueRemoveRe",
            &help::REMOVE_GOOD_FIRST_ISSUE_RE,
        ),
        ("hold", "labelRe", &hold::HOLD_RE),
        ("hold", "labelCancelRe", &hold::HOLD_CANCEL_RE),
        // issue-management: transfer, pin.
        (
            "issue-management",
            "linkIssueRegex",
            &issue_management::LINK_ISSUE_RE,
        ),
        (
            "issue-management",
            "unlinkIssueRegex",
            &issue_management::UNLINK_ISSUE_RE,
        ),
        ("issue-management", "pinRegex", &issue_management::PIN_RE),
        (
            "issue-management",
            "unpinRegex",
            &issue_management::UNPIN_RE,
        ),
        (
            "issue-management",
            "transferRegex",
            &issue_management::TRANSFER_RE,
        ),
        ("label", "labelRegex", &label::LABEL_RE),
        ("label", "removeLabelRegex", &label::REMOVE_LABEL_RE),
        ("label", "customLabelRegex", &label::CUSTOM_LABEL_RE),
        (
            "label",
            "customRemoveLabelRegex",
            &label::CUSTOM_REMOVE_LABEL_RE,
        ),
        ("lgtm", "LGTMRe", &lgtm::LGTM_RE),
        ("lgtm", "LGTMCancelRe", &lgtm::LGTM_CANCEL_RE),
        ("lifecycle", "lifecycleRe", &lifecycle::LIFECYCLE_RE),
        ("lifecycle", "closeRe", &lifecycle::CLOSE_RE),
        (
            "lifecycle",
            "closeNotPlannedRe",
            &lifecycle::CLOSE_NOT_PLANNED_RE,
        ),
        ("lifecycle", "reopenRe", &lifecycle::REOPEN_RE),
        ("milestone", "milestoneRegex", &milestone::MILESTONE_RE),
        (
            "milestonestatus",
            "statusRegex",
            &milestonestatus::STATUS_RE,
        ),
        ("override", "overrideRe", &override_::OVERRIDE_RE),
        (
            "override",
            "overrideCancelRe",
            &override_::OVERRIDE_CANCEL_RE,
        ),
        (
            "override",
            "overrideStickyRe",
            &override_::OVERRIDE_STICKY_RE,
        ),
        ("pony", "match", &pony::PONY_RE),
        ("project", "projectRegex", &project::PROJECT_RE),
        ("refresh", "refreshRe", &refresh::REFRESH_RE),
        ("retitle", "retitleRe", &retitle::RETITLE_RE),
        (
            "release-note",
            "releaseNoteRe",
            &release_note::RELEASE_NOTE_RE,
        ),
        (
            "release-note",
            "releaseNoteEditRe",
            &release_note::RELEASE_NOTE_EDIT_RE,
        ),
        (
            "release-note",
            "releaseNoteNoneRe",
            &release_note::RELEASE_NOTE_NONE_RE,
        ),
        (
            "release-note",
            "releaseNoteActionRequiredRe",
            &release_note::RELEASE_NOTE_ACTION_REQUIRED_RE,
        ),
        (
            "require-matching-label",
            "checkRequireLabelsRe",
            &require_matching_label::CHECK_REQUIRED_LABELS_RE,
        ),
        ("shrug", "shrugRe", &shrug::SHRUG_RE),
        ("shrug", "unshrugRe", &shrug::UNSHRUG_RE),
        ("skip", "skipRe", &skip::SKIP_RE),
        ("stage", "stageRe", &stage::STAGE_RE),
        ("trigger", "RetestRe", &prow_config::filter::RETEST_RE),
        (
            "trigger",
            "RetestRequiredRe",
            &prow_config::filter::RETEST_REQUIRED_RE,
        ),
        (
            "trigger",
            "TestManualRequiredRe",
            &prow_config::filter::TEST_MANUAL_REQUIRED_RE,
        ),
        ("trigger", "OkToTestRe", &prow_config::filter::OK_TO_TEST_RE),
        (
            "trigger",
            "OkToTestCancelRe",
            &prow_config::filter::OK_TO_TEST_CANCEL_RE,
        ),
        ("trigger", "TestAllRe", &prow_config::filter::TEST_ALL_RE),
        ("trigger", "TestHelpRe", &prow_config::filter::TEST_HELP_RE),
        (
            "trigger",
            "EmptyTestRe",
            &prow_config::filter::EMPTY_TEST_RE,
        ),
        (
            "trigger",
            "RetestWithTargetRe",
            &prow_config::filter::RETEST_WITH_TARGET_RE,
        ),
        (
            "trigger",
            "TestWithAnyTargetRe",
            &prow_config::filter::TEST_WITH_ANY_TARGET_RE,
        ),
        ("trigger", "anyTestRe", &prow_config::filter::ANY_TEST_RE),
        (
            "verify-owners",
            "verifyOwnersRe",
            &verify_owners::VERIFY_OWNERS_RE,
        ),
        (
            "trick-or-treat",
            "match",
            &trick_or_treat::TRICK_OR_TREAT_RE,
        ),
        ("yuks", "match", &yuks::JOKE_RE),
    ];
    table
        .iter()
        .map(|&(plugin, name, regex)| CommandRegex {
            plugin,
            name,
            regex,
        })
        .collect()
}
