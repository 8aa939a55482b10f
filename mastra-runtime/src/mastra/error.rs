//! [`MastraError`]: building, configuring or starting the application failed.

#[cfg(feature = "mcp")]
use crate::mcp::McpError;
#[cfg(feature = "workflows")]
use crate::workflow::WorkflowBuildError;
use crate::{
    auth::AuthConfigError,
    config::ConfigError,
    error::NotFound,
    route::{RouteProblem, RouteProblems},
    schema::SchemaError,
};

/// An error building, configuring or running the server.
#[derive(Debug, thiserror::Error)]
pub enum MastraError {
    /// The route table has problems; every one is listed.
    #[error("{0}")]
    Routes(RouteProblems),
    /// The auth configuration is unusable (missing secret, bad key, no crypto backend, ...).
    #[error("invalid auth configuration: {0}")]
    Auth(#[from] AuthConfigError),
    /// A configuration value is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Two registry entries share an id.
    #[error("two {kind}s are registered with id `{id}`")]
    DuplicateId {
        /// What kind of entry.
        kind: &'static str,
        /// The shared id.
        id: String,
    },
    /// A tool's input schema cannot be compiled into a validator (for example a `pattern` that
    /// is not a regular expression), so none of its input could be checked.
    #[error("tool `{tool}` cannot be registered: {error}")]
    ToolSchema {
        /// The tool's id.
        tool: String,
        /// Why its schema does not compile.
        #[source]
        error: SchemaError,
    },
    #[cfg(feature = "mcp")]
    /// An MCP server's configuration is unusable (an id it offers is not registered, two of
    /// its tools share a name).
    #[error(transparent)]
    Mcp(#[from] McpError),
    /// A registry lookup failed.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    #[cfg(feature = "workflows")]
    /// A workflow's graph does not hold together (its steps' schemas do not fit, or one does
    /// not compile); every problem is listed.
    #[error(transparent)]
    Workflow(#[from] WorkflowBuildError),
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
