//! [`Mastra`]: the application handle, and its builder.

use std::{
    collections::BTreeMap,
    fmt,
    sync::{Arc, OnceLock, Weak},
};

use crate::{
    agent::Agent,
    background::BackgroundTasks,
    error::{MastraError, NotFound},
    memory::{SqliteStorage, Storage},
    model::ModelError,
    openapi::OpenApiDocument,
    route::{table::MountedRoute, ApiRoute, RouteDef},
    server::{self, RunningServer, ServerConfig},
    tool::Tool,
    workflow::{IntoWorkflow, Workflow, WorkflowBuildError},
};

/// Which `#[api_route]` functions linked into the binary an application mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum InventorySelection {
    All,
    Modules(Vec<String>),
    None,
}

struct Inner {
    agents: BTreeMap<String, Agent>,
    workflows: BTreeMap<String, Workflow>,
    tools: BTreeMap<String, Tool>,
    storage: Arc<dyn Storage>,
    config: ServerConfig,
    routes: OnceLock<Arc<[MountedRoute]>>,
    background: BackgroundTasks,
    openapi: OnceLock<OpenApiDocument>,
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
        f.debug_struct("Mastra")
            .field("agents", &self.inner.agents.keys().collect::<Vec<_>>())
            .field(
                "workflows",
                &self.inner.workflows.keys().collect::<Vec<_>>(),
            )
            .field("tools", &self.inner.tools.keys().collect::<Vec<_>>())
            .field("routes", &self.routes().len())
            .finish()
    }
}

/// A handle on the application that does not keep it alive: what registered workflows hold,
/// so the application (which holds them) is not a reference cycle.
#[derive(Clone)]
pub(crate) struct WeakMastra(Weak<Inner>);

impl WeakMastra {
    /// The application, while it exists.
    pub(crate) fn upgrade(&self) -> Option<Mastra> {
        self.0.upgrade().map(|inner| Mastra { inner })
    }
}

impl fmt::Debug for WeakMastra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WeakMastra")
    }
}

impl Mastra {
    /// Starts describing an application.
    pub fn builder() -> MastraBuilder {
        MastraBuilder::default()
    }

    /// The agent registered under `id`.
    pub fn agent(&self, id: &str) -> Result<Agent, NotFound> {
        lookup(&self.inner.agents, "Agent", id)
    }

    /// Every agent, by id.
    pub fn agents(&self) -> &BTreeMap<String, Agent> {
        &self.inner.agents
    }

    /// The workflow registered under `id`. Its runs see this application (agents, tools) and
    /// are saved in its storage.
    pub fn workflow(&self, id: &str) -> Result<Workflow, NotFound> {
        lookup(&self.inner.workflows, "Workflow", id)
    }

    /// Every workflow, by id.
    pub fn workflows(&self) -> &BTreeMap<String, Workflow> {
        &self.inner.workflows
    }

    /// The tool registered under `id`.
    pub fn tool(&self, id: &str) -> Result<Tool, NotFound> {
        lookup(&self.inner.tools, "Tool", id)
    }

    /// Every tool, by id.
    pub fn tools(&self) -> &BTreeMap<String, Tool> {
        &self.inner.tools
    }

    /// The application's store of threads, messages and workflow runs (SQLite at
    /// `./mastra.db` unless [`MastraBuilder::storage`] set another). It opens on first use.
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

    /// Serves on the configured host and port until SIGINT or SIGTERM, then drains in-flight
    /// requests and tracked background work ([`Mastra::background`]) for up to the drain
    /// timeout, logging what did not finish. A second signal stops at once.
    ///
    /// Installs a `tracing` subscriber first unless one is set or
    /// [`ServerConfig::install_logger`] turned that off.
    pub async fn serve(self) -> Result<(), MastraError> {
        if self.config().install_logger {
            crate::logging::install_default_subscriber();
        }
        self.log_agents();
        if self.agents().values().any(|a| a.memory().is_some()) || !self.workflows().is_empty() {
            // Create or migrate the schema now, so a bad database fails the start, not a request.
            self.storage()
                .init()
                .await
                .map_err(|e| MastraError::Config(e.to_string()))?;
            tracing::info!(storage = %self.storage().describe(), "storage ready");
        }
        self.start()?.wait().await
    }

    /// Says plainly which model each agent uses.
    fn log_agents(&self) {
        for agent in self.agents().values() {
            match agent.language_model() {
                Ok(model) if model.provider() == "mastra" => tracing::info!(
                    agent = agent.id(),
                    model = agent.model(),
                    "agent uses the built-in offline model (deterministic echo, no network)"
                ),
                Ok(_) => tracing::info!(agent = agent.id(), model = agent.model(), "agent model"),
                Err(error) => tracing::warn!(agent = agent.id(), %error, "agent cannot run"),
            }
        }
    }

    /// Binds the configured host and port and starts serving in the background.
    pub fn start(&self) -> Result<RunningServer, MastraError> {
        let host = self.config().resolved_host();
        let port = self.config().resolved_port()?;
        let listener = std::net::TcpListener::bind((host.as_str(), port)).map_err(|source| {
            MastraError::Bind {
                addr: format!("{host}:{port}"),
                source,
            }
        })?;
        self.start_on(listener)
    }

    /// Starts serving on an already bound listener (tests bind `127.0.0.1:0`).
    pub fn start_on(&self, listener: std::net::TcpListener) -> Result<RunningServer, MastraError> {
        server::start_on(self, listener)
    }
}

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

/// Builder for [`Mastra`].
pub struct MastraBuilder {
    agents: Vec<Agent>,
    workflows: Vec<Result<Workflow, WorkflowBuildError>>,
    tools: Vec<Tool>,
    storage: Option<Arc<dyn Storage>>,
    config: ServerConfig,
    routes: Vec<ApiRoute>,
    inventory: InventorySelection,
}

impl Default for MastraBuilder {
    fn default() -> Self {
        Self {
            agents: Vec::new(),
            workflows: Vec::new(),
            tools: Vec::new(),
            storage: None,
            config: ServerConfig::default(),
            routes: Vec::new(),
            inventory: InventorySelection::All,
        }
    }
}

impl fmt::Debug for MastraBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MastraBuilder")
            .field("agents", &self.agents.len())
            .field("routes", &self.routes.len())
            .field("inventory", &self.inventory)
            .finish_non_exhaustive()
    }
}

impl MastraBuilder {
    /// Registers an agent under its id.
    pub fn agent(mut self, agent: impl Into<Agent>) -> Self {
        self.agents.push(agent.into());
        self
    }

    /// Registers a workflow under its id: a [`Workflow`], or the `Result` of
    /// [`WorkflowBuilder::commit`](crate::workflow::WorkflowBuilder::commit) (whose error
    /// then fails [`MastraBuilder::build`]).
    pub fn workflow(mut self, workflow: impl IntoWorkflow) -> Self {
        self.workflows.push(workflow.into_workflow());
        self
    }

    /// Registers a tool under its id.
    pub fn tool(mut self, tool: impl Into<Tool>) -> Self {
        self.tools.push(tool.into());
        self
    }

    /// Sets the store for threads, messages and workflow runs (default: [`SqliteStorage`] at
    /// `./mastra.db`, opened on first use). Agents whose [`Memory`](crate::Memory) has no store
    /// of its own use this one.
    pub fn storage(mut self, storage: impl Storage) -> Self {
        self.storage = Some(Arc::new(storage));
        self
    }

    /// Sets a shared store (see [`MastraBuilder::storage`]).
    pub fn shared_storage(mut self, storage: Arc<dyn Storage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Sets the server configuration.
    pub fn server(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Adds a route built in code.
    pub fn route(mut self, route: ApiRoute) -> Self {
        self.routes.push(route);
        self
    }

    /// Mounts only the `#[api_route]` functions in `module` or below it (as `module_path!()`
    /// spells it, for example `my_app::api`). Call it several times for several modules.
    pub fn routes_from_module(mut self, module: impl Into<String>) -> Self {
        let module = module.into();
        match &mut self.inventory {
            InventorySelection::Modules(modules) => modules.push(module),
            other => *other = InventorySelection::Modules(vec![module]),
        }
        self
    }

    /// Mounts no `#[api_route]` functions; only routes added with [`MastraBuilder::route`].
    pub fn without_annotated_routes(mut self) -> Self {
        self.inventory = InventorySelection::None;
        self
    }

    /// Checks everything and builds the application. Every route problem is reported at once.
    pub fn build(self) -> Result<Mastra, MastraError> {
        let MastraBuilder {
            agents,
            workflows,
            tools,
            storage,
            mut config,
            mut routes,
            inventory,
        } = self;
        let agents = index(agents, "agent", |a| a.id().to_owned())?;
        let workflows = workflows.into_iter().collect::<Result<Vec<_>, _>>()?;
        let workflows = index(workflows, "workflow", |w| w.id().to_owned())?;
        let mut tools = index(tools, "tool", |t| t.id().to_owned())?;
        let storage: Arc<dyn Storage> =
            storage.unwrap_or_else(|| Arc::new(SqliteStorage::default()));
        for agent in agents.values() {
            if let Err(crate::agent::AgentError::Model(
                error @ (ModelError::UnknownProvider { .. } | ModelError::BadModelName(_)),
            )) = agent.language_model()
            {
                return Err(MastraError::Config(format!(
                    "agent {}: {error}",
                    agent.id()
                )));
            }
            agent.attach_storage(&storage);
            // Agents' tools are listed and executable under /api/tools too, as in Mastra.
            for tool in agent.tools().values() {
                match tools.get(tool.id()) {
                    Some(known) if !known.same_as(tool) => {
                        return Err(MastraError::DuplicateId {
                            kind: "tool",
                            id: tool.id().to_owned(),
                        })
                    }
                    Some(_) => {}
                    None => {
                        tools.insert(tool.id().to_owned(), tool.clone());
                    }
                }
            }
        }

        let mut defs: Vec<&RouteDef> = RouteDef::all()
            .filter(|def| match &inventory {
                InventorySelection::All => true,
                InventorySelection::Modules(modules) => modules.iter().any(|m| def.is_in_module(m)),
                InventorySelection::None => false,
            })
            .collect();
        // Link order is arbitrary; sort so route order and reports are reproducible.
        defs.sort_by_key(|def| (def.module_path(), def.name()));
        routes.extend(defs.into_iter().map(RouteDef::route));

        if let Some(auth) = config.auth.as_mut() {
            auth.check(&config.cors)?;
        }
        let global = std::mem::take(&mut config.middleware);
        let prefix = config.api_prefix.clone();
        let mastra = Mastra {
            // Registered workflows hold a weak handle on the application that holds them.
            inner: Arc::new_cyclic(|weak| Inner {
                agents,
                workflows: workflows
                    .into_iter()
                    .map(|(id, w)| (id, w.bound_to(WeakMastra(weak.clone()))))
                    .collect(),
                tools,
                storage,
                config,
                routes: OnceLock::new(),
                background: BackgroundTasks::default(),
                openapi: OnceLock::new(),
            }),
        };
        let mut builtins = server::builtin::routes(&prefix);
        builtins.extend(server::builtin::docs_routes(mastra.config()));
        let mounted = crate::route::table::build(&mastra, &prefix, global, builtins, routes)
            .map_err(MastraError::Routes)?;
        // Only `build` sets the routes, once, before the handle is shared.
        let _ = mastra.inner.routes.set(Arc::from(mounted));
        if mastra.config().openapi_docs_enabled() {
            // Built once, here, so serving it is a copy of bytes.
            mastra.openapi_document();
        }
        Ok(mastra)
    }
}

fn index<T>(
    items: Vec<T>,
    kind: &'static str,
    id: impl Fn(&T) -> String,
) -> Result<BTreeMap<String, T>, MastraError> {
    let mut map = BTreeMap::new();
    for item in items {
        let key = id(&item);
        if map.contains_key(&key) {
            return Err(MastraError::DuplicateId { kind, id: key });
        }
        map.insert(key, item);
    }
    Ok(map)
}
