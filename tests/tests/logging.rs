//! One log line per request (method, path, status, latency) and the listening URL at startup.
//! A separate test binary, because it installs a global `tracing` subscriber.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use mastra_runtime::prelude::*;
use mastra_tests::{test_config, TestServer};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn each_request_logs_one_line_with_method_path_status_and_latency() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber_init(move || writer.clone());

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

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
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

fn tracing_subscriber_init<W>(make: impl Fn() -> W + Send + Sync + 'static)
where
    W: Write + 'static,
{
    use tracing_subscriber::fmt;
    let subscriber = fmt()
        .with_ansi(false)
        .with_writer(make)
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
}
