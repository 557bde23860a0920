//! The JUnit lens: test results from `junit*.xml` artifacts, as spyglass's junit lens shows
//! them (failed first, then skipped, then passed).

use serde::Serialize;

/// How a test case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Outcome {
    /// A `<failure>` or `<error>` child.
    Failed,
    /// A `<skipped>` child.
    Skipped,
    /// Neither.
    Passed,
}

/// One test case.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TestCase {
    /// The enclosing suite's name (innermost).
    pub suite: String,
    /// `classname`.
    pub class: String,
    /// `name`.
    pub name: String,
    /// `time` in seconds (0 when absent or unreadable).
    pub time: f64,
    /// How it ended.
    pub outcome: Outcome,
    /// The failure's or error's message and text, or the skip message.
    pub message: String,
}

/// The test cases of one JUnit file, failed first, then skipped, then passed; file order
/// within each.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Results {
    /// Every test case.
    pub tests: Vec<TestCase>,
    /// How many passed.
    pub passed: usize,
    /// How many failed.
    pub failed: usize,
    /// How many were skipped.
    pub skipped: usize,
}

/// Why a JUnit file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JunitError {
    /// Not well-formed XML.
    #[error("not well-formed XML: {0}")]
    Xml(String),
    /// The root element is neither `<testsuites>` nor `<testsuite>`.
    #[error("root element <{0}> is neither <testsuites> nor <testsuite>")]
    Root(String),
}

/// Whether spyglass's junit lens reads the artifact called `path` (Prow's default
/// `artifacts/junit.*\.xml`, by file name).
pub fn is_junit(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.starts_with("junit") && file.ends_with(".xml")
}

/// Parses a JUnit XML document (`<testsuites>` or a lone `<testsuite>`, suites nested at any
/// depth).
pub fn parse(xml: &str) -> Result<Results, JunitError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| JunitError::Xml(e.to_string()))?;
    let root = doc.root_element();
    let root_name = root.tag_name().name();
    if root_name != "testsuites" && root_name != "testsuite" {
        return Err(JunitError::Root(root_name.to_owned()));
    }
    let mut tests = Vec::new();
    collect(root, "", &mut tests);
    tests.sort_by_key(|t| t.outcome);
    let count = |o: Outcome| tests.iter().filter(|t| t.outcome == o).count();
    Ok(Results {
        passed: count(Outcome::Passed),
        failed: count(Outcome::Failed),
        skipped: count(Outcome::Skipped),
        tests,
    })
}

fn collect(node: roxmltree::Node<'_, '_>, suite: &str, out: &mut Vec<TestCase>) {
    let suite = if node.tag_name().name() == "testsuite" {
        node.attribute("name").unwrap_or(suite)
    } else {
        suite
    };
    for child in node.children().filter(roxmltree::Node::is_element) {
        match child.tag_name().name() {
            "testsuite" => collect(child, suite, out),
            "testcase" => out.push(case(child, suite)),
            _ => {}
        }
    }
}

fn case(node: roxmltree::Node<'_, '_>, suite: &str) -> TestCase {
    let mut outcome = Outcome::Passed;
    let mut message = String::new();
    for child in node.children().filter(roxmltree::Node::is_element) {
        let kind = child.tag_name().name();
        let found = match kind {
            "failure" | "error" => Outcome::Failed,
            "skipped" => Outcome::Skipped,
            _ => continue,
        };
        if found < outcome {
            outcome = found;
        }
        let attribute = child.attribute("message").unwrap_or("");
        let text = child.text().unwrap_or("").trim();
        let both = match (attribute.is_empty(), text.is_empty()) {
            (true, _) => text.to_owned(),
            (false, true) => attribute.to_owned(),
            (false, false) if text.contains(attribute) => text.to_owned(),
            (false, false) => format!("{attribute}\n{text}"),
        };
        if !message.is_empty() && !both.is_empty() {
            message.push('\n');
        }
        message.push_str(&both);
    }
    TestCase {
        suite: suite.to_owned(),
        class: node.attribute("classname").unwrap_or("").to_owned(),
        name: node.attribute("name").unwrap_or("").to_owned(),
        time: node
            .attribute("time")
            .and_then(|t| t.trim().replace(',', "").parse().ok())
            .unwrap_or(0.0),
        outcome,
        message,
    }
}
