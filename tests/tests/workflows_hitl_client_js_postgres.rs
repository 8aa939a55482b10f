//! Two quickstart binaries on one PostgreSQL database (`DATABASE_URL`), driven by the official
//! `@mastra/client-js` (tests/js/workflows-hitl-two-instances.mjs): a run suspended through one
//! instance is resumed through the other, concurrent resumes through both let exactly one
//! through, and a cancel through one is seen by the other. Needs `MASTRA_TEST_POSTGRES_URL`
//! (tests/run.sh starts a throwaway cluster and sets it).

use std::time::Duration;

use mastra_tests::{binary::BinaryServer, node::npm_dir, stores::fresh_postgres_database};

#[tokio::test]
async fn the_official_client_resumes_on_a_second_instance_sharing_postgres() {
    let js_dir = npm_dir("js", "@mastra/client-js");
    let url = fresh_postgres_database("workflow_hitl_js").await;
    let env = [("DATABASE_URL", url.as_str()), ("RUST_LOG", "warn")];
    let (one, two) = tokio::join!(
        BinaryServer::start("quickstart", &env),
        BinaryServer::start("quickstart", &env)
    );
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node")
            .args([
                "--test",
                "--test-reporter=spec",
                "workflows-hitl-two-instances.mjs",
            ])
            .current_dir(&js_dir)
            .env("MASTRA_URL", one.base())
            .env("MASTRA_URL_2", two.base())
            .output(),
    )
    .await
    .expect("the two-instance client-js test finished within 2 minutes")
    .expect("node runs (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "two-instance client-js test failed:\n{stdout}\n{stderr}\nfirst log:\n{}\nsecond log:\n{}",
        one.log(),
        two.log()
    );
    assert!(
        stdout.contains("pass 3"),
        "expected 3 passing tests:\n{stdout}"
    );
}
