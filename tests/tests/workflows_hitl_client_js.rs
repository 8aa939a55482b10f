//! The official `@mastra/client-js` (pinned in tests/js/package-lock.json) drives the
//! quickstart binary's human-in-the-loop workflows (tests/js/workflows-hitl.mjs):
//! `run.resumeAsync`, `run.resume`, `run.resumeStream`, `createRun({runId})` to attach,
//! `run.observe()` and `run.cancel()`. `tests/run.sh` installs the package with `npm ci` and
//! builds the binary.

use std::time::Duration;

use mastra_tests::{binary::BinaryServer, node::npm_dir};

#[tokio::test]
async fn the_official_client_suspends_resumes_observes_and_cancels_quickstart_workflows() {
    let js_dir = npm_dir("js", "@mastra/client-js");
    let server = BinaryServer::start("quickstart", &[("RUST_LOG", "warn")]).await;
    // This file by name: `node --test` alone runs client.test.mjs's suite, which another test
    // counts.
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node")
            .args(["--test", "--test-reporter=spec", "workflows-hitl.mjs"])
            .current_dir(&js_dir)
            .env("MASTRA_URL", server.base())
            .output(),
    )
    .await
    .expect("the client-js workflow test finished within 2 minutes")
    .expect("node runs (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "client-js workflow test failed:\n{stdout}\n{stderr}\nserver log:\n{}",
        server.log()
    );
    assert!(
        stdout.contains("pass 7"),
        "expected 7 passing tests:\n{stdout}"
    );
}
