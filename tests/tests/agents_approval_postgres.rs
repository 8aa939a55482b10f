//! Tool calls that wait for approval across two server instances on one PostgreSQL database:
//! a run suspended through one is listed and continued through the other, and concurrent
//! decisions sent through both let exactly one through (the store's conditional claim); the
//! thread records the turn once. Needs `MASTRA_TEST_POSTGRES_URL` (tests/run.sh starts a
//! throwaway cluster and sets it).

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use mastra_runtime::{
    memory::Storage,
    model::EchoModel,
    prelude::*,
    tool::{ToolContext, ToolError},
};
use mastra_tests::{
    delta_text, sse_chunks,
    stores::{Backend, TestStore},
    test_config, TestServer,
};
use serde_json::{json, Value};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct DeleteInput {
    item_id: String,
}

/// One instance: the agent `clerk` whose `delete-item` tool waits for approval and counts its
/// runs in `runs` (shared by both instances: a tool runs on one of them).
fn instance(runs: &Arc<AtomicUsize>, storage: Arc<dyn Storage>) -> mastra_runtime::MastraBuilder {
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
                .tool(delete)
                .memory(Memory::new()),
        )
        .shared_storage(storage)
        .server(test_config())
        .without_annotated_routes()
}

async fn suspend(server: &TestServer, thread: &str) -> (String, String) {
    let reply = server
        .post_json(
            "/api/agents/clerk/stream",
            &json!({
                "messages": r#"@delete-item {"itemId":"p1"}"#,
                "memory": { "thread": thread, "resource": "user-1" }
            }),
        )
        .await;
    reply.assert_status(200);
    let chunks = sse_chunks(&reply.text);
    let approval = chunks
        .iter()
        .find(|c| c["type"] == "tool-call-approval")
        .unwrap_or_else(|| panic!("no tool-call-approval: {chunks:?}"));
    (
        approval["runId"].as_str().unwrap().to_owned(),
        approval["payload"]["toolCallId"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

fn decision(run_id: &str, call_id: &str) -> Value {
    json!({ "runId": run_id, "toolCallId": call_id })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_database_share_suspended_runs_and_decide_once() {
    let store = TestStore::open(Backend::Postgres, "agent_approval").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let a = TestServer::start(instance(&runs, Arc::clone(&store.storage))).await;
    let b = TestServer::start(instance(&runs, store.second_instance())).await;

    // Suspended through A, listed and approved through B.
    let (run_id, call_id) = suspend(&a, "pg-one").await;
    let listed = b.get("/api/agents/clerk/suspended-runs").await.json();
    assert_eq!(listed["runs"][0]["runId"], run_id.as_str());
    let by_thread = |thread: &str| format!("/api/agents/clerk/suspended-runs?threadId={thread}");
    assert_eq!(b.get(&by_thread("pg-one")).await.json()["total"], 1);
    assert_eq!(b.get(&by_thread("elsewhere")).await.json()["total"], 0);
    let reply = b
        .post_json(
            "/api/agents/clerk/approve-tool-call",
            &decision(&run_id, &call_id),
        )
        .await;
    reply.assert_status(200);
    assert_eq!(
        delta_text(&sse_chunks(&reply.text)),
        r#"delete-item returned {"deleted":"p1"}"#
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    a.post_json(
        "/api/agents/clerk/decline-tool-call",
        &decision(&run_id, &call_id),
    )
    .await
    .assert_status(409);

    // Concurrent decisions through both instances: exactly one goes through, each round.
    for round in 0..5 {
        let (run_id, call_id) = suspend(&a, &format!("pg-race-{round}")).await;
        let body = decision(&run_id, &call_id);
        let (x, y) = tokio::join!(
            a.post_json("/api/agents/clerk/approve-tool-call", &body),
            b.post_json("/api/agents/clerk/approve-tool-call", &body),
        );
        let mut statuses = [x.status.as_u16(), y.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [200, 409],
            "round {round}: {} / {}",
            x.text,
            y.text
        );
        assert_eq!(runs.load(Ordering::SeqCst), round + 2, "round {round}");
        let messages = b
            .get(&format!(
                "/api/memory/threads/pg-race-{round}/messages?agentId=clerk"
            ))
            .await
            .json();
        assert_eq!(
            messages["messages"].as_array().unwrap().len(),
            2,
            "round {round}"
        );
    }
    assert_eq!(
        a.get("/api/agents/clerk/suspended-runs").await.json()["total"],
        0
    );
}
