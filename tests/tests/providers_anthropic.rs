//! The Anthropic Messages provider against a fake server on 127.0.0.1: named SSE events,
//! tool use, retries, and errors inside the stream.

use std::time::Duration;

use mastra_runtime::{
    model::{Anthropic, RetryPolicy},
    prelude::*,
    tool::{ToolContext, ToolError},
};
use mastra_tests::{
    delta_text,
    fake_provider::{FakeProvider, Reply},
    sse_chunks, test_config, TestServer,
};
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
struct CityInput {
    city: String,
}

fn model(fake: &FakeProvider) -> Anthropic {
    Anthropic::new("claude-test")
        .base_url(format!("{}/v1", fake.url()))
        .api_key("sk-ant-test")
        .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(20)))
}

async fn serve(model: Anthropic) -> TestServer {
    let tool = Tool::builder("weather")
        .description("Weather in a city")
        .execute(|i: CityInput, _: ToolContext| async move {
            Ok::<_, ToolError>(json!({ "city": i.city, "sky": "clear" }))
        });
    TestServer::start(
        Mastra::builder()
            .agent(
                Agent::builder("claude")
                    .instructions("Answer briefly.")
                    .model(model)
                    .tool(tool),
            )
            .server(test_config())
            .without_annotated_routes(),
    )
    .await
}

fn text_events(text: &str) -> Reply {
    let delta = json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": text } }).to_string();
    Reply::named_sse(&[
        (
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":12,"output_tokens":1}}}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        ("ping", r#"{"type":"ping"}"#),
        ("content_block_delta", &delta),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ])
}

#[tokio::test]
async fn streamed_text_usage_and_the_messages_request() {
    let fake = FakeProvider::start(vec![text_events("Bonjour !")]).await;
    let server = serve(model(&fake)).await;
    let body = server
        .post_json(
            "/api/agents/claude/generate",
            &json!({ "messages": "Salut" }),
        )
        .await
        .json();
    assert_eq!(body["text"], "Bonjour !");
    assert_eq!(
        body["usage"],
        json!({ "inputTokens": 12, "outputTokens": 5, "totalTokens": 17 })
    );
    let seen = &fake.seen()[0];
    assert_eq!(seen.path, "/v1/messages");
    assert_eq!(seen.header("x-api-key"), Some("sk-ant-test"));
    assert_eq!(seen.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(seen.body["system"], "Answer briefly.");
    assert_eq!(seen.body["max_tokens"], 4096);
    assert_eq!(
        seen.body["messages"],
        json!([{ "role": "user", "content": [{ "type": "text", "text": "Salut" }] }])
    );
    assert_eq!(
        seen.body["tools"][0]["input_schema"]["required"],
        json!(["city"])
    );
}

#[tokio::test]
async fn tool_use_runs_the_tool_and_sends_a_tool_result() {
    let tool_use = Reply::named_sse(&[
        (
            "message_start",
            r#"{"type":"message_start","message":{"usage":{"input_tokens":20,"output_tokens":1}}}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"Let me check. "}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"weather","input":{}}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ris\"}"}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":1}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":30}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ]);
    let fake = FakeProvider::start(vec![tool_use, text_events("Clear in Paris.")]).await;
    let server = serve(model(&fake)).await;
    let reply = server
        .post_json(
            "/api/agents/claude/stream",
            &json!({ "messages": "Weather in Paris?" }),
        )
        .await;
    let chunks = sse_chunks(&reply.text);
    let result = chunks
        .iter()
        .find(|c| c["type"] == "tool-result")
        .expect("tool-result");
    assert_eq!(result["payload"]["args"], json!({ "city": "Paris" }));
    assert_eq!(result["payload"]["result"]["sky"], "clear");
    assert_eq!(delta_text(&chunks), "Let me check. Clear in Paris.");

    let second = &fake.seen()[1].body["messages"];
    assert_eq!(second[1]["role"], "assistant");
    assert_eq!(
        second[1]["content"][1],
        json!({ "type": "tool_use", "id": "toolu_1", "name": "weather", "input": { "city": "Paris" } })
    );
    assert_eq!(second[2]["role"], "user");
    assert_eq!(second[2]["content"][0]["type"], "tool_result");
    assert_eq!(second[2]["content"][0]["tool_use_id"], "toolu_1");
}

#[tokio::test]
async fn overloaded_529_is_retried() {
    let overloaded = Reply::raw(
        529,
        &[r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#],
    )
    .header("retry-after", "0");
    let fake = FakeProvider::start(vec![overloaded, text_events("ok")]).await;
    let server = serve(model(&fake)).await;
    let body = server
        .post_json("/api/agents/claude/generate", &json!({ "messages": "x" }))
        .await
        .json();
    assert_eq!(body["text"], "ok");
    assert_eq!(fake.seen().len(), 2);
}

#[tokio::test]
async fn an_error_event_in_the_stream_becomes_an_error_chunk() {
    let fake = FakeProvider::start(vec![Reply::named_sse(&[
        (
            "message_start",
            r#"{"type":"message_start","message":{"usage":{"input_tokens":1}}}"#,
        ),
        (
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ),
    ])])
    .await;
    let server = serve(model(&fake)).await;
    let reply = server
        .post_json("/api/agents/claude/stream", &json!({ "messages": "x" }))
        .await;
    let chunks = sse_chunks(&reply.text);
    let last = chunks.last().unwrap();
    assert_eq!(last["type"], "error");
    assert_eq!(
        last["payload"]["error"]["message"],
        "anthropic reported an error: Overloaded"
    );
}

#[tokio::test]
async fn an_invalid_key_is_a_clear_auth_error() {
    let fake = FakeProvider::start(vec![Reply::raw(
        401,
        &[r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#],
    )])
    .await;
    let server = serve(model(&fake)).await;
    server
        .post_json("/api/agents/claude/generate", &json!({ "messages": "x" }))
        .await
        .assert_error(
            502,
            "anthropic rejected the API key (HTTP 401): invalid x-api-key (authentication_error)",
        );
}
