//! Memory: conversation threads and their messages, and workflow run snapshots, kept in a
//! [`Storage`].
//!
//! An agent given [`Memory`] loads a thread's recent messages into its prompt and, when a run
//! finishes, saves the user's input and the assistant's answer. SQLite ([`SqliteStorage`]) is
//! the embedded default: a file (`./mastra.db` unless configured), or in memory for tests.
//! [`PostgresStorage`] keeps the same data in PostgreSQL, so several server instances can share
//! it; [`open_storage`] and [`storage_from_env`] (`DATABASE_URL`) choose the store from a URL.

mod agent_runs;
// The write-side checks are the SQL stores'; a build with neither has only the limits.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
mod limits;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
mod postgres_agent_runs;
#[cfg(feature = "postgres")]
mod postgres_runs;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod rows;
mod runs;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_agent_runs;
#[cfg(feature = "sqlite")]
mod sqlite_runs;
mod storage;
mod types;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod url;

use std::sync::Arc;

pub use agent_runs::{AgentRunFilter, AgentRunRecord, AgentRunStatus};
pub use limits::{
    check_id, InvalidId, MAX_ID_BYTES, MAX_METADATA_BYTES, MAX_PER_PAGE, MAX_STORED_DEPTH,
    MAX_THREAD_JSON_BYTES, MAX_TITLE_BYTES,
};
#[cfg(feature = "postgres")]
pub use postgres::PostgresStorage;
pub use runs::{WorkflowRunFilter, WorkflowRunRecord, WorkflowRunStatus};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteStorage, DEFAULT_DATABASE_PATH};
pub use storage::{
    Page, PageRequest, SortDirection, Storage, StorageError, ThreadFilter, ThreadOrderField,
    ThreadUpdate, UnreadableItem,
};
pub use types::{
    Message, MessageContent, MessagePart, MessageRole, Thread, Timestamp, ToolInvocation,
};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use url::{
    open_storage, storage_from_env, PoolSettings, StorageUrl, ACQUIRE_TIMEOUT_ENV,
    DATABASE_URL_ENV, DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_POOL_SIZE, DEFAULT_QUERY_TIMEOUT,
    POOL_SIZE_ENV, QUERY_TIMEOUT_ENV,
};

/// How many recent messages of a thread a run loads: Mastra's `lastMessages` default.
pub const DEFAULT_LAST_MESSAGES: usize = 10;

/// An agent's memory: how much history it reads, and optionally its own store (else the one
/// configured with [`MastraBuilder::storage`](crate::MastraBuilder::storage)).
///
/// ```
/// use mastra_runtime::memory::{Memory, SqliteStorage};
/// let memory = Memory::new().last_messages(20).storage(SqliteStorage::in_memory());
/// assert_eq!(memory.recent_limit(), 20);
/// ```
#[derive(Debug, Clone)]
pub struct Memory {
    last_messages: usize,
    storage: Option<Arc<dyn Storage>>,
}

impl Default for Memory {
    fn default() -> Self {
        Self::new()
    }
}

impl Memory {
    /// Memory reading the last [`DEFAULT_LAST_MESSAGES`] messages, in the application's store.
    pub fn new() -> Self {
        Self {
            last_messages: DEFAULT_LAST_MESSAGES,
            storage: None,
        }
    }

    /// Sets how many recent messages are loaded into the prompt (0 loads none but still saves).
    pub fn last_messages(mut self, count: usize) -> Self {
        self.last_messages = count;
        self
    }

    /// Uses this store instead of the application's.
    pub fn storage(mut self, storage: impl Storage) -> Self {
        self.storage = Some(Arc::new(storage));
        self
    }

    /// Uses this shared store instead of the application's.
    pub fn shared_storage(mut self, storage: Arc<dyn Storage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// How many recent messages are loaded.
    pub fn recent_limit(&self) -> usize {
        self.last_messages
    }

    /// The store set on this memory, if any.
    pub fn own_storage(&self) -> Option<&Arc<dyn Storage>> {
        self.storage.as_ref()
    }
}
