//! The [`Storage`] trait: what any store of threads and messages provides.
//!
//! SQLite implements it today; the trait keeps to operations a PostgreSQL store can do the same
//! way (one transaction per write, paging by offset, no SQLite-only types), so several server
//! instances can later share one database. Workflow run snapshots live in the same store: one
//! row per run, claimed with a conditional upsert that PostgreSQL runs unchanged.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    AgentRunFilter, AgentRunRecord, InvalidId, Message, Thread, WorkflowRunFilter,
    WorkflowRunRecord, MAX_PER_PAGE,
};
use crate::error::ApiError;

/// Why a storage operation failed.
///
/// The refusals of a write (an id, a size or a depth over its limit, a thread owned by another
/// resource) are the client's to fix and become a `400` naming the limit; a taken id is a
/// `409`; a database that cannot be reached is a `503` (retry later); everything else is the
/// store's own failure, a `500`.
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
    /// The database cannot be reached right now (connection refused or lost, no connection
    /// free within the acquire timeout, the server shutting down or starting up). Nothing is
    /// known to be written; the same request can succeed once the database is back.
    #[error("storage unavailable ({store}): {message}")]
    Unavailable {
        /// The store, as [`Storage::describe`] names it (no password).
        store: String,
        /// What failed.
        message: String,
    },
    /// One stored item cannot be decoded (a value nested deeper than a read accepts, text that
    /// is not JSON, an unknown role or status): reading that item fails with this, while a
    /// listing reports it in [`Page::unreadable`] and goes on.
    #[error("Stored {kind} {id} cannot be read: {reason}")]
    Unreadable {
        /// What it is (`thread`, `message`, `workflow run`).
        kind: &'static str,
        /// Its id.
        id: String,
        /// Why.
        reason: String,
    },
    /// The id is taken.
    #[error("{0}")]
    Conflict(String),
    /// An id is empty or longer than [`MAX_ID_BYTES`](super::MAX_ID_BYTES); nothing was
    /// written.
    #[error(transparent)]
    InvalidId(#[from] InvalidId),
    /// A value is larger than its limit ([`MAX_METADATA_BYTES`](super::MAX_METADATA_BYTES),
    /// [`MAX_TITLE_BYTES`](super::MAX_TITLE_BYTES)); nothing was written.
    #[error("{field} must be at most {limit} bytes, got {length}")]
    TooLarge {
        /// Which value (`metadata`, `title`).
        field: &'static str,
        /// Its size in bytes (metadata: of its JSON text).
        length: usize,
        /// The most accepted.
        limit: usize,
    },
    /// A value is nested deeper than [`MAX_STORED_DEPTH`](super::MAX_STORED_DEPTH), more than
    /// a read could take back; nothing was written.
    #[error(
        "{field} is nested deeper than {limit} levels of arrays and objects, more than storage can read back"
    )]
    TooDeep {
        /// Which value (`message content`, `metadata`, `workflow run snapshot`).
        field: &'static str,
        /// The most accepted.
        limit: usize,
    },
    /// A page larger than [`MAX_PER_PAGE`](super::MAX_PER_PAGE) was asked for.
    #[error("perPage must be at most {limit}, got {requested}")]
    PageTooLarge {
        /// The `perPage` asked for.
        requested: u32,
        /// The most a page holds.
        limit: u32,
    },
    /// The thread belongs to another resource; nothing was saved.
    #[error(
        "Thread with id {thread_id} is for resource with id {owner} but resource {resource} was queried"
    )]
    NotOwner {
        /// The thread.
        thread_id: String,
        /// Its owner.
        owner: String,
        /// The resource that tried to write to it.
        resource: String,
    },
}

impl StorageError {
    /// Whether the caller's input was refused (an id, size, depth or page over its limit, or a
    /// thread owned by someone else): the client's to fix, nothing was written.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            StorageError::InvalidId(_)
                | StorageError::TooLarge { .. }
                | StorageError::TooDeep { .. }
                | StorageError::PageTooLarge { .. }
                | StorageError::NotOwner { .. }
        )
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Conflict(message) => ApiError::conflict(message),
            unavailable @ StorageError::Unavailable { .. } => {
                tracing::warn!(error = %unavailable, "storage unavailable");
                ApiError::new(
                    actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                    "Storage unavailable, try again later",
                )
            }
            refused if refused.is_refusal() => ApiError::bad_request(refused.to_string()),
            unreadable @ StorageError::Unreadable { .. } => {
                tracing::error!(error = %unreadable, "a stored item cannot be read");
                ApiError::internal(unreadable.to_string())
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::internal("Storage error")
            }
        }
    }
}

/// The thread id [`Storage::ping`] looks up. Whether such a thread exists does not matter:
/// the lookup only has to be answered.
const READINESS_PROBE_ID: &str = "mastra-readiness-probe";

/// Which slice of a list to return. Pages count from 0, as in Mastra.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The page, from 0.
    pub page: u32,
    /// Items per page, at most [`MAX_PER_PAGE`]; `None` asks for every item (Mastra's
    /// `perPage: false`) and gets the first [`MAX_PER_PAGE`], with [`Page::has_more`] saying
    /// whether more remain.
    pub per_page: Option<u32>,
}

impl PageRequest {
    /// `Err(PageTooLarge)` when `per_page` is over [`MAX_PER_PAGE`]. Every listing of a
    /// [`Storage`] checks it first.
    pub fn check(&self) -> Result<(), StorageError> {
        match self.per_page {
            Some(requested) if requested > MAX_PER_PAGE => Err(StorageError::PageTooLarge {
                requested,
                limit: MAX_PER_PAGE,
            }),
            _ => Ok(()),
        }
    }

    /// Most items the page holds: `per_page`, or [`MAX_PER_PAGE`] when every item was asked
    /// for.
    pub fn limit(&self) -> u32 {
        self.per_page.unwrap_or(MAX_PER_PAGE).min(MAX_PER_PAGE)
    }

    /// Row offset of the page (0 when every item was asked for). Cannot overflow: both
    /// factors are `u32`.
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

/// An item of a listing that is stored but cannot be decoded (see
/// [`StorageError::Unreadable`]): listed apart from the readable items, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct UnreadableItem {
    /// The item's id.
    pub id: String,
    /// Why it cannot be read.
    pub error: String,
}

/// One page of a list, with Mastra's paging fields.
///
/// A stored item that cannot be decoded does not fail the listing: it is left out of `items`,
/// named in `unreadable` (in the order it had on the page) and logged, and still counted in
/// `total`, so `items` and `unreadable` together are the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The readable items on this page.
    pub items: Vec<T>,
    /// The items on this page that cannot be decoded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<UnreadableItem>,
    /// Items in the whole list.
    pub total: u64,
    /// This page, from 0.
    pub page: u32,
    /// Items per page; `None` when every item was asked for.
    pub per_page: Option<u32>,
    /// Whether later pages hold more items (also when every item was asked for and the list
    /// holds more than [`MAX_PER_PAGE`]).
    pub has_more: bool,
}

impl<T> Page<T> {
    /// A page of `items` out of `total`.
    pub fn new(items: Vec<T>, total: u64, request: PageRequest) -> Self {
        Self::with_unreadable(items, Vec::new(), total, request)
    }

    /// A page of `items` and `unreadable` ones out of `total`.
    pub fn with_unreadable(
        items: Vec<T>,
        unreadable: Vec<UnreadableItem>,
        total: u64,
        request: PageRequest,
    ) -> Self {
        let on_page = (items.len() + unreadable.len()) as u64;
        let has_more = request.offset().saturating_add(on_page) < total;
        Self {
            items,
            unreadable,
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

/// A store of threads, messages, workflow runs and agent runs. Every write is durable once it
/// returns.
///
/// What every implementation guarantees:
///
/// - **Whatever it writes reads back.** A write checks its ids ([`MAX_ID_BYTES`]), a thread's
///   title and metadata ([`MAX_TITLE_BYTES`], [`MAX_METADATA_BYTES`]) and the depth of every
///   JSON value ([`MAX_STORED_DEPTH`]) before anything is written, and fails with
///   [`StorageError::InvalidId`], [`StorageError::TooLarge`] or [`StorageError::TooDeep`].
/// - **Reading is per item.** Reading one item that cannot be decoded fails with
///   [`StorageError::Unreadable`]; a listing never does: it names such items in
///   [`Page::unreadable`] and goes on.
/// - **Pages are bounded.** A listing refuses a page over [`MAX_PER_PAGE`]
///   ([`StorageError::PageTooLarge`]) and answers at most that many items when every item is
///   asked for.
/// - **Ownership is decided in the write.** [`Storage::append_messages`] checks the thread's
///   owner in the transaction that saves, so concurrent first writes from different resources
///   leave one owner.
///
/// [`MAX_ID_BYTES`]: super::MAX_ID_BYTES
/// [`MAX_TITLE_BYTES`]: super::MAX_TITLE_BYTES
/// [`MAX_METADATA_BYTES`]: super::MAX_METADATA_BYTES
/// [`MAX_STORED_DEPTH`]: super::MAX_STORED_DEPTH
#[async_trait::async_trait]
pub trait Storage: Send + Sync + fmt::Debug + 'static {
    /// Creates or migrates the schema. Called at startup; every other method also makes sure
    /// it ran first.
    async fn init(&self) -> Result<(), StorageError>;

    /// Answers when the store can serve a query now: one small round trip (the
    /// readiness probe, `GET /ready`). The default looks up one thread by id.
    async fn ping(&self) -> Result<(), StorageError> {
        self.get_thread(READINESS_PROBE_ID).await.map(|_| ())
    }

    /// Where the data lives, for logs (`sqlite:./mastra.db`).
    fn describe(&self) -> String;

    /// Inserts a thread; [`StorageError::Conflict`] when its id is taken.
    async fn create_thread(&self, thread: &Thread) -> Result<(), StorageError>;

    /// The thread with this id; [`StorageError::Unreadable`] when it is stored but cannot be
    /// decoded.
    async fn get_thread(&self, id: &str) -> Result<Option<Thread>, StorageError>;

    /// Threads matching `filter`, one page of them. With a metadata filter, a thread that
    /// cannot be decoded cannot be shown to match: it is logged and left out.
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
    ///
    /// "Oldest" is the order the store saved them in, a sequence the database assigns at
    /// insert (never a process's clock, whose `createdAt` may disagree between instances), so
    /// every reader of one database sees one total order.
    async fn list_messages(
        &self,
        thread_id: &str,
        page: PageRequest,
        direction: SortDirection,
    ) -> Result<Page<Message>, StorageError>;

    /// The last `limit` messages of a thread, oldest first (in the order of
    /// [`Storage::list_messages`]). A message that cannot be decoded
    /// is logged and skipped, so a run's history never fails on one bad row.
    async fn recent_messages(
        &self,
        thread_id: &str,
        limit: usize,
    ) -> Result<Vec<Message>, StorageError>;

    /// Saves messages to `thread` in one transaction, creating the thread if it does not exist
    /// and moving its `updatedAt` to now.
    ///
    /// `thread.resource_id` is the owner the caller writes as. When the thread exists and
    /// belongs to another resource, nothing is saved and the call fails with
    /// [`StorageError::NotOwner`]. The check and the writes are one atomic step (SQLite: an
    /// upsert that only touches a thread of the same owner, under the write lock), so of
    /// concurrent first writes from different resources exactly one creates the thread and
    /// the others are refused.
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

    /// Replaces a run's status and snapshot in one atomic step, only if the stored run is
    /// still as the caller read it: status `expected_status` and `updatedAt`
    /// `expected_updated_at`. `false` when it is not (or the run does not exist); nothing is
    /// changed then. Of concurrent transitions from the same state (two resumes of one
    /// suspended run, a resume and a cancel) exactly one succeeds.
    async fn transition_workflow_run(
        &self,
        run: &WorkflowRunRecord,
        expected_status: super::WorkflowRunStatus,
        expected_updated_at: super::Timestamp,
    ) -> Result<bool, StorageError>;

    /// The run `run_id` of `workflow_name`; [`StorageError::Unreadable`] when it is stored
    /// but cannot be decoded.
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

    /// Writes an agent run as given (its status, state and `version`), inserting it when no
    /// run has its agent and id and replacing it otherwise (keeping its creation time).
    async fn save_agent_run(&self, run: &AgentRunRecord) -> Result<(), StorageError>;

    /// The run `run_id` of agent `agent_id`; [`StorageError::Unreadable`] when it is stored but
    /// cannot be decoded.
    async fn get_agent_run(
        &self,
        agent_id: &str,
        run_id: &str,
    ) -> Result<Option<AgentRunRecord>, StorageError>;

    /// Claims a suspended agent run in one atomic step: when the run is `suspended` at
    /// `version`, sets it `running` at `version + 1` and answers `true`; otherwise (missing,
    /// not suspended, or changed since `version` was read) changes nothing and answers `false`.
    /// Of concurrent claims of one state, exactly one wins, across every server sharing the
    /// store.
    async fn claim_agent_run(
        &self,
        agent_id: &str,
        run_id: &str,
        version: i64,
    ) -> Result<bool, StorageError>;

    /// Agent runs matching `filter`, newest first, one page of them.
    async fn list_agent_runs(
        &self,
        filter: &AgentRunFilter,
        page: PageRequest,
    ) -> Result<Page<AgentRunRecord>, StorageError>;
}
