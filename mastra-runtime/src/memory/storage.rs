//! The [`Storage`] trait: what any store of threads and messages provides.
//!
//! SQLite implements it today; the trait keeps to operations a PostgreSQL store can do the same
//! way (one transaction per write, paging by offset, no SQLite-only types), so several server
//! instances can later share one database. Workflow run snapshots live in the same store: one
//! row per run, claimed with a conditional upsert that PostgreSQL runs unchanged.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Message, Thread, WorkflowRunFilter, WorkflowRunRecord};
use crate::error::ApiError;

/// Why a storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The database could not be opened or its schema created or migrated.
    #[error("could not open storage {location}: {message}")]
    Open {
        /// Where it is.
        location: String,
        /// Why.
        message: String,
    },
    /// A query failed.
    #[error("storage query failed: {0}")]
    Query(String),
    /// A stored value did not read back as expected.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The id is taken.
    #[error("{0}")]
    Conflict(String),
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Conflict(message) => ApiError::conflict(message),
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::internal("Storage error")
            }
        }
    }
}

/// Which slice of a list to return. Pages count from 0, as in Mastra.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The page, from 0.
    pub page: u32,
    /// Items per page; `None` returns every item (Mastra's `perPage: false`).
    pub per_page: Option<u32>,
}

impl PageRequest {
    /// Row offset of the page. Cannot overflow: both factors are `u32`.
    pub fn offset(&self) -> u64 {
        self.per_page
            .map_or(0, |n| u64::from(self.page) * u64::from(n))
    }

    /// The offset as SQL binds it. An offset past `i64::MAX` (`page` and `perPage` both near
    /// `u32::MAX`) is past every row, so it saturates there instead of wrapping negative, which
    /// the database would read as 0 and answer the first page.
    pub fn sql_offset(&self) -> i64 {
        i64::try_from(self.offset()).unwrap_or(i64::MAX)
    }
}

/// One page of a list, with Mastra's paging fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Items in the whole list.
    pub total: u64,
    /// This page, from 0.
    pub page: u32,
    /// Items per page; `None` when every item was returned.
    pub per_page: Option<u32>,
    /// Whether later pages hold more items.
    pub has_more: bool,
}

impl<T> Page<T> {
    /// A page of `items` out of `total`.
    pub fn new(items: Vec<T>, total: u64, request: PageRequest) -> Self {
        let has_more = request.offset().saturating_add(items.len() as u64) < total;
        Self {
            items,
            total,
            page: request.page,
            per_page: request.per_page,
            has_more,
        }
    }
}

/// Sort direction.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum SortDirection {
    /// Oldest first.
    Asc,
    /// Newest first.
    #[default]
    Desc,
}

/// What threads are sorted by.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum ThreadOrderField {
    /// Creation time (Mastra's default).
    #[default]
    CreatedAt,
    /// Last change.
    UpdatedAt,
}

/// Which threads to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThreadFilter {
    /// Only this owner's threads.
    pub resource_id: Option<String>,
    /// Only threads whose metadata holds every one of these entries.
    pub metadata: Option<Map<String, Value>>,
    /// Sort field.
    pub order_by: ThreadOrderField,
    /// Sort direction.
    pub direction: SortDirection,
}

/// Changes to a thread; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThreadUpdate {
    /// A new title.
    pub title: Option<String>,
    /// New metadata (replaces the old).
    pub metadata: Option<Map<String, Value>>,
    /// A new owner.
    pub resource_id: Option<String>,
}

/// A store of threads, messages and workflow runs. Every write is durable once it returns.
#[async_trait::async_trait]
pub trait Storage: Send + Sync + fmt::Debug + 'static {
    /// Creates or migrates the schema. Called at startup; every other method also makes sure
    /// it ran first.
    async fn init(&self) -> Result<(), StorageError>;

    /// Where the data lives, for logs (`sqlite:./mastra.db`).
    fn describe(&self) -> String;

    /// Inserts a thread; [`StorageError::Conflict`] when its id is taken.
    async fn create_thread(&self, thread: &Thread) -> Result<(), StorageError>;

    /// The thread with this id.
    async fn get_thread(&self, id: &str) -> Result<Option<Thread>, StorageError>;

    /// Threads matching `filter`, one page of them.
    async fn list_threads(
        &self,
        filter: &ThreadFilter,
        page: PageRequest,
    ) -> Result<Page<Thread>, StorageError>;

    /// Applies `update` and returns the thread, or `None` when it does not exist.
    async fn update_thread(
        &self,
        id: &str,
        update: &ThreadUpdate,
    ) -> Result<Option<Thread>, StorageError>;

    /// Deletes a thread and its messages; `false` when it did not exist.
    async fn delete_thread(&self, id: &str) -> Result<bool, StorageError>;

    /// A thread's messages, one page, oldest first unless `direction` says otherwise.
    async fn list_messages(
        &self,
        thread_id: &str,
        page: PageRequest,
        direction: SortDirection,
    ) -> Result<Page<Message>, StorageError>;

    /// The last `limit` messages of a thread, oldest first.
    async fn recent_messages(
        &self,
        thread_id: &str,
        limit: usize,
    ) -> Result<Vec<Message>, StorageError>;

    /// Saves messages to `thread` in one transaction, creating the thread if it does not exist
    /// and moving its `updatedAt` to now.
    async fn append_messages(
        &self,
        thread: &Thread,
        messages: &[Message],
    ) -> Result<(), StorageError>;

    /// Records a new run (status `pending`) unless a run with its workflow and id exists;
    /// `false` when one does (nothing is changed then).
    async fn create_workflow_run(&self, run: &WorkflowRunRecord) -> Result<bool, StorageError>;

    /// Claims a run for execution in one atomic step: inserts `run` (status `running`) when no
    /// run has its workflow and id, or takes over a `pending` one (keeping its creation time
    /// and owner unless `run` names one). `false` when the run exists and is not pending (it
    /// runs, or ran, elsewhere); nothing is changed then.
    async fn claim_workflow_run(&self, run: &WorkflowRunRecord) -> Result<bool, StorageError>;

    /// Replaces a run's status and snapshot and moves its `updatedAt` (inserting the run if
    /// it is missing).
    async fn save_workflow_run(&self, run: &WorkflowRunRecord) -> Result<(), StorageError>;

    /// The run `run_id` of `workflow_name`.
    async fn get_workflow_run(
        &self,
        workflow_name: &str,
        run_id: &str,
    ) -> Result<Option<WorkflowRunRecord>, StorageError>;

    /// Runs matching `filter`, newest first, one page of them.
    async fn list_workflow_runs(
        &self,
        filter: &WorkflowRunFilter,
        page: PageRequest,
    ) -> Result<Page<WorkflowRunRecord>, StorageError>;
}
