//! `examples/streaming`: `/stream` stops the model when the client leaves, while
//! `/chat/persist/:agentId` keeps generating and saves the answer; `chat_route` is mounted.
//! In-process against the slow fake provider, and as the real binary under SIGTERM.

mod openapi_support;

use std::time::{Duration, Instant};

use mastra_runtime::{
    memory::{MessageRole, Storage},
    SqliteStorage,
};
use mastra_tests::{
    binary::BinaryServer,
    delta_text, eventually,
    leaving::{assert_fast, assert_never_saved, leave_after_first_text_delta, start_message_id},
    raw_http::RawHttp,
    slow_provider::SlowProvider,
    sse_chunks, test_config, TestServer,
};
use serde_json::{json, Value};
use streaming_example::{app_with_model, AGENT_ID, USER_HEADER};

async fn example_on(slow: &SlowProvider) -> TestServer {
    TestServer::start(
        app_with_model(slow.model())
            .storage(SqliteStorage::in_memory())
            .server(test_config()),
    )
    .await
}

fn chat_body(text: &str, thread: Option<&str>) -> Value {
    let mut body = json!({
        "id": "chat-1",
        "trigger": "submit-message",
        "messages": [{ "id": "m1", "role": "user", "parts": [{ "type": "text", "text": text }] }]
    });
    if let Some(thread) = thread {
        body["memory"] = json!({ "thread": thread, "resource": "me" });
    }
    body
}

#[tokio::test]
async fn the_stream_route_stops_the_model_when_the_client_leaves_and_saves_nothing() {
    let (words, delay) = (60, Duration::from_millis(50));
    let slow = SlowProvider::start(words, delay).await;
    let server = example_on(&slow).await;
    let started = Instant::now();
    let mut client = RawHttp::post_json(
        server.base(),
        "/stream",
        &json!({ "messages": "Tell me a story", "memory": { "thread": "story", "resource": "me" } }),
    )
    .await;
    let head = client.read_until("w0 ", Duration::from_secs(5)).await;
    assert!(
        head.contains("content-type: text/plain; charset=utf-8"),
        "{head}"
    );
    let left = client.close();
    assert_fast(
        "/stream: client close -> model connection closed",
        slow.wait_closed().await - left,
    );
    assert_eq!(slow.finished(), 0);
    assert_never_saved(&server, "story", started, delay * words as u32).await;
}

#[tokio::test]
async fn the_persist_route_keeps_generating_after_the_client_leaves_and_saves_the_answer() {
    let words = 20;
    let slow = SlowProvider::start(words, Duration::from_millis(50)).await;
    let server = example_on(&slow).await;
    let (head, _) = leave_after_first_text_delta(
        server.base(),
        &format!("/chat/persist/{AGENT_ID}"),
        &chat_body("Tell me a story", Some("kept-story")),
    )
    .await;
    assert!(head.contains("x-vercel-ai-ui-message-stream: v1"), "{head}");
    eventually(Duration::from_secs(5), "the answer saved", || async {
        server
            .get("/api/memory/threads/kept-story/messages")
            .await
            .json()["total"]
            == 2
    })
    .await;
    let messages = server
        .get("/api/memory/threads/kept-story/messages")
        .await
        .json();
    let assistant = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "assistant")
        .unwrap_or_else(|| panic!("no assistant message: {messages}"));
    assert_eq!(
        assistant["content"]["content"],
        SlowProvider::full_text(words)
    );
    assert_eq!((slow.finished(), slow.closed_early()), (1, 0));
}

#[tokio::test]
async fn the_persist_route_needs_a_memory_thread() {
    let slow = SlowProvider::start(1, Duration::ZERO).await;
    let server = example_on(&slow).await;
    server
        .post_json(
            &format!("/chat/persist/{AGENT_ID}"),
            &chat_body("Hello", None),
        )
        .await
        .assert_error_contains(400, "memory is required");
    assert_eq!(slow.requests(), 0);
}

#[tokio::test]
async fn the_example_mounts_chat_route_for_use_chat() {
    let slow = SlowProvider::start(3, Duration::ZERO).await;
    let server = example_on(&slow).await;
    let patterns: Vec<&str> = server
        .mastra()
        .routes()
        .iter()
        .map(|r| r.pattern().as_str())
        .collect();
    for path in ["/stream", "/chat/persist/:agentId", "/chat/:agentId"] {
        assert!(patterns.contains(&path), "{path} not mounted: {patterns:?}");
    }
    let reply = server
        .post_json(&format!("/chat/{AGENT_ID}"), &chat_body("Hello", None))
        .await;
    reply.assert_status(200);
    assert_eq!(reply.header("x-vercel-ai-ui-message-stream"), Some("v1"));
    assert_eq!(
        delta_text(&sse_chunks(&reply.text)),
        SlowProvider::full_text(3)
    );
}

#[tokio::test]
async fn the_chat_route_keeps_conversations_under_the_user_the_gateway_set() {
    let slow = SlowProvider::start(2, Duration::ZERO).await;
    let server = example_on(&slow).await;
    let mut body = chat_body("Hello", Some("alices-thread"));
    body["memory"]["resource"] = json!("mallory");
    body["requestContext"] = json!({ "mastra__resourceId": "mallory" });
    let reply = server
        .send(
            server
                .client()
                .post(server.url(&format!("/chat/{AGENT_ID}")))
                .header(USER_HEADER, "alice")
                .json(&body),
        )
        .await;
    reply.assert_status(200);
    let thread = server.get("/api/memory/threads/alices-thread").await.json();
    assert_eq!(thread["resourceId"], "alice", "{thread}");

    // Another user cannot write into it, whatever the body says.
    let reply = server
        .send(
            server
                .client()
                .post(server.url(&format!("/chat/{AGENT_ID}")))
                .header(USER_HEADER, "mallory")
                .json(&body),
        )
        .await;
    let parts = sse_chunks(&reply.text);
    let error = parts
        .iter()
        .find(|p| p["type"] == "error")
        .expect("an error part");
    assert!(
        error["errorText"]
            .as_str()
            .unwrap()
            .contains("is for resource with id alice but resource mallory was queried"),
        "{error}"
    );
    let messages = server
        .get("/api/memory/threads/alices-thread/messages")
        .await
        .json();
    assert_eq!(messages["total"], 2, "{messages}");
}

#[tokio::test]
async fn the_example_routes_are_in_the_openapi_document_with_their_stream_formats() {
    let slow = SlowProvider::start(1, Duration::ZERO).await;
    let server = example_on(&slow).await;
    let doc = openapi_support::document(&server).await;
    for (path, body, streamed) in [
        ("/stream", "StreamBody", "text/plain; charset=utf-8"),
        (
            "/chat/persist/{agentId}",
            "ChatRequest",
            "text/event-stream",
        ),
        ("/chat/{agentId}", "ChatRequest", "text/event-stream"),
    ] {
        let operation = &doc["paths"][path]["post"];
        assert!(operation.is_object(), "POST {path} is not documented");
        assert_eq!(
            operation["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            format!("#/components/schemas/{body}"),
            "{path}: {operation}"
        );
        assert!(
            operation["responses"]["200"]["content"][streamed].is_object(),
            "{path}: {operation}"
        );
        assert_eq!(
            operation["responses"]["404"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorResponse",
            "{path}: {operation}"
        );
        assert_eq!(
            operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ValidationErrorResponse",
            "{path}: {operation}"
        );
    }
    for path in ["/chat/persist/{agentId}", "/chat/{agentId}"] {
        let parameters = &doc["paths"][path]["post"]["parameters"];
        assert_eq!(parameters[0]["name"], "agentId", "{path}: {parameters}");
        assert_eq!(parameters[0]["in"], "path", "{path}: {parameters}");
    }
    let part = &doc["components"]["schemas"]["UiMessageChunk"];
    assert!(part.is_object(), "{}", doc["components"]["schemas"]);
    let messages = &doc["components"]["schemas"]["ChatRequest"];
    assert!(
        messages["required"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("messages"))),
        "{messages}"
    );
    openapi_support::assert_valid_openapi(&doc, "streaming-example");
}

/// Starts a persisting run on the example binary (offline model, one word per 100 ms), reads
/// its first word and leaves. Returns the run id.
async fn persist_and_leave(server: &BinaryServer, thread: &str, words: usize) -> String {
    let message = vec!["word"; words].join(" ");
    let path = format!("/chat/persist/{AGENT_ID}");
    let body = chat_body(&message, Some(thread));
    let (seen, _) = leave_after_first_text_delta(server.base(), &path, &body).await;
    start_message_id(&seen)
}

#[tokio::test]
async fn on_sigterm_the_example_finishes_a_persisting_run_and_saves_it_before_exiting() {
    let mut server = BinaryServer::start("streaming-example", &[("RUST_LOG", "info")]).await;
    // "You said: " and 20 words, one every 100 ms: about 2.2 s.
    persist_and_leave(&server, "until-the-end", 20).await;
    let stopping = Instant::now();
    server.sigterm();
    let status = server.wait_exit(Duration::from_secs(10)).await;
    let took = stopping.elapsed();
    let log = server.log();
    assert!(status.success(), "{status}; log:\n{log}");
    assert!(
        took > Duration::from_secs(1),
        "exited after {took:?}: {log}"
    );
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(log.contains("every background task finished"), "{log}");

    let storage = SqliteStorage::file(server.dir().join("mastra.db"));
    let saved: Vec<(MessageRole, String)> = storage
        .recent_messages("until-the-end", 10)
        .await
        .expect("read the example's database")
        .into_iter()
        .map(|m| (m.role, m.content.plain_text()))
        .collect();
    let words = vec!["word"; 20].join(" ");
    assert_eq!(
        saved,
        [
            (MessageRole::User, words.clone()),
            (MessageRole::Assistant, format!("You said: {words}")),
        ]
    );
}

#[tokio::test]
async fn a_second_sigterm_stops_the_example_at_once_and_logs_the_abandoned_run() {
    let mut server = BinaryServer::start("streaming-example", &[("RUST_LOG", "info")]).await;
    // About 10 s of answer.
    let run_id = persist_and_leave(&server, "cut-short", 100).await;
    server.sigterm();
    eventually(Duration::from_secs(5), "the first signal seen", || async {
        server.log().contains("waiting for background tasks")
    })
    .await;
    let stopping = Instant::now();
    server.sigterm();
    let status = server.wait_exit(Duration::from_secs(5)).await;
    let took = stopping.elapsed();
    let log = server.log();
    assert!(status.success(), "{status}; log:\n{log}");
    assert!(took < Duration::from_secs(2), "took {took:?}: {log}");
    assert!(
        log.contains("SIGTERM received again: stopping now"),
        "{log}"
    );
    let line = log
        .lines()
        .find(|l| l.contains("abandoned") && l.contains(&run_id))
        .unwrap_or_else(|| panic!("the abandoned run {run_id} is not named: {log}"));
    assert!(line.contains("a second stop signal"), "{line}");
    let storage = SqliteStorage::file(server.dir().join("mastra.db"));
    assert!(storage
        .recent_messages("cut-short", 10)
        .await
        .expect("read the example's database")
        .is_empty());
}
