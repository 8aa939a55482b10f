//! A stored row that cannot be decoded (nested deeper than serde_json reads, or not JSON at all,
//! as a database written before the depth limit or edited by hand may hold) is reported for that
//! item alone: a listing answers 200 with the readable items and names the unreadable ones, the
//! agent keeps running on the thread, and only a read of that very item answers an error.

mod workflows_support;

use std::time::Duration;

use mastra_runtime::{model::EchoModel, prelude::*};
use mastra_tests::{temp_dir, test_config, TestServer};
use serde_json::{json, Value};
use sqlx::{sqlite::SqliteConnectOptions, ConnectOptions, SqliteConnection};
use workflows_support::{arithmetic, start_async};

/// `levels` nested arrays around `1`.
fn nested(levels: usize) -> String {
    format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
}

/// Format-2 content whose one tool call has arguments `levels` deep: with the four levels of
/// the content around them, 124 is past the 127 serde_json reads.
fn content_with_args(levels: usize) -> String {
    format!(
        r#"{{"format":2,"parts":[{{"type":"tool-invocation","toolInvocation":{{"state":"result","step":0,"toolCallId":"c","toolName":"x","args":{},"result":null}}}}]}}"#,
        nested(levels)
    )
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

async fn open(db: &std::path::Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(db)
        .busy_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("open the database")
}

async fn insert_message(conn: &mut SqliteConnection, id: &str, content: &str) {
    sqlx::query(
        "INSERT INTO mastra_messages (id, thread_id, resource_id, role, content, created_at) \
         VALUES (?1, 'conv', 'carol', 'assistant', ?2, ?3)",
    )
    .bind(id)
    .bind(content)
    .bind(now_millis())
    .execute(conn)
    .await
    .expect("insert a message row");
}

async fn insert_run(conn: &mut SqliteConnection, run_id: &str, snapshot: &str) {
    sqlx::query(
        "INSERT INTO mastra_workflow_runs \
         (workflow_name, run_id, resource_id, status, snapshot, created_at, updated_at) \
         VALUES ('arithmetic', ?1, NULL, 'success', ?2, ?3, ?3)",
    )
    .bind(run_id)
    .bind(snapshot)
    .bind(now_millis())
    .execute(conn)
    .await
    .expect("insert a run row");
}

fn app(db: &std::path::Path) -> mastra_runtime::MastraBuilder {
    Mastra::builder()
        .agent(
            Agent::builder("mem")
                .model(EchoModel::new().token_delay(Duration::ZERO))
                .memory(Memory::new().last_messages(10)),
        )
        .workflow(arithmetic())
        .storage(SqliteStorage::file(db))
        .server(test_config())
        .without_annotated_routes()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| {
            item["id"]
                .as_str()
                .or(item["runId"].as_str())
                .expect("an id")
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn an_unreadable_message_or_thread_is_reported_alone() {
    let dir = temp_dir("unreadable-messages");
    let db = dir.join("mastra.db");
    let server = TestServer::start(app(&db)).await;
    let generate = |text: &str| json!({ "messages": text, "memory": { "thread": "conv", "resource": "carol" } });
    server
        .post_json("/api/agents/mem/generate", &generate("first"))
        .await
        .assert_status(200);

    let mut conn = open(&db).await;
    insert_message(&mut conn, "too-deep", &content_with_args(124)).await;
    insert_message(&mut conn, "not-json", "{\"format\":2,\"parts\":[").await;
    sqlx::query(
        "INSERT INTO mastra_threads (id, resource_id, title, metadata, created_at, updated_at) \
         VALUES ('bad-thread', 'carol', NULL, ?1, ?2, ?2)",
    )
    .bind(format!(r#"{{"k":{}}}"#, nested(200)))
    .bind(now_millis())
    .execute(&mut conn)
    .await
    .expect("insert a thread row");

    let page = server.get("/api/memory/threads/conv/messages").await;
    page.assert_status(200);
    let page = page.json();
    assert_eq!(page["total"], 4, "{page}");
    assert_eq!(page["messages"].as_array().expect("messages").len(), 2);
    assert_eq!(page["uiMessages"].as_array().expect("uiMessages").len(), 2);
    assert_eq!(ids(&page["unreadable"]), ["too-deep", "not-json"], "{page}");
    for item in page["unreadable"].as_array().expect("unreadable") {
        let error = item["error"].as_str().expect("error");
        assert!(error.contains("cannot be read"), "{error}");
    }

    // The agent keeps working on the thread: history skips what it cannot read.
    server
        .post_json("/api/agents/mem/generate", &generate("second"))
        .await
        .assert_status(200);
    let page = server
        .get("/api/memory/threads/conv/messages?perPage=false")
        .await
        .json();
    assert_eq!(page["total"], 6, "{page}");
    assert_eq!(page["messages"].as_array().expect("messages").len(), 4);

    let threads = server.get("/api/memory/threads?resourceId=carol").await;
    threads.assert_status(200);
    let threads = threads.json();
    assert_eq!(threads["total"], 2, "{threads}");
    assert_eq!(ids(&threads["threads"]), ["conv"]);
    assert_eq!(ids(&threads["unreadable"]), ["bad-thread"]);
    server
        .get("/api/memory/threads/conv")
        .await
        .assert_status(200);
    server
        .get("/api/memory/threads/bad-thread")
        .await
        .assert_error_contains(500, "thread bad-thread cannot be read");

    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_unreadable_workflow_run_does_not_break_the_run_listing() {
    let dir = temp_dir("unreadable-runs");
    let db = dir.join("mastra.db");
    let server = TestServer::start(app(&db)).await;
    start_async(
        &server,
        "arithmetic",
        Some("readable"),
        json!({ "a": 1, "b": 2 }),
    )
    .await
    .assert_status(200);

    let mut conn = open(&db).await;
    let deep = format!(
        r#"{{"status":"success","context":{{"input":{}}}}}"#,
        nested(200)
    );
    insert_run(&mut conn, "too-deep", &deep).await;
    insert_run(&mut conn, "not-json", "{\"status\":").await;

    let listing = server.get("/api/workflows/arithmetic/runs").await;
    listing.assert_status(200);
    let listing = listing.json();
    assert_eq!(listing["total"], 3, "{listing}");
    assert_eq!(ids(&listing["runs"]), ["readable"], "{listing}");
    // The listing names what it left out, as the thread and message listings do.
    let mut unreadable = ids(&listing["unreadable"]);
    unreadable.sort();
    assert_eq!(unreadable, ["not-json", "too-deep"], "{listing}");

    server
        .get("/api/workflows/arithmetic/runs/readable")
        .await
        .assert_status(200);
    for run in ["too-deep", "not-json"] {
        server
            .get(&format!("/api/workflows/arithmetic/runs/{run}"))
            .await
            .assert_error_contains(500, &format!("workflow run {run} cannot be read"));
    }

    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
