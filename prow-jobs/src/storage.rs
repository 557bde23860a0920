//! Artifact storage: one trait, a local-directory backend and object storage (GCS, S3, memory).
//!
//! Buckets are named as Prow names them: `name` or `gs://name[/prefix]` for GCS, `s3://...` for
//! S3, `file:///dir` for a local directory, and `memory://name` for an in-process store (tests
//! and embedding). `local_output_dir` always wins and writes plain files.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use object_store::aws::AmazonS3Builder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::memory::InMemory;
use object_store::{Attribute, Attributes, ObjectStore, PutOptions, PutPayload};
use serde::Deserialize;

use crate::error::{Error, io_error};

/// How an object is to be served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectInfo {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Encoding` (`gzip` for compressed uploads).
    pub content_encoding: Option<String>,
}

/// Somewhere artifacts can be written.
#[async_trait]
pub trait ArtifactStore: Send + Sync {
    /// Writes `data` at `path` (relative to the store's root), replacing what is there.
    async fn put(&self, path: &str, data: Vec<u8>, info: &ObjectInfo) -> Result<(), Error>;

    /// Where this store writes, for messages and links (`gs://bucket/prefix`, a directory).
    fn location(&self) -> String;
}

/// Plain files under a directory.
#[derive(Debug, Clone)]
pub struct LocalDirStore {
    root: PathBuf,
}

impl LocalDirStore {
    /// A store writing under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalDirStore { root: root.into() }
    }
}

#[async_trait]
impl ArtifactStore for LocalDirStore {
    async fn put(&self, path: &str, data: Vec<u8>, _: &ObjectInfo) -> Result<(), Error> {
        let file = self.root.join(path);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(io_error("create directory", dir))?;
        }
        std::fs::write(&file, data).map_err(io_error("write artifact", &file))
    }

    fn location(&self) -> String {
        self.root.display().to_string()
    }
}

/// Any `object_store` backend, under a key prefix.
#[derive(Debug, Clone)]
pub struct ObjectStoreBackend {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    url: String,
}

impl ObjectStoreBackend {
    /// Writes into `store` under `prefix`; `url` names it in messages.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str, url: &str) -> Self {
        ObjectStoreBackend {
            store,
            prefix: prefix.trim_matches('/').to_owned(),
            url: url.to_owned(),
        }
    }

    /// The underlying store (to read back what was written).
    pub fn inner(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }
}

#[async_trait]
impl ArtifactStore for ObjectStoreBackend {
    async fn put(&self, path: &str, data: Vec<u8>, info: &ObjectInfo) -> Result<(), Error> {
        let key = if self.prefix.is_empty() {
            path.to_owned()
        } else {
            format!("{}/{path}", self.prefix)
        };
        let location = object_store::path::Path::from(key.as_str());
        let mut attributes = Attributes::new();
        if let Some(t) = &info.content_type {
            attributes.insert(Attribute::ContentType, t.clone().into());
        }
        if let Some(e) = &info.content_encoding {
            attributes.insert(Attribute::ContentEncoding, e.clone().into());
        }
        let options = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.store
            .put_opts(&location, PutPayload::from(data), options)
            .await
            .map(|_| ())
            .map_err(|source| Error::Upload {
                path: key,
                source: Box::new(source),
            })
    }

    fn location(&self) -> String {
        self.url.clone()
    }
}

/// Prow's S3 credentials file.
#[derive(Debug, Default, Deserialize)]
struct S3Credentials {
    #[serde(default)]
    region: String,
    #[serde(default)]
    endpoint: String,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    s3_force_path_style: bool,
    #[serde(default)]
    access_key: String,
    #[serde(default)]
    secret_key: String,
}

/// Opens the store a bucket setting names (see the module docs).
pub fn open_bucket(
    bucket: &str,
    gcs_credentials_file: &str,
    s3_credentials_file: &str,
) -> Result<Box<dyn ArtifactStore>, Error> {
    let invalid = |reason: String| Error::InvalidBucket {
        bucket: bucket.to_owned(),
        reason,
    };
    let parsed = prow_core::decoration::parse_bucket(bucket).map_err(invalid)?;
    let url = format!("{}://{}{}", parsed.provider, parsed.bucket, parsed.path);
    match parsed.provider.as_str() {
        "file" => Ok(Box::new(LocalDirStore::new(format!(
            "/{}{}",
            parsed.bucket, parsed.path
        )))),
        "memory" => Ok(Box::new(ObjectStoreBackend::new(
            Arc::new(InMemory::new()),
            &parsed.path,
            &url,
        ))),
        "gs" => {
            let mut builder =
                GoogleCloudStorageBuilder::from_env().with_bucket_name(&parsed.bucket);
            if !gcs_credentials_file.is_empty() {
                builder = builder.with_service_account_path(gcs_credentials_file);
            }
            let store = builder.build().map_err(|e| invalid(e.to_string()))?;
            Ok(Box::new(ObjectStoreBackend::new(
                Arc::new(store),
                &parsed.path,
                &url,
            )))
        }
        "s3" => {
            let mut builder = AmazonS3Builder::from_env().with_bucket_name(&parsed.bucket);
            if !s3_credentials_file.is_empty() {
                let text = std::fs::read_to_string(s3_credentials_file)
                    .map_err(io_error("read S3 credentials file", s3_credentials_file))?;
                let creds: S3Credentials = serde_json::from_str(&text)
                    .map_err(|e| invalid(format!("S3 credentials: {e}")))?;
                if !creds.region.is_empty() {
                    builder = builder.with_region(creds.region);
                }
                if !creds.endpoint.is_empty() {
                    let scheme = if creds.insecure { "http" } else { "https" };
                    let endpoint = if creds.endpoint.contains("://") {
                        creds.endpoint
                    } else {
                        format!("{scheme}://{}", creds.endpoint)
                    };
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(creds.insecure);
                }
                builder = builder
                    .with_virtual_hosted_style_request(!creds.s3_force_path_style)
                    .with_access_key_id(creds.access_key)
                    .with_secret_access_key(creds.secret_key);
            }
            let store = builder.build().map_err(|e| invalid(e.to_string()))?;
            Ok(Box::new(ObjectStoreBackend::new(
                Arc::new(store),
                &parsed.path,
                &url,
            )))
        }
        other => Err(invalid(format!("unsupported storage provider {other:?}"))),
    }
}

/// `Content-Type` and `Content-Encoding` for a destination name, as Prow derives them: a `.gz`
/// suffix means gzip encoding of the inner type; configured media types win over the defaults.
pub fn object_info(name: &str, media_types: &BTreeMap<String, String>) -> ObjectInfo {
    let mut info = ObjectInfo::default();
    let mut stem = name;
    for suffix in [".gz", ".gzip"] {
        if let Some(s) = name.strip_suffix(suffix) {
            info.content_encoding = Some("gzip".into());
            stem = s;
        }
    }
    let extension = Path::new(stem)
        .extension()
        .map(|e| e.to_string_lossy().into_owned());
    info.content_type = extension.and_then(|ext| {
        media_types
            .get(&ext)
            .cloned()
            .or_else(|| mime_guess::from_ext(&ext).first().map(|m| m.to_string()))
    });
    if info.content_type.is_none() && info.content_encoding.is_some() {
        info.content_type = Some("application/gzip".into());
        info.content_encoding = None;
    }
    info
}

/// Gzips `data` when its extension is listed in `compress_file_types` (`*` for all), it is
/// over 1 KiB and not gzip already, as Prow does before uploading to a bucket.
pub fn maybe_compress(
    name: &str,
    data: Vec<u8>,
    compress_file_types: &[String],
    info: &mut ObjectInfo,
) -> Vec<u8> {
    let extension = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    let listed = compress_file_types
        .iter()
        .any(|t| t == "*" || *t == extension);
    let already = extension == "gz" || extension == "gzip" || data.starts_with(&[0x1f, 0x8b]);
    if !listed || already || data.len() <= 1024 {
        return data;
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    if encoder.write_all(&data).is_err() {
        return data;
    }
    match encoder.finish() {
        Ok(compressed) => {
            info.content_encoding = Some("gzip".into());
            compressed
        }
        Err(_) => data,
    }
}
