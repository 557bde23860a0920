//! The error type of prow-core.

use std::fmt;

/// One problem with a document, located by field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field path, such as `spec.decoration_config.timeout` (empty for the whole document).
    pub field: String,
    /// 1-based line of the problem in the source text, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

impl Problem {
    /// A problem with `field`, at no known line.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Problem {
            field: field.into(),
            line: None,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if self.field.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.field, self.reason)
        }
    }
}

/// Everything that can go wrong in prow-core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A document is not a well-formed ProwJob (syntax, wrong type, bad value).
    #[error("read ProwJob: {problem}")]
    Parse {
        /// Where and why.
        problem: Problem,
    },
    /// A well-formed ProwJob breaks Prow's rules; every problem is listed.
    #[error("invalid ProwJob {name:?}: {}", join(problems))]
    Invalid {
        /// The ProwJob's name.
        name: String,
        /// Every problem found.
        problems: Vec<Problem>,
    },
    /// A ProwJob could not be written out.
    #[error("write ProwJob")]
    Serialize(#[source] serde_json::Error),
}

fn join(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
