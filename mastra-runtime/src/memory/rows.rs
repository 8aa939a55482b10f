//! Decoding stored rows into threads, messages and workflow runs, the same way for every SQL
//! store: both keep JSON as text and times as integer milliseconds, so a row reads back (or
//! is found unreadable, with the same reason) whichever database holds it.

use serde_json::{Map, Value};
#[cfg(feature = "postgres")]
use sqlx::postgres::PgRow;
#[cfg(feature = "sqlite")]
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::{
    storage::{StorageError, UnreadableItem},
    AgentRunRecord, AgentRunStatus, Message, MessageContent, MessageRole, Thread, Timestamp,
    WorkflowRunRecord, WorkflowRunStatus,
};

/// A row of a SQL store, read column by column into the few types storage keeps.
pub(super) trait StoredRow {
    /// The text in `column`, or why there is none.
    fn text(&self, column: &str) -> Result<String, String>;
    /// The text or `NULL` in `column`, or why it is neither.
    fn optional_text(&self, column: &str) -> Result<Option<String>, String>;
    /// The integer in `column`, or why there is none.
    fn integer(&self, column: &str) -> Result<i64, String>;
}

macro_rules! stored_row {
    ($row:ty) => {
        impl StoredRow for $row {
            fn text(&self, column: &str) -> Result<String, String> {
                self.try_get(column)
                    .map_err(|_| format!("column {column} does not hold text"))
            }

            fn optional_text(&self, column: &str) -> Result<Option<String>, String> {
                self.try_get(column)
                    .map_err(|_| format!("column {column} does not hold text"))
            }

            fn integer(&self, column: &str) -> Result<i64, String> {
                self.try_get(column)
                    .map_err(|_| format!("column {column} does not hold an integer"))
            }
        }
    };
}

#[cfg(feature = "sqlite")]
stored_row!(SqliteRow);
#[cfg(feature = "postgres")]
stored_row!(PgRow);

/// Decodes `row` with `decode`, or says which item (`kind`, its id from `id_column`) cannot be
/// read and why.
pub(super) fn decode<R: StoredRow, T>(
    row: &R,
    kind: &'static str,
    id_column: &str,
    decode: impl FnOnce(&R) -> Result<T, String>,
) -> Result<T, StorageError> {
    decode(row).map_err(|reason| StorageError::Unreadable {
        kind,
        id: row.text(id_column).unwrap_or_default(),
        reason,
    })
}

/// Decodes every row, setting aside (and logging) those that cannot be read, so one bad row
/// never fails a listing.
pub(super) fn decode_all<R, T>(
    rows: &[R],
    decode: impl Fn(&R) -> Result<T, StorageError>,
) -> (Vec<T>, Vec<UnreadableItem>) {
    let mut items = Vec::with_capacity(rows.len());
    let mut unreadable = Vec::new();
    for row in rows {
        match decode(row) {
            Ok(item) => items.push(item),
            Err(error) => {
                tracing::warn!(%error, "a stored item cannot be read; listed as unreadable");
                let id = match &error {
                    StorageError::Unreadable { id, .. } => id.clone(),
                    _ => String::new(),
                };
                unreadable.push(UnreadableItem {
                    id,
                    error: error.to_string(),
                });
            }
        }
    }
    (items, unreadable)
}

/// A thread from the columns `id, resource_id, title, metadata, created_at, updated_at`.
pub(super) fn thread_from_row<R: StoredRow>(row: &R) -> Result<Thread, StorageError> {
    decode(row, "thread", "id", |row| {
        let metadata = match row.optional_text("metadata")? {
            None => None,
            Some(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => Some(map),
                Ok(Value::Null) => None,
                Ok(_) => return Err("metadata is not a JSON object".to_owned()),
                Err(e) => return Err(format!("metadata: {e}")),
            },
        };
        Ok(Thread {
            id: row.text("id")?,
            resource_id: row.text("resource_id")?,
            title: row.optional_text("title")?,
            metadata,
            created_at: Timestamp(row.integer("created_at")?),
            updated_at: Timestamp(row.integer("updated_at")?),
        })
    })
}

/// A message from the columns `id, thread_id, resource_id, role, content, created_at`.
pub(super) fn message_from_row<R: StoredRow>(row: &R) -> Result<Message, StorageError> {
    decode(row, "message", "id", |row| {
        let role = row.text("role")?;
        let content = row.text("content")?;
        Ok(Message {
            id: row.text("id")?,
            thread_id: row.text("thread_id")?,
            resource_id: row.optional_text("resource_id")?,
            role: MessageRole::parse(&role).ok_or_else(|| format!("unknown role {role:?}"))?,
            content: serde_json::from_str::<MessageContent>(&content)
                .map_err(|e| format!("content: {e}"))?,
            created_at: Timestamp(row.integer("created_at")?),
            kind: "v2".to_owned(),
        })
    })
}

/// A workflow run from the columns `workflow_name, run_id, resource_id, status, snapshot,
/// created_at, updated_at`.
pub(super) fn run_from_row<R: StoredRow>(row: &R) -> Result<WorkflowRunRecord, StorageError> {
    decode(row, "workflow run", "run_id", |row| {
        let status = row.text("status")?;
        let snapshot = row.text("snapshot")?;
        Ok(WorkflowRunRecord {
            workflow_name: row.text("workflow_name")?,
            run_id: row.text("run_id")?,
            resource_id: row.optional_text("resource_id")?,
            status: WorkflowRunStatus::parse(&status)
                .ok_or_else(|| format!("unknown status {status:?}"))?,
            snapshot: serde_json::from_str::<Value>(&snapshot)
                .map_err(|e| format!("snapshot: {e}"))?,
            created_at: Timestamp(row.integer("created_at")?),
            updated_at: Timestamp(row.integer("updated_at")?),
        })
    })
}

/// An agent run from the columns `agent_id, run_id, resource_id, thread_id, status, snapshot,
/// version, created_at, updated_at`.
pub(super) fn agent_run_from_row<R: StoredRow>(row: &R) -> Result<AgentRunRecord, StorageError> {
    decode(row, "agent run", "run_id", |row| {
        let status = row.text("status")?;
        let snapshot = row.text("snapshot")?;
        Ok(AgentRunRecord {
            agent_id: row.text("agent_id")?,
            run_id: row.text("run_id")?,
            resource_id: row.optional_text("resource_id")?,
            thread_id: row.optional_text("thread_id")?,
            status: AgentRunStatus::parse(&status)
                .ok_or_else(|| format!("unknown status {status:?}"))?,
            snapshot: serde_json::from_str::<Value>(&snapshot)
                .map_err(|e| format!("snapshot: {e}"))?,
            version: row.integer("version")?,
            created_at: Timestamp(row.integer("created_at")?),
            updated_at: Timestamp(row.integer("updated_at")?),
        })
    })
}

/// Whether `thread`'s metadata holds every entry of `wanted`. Metadata filters match in Rust,
/// so JSON equality means the same in every store.
pub(super) fn metadata_matches(thread: &Thread, wanted: &Map<String, Value>) -> bool {
    let Some(have) = &thread.metadata else {
        return wanted.is_empty();
    };
    wanted.iter().all(|(k, v)| have.get(k) == Some(v))
}
