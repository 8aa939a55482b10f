//! [`MastraBuilder`]: what an application is made of, checked and assembled into a [`Mastra`]
//! with its route table. The top of the layers: it is the one place that sees them all.

#[cfg(feature = "agents")]
use std::collections::BTreeMap;
use std::fmt;

#[cfg(feature = "mcp")]
use crate::mcp::McpServer;
#[cfg(feature = "memory")]
use crate::memory::Storage;
#[cfg(feature = "workflows")]
use crate::workflow::{IntoWorkflow, Workflow, WorkflowBuildError};
#[cfg(feature = "agents")]
use crate::{
    agent::{Agent, AgentError},
    config::ConfigError,
    model::ModelError,
    tool::Tool,
};
use crate::{
    config::{GlobalMiddleware, ServerConfig},
    mastra::{Mastra, MastraError, Registry},
    route::{ApiRoute, MountedRoute, RouteDef},
    server,
};
#[cfg(feature = "memory")]
use std::sync::Arc;

impl Mastra {
    /// Starts describing an application.
    pub fn builder() -> MastraBuilder {
        MastraBuilder::default()
    }
}

/// Which `#[api_route]` functions linked into the binary an application mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum InventorySelection {
    All,
    Modules(Vec<String>),
    None,
}
/// Builder for [`Mastra`].
pub struct MastraBuilder {
    #[cfg(feature = "agents")]
    agents: Vec<Agent>,
    #[cfg(feature = "workflows")]
    workflows: Vec<Result<Workflow, WorkflowBuildError>>,
    #[cfg(feature = "agents")]
    tools: Vec<Tool>,
    #[cfg(feature = "memory")]
    storage: Option<Arc<dyn Storage>>,
    config: ServerConfig,
    routes: Vec<ApiRoute>,
    inventory: InventorySelection,
    #[cfg(feature = "mcp")]
    mcp_servers: Vec<McpServer>,
}

impl Default for MastraBuilder {
    fn default() -> Self {
        Self {
            #[cfg(feature = "agents")]
            agents: Vec::new(),
            #[cfg(feature = "workflows")]
            workflows: Vec::new(),
            #[cfg(feature = "agents")]
            tools: Vec::new(),
            #[cfg(feature = "memory")]
            storage: None,
            config: ServerConfig::default(),
            routes: Vec::new(),
            inventory: InventorySelection::All,
            #[cfg(feature = "mcp")]
            mcp_servers: Vec::new(),
        }
    }
}

impl fmt::Debug for MastraBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("MastraBuilder");
        #[cfg(feature = "agents")]
        debug.field("agents", &self.agents.len());
        debug
            .field("routes", &self.routes.len())
            .field("inventory", &self.inventory)
            .finish_non_exhaustive()
    }
}

impl MastraBuilder {
    /// Registers an agent under its id.
    #[cfg(feature = "agents")]
    pub fn agent(mut self, agent: impl Into<Agent>) -> Self {
        self.agents.push(agent.into());
        self
    }

    #[cfg(feature = "workflows")]
    /// Registers a workflow under its id: a [`Workflow`], or the `Result` of
    /// [`WorkflowBuilder::commit`](crate::workflow::WorkflowBuilder::commit) (whose error
    /// then fails [`MastraBuilder::build`]).
    pub fn workflow(mut self, workflow: impl IntoWorkflow) -> Self {
        self.workflows.push(workflow.into_workflow());
        self
    }

    /// Registers a tool under its id.
    #[cfg(feature = "agents")]
    pub fn tool(mut self, tool: impl Into<Tool>) -> Self {
        self.tools.push(tool.into());
        self
    }

    #[cfg(feature = "memory")]
    /// Sets the store for threads, messages and workflow runs (default: [`SqliteStorage`] at
    /// `./mastra.db`, opened on first use). Agents whose [`Memory`](crate::Memory) has no store
    /// of its own use this one.
    pub fn storage(mut self, storage: impl Storage) -> Self {
        self.storage = Some(Arc::new(storage));
        self
    }

    #[cfg(feature = "memory")]
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

    #[cfg(feature = "mcp")]
    /// Registers an MCP server, served at `{prefix}/mcp/<id>/mcp` (docs/mcp.md). It offers
    /// every agent, workflow and tool unless narrowed; an id it names that is not registered,
    /// or two servers with one id, fail [`MastraBuilder::build`].
    ///
    /// ```no_run
    /// use mastra_runtime::prelude::*;
    ///
    /// # fn main() -> Result<(), MastraError> {
    /// let mastra = Mastra::builder()
    ///     .agent(Agent::builder("helper").instructions("You help.").model("openai/gpt-4o-mini"))
    ///     .mcp_server(McpServer::new("my-mcp").description("The helper agent"))
    ///     .build()?;
    /// assert!(mastra.mcp_server("my-mcp").is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn mcp_server(mut self, server: McpServer) -> Self {
        self.mcp_servers.push(server);
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
            #[cfg(feature = "agents")]
            agents,
            #[cfg(feature = "workflows")]
            workflows,
            #[cfg(feature = "agents")]
            tools,
            #[cfg(feature = "memory")]
            storage,
            config,
            mut routes,
            inventory,
            #[cfg(feature = "mcp")]
            mcp_servers,
        } = self;
        let mut registry = registry(Parts {
            #[cfg(feature = "agents")]
            agents,
            #[cfg(feature = "workflows")]
            workflows,
            #[cfg(feature = "agents")]
            tools,
            #[cfg(feature = "memory")]
            storage,
            config,
        })?;
        #[cfg(feature = "mcp")]
        for server in &mcp_servers {
            server.check(&registry.agents, &registry.workflows, &registry.tools)?;
        }
        registry.config.check_auth()?;
        registry.config.check_limits()?;
        // Read once, here: a bad `MASTRA_WORKFLOW_LEASE_MS` fails the build, not a run.
        #[cfg(feature = "workflows")]
        {
            let lease = registry.config.resolved_run_lease()?;
            registry.config = registry.config.workflow_run_lease(lease.timeout());
        }
        let global = std::mem::take(&mut registry.config.middleware);
        routes.extend(annotated_routes(&inventory));
        let mastra = Mastra::assemble(registry);
        mastra.set_routes(mount(&mastra, global, routes)?);
        #[cfg(feature = "mcp")]
        mastra.set_mcp_servers(serve_mcp(&mastra, mcp_servers)?);
        #[cfg(feature = "openapi")]
        if mastra.config().openapi_docs_enabled() {
            // Built once, here, so serving it is a copy of bytes.
            mastra.openapi_document();
        }
        Ok(mastra)
    }
}

/// Indexes what was registered by id (refusing duplicates), checks each agent's model, gives
/// agents without a store of their own the application's, registers agents' tools, and checks
/// that every tool's input schema compiles (for the capabilities compiled in).
fn registry(parts: Parts) -> Result<Registry, MastraError> {
    let Parts {
        #[cfg(feature = "agents")]
        agents,
        #[cfg(feature = "workflows")]
        workflows,
        #[cfg(feature = "agents")]
        tools,
        #[cfg(feature = "memory")]
        storage,
        config,
    } = parts;
    #[cfg(feature = "workflows")]
    let workflows = index(
        workflows.into_iter().collect::<Result<Vec<_>, _>>()?,
        "workflow",
        |w| w.id().to_owned(),
    )?;
    #[cfg(feature = "memory")]
    let storage = default_storage(storage)?;
    #[cfg(feature = "agents")]
    let agents = index(agents, "agent", |a| a.id().to_owned())?;
    #[cfg(feature = "agents")]
    let tools = agents_and_tools(&agents, tools, &storage)?;
    Ok(Registry {
        #[cfg(feature = "agents")]
        agents,
        #[cfg(feature = "workflows")]
        workflows,
        #[cfg(feature = "agents")]
        tools,
        #[cfg(feature = "memory")]
        storage,
        config,
    })
}

/// What the builder was given, before it is checked and indexed.
struct Parts {
    #[cfg(feature = "agents")]
    agents: Vec<Agent>,
    #[cfg(feature = "workflows")]
    workflows: Vec<Result<Workflow, WorkflowBuildError>>,
    #[cfg(feature = "agents")]
    tools: Vec<Tool>,
    #[cfg(feature = "memory")]
    storage: Option<Arc<dyn Storage>>,
    config: ServerConfig,
}

/// The store the builder was given, else SQLite at `./mastra.db` (opened on first use). Built
/// without SQLite (the `sqlite` feature), an application must name its store.
#[cfg(feature = "memory")]
fn default_storage(storage: Option<Arc<dyn Storage>>) -> Result<Arc<dyn Storage>, MastraError> {
    match storage {
        Some(storage) => Ok(storage),
        #[cfg(feature = "sqlite")]
        None => Ok(Arc::new(crate::memory::SqliteStorage::default())),
        #[cfg(not(feature = "sqlite"))]
        None => Err(crate::config::ConfigError::NoStorage.into()),
    }
}

/// The agents indexed by id with their models checked and the application's store given to
/// those without one, and the tools: those registered plus every agent's, each input schema
/// compiled.
#[cfg(feature = "agents")]
fn agents_and_tools(
    agents: &BTreeMap<String, Agent>,
    tools: Vec<Tool>,
    storage: &Arc<dyn Storage>,
) -> Result<BTreeMap<String, Tool>, MastraError> {
    let mut tools = index(tools, "tool", |t| t.id().to_owned())?;
    for agent in agents.values() {
        if let Err(AgentError::Model(
            error @ (ModelError::UnknownProvider { .. } | ModelError::BadModelName(_)),
        )) = agent.language_model()
        {
            return Err(ConfigError::AgentModel {
                agent: agent.id().to_owned(),
                error,
            }
            .into());
        }
        agent.attach_storage(storage);
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
    // Every tool is indexed now, agents' included: refuse one whose input schema does not
    // compile here, naming it, rather than have it refuse every call at run time.
    if let Some((tool, error)) = tools
        .iter()
        .find_map(|(id, tool)| tool.schema_error().map(|error| (id, error)))
    {
        return Err(MastraError::ToolSchema {
            tool: tool.clone(),
            error: error.clone(),
        });
    }
    Ok(tools)
}

#[cfg(feature = "mcp")]
/// The MCP servers as served: their tools drawn from the assembled application (its
/// workflows bound to it, its routes mounted). Two servers with one id are refused.
fn serve_mcp(
    mastra: &Mastra,
    servers: Vec<McpServer>,
) -> Result<BTreeMap<String, crate::mcp::ServedMcp>, MastraError> {
    let servers = index(servers, "MCP server", |s| s.id().to_owned())?;
    servers
        .into_iter()
        .map(|(id, server)| {
            let served = server.serve(
                mastra.agents(),
                mastra.workflows(),
                mastra.tools(),
                mastra.routes(),
            )?;
            Ok((id, served))
        })
        .collect()
}

/// The `#[api_route]` functions linked into the binary that `selection` mounts, in a
/// reproducible order (link order is arbitrary).
fn annotated_routes(selection: &InventorySelection) -> Vec<ApiRoute> {
    let mut defs: Vec<&RouteDef> = RouteDef::all()
        .filter(|def| match selection {
            InventorySelection::All => true,
            InventorySelection::Modules(modules) => modules.iter().any(|m| def.is_in_module(m)),
            InventorySelection::None => false,
        })
        .collect();
    defs.sort_by_key(|def| (def.module_path(), def.name()));
    defs.into_iter().map(RouteDef::route).collect()
}

/// The route table: the built-in routes, the docs routes and `custom`, checked together.
fn mount(
    mastra: &Mastra,
    global: Vec<GlobalMiddleware>,
    custom: Vec<ApiRoute>,
) -> Result<Vec<MountedRoute>, MastraError> {
    let prefix = mastra.config().api_prefix.clone();
    let mut builtins = server::builtin::routes(&prefix);
    builtins.extend(server::builtin::docs_routes(mastra.config()));
    server::table::build(mastra, &prefix, global, builtins, custom).map_err(MastraError::Routes)
}

#[cfg(feature = "agents")]
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
