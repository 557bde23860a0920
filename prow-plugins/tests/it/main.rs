//! Integration tests of prow-plugins: the plugins' pure decisions, table by table, and their
//! `handle` over the fake GitHub. Tests through the real hook live in prow-server.

mod added;
mod bugzilla;
mod buildifier;
mod cherrypicker;
mod issue_management;
mod jira;
mod project;
mod project_manager;
mod refresh;
mod remaining;
mod reward_owners;
mod rifle;
mod tables;
mod testfreeze;
