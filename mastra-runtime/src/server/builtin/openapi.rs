//! `GET /api/openapi.json` (the document, from memory, with an `ETag`) and Swagger UI at
//! `/swagger-ui` and `/swagger-ui/`, with its files under `/swagger-ui/:file` (hidden from the
//! document). Which of them exist is decided by [`ServerConfig`]'s docs switches; they require a
//! token only when [`ServerConfig::protect_docs`] says so and auth is configured, except the
//! UI's files, which are the same public Swagger UI distribution for everyone.
//!
//! Every answer of these routes (the 304 and the 404 of an unknown file included) carries
//! `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` and a Content-Security-Policy
//! ([`SWAGGER_UI_CSP`], [`DOCUMENT_CSP`]) that also forbids framing.

#[cfg(feature = "swagger-ui")]
use std::sync::Arc;

use actix_web::{
    http::header::{self, EntityTag, Header, HeaderName, HeaderValue, IfNoneMatch},
    HttpRequest, HttpResponse, ResponseError,
};

#[cfg(feature = "swagger-ui")]
use crate::{
    error::ApiError,
    extract::Path,
    openapi::swagger::{SwaggerUi, SWAGGER_UI_CSP, SWAGGER_UI_PATH},
};
use crate::{
    mastra::Mastra,
    openapi::{document::DOCUMENT_CSP, OperationFragment, ResponseFragment},
    route::{ApiRoute, RouteOrigin},
    server::ServerConfig,
};

/// Tag of the docs routes in the document (as `/health`'s).
const TAG: &str = "System";

#[cfg(feature = "swagger-ui")]
/// `Cache-Control` of Swagger UI's files: they change only with the crate's version.
const ASSET_CACHE_CONTROL: &str = "public, max-age=3600";

/// `res` with the docs' protective headers: no content sniffing, no framing, and `policy` as
/// its Content-Security-Policy.
fn protected(mut res: HttpResponse, policy: &'static str) -> HttpResponse {
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(policy),
    );
    res
}

/// Whether `If-None-Match` names the current `etag` (weak comparison, RFC 9110 13.1.2).
fn not_modified(req: &HttpRequest, etag: &EntityTag) -> bool {
    match IfNoneMatch::parse(req) {
        Ok(IfNoneMatch::Any) => true,
        Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(etag)),
        Err(_) => false,
    }
}

/// Borrows the application rather than taking the `Mastra` extractor: this is the most
/// requested built-in and a copy of bytes, so it skips the extractor's clone.
async fn openapi_json(req: HttpRequest) -> HttpResponse {
    protected(document_response(&req), DOCUMENT_CSP)
}

fn document_response(req: &HttpRequest) -> HttpResponse {
    let mastra = match Mastra::serving(req) {
        Ok(mastra) => mastra,
        Err(error) => return error.error_response(),
    };
    let document = mastra.openapi_document();
    let etag = document.etag_header().clone();
    if req.headers().contains_key(header::IF_NONE_MATCH)
        && not_modified(
            req,
            &EntityTag::new_strong(document.etag().trim_matches('"').to_owned()),
        )
    {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(document.json().clone())
}

#[cfg(feature = "swagger-ui")]
fn page(ui: &SwaggerUi) -> HttpResponse {
    let res = HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(ui.page().clone());
    protected(res, SWAGGER_UI_CSP)
}

#[cfg(feature = "swagger-ui")]
fn asset(ui: &SwaggerUi, file: &str) -> HttpResponse {
    let res = match ui.asset(file) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, ASSET_CACHE_CONTROL))
            .body(asset.bytes),
        None => ApiError::not_found("Not Found").error_response(),
    };
    protected(res, SWAGGER_UI_CSP)
}

/// The routes `config` turns on.
pub(super) fn routes(config: &ServerConfig) -> Vec<ApiRoute> {
    let protected = config.docs_protected();
    let document_url = format!("{}/openapi.json", config.prefix());
    let mut routes = Vec::new();
    if config.openapi_docs_enabled() {
        routes.push(
            ApiRoute::get(document_url.clone())
                .handler(openapi_json)
                .requires_auth(protected)
                .handler_name("openapi_document")
                .openapi(
                    OperationFragment::new()
                        .summary("OpenAPI document")
                        .description(
                            "This document: every route of the server, built once at startup. \
                             Send the `ETag` back in `If-None-Match` to get 304 when unchanged.",
                        )
                        .tag(TAG)
                        .response(
                            ResponseFragment::new(200)
                                .description("The OpenAPI 3.1 document")
                                .content_type("application/json"),
                        )
                        .response(
                            ResponseFragment::new(304)
                                .description("Unchanged since the `ETag` in `If-None-Match`"),
                        ),
                )
                .origin(RouteOrigin::BuiltIn),
        );
    }
    #[cfg(feature = "swagger-ui")]
    if config.swagger_ui_enabled() {
        let ui = Arc::new(SwaggerUi::new(
            config.swagger_ui_page_title(),
            &document_url,
        ));
        let page_handler = {
            let ui = Arc::clone(&ui);
            move || {
                let ui = Arc::clone(&ui);
                async move { page(&ui) }
            }
        };
        let asset_handler = move |Path(file): Path<String>| {
            let ui = Arc::clone(&ui);
            async move { asset(&ui, &file) }
        };
        routes.push(
            ApiRoute::get(SWAGGER_UI_PATH)
                .handler(page_handler.clone())
                .requires_auth(protected)
                .handler_name("swagger_ui")
                .openapi(
                    OperationFragment::new()
                        .summary("Swagger UI")
                        .description("Browse and try every route; served entirely by this server.")
                        .tag(TAG)
                        .response(
                            ResponseFragment::new(200)
                                .description("The Swagger UI page")
                                .content_type("text/html"),
                        ),
                )
                .origin(RouteOrigin::BuiltIn),
        );
        routes.push(
            ApiRoute::get(format!("{SWAGGER_UI_PATH}/"))
                .handler(page_handler)
                .requires_auth(protected)
                .handler_name("swagger_ui_slash")
                .openapi(OperationFragment::new().hidden(true))
                .origin(RouteOrigin::BuiltIn),
        );
        routes.push(
            ApiRoute::get(format!("{SWAGGER_UI_PATH}/:file"))
                .handler(asset_handler)
                .requires_auth(false)
                .handler_name("swagger_ui_asset")
                .openapi(OperationFragment::new().hidden(true))
                .origin(RouteOrigin::BuiltIn),
        );
    }
    routes
}
