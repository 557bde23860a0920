//! `/prowjobs.js` bodies kept until the store changes: each is built once per store version
//! (and request filters and hidden repos), then served as it is.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Frame, SizeHint};

/// How many `/prowjobs.js` variants (by filters, omitted fields and hidden repos) are kept.
const KEPT: usize = 4;

/// How many bytes of bodies are kept at most, beyond the newest one (kept whatever its size):
/// the full list of 10,000 upstream-sized jobs is about 25 MB.
const KEPT_BYTES: usize = 32 << 20;

/// The kept bodies, and a lock that lets one request build a missing body while the others
/// wait for it instead of building it too.
#[derive(Debug, Default)]
pub(super) struct BodyCache {
    entries: Mutex<VecDeque<Entry>>,
    pub(super) building: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct Entry {
    version: u64,
    key: String,
    body: Kept,
}

/// A kept body: the pieces it was streamed in, not joined into one (joining would copy it
/// and, for a moment, hold it twice).
#[derive(Debug, Clone)]
pub(super) struct Kept {
    pieces: Arc<[Bytes]>,
    len: usize,
}

impl Kept {
    pub(super) fn new(pieces: Vec<Bytes>) -> Self {
        let len = pieces.iter().map(Bytes::len).sum();
        Kept {
            pieces: pieces.into(),
            len,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// A response body sending the pieces in turn, its length known up front.
    pub(super) fn into_body(self) -> axum::body::Body {
        axum::body::Body::new(Pieces {
            left: self.len as u64,
            pieces: self.pieces,
            next: 0,
        })
    }
}

/// The body of [`Kept::into_body`].
struct Pieces {
    pieces: Arc<[Bytes]>,
    next: usize,
    left: u64,
}

impl http_body::Body for Pieces {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        let Some(piece) = this.pieces.get(this.next).cloned() else {
            return Poll::Ready(None);
        };
        this.next += 1;
        this.left -= piece.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.next >= self.pieces.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

impl BodyCache {
    /// The body kept for `key`, when it was built at store version `version` or later.
    ///
    /// A body is labelled with the version read before its jobs were listed, so it holds at
    /// least every change up to that version.
    pub(super) fn get(&self, version: u64, key: &str) -> Option<Kept> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .iter()
            .find(|e| e.key == key && e.version >= version)
            .map(|e| e.body.clone())
    }

    /// Keeps `body` for `key` as built at `version`, dropping bodies of older versions and
    /// the oldest beyond [`KEPT`] bodies or [`KEPT_BYTES`].
    pub(super) fn put(&self, version: u64, key: String, body: Kept) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|e| e.version >= version && e.key != key);
        entries.push_back(Entry { version, key, body });
        let mut bytes: usize = entries.iter().map(|e| e.body.len()).sum();
        while entries.len() > 1 && (entries.len() > KEPT || bytes > KEPT_BYTES) {
            if let Some(oldest) = entries.pop_front() {
                bytes -= oldest.body.len();
            }
        }
    }
}
