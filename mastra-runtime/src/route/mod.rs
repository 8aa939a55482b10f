//! Routes: [`ApiRoute`] (the runtime form of Mastra's `registerApiRoute`), the inventory
//! definitions `#[api_route]` submits, path templates, middleware as values, the per-request
//! [`RequestContext`] (with the verified user), and [`MountedRoute`], a route as served.
//!
//! The per-request [`Context`](crate::Context) and the constructors that receive the
//! application (`create_handler`, `try_middleware`) are written with the `Mastra` facade, above
//! this layer; here they are held opaque.

mod def;
mod mcp;
pub mod middleware;
mod mounted;
mod path;
mod problem;
mod request_context;
mod scope;

use std::{fmt, sync::Arc};

use actix_web::{body::MessageBody, http::Method, FromRequest, Handler, Responder};

pub use def::RouteDef;
pub(crate) use mcp::mcp_problems;
pub use mcp::{check_tool_name, McpExposure, ToolNameProblem, MAX_TOOL_NAME_CHARS};
pub use middleware::{Middleware, MiddlewareFn, MiddlewareFuture};
pub use mounted::MountedRoute;
pub use path::{is_param_name, PathError, PathPattern, Segment};
pub use problem::{ConstructorError, RouteProblem, RouteProblems};
#[cfg(any(test, feature = "workflows"))]
pub(crate) use request_context::RESERVED_KEYS;
pub(crate) use request_context::{store_user, user_of};
pub use request_context::{RequestContext, USER_KEY};
pub(crate) use scope::RouteScope;

use crate::{
    app::AppRef,
    describe::{DescribeHandler, Inference, OperationFragment},
};
pub(crate) use middleware::MiddlewareSlot;

/// Prefix of the built-in routes (Mastra's `apiPrefix`).
pub const DEFAULT_API_PREFIX: &str = "/api";

/// The HTTP methods a route can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteMethod {
    /// `GET` (and `HEAD`, answered by the same handler).
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
    /// Every method.
    All,
}

impl RouteMethod {
    /// Every single method, in the order the OpenAPI document lists them.
    pub const SINGLE: [RouteMethod; 5] = [
        RouteMethod::Get,
        RouteMethod::Post,
        RouteMethod::Put,
        RouteMethod::Patch,
        RouteMethod::Delete,
    ];

    /// Reads `GET`, `POST`, `PUT`, `PATCH`, `DELETE` or `ALL` (any letter case).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.to_ascii_uppercase().as_str() {
            "GET" => Self::Get,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            "ALL" => Self::All,
            _ => return None,
        })
    }

    /// The upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::All => "ALL",
        }
    }

    /// Whether two routes with these methods would answer the same request.
    pub fn overlaps(self, other: RouteMethod) -> bool {
        self == other || self == Self::All || other == Self::All
    }

    /// The HTTP methods answered, for `Allow` headers; `None` for [`RouteMethod::All`].
    pub fn http_methods(self) -> Option<&'static [Method]> {
        const GET: [Method; 2] = [Method::GET, Method::HEAD];
        Some(match self {
            Self::Get => &GET,
            Self::Post => std::slice::from_ref(&Method::POST),
            Self::Put => std::slice::from_ref(&Method::PUT),
            Self::Patch => std::slice::from_ref(&Method::PATCH),
            Self::Delete => std::slice::from_ref(&Method::DELETE),
            Self::All => return None,
        })
    }
}

impl fmt::Display for RouteMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builds one actix-web `Route` (the handler, no guards) for one worker.
pub(crate) type RouteFactory = Arc<dyn Fn() -> actix_web::Route + Send + Sync>;

/// A handler built when the server is built, from the application.
pub(crate) type DeferredHandler =
    Box<dyn FnOnce(AppRef<'_>) -> Result<RouteFactory, ConstructorError> + Send>;

pub(crate) enum HandlerSlot {
    Missing,
    Ready(RouteFactory),
    Deferred(DeferredHandler),
    Conflicting,
}

/// Where a route was declared; shown in startup errors and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteOrigin {
    /// An `#[api_route]` function.
    Macro {
        /// The function's module path.
        module_path: &'static str,
        /// The function's name.
        name: &'static str,
        /// Source file.
        file: &'static str,
        /// Source line.
        line: u32,
    },
    /// An [`ApiRoute`] added with `Mastra::builder().route(..)`.
    Explicit,
    /// A route the runtime provides (`/health`, `/api/...`).
    BuiltIn,
}

/// A custom HTTP route: the Rust form of Mastra's `registerApiRoute(path, options)`.
///
/// `#[api_route]` produces exactly this value; build it by hand for routes decided at run time.
///
/// ```
/// use mastra_runtime::prelude::*;
///
/// async fn hello() -> HttpResponse {
///     HttpResponse::Ok().json(json!({ "message": "hi" }))
/// }
///
/// let route = ApiRoute::get("/hello").handler(hello).requires_auth(false);
/// assert_eq!(route.path(), "/hello");
/// assert!(!route.is_auth_required());
/// ```
pub struct ApiRoute {
    pub(crate) method: RouteMethod,
    pub(crate) path: String,
    pub(crate) handler: HandlerSlot,
    pub(crate) requires_auth: bool,
    pub(crate) always_public: bool,
    pub(crate) middleware: Vec<MiddlewareSlot>,
    pub(crate) operation: OperationFragment,
    pub(crate) doc_summary: Option<String>,
    pub(crate) doc_description: Option<String>,
    pub(crate) handler_name: Option<String>,
    /// What the handler's types say, as steps run in order; empty when nothing is inferred.
    pub(crate) infer: Vec<fn(&mut Inference)>,
    pub(crate) origin: RouteOrigin,
    /// The route's opt-in to be an MCP tool.
    pub(crate) mcp: Option<McpExposure>,
}

impl fmt::Debug for ApiRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiRoute")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("requires_auth", &self.requires_auth)
            .field("middleware", &self.middleware.len())
            .field("origin", &self.origin)
            .field("mcp", &self.mcp)
            .finish_non_exhaustive()
    }
}

macro_rules! method_constructors {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(path: impl Into<String>) -> Self {
            Self::new(RouteMethod::$method, path)
        }
    )*};
}

impl ApiRoute {
    /// A route for `method` on `path` (`:name` or `{name}` parameters). It needs a handler.
    pub fn new(method: RouteMethod, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            handler: HandlerSlot::Missing,
            requires_auth: true,
            always_public: false,
            middleware: Vec::new(),
            operation: OperationFragment::default(),
            doc_summary: None,
            doc_description: None,
            handler_name: None,
            infer: Vec::new(),
            origin: RouteOrigin::Explicit,
            mcp: None,
        }
    }

    method_constructors! {
        /// A `GET` route (which also answers `HEAD`).
        get => Get;
        /// A `POST` route.
        post => Post;
        /// A `PUT` route.
        put => Put;
        /// A `PATCH` route.
        patch => Patch;
        /// A `DELETE` route.
        delete => Delete;
        /// A route answering every method.
        all => All;
    }

    /// Sets the handler: any async function whose arguments are actix-web extractors and whose
    /// output is a `Responder`.
    pub fn handler<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args> + Send + Sync,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let factory: RouteFactory = Arc::new(move || actix_web::web::route().to(handler.clone()));
        self.handler = match self.handler {
            HandlerSlot::Missing => HandlerSlot::Ready(factory),
            _ => HandlerSlot::Conflicting,
        };
        self
    }

    /// Sets the handler and infers the operation from its types, as `#[api_route]` does: what
    /// each argument reads (path, query, body, user) and what the output answers document the
    /// route and validate its requests. Every argument must implement
    /// [`DescribeInput`](crate::describe::DescribeInput) (this crate's extractors,
    /// [`AuthUser`](crate::auth::AuthUser), `HttpRequest`, [`Mastra`](crate::Mastra),
    /// [`Context`](crate::Context) and [`RequestContext`] do) and the output
    /// [`DescribeOutput`](crate::describe::DescribeOutput); use [`ApiRoute::handler`] for one
    /// that does not.
    ///
    /// ```
    /// use mastra_runtime::prelude::*;
    ///
    /// #[derive(Serialize, JsonSchema)]
    /// struct Item { id: u32 }
    ///
    /// async fn item(Path(id): Path<u32>) -> Result<Json<Item>, ApiError> {
    ///     Ok(Json(Item { id }))
    /// }
    ///
    /// let route = ApiRoute::get("/items/:id").inferred_handler(item);
    /// # let _ = route;
    /// ```
    pub fn inferred_handler<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args> + DescribeHandler<Args> + Send + Sync,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.infer(F::describe).handler(handler)
    }

    /// Sets a handler built when the server is built (`create_handler`).
    pub(crate) fn deferred_handler(mut self, deferred: DeferredHandler) -> Self {
        self.handler = match self.handler {
            HandlerSlot::Missing => HandlerSlot::Deferred(deferred),
            _ => HandlerSlot::Conflicting,
        };
        self
    }

    /// Whether a valid token is needed once auth is configured (default `true`).
    pub fn requires_auth(mut self, requires_auth: bool) -> Self {
        self.requires_auth = requires_auth;
        self
    }

    /// Adds a middleware function of actix-web's `from_fn` shape. The first one added is the
    /// outermost.
    pub fn middleware<F, Fut, B>(self, f: F) -> Self
    where
        F: MiddlewareFn<Fut>,
        Fut: MiddlewareFuture<B>,
        B: MessageBody + 'static,
    {
        self.with_middleware(Middleware::from_fn(f))
    }

    /// Adds a ready [`Middleware`] value.
    pub fn with_middleware(mut self, middleware: Middleware) -> Self {
        self.middleware.push(MiddlewareSlot::Ready(middleware));
        self
    }

    /// Adds a middleware constructed when the server is built (`try_middleware`).
    pub(crate) fn deferred_middleware(mut self, slot: MiddlewareSlot) -> Self {
        self.middleware.push(slot);
        self
    }

    /// Sets the hand-written OpenAPI fragment (`openapi(...)`).
    pub fn openapi(mut self, operation: OperationFragment) -> Self {
        self.operation = operation;
        self
    }

    /// Sets the summary and description taken from doc comments.
    pub fn docs(mut self, summary: Option<&str>, description: Option<&str>) -> Self {
        self.doc_summary = summary.map(str::to_owned);
        self.doc_description = description.map(str::to_owned);
        self
    }

    /// Names the handler; the default operation id.
    pub fn handler_name(mut self, name: impl Into<String>) -> Self {
        self.handler_name = Some(name.into());
        self
    }

    /// Sets the function that infers documentation from the handler's types.
    pub fn infer(mut self, infer: fn(&mut Inference)) -> Self {
        self.infer = vec![infer];
        self
    }

    /// Sets the inference as steps run in order, one per argument and one for the return type,
    /// as `#[api_route]` writes it: each step is the describing function of one type, shared by
    /// every route that names that type. An empty list infers nothing.
    pub fn infer_steps(mut self, steps: &[fn(&mut Inference)]) -> Self {
        self.infer = steps.to_vec();
        self
    }

    /// Offers the route as an MCP tool: a name (`.mcp("get_item")`) or an [`McpExposure`]
    /// with a description of its own. The name must follow MCP's tool-name rule and be unique
    /// among routes; both are checked when the server is built. Calling it again replaces the
    /// earlier exposure.
    ///
    /// ```
    /// use mastra_runtime::prelude::*;
    ///
    /// async fn get_item(Path(id): Path<String>) -> HttpResponse {
    ///     HttpResponse::Ok().json(json!({ "id": id }))
    /// }
    ///
    /// let route = ApiRoute::get("/items/:itemId").handler(get_item).mcp("get_item");
    /// assert_eq!(route.mcp_exposure().unwrap().name(), "get_item");
    /// ```
    pub fn mcp(mut self, exposure: impl Into<McpExposure>) -> Self {
        self.mcp = Some(exposure.into());
        self
    }

    /// Marks a built-in route that no auth pattern can protect (`/health`).
    pub(crate) fn always_public(mut self) -> Self {
        self.requires_auth = false;
        self.always_public = true;
        self
    }

    pub(crate) fn origin(mut self, origin: RouteOrigin) -> Self {
        self.origin = origin;
        self
    }

    /// The method.
    pub fn method(&self) -> RouteMethod {
        self.method
    }

    /// The path as written.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether the route needs a valid token once auth is configured.
    pub fn is_auth_required(&self) -> bool {
        self.requires_auth
    }

    /// The hand-written OpenAPI fragment.
    pub fn operation(&self) -> &OperationFragment {
        &self.operation
    }

    /// How the route is offered as an MCP tool, when it opted in with [`ApiRoute::mcp`] or
    /// `mcp(...)` in `#[api_route]`.
    pub fn mcp_exposure(&self) -> Option<&McpExposure> {
        self.mcp.as_ref()
    }

    /// A label for messages: `GET /items/:id (my_app::get_item at src/main.rs:12)`.
    pub(crate) fn label(&self) -> String {
        self.origin.label(self.method, &self.path)
    }
}

impl RouteOrigin {
    /// `METHOD path (where it was declared)`, for messages about a route.
    pub(crate) fn label(&self, method: RouteMethod, path: &str) -> String {
        let base = format!("{method} {path}");
        match self {
            RouteOrigin::Macro {
                module_path,
                name,
                file,
                line,
            } => format!("{base} ({module_path}::{name} at {file}:{line})"),
            RouteOrigin::Explicit => format!("{base} (ApiRoute)"),
            RouteOrigin::BuiltIn => format!("{base} (built-in)"),
        }
    }
}
