//! Agent run records in PostgreSQL (`mastra_agent_runs`, migration 0003): SQLite's statements
//! ([`sqlite_agent_runs`](super::sqlite_agent_runs)) with PostgreSQL's `$n` parameters. The
//! claim is one conditional `UPDATE`: PostgreSQL re-checks `status` and `version` on the row's
//! latest version after waiting for its lock, so of concurrent claims exactly one wins.

use super::{
    agent_runs::checked_agent_run,
    postgres::{limit, PostgresStorage},
    rows::{agent_run_from_row, decode_all},
    storage::{Page, PageRequest, StorageError},
    AgentRunFilter, AgentRunRecord, AgentRunStatus, Timestamp,
};

/// The columns every statement reads or writes, in this order.
macro_rules! columns {
    () => {
        "agent_id, run_id, resource_id, thread_id, status, snapshot, version, created_at, updated_at"
    };
}

/// The filter of the listing and its count: parameters $1 to $4.
macro_rules! filter {
    () => {
        "agent_id = $1 AND ($2::text IS NULL OR status = $2) \
         AND ($3::text IS NULL OR resource_id = $3) AND ($4::text IS NULL OR thread_id = $4)"
    };
}

const UPSERT: &str = concat!(
    "INSERT INTO mastra_agent_runs (",
    columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (agent_id, run_id) \
     DO UPDATE SET resource_id = excluded.resource_id, thread_id = excluded.thread_id, \
     status = excluded.status, snapshot = excluded.snapshot, version = excluded.version, \
     updated_at = excluded.updated_at"
);

const CLAIM: &str = "UPDATE mastra_agent_runs SET status = 'running', version = version + 1, \
     updated_at = $4 WHERE agent_id = $1 AND run_id = $2 AND version = $3 \
     AND status = 'suspended'";

const SELECT_ONE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM mastra_agent_runs WHERE agent_id = $1 AND run_id = $2"
);

const COUNT: &str = concat!("SELECT COUNT(*) FROM mastra_agent_runs WHERE ", filter!());

const LIST: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM mastra_agent_runs WHERE ",
    filter!(),
    " ORDER BY created_at DESC, seq DESC LIMIT $5 OFFSET $6"
);

impl PostgresStorage {
    pub(super) async fn upsert_agent_run(&self, run: &AgentRunRecord) -> Result<(), StorageError> {
        let snapshot = checked_agent_run(run)?;
        sqlx::query(UPSERT)
            .bind(&run.agent_id)
            .bind(&run.run_id)
            .bind(&run.resource_id)
            .bind(&run.thread_id)
            .bind(run.status.as_str())
            .bind(snapshot)
            .bind(run.version)
            .bind(run.created_at.millis())
            .bind(run.updated_at.millis())
            .execute(self.pool().await?)
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    pub(super) async fn claim_suspended_agent_run(
        &self,
        agent_id: &str,
        run_id: &str,
        version: i64,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(CLAIM)
            .bind(agent_id)
            .bind(run_id)
            .bind(version)
            .bind(Timestamp::now().millis())
            .execute(self.pool().await?)
            .await
            .map_err(|e| self.error(e))?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn select_agent_run(
        &self,
        agent_id: &str,
        run_id: &str,
    ) -> Result<Option<AgentRunRecord>, StorageError> {
        sqlx::query(SELECT_ONE)
            .bind(agent_id)
            .bind(run_id)
            .fetch_optional(self.pool().await?)
            .await
            .map_err(|e| self.error(e))?
            .as_ref()
            .map(agent_run_from_row)
            .transpose()
    }

    pub(super) async fn select_agent_runs(
        &self,
        filter: &AgentRunFilter,
        page: PageRequest,
    ) -> Result<Page<AgentRunRecord>, StorageError> {
        page.check()?;
        let pool = self.pool().await?;
        let status = filter.status.map(AgentRunStatus::as_str);
        let total: i64 = sqlx::query_scalar(COUNT)
            .bind(&filter.agent_id)
            .bind(status)
            .bind(&filter.resource_id)
            .bind(&filter.thread_id)
            .fetch_one(pool)
            .await
            .map_err(|e| self.error(e))?;
        let rows = sqlx::query(LIST)
            .bind(&filter.agent_id)
            .bind(status)
            .bind(&filter.resource_id)
            .bind(&filter.thread_id)
            .bind(limit(page))
            .bind(page.sql_offset())
            .fetch_all(pool)
            .await
            .map_err(|e| self.error(e))?;
        let (items, unreadable) = decode_all(&rows, agent_run_from_row);
        Ok(Page::with_unreadable(
            items,
            unreadable,
            total.max(0) as u64,
            page,
        ))
    }
}
