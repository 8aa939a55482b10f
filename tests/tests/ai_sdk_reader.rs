//! The AI SDK's own stream reader (the `ai` npm package, pinned in
//! tests/js-ai/package-lock.json) reads this server's UI message streams: useChat's engine
//! against `chat_route` and the streaming example's persist route, `readUIMessageStream`, and
//! `parseJsonEventStream` with the SDK's chunk schema (tests/js-ai/ui-stream.test.mjs).
//! `tests/run.sh` installs the package with `npm ci`.

use std::{sync::Arc, time::Duration};

use mastra_runtime::{
    model::{EchoModel, LanguageModel},
    prelude::*,
    sse::SseOptions,
};
use mastra_tests::{
    models::DownModel,
    node::{node_test, npm_dir},
    test_config, TestServer,
};
use streaming_example::app_with_model;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ai_sdk_reads_the_ui_message_streams() {
    let js_dir = npm_dir("js-ai", "ai");
    let server = TestServer::start(
        app_with_model(EchoModel::new().token_delay(Duration::from_millis(40)))
            .agent(Agent::builder("broken").model(Arc::new(DownModel) as Arc<dyn LanguageModel>))
            .route(chat_route(ChatRouteOptions {
                path: "/chat-keep-alive/:agentId".into(),
                sse: SseOptions::new().keep_alive(Duration::from_millis(10)),
                ..Default::default()
            }))
            .storage(SqliteStorage::in_memory())
            .server(test_config()),
    )
    .await;

    let stdout = node_test(&js_dir, server.base(), "ai reader").await;
    assert!(
        stdout.contains("pass 8"),
        "expected 8 passing tests:\n{stdout}"
    );
    assert!(stdout.contains("fail 0"), "{stdout}");
}
