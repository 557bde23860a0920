//! Artifact storage: one trait, a local-directory backend and object storage (GCS, S3, memory).
//! Both backends also read back ([`ArtifactReader`]): what deck's spyglass and job history use.
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

/// One level of a folder: its sub-folders and its files with their sizes, by name (no `/`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listing {
    /// Sub-folder names, sorted.
    pub dirs: Vec<String>,
    /// File names and sizes in bytes, sorted by name.
    pub files: Vec<(String, u64)>,
}

/// Which bytes of an object to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadRange {
    /// All of it.
    All,
    /// The last `n` bytes (all of it when shorter).
    Tail(u64),
}

/// Somewhere artifacts can be read back from. Paths are relative to the store's root with `/`
/// separators; `..` and absolute paths are refused ([`Error::BadArtifactPath`]).
#[async_trait]
pub trait ArtifactReader: Send + Sync + std::fmt::Debug {
    /// The sub-folders and files directly in `dir` (`""` for the root); empty when nothing is
    /// there.
    async fn list_dir(&self, dir: &str) -> Result<Listing, Error>;

    /// Every file under `dir`, as paths relative to `dir` with sizes, sorted; at most `limit`.
    async fn list_tree(&self, dir: &str, limit: usize) -> Result<Vec<(String, u64)>, Error>;

    /// The object's size, `None` when it does not exist.
    async fn size(&self, path: &str) -> Result<Option<u64>, Error>;

    /// The object's bytes (as stored: possibly gzipped), `None` when it does not exist.
    async fn read(&self, path: &str, range: ReadRange) -> Result<Option<Vec<u8>>, Error>;
}

/// `path` as plain relative segments, or the refusal.
fn plain_segments(path: &str) -> Result<Vec<&str>, Error> {
    let refused = || Error::BadArtifactPath {
        path: path.to_owned(),
    };
    if path.contains('\0') || path.contains('\\') {
        return Err(refused());
    }
    let mut out = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(refused()),
            s => out.push(s),
        }
    }
    Ok(out)
}

impl LocalDirStore {
    /// `path` under the root, refused when it would leave it (symbolic links included).
    fn local_path(&self, path: &str) -> Result<PathBuf, Error> {
        let mut out = self.root.clone();
        for segment in plain_segments(path)? {
            out.push(segment);
        }
        if let (Ok(root), Ok(real)) = (self.root.canonicalize(), out.canonicalize())
            && !real.starts_with(&root)
        {
            return Err(Error::BadArtifactPath {
                path: path.to_owned(),
            });
        }
        Ok(out)
    }
}

fn not_found_is_none<T>(found: std::io::Result<T>) -> std::io::Result<Option<T>> {
    match found {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn read_failed(path: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Download {
        path: path.to_owned(),
        source: Box::new(source),
    }
}

#[async_trait]
impl ArtifactReader for LocalDirStore {
    async fn list_dir(&self, dir: &str) -> Result<Listing, Error> {
        let folder = self.local_path(dir)?;
        let mut listing = Listing::default();
        let Some(mut entries) =
            not_found_is_none(tokio::fs::read_dir(&folder).await).map_err(read_failed(dir))?
        else {
            return Ok(listing);
        };
        while let Some(entry) = entries.next_entry().await.map_err(read_failed(dir))? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(meta) = entry.metadata().await else {
                continue;
            };
            if meta.is_dir() {
                listing.dirs.push(name);
            } else {
                listing.files.push((name, meta.len()));
            }
        }
        listing.dirs.sort();
        listing.files.sort();
        Ok(listing)
    }

    async fn list_tree(&self, dir: &str, limit: usize) -> Result<Vec<(String, u64)>, Error> {
        let root = self.local_path(dir)?;
        let walked = tokio::task::spawn_blocking(move || list_files(&root, limit))
            .await
            .map_err(|e| Error::Download {
                path: dir.to_owned(),
                source: Box::new(e),
            })?;
        Ok(walked)
    }

    async fn size(&self, path: &str) -> Result<Option<u64>, Error> {
        let file = self.local_path(path)?;
        let meta =
            not_found_is_none(tokio::fs::metadata(&file).await).map_err(read_failed(path))?;
        Ok(meta.filter(|m| m.is_file()).map(|m| m.len()))
    }

    async fn read(&self, path: &str, range: ReadRange) -> Result<Option<Vec<u8>>, Error> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let file = self.local_path(path)?;
        let Some(mut opened) =
            not_found_is_none(tokio::fs::File::open(&file).await).map_err(read_failed(path))?
        else {
            return Ok(None);
        };
        let len = opened.metadata().await.map_err(read_failed(path))?.len();
        let take = match range {
            ReadRange::All => len,
            ReadRange::Tail(n) => n.min(len),
        };
        if take < len {
            opened
                .seek(std::io::SeekFrom::Start(len - take))
                .await
                .map_err(read_failed(path))?;
        }
        let mut bytes = Vec::with_capacity(usize::try_from(take).unwrap_or(0));
        opened
            .take(take)
            .read_to_end(&mut bytes)
            .await
            .map_err(read_failed(path))?;
        Ok(Some(bytes))
    }
}

/// Files under `root` with their sizes, as paths relative to `root` with `/` separators,
/// sorted; at most `limit` of them. Symbolic links are listed, not followed.
pub fn list_files(root: &Path, limit: usize) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                let parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                out.push((parts.join("/"), size));
                if out.len() >= limit {
                    out.sort();
                    return out;
                }
            }
        }
    }
    out.sort();
    out
}

impl ObjectStoreBackend {
    /// The object key of `path`, under the prefix.
    fn key(&self, path: &str) -> Result<String, Error> {
        let segments = plain_segments(path)?;
        let mut key = self.prefix.clone();
        for segment in segments {
            if !key.is_empty() {
                key.push('/');
            }
            key.push_str(segment);
        }
        Ok(key)
    }

    /// `key` without the prefix and the folder `dir_key`.
    fn relative<'a>(location: &'a str, dir_key: &str) -> &'a str {
        location
            .strip_prefix(dir_key)
            .unwrap_or(location)
            .trim_start_matches('/')
    }
}

fn download_error(path: &str, source: object_store::Error) -> Error {
    Error::Download {
        path: path.to_owned(),
        source: Box::new(source),
    }
}

#[async_trait]
impl ArtifactReader for ObjectStoreBackend {
    async fn list_dir(&self, dir: &str) -> Result<Listing, Error> {
        let key = self.key(dir)?;
        let prefix = (!key.is_empty()).then(|| object_store::path::Path::from(key.as_str()));
        let found = self
            .store
            .list_with_delimiter(prefix.as_ref())
            .await
            .map_err(|e| download_error(dir, e))?;
        let mut listing = Listing::default();
        for folder in found.common_prefixes {
            if let Some(name) = folder.filename() {
                listing.dirs.push(name.to_owned());
            }
        }
        for object in found.objects {
            if let Some(name) = object.location.filename() {
                listing.files.push((name.to_owned(), object.size));
            }
        }
        listing.dirs.sort();
        listing.files.sort();
        Ok(listing)
    }

    async fn list_tree(&self, dir: &str, limit: usize) -> Result<Vec<(String, u64)>, Error> {
        use futures::StreamExt as _;
        let key = self.key(dir)?;
        let prefix = (!key.is_empty()).then(|| object_store::path::Path::from(key.as_str()));
        let mut stream = self.store.list(prefix.as_ref());
        let mut out = Vec::new();
        while let Some(found) = stream.next().await {
            let object = found.map_err(|e| download_error(dir, e))?;
            let name = Self::relative(object.location.as_ref(), &key).to_owned();
            out.push((name, object.size));
            if out.len() >= limit {
                break;
            }
        }
        out.sort();
        Ok(out)
    }

    async fn size(&self, path: &str) -> Result<Option<u64>, Error> {
        use object_store::ObjectStoreExt as _;
        let key = self.key(path)?;
        match self
            .store
            .head(&object_store::path::Path::from(key.as_str()))
            .await
        {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(download_error(path, e)),
        }
    }

    async fn read(&self, path: &str, range: ReadRange) -> Result<Option<Vec<u8>>, Error> {
        let key = self.key(path)?;
        let location = object_store::path::Path::from(key.as_str());
        let options = object_store::GetOptions {
            range: match range {
                ReadRange::All => None,
                ReadRange::Tail(n) => Some(object_store::GetRange::Suffix(n)),
            },
            ..object_store::GetOptions::default()
        };
        let found = match self.store.get_opts(&location, options).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(download_error(path, e)),
        };
        let bytes = found.bytes().await.map_err(|e| download_error(path, e))?;
        Ok(Some(bytes.to_vec()))
    }
}

/// The object as text: gunzipped when stored gzipped, at most `limit` bytes (the last ones
/// when it is larger, since the end of a log is what matters), lossily as UTF-8. `None` when
/// it does not exist; the flag says whether it was cut.
pub async fn read_text(
    reader: &dyn ArtifactReader,
    path: &str,
    limit: u64,
) -> Result<Option<(String, bool)>, Error> {
    let Some(size) = reader.size(path).await? else {
        return Ok(None);
    };
    let range = if size > limit {
        ReadRange::Tail(limit)
    } else {
        ReadRange::All
    };
    let Some(bytes) = reader.read(path, range).await? else {
        return Ok(None);
    };
    let mut cut = size > limit;
    let bytes = if range == ReadRange::All && bytes.starts_with(&[0x1f, 0x8b]) {
        use std::io::Read as _;
        let mut out = Vec::new();
        let decoder = flate2::read::GzDecoder::new(bytes.as_slice());
        match decoder.take(limit + 1).read_to_end(&mut out) {
            Ok(_) => {
                if out.len() as u64 > limit {
                    out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                    cut = true;
                }
                out
            }
            Err(_) => bytes,
        }
    } else {
        bytes
    };
    Ok(Some((String::from_utf8_lossy(&bytes).into_owned(), cut)))
}

/// Opens a bucket setting (see the module docs) for reading, with the same credentials
/// [`open_bucket`] takes.
pub fn open_reader(
    bucket: &str,
    gcs_credentials_file: &str,
    s3_credentials_file: &str,
) -> Result<Arc<dyn ArtifactReader>, Error> {
    Ok(
        match open_backend(bucket, gcs_credentials_file, s3_credentials_file)? {
            Backend::Local(store) => Arc::new(store),
            Backend::Object(store) => Arc::new(store),
        },
    )
}

/// A bucket setting opened: plain files or an object store.
enum Backend {
    Local(LocalDirStore),
    Object(ObjectStoreBackend),
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
    Ok(
        match open_backend(bucket, gcs_credentials_file, s3_credentials_file)? {
            Backend::Local(store) => Box::new(store),
            Backend::Object(store) => Box::new(store),
        },
    )
}

fn open_backend(
    bucket: &str,
    gcs_credentials_file: &str,
    s3_credentials_file: &str,
) -> Result<Backend, Error> {
    let invalid = |reason: String| Error::InvalidBucket {
        bucket: bucket.to_owned(),
        reason,
    };
    let parsed = prow_core::decoration::parse_bucket(bucket).map_err(invalid)?;
    let url = format!("{}://{}{}", parsed.provider, parsed.bucket, parsed.path);
    match parsed.provider.as_str() {
        "file" => Ok(Backend::Local(LocalDirStore::new(format!(
            "/{}{}",
            parsed.bucket, parsed.path
        )))),
        "memory" => Ok(Backend::Object(ObjectStoreBackend::new(
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
            Ok(Backend::Object(ObjectStoreBackend::new(
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
            Ok(Backend::Object(ObjectStoreBackend::new(
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
