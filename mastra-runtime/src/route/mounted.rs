//! [`MountedRoute`]: a route as served, checked, with its handler and middleware built (the
//! server assembly builds the table of them).

use std::{fmt, sync::Arc};

use super::{
    middleware::Middleware, McpExposure, PathPattern, RouteFactory, RouteMethod, RouteOrigin,
};
use crate::{
    describe::{Inference, OperationFragment},
    schema::RequestValidator,
};

/// A route as served: checked, with its handler and middleware built.
pub struct MountedRoute {
    pub(crate) method: RouteMethod,
    pub(crate) pattern: PathPattern,
    pub(crate) requires_auth: bool,
    /// Whether the auth layer wraps this route (decided at startup).
    pub(crate) protected: bool,
    /// Whether the handler takes an `AuthUser` (which verifies a token even on a public route).
    pub(crate) needs_user: bool,
    pub(crate) factory: RouteFactory,
    /// Global middleware in scope before auth, the auth layer and the global middleware after
    /// auth (protected routes only), then the route's own; first is outermost.
    pub(crate) stack: Vec<Middleware>,
    pub(crate) operation: OperationFragment,
    pub(crate) doc_summary: Option<String>,
    pub(crate) doc_description: Option<String>,
    pub(crate) handler_name: Option<String>,
    /// What the handler's types say, inferred once when the table is built.
    pub(crate) inference: Inference,
    pub(crate) origin: RouteOrigin,
    /// The inferred schemas, compiled once; `None` when no request could break them.
    pub(crate) validator: Option<Arc<RequestValidator>>,
    /// The route's opt-in to be an MCP tool, as declared.
    pub(crate) mcp: Option<McpExposure>,
}

impl fmt::Debug for MountedRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MountedRoute")
            .field("method", &self.method)
            .field("path", &self.pattern.as_str())
            .field("requires_auth", &self.requires_auth)
            .field("protected", &self.protected)
            .field("middleware", &self.stack.len())
            .field("origin", &self.origin)
            .field("mcp", &self.mcp)
            .finish_non_exhaustive()
    }
}

impl MountedRoute {
    /// The method answered.
    pub fn method(&self) -> RouteMethod {
        self.method
    }

    /// The checked path.
    pub fn pattern(&self) -> &PathPattern {
        &self.pattern
    }

    /// The path as declared.
    pub fn path(&self) -> &str {
        self.pattern.as_str()
    }

    /// Whether the route was declared as needing a token once auth is configured (its
    /// `requires_auth`). What is enforced is [`MountedRoute::is_protected`].
    pub fn is_auth_required(&self) -> bool {
        self.requires_auth
    }

    /// Whether the auth layer guards this route: auth is configured and, after the auth
    /// patterns, the route needs a token. Decided once at startup; exactly what is enforced.
    pub fn is_protected(&self) -> bool {
        self.protected
    }

    /// Whether a request to this route must carry a valid token: it is protected, or auth is
    /// configured and its handler takes an [`AuthUser`](crate::auth::AuthUser) (which then
    /// verifies the token itself). The argument types are known for `#[api_route]` functions
    /// (the macro probes them) and for routes given [`ApiRoute::inferred_handler`](super::ApiRoute::inferred_handler)
    /// or [`ApiRoute::infer`](super::ApiRoute::infer).
    /// The OpenAPI `security` requirement follows this.
    pub fn requires_token(&self) -> bool {
        self.protected || self.needs_user
    }

    /// The hand-written OpenAPI fragment.
    pub fn operation(&self) -> &OperationFragment {
        &self.operation
    }

    /// Summary from doc comments.
    pub fn doc_summary(&self) -> Option<&str> {
        self.doc_summary.as_deref()
    }

    /// Description from doc comments.
    pub fn doc_description(&self) -> Option<&str> {
        self.doc_description.as_deref()
    }

    /// The handler's name, when known.
    pub fn handler_name(&self) -> Option<&str> {
        self.handler_name.as_deref()
    }

    /// What the handler's types say about the operation.
    pub fn inference(&self) -> &Inference {
        &self.inference
    }

    /// Where the route was declared.
    pub fn origin(&self) -> &RouteOrigin {
        &self.origin
    }

    /// Whether the runtime provides this route.
    pub fn is_builtin(&self) -> bool {
        matches!(self.origin, RouteOrigin::BuiltIn)
    }

    /// Whether requests are checked against the route's inferred schemas before the handler runs.
    pub fn validates_requests(&self) -> bool {
        self.validator.is_some()
    }

    /// How many middleware layers wrap the handler.
    pub fn middleware_count(&self) -> usize {
        self.stack.len()
    }

    /// How the route is offered as an MCP tool, when it opted in (`mcp(...)` in
    /// `#[api_route]`, or [`ApiRoute::mcp`](super::ApiRoute::mcp)). Its name is checked when
    /// the server is built: it follows MCP's tool-name rule and no other route uses it.
    pub fn mcp_exposure(&self) -> Option<&McpExposure> {
        self.mcp.as_ref()
    }

    /// What the route's MCP tool is described with: the exposure's own description; otherwise
    /// the route's OpenAPI summary and description (each from `openapi(...)`, else from the
    /// doc comment, as the document has them), joined by a blank line. `None` when the route
    /// is not offered over MCP or nothing describes it.
    pub fn mcp_description(&self) -> Option<String> {
        let exposure = self.mcp.as_ref()?;
        if let Some(text) = exposure.explicit_description() {
            return Some(text.to_owned());
        }
        let summary = self
            .operation
            .summary
            .as_ref()
            .or(self.doc_summary.as_ref());
        let description = self
            .operation
            .description
            .as_ref()
            .or(self.doc_description.as_ref());
        match (summary, description) {
            (Some(summary), Some(description)) => Some(format!("{summary}\n\n{description}")),
            (one, other) => one.or(other).cloned(),
        }
    }

    /// `METHOD path (where it was declared)`, for messages about the route.
    pub(crate) fn label(&self) -> String {
        self.origin.label(self.method, self.pattern.as_str())
    }
}
