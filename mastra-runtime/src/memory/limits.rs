//! Size limits on what memory stores, so that whatever is created can be addressed, read back
//! and listed: an id fits in a URL, a stored value is never deeper than a read accepts, and a
//! page of a listing has a size computed from these limits.
//!
//! Every limit is checked where a value enters storage (the [`Storage`](super::Storage)
//! contract), so the HTTP routes, agent memory, workflow runs and an application calling the
//! store directly all get the same answer: a typed [`StorageError`](super::StorageError) that
//! the routes turn into a `400` naming the limit.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Message, StorageError, Thread, ThreadUpdate, WorkflowRunRecord};
use crate::schema::{check_text_depth, TooDeep};

/// Longest id accepted for a thread, resource, message or workflow run, in bytes. An id is
/// refused when it is created, never stored and then found unreachable: percent-encoded (at
/// most three bytes per byte) inside the longest route that carries it, it stays far below the
/// request-target limit ([`DEFAULT_MAX_URL_BYTES`](crate::config::limits::DEFAULT_MAX_URL_BYTES)).
pub const MAX_ID_BYTES: usize = 256;

/// Largest thread metadata, in bytes of its JSON text (as stored and as listed). Sixteen KiB
/// holds any reasonable set of tags, labels and references; it is what makes a page of threads
/// small enough to build in memory ([`MAX_THREAD_JSON_BYTES`]).
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// Longest thread title, in bytes.
pub const MAX_TITLE_BYTES: usize = 1024;

/// Most items one page of a listing holds (threads, messages, workflow runs). A larger
/// `perPage` is refused; `perPage: false` ("every item") answers the first
/// `MAX_PER_PAGE` items and says whether more remain (`hasMore`, `total`).
pub const MAX_PER_PAGE: u32 = 1000;

/// Deepest nesting of arrays and objects in a JSON value storage writes (message content, a
/// thread's metadata, a run's snapshot), counted on the stored text. serde_json reads 127
/// levels; storage refuses anything deeper than this so a row it wrote always reads back,
/// whatever the caller checked before. Values entering the server are held to the lower
/// [`MAX_JSON_DEPTH`](crate::schema::MAX_JSON_DEPTH), which leaves room for the levels storage
/// wraps around them.
pub const MAX_STORED_DEPTH: usize = 100;

/// The most bytes of JSON a string of `bytes` bytes can serialize to: every byte a control
/// character escaped as `\u00XX`, plus the quotes.
const fn max_json_string_bytes(bytes: usize) -> usize {
    6 * bytes + 2
}

/// The most bytes one thread takes in a listing: its ids and title at their limits with every
/// byte escaped, metadata at its limit, field names and the two timestamps. A page of threads
/// is at most [`MAX_PER_PAGE`] times this, plus a separator each and the page's own fields.
pub const MAX_THREAD_JSON_BYTES: usize = 160
    + 2 * max_json_string_bytes(MAX_ID_BYTES)
    + max_json_string_bytes(MAX_TITLE_BYTES)
    + MAX_METADATA_BYTES;

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

/// The JSON text storage keeps for `value`, named `field` in the error: refused when deeper
/// than [`MAX_STORED_DEPTH`], or longer than `max_bytes` when given.
pub(super) fn stored_json(
    field: &'static str,
    value: &impl Serialize,
    max_bytes: Option<usize>,
) -> Result<String, StorageError> {
    let text = serde_json::to_string(value)
        .map_err(|e| StorageError::Query(format!("{field} cannot be serialized: {e}")))?;
    check_text_depth(text.as_bytes(), MAX_STORED_DEPTH)
        .map_err(|TooDeep { limit }| StorageError::TooDeep { field, limit })?;
    match max_bytes {
        Some(limit) if text.len() > limit => Err(StorageError::TooLarge {
            field,
            length: text.len(),
            limit,
        }),
        _ => Ok(text),
    }
}

/// A thread's metadata as stored (`None` stays `NULL`), within [`MAX_METADATA_BYTES`] and
/// [`MAX_STORED_DEPTH`].
pub(super) fn stored_metadata(
    metadata: Option<&Map<String, Value>>,
) -> Result<Option<String>, StorageError> {
    metadata
        .map(|map| stored_json("metadata", map, Some(MAX_METADATA_BYTES)))
        .transpose()
}

fn check_title(title: Option<&str>) -> Result<(), StorageError> {
    match title {
        Some(title) if title.len() > MAX_TITLE_BYTES => Err(StorageError::TooLarge {
            field: "title",
            length: title.len(),
            limit: MAX_TITLE_BYTES,
        }),
        _ => Ok(()),
    }
}

/// What a store writes of a new thread, checked: its metadata's text.
pub(super) fn checked_thread(thread: &Thread) -> Result<Option<String>, StorageError> {
    check_id("threadId", &thread.id)?;
    check_id("resourceId", &thread.resource_id)?;
    check_title(thread.title.as_deref())?;
    stored_metadata(thread.metadata.as_ref())
}

/// What a store writes of a thread update, checked: the new metadata's text.
pub(super) fn checked_update(update: &ThreadUpdate) -> Result<Option<String>, StorageError> {
    if let Some(resource) = &update.resource_id {
        check_id("resourceId", resource)?;
    }
    check_title(update.title.as_deref())?;
    stored_metadata(update.metadata.as_ref())
}

/// What a store writes of a message, checked: its content's text.
pub(super) fn checked_message(message: &Message) -> Result<String, StorageError> {
    check_id("messageId", &message.id)?;
    if let Some(resource) = &message.resource_id {
        check_id("resourceId", resource)?;
    }
    stored_json("message content", &message.content, None)
}

/// What a store writes of a workflow run, checked: its snapshot's text.
pub(super) fn checked_run(run: &WorkflowRunRecord) -> Result<String, StorageError> {
    check_id("runId", &run.run_id)?;
    if let Some(resource) = &run.resource_id {
        check_id("resourceId", resource)?;
    }
    stored_json("workflow run snapshot", &run.snapshot, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{MessageContent, Thread, Timestamp};

    #[test]
    fn a_value_at_the_stored_depth_limit_reads_back_as_value_and_as_content() {
        let nested = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
        assert!(serde_json::from_str::<Value>(&nested(MAX_STORED_DEPTH)).is_ok());
        // The four levels of a message's content around a tool call's arguments.
        let content = format!(
            r#"{{"format":2,"parts":[{{"type":"tool-invocation","toolInvocation":{{"state":"result","toolCallId":"c","toolName":"t","args":{}}}}}]}}"#,
            nested(MAX_STORED_DEPTH - 4)
        );
        assert!(serde_json::from_str::<MessageContent>(&content).is_ok());
    }

    #[test]
    fn the_largest_thread_fits_its_bound() {
        let escaped = |bytes: usize| "\u{1}".repeat(bytes);
        let mut thread = Thread::new(escaped(MAX_ID_BYTES), escaped(MAX_ID_BYTES));
        thread.title = Some(escaped(MAX_TITLE_BYTES));
        let filler = "x".repeat(MAX_METADATA_BYTES - r#"{"k":""}"#.len());
        let mut metadata = Map::new();
        metadata.insert("k".to_owned(), Value::String(filler));
        assert_eq!(
            Value::Object(metadata.clone()).to_string().len(),
            MAX_METADATA_BYTES
        );
        thread.metadata = Some(metadata);
        // The widest timestamps JavaScript dates reach.
        thread.created_at = Timestamp(-8_640_000_000_000_000);
        thread.updated_at = thread.created_at;
        let text = serde_json::to_string(&thread).expect("serializes");
        assert!(text.len() <= MAX_THREAD_JSON_BYTES, "{}", text.len());
    }
}
