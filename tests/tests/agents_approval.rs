//! Tool calls that wait for approval, over HTTP on 127.0.0.1 with the offline model: the
//! listing, the suspended stream, `suspended-runs`, approve and decline (stream and generate),
//! refusals of unknown and decided calls, concurrent decisions, memory saved once, several calls
//! in one step (a scripted model), and a run suspended on one server continued by another
//! sharing its database.

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
use mastra_tests::{delta_text, sse_chunks, temp_dir, test_config, types_of, TestServer};
use serde_json::{json, Value};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct DeleteInput {
    item_id: String,
}

#[derive(Serialize, JsonSchema)]
struct DeleteOutput {
    deleted: String,
}

/// A tool requiring approval that counts its runs.
fn delete_tool(runs: Arc<AtomicUsize>) -> Tool {
    Tool::builder("delete-item")
        .description("Deletes an item")
        .require_approval(true)
        .execute(move |input: DeleteInput, _ctx: ToolContext| {
            let runs = Arc::clone(&runs);
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ToolError>(DeleteOutput {
                    deleted: input.item_id,
                })
            }
        })
}

fn free_tool() -> Tool {
    Tool::builder("count")
        .description("Counts letters")
        .execute(|input: DeleteInput, _ctx: ToolContext| async move {
            Ok::<_, ToolError>(input.item_id.len())
        })
}

fn app(runs: &Arc<AtomicUsize>, storage: SqliteStorage) -> mastra_runtime::MastraBuilder {
    Mastra::builder()
        .agent(
            Agent::builder("clerk")
                .instructions("Delete what you are asked to.")
                .model(EchoModel::new().token_delay(std::time::Duration::ZERO))
                .tool(delete_tool(Arc::clone(runs)))
                .tool(free_tool())
                .memory(Memory::new()),
        )
        .storage(storage)
        .server(test_config())
        .without_annotated_routes()
}

const ASK: &str = r#"please @delete-item {"itemId":"a1"}"#;

fn ask_body(thread: &str) -> Value {
    json!({ "messages": ASK, "memory": { "thread": thread, "resource": "user-1" } })
}

/// Streams the request that suspends; answers the chunks.
async fn suspend(server: &TestServer, thread: &str) -> Vec<Value> {
    let reply = server
        .post_json("/api/agents/clerk/stream", &ask_body(thread))
        .await;
    reply.assert_status(200);
    sse_chunks(&reply.text)
}

fn approval_of(chunks: &[Value]) -> (String, String) {
    let approval = chunks
        .iter()
        .find(|c| c["type"] == "tool-call-approval")
        .unwrap_or_else(|| panic!("no tool-call-approval chunk: {chunks:?}"));
    (
        approval["runId"].as_str().unwrap().to_owned(),
        approval["payload"]["toolCallId"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

fn decision(run_id: &str, tool_call_id: &str) -> Value {
    json!({ "runId": run_id, "toolCallId": tool_call_id })
}

#[tokio::test]
async fn the_listing_says_which_tools_require_approval() {
    let runs = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(app(&runs, SqliteStorage::in_memory())).await;
    for path in ["/api/agents", "/api/agents/clerk"] {
        let body = server.get(path).await.json();
        let tools = if path == "/api/agents" {
            &body["clerk"]["tools"]
        } else {
            &body["tools"]
        };
        assert_eq!(tools["delete-item"]["requireApproval"], true, "{path}");
        assert_eq!(tools["count"]["requireApproval"], false, "{path}");
    }
    assert_eq!(
        server.get("/api/tools/delete-item").await.json()["requireApproval"],
        true
    );
}

#[tokio::test]
async fn the_stream_stops_at_the_approval_and_the_run_is_listed() {
    let runs = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(app(&runs, SqliteStorage::in_memory())).await;
    let chunks = suspend(&server, "t-listed").await;
    assert_eq!(
        types_of(&chunks),
        ["start", "step-start", "tool-call", "tool-call-approval"]
    );
    let (run_id, call_id) = approval_of(&chunks);
    let payload = &chunks[3]["payload"];
    assert_eq!(payload["toolName"], "delete-item");
    assert_eq!(payload["args"], json!({"itemId": "a1"}));
    assert_eq!(payload["toolCallId"], chunks[2]["payload"]["toolCallId"]);
    let schema: Value = serde_json::from_str(payload["resumeSchema"].as_str().unwrap()).unwrap();
    assert_eq!(schema["properties"]["approved"]["type"], "boolean");
    assert_eq!(runs.load(Ordering::SeqCst), 0, "the tool must not run yet");

    let listed = server.get("/api/agents/clerk/suspended-runs").await;
    listed.assert_status(200);
    let listed = listed.json();
    assert_eq!(listed["total"], 1);
    let run = &listed["runs"][0];
    assert_eq!(run["runId"], run_id.as_str());
    assert_eq!(run["status"], "suspended");
    assert_eq!(run["threadId"], "t-listed");
    assert_eq!(run["resourceId"], "user-1");
    assert!(run["suspendedAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        run["toolCalls"],
        json!([{"toolCallId": call_id, "toolName": "delete-item", "args": {"itemId": "a1"}, "requiresApproval": true}])
    );
    let other = server
        .get("/api/agents/clerk/suspended-runs?resourceId=someone-else")
        .await
        .json();
    assert_eq!(other["total"], 0);
    let by_thread = |thread: &str| format!("/api/agents/clerk/suspended-runs?threadId={thread}");
    assert_eq!(server.get(&by_thread("t-listed")).await.json()["total"], 1);
    assert_eq!(server.get(&by_thread("t-other")).await.json()["total"], 0);
    // Nothing of the turn is in memory while it waits.
    let messages = server
        .get("/api/memory/threads/t-listed/messages?agentId=clerk")
        .await;
    assert!(messages.status.as_u16() == 404 || messages.json()["messages"] == json!([]));
}

#[tokio::test]
async fn approving_runs_the_tool_streams_the_rest_and_saves_the_turn_once() {
    let runs = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(app(&runs, SqliteStorage::in_memory())).await;
    let (run_id, call_id) = approval_of(&suspend(&server, "t-approve").await);

    let reply = server
        .post_json(
            "/api/agents/clerk/approve-tool-call",
            &decision(&run_id, &call_id),
        )
        .await;
    reply.assert_status(200);
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let chunks = sse_chunks(&reply.text);
    let types = types_of(&chunks);
    assert_eq!(
        &types[..4],
        ["start", "tool-result", "step-finish", "step-start"]
    );
    assert_eq!(types.last(), Some(&"finish"));
    assert!(chunks.iter().all(|c| c["runId"] == run_id.as_str()));
    assert_eq!(chunks[1]["payload"]["result"], json!({"deleted": "a1"}));
    assert_eq!(chunks[1]["payload"]["isError"], false);
    assert_eq!(
        delta_text(&chunks),
        r#"delete-item returned {"deleted":"a1"}"#
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // Decided: neither decision is accepted again (with or without the call's id), and the
    // run is no longer listed.
    server
        .post_json(
            "/api/agents/clerk/decline-tool-call",
            &json!({ "runId": run_id }),
        )
        .await
        .assert_error(
            409,
            &format!("Run {run_id} is not waiting for approval: its tool call was already decided"),
        );
    for route in ["approve-tool-call", "decline-tool-call"] {
        let again = server
            .post_json(
                &format!("/api/agents/clerk/{route}"),
                &decision(&run_id, &call_id),
            )
            .await;
        again.assert_error(
            409,
            &format!("Tool call {call_id} of run {run_id} was already decided"),
        );
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let listed = server.get("/api/agents/clerk/suspended-runs").await.json();
    assert_eq!(listed["total"], 0);

    // The whole turn, once: the user's message and one assistant message with both steps.
    let messages = server
        .get("/api/memory/threads/t-approve/messages?agentId=clerk")
        .await
        .json();
    let messages = messages["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["content"]["content"], ASK);
    assert_eq!(messages[1]["role"], "assistant");
    let parts = messages[1]["content"]["parts"].as_array().unwrap();
    let invocation = parts
        .iter()
        .find(|p| p["type"] == "tool-invocation")
        .expect("the tool call is saved");
    assert_eq!(
        invocation["toolInvocation"]["result"],
        json!({"deleted": "a1"})
    );
    assert!(parts
        .iter()
        .any(|p| p["type"] == "text" && p["text"] == r#"delete-item returned {"deleted":"a1"}"#));
}

#[tokio::test]
async fn declining_does_not_run_the_tool_and_tells_the_model() {
    let runs = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(app(&runs, SqliteStorage::in_memory())).await;
    let (run_id, call_id) = approval_of(&suspend(&server, "t-decline").await);

    let reply = server
        .post_json(
            "/api/agents/clerk/decline-tool-call",
            &decision(&run_id, &call_id),
        )
        .await;
    reply.assert_status(200);
    let chunks = sse_chunks(&reply.text);
    let types = types_of(&chunks);
    assert_eq!(&types[..3], ["start", "tool-output-denied", "step-finish"]);
    assert!(!types.contains(&"tool-result"));
    assert_eq!(types.last(), Some(&"finish"));
    let denied = &chunks[1]["payload"];
    assert_eq!(denied["toolCallId"], call_id.as_str());
    assert_eq!(denied["toolName"], "delete-item");
    assert_eq!(
        denied["approval"],
        json!({"approved": false, "reason": "Tool call was not approved by the user"})
    );
    assert_eq!(
        delta_text(&chunks),
        r#"delete-item returned "Tool call was not approved by the user""#
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    server
        .post_json(
            "/api/agents/clerk/approve-tool-call",
            &decision(&run_id, &call_id),
        )
        .await
        .assert_status(409);
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    let messages = server
        .get("/api/memory/threads/t-decline/messages?agentId=clerk")
        .await
        .json();
    assert_eq!(messages["messages"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn unknown_runs_calls_and_bad_bodies_are_refused_with_json() {
    let runs = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(app(&runs, SqliteStorage::in_memory())).await;
    let (run_id, call_id) = approval_of(&suspend(&server, "t-refusals").await);

    server
        .post_json(
            "/api/agents/clerk/approve-tool-call",
            &decision("no-such-run", &call_id),
        )
        .await
        .assert_error(404, "No suspended run no-such-run for agent clerk");
    server
        .post_json(
            "/api/agents/clerk/decline-tool-call",
            &decision(&run_id, "no-such-call"),
        )
        .await
        .assert_error(
            404,
            &format!("Tool call no-such-call is not waiting for approval in run {run_id}"),
        );
    server
        .post_json(
            "/api/agents/nobody/approve-tool-call",
            &decision(&run_id, &call_id),
        )
        .await
        .assert_error(404, "Agent with id nobody not found");
    let missing = server
        .post_json(
            "/api/agents/clerk/approve-tool-call",
            &json!({ "toolCallId": call_id }),
        )
        .await;
    missing.assert_status(400);
    assert!(missing.text.contains("runId"), "{}", missing.text);
    let long = "x".repeat(300);
    server
        .post_json(
            "/api/agents/clerk/approve-tool-call",
            &decision(&long, &call_id),
        )
        .await
        .assert_status(400);
    server
        .get("/api/agents/clerk/suspended-runs?perPage=5000")
        .await
        .assert_status(400);
    // Nothing was decided by the refusals.
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_eq!(
        server.get("/api/agents/clerk/suspended-runs").await.json()["total"],
        1
    );
}

#[tokio::test]
async fn of_two_approvals_at_once_exactly_one_runs_the_tool() {
    let runs = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(app(&runs, SqliteStorage::in_memory())).await;
    for round in 0..5 {
        let (run_id, call_id) = approval_of(&suspend(&server, &format!("t-race-{round}")).await);
        let body = decision(&run_id, &call_id);
        let (a, b) = tokio::join!(
            server.post_json("/api/agents/clerk/approve-tool-call", &body),
            server.post_json("/api/agents/clerk/approve-tool-call-generate", &body),
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [200, 409],
            "round {round}: {} / {}",
            a.text,
            b.text
        );
        assert_eq!(runs.load(Ordering::SeqCst), round + 1, "round {round}");
    }
}

#[tokio::test]
async fn generate_answers_the_pending_call_and_the_generate_decisions_answer_json() {
    let runs = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(app(&runs, SqliteStorage::in_memory())).await;
    let reply = server
        .post_json("/api/agents/clerk/generate", &ask_body("t-generate"))
        .await;
    reply.assert_status(200);
    let result = reply.json();
    let pending = &result["suspendPayload"];
    assert_eq!(pending["toolName"], "delete-item");
    assert_eq!(pending["args"], json!({"itemId": "a1"}));
    assert_eq!(result["toolCalls"].as_array().unwrap().len(), 1);
    let run_id = result["runId"].as_str().unwrap();
    let call_id = pending["toolCallId"].as_str().unwrap();

    // Without toolCallId, the decision is on the call the run waits on.
    let approved = server
        .post_json(
            "/api/agents/clerk/approve-tool-call-generate",
            &json!({ "runId": run_id }),
        )
        .await;
    approved.assert_status(200);
    let approved = approved.json();
    assert_eq!(approved["text"], r#"delete-item returned {"deleted":"a1"}"#);
    assert_eq!(approved["finishReason"], "stop");
    assert!(approved.get("suspendPayload").is_none());
    assert_eq!(approved["toolResults"][0]["payload"]["toolCallId"], call_id);
    assert_eq!(
        approved["toolResults"][0]["payload"]["result"],
        json!({"deleted": "a1"})
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_run_suspended_on_one_server_is_continued_by_another_sharing_its_database() {
    let dir = temp_dir("approval-shared");
    let file = dir.join("shared.db");
    let (runs_a, runs_b) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let a = TestServer::start(app(&runs_a, SqliteStorage::file(&file))).await;
    let b = TestServer::start(app(&runs_b, SqliteStorage::file(&file))).await;
    let (run_id, call_id) = approval_of(&suspend(&a, "t-shared").await);
    assert_eq!(
        b.get("/api/agents/clerk/suspended-runs").await.json()["runs"][0]["runId"],
        run_id.as_str()
    );
    let reply = b
        .post_json(
            "/api/agents/clerk/approve-tool-call",
            &decision(&run_id, &call_id),
        )
        .await;
    reply.assert_status(200);
    assert_eq!(
        delta_text(&sse_chunks(&reply.text)),
        r#"delete-item returned {"deleted":"a1"}"#
    );
    assert_eq!(runs_a.load(Ordering::SeqCst), 0);
    assert_eq!(runs_b.load(Ordering::SeqCst), 1);
    a.post_json(
        "/api/agents/clerk/approve-tool-call",
        &decision(&run_id, &call_id),
    )
    .await
    .assert_status(409);
    let messages = a
        .get("/api/memory/threads/t-shared/messages?agentId=clerk")
        .await
        .json();
    assert_eq!(messages["messages"].as_array().unwrap().len(), 2);
}

/// A model that asks for three tools in one step (two that wait for approval around one that
/// does not), then answers with the results it was given; it keeps every prompt it receives.
#[derive(Debug, Default)]
struct ThreeCalls {
    prompts: std::sync::Mutex<Vec<Vec<mastra_runtime::model::ModelMessage>>>,
}

#[async_trait::async_trait]
impl mastra_runtime::model::LanguageModel for ThreeCalls {
    fn provider(&self) -> &str {
        "test"
    }
    fn model_id(&self) -> &str {
        "three-calls"
    }
    async fn stream(
        &self,
        request: mastra_runtime::model::ModelRequest,
    ) -> Result<mastra_runtime::model::ModelStream, mastra_runtime::model::ModelError> {
        use mastra_runtime::model::{FinishReason, ModelEvent, ModelMessage, ToolCall, Usage};
        self.prompts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(request.messages.clone());
        let call = |id: &str, name: &str, item: &str| {
            Ok(ModelEvent::ToolCall(ToolCall {
                id: id.into(),
                name: name.into(),
                args: json!({ "itemId": item }),
            }))
        };
        let finish = |reason| {
            Ok(ModelEvent::Finish {
                reason,
                usage: Usage::default(),
            })
        };
        let events = match request.messages.last() {
            Some(ModelMessage::Tool(results)) => {
                let summary: Vec<String> = results
                    .iter()
                    .map(|r| format!("{}={}", r.call_id, r.result))
                    .collect();
                vec![
                    Ok(ModelEvent::TextDelta(summary.join(" "))),
                    finish(FinishReason::Stop),
                ]
            }
            _ => vec![
                call("c1", "delete-item", "a1"),
                call("c2", "count", "abc"),
                call("c3", "delete-item", "a2"),
                finish(FinishReason::ToolCalls),
            ],
        };
        Ok(Box::pin(futures_util::stream::iter(events)))
    }
}

#[tokio::test]
async fn calls_after_an_approved_one_run_in_order_and_the_next_waiting_call_suspends_again() {
    let runs = Arc::new(AtomicUsize::new(0));
    let model = Arc::new(ThreeCalls::default());
    let server = TestServer::start(
        Mastra::builder()
            .agent(
                Agent::builder("clerk")
                    .model(Arc::clone(&model) as Arc<dyn mastra_runtime::model::LanguageModel>)
                    .tool(delete_tool(Arc::clone(&runs)))
                    .tool(free_tool())
                    .memory(Memory::new()),
            )
            .storage(SqliteStorage::in_memory())
            .server(test_config())
            .without_annotated_routes(),
    )
    .await;
    let first = suspend(&server, "t-three").await;
    assert_eq!(
        types_of(&first),
        [
            "start",
            "step-start",
            "tool-call",
            "tool-call",
            "tool-call",
            "tool-call-approval"
        ]
    );
    let (run_id, call_id) = approval_of(&first);
    assert_eq!(call_id, "c1");

    // c1 approved: it runs, then c2 (no approval needed), then the run stops again at c3.
    let second = server
        .post_json(
            "/api/agents/clerk/approve-tool-call",
            &decision(&run_id, "c1"),
        )
        .await;
    second.assert_status(200);
    let second = sse_chunks(&second.text);
    assert_eq!(
        types_of(&second),
        ["start", "tool-result", "tool-result", "tool-call-approval"]
    );
    assert_eq!(second[2]["payload"]["result"], 3);
    assert_eq!(approval_of(&second), (run_id.clone(), "c3".to_owned()));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let listed = server.get("/api/agents/clerk/suspended-runs").await.json();
    assert_eq!(listed["runs"][0]["toolCalls"][0]["toolCallId"], "c3");
    // c1 was decided; c3 is the call waiting.
    server
        .post_json(
            "/api/agents/clerk/approve-tool-call",
            &decision(&run_id, "c1"),
        )
        .await
        .assert_status(409);

    // c3 declined: the model is told, the turn ends.
    let third = server
        .post_json(
            "/api/agents/clerk/decline-tool-call",
            &decision(&run_id, "c3"),
        )
        .await;
    third.assert_status(200);
    let third = sse_chunks(&third.text);
    assert_eq!(
        &types_of(&third)[..3],
        ["start", "tool-output-denied", "step-finish"]
    );
    assert_eq!(types_of(&third).last(), Some(&"finish"));
    assert_eq!(
        delta_text(&third),
        r#"c1={"deleted":"a1"} c2=3 c3="Tool call was not approved by the user""#
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let prompts = model
        .prompts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .len();
    assert_eq!(prompts, 2, "one model call per step, across three requests");

    let messages = server
        .get("/api/memory/threads/t-three/messages?agentId=clerk")
        .await
        .json();
    let messages = messages["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 2, "{messages:?}");
    let calls: Vec<&str> = messages[1]["content"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["toolInvocation"]["toolCallId"].as_str())
        .collect();
    assert_eq!(calls, ["c1", "c2", "c3"]);
}
