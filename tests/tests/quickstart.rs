//! The quickstart, in-process and as the real binary, spoken to over HTTP on 127.0.0.1.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use mastra_tests::{
    binary::{free_port, workspace_binary},
    client, TestServer,
};
use serde_json::json;

#[tokio::test]
async fn quickstart_routes_answer_like_the_guide() {
    let server = TestServer::start(quickstart::app()).await;

    let custom = server.get("/my-custom-route").await;
    custom.assert_status(200);
    assert_eq!(
        custom.json(),
        json!({ "message": "Custom route", "agent": "My Agent" })
    );
    assert_eq!(custom.header("x-logged-by"), Some("log_request"));

    let item = server.get("/items/1").await;
    item.assert_status(200);
    assert_eq!(item.json()["id"], "1");
    assert_eq!(item.json()["name"], "Sample Item");
    server
        .get("/items/nope")
        .await
        .assert_error(404, "Item nope not found");

    let created = server
        .post_json("/items", &json!({ "name": "Lamp", "price": 12.5 }))
        .await;
    created.assert_status(201);
    let id = created.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(created.json()["name"], "Lamp");
    let fetched = server.get(&format!("/items/{id}")).await;
    assert_eq!(fetched.json()["name"], "Lamp");
}

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_honours_port_serves_and_stops_cleanly_on_sigterm() {
    let port = free_port();
    let child = Command::new(workspace_binary("quickstart"))
        // The agent's memory opens ./mastra.db: keep it out of the source tree.
        .current_dir(mastra_tests::temp_dir("quickstart-binary"))
        .env("PORT", port.to_string())
        .env_remove("MASTRA_HOST")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn quickstart");
    let mut process = Process(child);
    let base = format!("http://127.0.0.1:{port}");
    let http = client();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(res) = http.get(format!("{base}/health")).send().await {
            assert_eq!(res.text().await.unwrap(), r#"{"success":true}"#);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "quickstart never came up on {base}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let item = http.get(format!("{base}/items/1")).send().await.unwrap();
    assert_eq!(item.status().as_u16(), 200);

    let pid = process.0.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = process.0.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status {exit:?}");
    let output = process.0.wait_with_output_lossy();
    assert!(
        output.contains(&format!("listening on http://127.0.0.1:{port}")),
        "startup log should print the URL; got:\n{output}"
    );
}

trait ReadAll {
    fn wait_with_output_lossy(&mut self) -> String;
}

impl ReadAll for Child {
    fn wait_with_output_lossy(&mut self) -> String {
        use std::io::Read;
        let mut text = String::new();
        if let Some(out) = self.stdout.as_mut() {
            let _ = out.read_to_string(&mut text);
        }
        if let Some(err) = self.stderr.as_mut() {
            let _ = err.read_to_string(&mut text);
        }
        text
    }
}
