//! ProwJob construction from configured jobs, as Prow's pjutil.

use prow_config::{Periodic, Postsubmit, Presubmit};
use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_core::{ProwJobState, ProwJobType, Pull};
use prow_jobs::pjutil;

fn now() -> Time {
    Time("2026-11-23T08:00:00Z".parse().unwrap())
}

fn presubmit(yaml: &str) -> Presubmit {
    serde_yaml::from_str(yaml).unwrap()
}

#[test]
fn a_presubmit_gets_refs_completed_from_its_clone_settings() {
    let job = presubmit(
        "name: pull-unit\ncontext: ci/unit\nrerun_command: /test unit\nskip_report: true\noptional: true\n\
         path_alias: k8s.io/widget\nclone_uri: git@github.com:o/r.git\nclone_depth: 3\nskip_submodules: true\n\
         labels: {team: infra}\nannotations: {owner: infra}\nspec: {containers: [{image: x}]}\n",
    );
    let refs = pjutil::pull_refs(
        "o",
        "r",
        "main",
        "b0",
        Pull {
            number: 5,
            author: "al".into(),
            sha: "p5".into(),
            ..Pull::default()
        },
    );
    let spec = pjutil::presubmit_spec(&job, refs).unwrap();
    assert_eq!(spec.job_type, ProwJobType::Presubmit);
    assert_eq!(
        (
            spec.context.as_str(),
            spec.rerun_command.as_str(),
            spec.report
        ),
        ("ci/unit", "/test unit", false)
    );
    let refs = spec.refs.as_ref().unwrap();
    assert_eq!(
        (
            refs.path_alias.as_str(),
            refs.clone_uri.as_str(),
            refs.clone_depth,
            refs.skip_submodules
        ),
        ("k8s.io/widget", "git@github.com:o/r.git", 3, true)
    );
    assert_eq!(refs.base_link, "https://github.com/o/r/commit/b0");
    assert_eq!(
        refs.pulls[0].commit_link,
        "https://github.com/o/r/pull/5/commits/p5"
    );
    let labels = pjutil::presubmit_labels(&job, "guid-1", &Default::default());
    let pj = pjutil::new_prowjob(spec, &labels, &job.annotations, now());
    let meta_labels = pj.metadata.labels.as_ref().unwrap();
    assert_eq!(meta_labels["team"], "infra");
    assert_eq!(meta_labels["event-GUID"], "guid-1");
    assert_eq!(meta_labels["prow.k8s.io/is-optional"], "true");
    assert_eq!(
        meta_labels["prow.k8s.io/context"], "unit",
        "an invalid label value becomes its last path element"
    );
    assert_eq!(pj.metadata.annotations.as_ref().unwrap()["owner"], "infra");
    let status = pj.status.as_ref().unwrap();
    assert_eq!(
        (status.state, status.start_time.clone()),
        (ProwJobState::Triggered, Some(now()))
    );
    // A random (version 4) UUID: 8-4-4-4-12 hex digits, version nibble 4.
    let name = pj.name();
    assert_eq!((name.len(), name.as_bytes()[14]), (36, b'4'), "{name}");
}

#[test]
fn postsubmits_periodics_and_batches() {
    let post: Postsubmit = serde_yaml::from_str(
        "name: post-build\ncontext: build\nspec: {containers: [{image: x}]}\n",
    )
    .unwrap();
    let spec =
        pjutil::postsubmit_spec(&post, pjutil::branch_refs("o", "r", "main", "abc")).unwrap();
    assert_eq!(
        (spec.job_type, spec.report, spec.rerun_command.as_str()),
        (ProwJobType::Postsubmit, true, "")
    );
    assert_eq!(spec.refs.unwrap().pull_refs(), "main:abc");

    let periodic: Periodic = serde_yaml::from_str(
        "name: ci-nightly\ninterval: 24h\nextra_refs: [{org: o, repo: r, base_ref: main}]\nspec: {containers: [{image: x}]}\n",
    )
    .unwrap();
    let spec = pjutil::periodic_spec(&periodic).unwrap();
    assert_eq!(
        (spec.job_type, spec.report, spec.refs.is_none()),
        (ProwJobType::Periodic, true, true)
    );
    let pj = pjutil::new_prowjob(spec, &periodic.labels, &periodic.annotations, now());
    assert_eq!(
        pj.metadata.labels.as_ref().unwrap()["prow.k8s.io/refs.repo"],
        "r",
        "labels come from extra_refs[0]"
    );

    let job = presubmit("name: pull-unit\ncontext: unit\nspec: {containers: [{image: x}]}\n");
    let mut refs = pjutil::pull_refs(
        "o",
        "r",
        "main",
        "b",
        Pull {
            number: 1,
            sha: "s1".into(),
            ..Pull::default()
        },
    );
    refs.pulls.push(Pull {
        number: 2,
        sha: "s2".into(),
        ..Pull::default()
    });
    let spec = pjutil::batch_spec(&job, refs).unwrap();
    assert_eq!((spec.job_type, spec.report), (ProwJobType::Batch, false));
    assert_eq!(spec.refs.unwrap().pull_refs(), "main:b,1:s1,2:s2");
}

#[test]
fn long_job_names_are_cut_for_labels_but_kept_in_annotations() {
    let name = format!("pull-{}", "very-long-".repeat(8));
    let job = presubmit(&format!(
        "name: {name}\nspec: {{containers: [{{image: x}}]}}\n"
    ));
    let refs = pjutil::pull_refs(
        "o",
        "r",
        "main",
        "b",
        Pull {
            number: 1,
            sha: "s".into(),
            ..Pull::default()
        },
    );
    let pj = pjutil::new_prowjob(
        pjutil::presubmit_spec(&job, refs).unwrap(),
        &job.labels,
        &job.annotations,
        now(),
    );
    let label = &pj.metadata.labels.as_ref().unwrap()["prow.k8s.io/job"];
    assert!(label.len() <= 63 && !label.ends_with('-'), "{label}");
    assert_eq!(
        pj.metadata.annotations.as_ref().unwrap()["prow.k8s.io/job"],
        name
    );
}

#[tokio::test]
async fn missing_pull_details_come_from_github() {
    use prow_github::fake::FakeGitHub;
    use prow_github::types::{Branch, PullRequest, User};
    let fake = FakeGitHub::new("bot");
    fake.add_pull_request(
        "o",
        "r",
        PullRequest {
            number: 12,
            title: "Add the thing".into(),
            state: "open".into(),
            user: User {
                login: "carol".into(),
                ..User::default()
            },
            head: Branch {
                git_ref: "thing".into(),
                sha: "h12".into(),
                ..Branch::default()
            },
            base: Branch {
                git_ref: "release-1.0".into(),
                sha: "old".into(),
                ..Branch::default()
            },
            ..PullRequest::default()
        },
    );
    fake.state()
        .branches
        .insert(("o".into(), "r".into(), "release-1.0".into()), "b10".into());
    let query = pjutil::PullQuery {
        pull: Pull {
            number: 12,
            ..Pull::default()
        },
        ..Default::default()
    };
    let done = pjutil::complete_pull(&fake, "o", "r", query).await.unwrap();
    assert_eq!(
        (done.base_ref.as_str(), done.base_sha.as_str()),
        ("release-1.0", "b10")
    );
    assert_eq!(
        (
            done.pull.author.as_str(),
            done.pull.sha.as_str(),
            done.pull.head_ref.as_str()
        ),
        ("carol", "h12", "thing")
    );
    assert_eq!(done.pull.title, "Add the thing");
    // Given values win, and nothing is asked when nothing is missing.
    let given = pjutil::PullQuery {
        base_ref: "main".into(),
        base_sha: "b0".into(),
        pull: Pull {
            number: 12,
            author: "dave".into(),
            sha: "s".into(),
            ..Pull::default()
        },
    };
    assert_eq!(
        pjutil::complete_pull(&fake, "o", "r", given.clone())
            .await
            .unwrap(),
        given
    );
    assert_eq!(fake.state().calls.get("pull_request"), Some(&1));
    assert!(matches!(
        pjutil::complete_pull(
            &fake,
            "o",
            "r",
            pjutil::PullQuery {
                pull: Pull {
                    number: 99,
                    ..Pull::default()
                },
                ..Default::default()
            }
        )
        .await,
        Err(prow_github::Error::NotFound { .. })
    ));
}

/// A loaded job keeps its spec as written; the ProwJob made from it carries the spec with the
/// presets its labels select merged in Prow's order (env after the job's own, then volumes,
/// mounts and tolerations).
#[test]
fn the_prowjob_gets_the_presets_the_loaded_job_shares() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        "presets:\n\
         - labels: {preset-a: 'true'}\n  env: [{name: A, value: '1'}]\n  volumes: [{name: va, emptyDir: {}}]\n  volumeMounts: [{name: va, mountPath: /a}]\n\
         - labels: {preset-b: 'true'}\n  env: [{name: B, value: '2'}]\n  tolerations: [{key: k, operator: Exists}]\n\
         - labels: {preset-c: 'true'}\n  env: [{name: C, value: '3'}]\n\
         periodics:\n\
         - name: nightly\n  interval: 1h\n  labels: {preset-a: 'true', preset-b: 'true'}\n  spec:\n    containers:\n    - {image: x, env: [{name: OWN, value: '0'}]}\n\
         - name: plain\n  interval: 1h\n  spec: {containers: [{image: x}]}\n",
    )
    .unwrap();
    let loaded = prow_config::load(&prow_config::LoadOptions::new(&config, None)).unwrap();
    let env_names = |spec: &prow_core::k8s_openapi::api::core::v1::PodSpec| -> Vec<Vec<String>> {
        spec.containers
            .iter()
            .map(|c| c.env.iter().flatten().map(|e| e.name.clone()).collect())
            .collect()
    };
    let nightly = &loaded.jobs.periodics[0];
    let written = nightly.spec.as_ref().unwrap();
    assert_eq!(env_names(written), [vec!["OWN"]]);
    assert!(written.volumes.is_none() && written.tolerations.is_none());

    let pod = pjutil::periodic_spec(nightly).unwrap().pod_spec.unwrap();
    assert_eq!(env_names(&pod), [vec!["OWN", "A", "B"]]);
    let volumes: Vec<_> = pod
        .volumes
        .iter()
        .flatten()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(volumes, ["va"]);
    for container in &pod.containers {
        let mounts: Vec<_> = container
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| (m.name.as_str(), m.mount_path.as_str()))
            .collect();
        assert_eq!(mounts, [("va", "/a")]);
    }
    assert_eq!(pod.tolerations.as_ref().map(Vec::len), Some(1));
    assert_eq!(nightly.effective_spec().as_deref(), Some(&*pod));

    // No preset selects `plain`: its ProwJob gets the spec as written, lists left unset.
    let plain = &loaded.jobs.periodics[1];
    let pod = pjutil::periodic_spec(plain).unwrap().pod_spec.unwrap();
    assert_eq!(Some(&*pod), plain.spec.as_ref());
    assert!(pod.volumes.is_none() && pod.containers[0].env.is_none());
}
