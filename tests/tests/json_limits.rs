//! The item limit of JSON request bodies is the application's setting
//! (`ServerConfig::max_json_items`): a body with more items is refused before it is parsed,
//! naming the limit the application chose, and a limit that would refuse every body fails the
//! build.

use mastra_runtime::{prelude::*, schema::MAX_JSON_ITEMS, tool::ToolContext, MastraBuilder};
use mastra_tests::{test_config, TestServer};
use serde_json::{json, Value};

fn count_tool() -> Tool {
    Tool::builder("count")
        .description("Counts the numbers it is given")
        .execute(|numbers: Vec<i64>, _: ToolContext| async move {
            Ok::<_, mastra_runtime::tool::ToolError>(numbers.len())
        })
}

fn app(config: ServerConfig) -> MastraBuilder {
    Mastra::builder()
        .tool(count_tool())
        .server(config)
        .without_annotated_routes()
}

fn numbers(count: usize) -> Value {
    json!({ "data": (0..count).collect::<Vec<_>>() })
}

#[tokio::test]
async fn the_item_limit_is_the_applications_setting() {
    let server = TestServer::start(app(test_config().max_json_items(20))).await;
    // `{"data": [...]}`: one member, then one item per number.
    let fits = server
        .post_json("/api/tools/count/execute", &numbers(19))
        .await;
    fits.assert_status(200);
    assert_eq!(fits.json(), json!(19));
    let over = server
        .post_json("/api/tools/count/execute", &numbers(20))
        .await;
    over.assert_error_contains(400, "more than 20 items");
    assert_eq!(over.json()["limit"], 20, "{}", over.text);
    server.stop().await;

    // The default takes a body of many more numbers.
    let server = TestServer::start(app(test_config())).await;
    let many = server
        .post_json("/api/tools/count/execute", &numbers(MAX_JSON_ITEMS / 2))
        .await;
    many.assert_status(200);
    server.stop().await;
}

#[test]
fn an_item_limit_of_zero_fails_the_build() {
    let error = app(test_config().max_json_items(0))
        .build()
        .expect_err("a zero item limit is refused");
    assert_eq!(
        error.to_string(),
        "invalid configuration: max_json_items must be at least 1"
    );
}
