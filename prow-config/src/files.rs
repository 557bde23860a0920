//! Configuration files on disk: gzip detection, `.prowignore` rules and folder walks.

use std::io::Read;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::Error;

/// Reads a file as UTF-8, gunzipping it first when it starts with gzip's magic bytes.
pub(crate) fn read_maybe_gzip(path: &Path) -> Result<String, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io)?;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(io)?;
        out
    } else {
        bytes
    };
    String::from_utf8(bytes)
        .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// The rules of one `.prowignore` file (gitignore syntax), relative to its directory.
#[derive(Debug, Default)]
pub(crate) struct Ignore {
    rules: Vec<(GlobSet, bool, bool)>,
}

impl Ignore {
    /// Whether `rel` (relative to the root, `/`-separated) is ignored; the last matching rule
    /// wins, as in gitignore.
    fn ignored(&self, rel: &str, is_dir: bool, mut ignored: bool) -> bool {
        for (set, negate, dir_only) in &self.rules {
            if *dir_only && !is_dir {
                continue;
            }
            if set.is_match(rel) {
                ignored = !negate;
            }
        }
        ignored
    }
}

pub(crate) fn prowignore(root: &Path) -> Result<Ignore, Error> {
    let path = root.join(".prowignore");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Ignore::default());
    };
    let mut rules = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (negate, pattern) = match line.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, line),
        };
        let (dir_only, pattern) = match pattern.strip_suffix('/') {
            Some(p) => (true, p),
            None => (false, pattern),
        };
        let anchored = pattern.contains('/');
        let pattern = pattern.trim_start_matches('/');
        let base = if anchored {
            pattern.to_owned()
        } else {
            format!("**/{pattern}")
        };
        let mut set = GlobSetBuilder::new();
        for glob in [base.clone(), format!("{base}/**")] {
            let glob = Glob::new(&glob).map_err(|e| Error::Io {
                path: path.clone(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            })?;
            set.add(glob);
        }
        let set = set.build().map_err(|e| Error::Io {
            path: path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        rules.push((set, negate, dir_only));
    }
    Ok(Ignore { rules })
}

/// Collects `.yaml`/`.yml` files under `dir` in name order, skipping `..`-prefixed entries and
/// paths matched by a `.prowignore` in `dir` or above (nested files apply like `.gitignore`s).
pub(crate) fn walk(
    dir: &Path,
    ignores: &mut Vec<(PathBuf, Ignore)>,
    out: &mut Vec<PathBuf>,
) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: dir.to_owned(),
        source,
    };
    let pushed = dir.join(".prowignore").is_file();
    if pushed {
        ignores.push((dir.to_owned(), prowignore(dir)?));
    }
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("..") {
            continue;
        }
        let path = entry.path();
        let is_dir = std::fs::metadata(&path).map_err(io)?.is_dir();
        let ignored = ignores.iter().fold(false, |ignored, (base, rules)| {
            let rel = path
                .strip_prefix(base)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            rules.ignored(&rel, is_dir, ignored)
        });
        if ignored {
            continue;
        }
        if is_dir {
            walk(&path, ignores, out)?;
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
    if pushed {
        ignores.pop();
    }
    Ok(())
}
