//! Integration tests of prow-server: hook over real HTTP on 127.0.0.1 with the fake GitHub and
//! the SQLite job store, and the plugins' decisions.

mod config_agent;
mod hook;
mod metrics;
mod plugins;
mod plugins_assign;
mod plugins_common;
mod plugins_dco;
mod plugins_fun;
mod plugins_heart;
mod plugins_label;
mod plugins_lifecycle;
mod plugins_milestone;
mod plugins_milestone_applier;
mod plugins_release_note;
mod plugins_require_matching_label;
mod plugins_size;
mod plugins_skip;
mod plugins_welcome;
mod plugins_wip;
mod support;
