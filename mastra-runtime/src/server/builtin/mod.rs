//! Routes the runtime serves itself, one file per group.

#[cfg(feature = "agents")]
pub(crate) mod agents;
// Shared by the route groups; the memory routes alone use only its paging.
#[cfg(feature = "memory")]
#[cfg_attr(not(feature = "agents"), allow(dead_code))]
pub(crate) mod common;
#[cfg(feature = "agents")]
mod found;
mod health;
#[cfg(feature = "mcp")]
mod mcp;
#[cfg(feature = "memory")]
mod memory;
#[cfg(feature = "openapi")]
mod openapi;
#[cfg(feature = "agents")]
mod tools;
#[cfg(feature = "workflows")]
mod workflows;

use crate::{route::ApiRoute, server::ServerConfig};

/// Every built-in route of the capabilities compiled in (the crate's features). `prefix` is
/// the API prefix (`/api` by default).
pub(crate) fn routes(prefix: &str) -> Vec<ApiRoute> {
    #[cfg_attr(not(feature = "memory"), allow(unused_mut))]
    let mut routes = vec![health::route(), health::ready_route()];
    #[cfg(feature = "agents")]
    {
        routes.extend(agents::routes(prefix));
        routes.extend(tools::routes(prefix));
    }
    #[cfg(feature = "memory")]
    routes.extend(memory::routes(prefix));
    #[cfg(feature = "workflows")]
    routes.extend(workflows::routes(prefix));
    #[cfg(feature = "mcp")]
    routes.extend(mcp::routes(prefix));
    let _ = prefix;
    routes
}

/// The OpenAPI document and Swagger UI routes that `config` turns on.
pub(crate) fn docs_routes(config: &ServerConfig) -> Vec<ApiRoute> {
    #[cfg(feature = "openapi")]
    return openapi::routes(config);
    #[cfg(not(feature = "openapi"))]
    {
        let _ = config;
        Vec::new()
    }
}
