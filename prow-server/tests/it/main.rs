//! Integration tests of prow-server: hook over real HTTP on 127.0.0.1 with the fake GitHub and
//! the SQLite job store, and the plugins' decisions.

mod hook;
mod plugins;
mod plugins_approve;
mod plugins_assign;
mod plugins_blunderbuss;
mod plugins_cla;
mod plugins_common;
mod plugins_config_updater;
mod plugins_dco;
mod plugins_fun;
mod plugins_golint;
mod plugins_heart;
mod plugins_label;
mod plugins_lgtm_tree;
mod plugins_lifecycle;
mod plugins_milestone;
mod plugins_milestone_applier;
mod plugins_misc_support;
mod plugins_override;
mod plugins_owners_label;
mod plugins_release_note;
mod plugins_require_matching_label;
mod plugins_rml_delay;
mod plugins_size;
mod plugins_skip;
mod plugins_slackevents;
mod plugins_trigger_body;
mod plugins_verify_owners;
mod plugins_welcome;
mod plugins_wip;
mod support;
mod tide;
mod tide_corpus;
mod tide_cost;
