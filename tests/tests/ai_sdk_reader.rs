//! The AI SDK's own stream reader (the `ai` npm package, pinned in
//! tests/js-ai/package-lock.json) reads this server's UI message streams: useChat's engine
//! against `chat_route` and the streaming example's persist route, `readUIMessageStream`, and
//! `parseJsonEventStream` with the SDK's chunk schema (tests/js-ai/ui-stream.test.mjs).
//! `tests/run.sh` installs the package with `npm ci`.

use std::{path::PathBuf, sync::Arc, time::Duration};

use mastra_runtime::{
    model::{EchoModel, LanguageModel, ModelError, ModelRequest, ModelStream},
    prelude::*,
    sse::SseOptions,
};
use mastra_tests::{test_config, TestServer};
use streaming_example::app_with_model;

/// A model that fails every call.
#[derive(Debug)]
struct Down;

#[async_trait::async_trait]
impl LanguageModel for Down {
    fn provider(&self) -> &str {
        "test"
    }
    fn model_id(&self) -> &str {
        "down"
    }
    async fn stream(&self, _: ModelRequest) -> Result<ModelStream, ModelError> {
        Err(ModelError::Provider {
            provider: "test".into(),
            message: "the model is down".into(),
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ai_sdk_reads_the_ui_message_streams() {
    let js_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js-ai");
    assert!(
        js_dir.join("node_modules/ai").exists(),
        "the ai package is not installed: run `npm ci` in {} (tests/run.sh does)",
        js_dir.display()
    );
    let server = TestServer::start(
        app_with_model(EchoModel::new().token_delay(Duration::from_millis(40)))
            .agent(Agent::builder("broken").model(Arc::new(Down) as Arc<dyn LanguageModel>))
            .route(chat_route(ChatRouteOptions {
                path: "/chat-keep-alive/:agentId".into(),
                sse: SseOptions::new().keep_alive(Duration::from_millis(10)),
                ..Default::default()
            }))
            .storage(SqliteStorage::in_memory())
            .server(test_config()),
    )
    .await;

    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node")
            .arg("--test")
            .arg("--test-reporter=spec")
            .current_dir(&js_dir)
            .env("MASTRA_URL", server.base())
            .output(),
    )
    .await
    .expect("the ai test finished within 2 minutes")
    .expect("node runs (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "ai reader test failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("pass 8"),
        "expected 8 passing tests:\n{stdout}"
    );
    assert!(stdout.contains("fail 0"), "{stdout}");
}
