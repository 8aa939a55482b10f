//! `chat_route`: the AI SDK `useChat` body in, the UI message stream protocol out; cancelled
//! when the client leaves; the request context in the body never overrides what middleware
//! set; route problems found when the server is built.

mod openapi_support;

use std::time::{Duration, Instant};

use mastra_runtime::{
    agent::{RESOURCE_ID_KEY, THREAD_ID_KEY},
    middleware::{Error, Next, ServiceRequest, ServiceResponse},
    model::EchoModel,
    prelude::*,
    MastraError,
};
use mastra_tests::{
    delta_text,
    leaving::{assert_fast, assert_never_saved, leave_after_first_text_delta},
    slow_provider::SlowProvider,
    sse_chunks, test_config, TestServer,
};
use serde_json::{json, Value};

#[derive(Deserialize, JsonSchema)]
struct NoInput {}

/// Returns what the run's request context holds under a few keys.
fn context_tool() -> Tool {
    Tool::builder("context")
        .description("Shows the request context")
        .execute(|_: NoInput, ctx: ToolContext| async move {
            let ctx = ctx.request_context();
            Ok::<_, ToolError>(json!({
                "tenant": ctx.get("tenant"),
                "extra": ctx.get("extra"),
                "region": ctx.get("region"),
                "resource": ctx.get(RESOURCE_ID_KEY),
            }))
        })
}

/// Route middleware: the tenant comes from the server, never from the client.
async fn tenant(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    RequestContext::of(req.request()).set("tenant", "from-middleware");
    next.call(req).await
}

/// Route middleware: the conversation is chosen by the server (as auth middleware would).
async fn owned_thread(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let ctx = RequestContext::of(req.request());
    ctx.set(THREAD_ID_KEY, "owned-thread");
    ctx.set(RESOURCE_ID_KEY, "owner");
    next.call(req).await
}

fn app(slow: Option<&SlowProvider>) -> mastra_runtime::MastraBuilder {
    let defaults = RequestContext::new();
    defaults.set("extra", "from-defaults");
    defaults.set("region", "eu");
    let mut builder = Mastra::builder()
        .agent(
            Agent::builder("echo")
                .model(EchoModel::new().token_delay(Duration::ZERO))
                .tool(context_tool())
                .memory(Memory::new()),
        )
        .storage(SqliteStorage::in_memory())
        .route(chat_route(ChatRouteOptions::default()).middleware(tenant))
        .route(chat_route(ChatRouteOptions {
            path: "/support".into(),
            agent: Some("echo".into()),
            default_options: GenerateOptions::new().request_context(defaults),
            ..Default::default()
        }))
        .route(
            chat_route(ChatRouteOptions {
                path: "/owned/:agentId".into(),
                ..Default::default()
            })
            .middleware(owned_thread),
        )
        .server(test_config())
        .without_annotated_routes();
    if let Some(slow) = slow {
        builder = builder.agent(
            Agent::builder("slow")
                .model(slow.model())
                .memory(Memory::new()),
        );
    }
    builder
}

fn user(id: &str, text: &str) -> Value {
    json!({ "id": id, "role": "user", "parts": [{ "type": "text", "text": text }] })
}

fn assistant(id: &str, text: &str) -> Value {
    json!({ "id": id, "role": "assistant",
            "parts": [{ "type": "step-start" }, { "type": "text", "text": text, "state": "done" }] })
}

/// What `useChat` posts through `DefaultChatTransport`, plus extra body fields.
fn use_chat_body(messages: Value, extra: Value) -> Value {
    let mut body = json!({ "id": "chat-1", "messages": messages, "trigger": "submit-message" });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body
}

/// The parts of a UI message stream reply.
fn parts(server_reply: &mastra_tests::Reply) -> Vec<Value> {
    server_reply.assert_status(200);
    assert_eq!(
        server_reply.header("x-vercel-ai-ui-message-stream"),
        Some("v1")
    );
    assert_eq!(
        server_reply.header("content-type"),
        Some("text/event-stream")
    );
    sse_chunks(&server_reply.text)
}

fn tool_output(parts: &[Value]) -> Value {
    parts
        .iter()
        .find(|p| p["type"] == "tool-output-available")
        .map(|p| p["output"].clone())
        .unwrap_or_else(|| panic!("no tool output in {parts:?}"))
}

#[tokio::test]
async fn chat_route_answers_a_use_chat_body_in_the_ui_message_stream_protocol() {
    let server = TestServer::start(app(None)).await;
    let messages = json!([
        user("m1", "Hello"),
        assistant("m2", "You said: Hello"),
        { "id": "m3", "role": "user", "parts": [
            { "type": "text", "text": "What is " },
            { "type": "file", "mediaType": "image/png", "url": "data:image/png;base64,AAAA" },
            { "type": "text", "text": "up?" }
        ] }
    ]);
    let reply = server
        .post_json("/chat/echo", &use_chat_body(messages, json!({})))
        .await;
    let parts = parts(&reply);
    let types: Vec<&str> = parts.iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"start"));
    assert_eq!(types.last(), Some(&"finish"));
    assert!(types.contains(&"start-step") && types.contains(&"finish-step"));
    assert_eq!(delta_text(&parts), "You said: What is up?");
}

#[tokio::test]
async fn the_request_context_in_the_body_never_overrides_what_middleware_set() {
    let server = TestServer::start(app(None)).await;
    let body = use_chat_body(
        json!([user("m1", "@context {}")]),
        json!({ "requestContext": {
            "tenant": "from-body",
            "extra": "from-body",
            RESOURCE_ID_KEY: "someone-else"
        } }),
    );
    let parts = parts(&server.post_json("/chat/echo", &body).await);
    assert_eq!(
        tool_output(&parts),
        json!({ "tenant": "from-middleware", "extra": "from-body", "region": null, "resource": null })
    );
}

#[tokio::test]
async fn default_options_fill_in_and_the_body_overrides_them() {
    let server = TestServer::start(app(None)).await;
    let plain = use_chat_body(json!([user("m1", "@context {}")]), json!({}));
    let parts_plain = parts(&server.post_json("/support", &plain).await);
    assert_eq!(
        tool_output(&parts_plain),
        json!({ "tenant": null, "extra": "from-defaults", "region": "eu", "resource": null })
    );
    let overriding = use_chat_body(
        json!([user("m1", "@context {}")]),
        json!({ "requestContext": { "extra": "from-body" } }),
    );
    let parts_overriding = parts(&server.post_json("/support", &overriding).await);
    assert_eq!(
        tool_output(&parts_overriding),
        json!({ "tenant": null, "extra": "from-body", "region": "eu", "resource": null })
    );
}

#[tokio::test]
async fn a_thread_chosen_by_middleware_wins_over_the_bodys_memory() {
    let server = TestServer::start(app(None)).await;
    let body = use_chat_body(
        json!([user("m1", "Hi")]),
        json!({ "memory": { "thread": "client-thread", "resource": "client" } }),
    );
    let parts = parts(&server.post_json("/owned/echo", &body).await);
    assert_eq!(delta_text(&parts), "You said: Hi");
    let owned = server.get("/api/memory/threads/owned-thread").await.json();
    assert_eq!(owned["resourceId"], "owner", "{owned}");
    server
        .get("/api/memory/threads/client-thread")
        .await
        .assert_error(404, "Thread with id client-thread not found");
}

#[tokio::test]
async fn with_memory_only_the_new_turn_is_taken_from_the_body() {
    let server = TestServer::start(app(None)).await;
    let memory = json!({ "memory": { "thread": "conversation", "resource": "me" } });
    let first = use_chat_body(json!([user("m1", "one")]), memory.clone());
    assert_eq!(
        delta_text(&parts(&server.post_json("/chat/echo", &first).await)),
        "You said: one"
    );
    // useChat sends the whole conversation again; the thread already has the first turn.
    let second = use_chat_body(
        json!([
            user("m1", "one"),
            assistant("m2", "You said: one"),
            user("m3", "two")
        ]),
        memory,
    );
    assert_eq!(
        delta_text(&parts(&server.post_json("/chat/echo", &second).await)),
        "You said: two"
    );
    let saved = server
        .get("/api/memory/threads/conversation/messages")
        .await
        .json();
    let texts: Vec<&str> = saved["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 4, "{saved}");
    for expected in ["one", "You said: one", "two", "You said: two"] {
        assert!(
            texts.contains(&expected),
            "{expected:?} missing in {texts:?}"
        );
    }
}

#[tokio::test]
async fn a_client_leaving_a_chat_stream_stops_the_model_request_and_saves_nothing() {
    let (words, delay) = (60, Duration::from_millis(50));
    let slow = SlowProvider::start(words, delay).await;
    let server = TestServer::start(app(Some(&slow))).await;
    let started = Instant::now();
    let body = use_chat_body(
        json!([user("m1", "Hello")]),
        json!({ "memory": { "thread": "left-chat", "resource": "me" } }),
    );
    let (_, left) = leave_after_first_text_delta(server.base(), "/chat/slow", &body).await;
    assert_fast(
        "client close -> upstream model connection closed (chat_route)",
        slow.wait_closed().await - left,
    );
    assert_eq!(slow.finished(), 0);
    assert_never_saved(&server, "left-chat", started, delay * words as u32).await;
}

#[tokio::test]
async fn an_unknown_agent_is_404_and_a_body_without_messages_is_400() {
    let server = TestServer::start(app(None)).await;
    server
        .post_json(
            "/chat/nope",
            &use_chat_body(json!([user("m1", "Hi")]), json!({})),
        )
        .await
        .assert_error(404, "Agent with id nope not found");
    let reply = server
        .post_json(
            "/chat/echo",
            &json!({ "id": "chat-1", "trigger": "submit-message" }),
        )
        .await;
    reply.assert_error(400, "Invalid request body");
    assert!(reply.text.contains("messages"), "{}", reply.text);
}

#[tokio::test]
async fn chat_route_problems_are_reported_together_when_the_server_is_built() {
    let error = Mastra::builder()
        .agent(Agent::builder("echo").model("mastra/echo"))
        .route(chat_route(ChatRouteOptions {
            path: "/fixed".into(),
            agent: Some("missing".into()),
            ..Default::default()
        }))
        .route(chat_route(ChatRouteOptions {
            path: "/no-param".into(),
            ..Default::default()
        }))
        .server(test_config())
        .without_annotated_routes()
        .build()
        .expect_err("both routes are wrong");
    assert!(matches!(error, MastraError::Routes(_)), "{error}");
    let text = error.to_string();
    assert_eq!(error.route_problems().len(), 2, "{text}");
    assert!(text.contains("missing"), "{text}");
    assert!(
        text.contains("/no-param has no :agentId parameter"),
        "{text}"
    );
}

#[tokio::test]
async fn every_chat_route_is_documented_with_its_own_path() {
    let server = TestServer::start(app(None)).await;
    let doc = openapi_support::document(&server).await;
    let by_agent = &doc["paths"]["/chat/{agentId}"]["post"];
    assert_eq!(by_agent["parameters"][0]["name"], "agentId", "{by_agent}");
    let fixed = &doc["paths"]["/support"]["post"];
    assert!(fixed.is_object(), "{}", doc["paths"]);
    assert!(
        fixed["parameters"].is_null(),
        "a fixed agent takes no parameter: {fixed}"
    );
    for operation in [by_agent, fixed] {
        assert_eq!(
            operation["responses"]["200"]["content"]["text/event-stream"]["schema"]["$ref"],
            "#/components/schemas/UiMessageChunk",
            "{operation}"
        );
        assert_eq!(operation["tags"], json!(["chat"]));
    }
    openapi_support::assert_valid_openapi(&doc, "chat-route");
}
