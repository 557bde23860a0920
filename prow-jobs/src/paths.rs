//! Slash-separated paths joined and cleaned like Go's `path.Join` and `path.Clean`.

/// Go's `path.Clean`: the shortest equivalent path, lexically.
pub(crate) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// Go's `path.Join`: the non-empty parts joined with `/`, then cleaned; empty if all are empty.
pub(crate) fn join(parts: &[&str]) -> String {
    let non_empty: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    if non_empty.is_empty() {
        return String::new();
    }
    clean(&non_empty.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_go() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("a/b/../c", "a/c"),
            ("/../a//b/./", "/a/b"),
            ("../../x", "../../x"),
            ("a/..", "."),
        ] {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
        assert_eq!(join(&["/logs", "artifacts"]), "/logs/artifacts");
        assert_eq!(join(&["", ""]), "");
        assert_eq!(join(&["/secrets/ssh", "a/../b"]), "/secrets/ssh/b");
    }
}
