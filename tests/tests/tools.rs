//! Built-in tool routes: listing with superjson schemas, execution with validated input, tool
//! failures, and the request context a tool sees.

use mastra_runtime::{
    prelude::*,
    tool::{ToolContext, ToolError},
};
use mastra_tests::{test_config, TestServer};
use serde_json::{json, Value};

#[derive(Deserialize, JsonSchema)]
struct DivideInput {
    /// Dividend.
    a: f64,
    /// Divisor, not zero.
    b: f64,
}

#[derive(Serialize, JsonSchema)]
struct DivideOutput {
    quotient: f64,
    tenant: Option<String>,
}

fn divide() -> Tool {
    Tool::builder("divide")
        .description("Divides a by b")
        .execute(|i: DivideInput, ctx: ToolContext| async move {
            if i.b == 0.0 {
                return Err(ToolError::new("division by zero"));
            }
            Ok(DivideOutput {
                quotient: i.a / i.b,
                tenant: ctx.request_context().get_as("tenant"),
            })
        })
}

async fn server() -> TestServer {
    let tool = divide();
    TestServer::start(
        Mastra::builder()
            .tool(tool.clone())
            .agent(Agent::builder("helper").model("mastra/echo").tool(tool))
            .server(test_config())
            .without_annotated_routes(),
    )
    .await
}

#[tokio::test]
async fn tools_are_listed_with_superjson_schemas() {
    let server = server().await;
    let all = server.get("/api/tools").await.json();
    assert_eq!(
        all.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["divide"]
    );
    let one = server.get("/api/tools/divide").await.json();
    assert_eq!(one, all["divide"]);
    assert_eq!(one["description"], "Divides a by b");
    let input: Value = serde_json::from_str(one["inputSchema"].as_str().unwrap()).unwrap();
    assert_eq!(input["json"]["required"], json!(["a", "b"]));
    assert_eq!(
        input["json"]["properties"]["b"]["description"],
        "Divisor, not zero."
    );
    let output: Value = serde_json::from_str(one["outputSchema"].as_str().unwrap()).unwrap();
    assert!(output["json"]["properties"]["quotient"].is_object());
    server
        .get("/api/tools/nope")
        .await
        .assert_error(404, "Tool with id nope not found");
}

#[tokio::test]
async fn execute_validates_data_then_runs_the_tool() {
    let server = server().await;
    let ok = server
        .post_json(
            "/api/tools/divide/execute",
            &json!({ "data": { "a": 9, "b": 3 }, "requestContext": { "tenant": "acme" } }),
        )
        .await;
    ok.assert_status(200);
    assert_eq!(ok.json(), json!({ "quotient": 3.0, "tenant": "acme" }));

    let invalid = server
        .post_json(
            "/api/tools/divide/execute",
            &json!({ "data": { "a": "nine" } }),
        )
        .await;
    invalid.assert_error(400, "Invalid request body");
    let issues = invalid.json()["issues"].clone();
    let mut fields: Vec<&str> = issues
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["data.a", "data.b"]);

    let no_data = server
        .post_json("/api/tools/divide/execute", &json!({}))
        .await;
    no_data.assert_error(400, "Invalid request body");
    assert_eq!(no_data.json()["issues"][0]["field"], "data");

    server
        .post_json("/api/tools/nope/execute", &json!({ "data": {} }))
        .await
        .assert_error(404, "Tool with id nope not found");
}

#[tokio::test]
async fn a_failing_tool_answers_500_with_its_message() {
    let server = server().await;
    server
        .post_json(
            "/api/tools/divide/execute",
            &json!({ "data": { "a": 1, "b": 0 } }),
        )
        .await
        .assert_error(500, "tool divide failed: division by zero");
}

#[tokio::test]
async fn two_different_tools_with_one_id_are_refused_at_startup() {
    let error = Mastra::builder()
        .tool(divide())
        .agent(Agent::builder("helper").model("mastra/echo").tool(divide()))
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "two tools are registered with id `divide`"
    );
}
