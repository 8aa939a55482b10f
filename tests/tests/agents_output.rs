//! `ModelOutput` as an application uses it in its own routes: one run however many readers,
//! text responses, abort signals, and client disconnects on the built-in stream.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use futures_util::StreamExt;
use mastra_runtime::{
    model::{EchoModel, LanguageModel, ModelError, ModelRequest, ModelStream},
    prelude::*,
};
use mastra_tests::{sse_chunks, test_config, TestServer};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The echo model, counting its calls.
#[derive(Debug)]
struct Counting {
    inner: EchoModel,
    calls: Arc<AtomicUsize>,
}

#[async_trait::async_trait]
impl LanguageModel for Counting {
    fn provider(&self) -> &str {
        "test"
    }
    fn model_id(&self) -> &str {
        "counting"
    }
    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.stream(request).await
    }
}

fn agent(calls: &Arc<AtomicUsize>, delay: Duration) -> Agent {
    let model: Arc<dyn LanguageModel> = Arc::new(Counting {
        inner: EchoModel::new().token_delay(delay),
        calls: Arc::clone(calls),
    });
    Agent::builder("counted")
        .model(model)
        .memory(Memory::new())
        .build()
}

/// Three readers await the same output; the model is called once and all see the same text.
async fn consume_three_times(c: Context) -> Result<HttpResponse, ApiError> {
    let agent = c.mastra().agent("counted")?;
    let output = agent.stream("many readers", GenerateOptions::new()).await?;
    let (a, b, d) = tokio::join!(
        output.consume_stream(),
        output.text(),
        output.full_stream().collect::<Vec<_>>()
    );
    let usage = output.usage().await?;
    Ok(c.json(json!({
        "a": a?.text, "b": b?, "chunks": d.len(), "usage": usage,
        "streamed": output.text_stream().collect::<Vec<_>>().await.concat(),
    })))
}

async fn text_response(c: Context) -> Result<HttpResponse, ApiError> {
    let agent = c.mastra().agent("counted")?;
    Ok(agent
        .stream("plain text please", GenerateOptions::new())
        .await?
        .to_text_stream_response())
}

/// Aborts the run after the first text delta.
async fn aborted(c: Context) -> Result<HttpResponse, ApiError> {
    let agent = c.mastra().agent("counted")?;
    let abort = CancellationToken::new();
    let output = agent
        .stream(
            "this run is cut short",
            GenerateOptions::new()
                .memory("aborted-thread", "someone")
                .abort_signal(abort.clone()),
        )
        .await?;
    let mut text = output.text_stream();
    text.next().await;
    abort.cancel();
    Ok(output.to_sse_response())
}

fn app(calls: &Arc<AtomicUsize>, delay: Duration) -> mastra_runtime::MastraBuilder {
    Mastra::builder()
        .agent(agent(calls, delay))
        .storage(SqliteStorage::in_memory())
        .route(ApiRoute::get("/three-readers").handler(consume_three_times))
        .route(ApiRoute::get("/text").handler(text_response))
        .route(ApiRoute::get("/aborted").handler(aborted))
        .server(test_config())
        .without_annotated_routes()
}

#[tokio::test]
async fn consume_stream_drives_one_run_however_many_readers_await_it() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(app(&calls, Duration::from_millis(5))).await;
    let body = server.get("/three-readers").await.json();
    assert_eq!(body["a"], "You said: many readers");
    assert_eq!(body["b"], "You said: many readers");
    assert_eq!(body["streamed"], "You said: many readers");
    assert_eq!(body["chunks"], 10);
    assert_eq!(body["usage"]["outputTokens"], 4);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the model was called once");
}

#[tokio::test]
async fn to_text_stream_response_is_plain_text_deltas() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(app(&calls, Duration::ZERO)).await;
    let reply = server.get("/text").await;
    reply.assert_status(200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(reply.text, "You said: plain text please");
}

#[tokio::test]
async fn an_aborted_run_ends_with_an_abort_chunk_and_saves_nothing() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(app(&calls, Duration::from_millis(100))).await;
    let reply = server.get("/aborted").await;
    let chunks = sse_chunks(&reply.text);
    assert_eq!(chunks.last().unwrap()["type"], "abort", "{}", reply.text);
    assert!(!chunks.iter().any(|c| c["type"] == "finish"));
    server
        .get("/api/memory/threads/aborted-thread")
        .await
        .assert_error(404, "Thread with id aborted-thread not found");
}

#[tokio::test]
async fn a_client_leaving_the_builtin_stream_aborts_the_run_and_saves_nothing() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(app(&calls, Duration::from_millis(200))).await;
    let response = server
        .client()
        .post(server.url("/api/agents/counted/stream"))
        .json(&json!({ "messages": "a long answer that nobody waits for", "memory": { "thread": "left", "resource": "r" } }))
        .send()
        .await
        .unwrap();
    let mut body = response.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("\"type\":\"start\""));
    drop(body);
    // The echo model would need ~1.6 s more; give the abort time to land, then check.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server
        .get("/api/memory/threads/left")
        .await
        .assert_error(404, "Thread with id left not found");
    // A run that is read to the end is saved.
    let done = server
        .post_json(
            "/api/agents/counted/generate",
            &json!({ "messages": "short", "memory": { "thread": "kept", "resource": "r" } }),
        )
        .await;
    done.assert_status(200);
    assert_eq!(
        server.get("/api/memory/threads/kept/messages").await.json()["total"],
        2
    );
}
