//! The ProwJob CRD matches upstream's identity: group, versions, names, scope, printer columns.

use serde_json::{Value, json};

use crate::corpus::corpus;

/// The parts of a CRD that clients depend on; the schema is ours.
fn identity(crd: &Value) -> Value {
    let spec = &crd["spec"];
    let versions: Vec<Value> = spec["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            json!({
                "name": v["name"],
                "served": v["served"],
                "storage": v["storage"],
                "subresources": v["subresources"],
                "additionalPrinterColumns": v["additionalPrinterColumns"],
            })
        })
        .collect();
    json!({
        "name": crd["metadata"]["name"],
        "group": spec["group"],
        "names": spec["names"],
        "scope": spec["scope"],
        "versions": versions,
    })
}

fn ours() -> Value {
    serde_json::to_value(prow_core::prowjob_crd()).unwrap()
}

#[test]
fn crd_identity_snapshot() {
    insta::assert_yaml_snapshot!("crd-identity", identity(&ours()));
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn crd_identity_matches_upstream() {
    let corpus = corpus();
    let path = corpus.join(
        "prow-testdata/config/prow/cluster/prowjob-crd/prowjob_customresourcedefinition.yaml",
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let upstream: Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(identity(&ours()), identity(&upstream));
}

#[test]
fn crd_schema_requires_what_upstream_requires() {
    let crd = ours();
    let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"];
    let mut spec_required: Vec<&str> = schema["spec"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    spec_required.sort_unstable();
    assert_eq!(spec_required, ["job", "type"]);
    assert_eq!(schema["status"]["required"], json!(["state"]));
    assert_eq!(
        schema["spec"]["properties"]["type"]["enum"],
        json!(["presubmit", "postsubmit", "periodic", "batch"])
    );
    // Durations are strings in the API even though integers are read.
    assert_eq!(
        schema["spec"]["properties"]["decoration_config"]["properties"]["timeout"]["type"],
        json!("string")
    );
    assert_eq!(crd["spec"]["preserveUnknownFields"], json!(false));
    assert_eq!(
        crd["metadata"]["annotations"]["api-approved.kubernetes.io"],
        json!("https://github.com/kubernetes/test-infra/pull/8669")
    );
}
