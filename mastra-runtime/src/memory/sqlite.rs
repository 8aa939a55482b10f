//! [`SqliteStorage`]: the embedded default store, a file in WAL mode with durable commits, or a
//! private in-memory database for tests.

use std::{borrow::Cow, path::PathBuf, str::FromStr, time::Duration};

use futures_util::TryStreamExt;
use sqlx::{
    migrate::{Migration, MigrationType, Migrator},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
    ConnectOptions as _, SqlSafeStr,
};
use tokio::sync::OnceCell;

use super::{
    limits::{checked_message, checked_thread, checked_update},
    rows::{message_from_row, metadata_matches, thread_from_row},
    storage::{
        Page, PageRequest, SortDirection, Storage, StorageError, ThreadFilter, ThreadOrderField,
        ThreadUpdate,
    },
    AgentRunFilter, AgentRunRecord, Message, Thread, Timestamp, WorkflowRunFilter,
    WorkflowRunRecord,
};

use super::rows::decode_all;

/// Where the default store lives, relative to the working directory (Mastra's `file:./mastra.db`).
pub const DEFAULT_DATABASE_PATH: &str = "./mastra.db";

/// How long a writer waits for another to finish before failing.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections to a database file: SQLite serialises writers, so a few serve many readers.
pub const SQLITE_MAX_CONNECTIONS: u32 = 4;

/// The schema, in order. Each migration runs once, recorded in `_sqlx_migrations`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "threads and messages",
        include_str!("migrations/0001_threads_and_messages.sql"),
    ),
    (
        2,
        "workflow runs",
        include_str!("migrations/0002_workflow_runs.sql"),
    ),
    (
        3,
        "agent runs",
        include_str!("migrations/0003_agent_runs.sql"),
    ),
];

#[derive(Debug, Clone)]
enum Location {
    File(PathBuf),
    Memory,
}

/// SQLite storage. The connection opens, and the schema is created or migrated, on first use
/// (or at [`Storage::init`]); building one touches nothing.
///
/// Files use WAL journaling with `synchronous = FULL`: a write that returned is on disk, even if
/// the process is killed right after.
///
/// ```
/// use mastra_runtime::memory::{SqliteStorage, Storage};
/// let file = SqliteStorage::file("./data/app.db");
/// assert_eq!(file.describe(), "sqlite:./data/app.db");
/// let memory = SqliteStorage::in_memory();
/// assert_eq!(memory.describe(), "sqlite::memory:");
/// ```
#[derive(Debug)]
pub struct SqliteStorage {
    location: Location,
    pool: OnceCell<SqlitePool>,
    /// In memory: a connection outside the pool, never used, that keeps the database alive.
    /// An in-memory database lives while one connection to it is open, and the pool may close
    /// its connection (one returned from a worker whose runtime is shutting down is dropped),
    /// which would silently replace every table with an empty database.
    keeper: OnceCell<sqlx::SqliteConnection>,
}

impl Default for SqliteStorage {
    fn default() -> Self {
        Self::file(DEFAULT_DATABASE_PATH)
    }
}

impl SqliteStorage {
    /// A database file, created when missing.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            location: Location::File(path.into()),
            pool: OnceCell::new(),
            keeper: OnceCell::new(),
        }
    }

    /// A private database in memory, gone when this value is dropped.
    pub fn in_memory() -> Self {
        Self {
            location: Location::Memory,
            pool: OnceCell::new(),
            keeper: OnceCell::new(),
        }
    }

    pub(super) async fn pool(&self) -> Result<&SqlitePool, StorageError> {
        self.pool.get_or_try_init(|| self.connect()).await
    }

    async fn connect(&self) -> Result<SqlitePool, StorageError> {
        let open_error = |message: String| StorageError::Open {
            location: self.describe(),
            message,
        };
        let pool = match &self.location {
            Location::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true);
                SqlitePoolOptions::new()
                    .max_connections(SQLITE_MAX_CONNECTIONS)
                    .connect_with(options)
                    .await
            }
            Location::Memory => {
                // `sqlite::memory:` names a shared-cache database of its own: every connection
                // made with these options reaches it, while one of them is open. One pooled
                // connection at a time (shared-cache locks are per table), and the keeper.
                let options = SqliteConnectOptions::from_str("sqlite::memory:")
                    .map_err(|e| open_error(e.to_string()))?
                    .foreign_keys(true);
                let keeper = options
                    .connect()
                    .await
                    .map_err(|e| open_error(e.to_string()))?;
                let _ = self.keeper.set(keeper);
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_with(options)
                    .await
            }
        }
        .map_err(|e| open_error(e.to_string()))?;
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        Migrator::with_migrations(migrations)
            .run(&pool)
            .await
            .map_err(|e| open_error(format!("migration failed: {e}")))?;
        tracing::debug!(storage = %self.describe(), "storage ready");
        Ok(pool)
    }
}

pub(super) fn query_error(error: sqlx::Error) -> StorageError {
    StorageError::Query(error.to_string())
}

/// `LIMIT` of a page.
pub(super) fn limit(page: PageRequest) -> i64 {
    i64::from(page.limit())
}

macro_rules! thread_list_query {
    ($order:literal) => {
        concat!(
            "SELECT id, resource_id, title, metadata, created_at, updated_at FROM mastra_threads ",
            "WHERE (?1 IS NULL OR resource_id = ?1) ORDER BY ",
            $order,
            ", id LIMIT ?2 OFFSET ?3"
        )
    };
}

#[async_trait::async_trait]
impl Storage for SqliteStorage {
    async fn init(&self) -> Result<(), StorageError> {
        self.pool().await.map(|_| ())
    }

    fn describe(&self) -> String {
        match &self.location {
            Location::File(path) => format!("sqlite:{}", path.display()),
            Location::Memory => "sqlite::memory:".to_owned(),
        }
    }

    async fn create_thread(&self, thread: &Thread) -> Result<(), StorageError> {
        let metadata = checked_thread(thread)?;
        let result = sqlx::query(
            "INSERT INTO mastra_threads (id, resource_id, title, metadata, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&thread.id)
        .bind(&thread.resource_id)
        .bind(&thread.title)
        .bind(metadata)
        .bind(thread.created_at.millis())
        .bind(thread.updated_at.millis())
        .execute(self.pool().await?)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(
                StorageError::Conflict(format!("Thread with id {} already exists", thread.id)),
            ),
            Err(e) => Err(query_error(e)),
        }
    }

    async fn get_thread(&self, id: &str) -> Result<Option<Thread>, StorageError> {
        sqlx::query(
            "SELECT id, resource_id, title, metadata, created_at, updated_at \
             FROM mastra_threads WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(self.pool().await?)
        .await
        .map_err(query_error)?
        .as_ref()
        .map(thread_from_row)
        .transpose()
    }

    async fn list_threads(
        &self,
        filter: &ThreadFilter,
        page: PageRequest,
    ) -> Result<Page<Thread>, StorageError> {
        page.check()?;
        let pool = self.pool().await?;
        let sql = match (filter.order_by, filter.direction) {
            (ThreadOrderField::CreatedAt, SortDirection::Desc) => {
                thread_list_query!("created_at DESC")
            }
            (ThreadOrderField::CreatedAt, SortDirection::Asc) => {
                thread_list_query!("created_at ASC")
            }
            (ThreadOrderField::UpdatedAt, SortDirection::Desc) => {
                thread_list_query!("updated_at DESC")
            }
            (ThreadOrderField::UpdatedAt, SortDirection::Asc) => {
                thread_list_query!("updated_at ASC")
            }
        };
        if let Some(wanted) = &filter.metadata {
            // Metadata filters match in Rust, so JSON equality means the same in every store.
            // Rows stream through: only the page's threads are kept, however many match.
            let mut rows = sqlx::query(sql)
                .bind(&filter.resource_id)
                .bind(-1_i64)
                .bind(0_i64)
                .fetch(pool);
            let (skip, take) = (page.offset(), u64::from(page.limit()));
            let mut total = 0_u64;
            let mut items = Vec::new();
            while let Some(row) = rows.try_next().await.map_err(query_error)? {
                match thread_from_row(&row) {
                    Ok(thread) if metadata_matches(&thread, wanted) => {
                        if total >= skip && total - skip < take {
                            items.push(thread);
                        }
                        total += 1;
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, "left out of a metadata-filtered thread listing");
                    }
                }
            }
            return Ok(Page::new(items, total, page));
        }
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM mastra_threads WHERE (?1 IS NULL OR resource_id = ?1)",
        )
        .bind(&filter.resource_id)
        .fetch_one(pool)
        .await
        .map_err(query_error)?;
        let rows = sqlx::query(sql)
            .bind(&filter.resource_id)
            .bind(limit(page))
            .bind(page.sql_offset())
            .fetch_all(pool)
            .await
            .map_err(query_error)?;
        let (items, unreadable) = decode_all(&rows, thread_from_row);
        Ok(Page::with_unreadable(
            items,
            unreadable,
            total.max(0) as u64,
            page,
        ))
    }

    async fn update_thread(
        &self,
        id: &str,
        update: &ThreadUpdate,
    ) -> Result<Option<Thread>, StorageError> {
        let metadata = checked_update(update)?;
        let pool = self.pool().await?;
        let done = sqlx::query(
            "UPDATE mastra_threads SET title = COALESCE(?2, title), \
             metadata = COALESCE(?3, metadata), resource_id = COALESCE(?4, resource_id), \
             updated_at = ?5 WHERE id = ?1",
        )
        .bind(id)
        .bind(&update.title)
        .bind(metadata)
        .bind(&update.resource_id)
        .bind(Timestamp::now().millis())
        .execute(pool)
        .await
        .map_err(query_error)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.get_thread(id).await
    }

    async fn delete_thread(&self, id: &str) -> Result<bool, StorageError> {
        let pool = self.pool().await?;
        let mut tx = pool.begin().await.map_err(query_error)?;
        sqlx::query("DELETE FROM mastra_messages WHERE thread_id = ?1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        let done = sqlx::query("DELETE FROM mastra_threads WHERE id = ?1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        tx.commit().await.map_err(query_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_messages(
        &self,
        thread_id: &str,
        page: PageRequest,
        direction: SortDirection,
    ) -> Result<Page<Message>, StorageError> {
        page.check()?;
        let pool = self.pool().await?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM mastra_messages WHERE thread_id = ?1")
                .bind(thread_id)
                .fetch_one(pool)
                .await
                .map_err(query_error)?;
        let sql = match direction {
            SortDirection::Asc => {
                "SELECT id, thread_id, resource_id, role, content, created_at FROM mastra_messages \
                 WHERE thread_id = ?1 ORDER BY seq ASC LIMIT ?2 OFFSET ?3"
            }
            SortDirection::Desc => {
                "SELECT id, thread_id, resource_id, role, content, created_at FROM mastra_messages \
                 WHERE thread_id = ?1 ORDER BY seq DESC LIMIT ?2 OFFSET ?3"
            }
        };
        let rows = sqlx::query(sql)
            .bind(thread_id)
            .bind(limit(page))
            .bind(page.sql_offset())
            .fetch_all(pool)
            .await
            .map_err(query_error)?;
        let (items, unreadable) = decode_all(&rows, message_from_row);
        Ok(Page::with_unreadable(
            items,
            unreadable,
            total.max(0) as u64,
            page,
        ))
    }

    async fn recent_messages(
        &self,
        thread_id: &str,
        limit: usize,
    ) -> Result<Vec<Message>, StorageError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT id, thread_id, resource_id, role, content, created_at FROM mastra_messages \
             WHERE thread_id = ?1 ORDER BY seq DESC LIMIT ?2",
        )
        .bind(thread_id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool().await?)
        .await
        .map_err(query_error)?;
        // A message that cannot be read is logged (by `decode_all`) and left out of the
        // history, so one bad row does not stop every later run on the thread.
        let (mut messages, _unreadable) = decode_all(&rows, message_from_row);
        messages.reverse();
        Ok(messages)
    }

    async fn append_messages(
        &self,
        thread: &Thread,
        messages: &[Message],
    ) -> Result<(), StorageError> {
        let metadata = checked_thread(thread)?;
        let contents = messages
            .iter()
            .map(checked_message)
            .collect::<Result<Vec<_>, _>>()?;
        let pool = self.pool().await?;
        // The upsert is the transaction's first statement, so it takes the write lock before
        // reading: the owner it compares is the committed one, and a concurrent first write
        // waits for this one to commit.
        let mut tx = pool.begin().await.map_err(query_error)?;
        let now = Timestamp::now().millis();
        let saved = sqlx::query(
            "INSERT INTO mastra_threads (id, resource_id, title, metadata, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at \
             WHERE mastra_threads.resource_id = excluded.resource_id",
        )
        .bind(&thread.id)
        .bind(&thread.resource_id)
        .bind(&thread.title)
        .bind(metadata)
        .bind(thread.created_at.millis())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(query_error)?;
        if saved.rows_affected() == 0 {
            let owner: String =
                sqlx::query_scalar("SELECT resource_id FROM mastra_threads WHERE id = ?1")
                    .bind(&thread.id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(query_error)?;
            return Err(StorageError::NotOwner {
                thread_id: thread.id.clone(),
                owner,
                resource: thread.resource_id.clone(),
            });
        }
        for (message, content) in messages.iter().zip(contents) {
            let inserted = sqlx::query(
                "INSERT INTO mastra_messages (id, thread_id, resource_id, role, content, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(&message.id)
            .bind(&thread.id)
            .bind(message.resource_id.as_ref().unwrap_or(&thread.resource_id))
            .bind(message.role.as_str())
            .bind(content)
            .bind(message.created_at.millis())
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {}
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Err(StorageError::Conflict(format!(
                        "Message with id {} already exists",
                        message.id
                    )))
                }
                Err(e) => return Err(query_error(e)),
            }
        }
        tx.commit().await.map_err(query_error)
    }

    async fn create_workflow_run(&self, run: &WorkflowRunRecord) -> Result<bool, StorageError> {
        self.insert_workflow_run(run).await
    }

    async fn claim_workflow_run(&self, run: &WorkflowRunRecord) -> Result<bool, StorageError> {
        self.claim_run(run).await
    }

    async fn save_workflow_run(&self, run: &WorkflowRunRecord) -> Result<(), StorageError> {
        self.upsert_workflow_run(run).await
    }

    async fn transition_workflow_run(
        &self,
        run: &WorkflowRunRecord,
        expected_status: super::WorkflowRunStatus,
        expected_updated_at: super::Timestamp,
    ) -> Result<bool, StorageError> {
        self.transition_run(run, expected_status, expected_updated_at)
            .await
    }

    async fn get_workflow_run(
        &self,
        workflow_name: &str,
        run_id: &str,
    ) -> Result<Option<WorkflowRunRecord>, StorageError> {
        self.select_workflow_run(workflow_name, run_id).await
    }

    async fn list_workflow_runs(
        &self,
        filter: &WorkflowRunFilter,
        page: PageRequest,
    ) -> Result<Page<WorkflowRunRecord>, StorageError> {
        self.select_workflow_runs(filter, page).await
    }

    async fn save_agent_run(&self, run: &AgentRunRecord) -> Result<(), StorageError> {
        self.upsert_agent_run(run).await
    }

    async fn get_agent_run(
        &self,
        agent_id: &str,
        run_id: &str,
    ) -> Result<Option<AgentRunRecord>, StorageError> {
        self.select_agent_run(agent_id, run_id).await
    }

    async fn claim_agent_run(
        &self,
        agent_id: &str,
        run_id: &str,
        version: i64,
    ) -> Result<bool, StorageError> {
        self.claim_suspended_agent_run(agent_id, run_id, version)
            .await
    }

    async fn list_agent_runs(
        &self,
        filter: &AgentRunFilter,
        page: PageRequest,
    ) -> Result<Page<AgentRunRecord>, StorageError> {
        self.select_agent_runs(filter, page).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use super::*;
    use crate::{
        error::ApiError,
        memory::{
            MessageContent, MessagePart, MessageRole, ToolInvocation, WorkflowRunStatus,
            MAX_PER_PAGE, MAX_STORED_DEPTH,
        },
    };

    fn nested(levels: usize) -> Value {
        let mut value = json!(1);
        for _ in 0..levels {
            value = Value::Array(vec![value]);
        }
        value
    }

    fn call_with_args(thread: &Thread, args: Value) -> Message {
        Message::new(
            thread,
            MessageRole::Assistant,
            MessageContent::from_parts(vec![MessagePart::ToolInvocation {
                tool_invocation: ToolInvocation {
                    state: "result".to_owned(),
                    step: 0,
                    tool_call_id: "c".to_owned(),
                    tool_name: "t".to_owned(),
                    args,
                    result: Value::Null,
                    is_error: false,
                },
            }]),
        )
    }

    #[tokio::test]
    async fn a_value_storage_could_not_read_back_is_refused_before_writing() {
        let storage = SqliteStorage::in_memory();
        let thread = Thread::new("t", "r");
        // Content wraps the arguments in four levels: at the limit it is written and reads back.
        let fits = call_with_args(&thread, nested(MAX_STORED_DEPTH - 4));
        storage.append_messages(&thread, &[fits]).await.unwrap();
        let deep = call_with_args(&thread, nested(124));
        let refused = storage.append_messages(&thread, &[deep]).await.unwrap_err();
        assert_eq!(
            refused,
            StorageError::TooDeep {
                field: "message content",
                limit: MAX_STORED_DEPTH
            }
        );
        assert_eq!(ApiError::from(refused).status().as_u16(), 400);
        let page = PageRequest {
            page: 0,
            per_page: None,
        };
        let listed = storage
            .list_messages("t", page, SortDirection::Asc)
            .await
            .unwrap();
        assert_eq!(
            (listed.items.len(), listed.total),
            (1, 1),
            "nothing of the refused write"
        );

        let mut run = WorkflowRunRecord {
            workflow_name: "w".to_owned(),
            run_id: "run".to_owned(),
            resource_id: None,
            status: WorkflowRunStatus::Running,
            snapshot: json!({ "context": { "input": nested(124) } }),
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
        };
        assert!(matches!(
            storage.save_workflow_run(&run).await,
            Err(StorageError::TooDeep { .. })
        ));
        run.snapshot = json!({ "context": { "input": nested(64) } });
        storage.save_workflow_run(&run).await.unwrap();
        assert!(storage
            .get_workflow_run("w", "run")
            .await
            .unwrap()
            .is_some());

        let mut metadata = Map::new();
        metadata.insert("k".to_owned(), nested(MAX_STORED_DEPTH));
        let mut deep_thread = Thread::new("m", "r");
        deep_thread.metadata = Some(metadata);
        assert!(matches!(
            storage.create_thread(&deep_thread).await,
            Err(StorageError::TooDeep {
                field: "metadata",
                ..
            })
        ));
    }

    #[tokio::test]
    async fn a_save_to_a_thread_of_another_owner_saves_nothing() {
        let storage = SqliteStorage::in_memory();
        let mine = Thread::new("t", "alice");
        let message = Message::new(&mine, MessageRole::User, MessageContent::text("hi"));
        storage.append_messages(&mine, &[message]).await.unwrap();
        let theirs = Thread::new("t", "mallory");
        let intrusion = Message::new(&theirs, MessageRole::User, MessageContent::text("boo"));
        let refused = storage
            .append_messages(&theirs, &[intrusion])
            .await
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "Thread with id t is for resource with id alice but resource mallory was queried"
        );
        let recent = storage.recent_messages("t", 10).await.unwrap();
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].content.plain_text(), "hi");
    }

    #[tokio::test]
    async fn pages_over_the_maximum_are_refused_and_every_item_is_capped() {
        let storage = SqliteStorage::in_memory();
        let over = PageRequest {
            page: 0,
            per_page: Some(MAX_PER_PAGE + 1),
        };
        let refused = storage
            .list_threads(&ThreadFilter::default(), over)
            .await
            .unwrap_err();
        assert_eq!(
            refused,
            StorageError::PageTooLarge {
                requested: MAX_PER_PAGE + 1,
                limit: MAX_PER_PAGE
            }
        );
        assert!(storage
            .list_messages("t", over, SortDirection::Asc)
            .await
            .is_err());
        assert!(storage
            .list_workflow_runs(&WorkflowRunFilter::new("w"), over)
            .await
            .is_err());
        let every = PageRequest {
            page: 0,
            per_page: None,
        };
        assert_eq!(every.limit(), MAX_PER_PAGE);
    }
}
