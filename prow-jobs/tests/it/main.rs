//! Integration tests of prow-jobs: decoration against upstream goldens, env, labels, and the
//! pod utilities (entrypoint, clonerefs, initupload, sidecar) with real processes, git
//! repositories and stores.

mod branchprotector;
mod clonerefs;
mod crier;
mod crier_reporters;
mod decorate;
mod entrypoint;
mod env;
mod githttp;
mod goldens;
mod horologium;
mod kube;
mod kube_plank;
mod labels;
mod pjutil;
mod plank;
mod plank_loop;
mod runner;
mod sinker;
mod store;
mod store_cache;
mod support;
mod template;
mod upload;
