//! Validating webhook deliveries exactly as Prow's hook does, independent of any HTTP server.

use crate::error::Error;
use crate::events::Event;
use crate::hmac::{HmacSecrets, signature_mac, signed_by, validate_payload};

/// GitHub's cap on webhook payloads; larger bodies are refused before reading on.
pub const MAX_PAYLOAD_BYTES: usize = 25 * 1024 * 1024;

/// The body hook answers an accepted delivery with (status 200), as Prow's does.
pub const ACCEPTED: &str = "Event received. Have a nice day.";

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

/// Why a delivery was refused; `Display` is the response body hook answers with, in Prow's
/// wording, and [`Rejection::status`] its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// Not a POST (405).
    #[error("405 Method not allowed")]
    MethodNotAllowed,
    /// No `X-GitHub-Event` header (400).
    #[error("400 Bad Request: Missing X-GitHub-Event Header")]
    MissingEvent,
    /// No `X-GitHub-Delivery` header (400).
    #[error("400 Bad Request: Missing X-GitHub-Delivery Header")]
    MissingDelivery,
    /// No `X-Hub-Signature-256` header (403).
    #[error("403 Forbidden: Missing X-Hub-Signature-256")]
    MissingSignature,
    /// A content type other than exactly `application/json` (400).
    #[error(
        "400 Bad Request: Hook only accepts content-type: application/json - please reconfigure this hook on GitHub"
    )]
    WrongContentType,
    /// A body over [`MAX_PAYLOAD_BYTES`] (413; upstream reads any size).
    #[error("413 Payload Too Large")]
    TooLarge,
    /// The body is not JSON, the signature is malformed, no secret is configured for the
    /// repository or none matches (403); the reason is Prow's.
    #[error("403 Forbidden: Invalid X-Hub-Signature-256 - {reason}")]
    InvalidSignature {
        /// Why, in Prow's words (`invalid payload`, `invalid signature`, ...).
        reason: String,
    },
}

impl Rejection {
    /// The HTTP status hook answers with.
    pub fn status(&self) -> u16 {
        match self {
            Rejection::MethodNotAllowed => 405,
            Rejection::MissingEvent | Rejection::MissingDelivery | Rejection::WrongContentType => {
                400
            }
            Rejection::MissingSignature | Rejection::InvalidSignature { .. } => 403,
            Rejection::TooLarge => 413,
        }
    }
}

/// The headers of a delivery that passed Prow's checks of everything but the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryHeaders<'a> {
    /// `X-GitHub-Event`.
    pub event: &'a str,
    /// `X-GitHub-Delivery`.
    pub guid: &'a str,
    /// `X-Hub-Signature-256`.
    pub signature: &'a str,
}

/// Prow's checks before the body: method, event header, delivery header, signature header,
/// content type and size. `header` looks a header up by name (case-insensitively, as HTTP
/// does). The signature over the body is checked next, by [`verify_and_parse`] or
/// [`validate_payload`](crate::validate_payload).
pub fn check_headers<'a>(
    method: &str,
    header: impl Fn(&str) -> Option<&'a str>,
    body_len: usize,
) -> Result<DeliveryHeaders<'a>, Rejection> {
    if method != "POST" {
        return Err(Rejection::MethodNotAllowed);
    }
    let present = |name| header(name).filter(|v| !v.is_empty());
    let event = present("X-GitHub-Event").ok_or(Rejection::MissingEvent)?;
    let guid = present("X-GitHub-Delivery").ok_or(Rejection::MissingDelivery)?;
    let signature = present("X-Hub-Signature-256").ok_or(Rejection::MissingSignature)?;
    if header("content-type") != Some("application/json") {
        return Err(Rejection::WrongContentType);
    }
    if body_len > MAX_PAYLOAD_BYTES {
        return Err(Rejection::TooLarge);
    }
    Ok(DeliveryHeaders {
        event,
        guid,
        signature,
    })
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
    let headers = check_headers(method, header, body.len())?;
    validate_payload(body, headers.signature, secrets)
        .map_err(|reason| Rejection::InvalidSignature { reason })?;
    Ok(Delivery {
        event: headers.event.to_owned(),
        guid: headers.guid.to_owned(),
        payload: body.to_vec(),
    })
}

/// Checks a delivery body's signature, then reads its event.
///
/// The signature is checked on the raw bytes before the event is built, as Prow's hook does,
/// so an unsigned body of any shape costs no memory beyond the body itself. Prow reads a
/// payload's `repository.full_name` (or `organization.login`) to pick the secret and refuses
/// a payload it cannot read that way. When the secrets do not depend on the repository (one
/// legacy token, or only `*`), that read and the event's are one pass over the payload, made
/// after the signature matched; a payload that fails it is read again the two-pass way to
/// give Prow's answer. Otherwise the owner read borrows what it needs from the payload and
/// skips everything else, and only a correctly signed body is parsed as its event.
///
/// The outer error refuses the delivery (403); the inner one is a correctly signed body that
/// is not a valid `event`.
pub fn verify_and_parse(
    event: &str,
    payload: &[u8],
    signature: &str,
    secrets: &HmacSecrets,
) -> Result<Result<Event, Error>, Rejection> {
    if let Some(read) = Event::owner_checking_reader(event)
        && let Some(tokens) = secrets.global_tokens()
        && let Ok(mac) = signature_mac(signature)
        && signed_by(payload, &mac, &tokens)
        && let Some(event) = read(payload)
    {
        return Ok(Ok(event));
    }
    validate_payload(payload, signature, secrets)
        .map_err(|reason| Rejection::InvalidSignature { reason })?;
    Ok(Event::parse(event, payload))
}
