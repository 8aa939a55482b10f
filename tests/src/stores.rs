//! The storage backends the conformance suite and the PostgreSQL tests run against: a fresh
//! SQLite file, or a fresh database in the PostgreSQL cluster `tests/run.sh` starts.
//!
//! PostgreSQL tests need [`POSTGRES_URL_ENV`]. Without it they fail (never skip) and say how to
//! get one: run `tests/run.sh`, which starts a throwaway cluster and sets it, or point it at a
//! server where the user may create databases. Each test gets a database of its own
//! (`mastra_test_<uuid>`), so tests run in parallel without seeing each other's rows.

use std::{path::PathBuf, sync::Arc, time::Duration};

use mastra_runtime::memory::{PostgresStorage, SqliteStorage, Storage};
use sqlx::{
    postgres::PgConnectOptions, sqlite::SqliteConnectOptions, ConnectOptions, Connection,
    PgConnection,
};

/// The variable holding the URL of a PostgreSQL database whose user may create databases.
pub const POSTGRES_URL_ENV: &str = "MASTRA_TEST_POSTGRES_URL";

/// Which store a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a fresh temporary directory.
    Sqlite,
    /// A fresh database in the test PostgreSQL cluster.
    Postgres,
}

/// The PostgreSQL URL from [`POSTGRES_URL_ENV`]; panics, saying how to set it, when it is
/// unset.
#[track_caller]
pub fn postgres_url() -> String {
    match std::env::var(POSTGRES_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{POSTGRES_URL_ENV} is not set, so the PostgreSQL tests cannot run. Run tests/run.sh \
             (it starts a throwaway PostgreSQL cluster on 127.0.0.1 and sets the variable), or \
             set {POSTGRES_URL_ENV}=postgres://user:password@127.0.0.1:5432/db for a server \
             where that user may create databases."
        ),
    }
}

/// A fresh, empty database in the test cluster; its URL.
pub async fn fresh_postgres_database(label: &str) -> String {
    let base = postgres_url();
    let options: PgConnectOptions = base.parse().expect("MASTRA_TEST_POSTGRES_URL parses");
    let name = format!(
        "mastra_test_{}_{}",
        label.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        uuid_suffix()
    );
    let mut admin = options
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to {POSTGRES_URL_ENV}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("create database {name}: {e}"));
    let _ = admin.close().await;
    with_database(&base, &name)
}

/// `url` naming database `name` instead of its own.
pub fn with_database(url: &str, name: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let base = match head[scheme_end..].find('/') {
        Some(slash) => &head[..scheme_end + slash],
        None => head,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

fn uuid_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{:x}{:x}{n}", std::process::id(), nanos)
}

/// A store under test and a way to reach its database directly (to plant rows the store
/// itself would refuse to write).
pub struct TestStore {
    /// The store.
    pub storage: Arc<dyn Storage>,
    /// Where it is: a SQLite file or a PostgreSQL URL.
    pub location: Location,
}

/// Where a [`TestStore`] keeps its data.
#[derive(Debug, Clone)]
pub enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database URL.
    Postgres(String),
}

impl TestStore {
    /// A fresh store on `backend`, initialised (schema created).
    pub async fn open(backend: Backend, label: &str) -> Self {
        let location = match backend {
            Backend::Sqlite => Location::Sqlite(crate::temp_dir(label).join("mastra.db")),
            Backend::Postgres => Location::Postgres(fresh_postgres_database(label).await),
        };
        let store = Self {
            storage: location.open(),
            location,
        };
        store.storage.init().await.expect("the store initialises");
        store
    }

    /// Another store on the same data (another pool, as a second server instance has).
    pub fn second_instance(&self) -> Arc<dyn Storage> {
        self.location.open()
    }

    /// Runs `sql` (`$1`, `$2`, ... parameters, text values) directly on the database.
    pub async fn execute_raw(&self, sql: &str, args: &[RawValue]) {
        match &self.location {
            Location::Sqlite(path) => {
                let mut conn = SqliteConnectOptions::new()
                    .filename(path)
                    .busy_timeout(Duration::from_secs(10))
                    .connect()
                    .await
                    .expect("open the SQLite file");
                raw_query(sql, args)
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                let _ = conn.close().await;
            }
            Location::Postgres(url) => {
                let mut conn = PgConnection::connect(url)
                    .await
                    .expect("connect to PostgreSQL");
                raw_pg_query(sql, args)
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                let _ = conn.close().await;
            }
        }
    }
}

impl Location {
    /// A new store (its own pool) on this data.
    pub fn open(&self) -> Arc<dyn Storage> {
        match self {
            Location::Sqlite(path) => Arc::new(SqliteStorage::file(path)),
            Location::Postgres(url) => {
                Arc::new(PostgresStorage::from_url(url).expect("the test URL parses"))
            }
        }
    }
}

/// A value bound by [`TestStore::execute_raw`].
#[derive(Debug, Clone)]
pub enum RawValue {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
}

fn raw_query<'q>(
    sql: &'q str,
    args: &'q [RawValue],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for arg in args {
        query = match arg {
            RawValue::Text(text) => query.bind(text.as_str()),
            RawValue::Int(n) => query.bind(*n),
        };
    }
    query
}

fn raw_pg_query<'q>(
    sql: &'q str,
    args: &'q [RawValue],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for arg in args {
        query = match arg {
            RawValue::Text(text) => query.bind(text.as_str()),
            RawValue::Int(n) => query.bind(*n),
        };
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_database_in_the_same_cluster() {
        assert_eq!(
            with_database("postgres://u:p@127.0.0.1:5/base?sslmode=require", "other"),
            "postgres://u:p@127.0.0.1:5/other?sslmode=require"
        );
        assert_eq!(
            with_database("postgres://127.0.0.1:5", "x"),
            "postgres://127.0.0.1:5/x"
        );
    }
}
