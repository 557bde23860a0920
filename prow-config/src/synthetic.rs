//! Synthetic configuration trees (feature `test-util`): one repository with thousands of jobs,
//! for the tests and benchmarks that hold loading and validation near-linear.
//!
//! The jobs look like a large real repository's: most run on every branch, some on one
//! release branch or skip one, some run only when certain files change, most are decorated,
//! a few carry presets, labels and annotations. Four jobs in a hundred draw a default warning
//! (not decorated, a name too long for a label, its own repository cloned again), one in a
//! hundred has a misspelt field and one in twelve a branch name that is an unanchored regex
//! (both optional warnings), and one in a hundred a key in other letter case, which Go reads
//! as the field. [`OneRepo::mistakes`] adds a handful of realistic errors (repeated names and
//! contexts on overlapping branches, a repeated postsubmit and periodic) so the error paths
//! run too.

use std::fmt::Write as _;
use std::path::Path;

use crate::load::LoadOptions;

/// What [`write_one_repo`] generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OneRepo {
    /// Presubmits of `org/repo`.
    pub presubmits: usize,
    /// Postsubmits of `org/repo`.
    pub postsubmits: usize,
    /// Periodics.
    pub periodics: usize,
    /// Add a few repeated names and contexts (load then fails with their errors).
    pub mistakes: bool,
}

impl OneRepo {
    /// `presubmits` presubmits with a tenth as many postsubmits and a twentieth as many
    /// periodics, no mistakes.
    pub fn new(presubmits: usize) -> Self {
        OneRepo {
            presubmits,
            postsubmits: presubmits / 10,
            periodics: presubmits / 20,
            mistakes: false,
        }
    }

    /// Adds (or not) the repeated names and contexts.
    pub fn with_mistakes(mut self, mistakes: bool) -> Self {
        self.mistakes = mistakes;
        self
    }
}

/// The `config.yaml` of the tree: decoration defaults, a Tide query and context options
/// for the repository, a preset.
const CONFIG: &str = r#"plank:
  default_decoration_configs:
    '*':
      utility_images: {clonerefs: clonerefs, initupload: initupload, entrypoint: entrypoint, sidecar: sidecar}
      gcs_configuration: {bucket: artifacts, path_strategy: explicit}
tide:
  queries:
  - repos: [org/repo]
    labels: [lgtm, approved]
    missingLabels: [do-not-merge/hold, needs-rebase]
  context_options:
    orgs:
      org:
        repos:
          repo:
            branches:
              main: {skip-unknown-contexts: true}
presets:
- labels: {preset-service-account: "true"}
  env: [{name: GOOGLE_APPLICATION_CREDENTIALS, value: /etc/service-account/key.json}]
  volumes: [{name: service-account, secret: {secretName: service-account}}]
  volumeMounts: [{name: service-account, mountPath: /etc/service-account, readOnly: true}]
"#;

/// Writes `config.yaml` and `jobs/org/repo/org-repo.yaml` under `dir` and returns the options
/// that load them.
pub fn write_one_repo(dir: &Path, spec: &OneRepo) -> std::io::Result<LoadOptions> {
    let config = dir.join("config.yaml");
    std::fs::write(&config, CONFIG)?;
    let jobs_dir = dir.join("jobs");
    let repo_dir = jobs_dir.join("org/repo");
    std::fs::create_dir_all(&repo_dir)?;
    std::fs::write(repo_dir.join("org-repo.yaml"), jobs_yaml(spec))?;
    Ok(LoadOptions::new(config, Some(jobs_dir)))
}

/// The job file's text.
pub fn jobs_yaml(spec: &OneRepo) -> String {
    let mut out = String::with_capacity(spec.presubmits * 700);
    out.push_str("presubmits:\n  org/repo:\n");
    for i in 0..spec.presubmits {
        presubmit(&mut out, i, spec.mistakes);
    }
    out.push_str("postsubmits:\n  org/repo:\n");
    for i in 0..spec.postsubmits {
        let name = if spec.mistakes && i == 3 {
            "post-repo-1".to_owned()
        } else {
            format!("post-repo-{i}")
        };
        let _ = writeln!(out, "  - name: {name}\n    decorate: true");
        if i % 4 == 1 {
            let _ = writeln!(out, "    branches: [^main$]");
        }
        container(&mut out, "    ", &name);
    }
    out.push_str("periodics:\n");
    for i in 0..spec.periodics {
        let name = if spec.mistakes && i == 2 {
            "periodic-repo-0".to_owned()
        } else {
            format!("periodic-repo-{i}")
        };
        let _ = writeln!(out, "- name: {name}\n  decorate: true");
        if i.is_multiple_of(2) {
            let _ = writeln!(out, "  cron: \"{} */6 * * *\"", i % 60);
        } else {
            let _ = writeln!(out, "  interval: {}h", 1 + i % 24);
        }
        let _ = writeln!(
            out,
            "  extra_refs:\n  - {{org: org, repo: repo, base_ref: main}}"
        );
        // Clone settings do nothing on a periodic (a default warning).
        if i % 40 == 5 {
            let _ = writeln!(out, "  clone_uri: https://github.com/org/repo.git");
        }
        container(&mut out, "  ", &name);
    }
    out
}

/// One presubmit, `i`-th of the repository.
fn presubmit(out: &mut String, i: usize, mistakes: bool) {
    // A few mistakes, each in a form that really happens: a job copied without renaming
    // (same name, overlapping branches), and jobs copied with a new name but the old context.
    let (name, context) = match (mistakes, i) {
        (true, 7) => ("pull-repo-unit-3".to_owned(), "pull-repo-unit-3".to_owned()),
        (true, 11) => (
            "pull-repo-unit-11".to_owned(),
            "pull-repo-unit-5".to_owned(),
        ),
        (true, 13) => (
            "pull-repo-unit-13".to_owned(),
            "pull-repo-unit-5".to_owned(),
        ),
        // Every hundredth job has a name too long for a label (a default warning).
        _ if i % 100 == 42 => {
            let name =
                format!("pull-repo-unit-{i}-with-a-name-longer-than-a-kubernetes-label-allows");
            (name.clone(), name)
        }
        _ => (format!("pull-repo-unit-{i}"), format!("pull-repo-unit-{i}")),
    };
    let _ = writeln!(out, "  - name: {name}\n    context: {context}");
    match i % 8 {
        0 | 3 => {
            let _ = writeln!(out, "    always_run: true");
        }
        1 => {
            let _ = writeln!(out, "    run_if_changed: '^pkg/part{}/'", i % 97);
        }
        2 => {
            let _ = writeln!(out, "    skip_if_only_changed: '^docs/|\\.md$'");
        }
        4 => {
            let _ = writeln!(out, "    always_run: false\n    optional: true");
        }
        _ => {}
    }
    // Branch names written plainly are unanchored regexes: `release-4.1` also selects
    // `release-4.10` (the optional `unanchored-branches` warning).
    match (i % 6, i % 12) {
        (1, 1) => {
            let _ = writeln!(out, "    branches: [release-4.1]");
        }
        (1, release) => {
            let _ = writeln!(out, "    branches: [^release-4\\.{release}$]");
        }
        (4, release) => {
            let _ = writeln!(out, "    skip_branches: [release-4.{release}]");
        }
        (5, _) => {
            let _ = writeln!(out, "    branches: [main]");
        }
        _ => {}
    }
    // Every fiftieth job is not decorated, which the default warnings report.
    if i % 50 != 49 {
        let _ = writeln!(out, "    decorate: true");
    }
    if i.is_multiple_of(5) {
        let _ = writeln!(
            out,
            "    labels:\n      preset-service-account: \"true\"\n    annotations:\n      testgrid-dashboards: repo-presubmits"
        );
    }
    // Every hundredth clones its own repository again (a default warning), and another has a
    // misspelt field (reported with `unknown-fields-all`).
    if i % 100 == 17 {
        let _ = writeln!(
            out,
            "    extra_refs:\n    - {{org: org, repo: repo, base_ref: main}}"
        );
    }
    if i % 100 == 33 {
        let _ = writeln!(out, "    optinal: true");
    }
    // Go reads keys ignoring case, so this one is `skip_report`, without a warning.
    if i % 100 == 67 {
        let _ = writeln!(out, "    Skip_Report: false");
    }
    container(out, "    ", &name);
}

/// A pod spec with one container running `name`'s make target.
fn container(out: &mut String, indent: &str, name: &str) {
    let _ = writeln!(
        out,
        "{indent}spec:\n{indent}  containers:\n{indent}  - image: golang:1.22\n{indent}    command: [make]\n{indent}    args: [test, \"JOB={name}\"]\n{indent}    resources:\n{indent}      requests: {{cpu: \"2\", memory: 4Gi}}\n{indent}    env:\n{indent}    - {{name: GOFLAGS, value: -mod=vendor}}"
    );
}
