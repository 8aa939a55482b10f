//! Assembles the actix-web `App` for one worker: the application data (the [`Mastra`], body
//! limits, the auth verifier), the routes (mounted by [`super::mounts`]), the JSON 404 for
//! paths no route matches, CORS and the app-wide [`RequestEnvelope`].

use actix_cors::Cors;
use actix_web::{
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    http::{header, Method},
    middleware::Condition,
    web, App, HttpResponse,
};

use super::{
    config::{AllowedOrigins, CorsConfig},
    envelope::RequestEnvelope,
    mounts::mount,
    route_guard::RouteGuard,
};
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
    let cors = cors_middleware(&config.cors, mastra.is_auth_configured());
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

fn cors_middleware(config: &CorsConfig, auth_configured: bool) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(
            config
                .allow_methods
                .iter()
                .filter_map(|m| Method::from_bytes(m.as_bytes()).ok()),
        )
        .allowed_headers(
            config
                .allow_headers
                .iter()
                .filter_map(|h| header::HeaderName::from_bytes(h.as_bytes()).ok()),
        )
        .expose_headers(
            config
                .expose_headers
                .iter()
                .filter_map(|h| header::HeaderName::from_bytes(h.as_bytes()).ok()),
        )
        .max_age(config.max_age);
    match &config.origins {
        AllowedOrigins::Auto if auth_configured => {
            cors = cors.allow_any_origin().supports_credentials()
        }
        AllowedOrigins::Auto | AllowedOrigins::Any => {
            cors = cors.allow_any_origin().send_wildcard()
        }
        AllowedOrigins::Reflect => cors = cors.allow_any_origin().supports_credentials(),
        AllowedOrigins::List(origins) => {
            for origin in origins {
                cors = cors.allowed_origin(origin);
            }
            cors = cors.supports_credentials();
        }
    }
    cors
}
