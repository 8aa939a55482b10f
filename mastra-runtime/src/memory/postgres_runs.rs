//! Workflow run records in PostgreSQL (`mastra_workflow_runs`, migration 0002): SQLite's
//! statements ([`sqlite_runs`](super::sqlite_runs)) with PostgreSQL's `$n` parameters. The
//! claim is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE status = 'pending'`: PostgreSQL
//! locks the conflicting row and re-checks the condition on its latest committed version, so
//! of instances claiming one run at once exactly one changes it.

use super::{
    limits::checked_run,
    postgres::{limit, PostgresStorage},
    rows::{decode_all, run_from_row},
    storage::{Page, PageRequest, StorageError},
    Timestamp, WorkflowRunFilter, WorkflowRunRecord, WorkflowRunStatus,
};

/// The columns every statement reads or writes, in this order.
macro_rules! columns {
    () => {
        "workflow_name, run_id, resource_id, status, snapshot, created_at, updated_at"
    };
}

/// `INSERT` of the seven columns, then `$rest` (the conflict clause).
macro_rules! insert {
    ($rest:literal) => {
        concat!(
            "INSERT INTO mastra_workflow_runs (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (workflow_name, run_id) ",
            $rest
        )
    };
}

/// The filter of the listing and its count: parameters $1 to $5.
macro_rules! filter {
    () => {
        "workflow_name = $1 AND ($2::text IS NULL OR status = $2) \
         AND ($3::text IS NULL OR resource_id = $3) \
         AND ($4::bigint IS NULL OR created_at >= $4) \
         AND ($5::bigint IS NULL OR created_at <= $5)"
    };
}

const INSERT: &str = insert!("DO NOTHING");

const CLAIM: &str = insert!(
    "DO UPDATE SET status = excluded.status, snapshot = excluded.snapshot, \
     updated_at = excluded.updated_at, \
     resource_id = COALESCE(excluded.resource_id, mastra_workflow_runs.resource_id) \
     WHERE mastra_workflow_runs.status = 'pending'"
);

const UPSERT: &str = insert!(
    "DO UPDATE SET status = excluded.status, snapshot = excluded.snapshot, \
     updated_at = excluded.updated_at, \
     resource_id = COALESCE(excluded.resource_id, mastra_workflow_runs.resource_id)"
);

/// A run's new status and snapshot, only when it is still in the status and at the update
/// time the caller read: $1 workflow, $2 run, $3 owner, $4 status, $5 snapshot, $6
/// `updated_at`, $7 the expected status, $8 the expected `updated_at`. Every save of a run
/// moves `updated_at` forward, so the pair is a version; PostgreSQL re-checks the condition
/// on the row's latest committed version, so of concurrent transitions exactly one applies.
const TRANSITION: &str = "UPDATE mastra_workflow_runs SET status = $4, snapshot = $5, \
     updated_at = $6, resource_id = COALESCE($3, resource_id) \
     WHERE workflow_name = $1 AND run_id = $2 AND status = $7 AND updated_at = $8";

const SELECT_ONE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM mastra_workflow_runs WHERE workflow_name = $1 AND run_id = $2"
);

const COUNT: &str = concat!(
    "SELECT COUNT(*) FROM mastra_workflow_runs WHERE ",
    filter!()
);

const LIST: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM mastra_workflow_runs WHERE ",
    filter!(),
    " ORDER BY created_at DESC, seq DESC LIMIT $6 OFFSET $7"
);

/// Runs `sql` (an `INSERT` of the seven columns, in order) for `run`; the rows it changed.
async fn write(
    storage: &PostgresStorage,
    sql: &'static str,
    run: &WorkflowRunRecord,
) -> Result<u64, StorageError> {
    let snapshot = checked_run(run)?;
    let done = sqlx::query(sql)
        .bind(&run.workflow_name)
        .bind(&run.run_id)
        .bind(&run.resource_id)
        .bind(run.status.as_str())
        .bind(snapshot)
        .bind(run.created_at.millis())
        .bind(run.updated_at.millis())
        .execute(storage.pool().await?)
        .await
        .map_err(|e| storage.error(e))?;
    Ok(done.rows_affected())
}

impl PostgresStorage {
    pub(super) async fn insert_workflow_run(
        &self,
        run: &WorkflowRunRecord,
    ) -> Result<bool, StorageError> {
        Ok(write(self, INSERT, run).await? > 0)
    }

    pub(super) async fn claim_run(&self, run: &WorkflowRunRecord) -> Result<bool, StorageError> {
        Ok(write(self, CLAIM, run).await? > 0)
    }

    pub(super) async fn upsert_workflow_run(
        &self,
        run: &WorkflowRunRecord,
    ) -> Result<(), StorageError> {
        write(self, UPSERT, run).await.map(|_| ())
    }

    pub(super) async fn transition_run(
        &self,
        run: &WorkflowRunRecord,
        expected_status: WorkflowRunStatus,
        expected_updated_at: Timestamp,
    ) -> Result<bool, StorageError> {
        let snapshot = checked_run(run)?;
        let done = sqlx::query(TRANSITION)
            .bind(&run.workflow_name)
            .bind(&run.run_id)
            .bind(&run.resource_id)
            .bind(run.status.as_str())
            .bind(snapshot)
            .bind(run.updated_at.millis())
            .bind(expected_status.as_str())
            .bind(expected_updated_at.millis())
            .execute(self.pool().await?)
            .await
            .map_err(|e| self.error(e))?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn select_workflow_run(
        &self,
        workflow_name: &str,
        run_id: &str,
    ) -> Result<Option<WorkflowRunRecord>, StorageError> {
        sqlx::query(SELECT_ONE)
            .bind(workflow_name)
            .bind(run_id)
            .fetch_optional(self.pool().await?)
            .await
            .map_err(|e| self.error(e))?
            .as_ref()
            .map(run_from_row)
            .transpose()
    }

    pub(super) async fn select_workflow_runs(
        &self,
        filter: &WorkflowRunFilter,
        page: PageRequest,
    ) -> Result<Page<WorkflowRunRecord>, StorageError> {
        page.check()?;
        let pool = self.pool().await?;
        let status = filter.status.map(WorkflowRunStatus::as_str);
        let (from, to) = (
            filter.from.map(Timestamp::millis),
            filter.to.map(Timestamp::millis),
        );
        let total: i64 = sqlx::query_scalar(COUNT)
            .bind(&filter.workflow_name)
            .bind(status)
            .bind(&filter.resource_id)
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await
            .map_err(|e| self.error(e))?;
        let rows = sqlx::query(LIST)
            .bind(&filter.workflow_name)
            .bind(status)
            .bind(&filter.resource_id)
            .bind(from)
            .bind(to)
            .bind(limit(page))
            .bind(page.sql_offset())
            .fetch_all(pool)
            .await
            .map_err(|e| self.error(e))?;
        let (items, unreadable) = decode_all(&rows, run_from_row);
        Ok(Page::with_unreadable(
            items,
            unreadable,
            total.max(0) as u64,
            page,
        ))
    }
}
