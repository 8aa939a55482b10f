//! [`ServerConfig`]: where and how the server listens, with Mastra's defaults, and the limits
//! on what a client may send ([`limits`]).

pub mod limits;

use std::{fmt, time::Duration};

use actix_web::body::MessageBody;

#[cfg(feature = "memory")]
use crate::memory::StorageError;
#[cfg(feature = "agents")]
use crate::model::ModelError;
pub use crate::route::DEFAULT_API_PREFIX;
#[cfg(feature = "workflows")]
use crate::workflow::RunLease;
use crate::{
    auth::{AuthConfig, AuthConfigError},
    route::{
        ConstructorError, Middleware, MiddlewareFn, MiddlewareFuture, MiddlewareSlot, RouteScope,
    },
    schema::MAX_JSON_ITEMS,
};
use limits::{
    BodyLimits, HeadLimits, DEFAULT_BODY_MIN_RATE, DEFAULT_BODY_READ_TIMEOUT,
    DEFAULT_CLIENT_REQUEST_TIMEOUT, DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_URL_BYTES,
};

/// Port when neither the config nor `PORT` says otherwise (Mastra's default).
pub const DEFAULT_PORT: u16 = 4111;
/// Host when neither the config nor `MASTRA_HOST` says otherwise. Mastra binds every interface;
/// this binds loopback so a development server is not exposed by accident.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// Time a request may take to produce its response head (Mastra's `timeout`, 180 000 ms).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);
/// Largest accepted request body (Mastra's `bodySizeLimit`, 4.5 MB).
pub const DEFAULT_BODY_LIMIT: usize = 4_718_592;
/// How long shutdown waits for in-flight requests (Mastra's `drainTimeout`, 5 000 ms).
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// The environment variable that turns the OpenAPI document and Swagger UI on in a release
/// build when set to `true` (Mastra's development mode).
pub const MASTRA_DEV_ENV: &str = "MASTRA_DEV";

/// The environment variable that sets the workflow run lease in milliseconds
/// ([`ServerConfig::workflow_run_lease`]).
pub const WORKFLOW_LEASE_ENV: &str = "MASTRA_WORKFLOW_LEASE_MS";

/// Which origins may call the server from a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// Mastra's choice (the default): [`AllowedOrigins::Any`] without auth,
    /// [`AllowedOrigins::Reflect`] once an auth provider is configured.
    Auto,
    /// Any origin; answered with `Access-Control-Allow-Origin: *` (Mastra's default).
    Any,
    /// Any origin, reflected back with `Access-Control-Allow-Credentials: true` (what Mastra
    /// does once auth is configured).
    Reflect,
    /// Only these origins (exact `scheme://host[:port]`), reflected with credentials allowed.
    List(Vec<String>),
}

/// The CORS policy. The default is Mastra's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsConfig {
    /// Whether CORS headers are sent at all.
    pub enabled: bool,
    /// Allowed origins.
    pub origins: AllowedOrigins,
    /// Allowed methods.
    pub allow_methods: Vec<String>,
    /// Allowed request headers.
    pub allow_headers: Vec<String>,
    /// Response headers visible to scripts.
    pub expose_headers: Vec<String>,
    /// How long a preflight answer may be cached, in seconds.
    pub max_age: usize,
}

impl Default for CorsConfig {
    fn default() -> Self {
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        Self {
            enabled: true,
            origins: AllowedOrigins::Auto,
            allow_methods: strings(&["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
            allow_headers: strings(&["Content-Type", "Authorization", "x-mastra-client-type"]),
            expose_headers: strings(&["Content-Length", "X-Requested-With"]),
            max_age: 3600,
        }
    }
}

impl CorsConfig {
    /// No CORS headers at all; browsers then refuse cross-origin calls.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Sets the allowed origins.
    pub fn origins(mut self, origins: AllowedOrigins) -> Self {
        self.origins = origins;
        self
    }
}

/// A server-wide middleware, optionally limited to routes under a path pattern.
pub(crate) struct GlobalMiddleware {
    pub(crate) scope: Option<RouteScope>,
    pub(crate) slot: MiddlewareSlot,
    /// Runs after authentication (sees the user) and only on protected routes.
    pub(crate) after_auth: bool,
}

/// A configuration value that cannot be used. Its message starts with "invalid configuration:",
/// as [`MastraError::Config`](crate::MastraError::Config) shows it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `PORT` is set to something that is not a port number.
    #[error("invalid configuration: PORT={text:?} is not a port number")]
    BadPort {
        /// The variable's value.
        text: String,
    },
    /// `MASTRA_WORKFLOW_LEASE_MS` is not a whole number of milliseconds.
    #[error("invalid configuration: MASTRA_WORKFLOW_LEASE_MS={text:?} is not a whole number of milliseconds")]
    BadWorkflowLease {
        /// The variable's value.
        text: String,
    },
    /// The storage could not be opened, created or migrated when the server started.
    #[cfg(feature = "memory")]
    #[error("invalid configuration: {0}")]
    Storage(#[from] StorageError),
    /// No store was given to an application built without SQLite (the `sqlite` feature), which
    /// would otherwise be the default.
    #[error("invalid configuration: no store: give one with MastraBuilder::storage (or enable the `sqlite` feature for the default ./mastra.db)")]
    NoStorage,
    /// An agent names a model no provider serves, or a model name that does not parse.
    #[cfg(feature = "agents")]
    #[error("invalid configuration: agent {agent}: {error}")]
    AgentModel {
        /// The agent's id.
        agent: String,
        /// What is wrong with its model.
        #[source]
        error: ModelError,
    },
    /// A limit set to a value the server cannot work with.
    #[error("invalid configuration: {setting} {problem}")]
    Limit {
        /// The [`ServerConfig`] setting.
        setting: &'static str,
        /// What is wrong with its value.
        problem: &'static str,
    },
}

/// The docs default: on in debug builds and when `MASTRA_DEV` is `true` (or `1`).
fn docs_by_default() -> bool {
    docs_default(
        cfg!(debug_assertions),
        std::env::var(MASTRA_DEV_ENV).ok().as_deref(),
    )
}

fn docs_default(debug_build: bool, mastra_dev: Option<&str>) -> bool {
    debug_build
        || mastra_dev.is_some_and(|v| v.trim().eq_ignore_ascii_case("true") || v.trim() == "1")
}

/// How the server listens and behaves. Every default matches Mastra's (see the `DEFAULT_*`
/// constants).
///
/// ```
/// use mastra_runtime::ServerConfig;
/// use std::time::Duration;
/// let config = ServerConfig::default().port(8080).timeout(Duration::from_secs(30));
/// assert_eq!(config.prefix(), "/api");
/// ```
pub struct ServerConfig {
    pub(crate) host: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) api_prefix: String,
    pub(crate) timeout: Duration,
    pub(crate) workers: Option<usize>,
    pub(crate) body_limits: BodyLimits,
    pub(crate) max_json_items: usize,
    pub(crate) head_limits: HeadLimits,
    pub(crate) client_request_timeout: Duration,
    pub(crate) max_connections: Option<usize>,
    pub(crate) cors: CorsConfig,
    pub(crate) drain_timeout: Duration,
    #[cfg(feature = "workflows")]
    pub(crate) run_lease: Option<RunLease>,
    pub(crate) middleware: Vec<GlobalMiddleware>,
    pub(crate) install_logger: bool,
    pub(crate) protect_docs: bool,
    pub(crate) openapi_docs: Option<bool>,
    pub(crate) swagger_ui: Option<bool>,
    pub(crate) swagger_ui_title: String,
    pub(crate) openapi_title: String,
    pub(crate) openapi_version: String,
    pub(crate) auth: Option<AuthConfig>,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("ServerConfig");
        debug
            .field("host", &self.host)
            .field("port", &self.port)
            .field("api_prefix", &self.api_prefix)
            .field("timeout", &self.timeout)
            .field("workers", &self.workers)
            .field("body_limit", &self.body_limits.max_bytes)
            .field("body_read_timeout", &self.body_limits.read_timeout)
            .field("body_min_rate", &self.body_limits.min_rate)
            .field("max_json_items", &self.max_json_items)
            .field("max_url_bytes", &self.head_limits.max_url_bytes)
            .field("max_header_bytes", &self.head_limits.max_header_bytes)
            .field("client_request_timeout", &self.client_request_timeout)
            .field("max_connections", &self.max_connections)
            .field("cors", &self.cors)
            .field("drain_timeout", &self.drain_timeout);
        #[cfg(feature = "workflows")]
        debug.field("run_lease", &self.run_lease);
        debug
            .field("middleware", &self.middleware.len())
            .field("openapi_docs", &self.openapi_docs)
            .field("swagger_ui", &self.swagger_ui)
            .field("auth", &self.auth)
            .finish()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: None,
            port: None,
            api_prefix: DEFAULT_API_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            workers: None,
            body_limits: BodyLimits {
                max_bytes: DEFAULT_BODY_LIMIT,
                read_timeout: DEFAULT_BODY_READ_TIMEOUT,
                min_rate: DEFAULT_BODY_MIN_RATE,
            },
            max_json_items: MAX_JSON_ITEMS,
            head_limits: HeadLimits {
                max_url_bytes: DEFAULT_MAX_URL_BYTES,
                max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            },
            client_request_timeout: DEFAULT_CLIENT_REQUEST_TIMEOUT,
            max_connections: None,
            cors: CorsConfig::default(),
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            #[cfg(feature = "workflows")]
            run_lease: None,
            middleware: Vec::new(),
            install_logger: true,
            protect_docs: false,
            openapi_docs: None,
            swagger_ui: None,
            swagger_ui_title: crate::openapi::DEFAULT_SWAGGER_UI_TITLE.to_owned(),
            openapi_title: crate::openapi::DEFAULT_TITLE.to_owned(),
            openapi_version: crate::openapi::DEFAULT_VERSION.to_owned(),
            auth: None,
        }
    }
}

impl ServerConfig {
    /// Sets the host to bind (overrides `MASTRA_HOST`).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Sets the port to bind (overrides `PORT`); `0` picks a free port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets the prefix of built-in routes; custom routes may not live under it.
    pub fn api_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        self.api_prefix = if prefix.starts_with('/') {
            prefix.trim_end_matches('/').to_owned()
        } else {
            format!("/{}", prefix.trim_end_matches('/'))
        };
        self
    }

    /// Sets the time a request may take to produce its response head.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the number of worker threads (default: one per physical core).
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers.max(1));
        self
    }

    /// Sets the largest accepted request body, in bytes.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limits.max_bytes = bytes;
        self
    }

    /// Sets the most items (array elements and object members, at every depth together) a JSON
    /// request body may hold (default [`MAX_JSON_ITEMS`], 100 000); a body with more is
    /// answered `400 {"error":"JSON with more than N items ...","limit":N}` before it is parsed.
    /// A parsed value takes tens of times its text, so this, not the byte limit, bounds what a
    /// JSON body costs in memory: raise it with [`ServerConfig::body_limit`] only when large
    /// arrays are expected. Must be at least 1.
    ///
    /// ```
    /// use mastra_runtime::ServerConfig;
    /// let config = ServerConfig::default().body_limit(16 << 20).max_json_items(400_000);
    /// # let _ = config;
    /// ```
    pub fn max_json_items(mut self, items: usize) -> Self {
        self.max_json_items = items;
        self
    }

    /// Sets the longest a request body may take to arrive, counted from the application's first
    /// read of it; a slower body is answered `408 {"error":"Request body timed out"}` and its
    /// connection closed (default [`DEFAULT_BODY_READ_TIMEOUT`]).
    /// Must be more than zero.
    ///
    /// ```
    /// use mastra_runtime::ServerConfig;
    /// use std::time::Duration;
    /// let config = ServerConfig::default().body_read_timeout(Duration::from_secs(10));
    /// # let _ = config;
    /// ```
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_limits.read_timeout = timeout;
        self
    }

    /// Sets the slowest average rate, in bytes per second, at which a request body may arrive
    /// once its first [`BODY_MIN_RATE_GRACE`](limits::BODY_MIN_RATE_GRACE) has passed; a slower
    /// body is answered like one past [`ServerConfig::body_read_timeout`]. `0` turns the check
    /// off (default [`DEFAULT_BODY_MIN_RATE`]).
    pub fn body_min_rate(mut self, bytes_per_second: u64) -> Self {
        self.body_limits.min_rate = bytes_per_second;
        self
    }

    /// Sets the most connections one worker keeps open at once (actix-web's `max_connections`).
    /// Connections past it wait in the listen backlog until one closes, so the server never
    /// runs out of file descriptors (`EMFILE`), however many clients connect. By default it is
    /// half the process's open-file limit shared between the workers (see
    /// [`ServerConfig::resolved_max_connections`]). Must be at least 1.
    pub fn max_connections(mut self, per_worker: usize) -> Self {
        self.max_connections = Some(per_worker);
        self
    }

    /// Sets the longest accepted request target (path and query), in bytes; longer gets a JSON
    /// `414` (default [`DEFAULT_MAX_URL_BYTES`]).
    pub fn max_url_bytes(mut self, bytes: usize) -> Self {
        self.head_limits.max_url_bytes = bytes;
        self
    }

    /// Sets the largest accepted total of request header fields, in bytes; larger gets a JSON
    /// `431` (default [`DEFAULT_MAX_HEADER_BYTES`]). Heads past actix-http's own buffer
    /// ([`HTTP_PARSER_HEAD_BUFFER`](limits::HTTP_PARSER_HEAD_BUFFER)) are refused by
    /// the HTTP parser whatever this says.
    pub fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.head_limits.max_header_bytes = bytes;
        self
    }

    /// Sets how long a client may take to send a complete request head before it is answered
    /// `408` and disconnected (default [`DEFAULT_CLIENT_REQUEST_TIMEOUT`]).
    pub fn client_request_timeout(mut self, timeout: Duration) -> Self {
        self.client_request_timeout = timeout;
        self
    }

    /// Sets the CORS policy.
    pub fn cors(mut self, cors: CorsConfig) -> Self {
        self.cors = cors;
        self
    }

    /// Sets how long graceful shutdown waits for in-flight requests.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    #[cfg(feature = "workflows")]
    /// How long a running workflow run may go without its executor renewing it before another
    /// instance sharing the store takes it over and continues it from its last persisted step
    /// (docs/deploy.md). Unset: `MASTRA_WORKFLOW_LEASE_MS` when it holds a number of
    /// milliseconds, else [`RunLease::DEFAULT_TIMEOUT`].
    pub fn workflow_run_lease(mut self, timeout: Duration) -> Self {
        self.run_lease = Some(RunLease::new(timeout));
        self
    }

    #[cfg(feature = "workflows")]
    /// The workflow run lease: the config, else `MASTRA_WORKFLOW_LEASE_MS`, else the default.
    /// An unreadable variable is a configuration error rather than a silent fallback.
    pub fn resolved_run_lease(&self) -> Result<RunLease, ConfigError> {
        if let Some(lease) = self.run_lease {
            return Ok(lease);
        }
        match std::env::var(WORKFLOW_LEASE_ENV) {
            Ok(text) if !text.trim().is_empty() => text
                .trim()
                .parse()
                .map(|ms| RunLease::new(Duration::from_millis(ms)))
                .map_err(|_| ConfigError::BadWorkflowLease { text }),
            _ => Ok(RunLease::default()),
        }
    }

    /// Whether `serve()` installs a `tracing` subscriber (honouring `RUST_LOG`) when the
    /// application has not installed one. On by default.
    pub fn install_logger(mut self, install: bool) -> Self {
        self.install_logger = install;
        self
    }

    /// Whether the OpenAPI document and Swagger UI require a token once auth is configured.
    /// Off by default, so Swagger UI can load the document its Authorize button then uses
    /// (Mastra protects the document, and its own page cannot load it).
    pub fn protect_docs(mut self, protect: bool) -> Self {
        self.protect_docs = protect;
        self
    }

    /// See [`ServerConfig::protect_docs`].
    pub fn docs_protected(&self) -> bool {
        self.protect_docs
    }

    /// Whether `GET /api/openapi.json` is served (Mastra's `build.openAPIDocs`). When not set,
    /// it is on in debug builds and when `MASTRA_DEV=true`, and off in release builds.
    pub fn openapi_docs(mut self, enabled: bool) -> Self {
        self.openapi_docs = Some(enabled);
        self
    }

    /// Whether Swagger UI is served at `/swagger-ui` (Mastra's `build.swaggerUI`); it needs the
    /// document, so turning it on serves the document too. The default is as for
    /// [`ServerConfig::openapi_docs`].
    pub fn swagger_ui(mut self, enabled: bool) -> Self {
        self.swagger_ui = Some(enabled);
        self
    }

    /// Sets the Swagger UI page's title (default [`DEFAULT_SWAGGER_UI_TITLE`](crate::openapi::DEFAULT_SWAGGER_UI_TITLE)).
    pub fn swagger_ui_title(mut self, title: impl Into<String>) -> Self {
        self.swagger_ui_title = title.into();
        self
    }

    /// Sets the document's `info.title` and `info.version` (default `Mastra API`, `1.0.0`).
    pub fn openapi_info(mut self, title: impl Into<String>, version: impl Into<String>) -> Self {
        self.openapi_title = title.into();
        self.openapi_version = version.into();
        self
    }

    /// Whether the OpenAPI document is served: as configured, else the docs default (on in
    /// debug builds and with `MASTRA_DEV=true`); Swagger UI turned on explicitly turns it on.
    /// Never without the `openapi` feature.
    ///
    /// ```
    /// use mastra_runtime::ServerConfig;
    /// let off = ServerConfig::default().openapi_docs(false);
    /// assert!(!off.openapi_docs_enabled() && !off.swagger_ui_enabled());
    /// let ui = ServerConfig::default().openapi_docs(false).swagger_ui(true);
    /// assert!(ui.openapi_docs_enabled() && ui.swagger_ui_enabled());
    /// let doc_only = ServerConfig::default().openapi_docs(true).swagger_ui(false);
    /// assert!(doc_only.openapi_docs_enabled() && !doc_only.swagger_ui_enabled());
    /// ```
    pub fn openapi_docs_enabled(&self) -> bool {
        cfg!(feature = "openapi")
            && (self.swagger_ui == Some(true) || self.openapi_docs.unwrap_or_else(docs_by_default))
    }

    /// Whether Swagger UI is served: as configured, else the docs default unless the document
    /// was turned off. Never without the `swagger-ui` feature.
    pub fn swagger_ui_enabled(&self) -> bool {
        cfg!(feature = "swagger-ui")
            && self
                .swagger_ui
                .unwrap_or_else(|| self.openapi_docs != Some(false) && docs_by_default())
    }

    /// The Swagger UI page's title.
    pub fn swagger_ui_page_title(&self) -> &str {
        &self.swagger_ui_title
    }

    /// Turns authentication on: every route then needs a valid token unless it is declared
    /// `requires_auth = false` or made public by the [`AuthConfig`] (`/health` always is).
    /// Takes any [`AuthProvider`](crate::auth::AuthProvider), such as
    /// [`JwtAuth`](crate::auth::JwtAuth), or a built [`AuthConfig`].
    pub fn auth(mut self, auth: impl Into<AuthConfig>) -> Self {
        self.auth = Some(auth.into());
        self
    }

    /// The auth setting, when a provider is configured.
    pub fn auth_config(&self) -> Option<&AuthConfig> {
        self.auth.as_ref()
    }

    /// Adds middleware that runs on every route, before the route's own middleware.
    pub fn middleware<F, Fut, B>(self, f: F) -> Self
    where
        F: MiddlewareFn<Fut>,
        Fut: MiddlewareFuture<B>,
        B: MessageBody + 'static,
    {
        self.with_middleware(None, Middleware::from_fn(f))
    }

    /// Adds middleware limited to routes matching `pattern`: an exact path (`/items/:id`) or a
    /// subtree (`/items/*`). A malformed pattern is reported when the server is built.
    pub fn middleware_on<F, Fut, B>(self, pattern: &str, f: F) -> Self
    where
        F: MiddlewareFn<Fut>,
        Fut: MiddlewareFuture<B>,
        B: MessageBody + 'static,
    {
        self.with_middleware(Some(pattern), Middleware::from_fn(f))
    }

    /// Adds middleware that runs after authentication, on protected routes only: it sees the
    /// user ([`Context::user`](crate::Context::user), the request context's `user`). Public
    /// routes (and every route when no auth is configured) skip it.
    pub fn middleware_after_auth<F, Fut, B>(self, f: F) -> Self
    where
        F: MiddlewareFn<Fut>,
        Fut: MiddlewareFuture<B>,
        B: MessageBody + 'static,
    {
        self.with_middleware_after_auth(None, Middleware::from_fn(f))
    }

    /// [`ServerConfig::middleware_after_auth`] limited to routes matching `pattern`.
    pub fn middleware_after_auth_on<F, Fut, B>(self, pattern: &str, f: F) -> Self
    where
        F: MiddlewareFn<Fut>,
        Fut: MiddlewareFuture<B>,
        B: MessageBody + 'static,
    {
        self.with_middleware_after_auth(Some(pattern), Middleware::from_fn(f))
    }

    /// Adds a ready [`Middleware`] that runs after authentication, on protected routes only,
    /// optionally limited to a path pattern.
    pub fn with_middleware_after_auth(self, pattern: Option<&str>, middleware: Middleware) -> Self {
        self.push_middleware(pattern, middleware, true)
    }

    /// Adds a ready [`Middleware`], optionally limited to a path pattern.
    pub fn with_middleware(self, pattern: Option<&str>, middleware: Middleware) -> Self {
        self.push_middleware(pattern, middleware, false)
    }

    fn push_middleware(
        mut self,
        pattern: Option<&str>,
        middleware: Middleware,
        after_auth: bool,
    ) -> Self {
        let (scope, slot) = match pattern.map(RouteScope::parse).transpose() {
            Ok(scope) => (scope, MiddlewareSlot::Ready(middleware)),
            Err(error) => (
                None,
                MiddlewareSlot::Refused(ConstructorError::BadPattern {
                    pattern: pattern.unwrap_or_default().to_owned(),
                    error,
                }),
            ),
        };
        self.middleware.push(GlobalMiddleware {
            scope,
            slot,
            after_auth,
        });
        self
    }

    /// The settings the OpenAPI document is built with.
    #[cfg(feature = "openapi")]
    pub(crate) fn document_settings(
        &self,
        auth_configured: bool,
    ) -> crate::openapi::DocumentSettings {
        crate::openapi::DocumentSettings {
            title: self.openapi_title.clone(),
            version: self.openapi_version.clone(),
            api_prefix: self.api_prefix.clone(),
            auth_configured,
        }
    }

    /// The number of worker threads: as configured, else one per available core (actix-web's
    /// default).
    pub fn resolved_workers(&self) -> usize {
        self.workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
        })
    }

    /// The cap of concurrent connections per worker: as configured, else half the process's
    /// open-file limit (`RLIMIT_NOFILE`, soft) shared between the
    /// [workers](ServerConfig::resolved_workers), at most actix-web's own 25 600.
    pub fn resolved_max_connections(&self) -> usize {
        self.max_connections
            .unwrap_or_else(|| limits::default_max_connections(self.resolved_workers()))
    }

    /// Refuses limits the server cannot work with: a zero body read timeout would cut every
    /// body, a zero connection cap would serve nobody.
    pub(crate) fn check_limits(&self) -> Result<(), ConfigError> {
        if self.body_limits.read_timeout.is_zero() {
            return Err(ConfigError::Limit {
                setting: "body_read_timeout",
                problem: "must be more than zero",
            });
        }
        if self.max_json_items == 0 {
            return Err(ConfigError::Limit {
                setting: "max_json_items",
                problem: "must be at least 1",
            });
        }
        if self.max_connections == Some(0) {
            return Err(ConfigError::Limit {
                setting: "max_connections",
                problem: "must be at least 1",
            });
        }
        Ok(())
    }

    /// The prefix of built-in routes.
    pub fn prefix(&self) -> &str {
        &self.api_prefix
    }

    /// The host to bind: the config, else `MASTRA_HOST`, else [`DEFAULT_HOST`].
    pub fn resolved_host(&self) -> String {
        self.host
            .clone()
            .or_else(|| std::env::var("MASTRA_HOST").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| DEFAULT_HOST.to_owned())
    }

    /// The port to bind: the config, else `PORT`, else [`DEFAULT_PORT`]. An unparsable `PORT`
    /// is a configuration error rather than a silent fallback.
    pub fn resolved_port(&self) -> Result<u16, ConfigError> {
        if let Some(port) = self.port {
            return Ok(port);
        }
        match std::env::var("PORT") {
            Ok(text) if !text.trim().is_empty() => text
                .trim()
                .parse()
                .map_err(|_| ConfigError::BadPort { text }),
            _ => Ok(DEFAULT_PORT),
        }
    }

    /// Refuses an auth setting that cannot work: a bad pattern, or a cookie token source under
    /// CORS that lets every origin send credentials (any web site could then call the API as
    /// the signed-in user).
    pub(crate) fn check_auth(&mut self) -> Result<(), AuthConfigError> {
        let Some(auth) = self.auth.as_mut() else {
            return Ok(());
        };
        auth.take_problem()?;
        if let Some(cookie) = auth.token_sources().cookie.as_deref() {
            let reflects_all = matches!(
                self.cors.origins,
                AllowedOrigins::Auto | AllowedOrigins::Reflect
            );
            if self.cors.enabled && reflects_all {
                return Err(AuthConfigError::CookieWithOpenCors {
                    cookie: cookie.to_owned(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{docs_default, ServerConfig};
    use std::time::Duration;

    #[test]
    fn limits_the_server_cannot_work_with_are_refused() {
        assert!(ServerConfig::default().check_limits().is_ok());
        let zero_timeout = ServerConfig::default().body_read_timeout(Duration::ZERO);
        assert_eq!(
            zero_timeout.check_limits().unwrap_err().to_string(),
            "invalid configuration: body_read_timeout must be more than zero"
        );
        let no_connections = ServerConfig::default().max_connections(0);
        assert_eq!(
            no_connections.check_limits().unwrap_err().to_string(),
            "invalid configuration: max_connections must be at least 1"
        );
        assert_eq!(
            ServerConfig::default()
                .max_connections(7)
                .resolved_max_connections(),
            7
        );
    }

    #[test]
    fn docs_are_on_in_debug_builds_and_with_mastra_dev() {
        assert!(docs_default(true, None));
        assert!(docs_default(true, Some("false")));
        assert!(!docs_default(false, None));
        assert!(!docs_default(false, Some("false")));
        assert!(!docs_default(false, Some("")));
        assert!(docs_default(false, Some("true")));
        assert!(docs_default(false, Some("TRUE")));
        assert!(docs_default(false, Some("1")));
    }
}
