//! Validating webhook deliveries exactly as Prow's hook does, independent of any HTTP server.

use crate::hmac::{HmacSecrets, validate_payload};

/// GitHub's cap on webhook payloads; larger bodies are refused before reading on.
pub const MAX_PAYLOAD_BYTES: usize = 25 * 1024 * 1024;

/// A delivery that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `X-GitHub-Event`: the event name, such as `pull_request`.
    pub event: String,
    /// `X-GitHub-Delivery`: GitHub's unique ID of this delivery.
    pub guid: String,
    /// The JSON body.
    pub payload: Vec<u8>,
}

/// Why a delivery was refused: the HTTP status and body hook answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    /// The HTTP status code.
    pub status: u16,
    /// The response body, Prow's wording.
    pub message: String,
}

fn reject(status: u16, message: impl Into<String>) -> Rejection {
    Rejection {
        status,
        message: message.into(),
    }
}

/// Checks a request in Prow's order: method, event header, delivery header, signature header,
/// content type, then the signature over the body. `header` looks a header up by name
/// (case-insensitively, as HTTP does).
pub fn validate_webhook<'a>(
    method: &str,
    header: impl Fn(&str) -> Option<&'a str>,
    body: &[u8],
    secrets: &HmacSecrets,
) -> Result<Delivery, Rejection> {
    if method != "POST" {
        return Err(reject(405, "405 Method not allowed"));
    }
    let event = header("X-GitHub-Event").filter(|v| !v.is_empty());
    let Some(event) = event else {
        return Err(reject(
            400,
            "400 Bad Request: Missing X-GitHub-Event Header",
        ));
    };
    let Some(guid) = header("X-GitHub-Delivery").filter(|v| !v.is_empty()) else {
        return Err(reject(
            400,
            "400 Bad Request: Missing X-GitHub-Delivery Header",
        ));
    };
    let Some(signature) = header("X-Hub-Signature-256").filter(|v| !v.is_empty()) else {
        return Err(reject(403, "403 Forbidden: Missing X-Hub-Signature-256"));
    };
    if header("content-type") != Some("application/json") {
        return Err(reject(
            400,
            "400 Bad Request: Hook only accepts content-type: application/json - please reconfigure this hook on GitHub",
        ));
    }
    if body.len() > MAX_PAYLOAD_BYTES {
        return Err(reject(413, "413 Payload Too Large"));
    }
    validate_payload(body, signature, secrets).map_err(|reason| {
        reject(
            403,
            format!("403 Forbidden: Invalid X-Hub-Signature-256 - {reason}"),
        )
    })?;
    Ok(Delivery {
        event: event.to_owned(),
        guid: guid.to_owned(),
        payload: body.to_vec(),
    })
}
