//! Size limits on what memory stores, so that whatever is created can be addressed and listed:
//! an id fits in a URL, and a page of a listing has a bounded size.

/// Longest id accepted for a thread, resource, message or workflow run, in bytes. An id is
/// refused when it is created, never stored and then found unreachable: percent-encoded (at
/// most three bytes per byte) inside the longest route that carries it, it stays far below the
/// request-target limit ([`DEFAULT_MAX_URL_BYTES`](crate::config::DEFAULT_MAX_URL_BYTES)).
pub const MAX_ID_BYTES: usize = 256;

/// An id longer than [`MAX_ID_BYTES`], or empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} must be between 1 and {limit} bytes long, got {length}")]
pub struct InvalidId {
    /// Which id (`threadId`, `resourceId`, `runId`, ...).
    pub field: &'static str,
    /// Its length in bytes.
    pub length: usize,
    /// The most accepted.
    pub limit: usize,
}

/// `Ok` when `id`, named `field` in the error, is non-empty and at most [`MAX_ID_BYTES`] long.
pub fn check_id(field: &'static str, id: &str) -> Result<(), InvalidId> {
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(InvalidId {
            field,
            length: id.len(),
            limit: MAX_ID_BYTES,
        });
    }
    Ok(())
}
