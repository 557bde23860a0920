//! phony: sends signed webhooks to a hook, as GitHub would (Prow's `phony`, plus folders).
//!
//! Unlike upstream, which always sends the literal `X-GitHub-Delivery: GUID`, every delivery
//! gets a fresh UUID as GitHub gives it: a hook that drops repeated deliveries would otherwise
//! see every phony request after the first as a duplicate.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::hmac::sign;

/// What a hook answered to one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The `X-GitHub-Delivery` sent.
    pub delivery: String,
    /// The HTTP status.
    pub status: u16,
    /// The response body.
    pub body: String,
}

/// Posts `payload` as event `event` to `address`, signed with `hmac`, with the headers GitHub
/// sends and a fresh delivery ID; the reply is returned whatever its status.
pub async fn deliver(
    client: &reqwest::Client,
    address: &str,
    event: &str,
    payload: &[u8],
    hmac: &[u8],
) -> Result<Reply, Error> {
    let send_error = |source| Error::Send {
        address: address.to_owned(),
        source,
    };
    let delivery = uuid::Uuid::new_v4().to_string();
    let response = client
        .post(address)
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", &delivery)
        .header("X-Hub-Signature-256", sign(payload, hmac))
        .header("content-type", "application/json")
        .body(payload.to_vec())
        .send()
        .await
        .map_err(send_error)?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(send_error)?;
    Ok(Reply {
        delivery,
        status,
        body,
    })
}

/// Posts one webhook like upstream phony: anything but 200 is an error carrying the body.
/// Returns the response body.
pub async fn send(
    address: &str,
    event: &str,
    payload: &[u8],
    hmac: &[u8],
) -> Result<String, Error> {
    let reply = deliver(&reqwest::Client::new(), address, event, payload, hmac).await?;
    if reply.status != 200 {
        return Err(Error::Status {
            status: reply.status,
            body: reply.body,
        });
    }
    Ok(reply.body)
}

/// A payload file found in a folder, with the event its folder names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadFile {
    /// The name of the folder holding the file, such as `pull_request`.
    pub event: String,
    /// The file.
    pub path: PathBuf,
}

/// Every file under `dir` (subfolders included), sorted by path, each with the event named
/// by the folder it is in: a corpus laid out as `<event>/<scenario>.json` sends as is.
pub fn payload_files(dir: &Path) -> std::io::Result<Vec<PayloadFile>> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        let event = folder
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(PayloadFile {
                    event: event.clone(),
                    path,
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
