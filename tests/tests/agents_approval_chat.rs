//! A `useChat` app seeing and answering a tool call that waits for approval through
//! `chat_route`: the `data-tool-call-approval` part (Mastra's AI SDK 5 form), then a decision
//! posted as `runId` + `resumeData: {approved}`.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use mastra_runtime::{
    memory::SqliteStorage,
    model::EchoModel,
    prelude::*,
    tool::{ToolContext, ToolError},
};
use mastra_tests::{delta_text, sse_chunks, test_config, types_of, TestServer};
use serde_json::{json, Value};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct DeleteInput {
    item_id: String,
}

fn app(runs: &Arc<AtomicUsize>) -> mastra_runtime::MastraBuilder {
    let runs = Arc::clone(runs);
    let delete = Tool::builder("delete-item")
        .description("Deletes an item")
        .require_approval(true)
        .execute(move |input: DeleteInput, _ctx: ToolContext| {
            let runs = Arc::clone(&runs);
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ToolError>(json!({ "deleted": input.item_id }))
            }
        });
    Mastra::builder()
        .agent(
            Agent::builder("clerk")
                .model(EchoModel::new().token_delay(std::time::Duration::ZERO))
                .tool(delete),
        )
        .storage(SqliteStorage::in_memory())
        .route(chat_route(ChatRouteOptions::default()))
        .server(test_config())
        .without_annotated_routes()
}

fn user_turn() -> Value {
    json!({
        "id": "chat-1",
        "trigger": "submit-message",
        "messages": [{"id": "m1", "role": "user", "parts": [
            {"type": "text", "text": r#"remove @delete-item {"itemId":"b2"}"#}
        ]}]
    })
}

/// Starts the turn; answers the run id and the approval part.
async fn ask(server: &TestServer) -> (String, Value) {
    let reply = server.post_json("/chat/clerk", &user_turn()).await;
    reply.assert_status(200);
    assert_eq!(reply.header("x-vercel-ai-ui-message-stream"), Some("v1"));
    let parts = sse_chunks(&reply.text);
    assert_eq!(
        types_of(&parts),
        [
            "start",
            "start-step",
            "tool-input-available",
            "data-tool-call-approval"
        ]
    );
    let approval = parts[3].clone();
    assert_eq!(approval["id"], parts[2]["toolCallId"]);
    let data = &approval["data"];
    assert_eq!(data["state"], "data-tool-call-approval");
    assert_eq!(data["runId"], parts[0]["messageId"]);
    assert_eq!(data["toolCallId"], parts[2]["toolCallId"]);
    assert_eq!(data["toolName"], "delete-item");
    assert_eq!(data["args"], json!({"itemId": "b2"}));
    (data["runId"].as_str().unwrap().to_owned(), approval)
}

fn answer(run_id: &str, approved: bool) -> Value {
    let mut body = user_turn();
    body["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": run_id, "role": "assistant", "parts": [{"type": "step-start"}]}));
    body["runId"] = json!(run_id);
    body["resumeData"] = json!({ "approved": approved });
    body
}

#[tokio::test]
async fn use_chat_sees_the_approval_and_approves_it() {
    let runs = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(app(&runs)).await;
    let (run_id, approval) = ask(&server).await;
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    let reply = server
        .post_json("/chat/clerk", &answer(&run_id, true))
        .await;
    reply.assert_status(200);
    let parts = sse_chunks(&reply.text);
    let types = types_of(&parts);
    assert_eq!(&types[..2], ["start", "tool-output-available"]);
    assert_eq!(types.last(), Some(&"finish"));
    assert_eq!(parts[0]["messageId"], run_id.as_str());
    assert_eq!(parts[1]["toolCallId"], approval["id"]);
    assert_eq!(parts[1]["output"], json!({"deleted": "b2"}));
    assert_eq!(
        delta_text(&parts),
        r#"delete-item returned {"deleted":"b2"}"#
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // The same answer again is refused: the call was decided.
    server
        .post_json("/chat/clerk", &answer(&run_id, true))
        .await
        .assert_error_contains(409, "already decided");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn use_chat_declines_and_the_call_ends_as_an_output_error() {
    let runs = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(app(&runs)).await;
    let (run_id, approval) = ask(&server).await;
    let mut body = answer(&run_id, false);
    body["resumeData"]["toolCallId"] = approval["id"].clone();
    let reply = server.post_json("/chat/clerk", &body).await;
    reply.assert_status(200);
    let parts = sse_chunks(&reply.text);
    assert_eq!(&types_of(&parts)[..2], ["start", "tool-output-error"]);
    assert_eq!(parts[1]["toolCallId"], approval["id"]);
    assert_eq!(
        parts[1]["errorText"],
        "Tool call was not approved by the user"
    );
    assert_eq!(
        delta_text(&parts),
        r#"delete-item returned "Tool call was not approved by the user""#
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_decision_without_a_run_or_for_a_run_not_waiting_is_refused() {
    let runs = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(app(&runs)).await;
    let mut body = user_turn();
    body["resumeData"] = json!({ "approved": true });
    server
        .post_json("/chat/clerk", &body)
        .await
        .assert_error(400, "runId is required when resumeData is provided");
    server
        .post_json("/chat/clerk", &answer("no-such-run", true))
        .await
        .assert_error(404, "No suspended run no-such-run for agent clerk");
    let mut bad = answer("r", true);
    bad["resumeData"] = json!({ "approved": "yes" });
    server
        .post_json("/chat/clerk", &bad)
        .await
        .assert_status(400);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}
