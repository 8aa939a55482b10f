//! Server-wide behaviour: /health, /ready, CORS, graceful shutdown.

use std::time::Duration;

use mastra_runtime::{
    auth::{AuthConfig, JwtAuth},
    prelude::*,
    server::{AllowedOrigins, CorsConfig},
};
use mastra_tests::{client, test_config, TestServer};
use reqwest::Method;

async fn ok() -> &'static str {
    "ok"
}

#[tokio::test]
async fn health_is_public_and_answers_success_true() {
    let server = TestServer::start(
        Mastra::builder()
            .without_annotated_routes()
            .server(test_config()),
    )
    .await;
    let reply = server.get("/health").await;
    reply.assert_status(200);
    assert_eq!(reply.text, r#"{"success":true}"#);
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

/// Readiness asks the store (here SQLite in memory, which always answers), with no token even
/// when auth is configured (a probe carries none); the PostgreSQL
/// outage test (`postgres_outage.rs`) sees it turn 503 and back while `/health` stays 200.
#[tokio::test]
async fn ready_is_public_and_answers_when_the_store_does() {
    let server = TestServer::start(
        Mastra::builder()
            .without_annotated_routes()
            .storage(SqliteStorage::in_memory())
            .server(test_config().auth(AuthConfig::new(
                JwtAuth::hs256("a secret that is long enough for HS256 tokens").expect("secret"),
            ))),
    )
    .await;
    let reply = server.get("/ready").await;
    reply.assert_status(200);
    assert_eq!(reply.text, r#"{"ready":true}"#);
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn default_cors_policy_is_mastras() {
    let server = TestServer::start(
        Mastra::builder()
            .without_annotated_routes()
            .server(test_config())
            .route(ApiRoute::post("/x").handler(ok)),
    )
    .await;
    let preflight = server
        .send(
            server
                .request(Method::OPTIONS, "/x")
                .header("origin", "http://example.test")
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "content-type,authorization",
                ),
        )
        .await;
    preflight.assert_status(200);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert_eq!(preflight.header("access-control-max-age"), Some("3600"));
    let methods = preflight
        .header("access-control-allow-methods")
        .unwrap_or_default()
        .to_owned();
    for m in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        assert!(methods.contains(m), "{methods}");
    }
    let headers = preflight
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );

    let simple = server
        .send(
            server
                .request(Method::POST, "/x")
                .header("origin", "http://example.test"),
        )
        .await;
    assert_eq!(simple.header("access-control-allow-origin"), Some("*"));
    let exposed = simple
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("content-length") && exposed.contains("x-requested-with"),
        "{exposed}"
    );
}

#[tokio::test]
async fn cors_headers_answer_cross_origin_requests_and_vary_is_on_every_response() {
    let server = TestServer::start(
        Mastra::builder()
            .without_annotated_routes()
            .server(test_config().cors(CorsConfig::default().origins(AllowedOrigins::Reflect)))
            .route(ApiRoute::get("/x").handler(ok))
            .route(ApiRoute::get("/varies").handler(|| async {
                HttpResponse::Ok()
                    .insert_header(("vary", "Accept-Encoding"))
                    .body("ok")
            })),
    )
    .await;
    let vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

    // No `Origin`: not a cross-origin request, so no `Access-Control-*` header, but `Vary`
    // still tells a cache that the answer depends on it.
    let same_origin = server.get("/x").await;
    same_origin.assert_status(200);
    assert_eq!(same_origin.header("vary"), Some(vary));
    let cors_headers: Vec<&str> = same_origin
        .headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("access-control-"))
        .collect();
    assert!(cors_headers.is_empty(), "{cors_headers:?}");
    // A handler's own `Vary` is kept, with CORS's list after it.
    let varies = server.get("/varies").await;
    assert_eq!(
        varies.header("vary"),
        Some(format!("Accept-Encoding, {vary}").as_str())
    );
    // Errors get `Vary` too.
    let missing = server.get("/nowhere").await;
    missing.assert_status(404);
    assert_eq!(missing.header("vary"), Some(vary));

    // With `Origin`: the policy's headers, and the same `Vary`.
    let cross_origin = server
        .get_with_header("/x", "origin", "http://app.test")
        .await;
    assert_eq!(
        cross_origin.header("access-control-allow-origin"),
        Some("http://app.test")
    );
    assert_eq!(
        cross_origin.header("access-control-allow-credentials"),
        Some("true")
    );
    assert!(cross_origin
        .header("access-control-expose-headers")
        .is_some());
    assert_eq!(cross_origin.header("vary"), Some(vary));
}

#[tokio::test]
async fn cors_can_reflect_origins_with_credentials_or_be_disabled() {
    let reflecting = TestServer::start(
        Mastra::builder()
            .without_annotated_routes()
            .server(test_config().cors(CorsConfig::default().origins(AllowedOrigins::Reflect)))
            .route(ApiRoute::get("/x").handler(ok)),
    )
    .await;
    let reply = reflecting
        .get_with_header("/x", "origin", "http://app.test")
        .await;
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("http://app.test")
    );
    assert_eq!(
        reply.header("access-control-allow-credentials"),
        Some("true")
    );

    let disabled = TestServer::start(
        Mastra::builder()
            .without_annotated_routes()
            .server(test_config().cors(CorsConfig::disabled()))
            .route(ApiRoute::get("/x").handler(ok)),
    )
    .await;
    let reply = disabled
        .get_with_header("/x", "origin", "http://app.test")
        .await;
    assert_eq!(reply.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn graceful_stop_lets_in_flight_requests_finish_and_refuses_new_ones() {
    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_millis(700)).await;
        "finished"
    }
    let server = TestServer::start(
        Mastra::builder()
            .without_annotated_routes()
            .server(test_config())
            .route(ApiRoute::get("/slow").handler(slow)),
    )
    .await;
    let url = server.url("/slow");
    let base = server.base().to_owned();
    let in_flight = tokio::spawn(async move { client().get(url).send().await?.text().await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.stop().await;
    let body = in_flight
        .await
        .expect("join")
        .expect("in-flight request completed");
    assert_eq!(body, "finished");
    let refused = client().get(format!("{base}/health")).send().await;
    assert!(
        refused.is_err(),
        "new connections must be refused after stop"
    );
}
