//! [`PostgresStorage`]: threads, messages and workflow runs in PostgreSQL, so several server
//! instances can share one database.
//!
//! The same contract as [`SqliteStorage`](super::SqliteStorage), the same columns, the same
//! checks before every write ([`limits`](super::limits)) and the same decoding
//! ([`rows`](super::rows)). What PostgreSQL adds:
//!
//! - **Order by the database.** Messages are ordered by an identity column assigned at insert.
//!   [`Storage::append_messages`] starts with an upsert of the thread row, which locks that row
//!   until commit, so appends to one thread are serialised and take their sequence numbers in
//!   commit order: every instance reads one total order, and a page already read never gains
//!   an older message.
//! - **Outages are `503`.** A connection refused or lost, no connection free within the
//!   acquire timeout, or an operation unanswered within the query timeout (a database that
//!   stopped answering without closing its connections) is [`StorageError::Unavailable`];
//!   the pool reconnects by itself (each connection is tested before it is handed out), so
//!   requests succeed again once the database is back, without a restart.
//! - **Migrations once.** The schema is versioned ([`MIGRATIONS`]) and applied by sqlx's
//!   migrator, which holds a PostgreSQL advisory lock (`pg_advisory_lock`, keyed by the
//!   database name) from before it creates its table until it is done: instances starting
//!   together on an empty database wait for each other, and the schema is created once.

use std::{borrow::Cow, fmt, str::FromStr};

use futures_util::TryStreamExt;
use sqlx::{
    migrate::{Migration, MigrationType, Migrator},
    postgres::{PgConnectOptions, PgPool, PgPoolOptions},
    ConnectOptions, Connection, SqlSafeStr,
};
use tokio::sync::OnceCell;

use super::{
    limits::{checked_message, checked_thread, checked_update},
    rows::{decode_all, message_from_row, metadata_matches, thread_from_row},
    storage::{
        Page, PageRequest, SortDirection, Storage, StorageError, ThreadFilter, ThreadOrderField,
        ThreadUpdate,
    },
    url::{redact_url, PoolSettings},
    AgentRunFilter, AgentRunRecord, Message, Thread, Timestamp, WorkflowRunFilter,
    WorkflowRunRecord,
};

/// The table sqlx's migrator records PostgreSQL migrations in: a name of our own, so an
/// application's own sqlx migrations in the same database do not collide with ours.
const MIGRATIONS_TABLE: &str = "_mastra_migrations";

/// The PostgreSQL schema, in order: the same tables as SQLite's migrations, in PostgreSQL's
/// types. Each migration runs once, in its own transaction, recorded in `_mastra_migrations`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "threads and messages",
        include_str!("postgres_migrations/0001_threads_and_messages.sql"),
    ),
    (
        2,
        "workflow runs",
        include_str!("postgres_migrations/0002_workflow_runs.sql"),
    ),
    (
        3,
        "agent runs",
        include_str!("postgres_migrations/0003_agent_runs.sql"),
    ),
];

/// PostgreSQL storage. Building one parses the URL and touches nothing; the first use (or
/// [`Storage::init`]) connects and applies the migrations.
///
/// The URL is libpq's: `postgres://user:password@host:5432/db?sslmode=verify-full&sslrootcert=ca.pem`.
/// `sslmode` `require` encrypts without checking the certificate, `verify-ca` checks it
/// against the CA file, `verify-full` also checks the host name.
///
/// ```
/// use mastra_runtime::memory::{PostgresStorage, Storage};
/// // No runtime and no database needed to build one.
/// let store = PostgresStorage::from_url("postgres://app:secret@db.internal:5432/mastra").unwrap();
/// assert_eq!(store.describe(), "postgres://app:***@db.internal:5432/mastra");
/// ```
pub struct PostgresStorage {
    described: String,
    options: PgConnectOptions,
    settings: PoolSettings,
    /// Made on first use: sqlx's pool starts its maintenance task on the Tokio runtime, which
    /// may not run yet when the store is built.
    pool: std::sync::OnceLock<PgPool>,
    migrated: OnceCell<()>,
}

impl fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStorage")
            .field("url", &self.described)
            .finish_non_exhaustive()
    }
}

impl PostgresStorage {
    /// A store at `url` (`postgres://` or `postgresql://`) with the default [`PoolSettings`].
    pub fn from_url(url: &str) -> Result<Self, StorageError> {
        Self::with_settings(url, PoolSettings::default())
    }

    /// A store at `url` whose pool follows `settings`.
    pub fn with_settings(url: &str, settings: PoolSettings) -> Result<Self, StorageError> {
        let described = redact_url(url);
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StorageError::Open {
                location: described.clone(),
                message: format!("not a PostgreSQL URL: {}", redact_error(&e, url)),
            })?
            .application_name("mastra-rs");
        Ok(Self {
            described,
            options,
            settings,
            pool: std::sync::OnceLock::new(),
            migrated: OnceCell::new(),
        })
    }

    /// The pool (connecting lazily, so it is made without touching the database).
    fn lazy_pool(&self) -> &PgPool {
        self.pool.get_or_init(|| {
            PgPoolOptions::new()
                .max_connections(self.settings.max_connections.max(1))
                .acquire_timeout(self.settings.acquire_timeout)
                .test_before_acquire(true)
                .connect_lazy_with(self.options.clone())
        })
    }

    /// The pool, once the schema is migrated (on the first call; a failed attempt is retried
    /// by the next call).
    pub(super) async fn pool(&self) -> Result<&PgPool, StorageError> {
        self.migrated.get_or_try_init(|| self.migrate()).await?;
        Ok(self.lazy_pool())
    }

    async fn migrate(&self) -> Result<(), StorageError> {
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
        let mut migrator = Migrator::with_migrations(migrations);
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        // `run` takes `pg_advisory_lock` before it creates its table or reads what was applied
        // and releases it when done (sqlx-postgres `Migrate::lock`): a second instance starting
        // on the same empty database waits, then finds every migration applied.
        migrator.run(self.lazy_pool()).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(error)
            | sqlx::migrate::MigrateError::ExecuteMigration(error, _)
                if is_unavailable(&error) =>
            {
                self.unavailable(&error)
            }
            other => StorageError::Open {
                location: self.described.clone(),
                message: format!("migration failed: {other}"),
            },
        })?;
        tracing::debug!(storage = %self.described, "storage ready");
        Ok(())
    }

    /// `operation`, failed with [`StorageError::Unavailable`] when it takes longer than the
    /// query timeout: a database that stops answering without closing its connections (a
    /// network partition, a frozen host) must not hold a request until the route times out.
    async fn bounded<T>(
        &self,
        operation: impl std::future::Future<Output = Result<T, StorageError>>,
    ) -> Result<T, StorageError> {
        match tokio::time::timeout(self.settings.query_timeout, operation).await {
            Ok(result) => result,
            Err(_) => Err(StorageError::Unavailable {
                store: self.described.clone(),
                message: format!(
                    "no answer within the query timeout ({} ms)",
                    self.settings.query_timeout.as_millis()
                ),
            }),
        }
    }

    /// The error a failed query becomes: [`StorageError::Unavailable`] when the database could
    /// not be reached, else [`StorageError::Query`].
    pub(super) fn error(&self, error: sqlx::Error) -> StorageError {
        if is_unavailable(&error) {
            self.unavailable(&error)
        } else {
            StorageError::Query(error.to_string())
        }
    }

    fn unavailable(&self, error: &sqlx::Error) -> StorageError {
        StorageError::Unavailable {
            store: self.described.clone(),
            message: match error {
                sqlx::Error::PoolTimedOut => {
                    "no connection within the acquire timeout (is the database running?)".to_owned()
                }
                other => other.to_string(),
            },
        }
    }
}

/// Whether `error` says the database cannot be reached (rather than refusing a query): I/O and
/// TLS failures, a pool that timed out or closed, and PostgreSQL's connection-exception class
/// (`08`), shutdown and start-up codes (`57P01`-`57P03`) and too many connections (`53300`).
fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// `error`'s text with the URL's password (if the text repeats it) replaced.
fn redact_error(error: &sqlx::Error, url: &str) -> String {
    let text = error.to_string();
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
    {
        Some(password) if !password.is_empty() => text.replace(&password, "***"),
        _ => text,
    }
}

/// `LIMIT` of a page.
pub(super) fn limit(page: PageRequest) -> i64 {
    i64::from(page.limit())
}

macro_rules! thread_list_query {
    ($order:literal) => {
        concat!(
            "SELECT id, resource_id, title, metadata, created_at, updated_at FROM mastra_threads ",
            "WHERE ($1::text IS NULL OR resource_id = $1) ORDER BY ",
            $order,
            ", id LIMIT $2 OFFSET $3"
        )
    };
}

/// The operations themselves; the trait's methods run each under the query timeout
/// ([`PostgresStorage::bounded`]).
impl PostgresStorage {
    async fn query_create_thread(&self, thread: &Thread) -> Result<(), StorageError> {
        let metadata = checked_thread(thread)?;
        let result = sqlx::query(
            "INSERT INTO mastra_threads (id, resource_id, title, metadata, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
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
            Err(e) => Err(self.error(e)),
        }
    }

    async fn query_get_thread(&self, id: &str) -> Result<Option<Thread>, StorageError> {
        sqlx::query(
            "SELECT id, resource_id, title, metadata, created_at, updated_at \
             FROM mastra_threads WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool().await?)
        .await
        .map_err(|e| self.error(e))?
        .as_ref()
        .map(thread_from_row)
        .transpose()
    }

    async fn query_list_threads(
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
            // As in SQLite: matched in Rust, rows streamed, only the page's threads kept.
            let mut rows = sqlx::query(sql)
                .bind(&filter.resource_id)
                .bind(None::<i64>)
                .bind(0_i64)
                .fetch(pool);
            let (skip, take) = (page.offset(), u64::from(page.limit()));
            let mut total = 0_u64;
            let mut items = Vec::new();
            while let Some(row) = rows.try_next().await.map_err(|e| self.error(e))? {
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
            "SELECT COUNT(*) FROM mastra_threads WHERE ($1::text IS NULL OR resource_id = $1)",
        )
        .bind(&filter.resource_id)
        .fetch_one(pool)
        .await
        .map_err(|e| self.error(e))?;
        let rows = sqlx::query(sql)
            .bind(&filter.resource_id)
            .bind(limit(page))
            .bind(page.sql_offset())
            .fetch_all(pool)
            .await
            .map_err(|e| self.error(e))?;
        let (items, unreadable) = decode_all(&rows, thread_from_row);
        Ok(Page::with_unreadable(
            items,
            unreadable,
            total.max(0) as u64,
            page,
        ))
    }

    async fn query_update_thread(
        &self,
        id: &str,
        update: &ThreadUpdate,
    ) -> Result<Option<Thread>, StorageError> {
        let metadata = checked_update(update)?;
        sqlx::query(
            "UPDATE mastra_threads SET title = COALESCE($2, title), \
             metadata = COALESCE($3, metadata), resource_id = COALESCE($4, resource_id), \
             updated_at = $5 WHERE id = $1 \
             RETURNING id, resource_id, title, metadata, created_at, updated_at",
        )
        .bind(id)
        .bind(&update.title)
        .bind(metadata)
        .bind(&update.resource_id)
        .bind(Timestamp::now().millis())
        .fetch_optional(self.pool().await?)
        .await
        .map_err(|e| self.error(e))?
        .as_ref()
        .map(thread_from_row)
        .transpose()
    }

    async fn query_delete_thread(&self, id: &str) -> Result<bool, StorageError> {
        // Its messages go with it (`ON DELETE CASCADE`), in the same statement.
        let done = sqlx::query("DELETE FROM mastra_threads WHERE id = $1")
            .bind(id)
            .execute(self.pool().await?)
            .await
            .map_err(|e| self.error(e))?;
        Ok(done.rows_affected() > 0)
    }

    async fn query_list_messages(
        &self,
        thread_id: &str,
        page: PageRequest,
        direction: SortDirection,
    ) -> Result<Page<Message>, StorageError> {
        page.check()?;
        let pool = self.pool().await?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM mastra_messages WHERE thread_id = $1")
                .bind(thread_id)
                .fetch_one(pool)
                .await
                .map_err(|e| self.error(e))?;
        let sql = match direction {
            SortDirection::Asc => {
                "SELECT id, thread_id, resource_id, role, content, created_at FROM mastra_messages \
                 WHERE thread_id = $1 ORDER BY seq ASC LIMIT $2 OFFSET $3"
            }
            SortDirection::Desc => {
                "SELECT id, thread_id, resource_id, role, content, created_at FROM mastra_messages \
                 WHERE thread_id = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3"
            }
        };
        let rows = sqlx::query(sql)
            .bind(thread_id)
            .bind(limit(page))
            .bind(page.sql_offset())
            .fetch_all(pool)
            .await
            .map_err(|e| self.error(e))?;
        let (items, unreadable) = decode_all(&rows, message_from_row);
        Ok(Page::with_unreadable(
            items,
            unreadable,
            total.max(0) as u64,
            page,
        ))
    }

    async fn query_recent_messages(
        &self,
        thread_id: &str,
        limit: usize,
    ) -> Result<Vec<Message>, StorageError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT id, thread_id, resource_id, role, content, created_at FROM mastra_messages \
             WHERE thread_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(thread_id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool().await?)
        .await
        .map_err(|e| self.error(e))?;
        // As in SQLite: an unreadable message is logged and left out of the history.
        let (mut messages, _unreadable) = decode_all(&rows, message_from_row);
        messages.reverse();
        Ok(messages)
    }

    async fn query_append_messages(
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
        let mut tx = pool.begin().await.map_err(|e| self.error(e))?;
        let now = Timestamp::now().millis();
        // One statement decides ownership: it inserts the thread, or updates it only when it
        // has the writer's owner. Either way it holds the thread's row lock until commit, so a
        // concurrent first write from another resource waits, then finds this owner and
        // changes nothing; and appends to one thread take their `seq` in commit order.
        let saved = sqlx::query(
            "INSERT INTO mastra_threads (id, resource_id, title, metadata, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
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
        .map_err(|e| self.error(e))?;
        if saved.rows_affected() == 0 {
            let owner: String =
                sqlx::query_scalar("SELECT resource_id FROM mastra_threads WHERE id = $1")
                    .bind(&thread.id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| self.error(e))?;
            return Err(StorageError::NotOwner {
                thread_id: thread.id.clone(),
                owner,
                resource: thread.resource_id.clone(),
            });
        }
        for (message, content) in messages.iter().zip(contents) {
            let inserted = sqlx::query(
                "INSERT INTO mastra_messages (id, thread_id, resource_id, role, content, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
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
                Err(e) => return Err(self.error(e)),
            }
        }
        tx.commit().await.map_err(|e| self.error(e))
    }

    async fn query_create_workflow_run(
        &self,
        run: &WorkflowRunRecord,
    ) -> Result<bool, StorageError> {
        self.insert_workflow_run(run).await
    }

    async fn query_claim_workflow_run(
        &self,
        run: &WorkflowRunRecord,
    ) -> Result<bool, StorageError> {
        self.claim_run(run).await
    }

    async fn query_save_workflow_run(&self, run: &WorkflowRunRecord) -> Result<(), StorageError> {
        self.upsert_workflow_run(run).await
    }

    async fn query_transition_workflow_run(
        &self,
        run: &WorkflowRunRecord,
        expected_status: super::WorkflowRunStatus,
        expected_updated_at: super::Timestamp,
    ) -> Result<bool, StorageError> {
        self.transition_run(run, expected_status, expected_updated_at)
            .await
    }

    async fn query_get_workflow_run(
        &self,
        workflow_name: &str,
        run_id: &str,
    ) -> Result<Option<WorkflowRunRecord>, StorageError> {
        self.select_workflow_run(workflow_name, run_id).await
    }

    async fn query_list_workflow_runs(
        &self,
        filter: &WorkflowRunFilter,
        page: PageRequest,
    ) -> Result<Page<WorkflowRunRecord>, StorageError> {
        self.select_workflow_runs(filter, page).await
    }

    async fn query_save_agent_run(&self, run: &AgentRunRecord) -> Result<(), StorageError> {
        self.upsert_agent_run(run).await
    }

    async fn query_get_agent_run(
        &self,
        agent_id: &str,
        run_id: &str,
    ) -> Result<Option<AgentRunRecord>, StorageError> {
        self.select_agent_run(agent_id, run_id).await
    }

    async fn query_claim_agent_run(
        &self,
        agent_id: &str,
        run_id: &str,
        version: i64,
    ) -> Result<bool, StorageError> {
        self.claim_suspended_agent_run(agent_id, run_id, version)
            .await
    }

    async fn query_list_agent_runs(
        &self,
        filter: &AgentRunFilter,
        page: PageRequest,
    ) -> Result<Page<AgentRunRecord>, StorageError> {
        self.select_agent_runs(filter, page).await
    }
}

#[async_trait::async_trait]
impl Storage for PostgresStorage {
    async fn init(&self) -> Result<(), StorageError> {
        // At startup an unreachable database is a failed start: say which and why. One direct
        // connection first, because the pool only reports that its acquire timeout passed,
        // not the reason (refused, unknown host, bad password, TLS).
        let cannot_connect = |message: String| StorageError::Open {
            location: self.described.clone(),
            message: format!("cannot connect: {message}"),
        };
        match tokio::time::timeout(self.settings.acquire_timeout, self.options.connect()).await {
            Ok(Ok(connection)) => {
                let _ = connection.close().await;
            }
            Ok(Err(error)) => return Err(cannot_connect(error.to_string())),
            Err(_) => {
                return Err(cannot_connect(format!(
                    "no answer within {} ms",
                    self.settings.acquire_timeout.as_millis()
                )))
            }
        }
        self.pool().await.map(|_| ()).map_err(|error| match error {
            StorageError::Unavailable { store, message } => StorageError::Open {
                location: store,
                message: format!("cannot connect: {message}"),
            },
            other => other,
        })
    }

    fn describe(&self) -> String {
        self.described.clone()
    }

    async fn create_thread(&self, thread: &Thread) -> Result<(), StorageError> {
        self.bounded(self.query_create_thread(thread)).await
    }

    async fn get_thread(&self, id: &str) -> Result<Option<Thread>, StorageError> {
        self.bounded(self.query_get_thread(id)).await
    }

    async fn list_threads(
        &self,
        filter: &ThreadFilter,
        page: PageRequest,
    ) -> Result<Page<Thread>, StorageError> {
        self.bounded(self.query_list_threads(filter, page)).await
    }

    async fn update_thread(
        &self,
        id: &str,
        update: &ThreadUpdate,
    ) -> Result<Option<Thread>, StorageError> {
        self.bounded(self.query_update_thread(id, update)).await
    }

    async fn delete_thread(&self, id: &str) -> Result<bool, StorageError> {
        self.bounded(self.query_delete_thread(id)).await
    }

    async fn list_messages(
        &self,
        thread_id: &str,
        page: PageRequest,
        direction: SortDirection,
    ) -> Result<Page<Message>, StorageError> {
        self.bounded(self.query_list_messages(thread_id, page, direction))
            .await
    }

    async fn recent_messages(
        &self,
        thread_id: &str,
        limit: usize,
    ) -> Result<Vec<Message>, StorageError> {
        self.bounded(self.query_recent_messages(thread_id, limit))
            .await
    }

    async fn append_messages(
        &self,
        thread: &Thread,
        messages: &[Message],
    ) -> Result<(), StorageError> {
        self.bounded(self.query_append_messages(thread, messages))
            .await
    }

    async fn create_workflow_run(&self, run: &WorkflowRunRecord) -> Result<bool, StorageError> {
        self.bounded(self.query_create_workflow_run(run)).await
    }

    async fn claim_workflow_run(&self, run: &WorkflowRunRecord) -> Result<bool, StorageError> {
        self.bounded(self.query_claim_workflow_run(run)).await
    }

    async fn save_workflow_run(&self, run: &WorkflowRunRecord) -> Result<(), StorageError> {
        self.bounded(self.query_save_workflow_run(run)).await
    }

    async fn transition_workflow_run(
        &self,
        run: &WorkflowRunRecord,
        expected_status: super::WorkflowRunStatus,
        expected_updated_at: super::Timestamp,
    ) -> Result<bool, StorageError> {
        self.bounded(self.query_transition_workflow_run(run, expected_status, expected_updated_at))
            .await
    }

    async fn get_workflow_run(
        &self,
        workflow_name: &str,
        run_id: &str,
    ) -> Result<Option<WorkflowRunRecord>, StorageError> {
        self.bounded(self.query_get_workflow_run(workflow_name, run_id))
            .await
    }

    async fn list_workflow_runs(
        &self,
        filter: &WorkflowRunFilter,
        page: PageRequest,
    ) -> Result<Page<WorkflowRunRecord>, StorageError> {
        self.bounded(self.query_list_workflow_runs(filter, page))
            .await
    }

    async fn save_agent_run(&self, run: &AgentRunRecord) -> Result<(), StorageError> {
        self.bounded(self.query_save_agent_run(run)).await
    }

    async fn get_agent_run(
        &self,
        agent_id: &str,
        run_id: &str,
    ) -> Result<Option<AgentRunRecord>, StorageError> {
        self.bounded(self.query_get_agent_run(agent_id, run_id))
            .await
    }

    async fn claim_agent_run(
        &self,
        agent_id: &str,
        run_id: &str,
        version: i64,
    ) -> Result<bool, StorageError> {
        self.bounded(self.query_claim_agent_run(agent_id, run_id, version))
            .await
    }

    async fn list_agent_runs(
        &self,
        filter: &AgentRunFilter,
        page: PageRequest,
    ) -> Result<Page<AgentRunRecord>, StorageError> {
        self.bounded(self.query_list_agent_runs(filter, page)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_url_is_refused_without_its_password() {
        let error = PostgresStorage::from_url("postgres://u:hunter2@host:notaport/db").unwrap_err();
        let text = error.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(matches!(error, StorageError::Open { .. }), "{error:?}");
    }

    #[test]
    fn connection_failures_are_unavailable_and_query_errors_are_not() {
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(is_unavailable(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused
        ))));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
        assert!(is_unavailable(&sqlx::Error::Protocol(String::new())));
    }
}
