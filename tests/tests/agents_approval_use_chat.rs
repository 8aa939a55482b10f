//! useChat's engine from the pinned `ai` package (tests/js-ai) sees a tool call waiting for
//! approval through `chat_route` and answers it (tests/js-ai/approval-chat.mjs, run on its own
//! so `node --test` in tests/js-ai keeps its count).

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use mastra_runtime::{
    memory::SqliteStorage,
    model::EchoModel,
    prelude::*,
    tool::{ToolContext, ToolError},
};
use mastra_tests::{node::npm_dir, test_config, TestServer};
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct DeleteInput {
    item_id: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_chat_sees_and_answers_a_tool_call_waiting_for_approval() {
    let js_dir = npm_dir("js-ai", "ai");
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let delete = Tool::builder("delete-item")
        .description("Deletes an item")
        .require_approval(true)
        .execute(move |input: DeleteInput, _ctx: ToolContext| {
            let counted = Arc::clone(&counted);
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ToolError>(json!({ "deleted": input.item_id }))
            }
        });
    let server = TestServer::start(
        Mastra::builder()
            .agent(
                Agent::builder("clerk")
                    .model(EchoModel::new().token_delay(Duration::ZERO))
                    .tool(delete),
            )
            .storage(SqliteStorage::in_memory())
            .route(chat_route(ChatRouteOptions::default()))
            .server(test_config())
            .without_annotated_routes(),
    )
    .await;
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node")
            .args(["--test", "--test-reporter=spec", "approval-chat.mjs"])
            .current_dir(&js_dir)
            .env("MASTRA_URL", server.base())
            .output(),
    )
    .await
    .expect("the useChat approval test finished within 2 minutes")
    .expect("node runs (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "useChat approval test failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("pass 2") && stdout.contains("fail 0"),
        "expected 2 passing tests:\n{stdout}"
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "approved once, declined once"
    );
}
