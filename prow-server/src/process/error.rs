//! Why a process could not be assembled or stopped serving.

use std::path::PathBuf;

/// Why [`Process::build`](super::Process::build) or [`Process::run`](super::Process::run)
/// failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// The configuration files do not load; every problem is listed.
    #[error("error loading prow config: {0}")]
    Config(#[from] prow_config::SnapshotError),
    /// A file the flags name could not be read.
    #[error("read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The data directory could not be made.
    #[error("create the data directory {}", path.display())]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The job store could not be opened.
    #[error("open the job store")]
    Store(#[source] prow_jobs::store::StoreError),
    /// The local runner could not be set up.
    #[error("set up the local runner")]
    Runner(#[source] prow_jobs::runner::RunnerError),
    /// Kubernetes could not be reached as configured.
    #[error("{what}")]
    Kubernetes {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// GitHub could not be reached as configured.
    #[error("{what}")]
    GitHub {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: prow_github::Error,
    },
    /// A part needs something the options do not give.
    #[error("{0}")]
    Options(String),
    /// The port could not be listened on.
    #[error("listen on {address} (is another process using it? choose another with --port)")]
    Listen {
        /// The address.
        address: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server failed while serving.
    #[error("serve")]
    Serve(#[source] std::io::Error),
}
