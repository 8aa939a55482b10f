//! The two error types: [`MastraError`] for building and starting the server, [`ApiError`] for
//! answering a request.

use std::fmt;

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use serde_json::{Map, Value};

use crate::route::PathError;

/// An error answered to the client as `{"error": "..."}` with its status.
///
/// Handlers return `Result<_, ApiError>`; the runtime's own failures (bad JSON, unknown route,
/// payload too large, ...) use the same body.
///
/// ```
/// use mastra_runtime::ApiError;
/// let e = ApiError::not_found("Item 7 not found");
/// assert_eq!(e.status().as_u16(), 404);
/// assert_eq!(e.body()["error"], "Item 7 not found");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    status: StatusCode,
    message: String,
    extra: Map<String, Value>,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            extra: Map::new(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401 Unauthorized.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 409 Conflict.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 422 Unprocessable Entity.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 500 Internal Server Error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// Adds a field next to `error` in the body, such as `issues`.
    pub fn with_field(mut self, key: impl Into<String>, value: Value) -> Self {
        self.extra.insert(key.into(), value);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message sent as `error`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The JSON body sent to the client.
    pub fn body(&self) -> Value {
        let mut body = Map::with_capacity(1 + self.extra.len());
        body.insert("error".to_owned(), Value::String(self.message.clone()));
        body.extend(self.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        Value::Object(body)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(self.body())
    }
}

/// A registry lookup that found nothing: an agent, workflow or tool id nobody registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} with id {id} not found")]
pub struct NotFound {
    /// What was looked up (`Agent`, `Workflow`, `Tool`).
    pub kind: &'static str,
    /// The id asked for.
    pub id: String,
}

impl From<NotFound> for ApiError {
    fn from(e: NotFound) -> Self {
        ApiError::not_found(e.to_string())
    }
}

/// One problem found in the route table when the server is built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteProblem {
    /// A custom route at or under the API prefix, which belongs to built-in routes.
    #[error("Custom API route \"{path}\" must not start with \"{prefix}\" — that path is reserved for built-in Mastra routes. Choose a different path (e.g. \"{suggestion}\")")]
    UnderApiPrefix {
        /// The offending path.
        path: String,
        /// The configured API prefix.
        prefix: String,
        /// A path outside the prefix.
        suggestion: String,
    },
    /// Two routes answer the same method on the same path shape.
    #[error("routes {first} and {second} both answer {method} {shape}")]
    Duplicate {
        /// The method they share (`ALL` overlaps every method).
        method: String,
        /// The path with parameter names erased.
        shape: String,
        /// Where the first route came from.
        first: String,
        /// Where the second route came from.
        second: String,
    },
    /// A path template that does not parse.
    #[error("route {route}: {error}")]
    BadPath {
        /// Where the route came from.
        route: String,
        /// Why the path was refused.
        error: PathError,
    },
    /// A route with neither `handler` nor `create_handler`.
    #[error("route {route} has no handler: call `.handler(..)` or `.create_handler(..)`")]
    MissingHandler {
        /// Where the route came from.
        route: String,
    },
    /// A route given both `handler` and `create_handler`.
    #[error("route {route} sets both `handler` and `create_handler`; keep exactly one")]
    ConflictingHandlers {
        /// Where the route came from.
        route: String,
    },
    /// A schema inferred from the handler's types that cannot be compiled for validation (for
    /// example a `pattern` that is not a regular expression).
    #[error("route {route}: {reason}")]
    Schema {
        /// Where the route came from.
        route: String,
        /// Which schema and why.
        reason: String,
    },
    /// A middleware whose constructor failed.
    #[error("route {route}: middleware #{index} failed to build: {reason}")]
    Middleware {
        /// Where the route came from ("global" for server-wide middleware).
        route: String,
        /// Position in the route's list, from 1.
        index: usize,
        /// The constructor's error.
        reason: String,
    },
    /// A handler whose constructor (`try_create_handler`) failed.
    #[error("route {route}: its handler failed to build: {reason}")]
    Handler {
        /// Where the route came from.
        route: String,
        /// The constructor's error.
        reason: String,
    },
}

/// All route problems, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteProblems(pub Vec<RouteProblem>);

impl fmt::Display for RouteProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} problem(s) in the route table:", self.0.len())?;
        for problem in &self.0 {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

/// An error building, configuring or running the server.
#[derive(Debug, thiserror::Error)]
pub enum MastraError {
    /// The route table has problems; every one is listed.
    #[error("{0}")]
    Routes(RouteProblems),
    /// The auth configuration is unusable (missing secret, bad key, no crypto backend, ...).
    #[error("invalid auth configuration: {0}")]
    Auth(#[from] crate::auth::AuthConfigError),
    /// A configuration value is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Two registry entries share an id.
    #[error("two {kind}s are registered with id `{id}`")]
    DuplicateId {
        /// What kind of entry.
        kind: &'static str,
        /// The shared id.
        id: String,
    },
    /// A registry lookup failed.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// A workflow's graph does not hold together (its steps' schemas do not fit); every
    /// problem is listed.
    #[error(transparent)]
    Workflow(#[from] crate::workflow::WorkflowBuildError),
    /// The listening socket could not be bound.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

impl MastraError {
    /// The route problems, if this is a route-table error.
    pub fn route_problems(&self) -> &[RouteProblem] {
        match self {
            MastraError::Routes(problems) => &problems.0,
            _ => &[],
        }
    }
}
