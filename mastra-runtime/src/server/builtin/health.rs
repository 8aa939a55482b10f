//! `GET /health`: public liveness.

use actix_web::HttpResponse;

use crate::{
    openapi::{OperationFragment, ResponseFragment},
    route::{ApiRoute, RouteOrigin},
};

async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"success":true}"#)
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
