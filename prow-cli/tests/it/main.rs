//! Integration tests of prow-cli: the workspace's layering and the binaries' behaviour.

mod checkconfig;
mod checkconfig_plugins;
mod mkpj;
mod phony;
mod podutils;
mod prow;
mod workspace;
