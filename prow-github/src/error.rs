//! The error type of prow-github.

/// Everything that can go wrong in prow-github.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request could not be sent or its response read.
    #[error("send webhook to {address}")]
    Send {
        /// Where it was sent.
        address: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The receiver answered with something other than 200.
    #[error("response from hook has status {status} and body {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The response body.
        body: String,
    },
    /// A webhook payload does not have the shape of its event.
    #[error("read {event} payload: {path}: {reason}")]
    Payload {
        /// The event name.
        event: String,
        /// The field path of the problem.
        path: String,
        /// What is wrong.
        reason: String,
    },
}
