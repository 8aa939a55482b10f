//! [`SqliteStorage`]: the embedded default store, a file in WAL mode with durable commits, or a
//! private in-memory database for tests.

use std::{borrow::Cow, path::PathBuf, str::FromStr, time::Duration};

use serde_json::{Map, Value};
use sqlx::{
    migrate::{Migration, MigrationType, Migrator},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
        SqliteSynchronous,
    },
    Row, SqlSafeStr,
};
use tokio::sync::OnceCell;

use super::{
    storage::{
        Page, PageRequest, SortDirection, Storage, StorageError, ThreadFilter, ThreadOrderField,
        ThreadUpdate,
    },
    Message, MessageContent, MessageRole, Thread, Timestamp, WorkflowRunFilter, WorkflowRunRecord,
};

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
        }
    }

    /// A private database in memory, gone when this value is dropped.
    pub fn in_memory() -> Self {
        Self {
            location: Location::Memory,
            pool: OnceCell::new(),
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
                // Each in-memory connection is its own database: keep exactly one, forever.
                let options = SqliteConnectOptions::from_str("sqlite::memory:")
                    .map_err(|e| open_error(e.to_string()))?
                    .foreign_keys(true);
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

fn json_text(map: &Option<Map<String, Value>>) -> Option<String> {
    map.as_ref().map(|m| Value::Object(m.clone()).to_string())
}

fn thread_from_row(row: &SqliteRow) -> Result<Thread, StorageError> {
    let get = |e: sqlx::Error| StorageError::Corrupt(e.to_string());
    let metadata: Option<String> = row.try_get("metadata").map_err(get)?;
    let metadata = match metadata {
        Some(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Some(map),
            Ok(Value::Null) => None,
            _ => {
                return Err(StorageError::Corrupt(format!(
                    "thread metadata {text:.100}"
                )))
            }
        },
        None => None,
    };
    Ok(Thread {
        id: row.try_get("id").map_err(get)?,
        resource_id: row.try_get("resource_id").map_err(get)?,
        title: row.try_get("title").map_err(get)?,
        metadata,
        created_at: Timestamp(row.try_get("created_at").map_err(get)?),
        updated_at: Timestamp(row.try_get("updated_at").map_err(get)?),
    })
}

fn message_from_row(row: &SqliteRow) -> Result<Message, StorageError> {
    let get = |e: sqlx::Error| StorageError::Corrupt(e.to_string());
    let role: String = row.try_get("role").map_err(get)?;
    let content: String = row.try_get("content").map_err(get)?;
    Ok(Message {
        id: row.try_get("id").map_err(get)?,
        thread_id: row.try_get("thread_id").map_err(get)?,
        resource_id: row.try_get("resource_id").map_err(get)?,
        role: MessageRole::parse(&role)
            .ok_or_else(|| StorageError::Corrupt(format!("message role {role:?}")))?,
        content: serde_json::from_str::<MessageContent>(&content)
            .map_err(|e| StorageError::Corrupt(format!("message content: {e}")))?,
        created_at: Timestamp(row.try_get("created_at").map_err(get)?),
        kind: "v2".to_owned(),
    })
}

/// `LIMIT` of a page; SQLite reads -1 as "no limit".
pub(super) fn limit(page: PageRequest) -> i64 {
    page.per_page.map_or(-1, i64::from)
}

fn metadata_matches(thread: &Thread, wanted: &Map<String, Value>) -> bool {
    let Some(have) = &thread.metadata else {
        return wanted.is_empty();
    };
    wanted.iter().all(|(k, v)| have.get(k) == Some(v))
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
        let result = sqlx::query(
            "INSERT INTO mastra_threads (id, resource_id, title, metadata, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&thread.id)
        .bind(&thread.resource_id)
        .bind(&thread.title)
        .bind(json_text(&thread.metadata))
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
            let rows = sqlx::query(sql)
                .bind(&filter.resource_id)
                .bind(-1_i64)
                .bind(0_i64)
                .fetch_all(pool)
                .await
                .map_err(query_error)?;
            let all: Vec<Thread> = rows
                .iter()
                .map(thread_from_row)
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|t| metadata_matches(t, wanted))
                .collect();
            let total = all.len() as u64;
            let items = all
                .into_iter()
                .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
                .take(page.per_page.map_or(usize::MAX, |n| n as usize))
                .collect();
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
        let items = rows.iter().map(thread_from_row).collect::<Result<_, _>>()?;
        Ok(Page::new(items, total.max(0) as u64, page))
    }

    async fn update_thread(
        &self,
        id: &str,
        update: &ThreadUpdate,
    ) -> Result<Option<Thread>, StorageError> {
        let pool = self.pool().await?;
        let done = sqlx::query(
            "UPDATE mastra_threads SET title = COALESCE(?2, title), \
             metadata = COALESCE(?3, metadata), resource_id = COALESCE(?4, resource_id), \
             updated_at = ?5 WHERE id = ?1",
        )
        .bind(id)
        .bind(&update.title)
        .bind(json_text(&update.metadata))
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
                 WHERE thread_id = ?1 ORDER BY created_at ASC, seq ASC LIMIT ?2 OFFSET ?3"
            }
            SortDirection::Desc => {
                "SELECT id, thread_id, resource_id, role, content, created_at FROM mastra_messages \
                 WHERE thread_id = ?1 ORDER BY created_at DESC, seq DESC LIMIT ?2 OFFSET ?3"
            }
        };
        let rows = sqlx::query(sql)
            .bind(thread_id)
            .bind(limit(page))
            .bind(page.sql_offset())
            .fetch_all(pool)
            .await
            .map_err(query_error)?;
        let items = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<_, _>>()?;
        Ok(Page::new(items, total.max(0) as u64, page))
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
             WHERE thread_id = ?1 ORDER BY created_at DESC, seq DESC LIMIT ?2",
        )
        .bind(thread_id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool().await?)
        .await
        .map_err(query_error)?;
        let mut messages: Vec<Message> = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<_, _>>()?;
        messages.reverse();
        Ok(messages)
    }

    async fn append_messages(
        &self,
        thread: &Thread,
        messages: &[Message],
    ) -> Result<(), StorageError> {
        let pool = self.pool().await?;
        let mut tx = pool.begin().await.map_err(query_error)?;
        let now = Timestamp::now().millis();
        sqlx::query(
            "INSERT INTO mastra_threads (id, resource_id, title, metadata, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at",
        )
        .bind(&thread.id)
        .bind(&thread.resource_id)
        .bind(&thread.title)
        .bind(json_text(&thread.metadata))
        .bind(thread.created_at.millis())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(query_error)?;
        for message in messages {
            let content = serde_json::to_string(&message.content)
                .map_err(|e| StorageError::Query(format!("message content: {e}")))?;
            sqlx::query(
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
            .await
            .map_err(query_error)?;
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
}
