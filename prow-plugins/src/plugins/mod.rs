//! The built-in plugins, one module each, named as upstream names them (Rust spells `-` as
//! `_`; `override` is `override_`; the external plugins needs-rebase, cherrypicker and refresh
//! are here too), and [`builtin`], the registry that lists them in one place.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::Plugin;

pub mod approve;
pub mod assign;
pub mod blockade;
pub mod blunderbuss;
pub mod branchcleaner;
// The issue-tracker plugins (jira, bugzilla), each with its client.
pub mod bugzilla;
pub mod cat;
pub mod cherry_pick_approved;
pub mod cherry_pick_unapproved;
pub mod cherrypicker;
pub mod cla;
pub mod config_updater;
pub mod dco;
pub mod dog;
pub mod golint;
pub mod goose;
pub mod heart;
pub mod help;
pub mod hold;
pub mod invalidcommitmsg;
pub mod jira;
pub mod label;
pub mod lgtm;
pub mod lifecycle;
pub mod merge_method_comment;
pub mod mergecommitblocker;
pub mod milestone;
pub mod milestoneapplier;
pub mod milestonestatus;
pub mod needs_rebase;
pub mod override_;
pub mod owners_label;
pub mod pony;
pub mod refresh;
pub mod release_note;
pub mod require_matching_label;
pub mod retitle;
pub mod shrug;
pub mod sigmention;
pub mod size;
pub mod skip;
pub mod slackevents;
pub mod stage;
pub mod trick_or_treat;
pub mod trigger;
pub mod verify_owners;
pub mod welcome;
pub mod wip;
pub mod yuks;

// Added with issue 21 (pla): testfreeze, reward-owners, rifle, project, project-manager,
// buildifier.
pub mod buildifier;
pub mod project;
pub mod project_manager;
pub mod reward_owners;
pub mod rifle;
pub mod testfreeze;

// issue-management: transfer, pin.
pub mod issue_management;

/// Every built-in plugin, by name.
pub fn builtin() -> BTreeMap<&'static str, Arc<dyn Plugin>> {
    let all: Vec<Arc<dyn Plugin>> = vec![
        Arc::new(trigger::Trigger),
        Arc::new(lgtm::Lgtm),
        Arc::new(hold::Hold),
        Arc::new(label::LabelPlugin),
        Arc::new(size::SizePlugin),
        Arc::new(assign::Assign),
        Arc::new(wip::Wip),
        Arc::new(lifecycle::Lifecycle),
        Arc::new(help::Help),
        Arc::new(shrug::Shrug),
        Arc::new(yuks::Yuks),
        Arc::new(cat::Cat::default()),
        Arc::new(dog::Dog::default()),
        Arc::new(pony::Pony::default()),
        Arc::new(skip::Skip),
        Arc::new(release_note::ReleaseNote),
        Arc::new(dco::DcoPlugin),
        Arc::new(welcome::WelcomePlugin),
        Arc::new(require_matching_label::RequireMatchingLabelPlugin),
        Arc::new(milestone::MilestonePlugin),
        Arc::new(milestoneapplier::MilestoneApplier),
        Arc::new(heart::Heart),
        Arc::new(approve::Approve::default()),
        Arc::new(verify_owners::VerifyOwners::default()),
        Arc::new(owners_label::OwnersLabel::default()),
        Arc::new(blunderbuss::Blunderbuss::default()),
        Arc::new(cla::Cla::default()),
        Arc::new(override_::OverridePlugin),
        Arc::new(slackevents::SlackEvents::default()),
        Arc::new(config_updater::ConfigUpdater::default()),
        Arc::new(golint::Lint::default()),
        Arc::new(mergecommitblocker::MergeCommitBlocker),
        Arc::new(retitle::Retitle),
        Arc::new(milestonestatus::MilestoneStatus),
        Arc::new(blockade::BlockadePlugin),
        Arc::new(cherry_pick_unapproved::CherryPickUnapproved),
        Arc::new(needs_rebase::NeedsRebase::default()),
        Arc::new(cherrypicker::CherryPicker::default()),
        Arc::new(refresh::Refresh),
        Arc::new(invalidcommitmsg::InvalidCommitMsgPlugin),
        Arc::new(merge_method_comment::MergeMethodComment),
        Arc::new(branchcleaner::BranchCleanerPlugin),
        Arc::new(cherry_pick_approved::CherryPickApprovedPlugin),
        Arc::new(sigmention::SigMention),
        Arc::new(stage::Stage),
        Arc::new(goose::Goose::default()),
        Arc::new(trick_or_treat::TrickOrTreat::default()),
        // Added with issue 21 (pla).
        Arc::new(testfreeze::TestFreeze::default()),
        Arc::new(reward_owners::RewardOwners),
        Arc::new(rifle::Rifle::default()),
        Arc::new(buildifier::Buildifier::default()),
        Arc::new(project::ProjectPlugin),
        Arc::new(project_manager::ProjectManagerPlugin),
        // The issue-tracker plugins, without a tracker until the process gives them one.
        Arc::new(jira::Jira::default()),
        Arc::new(bugzilla::BugzillaPlugin::default()),
        // issue-management: transfer, pin.
        Arc::new(issue_management::IssueManagement::default()),
    ];
    all.into_iter().map(|p| (p.name(), p)).collect()
}
