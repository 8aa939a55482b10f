//! Who owns a memory thread is decided where its messages are saved, inside the transaction:
//! twenty simultaneous first writes to a new thread from two resources leave exactly one owner,
//! only that owner's messages, and every other request refused as a sequential one is.

use std::{sync::Arc, time::Duration};

use futures_util::future::join_all;
use mastra_runtime::{
    model::{EchoModel, LanguageModel, ModelError, ModelRequest, ModelStream},
    prelude::*,
};
use mastra_tests::{temp_dir, test_config, TestServer};
use serde_json::json;
use tokio::sync::Barrier;

const REQUESTS: usize = 20;

/// Answers like the echo model, but only once every run of the race has read its memory (or
/// after a generous wait, should some never get there), so all of them saw a thread that did
/// not exist yet.
#[derive(Debug)]
struct TogetherModel {
    echo: EchoModel,
    all_loaded: Arc<Barrier>,
}

#[async_trait::async_trait]
impl LanguageModel for TogetherModel {
    fn provider(&self) -> &str {
        "test"
    }
    fn model_id(&self) -> &str {
        "together"
    }
    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError> {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.all_loaded.wait()).await;
        self.echo.stream(request).await
    }
}

#[tokio::test]
async fn concurrent_first_writes_leave_one_owner_in_memory() {
    race(SqliteStorage::in_memory()).await;
}

/// A file database: several connections, so the writers really contend for SQLite's lock.
#[tokio::test]
async fn concurrent_first_writes_leave_one_owner_in_a_file() {
    let dir = temp_dir("ownership-race");
    race(SqliteStorage::file(dir.join("mastra.db"))).await;
    let _ = std::fs::remove_dir_all(dir);
}

async fn race(storage: SqliteStorage) {
    let model = TogetherModel {
        echo: EchoModel::new().token_delay(Duration::ZERO),
        all_loaded: Arc::new(Barrier::new(REQUESTS)),
    };
    let server = TestServer::start(
        Mastra::builder()
            .agent(
                Agent::builder("mem")
                    .model(Arc::new(model) as Arc<dyn LanguageModel>)
                    .memory(Memory::new()),
            )
            .storage(storage)
            .server(test_config())
            .without_annotated_routes(),
    )
    .await;

    let resource_of = |i: usize| if i.is_multiple_of(2) { "A" } else { "B" };
    let replies = join_all((0..REQUESTS).map(|i| {
        let server = &server;
        async move {
            let body = json!({
                "messages": format!("{}-{i}", resource_of(i)),
                "memory": { "thread": "t", "resource": resource_of(i) },
            });
            (i, server.post_json("/api/agents/mem/generate", &body).await)
        }
    }))
    .await;

    let thread = server.get("/api/memory/threads/t").await;
    thread.assert_status(200);
    let owner = thread.json()["resourceId"]
        .as_str()
        .expect("resourceId")
        .to_owned();
    assert!(owner == "A" || owner == "B", "owner {owner}");
    let mut won = 0;
    for (i, reply) in &replies {
        let resource = resource_of(*i);
        if resource == owner {
            reply.assert_status(200);
            won += 1;
        } else {
            reply.assert_error(
                400,
                &format!(
                    "Thread with id t is for resource with id {owner} but resource {resource} was queried"
                ),
            );
        }
    }
    assert_eq!(won, REQUESTS / 2, "every request of the owner was saved");

    let page = server
        .get("/api/memory/threads/t/messages?perPage=false")
        .await
        .json();
    let messages = page["messages"].as_array().expect("messages");
    assert_eq!(
        messages.len(),
        REQUESTS,
        "one question and one answer per won request"
    );
    for message in messages {
        assert_eq!(message["resourceId"], owner.as_str(), "{message}");
        let text = message["content"]["content"].as_str().unwrap_or_default();
        let question = text.strip_prefix("You said: ").unwrap_or(text);
        assert!(
            question.starts_with(&format!("{owner}-")),
            "a message of the other resource was saved: {message}"
        );
    }
}
