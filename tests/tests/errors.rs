//! Every failure is a JSON `{"error": ...}` with the right status; a panic is a 500 and the
//! server keeps serving.

use std::time::Duration;

use futures_util::stream;
use mastra_runtime::{actix_web::web, prelude::*};
use mastra_tests::{test_config, TestServer};
use reqwest::Method;

#[derive(Debug, Deserialize, Serialize)]
struct Pet {
    name: String,
    age: u8,
}

async fn create_pet(Json(pet): Json<Pet>) -> Created<Json<Pet>> {
    Created(Json(pet))
}

async fn boom() -> &'static str {
    panic!("handler exploded")
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late"
}

async fn actix_json(body: web::Json<Pet>) -> String {
    body.name.clone()
}

#[derive(Deserialize)]
struct Paging {
    page: u32,
}

async fn paged(Query(p): Query<Paging>) -> String {
    p.page.to_string()
}

async fn sized(body: web::Bytes) -> String {
    body.len().to_string()
}

async fn server() -> TestServer {
    TestServer::start(
        Mastra::builder()
            .without_annotated_routes()
            .server(
                test_config()
                    .body_limit(64 * 1024)
                    .timeout(Duration::from_millis(300)),
            )
            .route(ApiRoute::post("/pets").handler(create_pet))
            .route(ApiRoute::get("/boom").handler(boom))
            .route(ApiRoute::get("/slow").handler(slow))
            .route(ApiRoute::post("/actix-json").handler(actix_json))
            .route(ApiRoute::get("/paged").handler(paged))
            .route(ApiRoute::post("/sized").handler(sized)),
    )
    .await
}

#[tokio::test]
async fn unknown_route_is_a_json_404() {
    let server = server().await;
    server.get("/nowhere").await.assert_error(404, "Not Found");
    server
        .get("/api/nowhere")
        .await
        .assert_error(404, "Not Found");
}

#[tokio::test]
async fn malformed_json_is_a_400_naming_the_position() {
    let server = server().await;
    let reply = server
        .send_raw(
            Method::POST,
            "/pets",
            Some("application/json"),
            "{\"name\": \"Rex\",\n \"age\": }",
        )
        .await;
    reply.assert_error_contains(400, "Malformed JSON body");
    reply.assert_error_contains(400, "line 2 column");
    let truncated = server
        .send_raw(
            Method::POST,
            "/pets",
            Some("application/json"),
            "{\"name\": \"Re",
        )
        .await;
    truncated.assert_error_contains(400, "EOF while parsing");
    let empty = server
        .send_raw(Method::POST, "/pets", Some("application/json"), "")
        .await;
    empty.assert_error_contains(400, "empty");
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_a_400() {
    let server = server().await;
    let reply = server
        .post_json("/pets", &json!({ "name": "Rex", "age": "old" }))
        .await;
    reply.assert_error_contains(400, "Invalid request body");
    reply.assert_error_contains(400, "invalid type");
    server
        .post_json("/pets", &json!({ "name": "Rex" }))
        .await
        .assert_error_contains(400, "missing field `age`");
    let ok = server
        .post_json("/pets", &json!({ "name": "Rex", "age": 3 }))
        .await;
    ok.assert_status(201);
}

#[tokio::test]
async fn a_wrong_or_missing_content_type_is_a_415() {
    let server = server().await;
    let body = r#"{"name":"Rex","age":3}"#;
    server
        .send_raw(Method::POST, "/pets", Some("text/plain"), body)
        .await
        .assert_error(415, "Unsupported Content-Type: expected application/json");
    server
        .send_raw(Method::POST, "/pets", None, body)
        .await
        .assert_status(415);
    server
        .send_raw(
            Method::POST,
            "/pets",
            Some("application/merge-patch+json"),
            body,
        )
        .await
        .assert_status(201);
}

#[tokio::test]
async fn a_panic_is_a_500_and_the_next_request_is_served() {
    let server = server().await;
    for _ in 0..3 {
        server
            .get("/boom")
            .await
            .assert_error(500, "Internal Server Error");
        server
            .post_json("/pets", &json!({ "name": "Rex", "age": 3 }))
            .await
            .assert_status(201);
    }
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_a_413() {
    let server = server().await;
    let big = format!("{{\"name\":\"{}\",\"age\":1}}", "x".repeat(70 * 1024));
    server
        .send_raw(Method::POST, "/pets", Some("application/json"), big)
        .await
        .assert_error(413, "Request body too large");
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_a_413() {
    let server = server().await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![b'a'; 8 * 1024])).collect();
    let body = reqwest::Body::wrap_stream(stream::iter(chunks));
    server
        .send_raw(
            Method::POST,
            "/sized",
            Some("application/octet-stream"),
            body,
        )
        .await
        .assert_error(413, "Request body too large");
    let small: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..3).map(|_| Ok(vec![b'a'; 1000])).collect();
    let reply = server
        .send_raw(
            Method::POST,
            "/sized",
            Some("application/octet-stream"),
            reqwest::Body::wrap_stream(stream::iter(small)),
        )
        .await;
    assert_eq!(reply.text, "3000");
}

#[tokio::test]
async fn actix_extractor_errors_are_json_too() {
    let server = server().await;
    let reply = server
        .send_raw(
            Method::POST,
            "/actix-json",
            Some("application/json"),
            "{oops",
        )
        .await;
    reply.assert_status(400);
    assert!(reply.json()["error"].is_string(), "{}", reply.text);
}

#[tokio::test]
async fn an_invalid_query_is_a_400() {
    let server = server().await;
    assert_eq!(server.get("/paged?page=2").await.text, "2");
    server
        .get("/paged?page=two")
        .await
        .assert_error_contains(400, "Invalid query");
    server
        .get("/paged")
        .await
        .assert_error_contains(400, "missing field `page`");
}

#[tokio::test]
async fn a_request_over_the_timeout_is_a_json_503() {
    let server = server().await;
    server
        .get("/slow")
        .await
        .assert_error(503, "Request timed out");
    server.get("/health").await.assert_status(200);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_a_sane_one() {
    let server = server().await;
    let reply = server.get("/health").await;
    assert!(reply.header("x-request-id").is_some_and(|v| !v.is_empty()));
    let echoed = server
        .get_with_header("/health", "x-request-id", "abc-123")
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("abc-123"));
    let replaced = server
        .get_with_header("/health", "x-request-id", "bad id!")
        .await;
    assert_ne!(replaced.header("x-request-id"), Some("bad id!"));
}
