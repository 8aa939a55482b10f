//! Agent run records in SQLite (`mastra_agent_runs`, migration 0003). Plain SQL that
//! PostgreSQL runs as written (`ON CONFLICT ... DO UPDATE`, a conditional `UPDATE`, numbered
//! parameters).

use super::{
    agent_runs::checked_agent_run,
    rows::{agent_run_from_row, decode_all},
    sqlite::{limit, query_error},
    storage::{Page, PageRequest, StorageError},
    AgentRunFilter, AgentRunRecord, AgentRunStatus, SqliteStorage, Timestamp,
};

/// The columns every statement reads or writes, in this order.
macro_rules! columns {
    () => {
        "agent_id, run_id, resource_id, thread_id, status, snapshot, version, created_at, updated_at"
    };
}

/// The filter of the listing and its count: parameters ?1 to ?4.
macro_rules! filter {
    () => {
        "agent_id = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR resource_id = ?3) \
         AND (?4 IS NULL OR thread_id = ?4)"
    };
}

const UPSERT: &str = concat!(
    "INSERT INTO mastra_agent_runs (",
    columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (agent_id, run_id) \
     DO UPDATE SET resource_id = excluded.resource_id, thread_id = excluded.thread_id, \
     status = excluded.status, snapshot = excluded.snapshot, version = excluded.version, \
     updated_at = excluded.updated_at"
);

const CLAIM: &str = "UPDATE mastra_agent_runs SET status = 'running', version = version + 1, \
     updated_at = ?4 WHERE agent_id = ?1 AND run_id = ?2 AND version = ?3 \
     AND status = 'suspended'";

const SELECT_ONE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM mastra_agent_runs WHERE agent_id = ?1 AND run_id = ?2"
);

const COUNT: &str = concat!("SELECT COUNT(*) FROM mastra_agent_runs WHERE ", filter!());

const LIST: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM mastra_agent_runs WHERE ",
    filter!(),
    " ORDER BY created_at DESC, seq DESC LIMIT ?5 OFFSET ?6"
);

impl SqliteStorage {
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
            .map_err(query_error)?;
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
            .map_err(query_error)?;
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
            .map_err(query_error)?
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
            .map_err(query_error)?;
        let rows = sqlx::query(LIST)
            .bind(&filter.agent_id)
            .bind(status)
            .bind(&filter.resource_id)
            .bind(&filter.thread_id)
            .bind(limit(page))
            .bind(page.sql_offset())
            .fetch_all(pool)
            .await
            .map_err(query_error)?;
        let (items, unreadable) = decode_all(&rows, agent_run_from_row);
        Ok(Page::with_unreadable(
            items,
            unreadable,
            total.max(0) as u64,
            page,
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::memory::{Storage, MAX_STORED_DEPTH};

    fn record(run_id: &str) -> AgentRunRecord {
        AgentRunRecord {
            agent_id: "agent".to_owned(),
            run_id: run_id.to_owned(),
            resource_id: Some("user".to_owned()),
            thread_id: Some("thread".to_owned()),
            status: AgentRunStatus::Suspended,
            snapshot: json!({"pending": {"toolCallId": "c1"}}),
            version: 1,
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
        }
    }

    #[tokio::test]
    async fn a_suspended_run_is_claimed_once_at_the_version_read() {
        let storage = SqliteStorage::in_memory();
        storage.save_agent_run(&record("r1")).await.unwrap();
        assert!(!storage.claim_agent_run("agent", "r1", 0).await.unwrap());
        let (a, b) = tokio::join!(
            storage.claim_agent_run("agent", "r1", 1),
            storage.claim_agent_run("agent", "r1", 1)
        );
        assert!(a.unwrap() ^ b.unwrap(), "exactly one claim wins");
        let claimed = storage.get_agent_run("agent", "r1").await.unwrap().unwrap();
        assert_eq!(claimed.status, AgentRunStatus::Running);
        assert_eq!(claimed.version, 2);
        assert!(!storage.claim_agent_run("agent", "r1", 2).await.unwrap());
        assert!(!storage
            .claim_agent_run("agent", "missing", 1)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn listing_filters_by_status_newest_first() {
        let storage = SqliteStorage::in_memory();
        storage.save_agent_run(&record("old")).await.unwrap();
        let mut newer = record("new");
        newer.created_at = Timestamp(newer.created_at.millis() + 1);
        storage.save_agent_run(&newer).await.unwrap();
        let mut done = record("done");
        done.status = AgentRunStatus::Success;
        storage.save_agent_run(&done).await.unwrap();
        let filter = AgentRunFilter {
            status: Some(AgentRunStatus::Suspended),
            ..AgentRunFilter::new("agent")
        };
        let every = PageRequest {
            page: 0,
            per_page: None,
        };
        let page = storage.list_agent_runs(&filter, every).await.unwrap();
        let ids: Vec<_> = page.items.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["new", "old"]);
        assert_eq!(page.total, 2);
        let other = storage
            .list_agent_runs(&AgentRunFilter::new("other"), every)
            .await
            .unwrap();
        assert_eq!(other.total, 0);
        let elsewhere = AgentRunFilter {
            thread_id: Some("elsewhere".to_owned()),
            ..filter.clone()
        };
        assert_eq!(
            storage
                .list_agent_runs(&elsewhere, every)
                .await
                .unwrap()
                .total,
            0
        );
        let here = AgentRunFilter {
            thread_id: Some("thread".to_owned()),
            resource_id: Some("user".to_owned()),
            ..filter
        };
        assert_eq!(
            storage.list_agent_runs(&here, every).await.unwrap().total,
            2
        );
    }

    #[tokio::test]
    async fn a_run_past_the_limits_is_refused_before_writing() {
        let storage = SqliteStorage::in_memory();
        let mut deep = record("deep");
        let mut value = json!(1);
        for _ in 0..=MAX_STORED_DEPTH {
            value = Value::Array(vec![value]);
        }
        deep.snapshot = value;
        assert!(matches!(
            storage.save_agent_run(&deep).await,
            Err(StorageError::TooDeep { .. })
        ));
        let long = record(&"x".repeat(300));
        assert!(matches!(
            storage.save_agent_run(&long).await,
            Err(StorageError::InvalidId(_))
        ));
        assert!(storage
            .get_agent_run("agent", "deep")
            .await
            .unwrap()
            .is_none());
    }
}
