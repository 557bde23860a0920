//! Reading a job-config file or folder tree: every job and every problem.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Finding};
use crate::files::{read_maybe_gzip, walk};
use crate::jobs::JobConfig;
use crate::parse::parse;

/// Reads a job-config file or tree: every job, plus every problem (errors and warnings).
pub fn read_job_config(path: &Path) -> Result<(JobConfig, Vec<Finding>), Error> {
    read_job_config_with_presets(path, &mut Vec::new())
}

/// [`read_job_config`], also noting the file and in-file position of every preset read, in
/// order, so problems with presets can name their file.
pub(crate) fn read_job_config_with_presets(
    path: &Path,
    presets: &mut Vec<(PathBuf, usize)>,
) -> Result<(JobConfig, Vec<Finding>), Error> {
    let mut found = Vec::new();
    let mut merged = JobConfig::default();
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let files = if meta.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut Vec::new(), &mut files)?;
        files
    } else {
        vec![path.to_owned()]
    };
    let mut basenames: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut unique = Vec::with_capacity(files.len());
    for file in files {
        let base = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if basenames.insert(base.clone(), file.clone()).is_some() {
            found.push(
                Finding::error(format!("duplicated basename is not allowed: {base}"))
                    .in_file(&file),
            );
            continue;
        }
        unique.push(file);
    }
    // Files parse on every core; they merge in walk order, so the result does not depend on
    // the number of threads.
    let parsed = crate::parallel::map_ordered(&unique, |file| {
        read_maybe_gzip(file).map(|text| parse::<JobConfig>(&text, file))
    });
    for (file, result) in unique.iter().zip(parsed) {
        match result? {
            Ok((jobs, unknown)) => {
                found.extend(unknown);
                presets.extend((0..jobs.presets.len()).map(|i| (file.clone(), i)));
                merged.merge(jobs.with_source(file));
            }
            Err(finding) => found.push(finding),
        }
    }
    Ok((merged, found))
}
