//! Assembles the actix-web `App` for one worker: the application data (the [`Mastra`], body
//! limits, the auth verifier), the routes (mounted by [`super::mounts`]), the JSON 404 for
//! paths no route matches, CORS (`cors.rs`) and the app-wide [`RequestEnvelope`].

use actix_web::{
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    middleware::Condition,
    web, App, HttpResponse,
};

use super::{cors::cors_layer, envelope::RequestEnvelope, mounts::mount, route_guard::RouteGuard};
use crate::{extract::JsonLimits, mastra::Mastra};

/// Builds the application for one worker.
pub(super) fn build_app(
    mastra: Mastra,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let config = mastra.config();
    let limit = config.body_limits.max_bytes;
    let envelope = RequestEnvelope {
        body_limits: config.body_limits,
        head_limits: config.head_limits,
    };
    let cors = cors_layer(&config.cors, mastra.is_auth_configured());
    let routes = mastra.routes_arc();
    let guard = RouteGuard {
        timeout: config.timeout,
    };
    let mut app = App::new()
        .app_data(mastra.clone())
        .app_data(web::PayloadConfig::new(limit))
        .app_data(JsonLimits {
            bytes: limit,
            items: config.max_json_items,
        })
        .app_data(web::JsonConfig::default().limit(limit))
        .app_data(web::FormConfig::default().limit(limit));
    if let Some(auth) = config.auth_config() {
        // `AuthUser` on a public route verifies the token itself, with this.
        app = app.app_data(auth.verifier());
    }
    app.configure(move |cfg| mount(cfg, &routes, &guard))
        .default_service(web::to(not_found))
        .wrap(Condition::new(config.cors.enabled, cors))
        .wrap(envelope)
}

/// The JSON 404 for paths no route matches.
async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({ "error": "Not Found" }))
}
