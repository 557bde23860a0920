//! Headless Chromium for the browser tests of deck (this crate's `deck_browser`, and prow-cli's
//! `browser`, which includes this file by path): find the browser, dump a page's DOM after its
//! scripts ran, and take screenshots.
//!
//! Without Chromium a test skips with a notice, except under `CI=true`, where a missing browser
//! fails it (`.ci/run` installs Debian's `chromium`). Screenshots go to
//! `target/browser-artifacts/`; with `PROW_UPDATE_SCREENSHOTS=1` those the README shows are also
//! written to `docs/`, which is how they are refreshed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How much virtual time Chromium gives a page's scripts to fetch and render.
const VIRTUAL_TIME_MS: &str = "10000";

/// Headless Chromium with its own profile directory.
pub(crate) struct Chromium {
    browser: PathBuf,
    profile: PathBuf,
}

impl Chromium {
    /// Debian's Chromium with a profile in `profile`; `None` (after a notice) when it is not
    /// installed, and a failure then under `CI=true`.
    pub(crate) fn find(profile: &Path) -> Option<Chromium> {
        let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists());
        let Some(browser) = browser else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "chromium is missing and CI=true: install it (apt-get install -y chromium)"
            );
            eprintln!("notice: chromium not found; skipping the headless-browser test");
            return None;
        };
        Some(Chromium {
            browser,
            profile: profile.to_owned(),
        })
    }

    /// Runs Chromium headless on `url` with `extra` flags: its standard output and error.
    pub(crate) fn run(&self, url: &str, extra: &[String]) -> (String, String) {
        let out = Command::new(&self.browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", self.profile.display()))
            .arg(format!("--virtual-time-budget={VIRTUAL_TIME_MS}"))
            .args(extra)
            .arg(url)
            .stdin(Stdio::null())
            .output()
            .expect("chromium starts");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The DOM of `url` once its scripts have run.
    pub(crate) fn dom(&self, url: &str) -> String {
        let (dom, stderr) = self.run(url, &["--dump-dom".to_owned()]);
        assert!(
            !dom.is_empty(),
            "chromium printed no DOM of {url}: {stderr}"
        );
        dom
    }

    /// A screenshot of `url` in a window of `width` × `height`, saved as
    /// `target/browser-artifacts/<file>` (and as `docs/<file>` with
    /// `PROW_UPDATE_SCREENSHOTS=1`); returns the first path.
    pub(crate) fn screenshot(&self, url: &str, file: &str, width: u32, height: u32) -> PathBuf {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let shots = root.join("target/browser-artifacts");
        std::fs::create_dir_all(&shots).unwrap();
        let shot = shots.canonicalize().unwrap().join(file);
        let _ = std::fs::remove_file(&shot);
        let (_, stderr) = self.run(
            url,
            &[
                format!("--screenshot={}", shot.display()),
                format!("--window-size={width},{height}"),
            ],
        );
        assert!(
            shot.metadata().is_ok_and(|m| m.len() > 0),
            "no screenshot at {}: {stderr}",
            shot.display()
        );
        if std::env::var("PROW_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
            std::fs::copy(&shot, root.join("docs").join(file)).unwrap();
        }
        eprintln!("screenshot of {url}: {}", shot.display());
        shot
    }
}
