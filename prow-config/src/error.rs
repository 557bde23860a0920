//! The error type of prow-config and the findings it reports.

use std::fmt;
use std::path::PathBuf;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Prow would still load the configuration.
    Warning,
    /// Prow would refuse the configuration.
    Error,
}

/// One problem found in the configuration: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// The file, when the problem belongs to one.
    pub file: Option<PathBuf>,
    /// 1-based line, when the YAML parser knows it.
    pub line: Option<usize>,
    /// Field path such as `presubmits["org/repo"][3].run_if_changed` (empty for the file).
    pub field: String,
    /// The job concerned, if any.
    pub job: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Finding {
    /// An error with no location yet.
    pub fn error(message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Error,
            file: None,
            line: None,
            field: String::new(),
            job: None,
            message: message.into(),
        }
    }

    /// A warning with no location yet.
    pub fn warning(message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(message)
        }
    }

    /// Sets the file.
    pub fn in_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// Sets the field path.
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }

    /// Sets the job name.
    pub fn for_job(mut self, job: impl Into<String>) -> Self {
        self.job = Some(job.into());
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
            f.write_str(": ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        if let Some(job) = &self.job {
            write!(f, "job {job:?}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Everything that can go wrong in prow-config.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read.
    #[error("read {}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The configuration breaks Prow's rules; every error found is listed.
    #[error("load configuration: {} error(s), first: {}", errors.len(), errors.first().map(ToString::to_string).unwrap_or_default())]
    Invalid {
        /// Every error found.
        errors: Vec<Finding>,
    },
}
