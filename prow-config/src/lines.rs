//! The lines of many field paths of one YAML document, from one pass over its text.
//!
//! Findings name a field path (`presubmits["org/repo"][7].context`); [`crate::locate::locate`]
//! finds its line by walking the document with the YAML parser and failing on purpose at the
//! node, which costs a parse of the whole file per finding. A job file with thousands of jobs
//! and a finding per job made that quadratic. [`LineIndex`] reads the block structure of a
//! file once (mappings, sequences, scalars, one-line flow collections, block scalars) and
//! answers every path from that tree with the line the parser would report: a node's line is
//! where its first token is (a mapping's first key, a sequence's first `-`, a scalar, a flow
//! collection's bracket; an empty value's key or `-`), and a path that leaves the document
//! stops at its deepest node present, as [`crate::locate::locate`] does.
//!
//! The index only covers the YAML that configuration files are written in. Anything it is
//! not sure to read as libyaml does (anchors, aliases, tags, explicit keys, multi-line quoted
//! scalars or flow collections, several documents, tabs in indentation, unusual line breaks,
//! keys that are not plain strings) makes [`LineIndex::scan`] or [`LineIndex::line_of`]
//! answer `None`, and the caller asks the parser instead. Tests compare both answers on every
//! node of the corpus and on generated documents.

use crate::locate::{Anchor, FieldSegment};

/// Deeper documents are left to the parser (which stops at 128 levels).
const MAX_DEPTH: usize = 100;

/// Files from this size on are checked by the parser on another thread while they are scanned.
const PARALLEL_FROM: usize = 256 * 1024;

/// Longest simple key libyaml accepts.
const MAX_KEY: usize = 1024;

/// The block structure of one YAML document, with the line of every node.
#[derive(Debug)]
pub(crate) struct LineIndex {
    nodes: Vec<Node>,
}

#[derive(Debug)]
struct Node {
    /// 1-based line of the node's first token.
    line: usize,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// A scalar, an empty value, or a flow collection on one line (everything in it is on
    /// that line).
    Leaf,
    /// A block mapping: keys in order (`None`: a key whose text the index does not resolve),
    /// the line each key is written on, and their values.
    Map(Vec<(Option<String>, usize, usize)>),
    /// A block sequence's items.
    Seq(Vec<usize>),
}

/// Why the index cannot be built; the caller falls back to the parser.
struct Unsupported;

type Scan<T> = Result<T, Unsupported>;

/// One line of the text: its number, its leading spaces and its text.
#[derive(Clone, Copy)]
struct Line<'t> {
    number: usize,
    indent: usize,
    text: &'t str,
}

impl LineIndex {
    /// Reads the structure of `text`, or `None` when it uses YAML the index leaves to the
    /// parser.
    pub(crate) fn scan(text: &str) -> Option<LineIndex> {
        if Self::unusual_breaks(text) {
            return None;
        }
        // Only documents the parser reads in full: on anything else its answers depend on
        // where it fails. A large file is parsed on a second core while it is scanned.
        let parses = || serde_yaml::from_str::<serde::de::IgnoredAny>(text).is_ok();
        if text.len() < PARALLEL_FROM {
            return parses().then(|| Self::scan_structure(text)).flatten();
        }
        std::thread::scope(|scope| {
            let parsed = scope.spawn(parses);
            let index = Self::scan_structure(text);
            let parsed = parsed
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            index.filter(|_| parsed)
        })
    }

    /// [`LineIndex::scan`] of a document already known to parse in full (it was loaded), so
    /// the parser's check is left out.
    pub(crate) fn scan_parsed(text: &str) -> Option<LineIndex> {
        if Self::unusual_breaks(text) {
            return None;
        }
        Self::scan_structure(text)
    }

    /// A byte-order mark or a line break the index does not count as libyaml does.
    fn unusual_breaks(text: &str) -> bool {
        text.contains(['\u{feff}', '\u{85}', '\u{2028}', '\u{2029}'])
    }

    /// [`LineIndex::scan`] without the parser's check.
    fn scan_structure(text: &str) -> Option<LineIndex> {
        let mut lines = Vec::new();
        for (i, raw) in text.split('\n').enumerate() {
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            if raw.contains('\r') {
                return None;
            }
            let content = raw.trim_start_matches(' ');
            let blank = content.trim_start_matches([' ', '\t']);
            if blank.is_empty() || blank.starts_with('#') {
                continue;
            }
            lines.push(Line {
                number: i + 1,
                indent: raw.len() - content.len(),
                text: raw,
            });
        }
        let mut scanner = Scanner {
            lines,
            at: 0,
            nodes: Vec::new(),
            depth: 0,
        };
        scanner.document().ok()?;
        Some(LineIndex {
            nodes: scanner.nodes,
        })
    }

    /// The line the parser reports for `path`: its node's, or its deepest ancestor's when the
    /// document stops short of it; `None` when only the parser can tell.
    pub(crate) fn line_of(&self, path: &[FieldSegment]) -> Option<usize> {
        self.line_at(path, Anchor::Node)
    }

    /// The line of `path` (or of its deepest ancestor present) as `anchor` asks: the node's, or
    /// for a mapping key the key's own line.
    pub(crate) fn line_at(&self, path: &[FieldSegment], anchor: Anchor) -> Option<usize> {
        let mut node = self.nodes.first()?;
        let mut key_line = None;
        let mut resolved = 0;
        for segment in path {
            let next = match (&node.kind, segment) {
                (Kind::Map(entries), FieldSegment::Key(want)) => {
                    let mut found = None;
                    for (key, line, value) in entries {
                        // A key the index could not read might be the one wanted.
                        let key = key.as_deref()?;
                        if key.eq_ignore_ascii_case(want) {
                            found = Some((*value, Some(*line)));
                            break;
                        }
                    }
                    found
                }
                (Kind::Seq(items), FieldSegment::Index(i)) => items.get(*i).map(|i| (*i, None)),
                _ => None,
            };
            match next {
                Some((i, line)) => {
                    node = &self.nodes[i];
                    key_line = line;
                    resolved += 1;
                }
                None => break,
            }
        }
        match (anchor, key_line) {
            // A key anchor names no line for a path not even starting in the document.
            (Anchor::Key, _) if resolved == 0 && !path.is_empty() => None,
            (Anchor::Key, Some(line)) => Some(line),
            _ => Some(node.line),
        }
    }
}

struct Scanner<'t> {
    /// Lines holding something besides blanks and comments.
    lines: Vec<Line<'t>>,
    /// The next line to read.
    at: usize,
    nodes: Vec<Node>,
    depth: usize,
}

/// Whether `b` ends a plain token: end of text, space or tab.
fn is_break(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b' ' | b'\t'))
}

/// The rest of `s` after spaces and tabs.
fn skip_blanks(s: &str) -> &str {
    s.trim_start_matches([' ', '\t'])
}

/// Whether `s` holds nothing but blanks and maybe a comment.
fn is_empty_rest(s: &str) -> bool {
    let s = skip_blanks(s);
    s.is_empty() || s.starts_with('#')
}

/// A plain scalar's text as a key: `None` unless the parser would read it as this very
/// string (not null, a bool or a number).
fn plain_key(text: &str) -> Option<String> {
    let first = text.bytes().next()?;
    let word = matches!(
        text,
        "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
    );
    let lower = text.to_ascii_lowercase();
    let number_like = lower.starts_with("inf") || lower.starts_with("nan");
    // No null, bool or number holds any other character (`org/repo`, `a b`).
    let unlike_numbers = text
        .bytes()
        .any(|b| !(b.is_ascii_alphanumeric() || b"._+-".contains(&b)));
    let string =
        (unlike_numbers && text != "~") || (first.is_ascii_alphabetic() && !word && !number_like);
    string.then(|| text.to_owned())
}

/// Whether the parser reads the plain scalar `s` as an integer (decimal, `0x`, `0o`, `0b`).
fn is_integer(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    match ["0x", "0o", "0b"].iter().find_map(|p| s.strip_prefix(p)) {
        Some(digits) => !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_hexdigit()),
        None => !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// Where the quoted scalar opening `s` ends (the index after its closing quote), on this
/// line only.
fn quoted_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let quote = *bytes.first()?;
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// A quoted key's text: `None` when it holds escapes the index does not decode.
fn quoted_key(quoted: &str) -> Option<String> {
    let inner = &quoted[1..quoted.len() - 1];
    if quoted.starts_with('"') {
        (!inner.contains('\\')).then(|| inner.to_owned())
    } else {
        Some(inner.replace("''", "'"))
    }
}

/// Where the flow collection opening `s` closes (the index after its bracket), on this line
/// only; `None` when it goes on, or holds anchors, aliases or tags.
fn flow_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    // Whether the next character starts a token (after a bracket, comma, colon or blank).
    let mut token_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'[' | b'{' => {
                depth += 1;
                token_start = true;
            }
            b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
                token_start = false;
            }
            b'\'' | b'"' if token_start => {
                i += quoted_end(&s[i..])?;
                token_start = false;
                continue;
            }
            b'&' | b'*' | b'!' | b'?' | b'|' | b'>' | b'%' | b'@' | b'`' if token_start => {
                return None;
            }
            b'#' if i > 0 && matches!(bytes[i - 1], b' ' | b'\t') => return None,
            b',' | b':' | b' ' | b'\t' => token_start = true,
            _ => token_start = false,
        }
        i += 1;
    }
    None
}

/// What a line holds from some column on.
enum Start {
    /// `- `: a block sequence entry.
    Entry,
    /// `key:`; the key's text (`None`: unresolved) and the column after the colon.
    Key(Option<String>, usize),
    /// A scalar or flow collection ending on this line (block scalars included).
    Leaf,
    /// `|` or `>`: a block scalar whose lines follow.
    BlockScalar,
    /// A plain scalar that may go on over the following lines.
    Plain,
}

/// Reads what starts at byte `col` of `text`.
fn classify(text: &str, col: usize) -> Scan<Start> {
    let s = &text[col..];
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return Err(Unsupported);
    };
    if first == b'\t' {
        return Err(Unsupported);
    }
    if (s.starts_with("---") || s.starts_with("...")) && col == 0 && is_break(bytes.get(3)) {
        return Err(Unsupported);
    }
    // `key:` followed by a blank or the end of the line.
    let key_after = |end: usize| -> Option<usize> {
        let rest = skip_blanks(&s[end..]);
        let colon = s.len() - rest.len();
        (rest.starts_with(':') && is_break(rest.as_bytes().get(1))).then_some(col + colon + 1)
    };
    match first {
        b'-' | b'?' | b':' if is_break(bytes.get(1)) => {
            if first == b'-' {
                Ok(Start::Entry)
            } else {
                Err(Unsupported)
            }
        }
        b'\'' | b'"' => {
            let end = quoted_end(s).ok_or(Unsupported)?;
            if let Some(after) = key_after(end) {
                return Ok(Start::Key(quoted_key(&s[..end]), after));
            }
            if is_empty_rest(&s[end..]) {
                Ok(Start::Leaf)
            } else {
                Err(Unsupported)
            }
        }
        b'[' | b'{' => {
            let end = flow_end(s).ok_or(Unsupported)?;
            if key_after(end).is_some() || !is_empty_rest(&s[end..]) {
                return Err(Unsupported);
            }
            Ok(Start::Leaf)
        }
        b'|' | b'>' => {
            let header =
                s[1..].trim_start_matches(|c: char| c == '+' || c == '-' || c.is_ascii_digit());
            if is_empty_rest(header) && (header.is_empty() || header.starts_with([' ', '\t'])) {
                Ok(Start::BlockScalar)
            } else {
                Err(Unsupported)
            }
        }
        b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b',' | b']' | b'}' | b'#' => Err(Unsupported),
        _ => {
            // A plain scalar runs to `: `, ` #` or the end of the line.
            let mut i = 0;
            while i < bytes.len() {
                match bytes[i] {
                    b':' if is_break(bytes.get(i + 1)) => {
                        if i > MAX_KEY {
                            return Err(Unsupported);
                        }
                        let key = s[..i].trim_end_matches([' ', '\t']);
                        return Ok(Start::Key(plain_key(key), col + i + 1));
                    }
                    b'#' if matches!(bytes[i - 1], b' ' | b'\t') => break,
                    _ => {}
                }
                i += 1;
            }
            Ok(Start::Plain)
        }
    }
}

impl<'t> Scanner<'t> {
    fn push(&mut self, line: usize, kind: Kind) -> usize {
        self.nodes.push(Node { line, kind });
        self.nodes.len() - 1
    }

    fn peek(&self) -> Option<Line<'t>> {
        self.lines.get(self.at).copied()
    }

    /// The whole document: one node, then nothing.
    fn document(&mut self) -> Scan<()> {
        let Some(first) = self.peek() else {
            return Err(Unsupported);
        };
        // A `---` opening the document (and only that) is allowed.
        if first.indent == 0 && first.text.starts_with("---") {
            if !is_empty_rest(&first.text[3..]) || !is_break(first.text.as_bytes().get(3)) {
                return Err(Unsupported);
            }
            self.at += 1;
        }
        let Some(line) = self.peek() else {
            return Err(Unsupported);
        };
        self.node(line.indent, -1, true)?;
        if self.at < self.lines.len() {
            return Err(Unsupported);
        }
        Ok(())
    }

    /// The node starting at byte `col` of the current line, inside a block indented by
    /// `parent` (-1 at the top). `block`: whether a block mapping or sequence may start here
    /// (not after `key: `).
    fn node(&mut self, col: usize, parent: isize, block: bool) -> Scan<usize> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Unsupported);
        }
        let line = self.peek().ok_or(Unsupported)?;
        let node = match classify(line.text, col)? {
            Start::Entry if block => self.sequence(col)?,
            Start::Key(..) if block => self.mapping(col)?,
            Start::Entry | Start::Key(..) => return Err(Unsupported),
            Start::Leaf => {
                self.at += 1;
                self.push(line.number, Kind::Leaf)
            }
            Start::BlockScalar => {
                self.at += 1;
                self.skip_deeper(parent);
                self.push(line.number, Kind::Leaf)
            }
            Start::Plain => {
                // The parser hands integers too large for 64 bits on as 128-bit ones, which
                // the locator does not take.
                let scalar = line.text[col..].split(" #").next().unwrap_or_default();
                let scalar = scalar.trim_end();
                if scalar.len() > 18 && is_integer(scalar) {
                    return Err(Unsupported);
                }
                self.at += 1;
                // Lines indented deeper than the block go on the scalar.
                self.skip_deeper(parent);
                self.push(line.number, Kind::Leaf)
            }
        };
        self.depth -= 1;
        Ok(node)
    }

    /// Skips the lines indented deeper than `parent` (a block scalar's or a plain scalar's).
    fn skip_deeper(&mut self, parent: isize) {
        while self.peek().is_some_and(|l| l.indent as isize > parent) {
            self.at += 1;
        }
    }

    /// The value after `key:` or `-` when nothing follows on the line: the node on the next
    /// lines, or an empty value on the indicator's line.
    fn value_below(
        &mut self,
        parent: usize,
        indicator_line: usize,
        indentless: bool,
    ) -> Scan<usize> {
        match self.peek() {
            Some(next) if next.indent > parent => self.node(next.indent, parent as isize, true),
            Some(next)
                if indentless
                    && next.indent == parent
                    && matches!(classify(next.text, next.indent), Ok(Start::Entry)) =>
            {
                self.node(next.indent, parent as isize, true)
            }
            _ => Ok(self.push(indicator_line, Kind::Leaf)),
        }
    }

    /// A block mapping whose keys are at column `indent`, starting on the current line.
    fn mapping(&mut self, indent: usize) -> Scan<usize> {
        let first = self.peek().ok_or(Unsupported)?;
        let me = self.push(first.number, Kind::Map(Vec::new()));
        let mut entries = Vec::new();
        loop {
            let line = self.peek().ok_or(Unsupported)?;
            let Start::Key(key, after) = classify(line.text, indent)? else {
                return Err(Unsupported);
            };
            let rest = &line.text[after..];
            let value = if is_empty_rest(rest) {
                self.at += 1;
                self.value_below(indent, line.number, true)?
            } else {
                let at = line.text.len() - skip_blanks(rest).len();
                self.node(at, indent as isize, false)?
            };
            entries.push((key, line.number, value));
            match self.peek() {
                Some(next) if next.indent == indent => {
                    if matches!(classify(next.text, indent)?, Start::Key(..)) {
                        continue;
                    }
                    return Err(Unsupported);
                }
                Some(next) if next.indent > indent => return Err(Unsupported),
                _ => break,
            }
        }
        self.nodes[me].kind = Kind::Map(entries);
        Ok(me)
    }

    /// A block sequence whose `-` are at column `indent`, starting on the current line.
    fn sequence(&mut self, indent: usize) -> Scan<usize> {
        let first = self.peek().ok_or(Unsupported)?;
        let me = self.push(first.number, Kind::Seq(Vec::new()));
        let mut items = Vec::new();
        loop {
            let line = self.peek().ok_or(Unsupported)?;
            if !matches!(classify(line.text, indent)?, Start::Entry) {
                return Err(Unsupported);
            }
            let rest = &line.text[indent + 1..];
            if rest.starts_with('\t') {
                return Err(Unsupported);
            }
            let item = if is_empty_rest(rest) {
                self.at += 1;
                self.value_below(indent, line.number, false)?
            } else {
                let at = line.text.len() - skip_blanks(rest).len();
                self.node(at, indent as isize, true)?
            };
            items.push(item);
            match self.peek() {
                Some(next) if next.indent == indent => {
                    if matches!(classify(next.text, indent)?, Start::Entry) {
                        continue;
                    }
                    // The next key of the mapping holding this indentless sequence.
                    break;
                }
                Some(next) if next.indent > indent => return Err(Unsupported),
                _ => break,
            }
        }
        self.nodes[me].kind = Kind::Seq(items);
        Ok(me)
    }
}

#[cfg(test)]
mod tests {

    use proptest::prelude::*;

    use super::*;
    use crate::locate::{locate, render_field_path};

    /// Every path to a node of `index`, and for each node a step the document does not have
    /// (a missing key, an index past the end, a step below a leaf).
    fn paths(index: &LineIndex) -> Vec<Vec<FieldSegment>> {
        let mut out = Vec::new();
        let mut stack = vec![(0usize, Vec::new())];
        while let Some((node, path)) = stack.pop() {
            let mut missing = path.clone();
            match &index.nodes[node].kind {
                Kind::Leaf => missing.push(FieldSegment::Key("below".to_owned())),
                Kind::Map(entries) => {
                    missing.push(FieldSegment::Key("no-such-key".to_owned()));
                    for (key, _, value) in entries {
                        if let Some(key) = key {
                            let mut next = path.clone();
                            next.push(FieldSegment::Key(key.clone()));
                            stack.push((*value, next));
                        }
                    }
                }
                Kind::Seq(items) => {
                    missing.push(FieldSegment::Index(items.len()));
                    for (i, item) in items.iter().enumerate() {
                        let mut next = path.clone();
                        next.push(FieldSegment::Index(i));
                        stack.push((*item, next));
                    }
                }
            }
            out.push(missing);
            out.push(path);
        }
        out
    }

    /// Checks that the index and the parser agree on every path the index answers, at most
    /// `limit` of them spread over the document; returns how many it answered (`None`: the
    /// document is left to the parser).
    fn agree(text: &str, limit: usize) -> Option<usize> {
        let index = LineIndex::scan(text)?;
        let all = paths(&index);
        let step = all.len().div_ceil(limit.max(1)).max(1);
        let mut answered = 0;
        for path in all.iter().step_by(step) {
            if let Some(line) = index.line_of(path) {
                let field = render_field_path(path);
                assert_eq!(Some(line), locate(text, &field), "{field:?} in\n{text}");
                answered += 1;
            }
        }
        Some(answered)
    }

    /// `agree` on every path of a document the index must read.
    fn check(text: &str) {
        let answered = agree(text, usize::MAX).unwrap_or_else(|| panic!("not indexed:\n{text}"));
        assert!(answered > 0, "no path answered in\n{text}");
    }

    #[test]
    fn block_styles_agree_with_the_parser() {
        check(
            "\
# a job file
presubmits:
  org/repo:
  - name: unit
    always_run: true   # comment
    branches: [main, 'release-1.0']
    labels: {a: b, c: [d, e]}
    spec:
      containers:
      -   image: golang
          command:
          - make
          -
          - |
            multi
              line
          args: >-
            folded

            text
      - image: \"quoted: with colon\"
        env:
          - name: A
            value: 'it''s'
    decorate:
    'quoted key': 1
    \"dq\" : x
    Name: shadowed by an earlier key in any case
  other/repo: []
periodics:
- name: p
  cron: 0 * * * *
  description: a plain scalar
    that goes on
  interval:
-
  name: below its dash
- - nested
  - list
-
",
        );
        check("---\nkey: value\n");
        check("- a\n- b: c\n  d: e\n");
        check("plain scalar at the top\n");
        check("a:\r\n  b: 1\r\n");
        check("|\n  block scalar at the top\n");
        check("a: {}\nb: []\nc: ~\nd: null\n");
    }

    #[test]
    fn unusual_yaml_is_left_to_the_parser() {
        for text in [
            "a: &anchor\n  b: 1\nc: *anchor\n",
            "a: !!str 1\n",
            "? complex\n: key\n",
            "a: 1\n---\nb: 2\n",
            "a: [1,\n  2]\n",
            "a: \"multi\n  line\"\n",
            "a:\n\t- tab\n",
            "",
            "a: [unclosed\n",
            "a: 99999999999999999999999\n",
            "a: 1\r\nb: 2\rc: 3\n",
        ] {
            assert!(LineIndex::scan(text).is_none(), "indexed:\n{text}");
        }
        // Keys that are not plain strings make the paths through them the parser's.
        let index = LineIndex::scan("m:\n  1: one\n  true: yes\n  a: b\n").expect("indexed");
        let path = |key: &str| vec![FieldSegment::Key("m".into()), FieldSegment::Key(key.into())];
        assert_eq!(index.line_of(&path("a")), None);
        assert_eq!(index.line_of(&[FieldSegment::Key("m".into())]), Some(2));
    }

    include!("../../build-support/corpus.rs");

    /// Every YAML file of the corpus: the index agrees with the parser on paths spread over
    /// each, and reads nearly all of them (the others are located the slow way).
    #[test]
    #[cfg_attr(no_corpus, ignore = "corpus absent")]
    fn corpus_files_agree_with_the_parser() {
        let root = corpus();
        let files = corpus_yaml_files();
        let (mut parsed, mut indexed) = (0, 0);
        let mut left = Vec::new();
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            if serde_yaml::from_str::<serde::de::IgnoredAny>(&text).is_err() {
                continue;
            }
            parsed += 1;
            match agree(&text, 12) {
                Some(_) => indexed += 1,
                None => left.push(file.strip_prefix(&root).unwrap_or(file).to_owned()),
            }
        }
        eprintln!("{indexed} of {parsed} corpus files indexed; left to the parser: {left:?}");
        assert!(parsed > 500, "corpus too small: {parsed} files");
        assert!(
            indexed * 100 >= parsed * 95,
            "only {indexed} of {parsed} files indexed: {left:?}"
        );
    }

    /// A small random number generator for style choices.
    struct Styles(u64);

    impl Styles {
        fn pick(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// A YAML tree: scalars, mappings with repeated and differently cased keys, sequences.
    #[derive(Debug, Clone)]
    enum Tree {
        Scalar,
        Map(Vec<(usize, Tree)>),
        Seq(Vec<Tree>),
    }

    fn tree() -> impl Strategy<Value = Tree> {
        Just(Tree::Scalar).prop_recursive(5, 48, 4, |inner| {
            prop_oneof![
                prop::collection::vec((0usize..7, inner.clone()), 1..4).prop_map(Tree::Map),
                prop::collection::vec(inner, 0..4).prop_map(Tree::Seq),
            ]
        })
    }

    const KEYS: [&str; 7] = [
        "name",
        "Name",
        "org/repo",
        "'quoted key'",
        "\"dq\"",
        "a-b",
        "x y",
    ];
    const SCALARS: [&str; 9] = [
        "plain",
        "'single ''quoted'''",
        "\"double\"",
        "42",
        "true",
        "",
        "~",
        "[a, {b: c}]",
        "with:colon # and comment",
    ];

    /// Renders a flow collection of `tree` on one line.
    fn flow(tree: &Tree, out: &mut String, s: &mut Styles) {
        match tree {
            Tree::Scalar => out.push_str(["x", "'y z'", "1"][s.pick(3) as usize]),
            Tree::Map(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(["k", "'k'"][*key % 2]);
                    out.push_str(": ");
                    flow(value, out, s);
                }
                out.push('}');
            }
            Tree::Seq(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    flow(item, out, s);
                }
                out.push(']');
            }
        }
    }

    /// Renders `tree` as the value after `key:` or `-` (already written) of a block indented
    /// by `indent`.
    fn value(tree: &Tree, indent: usize, in_map: bool, out: &mut String, s: &mut Styles) {
        let deeper = indent + 1 + s.pick(3) as usize;
        match tree {
            Tree::Scalar => match s.pick(4) {
                0 => {
                    out.push_str(" |\n");
                    for _ in 0..=s.pick(2) {
                        out.push_str(&" ".repeat(deeper));
                        out.push_str("block: text [\n\n");
                    }
                }
                1 => {
                    out.push('\n');
                    out.push_str(&" ".repeat(deeper));
                    out.push_str("plain on the next line\n");
                    out.push_str(&" ".repeat(deeper + 1));
                    out.push_str("and the one after\n");
                }
                _ => {
                    out.push(' ');
                    out.push_str(SCALARS[s.pick(SCALARS.len() as u64) as usize]);
                    out.push('\n');
                }
            },
            _ if s.pick(5) == 0 => {
                out.push(' ');
                flow(tree, out, s);
                out.push('\n');
            }
            Tree::Seq(items) if items.is_empty() => out.push_str(" []\n"),
            Tree::Map(_) | Tree::Seq(_) => {
                out.push('\n');
                if s.pick(4) == 0 {
                    out.push_str(&" ".repeat(deeper));
                    out.push_str("# a comment\n\n");
                }
                // Sequences under a key may start at the key's column.
                let at = if in_map && matches!(tree, Tree::Seq(_)) && s.pick(2) == 0 {
                    indent
                } else {
                    deeper
                };
                block(tree, at, out, s);
            }
        }
    }

    /// Renders `tree` as a block node whose lines start at column `indent` (the first line's
    /// indentation already written when `inline`).
    fn block_at(tree: &Tree, indent: usize, inline: bool, out: &mut String, s: &mut Styles) {
        let pad = |out: &mut String, first: bool| {
            if !(first && inline) {
                out.push_str(&" ".repeat(indent));
            }
        };
        match tree {
            Tree::Scalar => {
                pad(out, true);
                out.push_str("scalar\n");
            }
            Tree::Map(entries) => {
                for (i, (key, v)) in entries.iter().enumerate() {
                    pad(out, i == 0);
                    out.push_str(KEYS[*key]);
                    out.push(':');
                    value(v, indent, true, out, s);
                }
            }
            Tree::Seq(items) if items.is_empty() => {
                pad(out, true);
                out.push_str("[]\n");
            }
            Tree::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    pad(out, i == 0);
                    out.push('-');
                    match item {
                        Tree::Map(_) | Tree::Seq(_) if s.pick(2) == 0 => {
                            // Compact: the item's first line follows the dash.
                            let gap = 1 + s.pick(2) as usize;
                            out.push_str(&" ".repeat(gap));
                            block_at(item, indent + 1 + gap, true, out, s);
                        }
                        _ => value(item, indent, false, out, s),
                    }
                }
            }
        }
    }

    fn block(tree: &Tree, indent: usize, out: &mut String, s: &mut Styles) {
        block_at(tree, indent, false, out, s);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Generated documents in every supported style: the index reads them all and agrees
        /// with the parser on every path.
        #[test]
        fn proptest_index_agrees_with_the_parser(tree in tree(), seed in 1u64..u64::MAX) {
            let mut styles = Styles(seed);
            let mut text = String::new();
            if styles.pick(4) == 0 {
                text.push_str("---\n");
            }
            block(&tree, 0, &mut text, &mut styles);
            prop_assume!(serde_yaml::from_str::<serde::de::IgnoredAny>(&text).is_ok());
            check(&text);
        }
    }
}
