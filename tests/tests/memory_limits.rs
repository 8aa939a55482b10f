//! Memory's size limits agree with each other: ids fit in a URL, a thread's title and metadata
//! are capped, a page holds at most `MAX_PER_PAGE` items, so one listing has a size computed
//! from those limits. Each is refused when created (400 naming the limit), never stored and
//! found unreadable or unlistable later.

mod workflows_support;

use std::time::Duration;

use mastra_runtime::{
    memory::{
        Thread, MAX_ID_BYTES, MAX_METADATA_BYTES, MAX_PER_PAGE, MAX_THREAD_JSON_BYTES,
        MAX_TITLE_BYTES,
    },
    model::EchoModel,
    prelude::*,
};
use mastra_tests::{test_config, Reply, TestServer};
use reqwest::Method;
use serde_json::{json, Map, Value};
use workflows_support::arithmetic;

const PAGE: usize = MAX_PER_PAGE as usize;

async fn server() -> TestServer {
    TestServer::start(
        Mastra::builder()
            .agent(
                Agent::builder("mem")
                    .model(EchoModel::new().token_delay(Duration::ZERO))
                    .memory(Memory::new()),
            )
            .workflow(arithmetic())
            .storage(SqliteStorage::in_memory())
            .server(test_config())
            .without_annotated_routes(),
    )
    .await
}

/// Metadata `{"k":"xx..."}` of exactly `bytes` bytes of JSON.
fn metadata_of(bytes: usize) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("k".into(), Value::String("x".repeat(bytes - 8)));
    assert_eq!(Value::Object(map.clone()).to_string().len(), bytes);
    map
}

/// A 400 whose body (its `error`, or the `issues` of a refused query) names each of `needles`.
#[track_caller]
fn assert_refused(reply: &Reply, needles: &[&str]) {
    let excerpt: String = reply.text.chars().take(300).collect();
    assert_eq!(reply.status.as_u16(), 400, "body: {excerpt}");
    reply.json();
    for needle in needles {
        assert!(
            reply.text.contains(needle),
            "{excerpt:?} does not name {needle:?}"
        );
    }
}

#[tokio::test]
async fn ids_longer_than_a_url_can_carry_are_refused_when_created() {
    let server = server().await;
    let at_limit = "t".repeat(MAX_ID_BYTES);
    let over = "t".repeat(MAX_ID_BYTES + 1);
    let limit = MAX_ID_BYTES.to_string();

    let create =
        |thread: &str, resource: &str| json!({ "threadId": thread, "resourceId": resource });
    server
        .post_json("/api/memory/threads", &create(&at_limit, &at_limit))
        .await
        .assert_status(200);
    server
        .get(&format!("/api/memory/threads/{at_limit}"))
        .await
        .assert_status(200);
    assert_refused(
        &server
            .post_json("/api/memory/threads", &create(&over, "r"))
            .await,
        &["threadId", &limit],
    );
    assert_refused(
        &server
            .post_json("/api/memory/threads", &create("fine", &over))
            .await,
        &["resourceId", &limit],
    );
    assert_refused(
        &server
            .send(
                server
                    .request(Method::PATCH, &format!("/api/memory/threads/{at_limit}"))
                    .json(&json!({ "resourceId": over })),
            )
            .await,
        &["resourceId", &limit],
    );

    let generate = |thread: &str, resource: &str| json!({ "messages": "hi", "memory": { "thread": thread, "resource": resource } });
    assert_refused(
        &server
            .post_json("/api/agents/mem/generate", &generate(&over, "r"))
            .await,
        &["threadId", &limit],
    );
    assert_refused(
        &server
            .post_json("/api/agents/mem/generate", &generate("new", &over))
            .await,
        &["resourceId", &limit],
    );
    // Streaming refuses them before the stream starts: a 400, not a stream ending in an error.
    assert_refused(
        &server
            .post_json("/api/agents/mem/stream", &generate(&over, "r"))
            .await,
        &["threadId", &limit],
    );
    let listed = server.get("/api/memory/threads").await.json();
    assert_eq!(listed["total"], 1, "only the thread at the limit: {listed}");

    // Workflow runs are stored through the same checks.
    for route in ["create-run", "start-async"] {
        assert_refused(
            &server
                .post_json(
                    &format!("/api/workflows/arithmetic/{route}?runId={over}"),
                    &json!({ "inputData": { "a": 1, "b": 2 }, "resourceId": "r" }),
                )
                .await,
            &["runId", &limit],
        );
        assert_refused(
            &server
                .post_json(
                    &format!("/api/workflows/arithmetic/{route}"),
                    &json!({ "inputData": { "a": 1, "b": 2 }, "resourceId": over }),
                )
                .await,
            &["resourceId", &limit],
        );
    }
    let runs = server.get("/api/workflows/arithmetic/runs").await.json();
    assert_eq!(runs["total"], 0, "no run was recorded: {runs}");
}

#[tokio::test]
async fn thread_metadata_and_title_are_capped_at_create_and_update() {
    let server = server().await;
    let body = |id: &str, metadata: Map<String, Value>, title: String| json!({ "threadId": id, "resourceId": "r", "metadata": metadata, "title": title });
    server
        .post_json(
            "/api/memory/threads",
            &body(
                "full",
                metadata_of(MAX_METADATA_BYTES),
                "t".repeat(MAX_TITLE_BYTES),
            ),
        )
        .await
        .assert_status(200);
    assert_refused(
        &server
            .post_json(
                "/api/memory/threads",
                &body("big", metadata_of(MAX_METADATA_BYTES + 1), "t".into()),
            )
            .await,
        &["metadata", &MAX_METADATA_BYTES.to_string()],
    );
    assert_refused(
        &server
            .post_json(
                "/api/memory/threads",
                &body("long", metadata_of(16), "t".repeat(MAX_TITLE_BYTES + 1)),
            )
            .await,
        &["title", &MAX_TITLE_BYTES.to_string()],
    );
    assert_refused(
        &server
            .send(
                server
                    .request(Method::PATCH, "/api/memory/threads/full")
                    .json(&json!({ "metadata": metadata_of(MAX_METADATA_BYTES + 1) })),
            )
            .await,
        &["metadata", &MAX_METADATA_BYTES.to_string()],
    );
    let kept = server.get("/api/memory/threads/full").await.json();
    assert_eq!(
        Value::Object(metadata_of(MAX_METADATA_BYTES)),
        kept["metadata"],
        "a refused update changes nothing"
    );
    assert_eq!(server.get("/api/memory/threads").await.json()["total"], 1);
}

#[tokio::test]
async fn pages_are_capped_and_a_full_listing_stays_under_its_bound() {
    let server = server().await;
    let storage = server.mastra().storage();
    let escaped = |len: usize| "\u{1}".repeat(len);
    for i in 0..=PAGE {
        let id = format!("{i:04}{}", escaped(MAX_ID_BYTES - 4));
        let mut thread = Thread::new(id, escaped(MAX_ID_BYTES));
        thread.title = Some(escaped(MAX_TITLE_BYTES));
        thread.metadata = Some(metadata_of(MAX_METADATA_BYTES));
        storage.create_thread(&thread).await.expect("create");
    }
    server
        .post_json(
            "/api/agents/mem/generate",
            &json!({ "messages": "hi", "memory": { "thread": "conv", "resource": "r" } }),
        )
        .await
        .assert_status(200);

    let over = MAX_PER_PAGE + 1;
    for path in [
        "/api/memory/threads",
        "/api/memory/threads/conv/messages",
        "/api/workflows/arithmetic/runs",
    ] {
        assert_refused(
            &server.get(&format!("{path}?perPage={over}")).await,
            &["perPage", &MAX_PER_PAGE.to_string()],
        );
    }

    let full = server
        .get(&format!("/api/memory/threads?perPage={MAX_PER_PAGE}"))
        .await;
    full.assert_status(200);
    let bound = PAGE * (MAX_THREAD_JSON_BYTES + 1) + 256;
    eprintln!(
        "a full page of the largest threads: {} bytes, bound {bound}",
        full.text.len()
    );
    assert!(
        full.text.len() <= bound,
        "{} bytes, bound {bound}",
        full.text.len()
    );
    let full = full.json();
    assert_eq!(full["threads"].as_array().expect("threads").len(), PAGE);
    assert_eq!(full["hasMore"], true);

    // `perPage=false` ("every item") answers at most a full page and says more remain.
    let every = server.get("/api/memory/threads?perPage=false").await;
    every.assert_status(200);
    assert!(every.text.len() <= bound, "{} bytes", every.text.len());
    let every = every.json();
    assert_eq!(every["threads"].as_array().expect("threads").len(), PAGE);
    assert_eq!(every["perPage"], false);
    assert_eq!(every["total"], PAGE + 2);
    assert_eq!(every["hasMore"], true);
}
