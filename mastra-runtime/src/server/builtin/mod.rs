//! Routes the runtime serves itself, one file per group.

mod health;
mod openapi;

use crate::{route::ApiRoute, server::ServerConfig};

/// Every built-in route. `prefix` is the API prefix (`/api` by default).
pub(crate) fn routes(_prefix: &str) -> Vec<ApiRoute> {
    vec![health::route()]
}

/// The OpenAPI document and Swagger UI routes that `config` turns on.
pub(crate) fn docs_routes(config: &ServerConfig) -> Vec<ApiRoute> {
    openapi::routes(config)
}
