//! Every plugin's command regexes held to upstream's: each is the pattern upstream writes in
//! its source (copied here from kubernetes-sigs/prow, not from our code), and each command is
//! tried plain and in eight variants (indented by one and four spaces, quoted, in an inline and
//! a multi-line HTML comment, in a ``` fence, with CRLF line ends, upper-cased). The expected
//! outcome of every variant is data in [`TABLE`], worked out from upstream's regex and the text
//! upstream's plugin reads: every pattern is anchored at a line start (`(?m)^/`), so indented,
//! quoted and inline commands never act; trigger drops fenced code blocks
//! (`markdown.DropCodeBlock`) and label drops HTML comments (`commentRegex`) before matching,
//! every other plugin reads the comment as it is; only `(?i)` patterns (and approve, which
//! upper-cases what it matched) take upper-case commands.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use prow_plugins::commands::{self, GoRegex};
use prow_plugins::plugins::issue_management::{self, Command, transfer_issue};
use prow_plugins::plugins::{
    approve, assign, blunderbuss, bugzilla, buildifier, cat, cherrypicker, cla, dco, dog, golint,
    goose, help, hold, label, lgtm, lifecycle, milestone, milestonestatus, override_, pony,
    project, refresh, release_note, require_matching_label, retitle, shrug, skip, stage,
    trick_or_treat, verify_owners, yuks,
};
use prow_server::hook::Options;

use crate::plugins_approve::review;
use crate::plugins_common::request;
use crate::plugins_misc_support::InProcess;
use crate::support::{
    CONFIG, PLUGINS, Server, comment, comments, github, hook_config, job_names, labels, opened,
};

/// Every command regex: plugin, upstream's name for it, upstream's file, upstream's pattern.
const UPSTREAM: &[(&str, &str, &str, &str)] = &[
    (
        "approve",
        "commandRegex",
        "pkg/plugins/approve/approve.go",
        r"(?m)^/([^\s]+)[\t ]*([^\n\r]*)",
    ),
    (
        "assign",
        "assignRe",
        "pkg/plugins/assign/assign.go",
        r"(?mi)^/(un)?assign(( @?[-\w]+?)*)\s*$",
    ),
    (
        "assign",
        "CCRegexp",
        "pkg/plugins/assign/assign.go",
        r"(?mi)^/(un)?cc(( +@?[-/\w]+?)*)\s*$",
    ),
    (
        "blunderbuss",
        "AutoCCMatch",
        "pkg/reviewer/reviewer.go",
        r"(?mi)^/auto-cc\s*$",
    ),
    (
        "bugzilla",
        "refreshCommandMatch",
        "pkg/plugins/bugzilla/bugzilla.go",
        r"(?mi)^/bugzilla refresh\s*$",
    ),
    (
        "bugzilla",
        "qaAssignCommandMatch",
        "pkg/plugins/bugzilla/bugzilla.go",
        r"(?mi)^/bugzilla assign-qa\s*$",
    ),
    (
        "bugzilla",
        "qaReviewCommandMatch",
        "pkg/plugins/bugzilla/bugzilla.go",
        r"(?mi)^/bugzilla cc-qa\s*$",
    ),
    (
        "cat",
        "match",
        "pkg/plugins/cat/cat.go",
        r"(?mi)^/meow(vie)?(?: (.+))?\s*$",
    ),
    (
        "cherrypicker",
        "cherryPickRe",
        "cmd/external-plugins/cherrypicker/server.go",
        r"(?m)^(?:/cherrypick|/cherry-pick)\s+(.+)$",
    ),
    (
        "cla",
        "checkCLARe",
        "pkg/plugins/cla/cla.go",
        r"(?mi)^/check-cla\s*$",
    ),
    (
        "dco",
        "checkDCORe",
        "pkg/plugins/dco/dco.go",
        r"(?mi)^/check-dco\s*$",
    ),
    (
        "dog",
        "match",
        "pkg/plugins/dog/dog.go",
        r"(?mi)^/(woof|bark)\s*$",
    ),
    (
        "dog",
        "fineRegex",
        "pkg/plugins/dog/dog.go",
        r"(?mi)^/this-is-fine\s*$",
    ),
    (
        "dog",
        "notFineRegex",
        "pkg/plugins/dog/dog.go",
        r"(?mi)^/this-is-not-fine\s*$",
    ),
    (
        "dog",
        "unbearableRegex",
        "pkg/plugins/dog/dog.go",
        r"(?mi)^/this-is-unbearable\s*$",
    ),
    (
        "buildifier",
        "buildifyRe",
        "pkg/plugins/buildifier/buildifier.go",
        r"(?mi)^/buildif(y|ier)\s*$",
    ),
    (
        "golint",
        "lintRe",
        "pkg/plugins/golint/golint.go",
        r"(?mi)^/lint\s*$",
    ),
    (
        "goose",
        "match",
        "pkg/plugins/goose/goose.go",
        r"(?mi)^/(honk)\s*$",
    ),
    (
        "help",
        "helpRe",
        "pkg/plugins/help/help.go",
        r"(?mi)^/help\s*$",
    ),
    (
        "help",
        "helpRemoveRe",
        "pkg/plugins/help/help.go",
        r"(?mi)^/remove-help\s*$",
    ),
    (
        "help",
        "helpGoodFirstIssueRe",
        "pkg/plugins/help/help.go",
        r"(?mi)^/good-first-issue\s*$",
    ),
    (
        "help",
        "helpGoodFirstIssueRemoveRe",
        "pkg/plugins/help/help.go",
        r"(?mi)^/remove-good-first-issue\s*$",
    ),
    (
        "hold",
        "labelRe",
        "pkg/plugins/hold/hold.go",
        r"(?mi)^/hold(\s.*)?$",
    ),
    (
        "hold",
        "labelCancelRe",
        "pkg/plugins/hold/hold.go",
        r"(?mi)^/(remove-hold|hold\s+cancel|unhold)(\s.*)?$",
    ),
    // issue-management: transfer, pin.
    (
        "issue-management",
        "linkIssueRegex",
        "pkg/plugins/issue-management/issue_management.go",
        r"(?mi)^/link-issue\s+(.+)$",
    ),
    (
        "issue-management",
        "unlinkIssueRegex",
        "pkg/plugins/issue-management/issue_management.go",
        r"(?mi)^/unlink-issue\s+(.+)$",
    ),
    (
        "issue-management",
        "pinRegex",
        "pkg/plugins/issue-management/issue_management.go",
        r"(?mi)^/pin-issue\s*$",
    ),
    (
        "issue-management",
        "unpinRegex",
        "pkg/plugins/issue-management/issue_management.go",
        r"(?mi)^/unpin-issue\s*$",
    ),
    (
        "issue-management",
        "transferRegex",
        "pkg/plugins/issue-management/issue_management.go",
        r"(?mi)^/transfer(?:-issue)?(?: +(.*))?$",
    ),
    (
        "label",
        "labelRegex",
        "pkg/plugins/label/label.go",
        r"(?m)^/(area|committee|kind|language|priority|sig|triage|wg)\s*(.*?)\s*$",
    ),
    (
        "label",
        "removeLabelRegex",
        "pkg/plugins/label/label.go",
        r"(?m)^/remove-(area|committee|kind|language|priority|sig|triage|wg)\s*(.*?)\s*$",
    ),
    (
        "label",
        "customLabelRegex",
        "pkg/plugins/label/label.go",
        r"(?m)^/label\s*(.*?)\s*$",
    ),
    (
        "label",
        "customRemoveLabelRegex",
        "pkg/plugins/label/label.go",
        r"(?m)^/remove-label\s*(.*?)\s*$",
    ),
    (
        "lgtm",
        "LGTMRe",
        "pkg/plugins/lgtm/lgtm.go",
        r"(?mi)^/lgtm(?: no-issue)?\s*$",
    ),
    (
        "lgtm",
        "LGTMCancelRe",
        "pkg/plugins/lgtm/lgtm.go",
        r"(?mi)^/(remove-lgtm|lgtm cancel)\s*$",
    ),
    (
        "lifecycle",
        "lifecycleRe",
        "pkg/plugins/lifecycle/lifecycle.go",
        r"(?mi)^/(remove-)?lifecycle (active|frozen|stale|rotten)\s*$",
    ),
    (
        "lifecycle",
        "closeRe",
        "pkg/plugins/lifecycle/close.go",
        r"(?mi)^/close\s*$",
    ),
    (
        "lifecycle",
        "closeNotPlannedRe",
        "pkg/plugins/lifecycle/close.go",
        r"(?mi)^/close not-planned\s*$",
    ),
    (
        "lifecycle",
        "reopenRe",
        "pkg/plugins/lifecycle/reopen.go",
        r"(?mi)^/reopen\s*$",
    ),
    (
        "milestone",
        "milestoneRegex",
        "pkg/plugins/milestone/milestone.go",
        r"(?m)^/milestone\s+(.+?)\s*$",
    ),
    (
        "project",
        "projectRegex",
        "pkg/plugins/project/project.go",
        r"(?m)^/project\s(.*?)$",
    ),
    (
        "milestonestatus",
        "statusRegex",
        "pkg/plugins/milestonestatus/milestonestatus.go",
        r"(?m)^/status\s+(.+)$",
    ),
    (
        "override",
        "overrideRe",
        "pkg/plugins/override/override.go",
        r"(?mi)^/override( ([^\r\n]+))?[\r\n]?$",
    ),
    (
        "override",
        "overrideCancelRe",
        "pkg/plugins/override/override.go",
        r"(?mi)^/override-cancel( ([^\r\n]+))?[\r\n]?$",
    ),
    (
        "override",
        "overrideStickyRe",
        "pkg/plugins/override/override.go",
        r"(?mi)^/override-sticky( ([^\r\n]+))?[\r\n]?$",
    ),
    (
        "pony",
        "match",
        "pkg/plugins/pony/pony.go",
        r"(?mi)^/(?:pony)(?: +(.+?))?\s*$",
    ),
    (
        "refresh",
        "refreshRe",
        "cmd/external-plugins/refresh/server.go",
        r"(?mi)^/refresh\s*$",
    ),
    (
        "retitle",
        "retitleRe",
        "pkg/plugins/retitle/retitle.go",
        r"(?mi)^/retitle\s*(.*)$",
    ),
    (
        "release-note",
        "releaseNoteRe",
        "pkg/plugins/releasenote/releasenote.go",
        r"(?mi)^/release-note\s*$",
    ),
    (
        "release-note",
        "releaseNoteEditRe",
        "pkg/plugins/releasenote/releasenote.go",
        r"(?mi)^/release-note-edit\s*$",
    ),
    (
        "release-note",
        "releaseNoteNoneRe",
        "pkg/plugins/releasenote/releasenote.go",
        r"(?mi)^/release-note-none\s*$",
    ),
    (
        "release-note",
        "releaseNoteActionRequiredRe",
        "pkg/plugins/releasenote/releasenote.go",
        r"(?mi)^/release-note-action-required\s*$",
    ),
    (
        "require-matching-label",
        "checkRequireLabelsRe",
        "pkg/plugins/require-matching-label/require-matching-label.go",
        r"(?mi)^/check-required-labels\s*$",
    ),
    (
        "shrug",
        "shrugRe",
        "pkg/plugins/shrug/shrug.go",
        r"(?mi)^/shrug\s*$",
    ),
    (
        "shrug",
        "unshrugRe",
        "pkg/plugins/shrug/shrug.go",
        r"(?mi)^/unshrug\s*$",
    ),
    (
        "skip",
        "skipRe",
        "pkg/plugins/skip/skip.go",
        r"(?mi)^/skip\s*$",
    ),
    (
        "stage",
        "stageRe",
        "pkg/plugins/stage/stage.go",
        r"(?mi)^/(remove-)?stage (alpha|beta|stable)\s*$",
    ),
    (
        "trigger",
        "RetestRe",
        "pkg/pjutil/filter.go",
        r"(?m)^/retest\s*$",
    ),
    (
        "trigger",
        "RetestRequiredRe",
        "pkg/pjutil/filter.go",
        r"(?m)^/retest-required\s*$",
    ),
    (
        "trigger",
        "TestManualRequiredRe",
        "pkg/pjutil/filter.go",
        r"(?m)^/test-manual-required\s*$",
    ),
    (
        "trigger",
        "OkToTestRe",
        "pkg/pjutil/filter.go",
        r"(?m)^/ok-to-test\s*$",
    ),
    (
        "trigger",
        "OkToTestCancelRe",
        "pkg/pjutil/filter.go",
        r"(?m)^/ok-to-test\s+cancel\s*$",
    ),
    (
        "trigger",
        "TestAllRe",
        "pkg/pjutil/filter.go",
        r"(?m)^/test all,?($|\s.*)",
    ),
    (
        "trigger",
        "TestHelpRe",
        "pkg/pjutil/help.go",
        r"(?m)^/test[ \t]*\?\s*$",
    ),
    (
        "trigger",
        "EmptyTestRe",
        "pkg/pjutil/help.go",
        r"(?m)^/test\s*$",
    ),
    (
        "trigger",
        "RetestWithTargetRe",
        "pkg/pjutil/help.go",
        r"(?m)^/retest[ \t]+\S+",
    ),
    (
        "trigger",
        "TestWithAnyTargetRe",
        "pkg/pjutil/help.go",
        r"(?m)^/test[ \t]+\S+",
    ),
    (
        "trigger",
        "anyTestRe",
        "pkg/pjutil/help.go",
        r"(?m)^/(?:re)?test\b",
    ),
    (
        "trick-or-treat",
        "match",
        "pkg/plugins/trick-or-treat/trick-or-treat.go",
        r"(?mi)^/trick(\-)?or(\-)?treat(?: (.+))?\s*$",
    ),
    (
        "verify-owners",
        "verifyOwnersRe",
        "pkg/plugins/verify-owners/verify-owners.go",
        r"(?mi)^/verify-owners\s*$",
    ),
    (
        "yuks",
        "match",
        "pkg/plugins/yuks/yuks.go",
        r"(?mi)^/joke\s*$",
    ),
];

/// The variants, in the column order of [`TABLE`].
const VARIANTS: [&str; 9] = [
    "plain", "indent 1", "indent 4", "quoted", "inline", "block", "fenced", "crlf", "upper",
];

/// `variant`'s text for `command`.
fn variant(name: &str, command: &str) -> String {
    match name {
        "plain" => command.to_owned(),
        "indent 1" => format!(" {command}"),
        "indent 4" => format!("Looks good.\n\n    {command}\n"),
        "quoted" => format!("> {command}\n\nAgreed."),
        "inline" => format!("<!-- {command} -->"),
        "block" => format!("<!--\n{command}\n-->"),
        "fenced" => format!("Try:\n```\n{command}\n```\n"),
        "crlf" => format!("Thanks!\r\n{command}\r\nBye."),
        "upper" => command.to_uppercase(),
        other => unreachable!("no variant {other}"),
    }
}

/// For each regex, a command it matches and whether the plugin acts on each variant (`Y`) or
/// not (`-`), column by column as [`VARIANTS`].
const TABLE: &str = "
plugin                 | regex                       | command                        | plain ind1 ind4 quote inline block fence crlf upper
approve                | commandRegex                | /approve                       | Y     -    -    -     -      Y     Y     Y    Y
approve                | commandRegex                | /approve cancel                | Y     -    -    -     -      Y     Y     Y    Y
assign                 | assignRe                    | /assign @alice                 | Y     -    -    -     -      Y     Y     Y    Y
assign                 | CCRegexp                    | /cc @alice                     | Y     -    -    -     -      Y     Y     Y    Y
blunderbuss            | AutoCCMatch                 | /auto-cc                       | Y     -    -    -     -      Y     Y     Y    Y
bugzilla               | refreshCommandMatch         | /bugzilla refresh              | Y     -    -    -     -      Y     Y     Y    Y
bugzilla               | qaAssignCommandMatch        | /bugzilla assign-qa            | Y     -    -    -     -      Y     Y     Y    Y
bugzilla               | qaReviewCommandMatch        | /bugzilla cc-qa                | Y     -    -    -     -      Y     Y     Y    Y
buildifier             | buildifyRe                  | /buildify                      | Y     -    -    -     -      Y     Y     Y    Y
buildifier             | buildifyRe                  | /buildifier                    | Y     -    -    -     -      Y     Y     Y    Y
cat                    | match                       | /meowvie clothes               | Y     -    -    -     -      Y     Y     Y    Y
cherrypicker           | cherryPickRe                | /cherrypick release-1.0        | Y     -    -    -     -      Y     Y     Y    -
cla                    | checkCLARe                  | /check-cla                     | Y     -    -    -     -      Y     Y     Y    Y
dco                    | checkDCORe                  | /check-dco                     | Y     -    -    -     -      Y     Y     Y    Y
dog                    | match                       | /woof                          | Y     -    -    -     -      Y     Y     Y    Y
dog                    | fineRegex                   | /this-is-fine                  | Y     -    -    -     -      Y     Y     Y    Y
dog                    | notFineRegex                | /this-is-not-fine              | Y     -    -    -     -      Y     Y     Y    Y
dog                    | unbearableRegex             | /this-is-unbearable            | Y     -    -    -     -      Y     Y     Y    Y
golint                 | lintRe                      | /lint                          | Y     -    -    -     -      Y     Y     Y    Y
goose                  | match                       | /honk                          | Y     -    -    -     -      Y     Y     Y    Y
help                   | helpRe                      | /help                          | Y     -    -    -     -      Y     Y     Y    Y
help                   | helpRemoveRe                | /remove-help                   | Y     -    -    -     -      Y     Y     Y    Y
help                   | helpGoodFirstIssueRe        | /good-first-issue              | Y     -    -    -     -      Y     Y     Y    Y
help                   | helpGoodFirstIssueRemoveRe  | /remove-good-first-issue       | Y     -    -    -     -      Y     Y     Y    Y
hold                   | labelRe                     | /hold                          | Y     -    -    -     -      Y     Y     Y    Y
hold                   | labelCancelRe               | /hold cancel                   | Y     -    -    -     -      Y     Y     Y    Y
hold                   | labelCancelRe               | /unhold                        | Y     -    -    -     -      Y     Y     Y    Y
issue-management       | linkIssueRegex              | /link-issue 123                | Y     -    -    -     -      Y     Y     Y    Y
issue-management       | unlinkIssueRegex            | /unlink-issue o/r#123          | Y     -    -    -     -      Y     Y     Y    Y
issue-management       | pinRegex                    | /pin-issue                     | Y     -    -    -     -      Y     Y     Y    Y
issue-management       | unpinRegex                  | /unpin-issue                   | Y     -    -    -     -      Y     Y     Y    Y
issue-management       | transferRegex               | /transfer-issue kubectl        | Y     -    -    -     -      Y     Y     Y    Y
issue-management       | transferRegex               | /transfer test-infra           | Y     -    -    -     -      Y     Y     Y    Y
label                  | labelRegex                  | /kind bug                      | Y     -    -    -     -      -     Y     Y    -
label                  | removeLabelRegex            | /remove-sig node               | Y     -    -    -     -      -     Y     Y    -
label                  | customLabelRegex            | /label tide/merge-squash       | Y     -    -    -     -      -     Y     Y    -
label                  | customRemoveLabelRegex      | /remove-label tide/merge-squash| Y     -    -    -     -      -     Y     Y    -
lgtm                   | LGTMRe                      | /lgtm                          | Y     -    -    -     -      Y     Y     Y    Y
lgtm                   | LGTMCancelRe                | /lgtm cancel                   | Y     -    -    -     -      Y     Y     Y    Y
lifecycle              | lifecycleRe                 | /lifecycle frozen              | Y     -    -    -     -      Y     Y     Y    Y
lifecycle              | closeRe                     | /close                         | Y     -    -    -     -      Y     Y     Y    Y
lifecycle              | closeNotPlannedRe           | /close not-planned             | Y     -    -    -     -      Y     Y     Y    Y
lifecycle              | reopenRe                    | /reopen                        | Y     -    -    -     -      Y     Y     Y    Y
milestone              | milestoneRegex              | /milestone v1.0                | Y     -    -    -     -      Y     Y     Y    -
milestonestatus        | statusRegex                 | /status in-review              | Y     -    -    -     -      Y     Y     Y    -
override               | overrideRe                  | /override ci/unit              | Y     -    -    -     -      Y     Y     Y    Y
override               | overrideCancelRe            | /override-cancel               | Y     -    -    -     -      Y     Y     Y    Y
override               | overrideStickyRe            | /override-sticky ci/unit       | Y     -    -    -     -      Y     Y     Y    Y
pony                   | match                       | /pony                          | Y     -    -    -     -      Y     Y     Y    Y
project                | projectRegex                | /project 0.5.0 To do           | Y     -    -    -     -      Y     Y     Y    -
refresh                | refreshRe                   | /refresh                       | Y     -    -    -     -      Y     Y     Y    Y
retitle                | retitleRe                   | /retitle New title             | Y     -    -    -     -      Y     Y     Y    Y
release-note           | releaseNoteRe               | /release-note                  | Y     -    -    -     -      Y     Y     Y    Y
release-note           | releaseNoteEditRe           | /release-note-edit             | Y     -    -    -     -      Y     Y     Y    Y
release-note           | releaseNoteNoneRe           | /release-note-none             | Y     -    -    -     -      Y     Y     Y    Y
release-note           | releaseNoteActionRequiredRe | /release-note-action-required  | Y     -    -    -     -      Y     Y     Y    Y
require-matching-label | checkRequireLabelsRe        | /check-required-labels         | Y     -    -    -     -      Y     Y     Y    Y
shrug                  | shrugRe                     | /shrug                         | Y     -    -    -     -      Y     Y     Y    Y
shrug                  | unshrugRe                   | /unshrug                       | Y     -    -    -     -      Y     Y     Y    Y
skip                   | skipRe                      | /skip                          | Y     -    -    -     -      Y     Y     Y    Y
stage                  | stageRe                     | /stage alpha                   | Y     -    -    -     -      Y     Y     Y    Y
stage                  | stageRe                     | /remove-stage stable           | Y     -    -    -     -      Y     Y     Y    Y
trigger                | RetestRe                    | /retest                        | Y     -    -    -     -      Y     -     Y    -
trigger                | RetestRequiredRe            | /retest-required               | Y     -    -    -     -      Y     -     Y    -
trigger                | TestManualRequiredRe        | /test-manual-required          | Y     -    -    -     -      Y     -     Y    -
trigger                | OkToTestRe                  | /ok-to-test                    | Y     -    -    -     -      Y     -     Y    -
trigger                | OkToTestCancelRe            | /ok-to-test cancel             | Y     -    -    -     -      Y     -     Y    -
trigger                | TestAllRe                   | /test all                      | Y     -    -    -     -      Y     -     Y    -
trigger                | TestHelpRe                  | /test ?                        | Y     -    -    -     -      Y     -     Y    -
trigger                | EmptyTestRe                 | /test                          | Y     -    -    -     -      Y     -     Y    -
trigger                | RetestWithTargetRe          | /retest unit                   | Y     -    -    -     -      Y     -     Y    -
trigger                | TestWithAnyTargetRe         | /test unit                     | Y     -    -    -     -      Y     -     Y    -
trigger                | anyTestRe                   | /test unit                     | Y     -    -    -     -      Y     -     Y    -
trick-or-treat         | match                       | /trick-or-treat                | Y     -    -    -     -      Y     Y     Y    Y
trick-or-treat         | match                       | /trickortreat please           | Y     -    -    -     -      Y     Y     Y    Y
verify-owners          | verifyOwnersRe              | /verify-owners                 | Y     -    -    -     -      Y     Y     Y    Y
yuks                   | match                       | /joke                          | Y     -    -    -     -      Y     Y     Y    Y
";

/// Arguments, spacing and `\r`: more texts per regex with upstream's outcome.
const ARGUMENTS: &[(&str, &str, &str, bool)] = &[
    ("buildifier", "buildifyRe", "/buildify now", false),
    ("buildifier", "buildifyRe", "/buildif", false),
    ("buildifier", "buildifyRe", "/BuildIfier  ", true),
    ("approve", "commandRegex", "/approve no-issue", true),
    ("approve", "commandRegex", "/approvefoo", false),
    ("assign", "assignRe", "/assign  alice", false),
    ("assign", "assignRe", "/assign @alice bob", true),
    ("assign", "CCRegexp", "/cc   @alice", true),
    ("cat", "match", "/meow", true),
    ("cat", "match", "/meowing", false),
    ("hold", "labelRe", "/hold for the release", true),
    ("hold", "labelRe", "/holding", false),
    ("hold", "labelCancelRe", "/hold\tcancel", true),
    ("label", "labelRegex", "/kind\tbug", false),
    (
        "label",
        "customLabelRegex",
        "/label tide/merge-squash other",
        false,
    ),
    ("lgtm", "LGTMRe", "/lgtm no-issue", true),
    ("lgtm", "LGTMRe", "/lgtm please", false),
    ("lgtm", "LGTMRe", "/lgtm \t ", true),
    ("lifecycle", "lifecycleRe", "/lifecycle dead", false),
    ("lifecycle", "lifecycleRe", "/remove-lifecycle stale", true),
    ("milestone", "milestoneRegex", "/milestone", false),
    ("milestone", "milestoneRegex", "/milestone   v1.0  ", true),
    ("override", "overrideRe", "/override", true),
    ("override", "overrideRe", "/overrides", false),
    ("override", "overrideRe", "/override-sticky ci/unit", false),
    ("pony", "match", "/pony  twilight sparkle", true),
    ("project", "projectRegex", "/project", false),
    ("project", "projectRegex", "/projects 0.5.0", false),
    ("project", "projectRegex", "/project\t0.5.0", true),
    // Upstream answers a bare `clear` with its usage text: the command still acts.
    ("project", "projectRegex", "/project clear", true),
    ("cherrypicker", "cherryPickRe", "/cherrypick", false),
    (
        "cherrypicker",
        "cherryPickRe",
        "/cherry-pick  release-1.0 release-0.9",
        true,
    ),
    (
        "cherrypicker",
        "cherryPickRe",
        "/cherrypicking release-1.0",
        false,
    ),
    ("refresh", "refreshRe", "/refresh please", false),
    ("issue-management", "linkIssueRegex", "/link-issue", false),
    (
        "issue-management",
        "linkIssueRegex",
        "/link-issue\n12",
        true,
    ),
    (
        "issue-management",
        "unlinkIssueRegex",
        "/unlink-issue   ",
        false,
    ),
    ("issue-management", "pinRegex", "/pin-issue please", false),
    ("issue-management", "pinRegex", "/pin-issue \t", true),
    ("issue-management", "transferRegex", "/transfer", false),
    (
        "issue-management",
        "transferRegex",
        "/transferissue x",
        false,
    ),
    (
        "issue-management",
        "transferRegex",
        "/transfer  test-infra",
        true,
    ),
    ("stage", "stageRe", "/stage gamma", false),
    ("goose", "match", "/honk honk", false),
    ("trick-or-treat", "match", "/trick-ortreat", true),
    ("trick-or-treat", "match", "/trick_or_treat", false),
    ("stage", "stageRe", "/stage  alpha", false),
    ("stage", "stageRe", "/stage beta  ", true),
    ("trigger", "OkToTestRe", "/ok-to-test please", false),
    ("trigger", "OkToTestCancelRe", "/ok-to-test \t cancel", true),
    ("trigger", "TestAllRe", "/test all, please", true),
    ("trigger", "TestAllRe", "/test allx", false),
    ("trigger", "RetestRe", "/retest unit", false),
    ("trigger", "RetestRe", "/retest\t", true),
    ("trigger", "TestHelpRe", "/test\t?", true),
    ("trigger", "anyTestRe", "/testing", false),
    ("trigger", "anyTestRe", "/retest", true),
];

/// Whether `plugin` acts on `text` through the regex `name`, asked through the plugin's own
/// decision (or, for plugins that only match the regex on the comment as it is, the regex).
fn acts(plugin: &str, name: &str, text: &str) -> bool {
    let none = BTreeMap::new();
    match (plugin, name) {
        ("approve", _) => approve::is_approval_command(text, false),
        ("assign", "assignRe") => !assign::assignees(text, "me").is_empty(),
        ("assign", "CCRegexp") => !assign::reviewers(text, "me").is_empty(),
        ("blunderbuss", _) => blunderbuss::is_auto_cc(text),
        ("bugzilla", _) => {
            let wanted = match name {
                "refreshCommandMatch" => (false, false),
                "qaAssignCommandMatch" => (true, false),
                _ => (false, true),
            };
            bugzilla::command(text) == Some(wanted)
        }
        ("cat", _) => cat::requested(text).is_some(),
        ("cherrypicker", _) => !cherrypicker::parse(text).is_empty(),
        ("cla", _) => cla::requested(text),
        ("dco", _) => dco::CHECK_DCO_RE.is_match(text),
        ("dog", _) => {
            let reply = dog::reply(text, &["https://dog.example/rex.jpg".to_owned()], "s");
            let wanted = match name {
                "match" => "rex.jpg",
                "fineRegex" => "this_is_fine.png",
                "notFineRegex" => "this_is_not_fine.png",
                _ => "this_is_unbearable.jpg",
            };
            reply.is_some_and(|r| r.contains(wanted))
        }
        ("golint", _) => golint::requested(text),
        ("buildifier", _) => buildifier::requested(text),
        ("help", _) => {
            let mut facts = help::Facts::default();
            facts.has_help = name == "helpRemoveRe";
            facts.has_good_first_issue = name == "helpGoodFirstIssueRemoveRe";
            let request = help::Request {
                org: "o",
                repo: "r",
                number: 1,
                user: "u",
                body: text,
                issue_url: "https://x",
            };
            let guidelines = help::Guidelines {
                url: "https://guide",
                summary: "",
            };
            !help::decide(&request, &facts, &guidelines).is_empty()
        }
        ("hold", "labelRe") => hold::requested(text) == Some(true),
        ("hold", _) => hold::requested(text) == Some(false),
        ("label", _) => {
            let extra = ["tide/merge-squash".to_owned()];
            let want = label::requested(text, &extra, &none);
            match name {
                "labelRegex" => want.add.contains(&"kind/bug".to_owned()),
                "removeLabelRegex" => want.remove.contains(&"sig/node".to_owned()),
                "customLabelRegex" => want.add.contains(&"tide/merge-squash".to_owned()),
                _ => want.remove.contains(&"tide/merge-squash".to_owned()),
            }
        }
        ("lgtm", "LGTMRe") => lgtm::requested(text) == Some(true),
        ("lgtm", _) => lgtm::requested(text) == Some(false),
        ("lifecycle", _) => {
            let want = lifecycle::requested(text);
            match name {
                "lifecycleRe" => !want.lifecycle.is_empty(),
                "closeRe" => want.close == Some(false),
                "closeNotPlannedRe" => want.close == Some(true),
                _ => want.reopen,
            }
        }
        ("issue-management", _) => match (name, issue_management::command(text)) {
            ("linkIssueRegex", Some(Command::Link { link, .. })) => !link.is_empty(),
            ("unlinkIssueRegex", Some(Command::Link { unlink, .. })) => !unlink.is_empty(),
            ("pinRegex", Some(Command::Pin(pin))) => pin,
            ("unpinRegex", Some(Command::Pin(pin))) => !pin,
            ("transferRegex", Some(Command::Transfer)) => matches!(
                transfer_issue::destination(text, false, true),
                transfer_issue::Destination::Repo(_)
            ),
            _ => false,
        },
        ("milestone", _) => milestone::requested(text).is_some(),
        ("milestonestatus", _) => !milestonestatus::requested(text).is_empty(),
        ("override", "overrideRe") => override_::requested(text, false).is_some(),
        ("override", "overrideStickyRe") => override_::requested(text, true).is_some(),
        ("override", _) => override_::cancel_requested(text).is_some(),
        ("pony", _) => !pony::requested(text).is_empty(),
        ("project", _) => project::requested(text).is_some(),
        ("refresh", _) => refresh::requested(text),
        ("retitle", _) => retitle::requested(text).is_some(),
        ("release-note", _) => {
            let mut facts = release_note::CommentFacts::default();
            facts.is_member = true;
            !release_note::decide_comment(&request(text), &facts).is_empty()
        }
        ("require-matching-label", _) => {
            require_matching_label::CHECK_REQUIRED_LABELS_RE.is_match(text)
        }
        ("shrug", "shrugRe") => shrug::requested(text) == Some(true),
        ("shrug", _) => shrug::requested(text) == Some(false),
        ("skip", _) => skip::requested(text),
        ("goose", _) => goose::requested(text),
        ("trick-or-treat", _) => trick_or_treat::requested(text),
        ("stage", _) => !stage::requested(text).is_empty(),
        ("trigger", _) => {
            // What trigger does: drop code blocks, see whether the comment concerns it at all,
            // then look for the command.
            let checked = prow_config::drop_code_block(text);
            prow_config::comment_matches_trigger(&checked, &[])
                && regex(plugin, name).is_match(&checked)
        }
        ("verify-owners", _) => verify_owners::is_verify(text),
        ("yuks", _) => yuks::requested(text),
        other => panic!("no probe for {other:?}"),
    }
}

fn regex(plugin: &str, name: &str) -> &'static GoRegex {
    commands::command_regexes()
        .into_iter()
        .find(|c| c.plugin == plugin && c.name == name)
        .unwrap_or_else(|| panic!("no regex {plugin}/{name}"))
        .regex
}

#[test]
fn every_command_regex_is_upstreams_verbatim() {
    let ours: BTreeSet<(&str, &str, &str, &str)> = commands::command_regexes()
        .iter()
        .map(|c| (c.plugin, c.name, c.regex.source(), c.regex.pattern()))
        .collect();
    let upstream: BTreeSet<(&str, &str, &str, &str)> = UPSTREAM.iter().copied().collect();
    assert_eq!(
        ours.difference(&upstream).collect::<Vec<_>>(),
        Vec::<&(&str, &str, &str, &str)>::new(),
        "ours but not upstream's"
    );
    assert_eq!(
        upstream.difference(&ours).collect::<Vec<_>>(),
        Vec::<&(&str, &str, &str, &str)>::new(),
        "upstream's but not ours"
    );
    // Every pattern starts its match at a line start with `/`, which is what makes the
    // variants' outcomes (and the hook's shared command text) what they are.
    for (plugin, name, _, pattern) in UPSTREAM {
        assert!(
            ["(?m)^/", "(?mi)^/", "(?m)^(?:/"]
                .iter()
                .any(|start| pattern.starts_with(start)),
            "{plugin}/{name}: {pattern}"
        );
    }
    // The text filters upstream applies before matching.
    assert_eq!(
        prow_config::filter::CODE_BLOCK_RE.pattern(),
        "(?msU)^```.*(\n```\n|\n```$)|(?msU)^~~~.*(\n~~~\n|\n~~~$)"
    );
    assert_eq!(
        prow_config::filter::CODE_BLOCK_RE.source(),
        "pkg/markdown/code_block.go"
    );
}

#[test]
fn every_command_acts_as_upstreams_regex_does_in_every_variant() {
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    for line in TABLE.lines().skip(2).filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [plugin, name, command, outcomes] = cells[..] else {
            panic!("bad row {line:?}");
        };
        let outcomes: Vec<bool> = outcomes.split_whitespace().map(|o| o == "Y").collect();
        assert_eq!(outcomes.len(), VARIANTS.len(), "{line:?}");
        covered.insert((plugin, name));
        for (v, want) in VARIANTS.iter().zip(outcomes) {
            let text = variant(v, command);
            if acts(plugin, name, &text) != want {
                failures.push(format!("{plugin}/{name} {v} {text:?}: want {want}"));
            }
        }
    }
    for (plugin, name, text, want) in ARGUMENTS {
        if acts(plugin, name, text) != *want {
            failures.push(format!("{plugin}/{name} {text:?}: want {want}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let all: BTreeSet<(&str, &str)> = UPSTREAM.iter().map(|(p, n, _, _)| (*p, *n)).collect();
    assert_eq!(covered, all, "every regex has a row");
}

#[test]
fn trigger_drops_fenced_blocks_as_upstream_does() {
    // Upstream's `codeBlockRe`: a fence at a line start, closed by a line of exactly three
    // backticks (or tildes). Indented fences and unclosed ones stay.
    let cases = [
        ("```\n/ok-to-test\n```", ""),
        ("```go\n/ok-to-test\n```\n/retest", "/retest"),
        ("~~~\n/ok-to-test\n~~~", ""),
        ("  ```\n/ok-to-test\n  ```", "  ```\n/ok-to-test\n  ```"),
        ("```\n/ok-to-test", "```\n/ok-to-test"),
        ("```\n/ok-to-test\n```  \n", "```\n/ok-to-test\n```  \n"),
        ("```\n/a\n```\ntext\n```\n/b\n```", "text\n"),
    ];
    for (text, want) in cases {
        assert_eq!(prow_config::drop_code_block(text), want, "{text:?}");
    }
}

#[test]
fn hook_command_text_finds_what_the_whole_body_does() {
    // `command_lines` starts at the first line beginning with `/`: every anchored regex finds
    // the same matches there as in the whole comment.
    let bodies = [
        "no commands here",
        "/lgtm",
        "thanks\n/lgtm\nbye",
        "  /lgtm\n> /hold\n/kind\nbug",
        "intro\r\n/milestone\r\nv1.0\r\n",
        "x /lgtm\n/assign @a\n/cc\n",
    ];
    for body in bodies {
        let lines = commands::command_lines(body);
        for c in commands::command_regexes() {
            let whole: Vec<_> = c.regex.find_iter(body).map(|m| m.as_str()).collect();
            let part: Vec<_> = c.regex.find_iter(&lines).map(|m| m.as_str()).collect();
            assert_eq!(whole, part, "{}/{} in {body:?}", c.plugin, c.name);
        }
    }
    assert_eq!(commands::command_lines("a\nb /c"), "");
    assert_eq!(commands::command_lines("a\n/b\nc"), "/b\nc");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_indented_ok_to_test_does_not_trust_the_pull_request() {
    let server = Server::start(github("outsider"), Options::default()).await;
    server.send("pull_request", &opened("outsider")).await;
    server.metrics.wait_processed(1).await;
    assert_eq!(labels(&server.github), ["needs-ok-to-test"]);
    // Markdown code (indented or fenced), a quote, a leading space: none is a command.
    let not_commands = [
        "    /ok-to-test",
        "Verified:\n\n    /ok-to-test\n",
        " /ok-to-test",
        "\t/ok-to-test",
        "> /ok-to-test",
        "```\n/ok-to-test\n```",
    ];
    for body in not_commands {
        server
            .send("issue_comment", &comment(body, "member", "outsider"))
            .await;
    }
    server
        .metrics
        .wait_processed(1 + not_commands.len() as u64)
        .await;
    assert_eq!(labels(&server.github), ["needs-ok-to-test"]);
    assert!(job_names(server.store.as_ref()).await.is_empty());
    assert_eq!(
        comments(&server.github).len(),
        1,
        "only the welcome comment"
    );

    // The same member at the start of a line trusts it.
    server
        .send(
            "issue_comment",
            &comment("Verified:\n/ok-to-test", "member", "outsider"),
        )
        .await;
    server
        .metrics
        .wait_processed(2 + not_commands.len() as u64)
        .await;
    assert_eq!(labels(&server.github), ["ok-to-test"]);
    assert_eq!(job_names(server.store.as_ref()).await, ["lint", "unit"]);
    server.shutdown().await;
}

#[tokio::test]
async fn test_commands_retire_earlier_help_replies_and_code_blocks_are_not_commands() {
    let hook = InProcess::start(
        github("member"),
        hook_config(CONFIG, PLUGINS),
        Options::default(),
        Vec::new(),
    );
    hook.deliver(
        "issue_comment",
        &comment("/test nothing", "member", "member"),
    )
    .await;
    let said = comments(&hook.github);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains(prow_config::filter::TARGET_NOT_FOUND_NOTE));
    // A fenced `/test e2e` is not looked at (upstream drops code blocks first), and
    // `/ok-to-test` does not retire help replies.
    for body in ["```\n/test e2e\n```", "/ok-to-test"] {
        hook.deliver("issue_comment", &comment(body, "member", "member"))
            .await;
    }
    assert_eq!(comments(&hook.github).len(), 1);
    assert!(
        job_names(hook.store.as_ref())
            .await
            .iter()
            .all(|j| j != "e2e")
    );
    hook.deliver("issue_comment", &comment("/test e2e", "member", "member"))
        .await;
    assert!(comments(&hook.github).is_empty(), "the help reply is gone");
    assert!(
        job_names(hook.store.as_ref())
            .await
            .contains(&"e2e".to_owned())
    );
    hook.shutdown().await;
}

#[tokio::test]
async fn a_review_with_an_lgtm_command_is_left_to_the_command() {
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [lgtm]\nlgtm:\n- repos: [Codertocat/Hello-World]\n  review_acts_as_lgtm: true\n";
    let hook = InProcess::start(
        github("member"),
        hook_config(CONFIG, plugins),
        Options::default(),
        Vec::new(),
    );
    // Upstream skips the review state when the body has `/lgtm` or `/lgtm cancel`: an approval
    // saying `/lgtm cancel` adds nothing.
    let approve_but_cancel = review(&hook.github, "reviewer", "approved", "/lgtm cancel");
    hook.deliver("pull_request_review", &approve_but_cancel)
        .await;
    assert!(
        labels(&hook.github).is_empty(),
        "{:?}",
        labels(&hook.github)
    );
    let approve = review(&hook.github, "reviewer", "approved", "Nice.");
    hook.deliver("pull_request_review", &approve).await;
    assert_eq!(labels(&hook.github), ["lgtm"]);
    hook.shutdown().await;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random text, then a command of the table after spaces or tabs: no plugin acts.
    #[test]
    fn proptest_a_command_after_whitespace_never_acts(
        before in prop::collection::vec("[a-zA-Z0-9.,!?*`-][a-zA-Z0-9 /.,!?*`-]{0,30}", 0..4),
        after in prop::collection::vec("[a-zA-Z0-9.,!?*`-][a-zA-Z0-9 /.,!?*`-]{0,30}", 0..4),
        indent in "[ \t]{1,8}",
        crlf in any::<bool>(),
        row in 0usize..1000,
    ) {
        let rows: Vec<(&str, &str, &str)> = TABLE
            .lines()
            .skip(2)
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                (cells[0], cells[1], cells[2])
            })
            .collect();
        let (plugin, name, command) = rows[row % rows.len()];
        let mut lines = before;
        lines.push(format!("{indent}{command}"));
        lines.extend(after);
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        prop_assert!(!acts(plugin, name, &text), "{plugin}/{name} acted on {text:?}");
    }
}
