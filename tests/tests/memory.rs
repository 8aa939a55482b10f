//! Built-in memory routes and agent memory: threads and messages with Mastra's shapes and
//! paging, recent messages in the prompt, and persistence across a restart on a file database.

use std::time::Duration;

use mastra_runtime::{
    model::{EchoModel, OpenAiCompatible, RetryPolicy},
    prelude::*,
};
use mastra_tests::{
    fake_provider::{FakeProvider, Reply},
    temp_dir, test_config, TestServer,
};
use reqwest::Method;
use serde_json::json;

fn echo_agent() -> Agent {
    Agent::builder("mem")
        .model(EchoModel::new().token_delay(Duration::ZERO))
        .memory(Memory::new().last_messages(2))
        .build()
}

fn app(storage: SqliteStorage) -> mastra_runtime::MastraBuilder {
    Mastra::builder()
        .agent(echo_agent())
        .storage(storage)
        .server(test_config())
        .without_annotated_routes()
}

#[tokio::test]
async fn threads_are_created_listed_paged_updated_and_deleted() {
    let server = TestServer::start(app(SqliteStorage::in_memory())).await;
    for i in 0..3 {
        let created = server
            .post_json(
                "/api/memory/threads?agentId=mem",
                &json!({ "resourceId": "alice", "title": format!("t{i}"), "threadId": format!("t{i}"), "metadata": { "n": i } }),
            )
            .await;
        created.assert_status(200);
        let thread = created.json();
        assert_eq!(thread["id"], format!("t{i}"));
        assert_eq!(thread["resourceId"], "alice");
        assert!(thread["createdAt"].as_str().unwrap().ends_with('Z'));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server
        .post_json("/api/memory/threads", &json!({ "resourceId": "bob" }))
        .await
        .assert_status(200);

    let page = server
        .get("/api/memory/threads?resourceId=alice&page=0&perPage=2")
        .await
        .json();
    assert_eq!(page["total"], 3);
    assert_eq!(page["page"], 0);
    assert_eq!(page["perPage"], 2);
    assert_eq!(page["hasMore"], true);
    let ids: Vec<&str> = page["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["t2", "t1"], "newest first by default");
    let all = server
        .get("/api/memory/threads?resourceId=alice&perPage=false&orderBy%5Bdirection%5D=ASC")
        .await
        .json();
    assert_eq!(all["perPage"], false);
    assert_eq!(all["threads"][0]["id"], "t0");
    assert_eq!(all["hasMore"], false);
    let by_metadata = server
        .get("/api/memory/threads?metadata=%7B%22n%22%3A1%7D")
        .await
        .json();
    assert_eq!(by_metadata["total"], 1);
    assert_eq!(by_metadata["threads"][0]["id"], "t1");
    assert_eq!(server.get("/api/memory/threads").await.json()["total"], 4);

    let patched = server
        .send(
            server
                .request(Method::PATCH, "/api/memory/threads/t1?agentId=mem")
                .json(&json!({ "title": "renamed", "metadata": { "k": "v" } })),
        )
        .await;
    patched.assert_status(200);
    assert_eq!(patched.json()["title"], "renamed");
    assert_eq!(patched.json()["metadata"], json!({ "k": "v" }));
    assert_eq!(
        server.get("/api/memory/threads/t1").await.json()["title"],
        "renamed"
    );

    let deleted = server
        .send(server.request(Method::DELETE, "/api/memory/threads/t1?agentId=mem"))
        .await;
    assert_eq!(deleted.json(), json!({ "result": "Thread deleted" }));
    server
        .get("/api/memory/threads/t1")
        .await
        .assert_error(404, "Thread with id t1 not found");
    server
        .send(server.request(Method::DELETE, "/api/memory/threads/t1"))
        .await
        .assert_error(404, "Thread with id t1 not found");
}

#[tokio::test]
async fn thread_requests_are_checked() {
    let server = TestServer::start(app(SqliteStorage::in_memory())).await;
    let invalid = server
        .post_json("/api/memory/threads", &json!({ "title": 5 }))
        .await;
    invalid.assert_error(400, "Invalid request body");
    let fields: Vec<String> = invalid.json()["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["field"].as_str().unwrap().to_owned())
        .collect();
    assert!(fields.contains(&"resourceId".to_owned()), "{fields:?}");
    assert!(fields.contains(&"title".to_owned()), "{fields:?}");

    let body = json!({ "resourceId": "a", "threadId": "same" });
    server
        .post_json("/api/memory/threads", &body)
        .await
        .assert_status(200);
    server
        .post_json("/api/memory/threads", &body)
        .await
        .assert_error(409, "Thread with id same already exists");
    server
        .get("/api/memory/threads?agentId=ghost")
        .await
        .assert_error(404, "Agent with id ghost not found");
    server
        .get("/api/memory/threads?perPage=lots")
        .await
        .assert_error_contains(400, "Invalid query");
    server
        .get("/api/memory/threads/nope/messages")
        .await
        .assert_error(404, "Thread with id nope not found");
}

#[tokio::test]
async fn runs_save_input_and_answer_and_messages_page_in_format_2() {
    let server = TestServer::start(app(SqliteStorage::in_memory())).await;
    for text in ["first", "second"] {
        server
            .post_json(
                "/api/agents/mem/generate",
                &json!({ "messages": text, "memory": { "thread": "conv", "resource": "carol" } }),
            )
            .await
            .assert_status(200);
    }
    let thread = server.get("/api/memory/threads/conv").await.json();
    assert_eq!(thread["resourceId"], "carol");

    let page = server
        .get("/api/memory/threads/conv/messages?perPage=3")
        .await
        .json();
    assert_eq!(page["total"], 4);
    assert_eq!(page["hasMore"], true);
    let messages = page["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["threadId"], "conv");
    assert_eq!(messages[0]["content"]["format"], 2);
    assert_eq!(
        messages[0]["content"]["parts"],
        json!([{ "type": "text", "text": "first" }])
    );
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages[1]["content"]["content"], "You said: first");
    assert_eq!(
        page["uiMessages"][1]["parts"][1],
        json!({ "type": "text", "text": "You said: first" })
    );

    let newest = server
        .get("/api/memory/threads/conv/messages?orderBy=%7B%22direction%22%3A%22DESC%22%7D&perPage=1")
        .await
        .json();
    assert_eq!(
        newest["messages"][0]["content"]["content"],
        "You said: second"
    );

    server
        .post_json(
            "/api/agents/mem/generate",
            &json!({ "messages": "intruder", "memory": { "thread": "conv", "resource": "mallory" } }),
        )
        .await
        .assert_error(400, "Thread with id conv is for resource with id carol but resource mallory was queried");
}

#[tokio::test]
async fn recent_messages_are_loaded_into_the_prompt() {
    let answer = |text: &str| {
        let chunk = json!({ "choices": [{ "index": 0, "delta": { "content": text }, "finish_reason": "stop" }] }).to_string();
        Reply::sse(&[&chunk, "[DONE]"])
    };
    let fake = FakeProvider::start(vec![answer("A1"), answer("A2"), answer("A3")]).await;
    let model = OpenAiCompatible::new("m")
        .base_url(fake.url())
        .api_key("k")
        .retry(RetryPolicy::none());
    let server = TestServer::start(
        Mastra::builder()
            .agent(
                Agent::builder("remembers")
                    .instructions("sys")
                    .model(model)
                    .memory(Memory::new().last_messages(3)),
            )
            .storage(SqliteStorage::in_memory())
            .server(test_config())
            .without_annotated_routes(),
    )
    .await;
    for text in ["Q1", "Q2", "Q3"] {
        server
            .post_json(
                "/api/agents/remembers/generate",
                &json!({ "messages": text, "memory": { "thread": { "id": "th" }, "resource": "r" } }),
            )
            .await
            .assert_status(200);
    }
    let prompt = &fake.seen()[2].body["messages"];
    assert_eq!(
        prompt,
        &json!([
            { "role": "system", "content": "sys" },
            { "role": "assistant", "content": "A1" },
            { "role": "user", "content": "Q2" },
            { "role": "assistant", "content": "A2" },
            { "role": "user", "content": "Q3" },
        ])
    );
}

#[tokio::test]
async fn memory_survives_a_server_restart_on_a_file_database() {
    let dir = temp_dir("memory-restart");
    let path = dir.join("nested").join("mastra.db");
    {
        let server = TestServer::start(app(SqliteStorage::file(&path))).await;
        server
            .post_json(
                "/api/agents/mem/generate",
                &json!({ "messages": "remember this", "memory": { "thread": "durable", "resource": "dave" } }),
            )
            .await
            .assert_status(200);
        server.stop().await;
    }
    assert!(path.exists(), "the database file was created");
    let server = TestServer::start(app(SqliteStorage::file(&path))).await;
    let page = server
        .get("/api/memory/threads/durable/messages")
        .await
        .json();
    assert_eq!(page["total"], 2);
    assert_eq!(page["messages"][0]["content"]["content"], "remember this");
    assert_eq!(
        page["messages"][1]["content"]["content"],
        "You said: remember this"
    );
    let listed = server
        .get("/api/memory/threads?resourceId=dave")
        .await
        .json();
    assert_eq!(listed["threads"][0]["id"], "durable");
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
