//! Choosing the store from a URL: [`open_storage`] and [`storage_from_env`] (`DATABASE_URL`).
//!
//! | URL | store |
//! |---|---|
//! | `postgres://…`, `postgresql://…` | [`PostgresStorage`] (libpq's URL: `sslmode`, `sslrootcert`, …) |
//! | `sqlite://./mastra.db`, `sqlite:data/app.db`, `sqlite:///abs/path.db` | [`SqliteStorage`] on that file |
//! | `sqlite::memory:` | a private in-memory SQLite database |
//! | `DATABASE_URL` unset | [`SqliteStorage`] on `./mastra.db` |
//!
//! PostgreSQL's pool takes its size from `MASTRA_DB_POOL_SIZE`, its acquire timeout from
//! `MASTRA_DB_ACQUIRE_TIMEOUT_MS` and the bound of one operation from
//! `MASTRA_DB_QUERY_TIMEOUT_MS` ([`PoolSettings::from_env`]).

use std::{path::PathBuf, str::FromStr, sync::Arc, time::Duration};

#[cfg(feature = "postgres")]
use super::postgres::PostgresStorage;
#[cfg(feature = "sqlite")]
use super::sqlite::{SqliteStorage, DEFAULT_DATABASE_PATH};
use super::storage::{Storage, StorageError};

/// The variable naming the store's URL.
pub const DATABASE_URL_ENV: &str = "DATABASE_URL";

/// The variable setting [`PoolSettings::max_connections`] (a positive integer).
pub const POOL_SIZE_ENV: &str = "MASTRA_DB_POOL_SIZE";

/// The variable setting [`PoolSettings::acquire_timeout`], in milliseconds (a positive
/// integer).
pub const ACQUIRE_TIMEOUT_ENV: &str = "MASTRA_DB_ACQUIRE_TIMEOUT_MS";

/// The variable setting [`PoolSettings::query_timeout`], in milliseconds (a positive integer).
pub const QUERY_TIMEOUT_ENV: &str = "MASTRA_DB_QUERY_TIMEOUT_MS";

/// Connections each instance keeps to PostgreSQL at most, unless set
/// ([`PoolSettings::max_connections`], `MASTRA_DB_POOL_SIZE`). Ten serve a busy instance: a
/// request holds a connection only for its queries, not while a model answers. Mind the
/// server's `max_connections` (100 by default) across every instance.
pub const DEFAULT_POOL_SIZE: u32 = 10;

/// How long a query waits for a connection (including connecting) before the request fails
/// with `503`, unless set ([`PoolSettings::acquire_timeout`], `MASTRA_DB_ACQUIRE_TIMEOUT_MS`).
/// Short, so a lost database answers within seconds instead of holding requests.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long one storage operation (its connection, queries and commit) may take before it
/// fails with `503`, unless set ([`PoolSettings::query_timeout`], `MASTRA_DB_QUERY_TIMEOUT_MS`).
/// It bounds a database that stops answering without closing its connections.
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection pool of a PostgreSQL store (`PostgresStorage`, the `postgres` feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections open at once ([`DEFAULT_POOL_SIZE`]).
    pub max_connections: u32,
    /// How long a query waits for a connection before failing with
    /// [`StorageError::Unavailable`] ([`DEFAULT_ACQUIRE_TIMEOUT`]).
    pub acquire_timeout: Duration,
    /// How long one operation may take in all before it fails with
    /// [`StorageError::Unavailable`] ([`DEFAULT_QUERY_TIMEOUT`]).
    pub query_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_POOL_SIZE,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            query_timeout: DEFAULT_QUERY_TIMEOUT,
        }
    }
}

/// A store, as a URL names it.
///
/// ```
/// use mastra_runtime::memory::StorageUrl;
/// let url: StorageUrl = "sqlite://./data/app.db".parse().unwrap();
/// assert_eq!(url, StorageUrl::SqliteFile("./data/app.db".into()));
/// let pg: StorageUrl = "postgresql://app:secret@db:5432/mastra".parse().unwrap();
/// assert_eq!(pg.describe(), "postgresql://app:***@db:5432/mastra");
/// assert!("mysql://db/x".parse::<StorageUrl>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum StorageUrl {
    /// PostgreSQL at this URL (`postgres://` or `postgresql://`), password included.
    Postgres(String),
    /// A SQLite database file.
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database.
    SqliteMemory,
}

impl std::fmt::Debug for StorageUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl FromStr for StorageUrl {
    type Err = StorageError;

    fn from_str(url: &str) -> Result<Self, StorageError> {
        let refused = |message: &str| StorageError::Open {
            location: redact_url(url),
            message: message.to_owned(),
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(StorageUrl::Postgres(url.to_owned()));
        }
        let Some(rest) = url.strip_prefix("sqlite:") else {
            return Err(refused(
                "unsupported storage URL: use postgres://…, postgresql://… or sqlite://…",
            ));
        };
        if rest == ":memory:" || rest == "//:memory:" {
            return Ok(StorageUrl::SqliteMemory);
        }
        if rest.contains('?') {
            return Err(refused("SQLite URLs take no parameters"));
        }
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(refused("the SQLite URL names no file"));
        }
        Ok(StorageUrl::SqliteFile(PathBuf::from(path)))
    }
}

impl StorageUrl {
    /// The URL for logs: a PostgreSQL password (in the user part or a `password` parameter)
    /// is replaced by `***`.
    pub fn describe(&self) -> String {
        match self {
            StorageUrl::Postgres(url) => redact_url(url),
            StorageUrl::SqliteFile(path) => format!("sqlite:{}", path.display()),
            StorageUrl::SqliteMemory => "sqlite::memory:".to_owned(),
        }
    }

    /// The store this URL names; PostgreSQL's pool follows `settings`. Nothing is connected
    /// yet: [`Storage::init`] (which `serve()` calls at startup) connects and migrates.
    pub fn open(&self, settings: PoolSettings) -> Result<Arc<dyn Storage>, StorageError> {
        let _ = &settings;
        Ok(match self {
            #[cfg(feature = "postgres")]
            StorageUrl::Postgres(url) => Arc::new(PostgresStorage::with_settings(url, settings)?),
            #[cfg(feature = "sqlite")]
            StorageUrl::SqliteFile(path) => Arc::new(SqliteStorage::file(path)),
            #[cfg(feature = "sqlite")]
            StorageUrl::SqliteMemory => Arc::new(SqliteStorage::in_memory()),
            #[allow(unreachable_patterns)]
            other => return Err(other.not_compiled_in()),
        })
    }

    /// The error for a store this build does not include (its cargo feature is off).
    #[allow(dead_code)]
    fn not_compiled_in(&self) -> StorageError {
        let feature = match self {
            StorageUrl::Postgres(_) => "postgres",
            StorageUrl::SqliteFile(_) | StorageUrl::SqliteMemory => "sqlite",
        };
        StorageError::Open {
            location: self.describe(),
            message: format!(
                "this build has no support for it: enable mastra-runtime's `{feature}` feature"
            ),
        }
    }
}

/// The store `url` names (see [`StorageUrl`]), with the default [`PoolSettings`].
pub fn open_storage(url: &str) -> Result<Arc<dyn Storage>, StorageError> {
    url.parse::<StorageUrl>()?.open(PoolSettings::default())
}

/// The store `DATABASE_URL` names, or SQLite at `./mastra.db` when it is unset or empty; the
/// pool settings from [`PoolSettings::from_env`].
///
/// ```no_run
/// # async fn run() -> Result<(), mastra_runtime::MastraError> {
/// use mastra_runtime::{memory::storage_from_env, Mastra};
/// let storage = storage_from_env().map_err(mastra_runtime::config::ConfigError::from)?;
/// Mastra::builder().shared_storage(storage).build()?.serve().await
/// # }
/// ```
pub fn storage_from_env() -> Result<Arc<dyn Storage>, StorageError> {
    let url = match std::env::var(DATABASE_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => url.parse::<StorageUrl>()?,
        #[cfg(feature = "sqlite")]
        _ => StorageUrl::SqliteFile(PathBuf::from(DEFAULT_DATABASE_PATH)),
        #[cfg(not(feature = "sqlite"))]
        _ => {
            return Err(StorageError::Open {
                location: DATABASE_URL_ENV.to_owned(),
                message: "DATABASE_URL is not set, and this build has no SQLite to default to (mastra-runtime's `sqlite` feature)".to_owned(),
            })
        }
    };
    url.open(PoolSettings::from_env()?)
}

impl PoolSettings {
    /// The defaults, overridden by `MASTRA_DB_POOL_SIZE`, `MASTRA_DB_ACQUIRE_TIMEOUT_MS` and
    /// `MASTRA_DB_QUERY_TIMEOUT_MS` when set; a value that is not a positive integer is refused, naming the variable.
    pub fn from_env() -> Result<Self, StorageError> {
        let mut settings = Self::default();
        if let Some(size) = positive_env(POOL_SIZE_ENV)? {
            settings.max_connections = u32::try_from(size).unwrap_or(u32::MAX);
        }
        if let Some(millis) = positive_env(ACQUIRE_TIMEOUT_ENV)? {
            settings.acquire_timeout = Duration::from_millis(millis);
        }
        if let Some(millis) = positive_env(QUERY_TIMEOUT_ENV)? {
            settings.query_timeout = Duration::from_millis(millis);
        }
        Ok(settings)
    }
}

fn positive_env(name: &'static str) -> Result<Option<u64>, StorageError> {
    match std::env::var(name) {
        Err(_) => Ok(None),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(value) if value > 0 => Ok(Some(value)),
            _ => Err(StorageError::Open {
                location: name.to_owned(),
                message: format!("{name}={text:?} is not a positive integer"),
            }),
        },
    }
}

/// `url` with its password (the user part's, or a `password` query parameter) replaced by
/// `***`. A URL that does not parse is not shown at all, only its scheme.
pub(super) fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
        return format!("{scheme}://(an unparseable URL, not shown)");
    };
    if parsed.password().is_some() {
        // Only fails for URLs that cannot have a user part, which one with a password has.
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query_pairs().any(|(key, _)| key == "password") {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let value = if key == "password" {
                    "***".to_owned()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_description() {
        for (url, shown) in [
            (
                "postgres://app:s3cret@127.0.0.1:5432/db",
                "postgres://app:***@127.0.0.1:5432/db",
            ),
            (
                "postgres://app@host/db?sslmode=require&password=s3cret",
                "postgres://app@host/db?sslmode=require&password=***",
            ),
            ("postgres://host/db", "postgres://host/db"),
            (
                "postgres://app:s3cret@[bad",
                "postgres://(an unparseable URL, not shown)",
            ),
        ] {
            assert_eq!(redact_url(url), shown);
            assert!(!redact_url(url).contains("s3cret"));
        }
    }

    #[test]
    fn sqlite_urls_name_a_file_or_memory() {
        let parse = |url: &str| url.parse::<StorageUrl>();
        assert_eq!(
            parse("sqlite://./mastra.db").unwrap(),
            StorageUrl::SqliteFile("./mastra.db".into())
        );
        assert_eq!(
            parse("sqlite:data/app.db").unwrap(),
            StorageUrl::SqliteFile("data/app.db".into())
        );
        assert_eq!(
            parse("sqlite:///var/lib/app.db").unwrap(),
            StorageUrl::SqliteFile("/var/lib/app.db".into())
        );
        assert_eq!(parse("sqlite::memory:").unwrap(), StorageUrl::SqliteMemory);
        assert!(parse("sqlite://").is_err());
        assert!(parse("sqlite://x.db?mode=ro").is_err());
        let refused = parse("mysql://root:pw@db/x").unwrap_err().to_string();
        assert!(!refused.contains(":pw@"), "{refused}");
    }
}
