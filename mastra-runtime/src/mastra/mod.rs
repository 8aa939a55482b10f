//! [`Mastra`]: the application handle (its registry of agents, workflows and tools, its
//! storage, configuration and mounted routes), with [`Context`], the handler argument that
//! reaches it, and [`MastraError`].
//!
//! The handle sits below the server assembly, whose built-in routes serve what it holds; the
//! builder ([`MastraBuilder`](crate::MastraBuilder)) and running the server
//! ([`Mastra::serve`], [`Mastra::start`]) are written in the layers above. The layers below
//! carry it opaque (see `app`); its typed accessors on their types are in `handles`.

mod context;
mod error;
mod handles;
#[cfg(feature = "workflows")]
mod takeover;

pub use context::Context;
pub use error::MastraError;

#[cfg(feature = "agents")]
use std::collections::BTreeMap;
use std::{
    fmt,
    future::{ready, Ready},
    sync::{Arc, OnceLock, Weak},
};

use actix_web::{dev::Payload, FromRequest, HttpRequest};

#[cfg(feature = "mcp")]
use crate::mcp::ServedMcp;
#[cfg(feature = "memory")]
use crate::memory::Storage;
#[cfg(feature = "openapi")]
use crate::openapi::OpenApiDocument;
#[cfg(feature = "agents")]
use crate::{agent::Agent, error::NotFound, tool::Tool};
#[cfg(feature = "workflows")]
use crate::{
    app::AppHandle,
    workflow::{RunLease, Workflow, WorkflowHost},
};
use crate::{
    background::BackgroundTasks,
    config::ServerConfig,
    describe::{DescribeInput, Inference},
    error::ApiError,
    route::MountedRoute,
};

/// What an application is made of, checked and indexed by id (the builder's output).
pub(crate) struct Registry {
    #[cfg(feature = "agents")]
    pub(crate) agents: BTreeMap<String, Agent>,
    /// Not yet bound to the application: [`Mastra::assemble`] binds them.
    #[cfg(feature = "workflows")]
    pub(crate) workflows: BTreeMap<String, Workflow>,
    #[cfg(feature = "agents")]
    pub(crate) tools: BTreeMap<String, Tool>,
    #[cfg(feature = "memory")]
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) config: ServerConfig,
}

struct Inner {
    #[cfg(feature = "agents")]
    agents: BTreeMap<String, Agent>,
    #[cfg(feature = "workflows")]
    workflows: BTreeMap<String, Workflow>,
    #[cfg(feature = "agents")]
    tools: BTreeMap<String, Tool>,
    #[cfg(feature = "memory")]
    storage: Arc<dyn Storage>,
    config: ServerConfig,
    routes: OnceLock<Arc<[MountedRoute]>>,
    background: BackgroundTasks,
    #[cfg(feature = "openapi")]
    openapi: OnceLock<OpenApiDocument>,
    #[cfg(feature = "mcp")]
    mcp: OnceLock<BTreeMap<String, ServedMcp>>,
}
/// The application: its agents, workflows, tools, server configuration and routes.
///
/// Cheap to clone; every clone is the same application. Handlers reach it through
/// [`Context::mastra`](crate::Context::mastra) or `req.app_data::<Mastra>()`.
///
/// ```no_run
/// use mastra_runtime::prelude::*;
///
/// #[tokio::main]
/// async fn main() -> Result<(), MastraError> {
///     Mastra::builder()
///         .agent(Agent::builder("my-agent").instructions("You help.").model("openai/gpt-4o-mini"))
///         .build()?
///         .serve()
///         .await
/// }
/// ```
#[derive(Clone)]
pub struct Mastra {
    inner: Arc<Inner>,
}

impl fmt::Debug for Mastra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Mastra");
        #[cfg(feature = "agents")]
        debug
            .field("agents", &self.inner.agents.keys().collect::<Vec<_>>())
            .field("tools", &self.inner.tools.keys().collect::<Vec<_>>());
        #[cfg(feature = "workflows")]
        debug.field(
            "workflows",
            &self.inner.workflows.keys().collect::<Vec<_>>(),
        );
        debug.field("routes", &self.routes().len()).finish()
    }
}
impl Mastra {
    /// The application made of `registry`, its workflows bound to it. Its routes are mounted
    /// next, with [`Mastra::set_routes`].
    pub(crate) fn assemble(registry: Registry) -> Mastra {
        let Registry {
            #[cfg(feature = "agents")]
            agents,
            #[cfg(feature = "workflows")]
            workflows,
            #[cfg(feature = "agents")]
            tools,
            #[cfg(feature = "memory")]
            storage,
            config,
        } = registry;
        Mastra {
            // Registered workflows hold a weak handle on the application that holds them.
            inner: Arc::new_cyclic(|weak: &Weak<Inner>| {
                #[cfg(feature = "workflows")]
                let host: Weak<dyn WorkflowHost> = weak.clone();
                #[cfg(not(feature = "workflows"))]
                let _ = weak;
                Inner {
                    #[cfg(feature = "agents")]
                    agents,
                    #[cfg(feature = "workflows")]
                    workflows: workflows
                        .into_iter()
                        .map(|(id, w)| (id, w.bound_to(host.clone())))
                        .collect(),
                    #[cfg(feature = "agents")]
                    tools,
                    #[cfg(feature = "memory")]
                    storage,
                    config,
                    routes: OnceLock::new(),
                    background: BackgroundTasks::default(),
                    #[cfg(feature = "openapi")]
                    openapi: OnceLock::new(),
                    #[cfg(feature = "mcp")]
                    mcp: OnceLock::new(),
                }
            }),
        }
    }

    /// Sets the mounted routes. Only the builder calls it, once, before the handle is shared;
    /// a second call changes nothing.
    pub(crate) fn set_routes(&self, routes: Vec<MountedRoute>) {
        let _ = self.inner.routes.set(Arc::from(routes));
    }

    #[cfg(feature = "mcp")]
    /// Sets the MCP servers. Only the builder calls it, once, before the routes are mounted;
    /// a second call changes nothing.
    pub(crate) fn set_mcp_servers(&self, servers: BTreeMap<String, ServedMcp>) {
        let _ = self.inner.mcp.set(servers);
    }

    #[cfg(feature = "mcp")]
    /// Every MCP server, by id ([`MastraBuilder::mcp_server`](crate::MastraBuilder::mcp_server)).
    pub fn mcp_servers(&self) -> &BTreeMap<String, ServedMcp> {
        static NONE: BTreeMap<String, ServedMcp> = BTreeMap::new();
        self.inner.mcp.get().unwrap_or(&NONE)
    }

    #[cfg(feature = "mcp")]
    /// The MCP server registered under `id`.
    pub fn mcp_server(&self, id: &str) -> Result<ServedMcp, NotFound> {
        lookup(self.mcp_servers(), "MCP server", id)
    }

    #[cfg(feature = "agents")]
    /// The agent registered under `id`.
    pub fn agent(&self, id: &str) -> Result<Agent, NotFound> {
        lookup(&self.inner.agents, "Agent", id)
    }

    #[cfg(feature = "agents")]
    /// Every agent, by id.
    pub fn agents(&self) -> &BTreeMap<String, Agent> {
        &self.inner.agents
    }

    #[cfg(feature = "workflows")]
    /// The workflow registered under `id`. Its runs see this application (agents, tools) and
    /// are saved in its storage.
    pub fn workflow(&self, id: &str) -> Result<Workflow, NotFound> {
        lookup(&self.inner.workflows, "Workflow", id)
    }

    #[cfg(feature = "workflows")]
    /// Every workflow, by id.
    pub fn workflows(&self) -> &BTreeMap<String, Workflow> {
        &self.inner.workflows
    }

    #[cfg(feature = "agents")]
    /// The tool registered under `id`.
    pub fn tool(&self, id: &str) -> Result<Tool, NotFound> {
        lookup(&self.inner.tools, "Tool", id)
    }

    #[cfg(feature = "agents")]
    /// Every tool, by id.
    pub fn tools(&self) -> &BTreeMap<String, Tool> {
        &self.inner.tools
    }

    #[cfg(feature = "memory")]
    /// The application's store of threads, messages and workflow runs (SQLite at
    /// `./mastra.db` unless [`MastraBuilder::storage`](crate::MastraBuilder::storage) set another). It opens on first use.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.inner.storage
    }

    /// Whether an authentication provider is configured ([`ServerConfig::auth`]). Without one
    /// every route is public, whatever its `requires_auth` says (as in Mastra); with one,
    /// [`MountedRoute::is_protected`] tells which routes need a token.
    pub fn is_auth_configured(&self) -> bool {
        self.inner.config.auth.is_some()
    }

    /// The server configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// Every mounted route, built-in and custom.
    pub fn routes(&self) -> &[MountedRoute] {
        self.inner.routes.get().map(|r| &r[..]).unwrap_or(&[])
    }

    /// The application's tracked background work: what handlers spawn to outlive their request
    /// (an agent run that must finish and be saved after the client left, a workflow run).
    /// Graceful shutdown waits for it, up to the drain timeout, and logs what did not finish.
    pub fn background(&self) -> &BackgroundTasks {
        &self.inner.background
    }

    /// Spawns `future` as tracked background work named `label`
    /// (see [`BackgroundTasks::spawn`]).
    ///
    /// ```no_run
    /// use mastra_runtime::prelude::*;
    ///
    /// async fn start_report(c: Context) -> HttpResponse {
    ///     c.mastra().spawn_background("nightly report", async {
    ///         // ... work that must not die with the request ...
    ///     });
    ///     HttpResponse::Accepted().finish()
    /// }
    /// # let _ = ApiRoute::post("/reports").handler(start_report);
    /// ```
    pub fn spawn_background<F>(
        &self,
        label: impl Into<String>,
        future: F,
    ) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.background.spawn(label, future)
    }

    #[cfg(feature = "openapi")]
    /// The OpenAPI document of every mounted route that is not hidden. Built when the server is
    /// built if the docs are on (see [`ServerConfig::openapi_docs`]), else on the first call.
    pub fn openapi_document(&self) -> &OpenApiDocument {
        self.inner.openapi.get_or_init(|| {
            let settings = self.config().document_settings(self.is_auth_configured());
            OpenApiDocument::build(self.routes(), &settings)
        })
    }

    pub(crate) fn routes_arc(&self) -> Arc<[MountedRoute]> {
        self.inner
            .routes
            .get()
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new()))
    }
}

#[cfg(feature = "workflows")]
impl WorkflowHost for Inner {
    fn storage(&self) -> Arc<dyn Storage> {
        Arc::clone(&self.storage)
    }

    fn background(&self) -> &BackgroundTasks {
        &self.background
    }

    fn agent(&self, id: &str) -> Result<Agent, NotFound> {
        lookup(&self.agents, "Agent", id)
    }

    fn tool(&self, id: &str) -> Result<Tool, NotFound> {
        lookup(&self.tools, "Tool", id)
    }

    fn run_lease(&self) -> RunLease {
        self.config.run_lease.unwrap_or_default()
    }

    fn handle(self: Arc<Self>) -> AppHandle {
        AppHandle::new(Mastra { inner: self })
    }
}

/// The application serving the request, as a handler argument (`mastra: Mastra`). Outside a
/// Mastra server it answers 500, and logs why.
impl FromRequest for Mastra {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Mastra::serving(req).cloned())
    }
}

impl Mastra {
    /// The application serving `req`, borrowed (the extractor clones it; a handler on a hot
    /// path can borrow instead).
    pub(crate) fn serving(req: &HttpRequest) -> Result<&Mastra, ApiError> {
        req.app_data::<Mastra>().ok_or_else(|| {
            tracing::error!("the Mastra application was asked for on a route not served by Mastra");
            ApiError::internal("Internal Server Error")
        })
    }
}

/// Says nothing about the operation: the application is not part of the request.
impl DescribeInput for Mastra {
    fn describe_input(_: &mut Inference) {}
}

#[cfg(feature = "agents")]
fn lookup<T: Clone>(
    map: &BTreeMap<String, T>,
    kind: &'static str,
    id: &str,
) -> Result<T, NotFound> {
    map.get(id).cloned().ok_or_else(|| NotFound {
        kind,
        id: id.to_owned(),
    })
}
