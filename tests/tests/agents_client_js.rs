//! The official `@mastra/client-js` (from npm, pinned in tests/js/package-lock.json) drives the
//! quickstart binary: list agents, generate, stream, threads, messages, tools and workflows
//! (tests/js/client.test.mjs). `tests/run.sh` installs the package with `npm ci`.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use mastra_tests::{
    binary::{free_port, workspace_binary},
    client, temp_dir,
};

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_official_mastra_client_js_drives_the_quickstart() {
    let js_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js");
    assert!(
        js_dir.join("node_modules/@mastra/client-js").exists(),
        "@mastra/client-js is not installed: run `npm ci` in {} (tests/run.sh does)",
        js_dir.display()
    );
    let port = free_port();
    // A fresh working directory, so ./mastra.db starts empty.
    let cwd = temp_dir("client-js");
    let _server = Process(
        Command::new(workspace_binary("quickstart"))
            .current_dir(&cwd)
            .env("PORT", port.to_string())
            .env_remove("OPENAI_API_KEY")
            .env_remove("ANTHROPIC_API_KEY")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the quickstart"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = client();
    let mut healthy = false;
    for _ in 0..200 {
        if http
            .get(format!("{base}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(healthy, "the quickstart never answered /health");

    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node")
            .arg("--test")
            .arg("--test-reporter=spec")
            .current_dir(&js_dir)
            .env("MASTRA_URL", &base)
            .output(),
    )
    .await
    .expect("the client-js test finished within 2 minutes")
    .expect("node runs (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "client-js test failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("pass 13"),
        "expected 13 passing tests:\n{stdout}"
    );
    assert!(cwd.join("mastra.db").exists(), "memory went to ./mastra.db");
    let _ = std::fs::remove_dir_all(cwd);
}
