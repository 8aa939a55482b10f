//! The official `@mastra/client-js` (from npm, pinned in tests/js/package-lock.json) drives the
//! quickstart binary: list agents, generate, stream, threads, messages, tools and workflows
//! (tests/js/client.test.mjs). `tests/run.sh` installs the package with `npm ci`.

use mastra_tests::{
    binary::BinaryServer,
    node::{node_test, npm_dir},
};

#[tokio::test]
async fn the_official_mastra_client_js_drives_the_quickstart() {
    let js_dir = npm_dir("js", "@mastra/client-js");
    // A fresh working directory, so ./mastra.db starts empty.
    let server = BinaryServer::start("quickstart", &[("RUST_LOG", "warn")]).await;
    let stdout = node_test(&js_dir, server.base(), "client-js").await;
    assert!(
        stdout.contains("pass 13"),
        "expected 13 passing tests:\n{stdout}"
    );
    assert!(
        server.dir().join("mastra.db").exists(),
        "memory went to ./mastra.db"
    );
}
