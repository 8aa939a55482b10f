//! [`AuthProvider`]: who the caller is (authenticate) and whether they may go on (authorize).

use std::{future::Future, sync::Arc};

use actix_web::HttpRequest;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use super::{layer::Gate, rules::RouteRules, TokenSources};
use crate::route::Middleware;

/// What [`AuthProvider::authorize_user`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The request goes on.
    Allow,
    /// The request is answered 403 `{"error":"Access denied"}`.
    Deny,
}

impl From<bool> for Access {
    fn from(allowed: bool) -> Self {
        if allowed {
            Access::Allow
        } else {
            Access::Deny
        }
    }
}

/// An authorizer that could not decide (a database down, ...). The request is answered 500
/// `{"error":"Authorization error"}`; the message goes to the server log only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthorizeError(pub String);

impl AuthorizeError {
    /// An error with this message (logged, never sent).
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Authenticates tokens and authorizes users: Mastra's auth provider interface.
///
/// [`JwtAuth`](super::JwtAuth) is the built-in one. Write your own for opaque API keys, session
/// stores or anything else; `async fn` works in the implementation:
///
/// ```
/// use mastra_runtime::{auth::{Access, AuthProvider, AuthorizeError}, prelude::*};
///
/// struct ApiKeys;
///
/// impl AuthProvider for ApiKeys {
///     async fn authenticate_token(&self, token: &str, _req: &HttpRequest) -> Option<serde_json::Value> {
///         (token == "key-123").then(|| json!({ "sub": "service-a", "role": "reader" }))
///     }
///
///     async fn authorize_user(&self, user: &serde_json::Value, req: &HttpRequest) -> Result<Access, AuthorizeError> {
///         Ok((req.method() == "GET" || user["role"] == "writer").into())
///     }
/// }
///
/// let config = ServerConfig::default().auth(ApiKeys);
/// # let _ = config;
/// ```
pub trait AuthProvider: Send + Sync + 'static {
    /// The user the token stands for (a JSON value, usually an object of claims), or `None`
    /// when the token is not valid. `None` is answered 401 `{"error":"Invalid or expired token"}`.
    fn authenticate_token(
        &self,
        token: &str,
        request: &HttpRequest,
    ) -> impl Future<Output = Option<Value>>;

    /// Whether `user` may make this request. The default allows every authenticated user.
    fn authorize_user(
        &self,
        user: &Value,
        request: &HttpRequest,
    ) -> impl Future<Output = Result<Access, AuthorizeError>> {
        let _ = (user, request);
        std::future::ready(Ok(Access::Allow))
    }
}

/// A provider behind a pointer: boxed futures for the rare path that needs them (an
/// `AuthUser` on a public route), and the per-route layer built with the concrete type so the
/// hot path boxes nothing more than the layer's own future.
pub(crate) trait DynProvider: Send + Sync {
    fn authenticate<'a>(
        &'a self,
        token: &'a str,
        request: &'a HttpRequest,
    ) -> LocalBoxFuture<'a, Option<Value>>;

    fn authorize<'a>(
        &'a self,
        user: &'a Value,
        request: &'a HttpRequest,
    ) -> LocalBoxFuture<'a, Result<Access, AuthorizeError>>;

    /// The auth layer for one protected route.
    fn layer(self: Arc<Self>, tokens: TokenSources, rules: RouteRules) -> Middleware;
}

impl<P: AuthProvider> DynProvider for P {
    fn authenticate<'a>(
        &'a self,
        token: &'a str,
        request: &'a HttpRequest,
    ) -> LocalBoxFuture<'a, Option<Value>> {
        Box::pin(self.authenticate_token(token, request))
    }

    fn authorize<'a>(
        &'a self,
        user: &'a Value,
        request: &'a HttpRequest,
    ) -> LocalBoxFuture<'a, Result<Access, AuthorizeError>> {
        Box::pin(self.authorize_user(user, request))
    }

    fn layer(self: Arc<Self>, tokens: TokenSources, rules: RouteRules) -> Middleware {
        Gate::new(self, tokens, rules).into_middleware()
    }
}
