//! The MCP server over raw Streamable HTTP: sessions (2025 revisions), the stateless
//! 2026-07-28 revision, each kind of tool, bad arguments, unknown tools, auth, Origin checks,
//! the listing and the REST view of tools. The official TypeScript client is driven at the end.

use std::time::Duration;

use mastra_runtime::{
    auth::{AuthConfig, JwtAuth, Rule},
    model::EchoModel,
    prelude::*,
    tool::{ToolContext, ToolError},
    workflow::{Step, StepContext, StepError},
};
use mastra_tests::{
    jwt::{claims, hs256, SECRET},
    node::npm_dir,
    test_config, Reply, TestServer,
};
use reqwest::Method;
use serde_json::{json, Value};

const ENDPOINT: &str = "/api/mcp/test-mcp/mcp";
const ACCEPT_BOTH: &str = "application/json, text/event-stream";

#[derive(Deserialize, Serialize, JsonSchema)]
struct DivideInput {
    /// Dividend.
    a: f64,
    /// Divisor, not zero.
    b: f64,
}

#[derive(Serialize, JsonSchema)]
struct Quotient {
    quotient: f64,
}

fn divide() -> Tool {
    Tool::builder("divide")
        .description("Divides a by b")
        .execute(|i: DivideInput, _: ToolContext| async move {
            if i.b == 0.0 {
                return Err(ToolError::new("division by zero"));
            }
            Ok(Quotient {
                quotient: i.a / i.b,
            })
        })
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct Word {
    #[schemars(length(min = 1))]
    word: String,
}

fn shout() -> Workflow {
    Workflow::builder("shout")
        .description("Upper-cases a word")
        .then(
            Step::builder("upper").execute(|w: Word, _: StepContext| async move {
                Ok::<_, StepError>(Word {
                    word: w.word.to_uppercase(),
                })
            }),
        )
        .commit()
        .expect("the workflow fits together")
}

/// `?detail=` of `get_item`.
#[derive(Deserialize, JsonSchema)]
struct Detail {
    /// Whether to say more.
    #[serde(default)]
    detail: Option<bool>,
}

/// Looks an item up.
async fn get_item(Path(item_id): Path<String>, Query(q): Query<Detail>) -> Json<Value> {
    Json(json!({"id": item_id, "detail": q.detail.unwrap_or(false)}))
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct NewItem {
    #[schemars(length(min = 1))]
    name: String,
    #[schemars(range(min = 0))]
    price: f64,
}

/// Creates an item.
async fn create_item(Json(item): Json<NewItem>) -> Json<NewItem> {
    Json(item)
}

async fn secret() -> Json<Value> {
    Json(json!({"secret": 42}))
}

fn app() -> mastra_runtime::MastraBuilder {
    Mastra::builder()
        .route(
            ApiRoute::get("/items/:itemId")
                .inferred_handler(get_item)
                .mcp("get_item"),
        )
        .route(
            ApiRoute::post("/items")
                .inferred_handler(create_item)
                .mcp("create_item"),
        )
        .route(
            ApiRoute::get("/secret")
                .inferred_handler(secret)
                .mcp("get_secret"),
        )
        .agent(
            Agent::builder("echo")
                .description("Says it back")
                .instructions("Repeat the user.")
                .model(EchoModel::new().token_delay(std::time::Duration::ZERO)),
        )
        .workflow(shout())
        .tool(divide())
        .mcp_server(
            McpServer::new("test-mcp")
                .name("Test MCP")
                .version("0.1.0")
                .allowed_origin("https://allowed.example"),
        )
        .server(test_config())
        .without_annotated_routes()
}

async fn auth_server() -> TestServer {
    // Every route for any user, but `/secret` for nobody: a rule MCP calls must meet too.
    let auth = AuthConfig::new(JwtAuth::hs256(SECRET).expect("valid secret"))
        .rule(Rule::deny("/secret"))
        .rule(Rule::allow("/*"));
    TestServer::start(app().server(test_config().auth(auth))).await
}

/// One POST of a JSON-RPC message with the given extra headers.
async fn post(server: &TestServer, body: &Value, headers: &[(&str, &str)]) -> Reply {
    let mut request = server
        .request(Method::POST, ENDPOINT)
        .header("accept", ACCEPT_BOTH)
        .json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    server.send(request).await
}

/// The one JSON-RPC message of an `event: message` SSE reply.
#[track_caller]
fn sse_message(reply: &Reply) -> Value {
    reply.assert_status(200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/event-stream"),
        "body: {}",
        reply.text
    );
    let data = reply
        .text
        .strip_prefix("event: message\ndata: ")
        .unwrap_or_else(|| panic!("not one message frame: {:?}", reply.text));
    serde_json::from_str(data.trim_end()).expect("the frame's data is JSON")
}

fn request(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// `initialize` for `version`, then `notifications/initialized`; the session id.
async fn open_session(server: &TestServer, version: &str, extra: &[(&str, &str)]) -> String {
    let init = request(
        1,
        "initialize",
        json!({"protocolVersion": version, "capabilities": {},
               "clientInfo": {"name": "raw", "version": "1"}}),
    );
    let reply = post(server, &init, extra).await;
    let message = sse_message(&reply);
    assert_eq!(message["result"]["protocolVersion"], version, "{message}");
    assert_eq!(message["result"]["serverInfo"]["name"], "Test MCP");
    assert!(message["result"]["capabilities"]["tools"].is_object());
    let session = reply
        .header("mcp-session-id")
        .expect("initialize answers a session id")
        .to_owned();
    let mut headers = extra.to_vec();
    headers.push(("mcp-session-id", &session));
    headers.push(("mcp-protocol-version", version));
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    post(server, &note, &headers).await.assert_status(202);
    session
}

/// A request in session `session`.
async fn in_session(server: &TestServer, session: &str, body: &Value) -> Value {
    sse_message(&post(server, body, &[("mcp-session-id", session)]).await)
}

/// A `tools/call` in session `session`: the result.
async fn call(server: &TestServer, session: &str, name: &str, arguments: Value) -> Value {
    let message = in_session(
        server,
        session,
        &request(
            7,
            "tools/call",
            json!({"name": name, "arguments": arguments}),
        ),
    )
    .await;
    assert_eq!(message["id"], 7, "{message}");
    message["result"].clone()
}

fn text_of(result: &Value) -> &str {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text content: {result}"))
}

#[tokio::test]
async fn initialize_opens_a_session_for_each_2025_revision() {
    let server = TestServer::start(app()).await;
    for version in ["2025-11-25", "2025-06-18"] {
        let session = open_session(&server, version, &[]).await;
        let pong = in_session(&server, &session, &request(2, "ping", json!({}))).await;
        assert_eq!(pong, json!({"jsonrpc": "2.0", "id": 2, "result": {}}));
    }
}

#[tokio::test]
async fn an_unknown_revision_in_initialize_negotiates_the_newest_session_revision() {
    let server = TestServer::start(app()).await;
    let init = request(1, "initialize", json!({"protocolVersion": "2024-01-01"}));
    let message = sse_message(&post(&server, &init, &[]).await);
    assert_eq!(message["result"]["protocolVersion"], "2025-11-25");
}

#[tokio::test]
async fn tools_list_names_agents_workflows_and_tools_with_their_schemas() {
    let server = TestServer::start(app()).await;
    let session = open_session(&server, "2025-11-25", &[]).await;
    let message = in_session(&server, &session, &request(2, "tools/list", json!({}))).await;
    let tools = message["result"]["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "ask_echo",
            "create_item",
            "divide",
            "get_item",
            "get_secret",
            "run_shout"
        ]
    );
    for tool in tools {
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
    }
    let by_name = |name: &str| {
        tools
            .iter()
            .find(|t| t["name"] == name)
            .expect(name)
            .clone()
    };
    assert_eq!(
        by_name("ask_echo")["inputSchema"]["required"],
        json!(["message"])
    );
    assert_eq!(
        by_name("divide")["inputSchema"]["required"],
        json!(["a", "b"])
    );
    assert_eq!(by_name("divide")["description"], "Divides a by b");
    assert_eq!(
        by_name("run_shout")["inputSchema"]["required"],
        json!(["word"])
    );
    // A route's path parameters, query and body merged into one object.
    let get = by_name("get_item");
    assert_eq!(get["inputSchema"]["required"], json!(["itemId"]));
    assert!(
        get["inputSchema"]["properties"]["detail"].is_object(),
        "{get}"
    );
    let create = by_name("create_item");
    assert_eq!(create["inputSchema"]["required"], json!(["name", "price"]));
}

#[tokio::test]
async fn each_kind_of_tool_answers_its_result_as_json_text() {
    let server = TestServer::start(app()).await;
    let session = open_session(&server, "2025-11-25", &[]).await;

    let answer = call(
        &server,
        &session,
        "ask_echo",
        json!({"message": "hello mcp"}),
    )
    .await;
    assert_eq!(answer["isError"], false, "{answer}");
    let output: Value = serde_json::from_str(text_of(&answer)).expect("generate output JSON");
    assert!(
        output["text"].as_str().unwrap_or("").contains("hello mcp"),
        "{output}"
    );

    let run = call(&server, &session, "run_shout", json!({"word": "quiet"})).await;
    assert_eq!(run["isError"], false, "{run}");
    let result: Value = serde_json::from_str(text_of(&run)).expect("run result JSON");
    assert_eq!(result["status"], "success");
    assert_eq!(result["result"], json!({"word": "QUIET"}));

    let tool = call(&server, &session, "divide", json!({"a": 9, "b": 3})).await;
    assert_eq!(tool["isError"], false, "{tool}");
    let output: Value = serde_json::from_str(text_of(&tool)).expect("tool output JSON");
    assert_eq!(output, json!({"quotient": 3.0}));
}

#[tokio::test]
async fn an_agent_call_with_a_progress_token_streams_progress_then_the_result() {
    let server = TestServer::start(app()).await;
    let session = open_session(&server, "2025-11-25", &[]).await;
    let call = request(
        9,
        "tools/call",
        json!({"name": "ask_echo", "arguments": {"message": "one two three"},
               "_meta": {"progressToken": "p-1"}}),
    );
    let reply = post(&server, &call, &[("mcp-session-id", &session)]).await;
    reply.assert_status(200);
    let messages: Vec<Value> = reply
        .text
        .split("\n\n")
        .filter_map(|frame| frame.strip_prefix("event: message\ndata: "))
        .map(|data| serde_json::from_str(data).expect("frame data is JSON"))
        .collect();
    let (last, progress) = messages.split_last().expect("at least the result");
    assert_eq!(last["id"], 9, "{}", reply.text);
    assert_eq!(last["result"]["isError"], false, "{last}");
    assert!(!progress.is_empty(), "no progress in {}", reply.text);
    let mut previous = 0;
    for note in progress {
        assert_eq!(note["method"], "notifications/progress", "{note}");
        assert_eq!(note["params"]["progressToken"], "p-1", "{note}");
        let n = note["params"]["progress"].as_u64().expect("a count");
        assert!(n > previous, "progress must increase: {}", reply.text);
        previous = n;
    }
}

#[tokio::test]
async fn bad_arguments_failures_and_unknown_tools_are_error_results() {
    let server = TestServer::start(app()).await;
    let session = open_session(&server, "2025-11-25", &[]).await;
    let cases = [
        (
            "divide",
            json!({"a": "nine", "b": 3}),
            "Invalid arguments for tool divide",
        ),
        ("divide", json!({"a": 1, "b": 0}), "division by zero"),
        (
            "run_shout",
            json!({"word": ""}),
            "Invalid arguments for tool run_shout",
        ),
        (
            "ask_echo",
            json!({"msg": "x"}),
            "Invalid arguments for tool ask_echo",
        ),
        (
            "ask_echo",
            json!({"message": 5}),
            "message: expected a string",
        ),
        ("nope", json!({}), "Unknown tool: nope"),
    ];
    for (name, arguments, needle) in cases {
        let result = call(&server, &session, name, arguments.clone()).await;
        assert_eq!(result["isError"], true, "{name} {arguments}: {result}");
        assert!(
            text_of(&result).contains(needle),
            "{name} {arguments}: {result} does not say {needle:?}"
        );
    }
    // The server is still serving.
    let ok = call(&server, &session, "divide", json!({"a": 1, "b": 2})).await;
    assert_eq!(ok["isError"], false, "{ok}");
}

#[tokio::test]
async fn a_request_without_a_session_is_400_and_an_unknown_session_404() {
    let server = TestServer::start(app()).await;
    let list = request(2, "tools/list", json!({}));
    let reply = post(&server, &list, &[]).await;
    reply.assert_status(400);
    assert_eq!(reply.json()["error"]["code"], -32000, "{}", reply.text);

    let reply = post(&server, &list, &[("mcp-session-id", "no-such-session")]).await;
    reply.assert_status(404);
    assert_eq!(
        reply.json()["error"],
        json!({"code": -32000, "message": "Session not found"})
    );
}

#[tokio::test]
async fn delete_ends_the_session_then_its_id_is_404() {
    let server = TestServer::start(app()).await;
    let session = open_session(&server, "2025-11-25", &[]).await;
    let delete = server
        .request(Method::DELETE, ENDPOINT)
        .header("mcp-session-id", &session);
    server.send(delete).await.assert_status(200);
    let reply = post(
        &server,
        &request(3, "ping", json!({})),
        &[("mcp-session-id", &session)],
    )
    .await;
    reply.assert_status(404);
    assert_eq!(reply.json()["error"]["message"], "Session not found");
    let again = server
        .request(Method::DELETE, ENDPOINT)
        .header("mcp-session-id", &session);
    server.send(again).await.assert_status(404);
    server
        .send(server.request(Method::DELETE, ENDPOINT))
        .await
        .assert_status(400);
}

#[tokio::test]
async fn get_opens_the_sessions_server_stream_until_the_session_ends() {
    let server = TestServer::start(app()).await;
    let stream_request = |session: Option<&str>, accept: &str| {
        let request = server
            .request(Method::GET, ENDPOINT)
            .header("accept", accept);
        match session {
            Some(session) => request.header("mcp-session-id", session),
            None => request,
        }
    };
    // No session, no stream (revision 2026-07-28 has none).
    server
        .send(stream_request(None, "text/event-stream"))
        .await
        .assert_status(405);
    server
        .send(stream_request(Some("no-such-session"), "text/event-stream"))
        .await
        .assert_status(404);
    let session = open_session(&server, "2025-11-25", &[]).await;
    server
        .send(stream_request(Some(&session), "application/json"))
        .await
        .assert_status(406);

    let mut stream = stream_request(Some(&session), "text/event-stream")
        .send()
        .await
        .expect("the server stream");
    assert_eq!(stream.status(), 200);
    assert_eq!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap_or_default(),
        "text/event-stream"
    );
    let first = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
        .await
        .expect("a first frame in time")
        .expect("a readable stream")
        .expect("a first frame");
    assert!(first.starts_with(b":"), "a comment frame: {first:?}");

    // The session goes on serving requests while its stream is open.
    let listed = in_session(&server, &session, &request(2, "tools/list", json!({}))).await;
    assert!(listed["result"]["tools"].is_array(), "{listed}");

    // Ending the session ends its stream.
    let delete = server
        .request(Method::DELETE, ENDPOINT)
        .header("mcp-session-id", &session);
    server.send(delete).await.assert_status(200);
    let rest = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(frame) = stream.chunk().await.expect("a readable stream") {
            assert!(frame.starts_with(b":"), "only comment frames: {frame:?}");
        }
    })
    .await;
    assert!(
        rest.is_ok(),
        "the stream stayed open after the session ended"
    );
}

#[tokio::test]
async fn the_stateless_revision_needs_no_initialize_and_marks_results_complete() {
    let server = TestServer::start(app()).await;
    let headers = [("mcp-protocol-version", "2026-07-28")];
    let discover =
        sse_message(&post(&server, &request(1, "server/discover", json!({})), &headers).await);
    assert_eq!(
        discover["result"]["supportedVersions"],
        json!(["2026-07-28", "2025-11-25", "2025-06-18"])
    );
    assert_eq!(discover["result"]["resultType"], "complete");
    let call = request(
        2,
        "tools/call",
        json!({"name": "divide", "arguments": {"a": 8, "b": 2}}),
    );
    let reply = post(&server, &call, &headers).await;
    assert_eq!(reply.header("mcp-session-id"), None);
    let message = sse_message(&reply);
    assert_eq!(message["result"]["resultType"], "complete");
    assert_eq!(text_of(&message["result"]), r#"{"quotient":4.0}"#);

    // The revision can travel in `_meta` instead of the header.
    let meta = request(
        3,
        "tools/list",
        json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}),
    );
    let listed = sse_message(&post(&server, &meta, &[]).await);
    assert_eq!(listed["result"]["tools"].as_array().map(Vec::len), Some(6));
    assert_eq!(listed["result"]["cacheScope"], "private");
    assert!(listed["result"]["ttlMs"].is_u64(), "{listed}");

    let unknown = post(&server, &call, &[("mcp-protocol-version", "1999-01-01")]).await;
    unknown.assert_status(400);
    assert_eq!(unknown.json()["error"]["code"], -32022, "{}", unknown.text);
}

#[tokio::test]
async fn a_client_accepting_only_json_gets_json() {
    let server = TestServer::start(app()).await;
    let reply = server
        .send(
            server
                .request(Method::POST, ENDPOINT)
                .header("accept", "application/json")
                .header("mcp-protocol-version", "2026-07-28")
                .json(&request(1, "ping", json!({}))),
        )
        .await;
    reply.assert_status(200);
    assert_eq!(reply.json()["result"]["resultType"], "complete");
}

#[tokio::test]
async fn unknown_methods_and_malformed_messages_are_json_rpc_errors() {
    let server = TestServer::start(app()).await;
    let headers = [("mcp-protocol-version", "2026-07-28")];
    let message =
        sse_message(&post(&server, &request(1, "resources/list", json!({})), &headers).await);
    assert_eq!(message["error"]["code"], -32601, "{message}");

    let reply = post(&server, &json!([request(1, "ping", json!({}))]), &headers).await;
    reply.assert_status(400);
    assert_eq!(reply.json()["error"]["code"], -32600);

    let reply = post(&server, &json!({"jsonrpc": "2.0", "id": 1}), &headers).await;
    reply.assert_status(400);

    let not_json = server
        .send_raw(Method::POST, ENDPOINT, Some("application/json"), "{nope")
        .await;
    not_json.assert_status(400);
    assert!(not_json.json()["error"].is_string(), "{}", not_json.text);
}

#[tokio::test]
async fn a_body_nested_past_the_limit_is_refused_before_any_call() {
    let server = TestServer::start(app()).await;
    let deep = format!("{}1{}", "[".repeat(2000), "]".repeat(2000));
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"divide","arguments":{{"a":{deep},"b":1}}}}}}"#
    );
    let reply = server
        .send(
            server
                .request(Method::POST, ENDPOINT)
                .header("accept", ACCEPT_BOTH)
                .header("content-type", "application/json")
                .header("mcp-protocol-version", "2026-07-28")
                .body(body),
        )
        .await;
    reply.assert_status(400);
    assert!(reply.json()["error"].is_string(), "{}", reply.text);
}

#[tokio::test]
async fn a_foreign_origin_is_refused_and_local_or_own_origins_pass() {
    let server = TestServer::start(app()).await;
    let ping = request(1, "ping", json!({}));
    let stateless = ("mcp-protocol-version", "2026-07-28");
    for origin in [
        "https://evil.example",
        "null",
        "http://127.0.0.1.evil.example",
    ] {
        let reply = post(&server, &ping, &[stateless, ("origin", origin)]).await;
        reply.assert_status(403);
        assert!(
            reply.json()["error"]
                .as_str()
                .unwrap_or("")
                .contains("not allowed"),
            "{origin}: {}",
            reply.text
        );
    }
    let own = server.base().to_owned();
    for origin in [
        "http://localhost:5173",
        "http://127.0.0.1:3000",
        "http://[::1]:8080",
        "https://allowed.example",
        own.as_str(),
    ] {
        let reply = post(&server, &ping, &[stateless, ("origin", origin)]).await;
        assert_eq!(reply.status, 200, "{origin}: {}", reply.text);
    }
}

#[tokio::test]
async fn with_auth_the_endpoint_needs_a_token() {
    let server = auth_server().await;
    let ping = request(1, "ping", json!({}));
    let stateless = ("mcp-protocol-version", "2026-07-28");
    post(&server, &ping, &[stateless])
        .await
        .assert_error(401, "Invalid or expired token");
    post(
        &server,
        &ping,
        &[stateless, ("authorization", "Bearer not-a-token")],
    )
    .await
    .assert_error(401, "Invalid or expired token");
    server
        .get("/api/mcp/v0/servers")
        .await
        .assert_error(401, "Invalid or expired token");

    let bearer = format!("Bearer {}", hs256(&claims("mcp-user")));
    let session = open_session(&server, "2025-11-25", &[("authorization", &bearer)]).await;
    let reply = post(
        &server,
        &request(
            2,
            "tools/call",
            json!({"name": "divide", "arguments": {"a": 1, "b": 4}}),
        ),
        &[("mcp-session-id", &session), ("authorization", &bearer)],
    )
    .await;
    let message = sse_message(&reply);
    assert_eq!(text_of(&message["result"]), r#"{"quotient":0.25}"#);
    // The session alone is not a credential.
    post(&server, &ping, &[("mcp-session-id", &session)])
        .await
        .assert_error(401, "Invalid or expired token");
}

#[tokio::test]
async fn servers_are_listed_and_their_tools_have_a_rest_view() {
    let server = TestServer::start(app()).await;
    let listing = server.get("/api/mcp/v0/servers").await;
    listing.assert_status(200);
    let body = listing.json();
    assert_eq!(body["total_count"], 1);
    assert_eq!(body["servers"][0]["id"], "test-mcp");
    assert_eq!(body["servers"][0]["name"], "Test MCP");
    assert_eq!(body["servers"][0]["version_detail"]["version"], "0.1.0");

    let tools = server.get("/api/mcp/test-mcp/tools").await;
    tools.assert_status(200);
    let tools = tools.json()["tools"].clone();
    let kinds: Vec<(String, Value)> = tools
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or("").to_owned(),
                t["toolType"].clone(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("ask_echo".to_owned(), json!("agent")),
            ("create_item".to_owned(), json!("route")),
            ("divide".to_owned(), Value::Null),
            ("get_item".to_owned(), json!("route")),
            ("get_secret".to_owned(), json!("route")),
            ("run_shout".to_owned(), json!("workflow")),
        ]
    );
    server
        .get("/api/mcp/nope/tools")
        .await
        .assert_error(404, "MCP server with id nope not found");
    post(&server, &request(1, "ping", json!({})), &[])
        .await
        .assert_status(400);
    let unknown = server
        .send(
            server
                .request(Method::POST, "/api/mcp/nope/mcp")
                .header("accept", ACCEPT_BOTH)
                .json(&request(1, "ping", json!({}))),
        )
        .await;
    unknown.assert_error(404, "MCP server with id nope not found");
}

#[tokio::test]
async fn a_server_can_offer_chosen_items_and_unknown_ones_fail_the_build() {
    let server = TestServer::start(
        app().mcp_server(
            McpServer::new("only-divide")
                .agents([] as [&str; 0])
                .workflows([] as [&str; 0])
                .routes([] as [&str; 0])
                .tools(["divide"]),
        ),
    )
    .await;
    let tools = server.get("/api/mcp/only-divide/tools").await.json();
    assert_eq!(tools["tools"].as_array().map(Vec::len), Some(1));
    assert_eq!(tools["tools"][0]["name"], "divide");

    let error = app()
        .mcp_server(McpServer::new("broken").tools(["missing"]))
        .build()
        .expect_err("an unknown tool is refused");
    assert_eq!(
        error.to_string(),
        "MCP server `broken` offers tool `missing`, which is not registered"
    );
    let error = app()
        .mcp_server(McpServer::new("routes").routes(["no_such_route"]))
        .build()
        .expect_err("an unknown route tool is refused");
    assert!(error.to_string().contains("no_such_route"), "{error}");
    let error = app()
        .mcp_server(McpServer::new("test-mcp"))
        .build()
        .expect_err("two servers with one id are refused");
    assert!(error.to_string().contains("test-mcp"), "{error}");
}

#[tokio::test]
async fn a_custom_route_is_called_through_its_own_validation() {
    let server = TestServer::start(app()).await;
    let session = open_session(&server, "2025-11-25", &[]).await;
    let got = call(
        &server,
        &session,
        "get_item",
        json!({"itemId": "a b", "detail": true}),
    )
    .await;
    assert_eq!(got["isError"], false, "{got}");
    let body: Value = serde_json::from_str(text_of(&got)).expect("route body JSON");
    assert_eq!(body, json!({"id": "a b", "detail": true}));

    let made = call(
        &server,
        &session,
        "create_item",
        json!({"name": "Lamp", "price": 12.5}),
    )
    .await;
    assert_eq!(made["isError"], false, "{made}");
    let body: Value = serde_json::from_str(text_of(&made)).expect("route body JSON");
    assert_eq!(body, json!({"name": "Lamp", "price": 12.5}));

    let bad = call(
        &server,
        &session,
        "create_item",
        json!({"name": "", "price": -1}),
    )
    .await;
    assert_eq!(bad["isError"], true, "{bad}");
    assert!(text_of(&bad).starts_with("HTTP 400: "), "{bad}");

    let extra = call(
        &server,
        &session,
        "get_item",
        json!({"itemId": "1", "nope": 1}),
    )
    .await;
    assert_eq!(extra["isError"], true, "{extra}");
    assert!(text_of(&extra).contains("nope"), "{extra}");
}

#[tokio::test]
async fn a_custom_route_called_over_mcp_meets_its_auth_rules_with_the_callers_token() {
    let server = auth_server().await;
    let bearer = format!("Bearer {}", hs256(&claims("mcp-user")));
    let session = open_session(&server, "2025-11-25", &[("authorization", &bearer)]).await;
    let headers = [
        ("mcp-session-id", session.as_str()),
        ("authorization", &bearer),
    ];
    let allowed = sse_message(
        &post(
            &server,
            &request(
                5,
                "tools/call",
                json!({"name": "get_item", "arguments": {"itemId": "7"}}),
            ),
            &headers,
        )
        .await,
    );
    assert_eq!(allowed["result"]["isError"], false, "{allowed}");
    let denied = sse_message(
        &post(
            &server,
            &request(
                6,
                "tools/call",
                json!({"name": "get_secret", "arguments": {}}),
            ),
            &headers,
        )
        .await,
    );
    assert_eq!(denied["result"]["isError"], true, "{denied}");
    assert!(
        text_of(&denied["result"]).starts_with("HTTP 403"),
        "{denied}"
    );
}

#[tokio::test]
async fn the_quickstart_serves_its_agent_workflow_tool_and_item_route_over_mcp() {
    let server = TestServer::start(quickstart::app()).await;
    let tools = server.get("/api/mcp/quickstart-mcp/tools").await;
    tools.assert_status(200);
    let names: Vec<String> = tools.json()["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    for expected in [
        "ask_my-agent",
        "run_trip-planner",
        "celsius-to-fahrenheit",
        "get_item",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not in {names:?}"
        );
    }
    let reply = server
        .send(
            server
                .request(Method::POST, "/api/mcp/quickstart-mcp/mcp")
                .header("accept", ACCEPT_BOTH)
                .header("mcp-protocol-version", "2026-07-28")
                .json(&request(
                    1,
                    "tools/call",
                    json!({"name": "get_item", "arguments": {"itemId": "1"}}),
                )),
        )
        .await;
    let message = sse_message(&reply);
    assert_eq!(message["result"]["isError"], false, "{message}");
    let item: Value = serde_json::from_str(text_of(&message["result"])).expect("item JSON");
    assert_eq!(item["name"], "Sample Item");
}

/// Runs `script` in tests/js-mcp against a server without auth and one with it; asserts it
/// printed `done`.
async fn run_node_client(script: &str, package: &str, done: &str) {
    let js_dir = npm_dir("js-mcp", package);
    let open = TestServer::start(app()).await;
    let secured = auth_server().await;
    let token = hs256(&claims("sdk-user"));
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new("node")
            .arg(script)
            .current_dir(&js_dir)
            .env("MCP_URL", format!("{}{ENDPOINT}", open.base()))
            .env("MCP_AUTH_URL", format!("{}{ENDPOINT}", secured.base()))
            .env("MCP_TOKEN", &token)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{script} finished within 2 minutes"))
    .expect("node runs (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(done), "{stdout}\n{stderr}");
}

/// The official TypeScript SDK (`@modelcontextprotocol/sdk`, pinned in tests/js-mcp) against
/// the server, without and with auth: sessions, revision 2025-11-25.
#[tokio::test]
async fn the_official_typescript_client_lists_and_calls_every_kind_of_tool() {
    run_node_client(
        "mcp-client.mjs",
        "@modelcontextprotocol/sdk",
        "all MCP checks passed",
    )
    .await;
}

/// The official v2 client (`@modelcontextprotocol/client`, pinned) on revision 2026-07-28:
/// `server/discover`, no session, without and with auth.
#[tokio::test]
async fn the_official_v2_client_speaks_the_stateless_revision() {
    run_node_client(
        "mcp-client-2026.mjs",
        "@modelcontextprotocol/client",
        "all 2026-07-28 checks passed",
    )
    .await;
}
