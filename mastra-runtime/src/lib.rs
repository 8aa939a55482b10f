//! # mastra-runtime
//!
//! Serve AI agents, workflows and your own HTTP routes on actix-web, the Rust counterpart of
//! [Mastra](https://mastra.ai)'s server.
//!
//! Annotate async functions with [`api_route`]; they are collected at link time and mounted at
//! the root, next to the built-in routes under `/api`:
//!
//! ```no_run
//! use mastra_runtime::prelude::*;
//!
//! #[derive(Serialize, Deserialize, JsonSchema)]
//! struct Item { id: String, name: String }
//!
//! /// Get item by ID
//! #[api_route("/items/:itemId", method = "GET", requires_auth = false)]
//! async fn get_item(Path(item_id): Path<String>) -> Result<Json<Item>, ApiError> {
//!     Ok(Json(Item { id: item_id, name: "Sample Item".into() }))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), MastraError> {
//!     Mastra::builder().build()?.serve().await
//! }
//! ```
//!
//! ## Keeping routes linked
//!
//! `#[api_route]` registers through [`inventory`]: if nothing in your binary references a library
//! crate that only holds annotated functions, the linker may drop it and its routes with it.
//! Reference something from such a crate (for example `use my_routes as _;` in `main.rs`, or call
//! a function it exports) and check [`Mastra::routes`] at startup.
//!
//! ## Features
//!
//! One cargo feature per capability, all in `default`: `validation` (every JSON Schema keyword,
//! checked by jsonschema; without it a plain checker takes the keywords schemars writes and
//! refuses other schemas at startup), `openapi` (the document), `swagger-ui`,
//! `jwt` (`JwtAuth`), `jwks-url` (JWK sets fetched over HTTPS), `memory` (threads, messages,
//! the `Storage` trait), `sqlite` and `postgres` (the stores), `agents` (models, providers,
//! tools), `workflows` and `mcp`. Only what is compiled in is mounted. Custom routes with the
//! document, Swagger UI and JWT take
//! `default-features = false, features = ["openapi", "swagger-ui", "jwt"]` and compile neither
//! sqlx, reqwest nor jsonschema (docs/features.md).

#![warn(missing_docs)]

// Lets `#[api_route]` be used inside this crate: generated code names `::mastra_runtime`.
extern crate self as mastra_runtime;

// The modules, in layers: each imports only from layers below it (docs/architecture.md; the
// workspace test `module_layers` enforces it).
//
// Foundations.
mod app;
pub mod background;
pub mod disconnect;
pub mod error;
mod logging;
pub mod schema;
pub mod sse;
// The route model.
pub mod describe;
pub mod extract;
pub mod route;
// Features.
#[cfg(feature = "agents")]
pub mod agent;
pub mod auth;
#[cfg(feature = "mcp")]
pub mod mcp;
#[cfg(feature = "memory")]
pub mod memory;
#[cfg(feature = "agents")]
pub mod model;
pub mod openapi;
#[cfg(feature = "agents")]
pub mod tool;
#[cfg(feature = "workflows")]
pub mod workflow;
// The application.
pub mod config;
mod mastra;
// Server assembly.
#[cfg(feature = "agents")]
pub mod chat;
pub mod server;
// The builder, and what users import.
mod builder;
pub mod prelude;

#[cfg(feature = "agents")]
pub use agent::{Agent, AgentBuilder, GenerateOptions, ModelOutput};
pub use builder::MastraBuilder;
pub use error::{ApiError, NotFound};
pub use extract::{Created, Json, OptionalJson, Path, Query};
pub use logging::install_default_subscriber;
pub use mastra::{Context, Mastra, MastraError};
pub use mastra_macros::api_route;
#[cfg(feature = "mcp")]
pub use mcp::McpServer;
#[cfg(feature = "sqlite")]
pub use memory::SqliteStorage;
#[cfg(feature = "memory")]
pub use memory::{Memory, Storage};
pub use route::{
    middleware, ApiRoute, McpExposure, Middleware, MountedRoute, RequestContext, RouteMethod,
    RouteProblem,
};
pub use server::{RunningServer, ServerConfig};
#[cfg(feature = "agents")]
pub use tool::{Tool, ToolContext, ToolError};
#[cfg(feature = "workflows")]
pub use workflow::Workflow;

pub use background::BackgroundTasks;
#[cfg(feature = "agents")]
pub use chat::{chat_route, ChatRouteOptions};
/// The token type of abort signals ([`Context::abort_signal`], [`GenerateOptions::abort_signal`]).
pub use tokio_util::sync::CancellationToken;

/// The `schemars` version the runtime builds schemas with. Derive `JsonSchema` with it (see the
/// README): `#[derive(JsonSchema)] #[schemars(crate = "mastra_runtime::schemars")]`, or depend on
/// the same pinned version.
pub use schemars;

pub use actix_web;
pub use serde;
pub use serde_json;

// The guides in docs/ are compiled and run as doc tests, so their examples cannot rot.
#[cfg(test)]
mod fuzzing;

#[cfg(doctest)]
#[doc = include_str!("../../docs/routes.md")]
mod guide_routes {}

#[cfg(all(doctest, feature = "openapi"))]
#[doc = include_str!("../../docs/openapi.md")]
mod guide_openapi {}

#[cfg(all(doctest, feature = "jwt"))]
#[doc = include_str!("../../docs/auth.md")]
mod guide_auth {}

#[cfg(all(doctest, feature = "agents"))]
#[doc = include_str!("../../docs/agents.md")]
mod guide_agents {}

#[cfg(all(doctest, feature = "memory"))]
#[doc = include_str!("../../docs/memory.md")]
mod guide_memory {}

#[cfg(all(doctest, feature = "agents"))]
#[doc = include_str!("../../docs/streaming.md")]
mod guide_streaming {}

#[cfg(all(doctest, feature = "workflows"))]
#[doc = include_str!("../../docs/workflows.md")]
mod guide_workflows {}

/// Items the `#[api_route]` expansion names. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::describe::infer;
    pub use crate::describe::{
        Inference, OperationFragment, ParamLocation, ParameterFragment, RequestBodyFragment,
        ResponseFragment, SchemaType,
    };
    pub use crate::route::{ApiRoute, McpExposure, RouteDef, RouteMethod};
    pub use inventory;

    /// Fails to compile, at the argument's span, unless `T` is an extractor.
    pub fn assert_extractor<T: actix_web::FromRequest>() {}

    /// Fails to compile, at the return type's span, unless `T` is a responder.
    pub fn assert_responder<T: actix_web::Responder>() {}
}
