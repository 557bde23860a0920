//! crier's GCS reporter, the job-state part (upstream `pkg/crier/reporters/gcs`
//! `reportProwjob`): on every state change the ProwJob is written as `prowjob.json` into the
//! job's artifacts, where deck's spyglass reads it, through the artifact storage of
//! [`storage`](crate::storage) (GCS, S3, local directories).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use prow_config::prow::ProwConfig;
use prow_core::ProwJob;

use super::CrierError;
use super::reporter::JobReporter;
use crate::storage::{ArtifactStore, ObjectInfo, open_bucket};

/// The reporter's name: its key in `status.prev_report_states`.
pub const GCS_REPORTER_NAME: &str = "gcsreporter";

/// The file the job is written to, in its artifacts folder (upstream `ProwJobFile`).
pub const PROWJOB_FILE: &str = "prowjob.json";

/// Where a job's files go: its bucket and folder (upstream `GetJobDestination`), from its
/// decoration config; `None` for undecorated jobs or jobs without a build ID yet.
pub fn job_destination(job: &ProwJob) -> Option<(String, String)> {
    let gcs = job
        .spec
        .decoration_config
        .as_ref()?
        .gcs_configuration
        .as_ref()?;
    if gcs.bucket.is_empty() {
        return None;
    }
    let build_id = job.status.as_ref().map(|s| s.build_id.as_str())?;
    if build_id.is_empty() {
        return None;
    }
    let spec = crate::JobSpec::new(&job.spec, build_id, job.name());
    Some((
        gcs.bucket.clone(),
        crate::gcsupload::path_for_spec(&spec, gcs),
    ))
}

/// The ProwJob as upstream writes it: JSON indented with tabs.
pub fn prowjob_json(job: &ProwJob) -> Vec<u8> {
    use serde::Serialize as _;
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // A ProwJob always serializes.
    let _ = job.serialize(&mut serializer);
    out
}

/// crier's GCS reporter: uploads `prowjob.json` for every job with a destination.
pub struct GcsReporter {
    gcs_credentials_file: String,
    s3_credentials_file: String,
    stores: Mutex<HashMap<String, Arc<dyn ArtifactStore>>>,
}

impl std::fmt::Debug for GcsReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcsReporter").finish_non_exhaustive()
    }
}

impl GcsReporter {
    /// A reporter opening buckets with these credential files (empty: the environment's).
    pub fn new(gcs_credentials_file: &str, s3_credentials_file: &str) -> Self {
        GcsReporter {
            gcs_credentials_file: gcs_credentials_file.to_owned(),
            s3_credentials_file: s3_credentials_file.to_owned(),
            stores: Mutex::new(HashMap::new()),
        }
    }

    fn store(&self, bucket: &str) -> Result<Arc<dyn ArtifactStore>, crate::Error> {
        let mut stores = self.stores.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(store) = stores.get(bucket) {
            return Ok(store.clone());
        }
        let store: Arc<dyn ArtifactStore> = Arc::from(open_bucket(
            bucket,
            &self.gcs_credentials_file,
            &self.s3_credentials_file,
        )?);
        stores.insert(bucket.to_owned(), store.clone());
        Ok(store)
    }
}

#[async_trait::async_trait]
impl JobReporter for GcsReporter {
    fn name(&self) -> &'static str {
        GCS_REPORTER_NAME
    }

    /// Upstream takes a job once it has a build ID; one without a destination is then
    /// passed over (logged), which here means it is not taken at all.
    fn should_report(&self, job: &ProwJob, _config: &ProwConfig) -> bool {
        job_destination(job).is_some()
    }

    async fn report(&self, job: &ProwJob, _config: &ProwConfig) -> Result<String, CrierError> {
        let Some((bucket, dir)) = job_destination(job) else {
            return Ok("no destination".to_owned());
        };
        let storage_error = |source| CrierError::Storage {
            job: job.name().to_owned(),
            source,
        };
        let store = self.store(&bucket).map_err(storage_error)?;
        let path = crate::paths::join(&[dir.as_str(), PROWJOB_FILE]);
        let info = ObjectInfo {
            content_type: Some("application/json".to_owned()),
            content_encoding: None,
        };
        store
            .put(&path, prowjob_json(job), &info)
            .await
            .map_err(storage_error)?;
        Ok(format!("uploaded {}/{path}", store.location()))
    }
}
