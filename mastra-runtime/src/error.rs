//! [`ApiError`], the error answered to a client, and [`NotFound`], a registry lookup that found
//! nothing. (Building and starting the server fails with [`MastraError`](crate::MastraError),
//! defined with the facade that returns it.)

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use serde_json::{Map, Value};

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
