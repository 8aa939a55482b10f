//! Several server instances on one PostgreSQL database (`MASTRA_TEST_POSTGRES_URL`, set by
//! `tests/run.sh`): two servers in this process, each with its own pool, as two replicas behind
//! a load balancer have. What one writes the other reads at once; concurrent turns on one
//! thread through both store every message once, in one order both return; a workflow run
//! started on one is read and listed on the other, and a run created on one starts once.

mod workflows_support;

use std::{collections::HashSet, sync::Arc, time::Duration};

use futures_util::future::join_all;
use mastra_runtime::{
    memory::{PostgresStorage, Storage},
    model::EchoModel,
    prelude::*,
};
use mastra_tests::{stores::fresh_postgres_database, TestServer};
use serde_json::{json, Value};
use workflows_support::{app, arithmetic, start_async, wait_for_status};

/// One instance: an agent with memory (the offline echo model) and the `arithmetic` workflow,
/// on its own pool to `url`.
async fn instance(url: &str) -> TestServer {
    let storage: Arc<dyn Storage> =
        Arc::new(PostgresStorage::from_url(url).expect("the test URL parses"));
    storage.init().await.expect("the schema is migrated");
    TestServer::start(
        app([arithmetic()])
            .agent(
                Agent::builder("mem")
                    .model(EchoModel::new().token_delay(Duration::ZERO))
                    .memory(Memory::new().last_messages(10)),
            )
            .shared_storage(storage),
    )
    .await
}

async fn two_instances(label: &str) -> (TestServer, TestServer) {
    let url = fresh_postgres_database(label).await;
    // Both start together on the empty database: the migrations run once, under a lock.
    tokio::join!(instance(&url), instance(&url))
}

fn messages(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            m["content"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn what_one_instance_writes_the_other_reads_at_once() {
    let (one, two) = two_instances("instances_read").await;
    one.post_json(
        "/api/memory/threads",
        &json!({ "resourceId": "alice", "threadId": "t1", "title": "Shared" }),
    )
    .await
    .assert_status(200);
    let read = two.get("/api/memory/threads/t1").await;
    read.assert_status(200);
    assert_eq!(read.json()["title"], "Shared");

    one.post_json(
        "/api/agents/mem/generate",
        &json!({ "messages": "first", "memory": { "thread": "t1", "resource": "alice" } }),
    )
    .await
    .assert_status(200);
    let page = two.get("/api/memory/threads/t1/messages").await.json();
    assert_eq!(messages(&page), ["first", "You said: first"]);

    // The other instance's answer sees the history the first one wrote.
    two.post_json(
        "/api/agents/mem/generate",
        &json!({ "messages": "second", "memory": { "thread": "t1", "resource": "alice" } }),
    )
    .await
    .assert_status(200);
    let page = one.get("/api/memory/threads/t1/messages").await.json();
    assert_eq!(page["total"], 4);
    // Ownership holds across instances.
    one.post_json(
        "/api/agents/mem/generate",
        &json!({ "messages": "intruder", "memory": { "thread": "t1", "resource": "mallory" } }),
    )
    .await
    .assert_status(400);

    two.send(two.request(reqwest::Method::DELETE, "/api/memory/threads/t1"))
        .await
        .assert_status(200);
    one.get("/api/memory/threads/t1").await.assert_status(404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_turns_through_both_instances_are_stored_once_in_one_order() {
    let (one, two) = two_instances("instances_turns").await;
    let servers = [&one, &two];
    let turns = 24;
    let replies = join_all((0..turns).map(|i| {
        let server = servers[i % 2];
        async move {
            server
                .post_json(
                    "/api/agents/mem/generate",
                    &json!({ "messages": format!("q{i}"), "memory": { "thread": "busy", "resource": "alice" } }),
                )
                .await
        }
    }))
    .await;
    for reply in &replies {
        reply.assert_status(200);
    }
    let path = "/api/memory/threads/busy/messages?perPage=false";
    let seen_by_one = messages(&one.get(path).await.json());
    let seen_by_two = messages(&two.get(path).await.json());
    assert_eq!(seen_by_one.len(), 2 * turns, "{seen_by_one:?}");
    assert_eq!(seen_by_one, seen_by_two, "both instances return one order");
    let unique: HashSet<&String> = seen_by_one.iter().collect();
    assert_eq!(unique.len(), seen_by_one.len(), "every message once");
    for pair in seen_by_one.chunks(2) {
        assert_eq!(
            format!("You said: {}", pair[0]),
            pair[1],
            "a turn stays together"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_workflow_run_started_on_one_instance_is_read_and_listed_on_the_other() {
    let (one, two) = two_instances("instances_runs").await;
    start_async(&one, "arithmetic", Some("r1"), json!({ "a": 3, "b": 4 }))
        .await
        .assert_status(200);
    let run = two.get("/api/workflows/arithmetic/runs/r1").await;
    run.assert_status(200);
    assert_eq!(run.json()["status"], "success");
    assert_eq!(run.json()["result"], json!({ "label": "total is 14" }));
    let listed = two.get("/api/workflows/arithmetic/runs").await.json();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["runs"][0]["runId"], "r1");

    // Created on one, started from both at once: it runs once.
    two.post_json("/api/workflows/arithmetic/create-run?runId=r2", &json!({}))
        .await
        .assert_status(200);
    let body = json!({ "inputData": { "a": 1, "b": 1 } });
    let (a, b) = tokio::join!(
        one.post_json("/api/workflows/arithmetic/start?runId=r2", &body),
        two.post_json("/api/workflows/arithmetic/start?runId=r2", &body)
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
    let done = wait_for_status(&one, "arithmetic", "r2", "success").await;
    assert_eq!(done["result"], json!({ "label": "total is 4" }));
    assert_eq!(
        two.get("/api/workflows/arithmetic/runs").await.json()["total"],
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_together_on_an_empty_database_migrate_it_once() {
    let url = fresh_postgres_database("instances_migrate").await;
    let stores: Vec<PostgresStorage> = (0..6)
        .map(|_| PostgresStorage::from_url(&url).expect("the test URL parses"))
        .collect();
    let started = join_all(stores.iter().map(|store| store.init())).await;
    assert!(started.iter().all(Result::is_ok), "{started:?}");
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("connect");
    let applied: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM _mastra_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .expect("read the migrations table");
    assert_eq!(
        applied,
        [(1, true), (2, true), (3, true)],
        "each migration once"
    );
}
