//! Paging arithmetic cannot wrap: the largest `page` with the largest `perPage` the API accepts
//! points past every row, for threads, messages and workflow runs, instead of wrapping the SQL
//! offset negative (which SQLite reads as 0, answering the first page); a `perPage` over
//! `MAX_PER_PAGE` is refused, naming the limit.

mod workflows_support;

use std::time::Duration;

use mastra_runtime::{memory::MAX_PER_PAGE, model::EchoModel, prelude::*};
use mastra_tests::{test_config, TestServer};
use serde_json::json;
use workflows_support::arithmetic;

/// The largest page, of the largest page size.
fn far() -> String {
    format!("page={}&perPage={MAX_PER_PAGE}", u32::MAX)
}

/// Both at `u32::MAX`: before pages were capped, the offset that wrapped.
const HUGE: &str = "page=4294967295&perPage=4294967295";

#[tokio::test]
async fn the_largest_page_is_past_every_row_not_the_first_page() {
    let agent = Agent::builder("mem")
        .model(EchoModel::new().token_delay(Duration::ZERO))
        .memory(Memory::new())
        .build();
    let server = TestServer::start(
        Mastra::builder()
            .agent(agent)
            .workflow(arithmetic())
            .storage(SqliteStorage::in_memory())
            .server(test_config())
            .without_annotated_routes(),
    )
    .await;
    server
        .post_json(
            "/api/agents/mem/generate",
            &json!({ "messages": "hello", "memory": { "thread": "conv", "resource": "carol" } }),
        )
        .await
        .assert_status(200);
    server
        .post_json(
            "/api/workflows/arithmetic/start-async",
            &json!({ "inputData": { "a": 1, "b": 2 } }),
        )
        .await
        .assert_status(200);

    for (path, list) in [
        ("/api/memory/threads?agentId=mem", "threads"),
        ("/api/memory/threads/conv/messages?agentId=mem", "messages"),
        ("/api/workflows/arithmetic/runs?", "runs"),
    ] {
        let first = server.get(&format!("{path}&page=0&perPage=10")).await;
        first.assert_status(200);
        let first = first.json();
        assert!(
            !first[list].as_array().expect(list).is_empty(),
            "{path}: the first page has items"
        );
        server
            .get(&format!("{path}&{HUGE}"))
            .await
            .assert_error_contains(
                400,
                &format!("perPage must be at most {MAX_PER_PAGE}, got 4294967295"),
            );
        let far = server.get(&format!("{path}&{}", far())).await;
        far.assert_status(200);
        let far = far.json();
        assert_eq!(far[list], json!([]), "{path}: {far}");
        assert_eq!(far["total"], first["total"], "{path}");
        if far.get("hasMore").is_some() {
            assert_eq!(far["hasMore"], false, "{path}");
        }
    }
}
