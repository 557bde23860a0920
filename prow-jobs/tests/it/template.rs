//! Go templates over ProwJobs: every `report_template`, `report_templates` entry and
//! `job_url_template` of the corpus deployments renders, the failed-tests comment carries the
//! rendered report template, and job URLs come from `job_url_prefix_config` or the template.

use prow_config::prow::Plank;
use prow_core::ProwJob;
use prow_jobs::crier::comment::{comment_body, table_row};
use prow_jobs::plank::job_url;
use prow_jobs::template::{go_name, render};
use serde_json::json;

use crate::support::{corpus, corpus_yaml_files};

/// A failed presubmit on pull request 1234 of `org/repo`, decorated with the bucket `bucket`.
fn presubmit(org: &str, repo: &str, bucket: &str) -> ProwJob {
    let doc = json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {"name": "5e7f9a3c-0d1e-11ef-9b3b-0a580a6c0b2a"},
        "spec": {
            "type": "presubmit",
            "agent": "kubernetes",
            "job": "pull-widget-unit",
            "context": "pull-widget-unit",
            "rerun_command": "/test pull-widget-unit",
            "report": true,
            "refs": {
                "org": org, "repo": repo, "base_ref": "main",
                "base_sha": "fedcba9876543210fedcba9876543210fedcba98",
                "base_link": format!("https://github.com/{org}/{repo}/commit/fedcba98"),
                "pulls": [{"number": 1234, "author": "alice",
                           "sha": "0123456789abcdef0123456789abcdef01234567"}],
            },
            "decoration_config": {
                "gcs_configuration": {"bucket": bucket, "path_strategy": "explicit"},
            },
        },
        "status": {
            "startTime": "2026-11-23T10:00:00Z",
            "state": "failure",
            "build_id": "1790000000000000000",
            "url": "https://prow.example.com/view/gs/logs/pull-widget-unit/1790000000000000000",
        },
    });
    serde_json::from_value(doc).expect("a valid ProwJob")
}

/// Every template setting under `value`, with where it is.
fn templates(value: &serde_yaml::Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        serde_yaml::Value::Mapping(map) => {
            for (key, child) in map {
                let key = key.as_str().unwrap_or_default();
                let here = format!("{at}.{key}");
                match (key, child) {
                    ("report_template" | "job_url_template", serde_yaml::Value::String(t)) => {
                        out.push((here, t.clone()));
                    }
                    ("report_templates", serde_yaml::Value::Mapping(by_repo)) => {
                        for (repo, t) in by_repo {
                            if let Some(t) = t.as_str() {
                                let repo = repo.as_str().unwrap_or_default();
                                out.push((format!("{here}[{repo}]"), t.to_owned()));
                            }
                        }
                    }
                    _ => templates(child, &here, out),
                }
            }
        }
        serde_yaml::Value::Sequence(items) => {
            for (i, child) in items.iter().enumerate() {
                templates(child, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn every_template_in_the_corpus_renders() {
    let corpus = corpus();
    let files = corpus_yaml_files();
    let job = presubmit("kubernetes-sigs", "widget", "kubernetes-ci-logs");
    let mut found = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        // Most job files set no template; only those that name one are parsed.
        if !text.contains("_template") {
            continue;
        }
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let Ok(value) = <serde_yaml::Value as serde::Deserialize>::deserialize(doc) else {
                continue;
            };
            let mut here = Vec::new();
            templates(&value, "", &mut here);
            found.extend(here.into_iter().map(|(at, t)| (file.clone(), at, t)));
        }
    }
    // All four deployments set report templates and k8s's jobs set dozens of Slack ones.
    assert!(found.len() > 40, "only {} templates found", found.len());
    let deployments: std::collections::BTreeSet<_> = found
        .iter()
        .filter_map(|(file, _, _)| file.strip_prefix(&corpus).ok()?.iter().next())
        .collect();
    for deployment in [
        "k8s-test-infra",
        "knative-infra",
        "kyma-project-test-infra",
        "jetstack-testing",
    ] {
        assert!(
            deployments.iter().any(|d| *d == deployment),
            "no template found in {deployment}"
        );
    }
    for (file, at, text) in &found {
        let rendered = render("report_template", text, &job)
            .unwrap_or_else(|e| panic!("{}{at}: {e}\n{text}", file.display()));
        assert!(
            !rendered.contains("{{") && !rendered.contains("<no value>"),
            "{}{at} rendered {rendered:?}",
            file.display()
        );
    }
}

#[test]
fn templates_see_go_field_names_and_zero_values() {
    let job = presubmit("acme", "widget", "logs");
    let render = |t: &str| render("t", t, &job).unwrap();
    assert_eq!(
        render("{{.Spec.Refs.BaseSHA}}"),
        "fedcba9876543210fedcba9876543210fedcba98"
    );
    assert_eq!(render(r#"{{printf "%.7s" .Spec.Refs.BaseSHA}}"#), "fedcba9");
    assert_eq!(
        render("{{.Status.BuildID}} {{.Status.State}}"),
        "1790000000000000000 failure"
    );
    assert_eq!(
        render("{{with index .Spec.Refs.Pulls 0}}{{.Number}} {{.Author}}{{end}}"),
        "1234 alice"
    );
    assert_eq!(
        render("{{.Name}} = {{.ObjectMeta.Name}}"),
        format!("{0} = {0}", job.name())
    );
    // Absent in the JSON, present in Go's struct.
    assert_eq!(
        render("[{{.Spec.Cluster}}][{{.Spec.Refs.PathAlias}}][{{.Spec.MaxConcurrency}}]"),
        "[][][0]"
    );
    assert_eq!(
        render(
            r#"{{if or (eq .Spec.Type "presubmit") (eq .Spec.Type "batch")}}pr{{else if eq .Spec.Type "periodic"}}p{{else}}x{{end}}"#
        ),
        "pr"
    );
    assert_eq!(
        render("{{if .Spec.ExtraRefs}}extra{{else}}none{{end}}"),
        "none"
    );
    assert!(prow_jobs::template::render("t", "{{if .Spec.Job}}", &job).is_err());
    assert_eq!(go_name("base_sha"), "BaseSHA");
    assert_eq!(go_name("clone_uri"), "CloneURI");
    assert_eq!(go_name("jenkins_build_id"), "JenkinsBuildID");
    assert_eq!(go_name("completionTime"), "CompletionTime");
    assert_eq!(go_name("url"), "URL");
}

/// k8s-test-infra's `report_templates["*"]` (copied so the snapshot does not need the corpus).
const K8S_REPORT_TEMPLATE: &str = "[Full PR test history](https://prow.k8s.io/pr-history?org={{.Spec.Refs.Org}}&repo={{.Spec.Refs.Repo}}&pr={{with index .Spec.Refs.Pulls 0}}{{.Number}}{{end}}). [Your PR dashboard](https://prow.k8s.io/pr?query=is%3Apr%20state%3Aopen%20author%3A{{with index .Spec.Refs.Pulls 0}}{{.Author}}{{end}}). Please help us cut down on flakes by [linking to](https://git.k8s.io/community/contributors/devel/sig-testing/flaky-tests.md#filing-issues-for-flaky-tests) an [open issue](https://github.com/{{.Spec.Refs.Org}}/{{.Spec.Refs.Repo}}/issues?q=is:issue+is:open) when you hit one in your PR.";

#[test]
fn the_failed_tests_comment_carries_the_rendered_report_template() {
    let job = presubmit("kubernetes", "kubernetes", "kubernetes-ci-logs");
    let report = render("report_template", K8S_REPORT_TEMPLATE, &job).unwrap();
    insta::assert_snapshot!(
        "comment_with_report_template",
        comment_body("alice", &[table_row(&job)], Some(&report))
    );
}

/// k8s-test-infra's `job_url_template`.
const K8S_JOB_URL_TEMPLATE: &str = r#"https://prow.k8s.io/view/gs/kubernetes-ci-logs/{{if eq .Spec.Type "presubmit"}}pr-logs/pull{{else if eq .Spec.Type "batch"}}pr-logs/pull{{else}}logs{{end}}{{if .Spec.Refs}}{{if ne .Spec.Refs.Org ""}}{{if ne .Spec.Refs.Org "kubernetes"}}/{{if eq .Spec.Refs.Org "kubernetes-sigs"}}sigs.k8s.io{{else}}{{.Spec.Refs.Org}}{{end}}_{{.Spec.Refs.Repo}}{{else if ne .Spec.Refs.Repo "kubernetes"}}/{{.Spec.Refs.Repo}}{{end}}{{end}}{{end}}{{if eq .Spec.Type "presubmit"}}/{{with index .Spec.Refs.Pulls 0}}{{.Number}}{{end}}{{else if eq .Spec.Type "batch"}}/batch{{end}}/{{.Spec.Job}}/{{.Status.BuildID}}/"#;

#[test]
fn job_urls_come_from_the_view_prefix_else_from_the_template() {
    let job = presubmit("acme", "widget", "kubernetes-ci-logs");
    let mut plank = Plank::default();
    plank.job_url_template = K8S_JOB_URL_TEMPLATE.to_owned();
    // Without a prefix, the template (k8s's own) builds it.
    let from_template = job_url(&plank, &job);
    assert_eq!(
        from_template,
        "https://prow.k8s.io/view/gs/kubernetes-ci-logs/pr-logs/pull/acme_widget/1234/pull-widget-unit/1790000000000000000/"
    );
    // All four corpus deployments set `job_url_prefix_config` to a `/view/` prefix: the URL
    // is the prefix, `gs/` and the bucket, and the job's path, as upstream's `JobURL`; it
    // names the same folder the template does.
    plank
        .job_url_prefix_config
        .insert("*".to_owned(), "https://prow.k8s.io/view/".to_owned());
    let from_prefix = job_url(&plank, &job);
    assert_eq!(
        from_prefix,
        "https://prow.k8s.io/view/gs/kubernetes-ci-logs/pr-logs/pull/acme_widget/1234/pull-widget-unit/1790000000000000000"
    );
    assert_eq!(from_template.trim_end_matches('/'), from_prefix);
    // A bucket with a provider keeps it.
    let s3 = presubmit("acme", "widget", "s3://results");
    assert_eq!(
        job_url(&plank, &s3),
        "https://prow.k8s.io/view/s3/results/pr-logs/pull/acme_widget/1234/pull-widget-unit/1790000000000000000"
    );
    // A template that fails to run gives no URL rather than a wrong one.
    let mut broken = Plank::default();
    broken.job_url_template = "{{.Spec.Nope.Deeper}}".to_owned();
    assert_eq!(job_url(&broken, &job), "");
}
