//! Merge commit title and body templates: the subset of Go's `text/template` that Prow users
//! write in `merge_commit_template` (field references such as `{{ .Title }} (#{{ .Number }})`).
//!
//! Supported: literal text, `{{ .Field }}` and `{{ .Author.Login }}`-style paths, and the `{{-`
//! / `-}}` whitespace trimming markers. Anything else (`if`, `range`, pipelines, functions,
//! variables) is rejected when the template is parsed, naming the action.

use super::context::PullRequest;

/// Why a merge commit template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `{{` without its `}}`.
    #[error("unclosed action starting at byte {offset}")]
    Unclosed {
        /// Where the action starts.
        offset: usize,
    },
    /// An action outside the supported subset.
    #[error(
        "unsupported action `{{{{{action}}}}}`: only field references like {{{{ .Title }}}} are supported"
    )]
    Unsupported {
        /// The action's text.
        action: String,
    },
    /// A field the PR does not have.
    #[error("unknown field `{field}`: use one of {known}")]
    UnknownField {
        /// The field path.
        field: String,
        /// The supported fields.
        known: &'static str,
    },
}

const KNOWN: &str = ".Number, .Title, .Body, .Author.Login, .HeadRefName, .HeadRefOID, \
                     .BaseRef.Name, .Repository.Name, .Repository.Owner.Login";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Number,
    Title,
    Body,
    AuthorLogin,
    HeadRefName,
    HeadRefOid,
    BaseRefName,
    RepoName,
    RepoOwner,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(Field),
}

/// A parsed merge commit template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeTemplate {
    pieces: Vec<Piece>,
}

fn field(path: &str) -> Option<Field> {
    Some(match path {
        ".Number" => Field::Number,
        ".Title" => Field::Title,
        ".Body" => Field::Body,
        ".Author.Login" => Field::AuthorLogin,
        ".HeadRefName" => Field::HeadRefName,
        ".HeadRefOID" => Field::HeadRefOid,
        ".BaseRef.Name" => Field::BaseRefName,
        ".Repository.Name" => Field::RepoName,
        ".Repository.Owner.Login" => Field::RepoOwner,
        _ => return None,
    })
}

impl MergeTemplate {
    /// Parses a template; an empty template renders as an empty string.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(start) = rest.find("{{") {
            let mut literal = rest[..start].to_string();
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                return Err(TemplateError::Unclosed {
                    offset: offset + start,
                });
            };
            let mut inner = &after[..end];
            if let Some(stripped) = inner.strip_prefix("- ") {
                literal.truncate(literal.trim_end().len());
                inner = stripped;
            }
            let mut trim_after = false;
            if let Some(stripped) = inner.strip_suffix(" -") {
                trim_after = true;
                inner = stripped;
            }
            if !literal.is_empty() {
                pieces.push(Piece::Text(literal));
            }
            let action = inner.trim();
            let is_path = action.starts_with('.')
                && action[1..].split('.').all(|seg| {
                    !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
            if !is_path {
                return Err(TemplateError::Unsupported {
                    action: inner.to_string(),
                });
            }
            let f = field(action).ok_or_else(|| TemplateError::UnknownField {
                field: action.to_string(),
                known: KNOWN,
            })?;
            pieces.push(Piece::Field(f));
            let consumed = start + 2 + end + 2;
            offset += consumed;
            rest = &rest[consumed..];
            if trim_after {
                let trimmed = rest.trim_start();
                offset += rest.len() - trimmed.len();
                rest = trimmed;
            }
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(MergeTemplate { pieces })
    }

    /// Whether the template has no text at all (GitHub's default message is used then).
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Renders the template for `pr`.
    pub fn render(&self, pr: &PullRequest) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field(f) => out.push_str(&match f {
                    Field::Number => pr.number.to_string(),
                    Field::Title => pr.title.clone(),
                    Field::Body => pr.body.clone(),
                    Field::AuthorLogin => pr.author.clone(),
                    Field::HeadRefName => pr.head_ref.clone(),
                    Field::HeadRefOid => pr.head_sha.clone(),
                    Field::BaseRefName => pr.base_ref.clone(),
                    Field::RepoName => pr.repo.clone(),
                    Field::RepoOwner => pr.org.clone(),
                }),
            }
        }
        out
    }
}
