//! Stopping a real server process: SIGKILL in the middle of a burst of memory writes leaves a
//! database that opens cleanly and holds every answered message, whole; SIGTERM lets
//! everything accepted finish within the drain timeout and refuses new connections.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use mastra_runtime::{
    memory::{MessageRole, PageRequest, SortDirection, Storage},
    server::config::DEFAULT_DRAIN_TIMEOUT,
    SqliteStorage,
};
use mastra_tests::{binary::BinaryServer, raw_http::RawHttp};
use serde_json::{json, Value};
use sqlx::{sqlite::SqliteConnectOptions, ConnectOptions, Row};
use streaming_example::AGENT_ID;

/// Only one process test at a time: they measure timing and memory of their own server.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Concurrent writers in the crash test.
const WRITERS: usize = 16;
/// Answered writes to wait for before the kill, so it lands mid-burst.
const ANSWERED_BEFORE_KILL: usize = 150;

#[tokio::test]
async fn sigkill_during_memory_writes_leaves_a_clean_database_with_every_answered_message() {
    let _one = ONE_AT_A_TIME.lock().await;
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
        assert!(
            content["parts"].as_array().is_some_and(|p| !p.is_empty()),
            "{content}"
        );
        threads.entry(thread).or_default().push((role, content));
    }
    let mut stored = BTreeSet::new();
    for (thread, messages) in &threads {
        assert_eq!(
            messages.len() % 2,
            0,
            "{thread}: an exchange was cut in half"
        );
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

/// Requests in flight when SIGTERM arrives.
const IN_FLIGHT: usize = 200;
/// Generations left running in the background (their clients gone) when SIGTERM arrives.
const BACKGROUND: usize = 20;
/// What each request says: the offline model answers "You said: " and these eight words, one
/// word every 100 ms, so every answer takes about a second.
const MESSAGE: &str = "please keep going while the server shuts down";
/// What each background generation says: three times as long, so those runs outlast the
/// in-flight requests and shutdown has to wait for them after the HTTP drain.
const LONG_MESSAGE: &str = "please keep going while the server shuts down \
     and keep going while the server shuts down and keep going while the server shuts down";

/// The useChat body of the example's persist route.
fn chat_body(text: &str, thread: &str) -> Value {
    json!({
        "id": thread,
        "trigger": "submit-message",
        "messages": [{ "id": "m1", "role": "user", "parts": [{ "type": "text", "text": text }] }],
        "memory": { "thread": thread, "resource": "shutdown-test" },
    })
}

#[tokio::test]
async fn sigterm_lets_accepted_requests_and_background_generations_finish_and_refuses_new_ones() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut server = BinaryServer::start("streaming-example", &[("RUST_LOG", "info")]).await;
    let base = server.base().to_owned();

    // Twenty generations that must outlive their clients: each client reads the first word
    // and leaves; the run goes on as tracked background work.
    for i in 0..BACKGROUND {
        let mut client = RawHttp::post_json(
            &base,
            &format!("/chat/persist/{AGENT_ID}"),
            &chat_body(&format!("{LONG_MESSAGE} {i}"), &format!("background-{i}")),
        )
        .await;
        client
            .read_until("\"type\":\"text-delta\"", Duration::from_secs(10))
            .await;
        client.close();
    }
    // Two hundred streamed answers, each accepted (its response head read) before the signal.
    let mut in_flight = Vec::with_capacity(IN_FLIGHT);
    for i in 0..IN_FLIGHT {
        let body = json!({
            "messages": format!("{MESSAGE} {i}"),
            "memory": { "thread": format!("in-flight-{i}"), "resource": "shutdown-test" },
        });
        in_flight.push(RawHttp::post_json(&base, "/stream", &body).await);
    }
    for client in &mut in_flight {
        client
            .read_until("HTTP/1.1 200", Duration::from_secs(10))
            .await;
    }

    let signalled = Instant::now();
    server.sigterm();

    // New connections are refused once the signal is handled.
    let authority = base.trim_start_matches("http://").to_owned();
    let refused = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match tokio::net::TcpStream::connect(&authority).await {
                Err(_) => return signalled.elapsed(),
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await
    .expect("new connections were still accepted 3 s after SIGTERM");

    // Every accepted request completes with its whole answer.
    let readers: Vec<_> = in_flight
        .into_iter()
        .enumerate()
        .map(|(i, mut client)| {
            tokio::spawn(async move {
                client
                    .read_until("\r\n0\r\n\r\n", Duration::from_secs(15))
                    .await;
                assert_eq!(client.body(), format!("You said: {MESSAGE} {i}"));
            })
        })
        .collect();
    for reader in readers {
        reader.await.expect("an accepted request did not complete");
    }

    let status = server
        .wait_exit(DEFAULT_DRAIN_TIMEOUT + Duration::from_secs(2))
        .await;
    let took = signalled.elapsed();
    let log = server.log();
    assert!(status.success(), "{status}; log:\n{log}");
    assert!(
        took <= DEFAULT_DRAIN_TIMEOUT + Duration::from_millis(500),
        "exit took {took:?}, drain timeout {DEFAULT_DRAIN_TIMEOUT:?}"
    );
    // Nothing was abandoned; when the HTTP drain ended first, shutdown waited for the rest.
    assert!(!log.contains("abandoned"), "{log}");
    if log.contains("waiting for background tasks to finish before exiting") {
        assert!(log.contains("every background task finished"), "{log}");
    }

    // Everything finished is saved: the background generations and the streamed answers.
    let storage = SqliteStorage::file(server.dir().join("mastra.db"));
    let threads = (0..BACKGROUND)
        .map(|i| (format!("background-{i}"), format!("{LONG_MESSAGE} {i}")))
        .chain((0..IN_FLIGHT).map(|i| (format!("in-flight-{i}"), format!("{MESSAGE} {i}"))));
    for (thread, said) in threads {
        let saved: Vec<(MessageRole, String)> = storage
            .recent_messages(&thread, 10)
            .await
            .expect("read the database")
            .into_iter()
            .map(|m| (m.role, m.content.plain_text()))
            .collect();
        assert_eq!(
            saved,
            [
                (MessageRole::User, said.clone()),
                (MessageRole::Assistant, format!("You said: {said}")),
            ],
            "{thread}"
        );
    }
    eprintln!(
        "shutdown: SIGTERM with {IN_FLIGHT} requests in flight and {BACKGROUND} background \
         generations; new connections refused after {refused:?}; all completed and saved; \
         exit after {took:?} (drain timeout {DEFAULT_DRAIN_TIMEOUT:?})"
    );
}
