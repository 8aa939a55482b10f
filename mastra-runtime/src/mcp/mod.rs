//! MCP servers: the application's agents, workflows and tools offered as tools of the Model
//! Context Protocol.
//!
//! An [`McpServer`] is registered on the application with an id
//! ([`MastraBuilder::mcp_server`](crate::MastraBuilder::mcp_server)) and served over Streamable
//! HTTP at `{prefix}/mcp/:serverId/mcp` (docs/mcp.md). By default it offers everything the
//! application registers:
//!
//! - each agent as `ask_<agentId>`, taking `{"message": string}` and answering with the whole
//!   generate output as JSON text (as Mastra's MCP server does);
//! - each workflow as `run_<workflowId>`, taking the workflow's input and answering with the
//!   finished run as JSON text (`isError` when the run failed);
//! - each tool under its own id, taking its input and answering with its output as JSON text;
//! - each custom route declared with `mcp(name = "...")` under that name, taking its path
//!   parameters, query and JSON body merged into one object and answering with the response
//!   body (the call is replayed over loopback with the caller's credentials, so it passes the
//!   route's auth, middleware and validation: see `route_tool.rs`).
//!
//! [`McpServer::agents`], [`McpServer::workflows`], [`McpServer::tools`] and
//! [`McpServer::routes`] narrow each kind to
//! the ids given (an empty list offers none of that kind); an id the application does not
//! register is refused when the application is built ([`McpError::UnknownItem`]).
//!
//! ```
//! use mastra_runtime::prelude::*;
//!
//! let server = McpServer::new("my-mcp")
//!     .name("My tools")
//!     .version("1.2.0")
//!     .description("Weather and items")
//!     .workflows(["weather-workflow"]) // only this workflow; agents and tools: all
//!     .allowed_origin("https://app.example.com");
//! # let _ = server;
//! ```
//!
//! The protocol side (revisions, sessions, JSON-RPC) is in `protocol.rs` and `sessions.rs`;
//! what a tool is and how it is called, in `catalog.rs`. The HTTP endpoint is a built-in route
//! of the server assembly (`server/builtin/mcp.rs`).

mod catalog;
pub(crate) mod protocol;
mod route_tool;
mod sessions;

pub(crate) use catalog::{CallContext, Catalog};
pub use catalog::{McpTool, McpToolKind};
pub(crate) use route_tool::Loopback;
pub use route_tool::MAX_ROUTE_RESULT_BYTES;
pub(crate) use sessions::Sessions;

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    sync::Arc,
};

use crate::{agent::Agent, route::MountedRoute, tool::Tool, workflow::Workflow};

/// The version an [`McpServer`] reports when none is set.
pub const DEFAULT_SERVER_VERSION: &str = "1.0.0";

/// A problem with an MCP server's configuration, found when the application is built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum McpError {
    /// The server offers an agent, workflow or tool the application does not register.
    #[error("MCP server `{server}` offers {kind} `{id}`, which is not registered")]
    UnknownItem {
        /// The server's id.
        server: String,
        /// `agent`, `workflow` or `tool`.
        kind: &'static str,
        /// The id it names.
        id: String,
    },
    /// The server's id cannot be a path segment (empty, or holding `/`, `?`, `#`, `%` or a
    /// space).
    #[error("MCP server id `{0}` must be non-empty and hold no `/`, `?`, `#`, `%` or whitespace")]
    BadId(String),
    /// Two of the server's tools have the same name (`ask_x` from an agent and a tool `ask_x`).
    #[error("MCP server `{server}` would offer two tools named `{name}`")]
    DuplicateTool {
        /// The server's id.
        server: String,
        /// The shared name.
        name: String,
    },
}

/// Which registered items of one kind a server offers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selection {
    All,
    Only(BTreeSet<String>),
}

impl Selection {
    fn picks(&self, id: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Only(ids) => ids.contains(id),
        }
    }

    /// The chosen ids `registered` does not hold.
    fn unknown<'a, T>(&'a self, registered: &'a BTreeMap<String, T>) -> Option<&'a String> {
        match self {
            Selection::All => None,
            Selection::Only(ids) => ids.iter().find(|id| !registered.contains_key(*id)),
        }
    }
}

fn only<I, S>(ids: I) -> Selection
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Selection::Only(ids.into_iter().map(Into::into).collect())
}

/// An MCP server to register on the application: its id (the `:serverId` of its URL), what it
/// tells clients about itself, and which agents, workflows and tools it offers (all, unless
/// narrowed). See the [module docs](self).
#[derive(Clone)]
pub struct McpServer {
    id: String,
    name: Option<String>,
    version: String,
    description: Option<String>,
    agents: Selection,
    workflows: Selection,
    tools: Selection,
    routes: Selection,
    allowed_origins: Vec<String>,
    sessions: Arc<Sessions>,
}

impl fmt::Debug for McpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpServer")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("version", &self.version)
            .field("agents", &self.agents)
            .field("workflows", &self.workflows)
            .field("tools", &self.tools)
            .field("routes", &self.routes)
            .field("allowed_origins", &self.allowed_origins)
            .finish_non_exhaustive()
    }
}

impl McpServer {
    /// A server with id `id` offering every agent, workflow and tool of the application.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: None,
            version: DEFAULT_SERVER_VERSION.to_owned(),
            description: None,
            agents: Selection::All,
            workflows: Selection::All,
            tools: Selection::All,
            routes: Selection::All,
            allowed_origins: Vec::new(),
            sessions: Arc::new(Sessions::default()),
        }
    }

    /// The name clients see (`serverInfo.name`); the id when not set.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The version clients see (`serverInfo.version`; [`DEFAULT_SERVER_VERSION`] when not set).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// A description, shown in the server listing and sent as the server's instructions.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Offers only these agents (an empty list: none).
    pub fn agents<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.agents = only(ids);
        self
    }

    /// Offers only these workflows (an empty list: none).
    pub fn workflows<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.workflows = only(ids);
        self
    }

    /// Offers only these tools (an empty list: none).
    pub fn tools<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tools = only(ids);
        self
    }

    /// Offers only the custom routes opted in under these MCP tool names (an empty list: none).
    /// By default every route declared with `mcp(name = "...")` (or
    /// [`ApiRoute::mcp`](crate::ApiRoute::mcp)) is offered.
    pub fn routes<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.routes = only(names);
        self
    }

    /// Accepts requests whose `Origin` is exactly `origin` (`https://app.example.com`), besides
    /// loopback origins and the request's own host, which are always accepted. Any other
    /// `Origin` is refused with 403 (DNS-rebinding protection, as the MCP transport asks).
    pub fn allowed_origin(mut self, origin: impl Into<String>) -> Self {
        self.allowed_origins.push(origin.into());
        self
    }

    /// The server's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The name clients see: the one set, else the id.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    /// The version clients see.
    pub fn server_version(&self) -> &str {
        &self.version
    }

    /// The description, if one is set.
    pub fn server_description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The extra origins accepted ([`McpServer::allowed_origin`]).
    pub fn allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// Checks the id and that every chosen id is registered.
    pub(crate) fn check(
        &self,
        agents: &BTreeMap<String, Agent>,
        workflows: &BTreeMap<String, Workflow>,
        tools: &BTreeMap<String, Tool>,
    ) -> Result<(), McpError> {
        let bad = |c: char| matches!(c, '/' | '?' | '#' | '%') || c.is_whitespace();
        if self.id.is_empty() || self.id.chars().any(bad) {
            return Err(McpError::BadId(self.id.clone()));
        }
        let unknown = [
            ("agent", self.agents.unknown(agents)),
            ("workflow", self.workflows.unknown(workflows)),
            ("tool", self.tools.unknown(tools)),
        ];
        if let Some((kind, Some(id))) = unknown.into_iter().find(|(_, id)| id.is_some()) {
            return Err(McpError::UnknownItem {
                server: self.id.clone(),
                kind,
                id: id.clone(),
            });
        }
        Ok(())
    }

    /// The server as served: its tools drawn from the application's registries (workflows
    /// already bound to the application) and its mounted routes that opted in.
    /// [`McpServer::check`] passed first.
    pub(crate) fn serve(
        &self,
        agents: &BTreeMap<String, Agent>,
        workflows: &BTreeMap<String, Workflow>,
        tools: &BTreeMap<String, Tool>,
        routes: &[MountedRoute],
    ) -> Result<ServedMcp, McpError> {
        let offered = |r: &&MountedRoute| {
            r.mcp_exposure()
                .is_some_and(|e| self.routes.picks(e.name()))
        };
        if let Selection::Only(names) = &self.routes {
            let exposed: BTreeSet<&str> = routes
                .iter()
                .filter_map(|r| r.mcp_exposure().map(|e| e.name()))
                .collect();
            if let Some(missing) = names.iter().find(|n| !exposed.contains(n.as_str())) {
                return Err(McpError::UnknownItem {
                    server: self.id.clone(),
                    kind: "route tool",
                    id: missing.clone(),
                });
            }
        }
        let catalog = Catalog::new(
            &self.id,
            agents.values().filter(|a| self.agents.picks(a.id())),
            workflows.values().filter(|w| self.workflows.picks(w.id())),
            tools.values().filter(|t| self.tools.picks(t.id())),
            routes.iter().filter(offered),
        )?;
        Ok(ServedMcp {
            server: self.clone(),
            catalog: Arc::new(catalog),
            released: chrono::Utc::now().to_rfc3339(),
        })
    }
}

/// An MCP server as the application serves it: its configuration, its tools and its sessions.
#[derive(Clone)]
pub struct ServedMcp {
    server: McpServer,
    catalog: Arc<Catalog>,
    released: String,
}

impl fmt::Debug for ServedMcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServedMcp")
            .field("id", &self.server.id)
            .field("tools", &self.catalog.len())
            .finish()
    }
}

impl ServedMcp {
    /// Its configuration.
    pub fn server(&self) -> &McpServer {
        &self.server
    }

    /// When the application started serving it (RFC 3339), the listing's `release_date`.
    pub fn released(&self) -> &str {
        &self.released
    }

    /// Its tools, by name.
    pub fn tools(&self) -> impl Iterator<Item = &McpTool> {
        self.catalog.tools()
    }

    /// Its tools and how to call them.
    pub(crate) fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Its sessions (revisions `2025-06-18` and `2025-11-25`).
    pub(crate) fn sessions(&self) -> &Sessions {
        &self.server.sessions
    }
}
