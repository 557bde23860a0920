//! config-updater: when a pull request that changes files named in `config_updater.maps`
//! merges into the default branch, the files' new contents go where the configuration is read
//! from, and the bot comments what it updated in upstream's words (upstream
//! `pkg/plugins/updateconfig`).
//!
//! Where the contents go is a [`ConfigSink`]:
//! - [`KubeSink`]: Prow's Kubernetes mode, ConfigMaps through kube-rs, one client per cluster
//!   alias (`default` is the one hook runs in). A key's file is stored as `data`, or gzipped
//!   as `binaryData` with `gzip`; a removed file removes its key; the ConfigMap is created
//!   when missing, with upstream's labels.
//! - [`FileSink`]: embedded mode (`prow serve` on one machine), where ConfigMaps are local
//!   folders: `prow serve` writes ConfigMap `name` into `<data-dir>/configmaps/<name>/`
//!   ([`FileSink::under`]), and embedders may map names to folders of their own
//!   ([`FileSink::new`]). Each key is written as the file of that name (atomically, by rename;
//!   never gzipped: the files are read as they are). To have merged configuration take
//!   effect, point `--config-path`, `--plugin-config` and `--job-config-path` into those
//!   folders, as a Prow deployment mounts its ConfigMaps.
//!
//! The files are read from GitHub at the merge commit instead of from a git checkout.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use globset::GlobBuilder;
use prow_config::plugins::{ConfigMapSpec, ConfigUpdater as UpdaterConfig, PluginConfig};
use prow_github::events::Event;
use prow_github::types::PullRequestFile;

use crate::respond::format_response_raw;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// Where a ConfigMap lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct ConfigMapId {
    /// Its name.
    pub name: String,
    /// Its namespace (Prow's `prowjob_namespace` when the config leaves it empty).
    pub namespace: String,
    /// The cluster alias.
    pub cluster: String,
}

impl ConfigMapId {
    /// ConfigMap `name` in `namespace` of cluster `cluster`.
    pub fn new(name: &str, namespace: &str, cluster: &str) -> Self {
        ConfigMapId {
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            cluster: cluster.to_owned(),
        }
    }
}

/// One key to write or remove.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyUpdate {
    /// The key.
    pub key: String,
    /// The file whose contents it gets; empty to remove the key.
    pub filename: String,
    /// Whether to gzip the contents.
    pub gzip: bool,
}

impl KeyWrite {
    /// `value` for `key`, not gzipped (`None` removes the key).
    pub fn new(key: &str, value: Option<Vec<u8>>) -> Self {
        KeyWrite {
            key: key.to_owned(),
            value,
            gzip: false,
        }
    }
}

impl KeyUpdate {
    /// Key `key` from `filename` (empty to remove it).
    pub fn new(key: &str, filename: &str, gzip: bool) -> Self {
        KeyUpdate {
            key: key.to_owned(),
            filename: filename.to_owned(),
            gzip,
        }
    }
}

/// A key with the contents to store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyWrite {
    /// The key.
    pub key: String,
    /// The contents; `None` removes the key.
    pub value: Option<Vec<u8>>,
    /// Whether to gzip the contents.
    pub gzip: bool,
}

/// Whether `repo` (`org/repo`) may update the ConfigMap of `spec` (upstream's `IsAllowed`).
pub fn allowed(spec: &ConfigMapSpec, repo: &str) -> bool {
    let org = repo.split('/').next().unwrap_or_default();
    if spec.denied_repos.iter().any(|d| d == repo || d == org) {
        return false;
    }
    spec.allowed_repos.is_empty() || spec.allowed_repos.iter().any(|a| a == repo || a == org)
}

fn glob_matches(pattern: &str, path: &str) -> bool {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher().is_match(path))
        .unwrap_or(false)
}

fn key_for(spec: &ConfigMapSpec, filename: &str) -> String {
    if !spec.key.is_empty() {
        spec.key.clone()
    } else if spec.use_full_path_as_key {
        filename.replace('/', "-")
    } else {
        Path::new(filename)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| filename.to_owned())
    }
}

/// The partition holding `key`: upstream's choice, by the first byte of the key's SHA-256,
/// so that both place a key in the same ConfigMap.
pub fn partition(names: &[String], key: &str) -> String {
    use sha2::Digest;
    let first = sha2::Sha256::digest(key.as_bytes())[0];
    names[usize::from(first) % names.len()].clone()
}

/// Which keys of which ConfigMaps the changed `files` of `repo` update (upstream's
/// `FilterChanges`), with `default_namespace` for maps that name none.
pub fn filter_changes(
    config: &UpdaterConfig,
    files: &[PullRequestFile],
    default_namespace: &str,
    repo: &str,
) -> BTreeMap<ConfigMapId, Vec<KeyUpdate>> {
    let mut out: BTreeMap<ConfigMapId, Vec<KeyUpdate>> = BTreeMap::new();
    for file in files {
        let Some((_, spec)) = config
            .maps
            .iter()
            .find(|(pattern, _)| glob_matches(pattern, &file.filename))
        else {
            continue;
        };
        if !allowed(spec, repo) {
            continue;
        }
        let gzip = spec.gzip.unwrap_or(config.gzip);
        for (cluster, namespaces) in config.clusters_for(spec) {
            for ns in namespaces {
                let namespace = if ns.is_empty() {
                    default_namespace.to_owned()
                } else {
                    ns
                };
                let id = |key: &str| ConfigMapId {
                    name: if spec.partitioned_names.is_empty() {
                        spec.name.clone()
                    } else {
                        partition(&spec.partitioned_names, key)
                    },
                    namespace: namespace.clone(),
                    cluster: cluster.clone(),
                };
                let key = key_for(spec, &file.filename);
                if file.status == "renamed"
                    && let Some(old) = &file.previous_filename
                {
                    let old_key = key_for(spec, old);
                    out.entry(id(&old_key)).or_default().push(KeyUpdate {
                        key: old_key,
                        filename: String::new(),
                        gzip: false,
                    });
                }
                let update = if file.status == "removed" {
                    KeyUpdate {
                        key: key.clone(),
                        filename: String::new(),
                        gzip: false,
                    }
                } else {
                    KeyUpdate {
                        key: key.clone(),
                        filename: file.filename.clone(),
                        gzip,
                    }
                };
                out.entry(id(&key)).or_default().push(update);
            }
        }
    }
    out
}

/// Upstream's comment listing the updated ConfigMaps.
pub fn message(updated: &[(ConfigMapId, Vec<KeyUpdate>)]) -> Option<String> {
    let indent = if updated.len() > 1 { "   " } else { " " };
    let describe = |(id, updates): &(ConfigMapId, Vec<KeyUpdate>)| {
        let mut text = format!("`{}` configmap", id.name);
        if !id.namespace.is_empty() {
            text.push_str(&format!(" in namespace `{}`", id.namespace));
        }
        if !id.cluster.is_empty() {
            text.push_str(&format!(" at cluster `{}`", id.cluster));
        }
        text.push_str(" using the following files:");
        for u in updates {
            text.push_str(&format!(
                "\n{indent}- key `{}` using file `{}`",
                u.key, u.filename
            ));
        }
        text
    };
    match updated {
        [] => None,
        [one] => Some(format!("Updated the {}", describe(one))),
        many => {
            let mut text = format!("Updated the following {} configmaps:\n", many.len());
            for u in many {
                text.push_str(&format!(" * {}\n", describe(u)));
            }
            Some(text)
        }
    }
}

/// Where updated configuration goes.
#[async_trait]
pub trait ConfigSink: Send + Sync {
    /// Writes (or removes) `keys` of ConfigMap `id`; the error says what failed, in words.
    async fn apply(&self, id: &ConfigMapId, keys: &[KeyWrite]) -> Result<(), String>;
}

/// Gzips `data`.
fn gzip(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).map_err(|e| e.to_string())?;
    encoder.finish().map_err(|e| e.to_string())
}

/// ConfigMaps through kube-rs, one client per cluster alias.
#[derive(Clone)]
pub struct KubeSink {
    clients: BTreeMap<String, kube::Client>,
}

impl std::fmt::Debug for KubeSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeSink")
            .field("clusters", &self.clients.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KubeSink {
    /// A sink writing to `client` as the `default` cluster.
    pub fn new(client: kube::Client) -> Self {
        KubeSink {
            clients: BTreeMap::from([("default".to_owned(), client)]),
        }
    }

    /// Adds the client of cluster alias `cluster`.
    pub fn with_cluster(mut self, cluster: &str, client: kube::Client) -> Self {
        self.clients.insert(cluster.to_owned(), client);
        self
    }
}

#[async_trait]
impl ConfigSink for KubeSink {
    async fn apply(&self, id: &ConfigMapId, keys: &[KeyWrite]) -> Result<(), String> {
        use prow_core::k8s_openapi::ByteString;
        use prow_core::k8s_openapi::api::core::v1::ConfigMap;
        let client = self
            .clients
            .get(&id.cluster)
            .ok_or_else(|| format!("no client for cluster {:?}", id.cluster))?;
        let api: kube::Api<ConfigMap> = kube::Api::namespaced(client.clone(), &id.namespace);
        let what = format!("configmap {}/{}", id.namespace, id.name);
        let current = api
            .get_opt(&id.name)
            .await
            .map_err(|e| format!("read {what}: {e}"))?;
        let exists = current.is_some();
        let mut cm = current.unwrap_or_else(|| ConfigMap {
            metadata: kube::api::ObjectMeta {
                name: Some(id.name.clone()),
                namespace: Some(id.namespace.clone()),
                ..Default::default()
            },
            ..Default::default()
        });
        cm.metadata.labels.get_or_insert_with(|| {
            BTreeMap::from([
                ("app.kubernetes.io/name".to_owned(), "prow".to_owned()),
                (
                    "app.kubernetes.io/component".to_owned(),
                    "updateconfig-plugin".to_owned(),
                ),
            ])
        });
        let data = cm.data.get_or_insert_with(BTreeMap::new);
        let binary = cm.binary_data.get_or_insert_with(BTreeMap::new);
        for key in keys {
            data.remove(&key.key);
            binary.remove(&key.key);
            let Some(value) = &key.value else { continue };
            if key.gzip {
                let zipped = gzip(value).map_err(|e| format!("gzip {}: {e}", key.key))?;
                binary.insert(key.key.clone(), ByteString(zipped));
            } else {
                let text = String::from_utf8(value.clone())
                    .map_err(|_| format!("key {} of {what}: not UTF-8 text", key.key))?;
                data.insert(key.key.clone(), text);
            }
        }
        let params = kube::api::PostParams::default();
        if exists {
            api.replace(&id.name, &params, &cm)
                .await
                .map_err(|e| format!("replace {what}: {e}"))?;
        } else {
            api.create(&params, &cm)
                .await
                .map_err(|e| format!("create {what}: {e}"))?;
        }
        Ok(())
    }
}

/// Embedded mode: each ConfigMap is a local directory and each key a file in it.
#[derive(Debug, Clone, Default)]
pub struct FileSink {
    dirs: BTreeMap<String, PathBuf>,
    root: Option<PathBuf>,
}

impl FileSink {
    /// A sink writing ConfigMap `name`'s keys into `dirs[name]`; other ConfigMaps are errors.
    pub fn new(dirs: BTreeMap<String, PathBuf>) -> Self {
        FileSink { dirs, root: None }
    }

    /// A sink writing ConfigMap `name`'s keys into `root/name`, made when missing.
    pub fn under(root: &Path) -> Self {
        FileSink {
            dirs: BTreeMap::new(),
            root: Some(root.to_owned()),
        }
    }

    /// The directory of ConfigMap `name`.
    fn dir(&self, name: &str) -> Result<PathBuf, String> {
        if let Some(dir) = self.dirs.get(name) {
            return Ok(dir.clone());
        }
        let Some(root) = &self.root else {
            return Err(format!("no directory for configmap {name:?}"));
        };
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(format!("configmap name {name:?} is not a folder name"));
        }
        Ok(root.join(name))
    }
}

#[async_trait]
impl ConfigSink for FileSink {
    async fn apply(&self, id: &ConfigMapId, keys: &[KeyWrite]) -> Result<(), String> {
        let dir = self.dir(&id.name)?;
        if self.root.is_some() {
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(|e| format!("make {}: {e}", dir.display()))?;
        }
        for key in keys {
            if key.key.contains('/') || key.key == ".." || key.key.is_empty() {
                return Err(format!("key {:?} is not a file name", key.key));
            }
            let path = dir.join(&key.key);
            match &key.value {
                None => match tokio::fs::remove_file(&path).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(format!("remove {}: {e}", path.display())),
                },
                Some(value) => {
                    let tmp = dir.join(format!(".{}.tmp", key.key));
                    tokio::fs::write(&tmp, value)
                        .await
                        .map_err(|e| format!("write {}: {e}", tmp.display()))?;
                    tokio::fs::rename(&tmp, &path)
                        .await
                        .map_err(|e| format!("replace {}: {e}", path.display()))?;
                }
            }
        }
        Ok(())
    }
}

/// The config-updater plugin.
#[derive(Clone, Default)]
pub struct ConfigUpdater {
    sink: Option<Arc<dyn ConfigSink>>,
}

impl std::fmt::Debug for ConfigUpdater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigUpdater")
            .field("sink", &self.sink.is_some())
            .finish()
    }
}

impl ConfigUpdater {
    /// The plugin writing through `sink`.
    pub fn new(sink: Arc<dyn ConfigSink>) -> Self {
        ConfigUpdater { sink: Some(sink) }
    }
}

#[async_trait]
impl Plugin for ConfigUpdater {
    fn name(&self) -> &'static str {
        "config-updater"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The config-updater plugin automatically redeploys configuration and plugin configuration files when they change. The plugin watches for pull request merges that modify either of the config files and updates the cluster's configmap resources in response.",
            &["pull_request"],
        );
        let mut text =
            "The main configuration is kept in sync with the config-updater configuration."
                .to_owned();
        for (pattern, spec) in plugins.config_updater.maps.iter() {
            text.push_str(&format!(
                "\n{pattern} is kept in sync with the '{}' configmap.",
                spec.name
            ));
        }
        help.config.insert(String::new(), text);
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequest(pe) = event else {
            return Ok(Vec::new());
        };
        let pr = &pe.pull_request;
        let config = &ctx.plugins.config_updater;
        if pe.action != "closed" || config.maps.is_empty() || pr.merged != Some(true) {
            return Ok(Vec::new());
        }
        let Some(merge_sha) = pr.merge_commit_sha.as_deref() else {
            return Ok(Vec::new());
        };
        let org = pe.repository.org();
        let repo = pe.repository.name.as_str();
        if pe.repository.default_branch != pr.base.git_ref {
            return Ok(Vec::new());
        }
        let number = pr.number;
        let files = ctx
            .github
            .pull_request_files(org, repo, number)
            .await
            .map_err(PluginError::github(format!(
                "list the files of {org}/{repo}#{number}"
            )))?;
        let updates = filter_changes(
            config,
            &files,
            &ctx.config.prow.prowjob_namespace,
            &format!("{org}/{repo}"),
        );
        if updates.is_empty() {
            return Ok(Vec::new());
        }
        let Some(sink) = &self.sink else {
            return Err(PluginError::Other(format!(
                "{org}/{repo}#{number} changes configuration, but config-updater has nowhere to write it (no Kubernetes client and no local folder)"
            )));
        };
        let mut done = Vec::new();
        let mut errors = Vec::new();
        for (id, keys) in updates {
            let mut writes = Vec::new();
            for k in &keys {
                let value = if k.filename.is_empty() {
                    None
                } else {
                    let contents = ctx
                        .github
                        .file_contents(org, repo, &k.filename, merge_sha)
                        .await
                        .map_err(PluginError::github(format!(
                            "read {} of {org}/{repo}@{merge_sha}",
                            k.filename
                        )))?;
                    Some(contents.ok_or_else(|| {
                        PluginError::Other(format!(
                            "{} is missing from {org}/{repo}@{merge_sha}",
                            k.filename
                        ))
                    })?)
                };
                writes.push(KeyWrite {
                    key: k.key.clone(),
                    value,
                    gzip: k.gzip,
                });
            }
            match sink.apply(&id, &writes).await {
                Ok(()) => done.push((id, keys)),
                Err(e) => errors.push(format!("update configmap {}: {e}", id.name)),
            }
        }
        let mut actions = Vec::new();
        if let Some(text) = message(&done) {
            actions.push(Action::Comment {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number,
                body: format_response_raw(
                    pr.body.as_deref().unwrap_or_default(),
                    &pr.html_url,
                    &pr.user.login,
                    &text,
                ),
            });
        }
        if !errors.is_empty() {
            // The comment on what did succeed is still made: the caller logs the error.
            tracing::warn!(target: "hook", plugin = "config-updater", "{}", errors.join("; "));
            if actions.is_empty() {
                return Err(PluginError::Other(errors.join("; ")));
            }
        }
        Ok(actions)
    }
}
