//! One log line per request (method, path, status, latency) and the listening URL at startup.
//! A separate test binary, because it installs a global `tracing` subscriber.

use mastra_runtime::prelude::*;
use mastra_tests::{logs::captured_logs, test_config, TestServer};

#[tokio::test]
async fn each_request_logs_one_line_with_method_path_status_and_latency() {
    captured_logs();

    async fn teapot() -> HttpResponse {
        HttpResponse::build(StatusCode::IM_A_TEAPOT).finish()
    }
    let server = TestServer::start(
        Mastra::builder()
            .without_annotated_routes()
            .server(test_config())
            .route(ApiRoute::get("/teapot").handler(teapot)),
    )
    .await;
    server.get("/teapot").await.assert_status(418);
    server.stop().await;

    let text = captured_logs();
    assert!(
        text.contains("Mastra server listening on http://127.0.0.1:"),
        "{text}"
    );
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("path=\"/teapot\""))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    let line = lines[0];
    for needle in ["method=GET", "status=418", "latency_ms="] {
        assert!(line.contains(needle), "{needle} missing in {line}");
    }
}
