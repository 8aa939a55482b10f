//! The OpenAI-compatible provider against a fake Chat Completions server on 127.0.0.1:
//! streaming, streamed tool calls, retries honouring Retry-After, and clear errors.

use std::time::{Duration, Instant};

use mastra_runtime::{
    model::{OpenAiCompatible, RetryPolicy},
    prelude::*,
    tool::{ToolContext, ToolError},
};
use mastra_tests::{
    fake_provider::{FakeProvider, Reply},
    sse_chunks, test_config, TestServer,
};
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
struct AddInput {
    a: i64,
    b: i64,
}

#[derive(Serialize, JsonSchema)]
struct AddOutput {
    sum: i64,
}

fn model(fake: &FakeProvider) -> OpenAiCompatible {
    OpenAiCompatible::new("gpt-test")
        .base_url(format!("{}/v1", fake.url()))
        .api_key("sk-test")
        .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(20)))
}

async fn serve(model: OpenAiCompatible) -> TestServer {
    let add = Tool::builder("add")
        .description("Adds two integers")
        .execute(|i: AddInput, _: ToolContext| async move {
            Ok::<_, ToolError>(AddOutput { sum: i.a + i.b })
        });
    TestServer::start(
        Mastra::builder()
            .agent(
                Agent::builder("a")
                    .instructions("Be brief.")
                    .model(model)
                    .tool(add)
                    .temperature(0.2),
            )
            .server(test_config())
            .without_annotated_routes(),
    )
    .await
}

fn text_stream() -> Reply {
    Reply::sse(&[
        r#"{"id":"1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"finish_reason":null}]}"#,
        r#"{"id":"1","choices":[{"index":0,"delta":{"content":" world"},"finish_reason":null}]}"#,
        r#"{"id":"1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        r#"{"id":"1","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}"#,
        "[DONE]",
    ])
}

async fn generate(server: &TestServer) -> mastra_tests::Reply {
    server
        .post_json("/api/agents/a/generate", &json!({ "messages": "Hi" }))
        .await
}

#[tokio::test]
async fn streamed_text_and_usage_come_through_and_the_request_is_chat_completions() {
    let fake = FakeProvider::start(vec![text_stream()]).await;
    let server = serve(model(&fake)).await;
    let body = generate(&server).await.json();
    assert_eq!(body["text"], "Hello world");
    assert_eq!(
        body["usage"],
        json!({ "inputTokens": 7, "outputTokens": 2, "totalTokens": 9 })
    );
    assert_eq!(body["finishReason"], "stop");

    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v1/chat/completions");
    assert_eq!(seen[0].header("authorization"), Some("Bearer sk-test"));
    let sent = &seen[0].body;
    assert_eq!(sent["model"], "gpt-test");
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["temperature"], 0.2);
    assert_eq!(
        sent["messages"][0],
        json!({ "role": "system", "content": "Be brief." })
    );
    assert_eq!(
        sent["messages"][1],
        json!({ "role": "user", "content": "Hi" })
    );
    assert_eq!(sent["tools"][0]["function"]["name"], "add");
    assert_eq!(
        sent["tools"][0]["function"]["parameters"]["required"],
        json!(["a", "b"])
    );
}

#[tokio::test]
async fn streamed_tool_call_fragments_are_joined_run_and_answered() {
    let tool_call = Reply::sse(&[
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"add","arguments":""}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\": 2,"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":" \"b\": 40}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
        "[DONE]",
    ]);
    let answer = Reply::sse(&[
        r#"{"choices":[{"index":0,"delta":{"content":"It is 42."},"finish_reason":"stop"}]}"#,
        "[DONE]",
    ]);
    let fake = FakeProvider::start(vec![tool_call, answer]).await;
    let server = serve(model(&fake)).await;
    let reply = server
        .post_json("/api/agents/a/stream", &json!({ "messages": "2+40?" }))
        .await;
    let chunks = sse_chunks(&reply.text);
    let call = chunks
        .iter()
        .find(|c| c["type"] == "tool-call")
        .expect("tool-call");
    assert_eq!(call["payload"]["args"], json!({ "a": 2, "b": 40 }));
    let result = chunks
        .iter()
        .find(|c| c["type"] == "tool-result")
        .expect("tool-result");
    assert_eq!(result["payload"]["result"], json!({ "sum": 42 }));
    assert_eq!(chunks.last().unwrap()["type"], "finish");

    let second = &fake.seen()[1].body["messages"];
    assert_eq!(second[2]["role"], "assistant");
    assert_eq!(second[2]["tool_calls"][0]["id"], "call_1");
    assert_eq!(
        second[2]["tool_calls"][0]["function"]["arguments"],
        r#"{"a":2,"b":40}"#
    );
    assert_eq!(
        second[3],
        json!({ "role": "tool", "tool_call_id": "call_1", "content": r#"{"sum":42}"# })
    );
}

#[tokio::test]
async fn a_429_is_retried_after_the_retry_after_delay() {
    let limited = Reply::raw(
        429,
        &[r#"{"error":{"message":"slow down","type":"rate_limit"}}"#],
    )
    .header("retry-after", "1");
    let fake = FakeProvider::start(vec![limited, text_stream()]).await;
    let server = serve(model(&fake)).await;
    let started = Instant::now();
    let body = generate(&server).await.json();
    assert_eq!(body["text"], "Hello world");
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(fake.seen().len(), 2);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_then_succeed() {
    let fake = FakeProvider::start(vec![
        Reply::raw(500, &["oops"]),
        Reply::raw(503, &[r#"{"error":{"message":"busy"}}"#]),
        text_stream(),
    ])
    .await;
    let server = serve(model(&fake)).await;
    assert_eq!(generate(&server).await.json()["text"], "Hello world");
    assert_eq!(fake.seen().len(), 3);
}

#[tokio::test]
async fn server_errors_that_persist_become_a_502_naming_the_attempts() {
    let fake =
        FakeProvider::start(vec![Reply::raw(502, &[r#"{"error":{"message":"down"}}"#])]).await;
    let server = serve(model(&fake)).await;
    generate(&server)
        .await
        .assert_error(502, "openai answered HTTP 502 after 3 attempt(s): down");
    assert_eq!(fake.seen().len(), 3);
}

#[tokio::test]
async fn an_auth_failure_is_clear_and_not_retried() {
    let fake = FakeProvider::start(vec![Reply::raw(
        401,
        &[r#"{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}"#],
    )])
    .await;
    let server = serve(model(&fake)).await;
    generate(&server).await.assert_error(
        502,
        "openai rejected the API key (HTTP 401): Incorrect API key provided (invalid_api_key)",
    );
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn an_unknown_model_is_clear() {
    let fake = FakeProvider::start(vec![Reply::raw(
        404,
        &[r#"{"error":{"message":"The model `gpt-test` does not exist","code":"model_not_found"}}"#],
    )])
    .await;
    let server = serve(model(&fake)).await;
    generate(&server)
        .await
        .assert_error_contains(502, "openai does not know model `gpt-test`");
}

#[tokio::test]
async fn a_malformed_chunk_ends_the_stream_with_an_error_chunk() {
    let fake = FakeProvider::start(vec![Reply::sse(&[
        r#"{"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#,
        r#"{"choices": [this is not json"#,
    ])])
    .await;
    let server = serve(model(&fake)).await;
    let reply = server
        .post_json("/api/agents/a/stream", &json!({ "messages": "Hi" }))
        .await;
    let chunks = sse_chunks(&reply.text);
    let last = chunks.last().unwrap();
    assert_eq!(last["type"], "error");
    let message = last["payload"]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("openai sent a malformed stream"),
        "{message}"
    );
    generate(&server)
        .await
        .assert_error_contains(502, "chunk is not valid JSON");
}

#[tokio::test]
async fn a_stream_cut_before_the_end_is_an_error_not_a_hang() {
    let fake = FakeProvider::start(vec![Reply::sse(&[
        r#"{"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#,
    ])])
    .await;
    let server = serve(model(&fake)).await;
    generate(&server)
        .await
        .assert_error_contains(502, "the stream ended before the model finished");
}

#[tokio::test]
async fn a_stalled_provider_times_out() {
    let fake = FakeProvider::start(vec![text_stream().chunk_delay(Duration::from_secs(5))]).await;
    let server = serve(model(&fake).read_timeout(Duration::from_millis(300))).await;
    let started = Instant::now();
    generate(&server)
        .await
        .assert_error_contains(502, "could not reach openai: timed out");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn a_missing_api_key_names_the_variable() {
    let fake = FakeProvider::start(vec![text_stream()]).await;
    let keyless = OpenAiCompatible::new("gpt-test").base_url(fake.url());
    let server = serve(keyless).await;
    generate(&server)
        .await
        .assert_error(500, "OpenAI API key is missing: set OPENAI_API_KEY");
    assert!(fake.seen().is_empty());
}
