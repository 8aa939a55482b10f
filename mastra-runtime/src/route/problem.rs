//! What can be wrong with a route when the server is built: [`RouteProblem`], and
//! [`ConstructorError`], the failure of something a route builds then.

use std::fmt;

use super::{PathError, ToolNameProblem};
use crate::describe::PathParamsMismatch;

/// Why something constructed when the server is built (a `try_create_handler` handler, a
/// `try_middleware` middleware, a global middleware) is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConstructorError {
    /// The constructor returned an error; its message.
    #[error("{0}")]
    Failed(String),
    /// A scoped middleware's path pattern does not parse.
    #[error("bad path pattern `{pattern}`: {error}")]
    BadPattern {
        /// The pattern as written.
        pattern: String,
        /// Why it was refused.
        error: PathError,
    },
    /// The route table was built by something other than the `Mastra` builder, so the
    /// constructor had no application to receive.
    #[error("built outside a Mastra application")]
    NoApplication,
}

impl ConstructorError {
    /// The error of a constructor that failed with `error`.
    pub(crate) fn failed(error: impl fmt::Display) -> Self {
        Self::Failed(error.to_string())
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
    /// A handler whose `Path<..>` does not fit the route's path parameters.
    #[error("route {route}: {mismatch}")]
    PathParams {
        /// Where the route came from.
        route: String,
        /// How it does not fit.
        mismatch: PathParamsMismatch,
    },
    /// A middleware whose constructor failed.
    #[error("route {route}: middleware #{index} failed to build: {reason}")]
    Middleware {
        /// Where the route came from ("global" for server-wide middleware).
        route: String,
        /// Position in the route's list, from 1.
        index: usize,
        /// The constructor's error.
        reason: ConstructorError,
    },
    /// A route offered over MCP under a name that breaks MCP's tool-name rule.
    #[error("route {route}: MCP tool name \"{name}\" is refused: {problem}")]
    McpToolName {
        /// Where the route came from.
        route: String,
        /// The name as given.
        name: String,
        /// What is wrong with it.
        problem: ToolNameProblem,
    },
    /// Two routes offered over MCP under the same tool name.
    #[error("routes {first} and {second} are both offered as MCP tool \"{name}\"; give each route its own name")]
    DuplicateMcpToolName {
        /// The shared name.
        name: String,
        /// Where the first route came from.
        first: String,
        /// Where the second route came from.
        second: String,
    },
    /// A handler whose constructor (`try_create_handler`) failed.
    #[error("route {route}: its handler failed to build: {reason}")]
    Handler {
        /// Where the route came from.
        route: String,
        /// The constructor's error.
        reason: ConstructorError,
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
