//! What an application usually needs: `use mastra_runtime::prelude::*;`.

#[cfg(feature = "jwt")]
pub use crate::auth::JwtAuth;
#[cfg(feature = "mcp")]
pub use crate::McpServer;
#[cfg(feature = "memory")]
pub use crate::Memory;
#[cfg(feature = "sqlite")]
pub use crate::SqliteStorage;
#[cfg(feature = "workflows")]
pub use crate::Workflow;
pub use crate::{
    api_route, auth::AuthUser, ApiError, ApiRoute, CancellationToken, Context, Created, Json,
    Mastra, MastraError, McpExposure, Middleware, OptionalJson, Path, Query, RequestContext,
    RouteMethod, ServerConfig,
};
#[cfg(feature = "agents")]
pub use crate::{
    chat_route, Agent, ChatRouteOptions, GenerateOptions, ModelOutput, Tool, ToolContext, ToolError,
};
pub use actix_web::{body::MessageBody, http::StatusCode, HttpRequest, HttpResponse, Responder};
pub use schemars::JsonSchema;
pub use serde::{Deserialize, Serialize};
pub use serde_json::json;
