//! What an application usually needs: `use mastra_runtime::prelude::*;`.

pub use crate::{
    api_route,
    auth::{AuthUser, JwtAuth},
    chat_route, Agent, ApiError, ApiRoute, CancellationToken, ChatRouteOptions, Context, Created,
    GenerateOptions, Json, Mastra, MastraError, McpExposure, McpServer, Memory, Middleware,
    ModelOutput, OptionalJson, Path, Query, RequestContext, RouteMethod, ServerConfig,
    SqliteStorage, Tool, ToolContext, ToolError, Workflow,
};
pub use actix_web::{body::MessageBody, http::StatusCode, HttpRequest, HttpResponse, Responder};
pub use schemars::JsonSchema;
pub use serde::{Deserialize, Serialize};
pub use serde_json::json;
