//! Values that enter from clients, models, tools and workflow steps stay within what storage
//! can read back (issue 14): nesting deeper than `MAX_JSON_DEPTH` is refused where it enters
//! (a 400 naming the limit, a tool error, a failed step), a non-finite number in a tool's or a
//! step's output is an error rather than `null`, and a run id longer than `MAX_ID_BYTES` is
//! refused before anything is stored.

mod workflows_support;

use std::time::Duration;

use mastra_runtime::{
    memory::MAX_ID_BYTES,
    model::{Anthropic, EchoModel, OpenAiCompatible, RetryPolicy},
    prelude::*,
    schema::MAX_JSON_DEPTH,
    tool::{ToolContext, ToolError},
    workflow::{RunOptions, Step, StepContext, StepError, Workflow},
};
use mastra_tests::{
    fake_provider::{FakeProvider, Reply},
    test_config, TestServer,
};
use serde_json::{json, Value};
use workflows_support::{add, app, Pair, Total};

/// `levels` arrays inside one another around a number: nesting depth `levels`.
fn nested(levels: usize) -> Value {
    (0..levels).fold(json!(0), |inner, _| Value::Array(vec![inner]))
}

/// Asserts a 400 whose body names `limit` in its `error` and in a `limit` field.
#[track_caller]
fn assert_refused_with_limit(reply: &mastra_tests::Reply, limit: usize) {
    reply.assert_status(400);
    let body = reply.json();
    assert_eq!(body["limit"], limit, "{body}");
    let message = body["error"].as_str().unwrap_or_default();
    assert!(message.contains(&limit.to_string()), "{body}");
}

async fn workflow_server(workflows: impl IntoIterator<Item = Workflow>) -> TestServer {
    TestServer::start(app(workflows)).await
}

fn pairs() -> Workflow {
    Workflow::builder("pairs")
        .input::<Pair>()
        .then(add())
        .commit()
        .expect("one step")
}

async fn run_count(server: &TestServer, workflow: &str) -> u64 {
    let listing = server.get(&format!("/api/workflows/{workflow}/runs")).await;
    listing.assert_status(200);
    listing.json()["total"].as_u64().expect("total")
}

#[tokio::test]
async fn a_workflow_input_nested_too_deep_is_refused_and_the_runs_listing_still_answers() {
    let server = workflow_server([pairs()]).await;
    // The issue's case: an extra field 124 levels deep, which the input schema does not forbid.
    let deep_input = json!({ "a": 1, "b": 2, "extra": nested(124) });
    let started = server
        .post_json(
            "/api/workflows/pairs/start-async",
            &json!({ "inputData": deep_input }),
        )
        .await;
    assert_refused_with_limit(&started, MAX_JSON_DEPTH);

    let created = server
        .post_json("/api/workflows/pairs/create-run?runId=r1", &json!({}))
        .await;
    created.assert_status(200);
    for route in ["start", "stream"] {
        let reply = server
            .post_json(
                &format!("/api/workflows/pairs/{route}?runId=r1"),
                &json!({ "inputData": { "a": 1, "b": 2, "extra": nested(100) } }),
            )
            .await;
        assert_refused_with_limit(&reply, MAX_JSON_DEPTH);
    }
    let deep_state = server
        .post_json(
            "/api/workflows/pairs/start-async",
            &json!({ "inputData": { "a": 1, "b": 2 }, "initialState": { "s": nested(100) } }),
        )
        .await;
    assert_refused_with_limit(&deep_state, MAX_JSON_DEPTH);
    let deep_context = server
        .post_json(
            "/api/workflows/pairs/start-async",
            &json!({ "inputData": { "a": 1, "b": 2 }, "requestContext": { "c": nested(100) } }),
        )
        .await;
    assert_refused_with_limit(&deep_context, MAX_JSON_DEPTH);

    // Only the pending run made by create-run was stored, and it reads back.
    assert_eq!(run_count(&server, "pairs").await, 1);
    server
        .get("/api/workflows/pairs/runs/r1")
        .await
        .assert_status(200);
    let fine = server
        .post_json(
            "/api/workflows/pairs/start-async",
            &json!({ "inputData": { "a": 1, "b": 2, "extra": nested(20) } }),
        )
        .await;
    fine.assert_status(200);
    assert_eq!(fine.json()["result"], json!({ "total": 3 }));
    assert_eq!(run_count(&server, "pairs").await, 2);
}

#[tokio::test]
async fn a_deep_input_given_to_the_workflow_api_is_refused_before_the_run_starts() {
    let server = workflow_server([pairs()]).await;
    let workflow = server.mastra().workflow("pairs").expect("registered");
    let run = workflow.create_run(Some("api")).await.expect("created");
    let refused = run
        .start(
            json!({ "a": 1, "b": 2, "extra": nested(124) }),
            RunOptions::new(),
        )
        .await;
    let error = refused.expect_err("a deep input is refused").to_string();
    assert!(
        error.contains("inputData") && error.contains("64"),
        "{error}"
    );
    let listing = server.get("/api/workflows/pairs/runs").await;
    listing.assert_status(200);
    assert_eq!(listing.json()["runs"][0]["snapshot"]["status"], "pending");
}

#[derive(Deserialize, JsonSchema)]
struct Depth {
    levels: usize,
}

#[derive(Serialize, JsonSchema)]
struct Nested {
    value: Value,
}

#[derive(Serialize, JsonSchema)]
struct Reading {
    value: f64,
}

#[tokio::test]
async fn a_step_output_nested_too_deep_or_not_finite_fails_the_step_and_runs_still_read_back() {
    let deep = Workflow::builder("deep")
        .then(
            Step::builder("nest").execute(|d: Depth, _: StepContext| async move {
                Ok::<_, StepError>(Nested {
                    value: nested(d.levels),
                })
            }),
        )
        .commit()
        .expect("one step");
    let infinite = Workflow::builder("infinite")
        .then(
            Step::builder("overflow").execute(|t: Total, _: StepContext| async move {
                Ok::<_, StepError>(Reading {
                    value: t.total as f64 * f64::MAX,
                })
            }),
        )
        .commit()
        .expect("one step");
    let server = workflow_server([deep, infinite]).await;

    let failed = server
        .post_json(
            "/api/workflows/deep/start-async",
            &json!({ "inputData": { "levels": 100 } }),
        )
        .await;
    failed.assert_status(200);
    let body = failed.json();
    assert_eq!(body["status"], "failed", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("nest") && message.contains("64"), "{body}");
    assert_eq!(run_count(&server, "deep").await, 1);
    let run_id = server.get("/api/workflows/deep/runs").await.json()["runs"][0]["runId"]
        .as_str()
        .expect("run id")
        .to_owned();
    server
        .get(&format!("/api/workflows/deep/runs/{run_id}"))
        .await
        .assert_status(200);

    let shallow = server
        .post_json(
            "/api/workflows/deep/start-async",
            &json!({ "inputData": { "levels": 10 } }),
        )
        .await;
    assert_eq!(shallow.json()["status"], "success");

    let overflow = server
        .post_json(
            "/api/workflows/infinite/start-async",
            &json!({ "inputData": { "total": 2 } }),
        )
        .await;
    overflow.assert_status(200);
    let body = overflow.json();
    assert_eq!(body["status"], "failed", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("finite"), "{body}");
    assert!(message.contains("value"), "{body}");
}

#[tokio::test]
async fn a_run_id_longer_than_the_limit_is_refused_before_anything_is_stored() {
    let server = workflow_server([pairs()]).await;
    let long = "r".repeat(MAX_ID_BYTES + 1);
    let created = server
        .post_json(
            &format!("/api/workflows/pairs/create-run?runId={long}"),
            &json!({}),
        )
        .await;
    assert_refused_with_limit(&created, MAX_ID_BYTES);
    assert!(created.json()["error"]
        .as_str()
        .unwrap_or_default()
        .contains("runId"));
    let kilobyte = "k".repeat(1024);
    for route in ["start-async", "start", "stream"] {
        let reply = server
            .post_json(
                &format!("/api/workflows/pairs/{route}?runId={kilobyte}"),
                &json!({ "inputData": { "a": 1, "b": 2 } }),
            )
            .await;
        assert_refused_with_limit(&reply, MAX_ID_BYTES);
    }
    let owner = server
        .post_json(
            "/api/workflows/pairs/create-run",
            &json!({ "resourceId": kilobyte }),
        )
        .await;
    assert_refused_with_limit(&owner, MAX_ID_BYTES);

    // Through the API, a 10 KB id (more than a URL carries) and an empty one.
    let workflow = server.mastra().workflow("pairs").expect("registered");
    for id in ["x".repeat(10 * 1024), String::new()] {
        let error = workflow
            .create_run(Some(&id))
            .await
            .expect_err("the run id is refused")
            .to_string();
        assert!(error.contains("runId") && error.contains("256"), "{error}");
    }
    assert_eq!(run_count(&server, "pairs").await, 0);
    let at_limit = "m".repeat(MAX_ID_BYTES);
    server
        .post_json(
            &format!("/api/workflows/pairs/create-run?runId={at_limit}"),
            &json!({}),
        )
        .await
        .assert_status(200);
    server
        .get(&format!("/api/workflows/pairs/runs/{at_limit}"))
        .await
        .assert_status(200);
}

#[derive(Deserialize, JsonSchema)]
struct AnyInput {
    a: i64,
}

#[derive(Serialize, JsonSchema)]
struct AnyOutput {
    a: i64,
}

fn echo_a() -> Tool {
    Tool::builder("echo-a")
        .description("Answers its input")
        .execute(
            |i: AnyInput, _: ToolContext| async move { Ok::<_, ToolError>(AnyOutput { a: i.a }) },
        )
}

#[tokio::test]
async fn a_tool_input_nested_too_deep_is_refused_with_the_limit() {
    let server = TestServer::start(
        Mastra::builder()
            .tool(echo_a())
            .server(test_config())
            .without_annotated_routes(),
    )
    .await;
    let reply = server
        .post_json(
            "/api/tools/echo-a/execute",
            &json!({ "data": { "a": 1, "extra": nested(100) } }),
        )
        .await;
    assert_refused_with_limit(&reply, MAX_JSON_DEPTH);
    let fine = server
        .post_json(
            "/api/tools/echo-a/execute",
            &json!({ "data": { "a": 1, "extra": nested(10) } }),
        )
        .await;
    fine.assert_status(200);
    assert_eq!(fine.json(), json!({ "a": 1 }));
}

#[derive(Deserialize, JsonSchema)]
struct CelsiusInput {
    celsius: f64,
}

#[derive(Serialize, JsonSchema)]
struct FahrenheitOutput {
    fahrenheit: f64,
}

/// The quickstart's conversion without its input range: `1.7e308` overflows to infinity.
fn unbounded_temperature_tool() -> Tool {
    Tool::builder("celsius-to-fahrenheit")
        .description("Converts Celsius to Fahrenheit, for any finite input")
        .execute(|input: CelsiusInput, _: ToolContext| async move {
            Ok::<_, ToolError>(FahrenheitOutput {
                fahrenheit: input.celsius * 9.0 / 5.0 + 32.0,
            })
        })
}

#[tokio::test]
async fn a_non_finite_tool_output_is_a_tool_error_not_null() {
    let tool = unbounded_temperature_tool();
    let server = TestServer::start(
        Mastra::builder()
            .tool(tool.clone())
            .agent(
                Agent::builder("a")
                    .model(EchoModel::new().token_delay(Duration::ZERO))
                    .tool(tool)
                    .memory(Memory::new()),
            )
            .storage(SqliteStorage::in_memory())
            .server(test_config())
            .without_annotated_routes(),
    )
    .await;
    let path = "/api/tools/celsius-to-fahrenheit/execute";
    let fine = server
        .post_json(path, &json!({ "data": { "celsius": 100 } }))
        .await;
    fine.assert_status(200);
    assert_eq!(fine.json(), json!({ "fahrenheit": 212.0 }));

    let overflow = server
        .post_json(path, &json!({ "data": { "celsius": 1.7e308 } }))
        .await;
    overflow.assert_error_contains(500, "fahrenheit");
    overflow.assert_error_contains(500, "finite");

    let generated = server
        .post_json(
            "/api/agents/a/generate",
            &json!({
                "messages": r#"@celsius-to-fahrenheit {"celsius": 1.7e308}"#,
                "memory": { "thread": "hot", "resource": "r" },
            }),
        )
        .await;
    generated.assert_status(200);
    let result = &generated.json()["toolResults"][0]["payload"];
    assert_eq!(result["isError"], true, "{result}");
    let message = result["result"]["error"].as_str().unwrap_or_default();
    assert!(message.contains("finite"), "{result}");
    server
        .get("/api/memory/threads/hot/messages")
        .await
        .assert_status(200);
}

/// The quickstart's own tool declares the range its output can represent, so the overflow is
/// the client's mistake there: a 400 naming the field, never a 500.
#[tokio::test]
async fn the_quickstart_tool_refuses_input_its_output_cannot_represent() {
    let server = TestServer::start(
        quickstart::app_with_agent(quickstart::agent::agent_with_model(
            EchoModel::new().token_delay(Duration::ZERO),
        ))
        .server(test_config()),
    )
    .await;
    let path = format!(
        "/api/tools/{}/execute",
        quickstart::agent::TEMPERATURE_TOOL_ID
    );
    let too_hot = server
        .post_json(&path, &json!({ "data": { "celsius": 1.7e308 } }))
        .await;
    too_hot.assert_status(400);
    assert_eq!(
        too_hot.json()["issues"][0]["field"],
        "data.celsius",
        "{}",
        too_hot.text
    );
    let hottest = server
        .post_json(&path, &json!({ "data": { "celsius": 1.0e307 } }))
        .await;
    hottest.assert_status(200);
    assert!(hottest.json()["fahrenheit"].is_f64(), "{}", hottest.text);
}

#[derive(Deserialize, JsonSchema)]
struct AddInput {
    a: i64,
    b: i64,
}

#[derive(Serialize, JsonSchema)]
struct AddOutput {
    sum: i64,
}

fn add_tool() -> Tool {
    Tool::builder("add")
        .description("Adds two integers")
        .execute(|i: AddInput, _: ToolContext| async move {
            Ok::<_, ToolError>(AddOutput { sum: i.a + i.b })
        })
}

async fn agent_server(model: impl Into<mastra_runtime::agent::ModelChoice>) -> TestServer {
    TestServer::start(
        Mastra::builder()
            .agent(
                Agent::builder("a")
                    .model(model)
                    .tool(add_tool())
                    .memory(Memory::new()),
            )
            .storage(SqliteStorage::in_memory())
            .server(test_config())
            .without_annotated_routes(),
    )
    .await
}

/// The arguments a model sends: valid for `add`, plus an extra field `levels` deep.
fn deep_arguments(levels: usize) -> String {
    json!({ "a": 1, "b": 2, "extra": nested(levels) }).to_string()
}

/// Generates on thread `deep` twice; the first call's tool call had deep arguments. Each
/// generate answers 200, the tool result is an error naming the limit, and the thread reads
/// back before and after the second generate.
async fn assert_deep_call_is_a_tool_error_and_the_thread_survives(server: &TestServer) {
    let body = json!({ "messages": "add", "memory": { "thread": "deep", "resource": "r" } });
    let first = server.post_json("/api/agents/a/generate", &body).await;
    first.assert_status(200);
    let result = &first.json()["toolResults"][0]["payload"];
    assert_eq!(result["isError"], true, "{result}");
    let message = result["result"]["error"].as_str().unwrap_or_default();
    assert!(message.contains("64"), "{result}");
    server
        .get("/api/memory/threads/deep/messages")
        .await
        .assert_status(200);
    server
        .post_json("/api/agents/a/generate", &body)
        .await
        .assert_status(200);
    let messages = server.get("/api/memory/threads/deep/messages").await;
    messages.assert_status(200);
    assert!(
        messages.json()["messages"].as_array().map_or(0, Vec::len) >= 4,
        "{}",
        messages.text
    );
}

#[tokio::test]
async fn an_openai_tool_call_with_deep_arguments_is_a_tool_error_and_the_thread_reads_back() {
    let chunk = json!({ "choices": [{ "index": 0, "delta": { "tool_calls": [{
        "index": 0, "id": "call_1", "type": "function",
        "function": { "name": "add", "arguments": deep_arguments(100) },
    }] } }] })
    .to_string();
    let call = Reply::sse(&[
        &chunk,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
        "[DONE]",
    ]);
    let answer = Reply::sse(&[
        r#"{"choices":[{"index":0,"delta":{"content":"Sorry."},"finish_reason":"stop"}]}"#,
        "[DONE]",
    ]);
    // Each generate calls the tool once and then answers.
    let fake = FakeProvider::start(vec![call.clone(), answer.clone(), call, answer]).await;
    let model = OpenAiCompatible::new("gpt-test")
        .base_url(format!("{}/v1", fake.url()))
        .api_key("sk-test")
        .retry(RetryPolicy::none());
    let server = agent_server(model).await;
    assert_deep_call_is_a_tool_error_and_the_thread_survives(&server).await;
}

#[tokio::test]
async fn an_anthropic_tool_use_with_deep_input_is_a_tool_error_and_the_thread_reads_back() {
    let delta = json!({ "type": "content_block_delta", "index": 0, "delta": {
        "type": "input_json_delta", "partial_json": deep_arguments(100),
    } })
    .to_string();
    let tool_use = Reply::named_sse(&[
        ("message_start", r#"{"type":"message_start","message":{}}"#),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"add","input":{}}}"#,
        ),
        ("content_block_delta", &delta),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ]);
    let answer = Reply::named_sse(&[
        ("message_start", r#"{"type":"message_start","message":{}}"#),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"Sorry."}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ]);
    let fake = FakeProvider::start(vec![tool_use.clone(), answer.clone(), tool_use, answer]).await;
    let model = Anthropic::new("claude-test")
        .base_url(format!("{}/v1", fake.url()))
        .api_key("sk-ant-test")
        .retry(RetryPolicy::none());
    let server = agent_server(model).await;
    assert_deep_call_is_a_tool_error_and_the_thread_survives(&server).await;
    // The refused call is replayed with an object as its input, as the Messages API requires.
    let seen = fake.seen();
    let replayed = &seen[2].body["messages"];
    let tool_use = replayed
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .find(|block| block["type"] == "tool_use")
        .expect("the refused call is replayed");
    assert!(tool_use["input"].is_object(), "{tool_use}");
}

#[tokio::test]
async fn an_echo_tool_call_with_deep_arguments_is_a_tool_error_and_the_thread_reads_back() {
    let server = agent_server(EchoModel::new().token_delay(Duration::ZERO)).await;
    let message = format!("@add {}", deep_arguments(100));
    let body = json!({ "messages": message, "memory": { "thread": "deep", "resource": "r" } });
    let first = server.post_json("/api/agents/a/generate", &body).await;
    first.assert_status(200);
    let result = &first.json()["toolResults"][0]["payload"];
    assert_eq!(result["isError"], true, "{result}");
    assert!(
        result["result"]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("64"),
        "{result}"
    );
    server
        .get("/api/memory/threads/deep/messages")
        .await
        .assert_status(200);
    server
        .post_json(
            "/api/agents/a/generate",
            &json!({ "messages": "again", "memory": { "thread": "deep", "resource": "r" } }),
        )
        .await
        .assert_status(200);
}

fn nest_tool() -> Tool {
    Tool::builder("nest")
        .description("Answers a value nested as deep as asked")
        .execute(|d: Depth, _: ToolContext| async move {
            Ok::<_, ToolError>(Nested {
                value: nested(d.levels),
            })
        })
}

#[tokio::test]
async fn a_tool_output_nested_too_deep_is_a_tool_error_and_the_thread_reads_back() {
    let nest = nest_tool();
    let server = TestServer::start(
        Mastra::builder()
            .tool(nest.clone())
            .agent(
                Agent::builder("a")
                    .model(EchoModel::new().token_delay(Duration::ZERO))
                    .tool(nest)
                    .memory(Memory::new()),
            )
            .storage(SqliteStorage::in_memory())
            .server(test_config())
            .without_annotated_routes(),
    )
    .await;
    let executed = server
        .post_json(
            "/api/tools/nest/execute",
            &json!({ "data": { "levels": 100 } }),
        )
        .await;
    executed.assert_error_contains(500, "64");
    server
        .post_json(
            "/api/tools/nest/execute",
            &json!({ "data": { "levels": 10 } }),
        )
        .await
        .assert_status(200);

    let body = json!({
        "messages": r#"@nest {"levels": 100}"#,
        "memory": { "thread": "deep-output", "resource": "r" },
    });
    let generated = server.post_json("/api/agents/a/generate", &body).await;
    generated.assert_status(200);
    let result = &generated.json()["toolResults"][0]["payload"];
    assert_eq!(result["isError"], true, "{result}");
    server
        .get("/api/memory/threads/deep-output/messages")
        .await
        .assert_status(200);
}
