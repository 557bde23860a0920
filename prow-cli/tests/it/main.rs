//! Integration tests of prow-cli: the workspace's layering and the binaries' behaviour.

mod podutils;
mod prow;
mod workspace;
