//! [`SqliteStore`]: ProwJobs as the CRD's JSON in one SQLite file, the embedded default.
//!
//! One row per job holds its body (the JSON, packed with DEFLATE behind a format byte; rows
//! written before schema version 3 keep their JSON text and are read as they are), its state
//! (indexed, for plank's list of live jobs) and its resource version; the versions come from
//! one counter that every write bumps, like etcd's revision, so versions order all changes.
//! Labels are copied to a side table keyed by label, value and job, so that selecting on
//! `prow.k8s.io/*` labels reads only the matching rows. All SQLite calls run on tokio's blocking pool, one at a time
//! behind a mutex that is never held across an await; watch events are sent under that mutex,
//! after the commit, so watchers see changes in commit order. A batch
//! ([`JobStore::write_all`]) is one transaction: each write is checked and refused on its
//! own before anything of it is written, and the counter is written once.
//!
//! Opening checks an existing file before writing to it: read-only (without even a lock or
//! `-wal`/`-shm` file when none exists), its schema version, then `PRAGMA quick_check`, so a
//! corrupt or foreign file is refused byte for byte as it was. A write that fails for want of
//! space or an I/O error is remembered until a later write succeeds; until then
//! [`JobStore::ready`] says so, and otherwise it writes a heartbeat row.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::{ProwJob, ProwJobParts};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params,
    params_from_iter,
};
use tokio::sync::broadcast;

use super::selector::dns1123_subdomain_errors;
use super::{
    DEFAULT_NAMESPACE, JobStore, ListParams, Operator, Selector, StoreError, WatchEvent, Write,
    label_key_errors, label_value_errors,
};

/// The schema version this code writes, kept in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Schema changes, in order: entry `i` takes a file from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: jobs, their labels, and the resource-version counter.
    "CREATE TABLE prowjobs (
         name TEXT PRIMARY KEY NOT NULL,
         resource_version INTEGER NOT NULL,
         body TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE prowjob_labels (
         name TEXT NOT NULL,
         key TEXT NOT NULL,
         value TEXT NOT NULL,
         PRIMARY KEY (name, key)
     ) WITHOUT ROWID;
     CREATE INDEX prowjob_labels_by_key_value ON prowjob_labels (key, value, name);
     CREATE TABLE revision (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         value INTEGER NOT NULL
     );
     INSERT INTO revision (id, value) VALUES (1, 0);",
    // 2: the row the readiness probe writes.
    "CREATE TABLE heartbeat (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         at INTEGER NOT NULL
     );",
    // 3: jobs in an ordinary (rowid) table, where a body of a few KB stays on its own page
    // instead of spilling into overflow pages as in a WITHOUT ROWID table, with the state
    // indexed for plank's list. Bodies written from now on are packed blobs; the JSON text of
    // earlier rows is copied as it is and still read. Labels are kept once, keyed by label
    // then job (a job's rows are found through the labels stored in its body), instead of
    // in a table and an index.
    "CREATE TABLE prowjobs_packed (
         name TEXT PRIMARY KEY NOT NULL,
         resource_version INTEGER NOT NULL,
         state TEXT NOT NULL,
         body BLOB NOT NULL
     );
     INSERT INTO prowjobs_packed (name, resource_version, state, body)
         SELECT name, resource_version,
                CASE WHEN json_valid(body) AND json_type(body, '$.status') = 'object'
                     THEN COALESCE(json_extract(body, '$.status.state'), 'triggered')
                     ELSE '' END,
                body
         FROM prowjobs;
     DROP TABLE prowjobs;
     ALTER TABLE prowjobs_packed RENAME TO prowjobs;
     CREATE INDEX prowjobs_by_state ON prowjobs (state);
     CREATE TABLE prowjob_labels_by_key (
         key TEXT NOT NULL,
         value TEXT NOT NULL,
         name TEXT NOT NULL,
         PRIMARY KEY (key, value, name)
     ) WITHOUT ROWID;
     INSERT INTO prowjob_labels_by_key (key, value, name)
         SELECT key, value, name FROM prowjob_labels;
     DROP TABLE prowjob_labels;
     ALTER TABLE prowjob_labels_by_key RENAME TO prowjob_labels;",
];

/// How long a write waits for another process holding the file's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The first bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// How many watch events a slow watcher may fall behind before it sees `Lagged`.
const WATCH_CAPACITY: usize = 1024;

/// How long [`JobStore::ready`] waits for its probe before calling the store unavailable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// How many problems `PRAGMA quick_check` reports at most.
const QUICK_CHECK_PROBLEMS: u32 = 5;

/// How a [`SqliteStore`] file is opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// The most pages (of 4 KiB) the file may grow to (SQLite's `max_page_count`): a cap on
    /// the store's size; a write past it fails with [`StoreError::Full`]. `None`: no cap
    /// beyond SQLite's own.
    pub max_pages: Option<u64>,
}

impl SqliteOptions {
    /// Caps the file at `pages` pages.
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.max_pages = Some(pages);
        self
    }
}

/// A [`JobStore`] in one SQLite file (or in memory).
///
/// Clones share one connection and one watch channel. Several stores may open the same file
/// (SQLite's locks and the resource versions keep their writes consistent), but each one's
/// [`watch`](JobStore::watch) reports only the changes made through it and its clones.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
    namespace: String,
}

struct Inner {
    conn: Mutex<Connection>,
    location: String,
    events: broadcast::Sender<WatchEvent>,
    /// The last write's failure, when it failed for want of space or for the storage: until
    /// a write succeeds the store is not ready.
    write_failure: Mutex<Option<WriteFailure>>,
    /// The jobs this store hands out (listed, read, or sent to watchers) share one copy of
    /// each distinct pod spec, decoration config and the like: a store holds many runs of
    /// each job.
    parts: ProwJobParts,
}

impl Inner {
    /// A stored job as [`decode`] reads it, pointed at the shared copies of its parts.
    fn decode_shared(&self, name: &str, body: &Body) -> Result<ProwJob, StoreError> {
        let mut job = decode(&self.location, name, body)?;
        self.parts.share(&mut job);
        Ok(job)
    }
}

/// What [`Inner::write_failure`] remembers of a failed write: its kind and message.
#[derive(Debug, Clone)]
enum WriteFailure {
    Full(String),
    Unavailable(String),
    Backend(String),
}

impl WriteFailure {
    /// The failure `error` means for the storage, if any: a refusal of the request (conflict,
    /// missing or existing job, invalid or unreadable job) says nothing about it.
    fn of(error: &StoreError) -> Option<Self> {
        let message = error.to_string();
        match error {
            StoreError::Full { .. } => Some(WriteFailure::Full(message)),
            StoreError::Unavailable { .. } => Some(WriteFailure::Unavailable(message)),
            // The database failed (a corrupt page, say), not one job's JSON.
            StoreError::Backend {
                source: Some(source),
                ..
            } if source.is::<rusqlite::Error>() => Some(WriteFailure::Backend(message)),
            _ => None,
        }
    }

    /// What [`JobStore::ready`] answers while this is the last write's failure.
    fn not_ready(&self, location: String) -> StoreError {
        let source = None;
        match self {
            WriteFailure::Full(message) => StoreError::Full {
                location,
                reason: format!("the last write failed: {message}"),
                source,
            },
            WriteFailure::Unavailable(message) => StoreError::Unavailable {
                location,
                reason: format!("the last write failed: {message}"),
                source,
            },
            WriteFailure::Backend(message) => StoreError::Backend {
                location,
                reason: format!("the last write failed: {message}"),
                source,
            },
        }
    }

    fn message(&self) -> &str {
        match self {
            WriteFailure::Full(m) | WriteFailure::Unavailable(m) | WriteFailure::Backend(m) => m,
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.inner.location)
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl SqliteStore {
    /// Opens the store at `path`, creating it when absent and bringing an older schema up to
    /// date. A file that is not SQLite, or has a newer schema than this code knows, is refused
    /// and left untouched.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, SqliteOptions::default()).await
    }

    /// [`open`](Self::open) with `options`. An existing file is first checked read-only (its
    /// schema version, then `PRAGMA quick_check`): a corrupt file is refused without a byte
    /// of it, or a `-wal`/`-shm` file beside it, written.
    pub async fn open_with(
        path: impl AsRef<Path>,
        options: SqliteOptions,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let location = path.display().to_string();
        let conn = tokio::task::spawn_blocking(move || open_file(&path, &options))
            .await
            .map_err(|e| backend(&location, "the task opening the store failed", e))??;
        Ok(Self::from_connection(conn, location))
    }

    /// A store that lives in memory only, for tests and dry runs.
    pub fn in_memory() -> Result<Self, StoreError> {
        let location = ":memory:".to_owned();
        let mut conn = Connection::open_in_memory()
            .map_err(|e| db_error(&location, "cannot open an in-memory database", e))?;
        migrate(&mut conn, 0, &location)?;
        Ok(Self::from_connection(conn, location))
    }

    /// The same store, putting jobs in `namespace` instead of [`DEFAULT_NAMESPACE`].
    pub fn with_namespace(mut self, namespace: &str) -> Self {
        namespace.clone_into(&mut self.namespace);
        self
    }

    /// Where the store is: its file path, or `:memory:`.
    pub fn location(&self) -> &str {
        &self.inner.location
    }

    fn from_connection(conn: Connection, location: String) -> Self {
        let (events, _) = broadcast::channel(WATCH_CAPACITY);
        SqliteStore {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                location,
                events,
                write_failure: Mutex::new(None),
                parts: ProwJobParts::default(),
            }),
            namespace: DEFAULT_NAMESPACE.to_owned(),
        }
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Inner) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let location = inner.location.clone();
        tokio::task::spawn_blocking(move || {
            // A panic elsewhere while holding the lock leaves no half-done transaction behind
            // (SQLite rolls it back), so the connection is still usable.
            let mut conn = inner.conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut conn, &inner)
        })
        .await
        .map_err(|e| backend(&location, "the store's task failed", e))?
    }

    /// [`run`](Self::run) for a write: remembers whether it failed in the storage (for
    /// [`JobStore::ready`]); a refusal of the request itself (conflict, missing or existing
    /// job, invalid job) says nothing about the storage.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Inner) -> Result<T, StoreError> + Send + 'static,
    {
        let result = self.run(f).await;
        let failure = match &result {
            Ok(_) => None,
            Err(e) => match WriteFailure::of(e) {
                Some(failure) => Some(failure),
                None => return result,
            },
        };
        if let Some(failure) = &failure {
            tracing::warn!(store = %self.inner.location, error = %failure.message(), "job store write failed");
        }
        let mut last = self
            .inner
            .write_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if last.is_some() && failure.is_none() {
            tracing::info!(store = %self.inner.location, "job store writes succeed again");
        }
        *last = failure;
        result
    }

    /// How SQLite would run [`JobStore::list`] for `params`: the lines of `EXPLAIN QUERY
    /// PLAN`, to check that label selectors and states use their indexes rather than reading
    /// every job.
    pub async fn list_query_plan(&self, params: &ListParams) -> Result<Vec<String>, StoreError> {
        let params = params.clone();
        self.run(move |conn, inner| {
            let (sql, args) = list_query(&params);
            let err = sql_error(&inner.location, "*");
            let mut stmt = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .map_err(&err)?;
            let rows = stmt
                .query_map(params_from_iter(args.iter()), |row| row.get::<_, String>(3))
                .map_err(&err)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(&err)
        })
        .await
    }

    /// `job` checked for a create and given the store's namespace, a uid and its creation
    /// time.
    fn prepare_create(&self, mut job: ProwJob) -> Result<ProwJob, StoreError> {
        let name = job.metadata.name.clone().unwrap_or_default();
        let mut problems = Vec::new();
        if let Some(rv) = job.metadata.resource_version.as_deref() {
            problems.push(format!(
                "metadata.resourceVersion: Invalid value: {rv:?}: must not be set on create"
            ));
        }
        if let Err(StoreError::Invalid { reason, .. }) = self.check_metadata(&job, &name) {
            problems.push(reason);
        }
        invalid_if_any(&name, problems)?;
        job.metadata.namespace = Some(self.namespace.clone());
        job.metadata.uid = Some(uuid::Uuid::new_v4().to_string());
        job.metadata.creation_timestamp = Some(now());
        Ok(job)
    }

    /// `job` checked for an update and given the store's namespace.
    fn prepare_update(&self, mut job: ProwJob) -> Result<ProwJob, StoreError> {
        let name = job.metadata.name.clone().unwrap_or_default();
        let mut problems = Vec::new();
        if job.metadata.resource_version.is_none() {
            problems.push(
                "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
                    .to_owned(),
            );
        }
        if let Err(StoreError::Invalid { reason, .. }) = self.check_metadata(&job, &name) {
            problems.push(reason);
        }
        invalid_if_any(&name, problems)?;
        job.metadata.namespace = Some(self.namespace.clone());
        Ok(job)
    }

    /// The checks Kubernetes makes on any written object's metadata.
    fn check_metadata(&self, job: &ProwJob, name: &str) -> Result<(), StoreError> {
        let mut problems = Vec::new();
        if name.is_empty() {
            problems.push("metadata.name: Required value: name is required".to_owned());
        } else {
            let name_errors = dns1123_subdomain_errors(name);
            if !name_errors.is_empty() {
                problems.push(format!(
                    "metadata.name: Invalid value: {name:?}: {}",
                    name_errors.join("; ")
                ));
            }
        }
        if let Some(ns) = job.metadata.namespace.as_deref()
            && ns != self.namespace
        {
            problems.push(format!(
                "metadata.namespace: Invalid value: {ns:?}: the store keeps jobs in {:?}",
                self.namespace
            ));
        }
        for (key, value) in job.metadata.labels.iter().flatten() {
            let key_errors = label_key_errors(key);
            if !key_errors.is_empty() {
                problems.push(format!(
                    "metadata.labels: Invalid value: {key:?}: {}",
                    key_errors.join("; ")
                ));
            }
            let value_errors = label_value_errors(value);
            if !value_errors.is_empty() {
                problems.push(format!(
                    "metadata.labels: Invalid value: {value:?}: {}",
                    value_errors.join("; ")
                ));
            }
        }
        invalid_if_any(name, problems)
    }
}

fn invalid_if_any(name: &str, problems: Vec<String>) -> Result<(), StoreError> {
    if problems.is_empty() {
        return Ok(());
    }
    Err(StoreError::Invalid {
        name: name.to_owned(),
        reason: problems.join("; "),
    })
}

fn backend(
    location: &str,
    reason: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> StoreError {
    StoreError::Backend {
        location: location.to_owned(),
        reason: reason.to_owned(),
        source: Some(Box::new(source)),
    }
}

/// A database error, classified: out of space is [`StoreError::Full`]; a lock held too long,
/// an I/O error or a lack of memory is [`StoreError::Unavailable`]; anything else (a corrupt
/// file, a bug) is [`StoreError::Backend`].
fn db_error(location: &str, reason: &str, error: rusqlite::Error) -> StoreError {
    let location = location.to_owned();
    let reason = reason.to_owned();
    let code = error.sqlite_error_code();
    let source: Option<Box<dyn std::error::Error + Send + Sync>> = Some(Box::new(error));
    match code {
        Some(ErrorCode::DiskFull) => StoreError::Full {
            location,
            reason,
            source,
        },
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::SystemIoFailure
            | ErrorCode::OutOfMemory,
        ) => StoreError::Unavailable {
            location,
            reason,
            source,
        },
        _ => StoreError::Backend {
            location,
            reason,
            source,
        },
    }
}

fn refuse(location: &str, reason: String) -> StoreError {
    StoreError::Backend {
        location: location.to_owned(),
        reason,
        source: None,
    }
}

/// Opens (or creates) the file, refusing what is not ours before anything is written.
fn open_file(path: &Path, options: &SqliteOptions) -> Result<Connection, StoreError> {
    let location = path.display().to_string();
    if has_content(path, &location)? {
        check_file(path, &location)?;
    }
    let mut conn =
        Connection::open(path).map_err(|e| db_error(&location, "cannot open the file", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| db_error(&location, "cannot set the busy timeout", e))?;
    // Checked again: another process may have changed the file since.
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| db_error(&location, "is not a readable SQLite database", e))?;
    check_version(version, &location)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| db_error(&location, "cannot switch to WAL journaling", e))?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| db_error(&location, "cannot set synchronous mode", e))?;
    migrate(&mut conn, version, &location)?;
    if let Some(pages) = options.max_pages {
        conn.pragma_update(None, "max_page_count", pages)
            .map_err(|e| db_error(&location, "cannot set the size limit", e))?;
    }
    Ok(conn)
}

fn check_version(version: i64, location: &str) -> Result<(), StoreError> {
    if version > SCHEMA_VERSION {
        return Err(refuse(
            location,
            format!(
                "schema version {version} is newer than this program knows \
                 ({SCHEMA_VERSION}); refusing to open it, use a newer prow-rs"
            ),
        ));
    }
    if version < 0 {
        return Err(refuse(
            location,
            format!("schema version {version} is not one of ours; refusing to open it"),
        ));
    }
    Ok(())
}

/// Checks an existing database without writing to it or beside it: its schema version, then
/// `PRAGMA quick_check`. Without a `-wal` file the file is read as immutable (no locks, no
/// `-shm` or `-wal` created); with one, read-only through it, since the committed state is
/// the file and its WAL together.
fn check_file(path: &Path, location: &str) -> Result<(), StoreError> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let mode = if Path::new(&wal).exists() {
        "mode=ro"
    } else {
        "immutable=1"
    };
    let uri = format!("file:{}?{mode}", uri_path(path));
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&uri, flags)
        .map_err(|e| db_error(location, "cannot open the file to check it", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| db_error(location, "cannot set the busy timeout", e))?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| db_error(location, "is not a readable SQLite database", e))?;
    check_version(version, location)?;
    let corrupt = |found: String| {
        refuse(
            location,
            format!(
                "is corrupt: quick_check found {found}; refusing to open it (restore it from \
                 a backup, or move it aside to start an empty store)"
            ),
        )
    };
    let problems: Vec<String> = conn
        .prepare(&format!("PRAGMA quick_check({QUICK_CHECK_PROBLEMS})"))
        .and_then(|mut stmt| {
            stmt.query_map([], |row| row.get::<_, String>(0))?
                .collect::<Result<_, _>>()
        })
        .map_err(|e| corrupt(e.to_string()))?;
    if problems != ["ok"] {
        let found: Vec<String> = problems
            .iter()
            .flat_map(|p| p.lines())
            .filter(|line| !line.starts_with("***"))
            .map(str::to_owned)
            .collect();
        return Err(corrupt(found.join("; ")));
    }
    Ok(())
}

/// `path` as the path of a `file:` URI: every byte but unreserved ones and `/`
/// percent-encoded.
fn uri_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt as _;
    let mut out = String::new();
    for &byte in path.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Whether there is a non-empty file at `path`; a non-empty one must start with SQLite's
/// header, anything else is refused unread.
fn has_content(path: &Path, location: &str) -> Result<bool, StoreError> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(backend(location, "cannot read the file", e)),
    };
    let mut head = Vec::with_capacity(SQLITE_HEADER.len());
    file.by_ref()
        .take(SQLITE_HEADER.len() as u64)
        .read_to_end(&mut head)
        .map_err(|e| backend(location, "cannot read the file", e))?;
    if head.is_empty() {
        return Ok(false);
    }
    if head == SQLITE_HEADER {
        return Ok(true);
    }
    Err(refuse(
        location,
        "is not a SQLite database; refusing to open it".to_owned(),
    ))
}

/// Applies the migrations after `from` in one transaction.
fn migrate(conn: &mut Connection, from: i64, location: &str) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| db_error(location, "cannot start the schema migration", e))?;
    // Another process may have migrated between our read and the lock.
    let current: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| db_error(location, "cannot read the schema version", e))?;
    let start = usize::try_from(current.max(from)).unwrap_or(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(start) {
        tx.execute_batch(sql)
            .map_err(|e| db_error(location, &format!("schema migration {} failed", i + 1), e))?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(|e| db_error(location, "cannot record the schema version", e))?;
    tx.commit()
        .map_err(|e| db_error(location, "cannot commit the schema migration", e))
}

fn sql_error(location: &str, name: &str) -> impl Fn(rusqlite::Error) -> StoreError + use<> {
    let location = location.to_owned();
    let reason = format!("database error on prowjob {name:?}");
    move |e| db_error(&location, &reason, e)
}

/// The revision counter within one write transaction: read once, bumped for each stored write,
/// and written back once before the commit, so a batch costs one counter update.
struct Revisions {
    start: i64,
    value: i64,
}

impl Revisions {
    fn read(conn: &Connection) -> rusqlite::Result<Self> {
        let value = conn.query_row("SELECT value FROM revision WHERE id = 1", [], |row| {
            row.get(0)
        })?;
        Ok(Revisions {
            start: value,
            value,
        })
    }

    /// The version the next stored write gets.
    fn next(&self) -> i64 {
        self.value + 1
    }

    /// Records that a write took [`next`](Self::next).
    fn taken(&mut self) {
        self.value += 1;
    }

    fn save(&self, conn: &Connection) -> rusqlite::Result<()> {
        if self.value != self.start {
            conn.prepare_cached("UPDATE revision SET value = ?1 WHERE id = 1")?
                .execute([self.value])?;
        }
        Ok(())
    }
}

/// The first byte of a packed body: raw DEFLATE over the job's JSON follows.
const PACKED_DEFLATE: u8 = 1;

/// How hard bodies are compressed: the fastest level packs a ProwJob nearly as small as the
/// default one (about 2.3×) at a fraction of the time.
const PACK_LEVEL: flate2::Compression = flate2::Compression::fast();

/// A row's `body` as stored: the JSON as text (every row written before schema version 3),
/// or a blob whose first byte says how the JSON is packed.
enum Body {
    Json(Vec<u8>),
    Packed(Vec<u8>),
}

impl FromSql for Body {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Text(text) => Ok(Body::Json(text.to_vec())),
            ValueRef::Blob(blob) => Ok(Body::Packed(blob.to_vec())),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

fn decode(location: &str, name: &str, body: &Body) -> Result<ProwJob, StoreError> {
    let unreadable = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Backend {
        location: location.to_owned(),
        reason: format!("stored prowjob {name:?} is not readable"),
        source: Some(e),
    };
    let json = match body {
        Body::Json(json) => return serde_json::from_slice(json).map_err(|e| unreadable(e.into())),
        Body::Packed(packed) => match packed.split_first() {
            Some((&PACKED_DEFLATE, deflated)) => {
                let mut json = Vec::with_capacity(deflated.len() * 4);
                flate2::read::DeflateDecoder::new(deflated)
                    .read_to_end(&mut json)
                    .map_err(|e| unreadable(e.into()))?;
                json
            }
            Some((format, _)) => {
                return Err(unreadable(
                    format!("unknown body format {format} (written by a newer prow-rs?)").into(),
                ));
            }
            None => return Err(unreadable("the body is empty".into())),
        },
    };
    serde_json::from_slice(&json).map_err(|e| unreadable(e.into()))
}

std::thread_local! {
    /// One compressor per thread, reset for each body: a fresh one allocates and zeroes some
    /// hundred KB of tables, which cost more than compressing a job.
    static PACKER: std::cell::RefCell<flate2::Compress> =
        std::cell::RefCell::new(flate2::Compress::new(PACK_LEVEL, false));
}

/// The job's JSON (Go's `omitempty` fields left out), packed with DEFLATE behind a format byte.
fn encode(location: &str, job: &ProwJob) -> Result<Vec<u8>, StoreError> {
    let unwritable = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Backend {
        location: location.to_owned(),
        reason: format!("cannot write prowjob {:?} as JSON", job.metadata.name),
        source: Some(e),
    };
    let json = serde_json::to_vec(job).map_err(|e| unwritable(e.into()))?;
    PACKER.with_borrow_mut(|packer| {
        packer.reset();
        let mut body = Vec::with_capacity(json.len() / 2 + 64);
        body.push(PACKED_DEFLATE);
        loop {
            let consumed = usize::try_from(packer.total_in()).unwrap_or(json.len());
            let status = packer
                .compress_vec(
                    &json[consumed.min(json.len())..],
                    &mut body,
                    flate2::FlushCompress::Finish,
                )
                .map_err(|e| unwritable(e.into()))?;
            if status == flate2::Status::StreamEnd {
                return Ok(body);
            }
            body.reserve(body.capacity().max(1024));
        }
    })
}

/// The `state` column: the job's `status.state`, empty when it has no status.
fn state_column(job: &ProwJob) -> &'static str {
    job.status.as_ref().map_or("", |s| s.state.as_str())
}

/// Replaces the label rows of `name`: those of `old` (the labels stored with it) go, those of
/// `new` come. The rows are keyed by label, then job, so each is stored once and serves
/// selectors directly; the job's own rows are found through its stored labels.
fn write_labels(
    conn: &Connection,
    name: &str,
    old: Option<&BTreeMap<String, String>>,
    new: Option<&BTreeMap<String, String>>,
) -> rusqlite::Result<()> {
    let mut delete = conn
        .prepare_cached("DELETE FROM prowjob_labels WHERE key = ?1 AND value = ?2 AND name = ?3")?;
    for (key, value) in old.into_iter().flatten() {
        delete.execute(params![key, value, name])?;
    }
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO prowjob_labels (key, value, name) VALUES (?1, ?2, ?3)",
    )?;
    for (key, value) in new.into_iter().flatten() {
        insert.execute(params![key, value, name])?;
    }
    Ok(())
}

/// The stored version and body of `name`.
fn read_row(conn: &Connection, name: &str) -> rusqlite::Result<Option<(i64, Body)>> {
    conn.prepare_cached("SELECT resource_version, body FROM prowjobs WHERE name = ?1")?
        .query_row([name], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
}

/// Gives `job` the next version of `revisions` and writes its row with `sql` (parameters:
/// name, version, state, body); the version is taken by the caller once the rest succeeds.
fn write_row(
    conn: &Connection,
    location: &str,
    revisions: &Revisions,
    mut job: ProwJob,
    sql: &str,
) -> Result<ProwJob, StoreError> {
    let name = job.metadata.name.clone().unwrap_or_default();
    let revision = revisions.next();
    job.metadata.resource_version = Some(revision.to_string());
    let body = encode(location, &job)?;
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params![name, revision, state_column(&job), body]))
        .map_err(sql_error(location, &name))?;
    Ok(job)
}

/// Stores the new `job` (checked and given its namespace, uid and creation time) within the
/// caller's transaction, with the next version of `revisions`. Every refusal comes before
/// the first statement that writes, so a refused job leaves the transaction as it was.
fn insert_job(
    conn: &Connection,
    location: &str,
    revisions: &mut Revisions,
    job: ProwJob,
) -> Result<ProwJob, StoreError> {
    let name = job.metadata.name.clone().unwrap_or_default();
    let err = sql_error(location, &name);
    let exists = conn
        .prepare_cached("SELECT 1 FROM prowjobs WHERE name = ?1")
        .and_then(|mut stmt| stmt.exists([&name]))
        .map_err(&err)?;
    if exists {
        return Err(StoreError::AlreadyExists { name });
    }
    let job = write_row(
        conn,
        location,
        revisions,
        job,
        "INSERT INTO prowjobs (name, resource_version, state, body) VALUES (?1, ?2, ?3, ?4)",
    )?;
    write_labels(conn, &name, None, job.metadata.labels.as_ref()).map_err(&err)?;
    revisions.taken();
    Ok(job)
}

/// Replaces the stored job with `job` (checked and given its namespace) within the caller's
/// transaction, if its version is the stored one. Every refusal comes before the first
/// statement that writes.
fn replace_job(
    conn: &Connection,
    location: &str,
    revisions: &mut Revisions,
    mut job: ProwJob,
) -> Result<ProwJob, StoreError> {
    let name = job.metadata.name.clone().unwrap_or_default();
    let err = sql_error(location, &name);
    let Some((stored_version, body)) = read_row(conn, &name).map_err(&err)? else {
        return Err(StoreError::NotFound { name });
    };
    let expected = job.metadata.resource_version.clone().unwrap_or_default();
    if expected != stored_version.to_string() {
        return Err(StoreError::Conflict {
            name,
            expected,
            actual: stored_version.to_string(),
        });
    }
    let stored = decode(location, &name, &body)?;
    job.metadata.uid = stored.metadata.uid;
    job.metadata.creation_timestamp = stored.metadata.creation_timestamp;
    let job = write_row(
        conn,
        location,
        revisions,
        job,
        "UPDATE prowjobs SET resource_version = ?2, state = ?3, body = ?4 WHERE name = ?1",
    )?;
    // Most updates are plank's and crier's status changes: the labels stay as they were.
    if stored.metadata.labels != job.metadata.labels {
        write_labels(
            conn,
            &name,
            stored.metadata.labels.as_ref(),
            job.metadata.labels.as_ref(),
        )
        .map_err(&err)?;
    }
    revisions.taken();
    Ok(job)
}

/// The query listing jobs for `params`, and its arguments. Requirements that name the values
/// a job must carry (`=`, `==`, `in`) and `exists` narrow the rows through the label index,
/// and states through the state index; the full parameters are then matched on what comes
/// back.
fn list_query(params: &ListParams) -> (String, Vec<String>) {
    let mut sql = String::from("SELECT name, body FROM prowjobs WHERE 1 = 1");
    let mut args: Vec<String> = Vec::new();
    let placeholders = |args: &mut Vec<String>, values: &mut dyn Iterator<Item = String>| {
        let mut marks = Vec::new();
        for value in values {
            args.push(value);
            marks.push(format!("?{}", args.len()));
        }
        marks.join(", ")
    };
    if !params.states.is_empty() {
        let marks = placeholders(
            &mut args,
            &mut params.states.iter().map(|s| s.as_str().to_owned()),
        );
        sql.push_str(&format!(" AND state IN ({marks})"));
    }
    let requirements = params
        .label_selector
        .iter()
        .flat_map(Selector::requirements);
    for r in requirements {
        if let Some(values) = r.required_values() {
            args.push(r.key().to_owned());
            let key_arg = args.len();
            let marks = placeholders(&mut args, &mut values.iter().cloned());
            sql.push_str(&format!(
                " AND name IN (SELECT name FROM prowjob_labels WHERE key = ?{key_arg} \
                 AND value IN ({marks}))"
            ));
        } else if r.operator() == Operator::Exists {
            args.push(r.key().to_owned());
            sql.push_str(&format!(
                " AND name IN (SELECT name FROM prowjob_labels WHERE key = ?{})",
                args.len()
            ));
        }
    }
    sql.push_str(" ORDER BY name");
    (sql, args)
}

fn send(inner: &Inner, mut event: WatchEvent) {
    let (WatchEvent::Added(job) | WatchEvent::Modified(job) | WatchEvent::Deleted(job)) =
        &mut event;
    inner.parts.share(job);
    // No receiver is not an error: nobody is watching.
    let _ = inner.events.send(event);
}

/// What another write of a batch that failed with `error` answers: the same kind, with
/// `error`'s message as the reason (its source cannot be shared).
fn batch_failure(location: &str, error: &StoreError) -> StoreError {
    let location = location.to_owned();
    let reason = format!("another write of the batch failed, none was stored: {error}");
    match error {
        StoreError::Full { .. } => StoreError::Full {
            location,
            reason,
            source: None,
        },
        StoreError::Unavailable { .. } => StoreError::Unavailable {
            location,
            reason,
            source: None,
        },
        _ => StoreError::Backend {
            location,
            reason,
            source: None,
        },
    }
}

#[async_trait]
impl JobStore for SqliteStore {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    async fn create(&self, job: ProwJob) -> Result<ProwJob, StoreError> {
        let job = self.prepare_create(job)?;
        self.write(move |conn, inner| {
            let name = job.metadata.name.clone().unwrap_or_default();
            let err = sql_error(&inner.location, &name);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(&err)?;
            let mut revisions = Revisions::read(&tx).map_err(&err)?;
            let job = insert_job(&tx, &inner.location, &mut revisions, job)?;
            revisions.save(&tx).map_err(&err)?;
            tx.commit().map_err(&err)?;
            send(inner, WatchEvent::Added(Box::new(job.clone())));
            Ok(job)
        })
        .await
    }

    async fn get(&self, name: &str) -> Result<Option<ProwJob>, StoreError> {
        let name = name.to_owned();
        self.run(move |conn, inner| {
            let body: Option<Body> = conn
                .prepare_cached("SELECT body FROM prowjobs WHERE name = ?1")
                .and_then(|mut stmt| stmt.query_row([&name], |row| row.get(0)).optional())
                .map_err(sql_error(&inner.location, &name))?;
            body.map(|b| inner.decode_shared(&name, &b)).transpose()
        })
        .await
    }

    async fn list(&self, params: &ListParams) -> Result<Vec<ProwJob>, StoreError> {
        let query = params.clone();
        // Only the rows are read under the connection's lock; they are decoded after it is
        // let go, so that a list of many jobs (every controller lists all of them when it
        // starts) does not hold up writes and the readiness probe for as long as decoding
        // takes.
        let rows = self
            .run(move |conn, inner| {
                let (sql, args) = list_query(&query);
                let err = sql_error(&inner.location, "*");
                let mut stmt = conn.prepare_cached(&sql).map_err(&err)?;
                let rows = stmt
                    .query_map(params_from_iter(args.iter()), |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, Body>(1)?))
                    })
                    .map_err(&err)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(&err)
            })
            .await?;
        let params = params.clone();
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut jobs = Vec::with_capacity(rows.len());
            for (name, body) in rows {
                // Shared as each is decoded, so the copies never pile up.
                let job = inner.decode_shared(&name, &body)?;
                if params.matches(&job) {
                    jobs.push(job);
                }
            }
            Ok(jobs)
        })
        .await
        .map_err(|e| backend(&self.inner.location, "the store's task failed", e))?
    }

    async fn update(&self, job: ProwJob) -> Result<ProwJob, StoreError> {
        let job = self.prepare_update(job)?;
        self.write(move |conn, inner| {
            let name = job.metadata.name.clone().unwrap_or_default();
            let err = sql_error(&inner.location, &name);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(&err)?;
            let mut revisions = Revisions::read(&tx).map_err(&err)?;
            let job = replace_job(&tx, &inner.location, &mut revisions, job)?;
            revisions.save(&tx).map_err(&err)?;
            tx.commit().map_err(&err)?;
            send(inner, WatchEvent::Modified(Box::new(job.clone())));
            Ok(job)
        })
        .await
    }

    /// One transaction for the whole batch: each write is checked and refused on its own
    /// (a refused one changes nothing), the stored ones commit together, and their watch
    /// events follow the commit in order. A failure of the database fails every write.
    async fn write_all(&self, writes: Vec<Write>) -> Vec<Result<ProwJob, StoreError>> {
        let count = writes.len();
        let mut results: Vec<Option<Result<ProwJob, StoreError>>> = Vec::with_capacity(count);
        let mut ready = Vec::with_capacity(count);
        for (index, write) in writes.into_iter().enumerate() {
            let prepared = match write {
                Write::Create(job) => self.prepare_create(job).map(Write::Create),
                Write::Update(job) => self.prepare_update(job).map(Write::Update),
            };
            match prepared {
                Ok(write) => {
                    ready.push((index, write));
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        if ready.is_empty() {
            return results.into_iter().flatten().collect();
        }
        let batch = self
            .write(move |conn, inner| {
                let err = sql_error(&inner.location, "*");
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(&err)?;
                let mut revisions = Revisions::read(&tx).map_err(&err)?;
                let mut done = Vec::with_capacity(ready.len());
                for (index, write) in ready {
                    let (result, added) = match write {
                        Write::Create(job) => {
                            (insert_job(&tx, &inner.location, &mut revisions, job), true)
                        }
                        Write::Update(job) => (
                            replace_job(&tx, &inner.location, &mut revisions, job),
                            false,
                        ),
                    };
                    // The database failing ends the batch: nothing of it is committed.
                    let result = match result {
                        Err(e) if WriteFailure::of(&e).is_some() => return Err(e),
                        other => other,
                    };
                    done.push((index, result, added));
                }
                revisions.save(&tx).map_err(&err)?;
                tx.commit().map_err(&err)?;
                for (_, result, added) in &done {
                    if let Ok(job) = result {
                        let job = Box::new(job.clone());
                        send(
                            inner,
                            if *added {
                                WatchEvent::Added(job)
                            } else {
                                WatchEvent::Modified(job)
                            },
                        );
                    }
                }
                Ok(done)
            })
            .await;
        match batch {
            Ok(done) => {
                for (index, result, _) in done {
                    results[index] = Some(result);
                }
            }
            Err(error) => {
                let pending: Vec<usize> = (0..count).filter(|&i| results[i].is_none()).collect();
                for &index in pending.iter().skip(1) {
                    results[index] = Some(Err(batch_failure(&self.inner.location, &error)));
                }
                if let Some(&first) = pending.first() {
                    results[first] = Some(Err(error));
                }
            }
        }
        results.into_iter().flatten().collect()
    }

    async fn version(&self) -> Result<Option<u64>, StoreError> {
        self.run(|conn, inner| {
            let value: i64 = conn
                .prepare_cached("SELECT value FROM revision WHERE id = 1")
                .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
                .map_err(|e| db_error(&inner.location, "cannot read the store's revision", e))?;
            Ok(Some(u64::try_from(value).unwrap_or(0)))
        })
        .await
    }

    async fn delete(
        &self,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<ProwJob, StoreError> {
        let name = name.to_owned();
        let precondition = resource_version.map(str::to_owned);
        self.write(move |conn, inner| {
            let err = sql_error(&inner.location, &name);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(&err)?;
            let Some((stored_version, body)) = read_row(&tx, &name).map_err(&err)? else {
                return Err(StoreError::NotFound { name });
            };
            if let Some(expected) = precondition
                && expected != stored_version.to_string()
            {
                return Err(StoreError::Conflict {
                    name,
                    expected,
                    actual: stored_version.to_string(),
                });
            }
            let mut job = decode(&inner.location, &name, &body)?;
            // Like etcd, a deletion is a change with its own version.
            let mut revisions = Revisions::read(&tx).map_err(&err)?;
            job.metadata.resource_version = Some(revisions.next().to_string());
            revisions.taken();
            write_labels(&tx, &name, job.metadata.labels.as_ref(), None).map_err(&err)?;
            tx.execute("DELETE FROM prowjobs WHERE name = ?1", [&name])
                .map_err(&err)?;
            revisions.save(&tx).map_err(&err)?;
            tx.commit().map_err(&err)?;
            send(inner, WatchEvent::Deleted(Box::new(job.clone())));
            Ok(job)
        })
        .await
    }

    fn watch(&self) -> broadcast::Receiver<WatchEvent> {
        self.inner.events.subscribe()
    }

    /// Not while the last write failed in the storage (full, I/O error, locked); otherwise
    /// whether a heartbeat row can be written, within two seconds.
    async fn ready(&self) -> Result<(), StoreError> {
        let location = self.inner.location.clone();
        let failure = self
            .inner
            .write_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(failure) = failure {
            return Err(failure.not_ready(location));
        }
        let probe = self.run(|conn, inner| {
            let err = |e| db_error(&inner.location, "the readiness probe cannot write", e);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err)?;
            tx.execute(
                "INSERT INTO heartbeat (id, at) VALUES (1, ?1) \
                 ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                [Timestamp::now().as_millisecond()],
            )
            .map_err(err)?;
            tx.commit().map_err(err)
        });
        tokio::time::timeout(READY_TIMEOUT, probe)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Unavailable {
                    location,
                    reason: format!(
                        "the readiness probe did not finish within {}s",
                        READY_TIMEOUT.as_secs()
                    ),
                    source: None,
                })
            })
    }
}

/// Now, to the second: Kubernetes timestamps carry no fraction.
fn now() -> Time {
    let seconds = Timestamp::now().as_second();
    Time(Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH))
}
