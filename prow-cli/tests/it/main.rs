//! Integration tests of prow-cli: the workspace's layering and the binaries' behaviour.

mod branchprotector;
mod browser;
mod checkconfig;
mod checkconfig_plugins;
#[path = "../../../prow-server/tests/it/chromium.rs"]
mod chromium;
mod demo_support;
mod deploy;
mod diagnostics;
mod hook;
mod metrics;
mod mkpj;
mod operable;
mod phaino;
mod phony;
mod plank;
mod podutils;
mod prow;
mod reload;
mod status_reconciler;
mod workspace;

/// Runs `command`, asserts that it succeeded (showing its stderr when not) and returns stdout.
pub(crate) fn stdout_of(command: &mut std::process::Command) -> Vec<u8> {
    let out = command.output().expect("the binary starts");
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        command.get_program(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

include!("../../../build-support/corpus.rs");
