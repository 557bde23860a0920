//! phony: sends a signed webhook to a hook, as GitHub would (Prow's `phony`).

use crate::error::Error;
use crate::hmac::sign;

/// Posts `payload` as event `event` to `address`, signed with `hmac`, with the headers GitHub
/// sends (`X-GitHub-Delivery` is the literal `GUID`, as upstream phony sends). Returns the
/// response body.
pub async fn send(
    address: &str,
    event: &str,
    payload: &[u8],
    hmac: &[u8],
) -> Result<String, Error> {
    let send_error = |source| Error::Send {
        address: address.to_owned(),
        source,
    };
    let response = reqwest::Client::new()
        .post(address)
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", "GUID")
        .header("X-Hub-Signature-256", sign(payload, hmac))
        .header("content-type", "application/json")
        .body(payload.to_vec())
        .send()
        .await
        .map_err(send_error)?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(send_error)?;
    if status != 200 {
        return Err(Error::Status { status, body });
    }
    Ok(body)
}
