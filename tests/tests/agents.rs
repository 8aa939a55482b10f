//! Built-in agent routes over HTTP, with the offline model: listing, generate, stream (Mastra's
//! SSE framing), validation, the tool loop and request context.

use mastra_runtime::{
    model::EchoModel,
    prelude::*,
    tool::{ToolContext, ToolError},
};
use mastra_tests::{assert_text_answer, sse_chunks, test_config, TestServer};
use serde_json::{json, Value};

#[derive(Deserialize, JsonSchema)]
struct EchoInput {
    #[schemars(length(min = 1))]
    word: String,
}

#[derive(Serialize, JsonSchema)]
struct EchoOutput {
    word: String,
    tenant: Option<String>,
    user: Option<String>,
}

fn shout_tool() -> Tool {
    Tool::builder("shout")
        .description("Upper-cases a word and reports the tenant from the request context")
        .execute(|input: EchoInput, ctx: ToolContext| async move {
            Ok::<_, ToolError>(EchoOutput {
                word: input.word.to_uppercase(),
                tenant: ctx.request_context().get_as("tenant"),
                user: ctx.request_context().get_as("mastra__user"),
            })
        })
}

fn app() -> mastra_runtime::MastraBuilder {
    Mastra::builder()
        .agent(
            Agent::builder("echo")
                .name("Echo")
                .description("Says it back")
                .instructions("Repeat the user.")
                .model(EchoModel::new().token_delay(std::time::Duration::ZERO))
                .tool(shout_tool()),
        )
        .agent(Agent::builder("plain").model("mastra/echo"))
        .server(test_config())
        .without_annotated_routes()
}

#[tokio::test]
async fn agents_are_listed_by_id_with_superjson_tool_schemas() {
    let server = TestServer::start(app()).await;
    let reply = server.get("/api/agents").await;
    reply.assert_status(200);
    let body = reply.json();
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["echo", "plain"]
    );
    let echo = &body["echo"];
    assert_eq!(echo["name"], "Echo");
    assert_eq!(echo["description"], "Says it back");
    assert_eq!(echo["instructions"], "Repeat the user.");
    assert_eq!(echo["provider"], "mastra");
    assert_eq!(echo["modelId"], "echo");
    assert_eq!(echo["tools"]["shout"]["id"], "shout");
    let schema: Value =
        serde_json::from_str(echo["tools"]["shout"]["inputSchema"].as_str().unwrap()).unwrap();
    assert_eq!(schema["json"]["properties"]["word"]["minLength"], 1);
    assert_eq!(
        server.get("/api/agents/plain").await.json()["name"],
        "plain"
    );
}

#[tokio::test]
async fn unknown_agents_are_404_with_mastras_message() {
    let server = TestServer::start(app()).await;
    server
        .get("/api/agents/nope")
        .await
        .assert_error(404, "Agent with id nope not found");
    server
        .post_json("/api/agents/nope/generate", &json!({ "messages": "hi" }))
        .await
        .assert_error(404, "Agent with id nope not found");
    server
        .post_json("/api/agents/nope/stream", &json!({ "messages": "hi" }))
        .await
        .assert_error(404, "Agent with id nope not found");
}

#[tokio::test]
async fn generate_answers_text_usage_and_finish_reason() {
    let server = TestServer::start(app()).await;
    let reply = server
        .post_json(
            "/api/agents/echo/generate",
            &json!({ "messages": [{ "role": "user", "content": [{ "type": "text", "text": "Hi there" }] }] }),
        )
        .await;
    reply.assert_status(200);
    let body = reply.json();
    assert_eq!(body["text"], "You said: Hi there");
    assert_eq!(body["finishReason"], "stop");
    assert_eq!(body["usage"]["outputTokens"], 4);
    assert_eq!(
        body["usage"]["totalTokens"].as_u64().unwrap(),
        body["usage"]["inputTokens"].as_u64().unwrap() + 4
    );
    assert_eq!(body["toolCalls"], json!([]));
    assert!(body["runId"].as_str().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn stream_speaks_mastras_sse_framing_chunk_by_chunk() {
    let server = TestServer::start(app()).await;
    let reply = server
        .post_json(
            "/api/agents/echo/stream",
            &json!({ "messages": "one two three" }),
        )
        .await;
    reply.assert_status(200);
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    assert_eq!(reply.header("x-accel-buffering"), Some("no"));
    let chunks = sse_chunks(&reply.text);
    assert_text_answer(&chunks, 5, "You said: one two three");
    assert_eq!(
        chunks.last().unwrap()["payload"]["stepResult"]["reason"],
        "stop"
    );
}

#[tokio::test]
async fn invalid_bodies_are_400_with_issues() {
    let server = TestServer::start(app()).await;
    let missing = server
        .post_json("/api/agents/echo/generate", &json!({ "memory": 3 }))
        .await;
    missing.assert_error(400, "Invalid request body");
    let body = missing.json();
    let fields: Vec<&str> = body["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"messages"), "{fields:?}");
    assert!(fields.contains(&"memory"), "{fields:?}");
    let bad_role = server
        .post_json(
            "/api/agents/echo/stream",
            &json!({ "messages": [{ "role": "robot", "content": "x" }] }),
        )
        .await;
    bad_role.assert_error(400, "Invalid request body");
    assert!(bad_role.json()["issues"][0]["message"].is_string());
    server
        .post_json("/api/agents/echo/generate", &json!({ "messages": [] }))
        .await
        .assert_error(400, "messages must hold at least one message");
}

#[tokio::test]
async fn the_tool_loop_runs_tools_and_returns_their_results_to_the_model() {
    let server = TestServer::start(app()).await;
    let body = server
        .post_json(
            "/api/agents/echo/generate",
            &json!({ "messages": "please @shout {\"word\": \"hey\"}", "requestContext": { "tenant": "acme", "mastra__user": "forged" } }),
        )
        .await
        .json();
    assert_eq!(body["toolCalls"][0]["payload"]["toolName"], "shout");
    let result = &body["toolResults"][0]["payload"];
    assert_eq!(result["result"]["word"], "HEY");
    assert_eq!(
        result["result"]["tenant"], "acme",
        "client context reaches the tool"
    );
    assert_eq!(
        result["result"]["user"],
        Value::Null,
        "reserved keys are dropped"
    );
    assert_eq!(result["isError"], false);
    assert_eq!(body["steps"].as_array().unwrap().len(), 2);
    assert_eq!(body["finishReason"], "stop");
    assert_eq!(
        body["text"],
        r#"shout returned {"word":"HEY","tenant":"acme","user":null}"#
    );
}

#[tokio::test]
async fn invalid_tool_input_from_the_model_becomes_an_error_result_it_can_read() {
    let server = TestServer::start(app()).await;
    let body = server
        .post_json(
            "/api/agents/echo/generate",
            &json!({ "messages": "@shout {\"word\": \"\"}" }),
        )
        .await
        .json();
    let result = &body["toolResults"][0]["payload"];
    assert_eq!(result["isError"], true);
    assert_eq!(result["result"]["issues"][0]["field"], "word");
}

#[tokio::test]
async fn max_steps_bounds_the_tool_loop() {
    let server = TestServer::start(app()).await;
    let body = server
        .post_json(
            "/api/agents/echo/generate",
            &json!({ "messages": "@shout {\"word\": \"a\"}", "maxSteps": 1 }),
        )
        .await
        .json();
    assert_eq!(body["steps"].as_array().unwrap().len(), 1);
    assert_eq!(body["finishReason"], "tool-calls");
    assert_eq!(body["toolResults"][0]["payload"]["result"]["word"], "A");
    assert_eq!(body["text"], "");
}

#[tokio::test]
async fn an_unknown_model_provider_is_refused_at_startup() {
    let error = Mastra::builder()
        .agent(Agent::builder("x").model("acme/turbo"))
        .build()
        .unwrap_err();
    assert!(
        error.to_string().contains("unknown model provider `acme`"),
        "{error}"
    );
}
