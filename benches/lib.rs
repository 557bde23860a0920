//! Benchmarks of prow-rs; run with `cargo bench -p prow-benches`.

use std::path::PathBuf;

/// The corpus of real Prow deployments: `PROW_CORPUS`, else `../shared/corpus` beside the
/// repository; `None` when it is not there.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PROW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    dir.is_dir().then_some(dir)
}

/// `count` changed paths shaped like a kubernetes/kubernetes pull request's: Go, YAML and
/// Markdown files spread over the trees its presubmits watch (and many they don't), in a
/// fixed pseudo-random order so runs compare.
pub fn k8s_pull_request_files(count: usize) -> Vec<String> {
    const DIRS: &[&str] = &[
        "pkg/kubelet/",
        "pkg/controller/podautoscaler/",
        "pkg/proxy/nftables/",
        "pkg/scheduler/framework/",
        "staging/src/k8s.io/apiserver/pkg/storage/value/",
        "staging/src/k8s.io/client-go/tools/cache/",
        "staging/src/k8s.io/api/core/v1/",
        "test/e2e/network/",
        "test/e2e/storage/",
        "test/e2e_node/",
        "test/integration/apiserver/",
        "cmd/kubeadm/app/",
        "cmd/kube-proxy/app/",
        "hack/",
        "vendor/github.com/example/",
        "api/openapi-spec/v3/",
        "cluster/gce/manifests/",
    ];
    const EXTS: &[&str] = &["go", "go", "go", "go", "yaml", "md", "json"];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..count)
        .map(|i| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let dir = DIRS[(x >> 33) as usize % DIRS.len()];
            let ext = EXTS[(x >> 17) as usize % EXTS.len()];
            format!("{dir}sub{}/file_{i}.{ext}", (x >> 50) % 8)
        })
        .collect()
}
