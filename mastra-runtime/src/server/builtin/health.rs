//! `GET /health`: public liveness (the process serves). `GET /ready`: public readiness (it can
//! also reach its store), for a load balancer's or orchestrator's probe.

use actix_web::HttpResponse;

use crate::{
    error::ApiError,
    openapi::{OperationFragment, ResponseFragment},
    route::{ApiRoute, RouteOrigin},
};

async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"success":true}"#)
}

/// 503 while the store cannot answer, so a load balancer stops sending this instance requests
/// that need it; `/health` keeps answering (the process is fine, restarting it would not help).
#[cfg(feature = "memory")]
async fn ready(mastra: crate::mastra::Mastra) -> Result<HttpResponse, ApiError> {
    match mastra.storage().ping().await {
        Ok(()) => Ok(ready_body()),
        Err(error) => {
            tracing::warn!(%error, "not ready: the store does not answer");
            Err(ApiError::new(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "Not ready: storage unavailable",
            ))
        }
    }
}

/// Without a store (the `memory` feature off) nothing can be unavailable: ready once serving.
#[cfg(not(feature = "memory"))]
async fn ready() -> Result<HttpResponse, ApiError> {
    Ok(ready_body())
}

fn ready_body() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"ready":true}"#)
}

/// `GET /ready`.
pub(super) fn ready_route() -> ApiRoute {
    ApiRoute::get("/ready")
        .handler(ready)
        .always_public()
        .handler_name("ready")
        .openapi(
            OperationFragment::new()
                .summary("Readiness check: the server and its store answer")
                .tag("System")
                .response(ResponseFragment::new(200).description("Ready to serve"))
                .response(
                    ResponseFragment::new(503).description("The store does not answer right now"),
                ),
        )
        .origin(RouteOrigin::BuiltIn)
}

pub(super) fn route() -> ApiRoute {
    ApiRoute::get("/health")
        .handler(health)
        .always_public()
        .handler_name("health")
        .openapi(
            OperationFragment::new()
                .summary("Liveness check")
                .tag("System")
                .response(ResponseFragment::new(200).description("The server is up")),
        )
        .origin(RouteOrigin::BuiltIn)
}
