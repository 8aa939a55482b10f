//! The official `@mastra/client-js` (pinned in tests/js/package-lock.json) drives the
//! quickstart's `delete-item` tool, which waits for approval: `agent.stream`,
//! `listSuspendedRuns`, `approveToolCall`, `declineToolCall` (tests/js/approval-client.mjs,
//! run on its own so `node --test` in tests/js keeps its count).

use std::time::Duration;

use mastra_tests::{binary::BinaryServer, node::npm_dir};

#[tokio::test]
async fn the_official_client_approves_and_declines_the_quickstarts_tool_calls() {
    let js_dir = npm_dir("js", "@mastra/client-js");
    let server = BinaryServer::start("quickstart", &[("RUST_LOG", "warn")]).await;
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node")
            .args(["--test", "--test-reporter=spec", "approval-client.mjs"])
            .current_dir(&js_dir)
            .env("MASTRA_URL", server.base())
            .output(),
    )
    .await
    .expect("the approval client test finished within 2 minutes")
    .expect("node runs (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "approval client test failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("pass 4") && stdout.contains("fail 0"),
        "expected 4 passing tests:\n{stdout}"
    );
}
