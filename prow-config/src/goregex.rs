//! Go's regular expressions in Rust's `regex`: upstream Prow's patterns, copied verbatim, match
//! here exactly what they match in Prow.
//!
//! Both engines are RE2-like and read the same syntax, but Go's Perl classes and word
//! boundaries are ASCII-only while Rust's are Unicode: in Go `\s` is `[\t\n\f\r ]` (not even
//! `\v`), `\d` is `[0-9]`, `\w` is `[0-9A-Za-z_]` and `\b` looks at ASCII word characters.
//! [`translate`] rewrites exactly those escapes (found with `regex-syntax`'s parser, so escapes
//! inside classes and escaped backslashes are handled) and leaves everything else as written:
//! flags (`(?mi)`, `(?U)`), `^`/`$` in multi-line mode (at `\n` only, like Go), `.`, Unicode
//! case folding and `\pL` classes already behave alike.

use std::ops::Deref;
use std::sync::OnceLock;

use regex::Regex;
use regex_syntax::ast::{self, Ast, ClassPerlKind, ClassSetItem, Visitor};

/// Rewrites the Go `pattern` so that Rust's `regex` matches what Go's `regexp` does.
pub fn translate(pattern: &str) -> Result<String, Box<regex_syntax::ast::Error>> {
    let parsed = ast::parse::Parser::new().parse(pattern).map_err(Box::new)?;
    let Ok(mut edits) = ast::visit(&parsed, Edits::default());
    edits.sort_by_key(|(start, _, _)| *start);
    let mut out = String::with_capacity(pattern.len() + 16 * edits.len());
    let mut at = 0;
    for (start, end, with) in edits {
        out.push_str(&pattern[at..start]);
        out.push_str(with);
        at = end;
    }
    out.push_str(&pattern[at..]);
    Ok(out)
}

/// Compiles the Go `pattern` ([`translate`] then `Regex::new`).
pub fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    let translated = translate(pattern).map_err(|e| regex::Error::Syntax(e.to_string()))?;
    Regex::new(&translated)
}

/// How many compiled patterns [`shared`] keeps; past that it starts over.
const SHARED_CAPACITY: usize = 512;

/// [`compile`], once per pattern for the whole process: for patterns a plugin reads from the
/// configuration on every event (sigmention's, approve's issue links), which would otherwise
/// be compiled again for each delivery. At most [`SHARED_CAPACITY`] patterns are kept; an
/// invalid pattern is not kept, so its error comes back each time.
pub fn shared(pattern: &str) -> Result<std::sync::Arc<Regex>, regex::Error> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    static SHARED: OnceLock<Mutex<HashMap<String, Arc<Regex>>>> = OnceLock::new();
    let cache = SHARED.get_or_init(Mutex::default);
    if let Some(re) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(pattern) {
        return Ok(Arc::clone(re));
    }
    let re = Arc::new(compile(pattern)?);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= SHARED_CAPACITY {
        cache.clear();
    }
    cache.insert(pattern.to_owned(), Arc::clone(&re));
    Ok(re)
}

/// Why Go's `regexp.Compile` refuses `pattern`, worded as Go words it
/// (``error parsing regexp: missing closing ): `(x` ``); `None` when it compiles.
///
/// The reason and the quoted part follow Go's `regexp/syntax` error codes: the whole pattern
/// for unbalanced parentheses, the class from its `[` for an unclosed class, the offending
/// piece otherwise. A failure Go has no code for keeps Rust's reason.
pub fn go_error(pattern: &str) -> Option<String> {
    let err = match ast::parse::Parser::new().parse(pattern) {
        Ok(_) => {
            let err = compile(pattern).err()?;
            let text = err.to_string();
            let reason = text
                .lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix("error: "))
                .unwrap_or(text.trim());
            return Some(format!("error parsing regexp: {reason}: `{pattern}`"));
        }
        Err(err) => err,
    };
    use ast::ErrorKind as K;
    let span = err.span();
    // An empty span (a repetition operator with nothing before it) names the character there.
    let piece = match pattern.get(span.start.offset..span.end.offset) {
        Some("") => pattern
            .get(span.start.offset..)
            .and_then(|rest| rest.chars().next().map(|c| &rest[..c.len_utf8()]))
            .unwrap_or_default(),
        Some(piece) => piece,
        None => pattern,
    };
    let (code, expr) = match err.kind() {
        K::GroupUnclosed => ("missing closing )", pattern),
        K::GroupUnopened => ("unexpected )", pattern),
        K::ClassUnclosed => (
            "missing closing ]",
            pattern.get(span.start.offset..).unwrap_or(pattern),
        ),
        K::EscapeUnrecognized | K::EscapeHexInvalid | K::EscapeHexInvalidDigit => {
            ("invalid escape sequence", piece)
        }
        K::EscapeUnexpectedEof => ("trailing backslash at end of expression", ""),
        K::RepetitionMissing => ("missing argument to repetition operator", piece),
        K::RepetitionCountInvalid => ("invalid repeat count", piece),
        K::ClassRangeInvalid => ("invalid character class range", piece),
        K::ClassEscapeInvalid => ("invalid character class range", piece),
        K::GroupNameInvalid | K::GroupNameEmpty | K::GroupNameDuplicate { .. } => {
            ("invalid named capture", piece)
        }
        K::GroupNameUnexpectedEof => ("invalid named capture", pattern),
        K::FlagUnrecognized
        | K::FlagDanglingNegation
        | K::FlagDuplicate { .. }
        | K::FlagRepeatedNegation { .. }
        | K::FlagUnexpectedEof
        | K::UnsupportedLookAround
        | K::UnsupportedBackreference => ("invalid or unsupported Perl syntax", piece),
        K::NestLimitExceeded(_) => ("expression nests too deeply", pattern),
        _ => {
            return Some(format!("error parsing regexp: {}: `{pattern}`", err.kind()));
        }
    };
    Some(format!("error parsing regexp: {code}: `{expr}`"))
}

/// Go's meaning of a Perl class.
fn perl(kind: &ClassPerlKind, negated: bool) -> &'static str {
    match (kind, negated) {
        (ClassPerlKind::Digit, false) => "[0-9]",
        (ClassPerlKind::Digit, true) => "[^0-9]",
        (ClassPerlKind::Space, false) => r"[\t\n\f\r ]",
        (ClassPerlKind::Space, true) => r"[^\t\n\f\r ]",
        (ClassPerlKind::Word, false) => "[0-9A-Za-z_]",
        (ClassPerlKind::Word, true) => "[^0-9A-Za-z_]",
    }
}

/// The spans to replace, with their replacements.
#[derive(Default)]
struct Edits(Vec<(usize, usize, &'static str)>);

impl Visitor for Edits {
    type Output = Vec<(usize, usize, &'static str)>;
    type Err = std::convert::Infallible;

    fn finish(self) -> Result<Self::Output, Self::Err> {
        Ok(self.0)
    }

    fn visit_pre(&mut self, ast: &Ast) -> Result<(), Self::Err> {
        match ast {
            Ast::ClassPerl(c) => {
                self.0.push((
                    c.span.start.offset,
                    c.span.end.offset,
                    perl(&c.kind, c.negated),
                ));
            }
            Ast::Assertion(a) => {
                let with = match a.kind {
                    ast::AssertionKind::WordBoundary => r"(?-u:\b)",
                    ast::AssertionKind::NotWordBoundary => r"(?-u:\B)",
                    _ => return Ok(()),
                };
                self.0.push((a.span.start.offset, a.span.end.offset, with));
            }
            _ => {}
        }
        Ok(())
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), Self::Err> {
        // A nested class is a union inside a bracketed class in Rust (`[a[0-9]]`).
        if let ClassSetItem::Perl(c) = item {
            self.0.push((
                c.span.start.offset,
                c.span.end.offset,
                perl(&c.kind, c.negated),
            ));
        }
        Ok(())
    }
}

/// One of upstream Prow's regexes: its Go source file, its pattern as written there, and the
/// regex, compiled on first use with [`compile`]. Dereferences to the compiled [`Regex`].
#[derive(Debug)]
pub struct GoRegex {
    source: &'static str,
    pattern: &'static str,
    compiled: OnceLock<Regex>,
}

impl GoRegex {
    /// The regex `pattern` as upstream's `source` file (e.g. `pkg/plugins/lgtm/lgtm.go`)
    /// writes it.
    pub const fn new(source: &'static str, pattern: &'static str) -> Self {
        GoRegex {
            source,
            pattern,
            compiled: OnceLock::new(),
        }
    }

    /// The upstream file the pattern is copied from.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// The pattern, in Go's syntax, exactly as upstream writes it.
    pub fn pattern(&self) -> &'static str {
        self.pattern
    }

    /// The compiled regex.
    pub fn regex(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            compile(self.pattern).unwrap_or_else(|e| {
                panic!("upstream regex `{}` does not compile: {e}", self.pattern)
            })
        })
    }
}

impl Deref for GoRegex {
    type Target = Regex;

    fn deref(&self) -> &Regex {
        self.regex()
    }
}
