//! Routes the runtime serves itself, one file per group.

pub(crate) mod agents;
pub(crate) mod common;
mod found;
mod health;
mod mcp;
mod memory;
mod openapi;
mod tools;
mod workflows;

use crate::{route::ApiRoute, server::ServerConfig};

/// Every built-in route. `prefix` is the API prefix (`/api` by default).
pub(crate) fn routes(prefix: &str) -> Vec<ApiRoute> {
    let mut routes = vec![health::route(), health::ready_route()];
    routes.extend(agents::routes(prefix));
    routes.extend(tools::routes(prefix));
    routes.extend(memory::routes(prefix));
    routes.extend(workflows::routes(prefix));
    routes.extend(mcp::routes(prefix));
    routes
}

/// The OpenAPI document and Swagger UI routes that `config` turns on.
pub(crate) fn docs_routes(config: &ServerConfig) -> Vec<ApiRoute> {
    openapi::routes(config)
}
