//! The quickstart binary honours `DATABASE_URL`: two processes started together on one empty
//! PostgreSQL database both come up (the schema is created once) and share memory; the log
//! names the store without its password; a database that cannot be reached ends the start at
//! once with exit code 1 and a message naming the store (password hidden) and what failed.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use mastra_tests::{
    binary::{free_port, workspace_binary, BinaryServer},
    client,
    stores::fresh_postgres_database,
    temp_dir,
};
use serde_json::{json, Value};

/// The password in `url` (`scheme://user:password@host`), if any.
fn password_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.split_once('@')?.0;
    userinfo
        .split_once(':')
        .map(|(_, password)| password.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_quickstarts_on_one_database_share_memory_and_hide_the_password() {
    let url = fresh_postgres_database("quickstart").await;
    let env = [("DATABASE_URL", url.as_str())];
    let (one, two) = tokio::join!(
        BinaryServer::start("quickstart", &env),
        BinaryServer::start("quickstart", &env)
    );
    let http = client();
    let generated = http
        .post(format!("{}/api/agents/my-agent/generate", one.base()))
        .json(&json!({ "messages": "Hello", "memory": { "thread": "t1", "resource": "me" } }))
        .send()
        .await
        .expect("generate");
    assert_eq!(generated.status(), 200);
    let page: Value = http
        .get(format!("{}/api/memory/threads/t1/messages", two.base()))
        .send()
        .await
        .expect("list messages")
        .json()
        .await
        .expect("JSON");
    assert_eq!(page["total"], 2, "{page}");
    assert_eq!(page["messages"][0]["content"]["content"], "Hello");
    assert!(
        !two.dir().join("mastra.db").exists(),
        "no SQLite file when DATABASE_URL names PostgreSQL"
    );
    for server in [&one, &two] {
        let log = server.log();
        assert!(
            log.contains("storage ready") && log.contains("postgres://"),
            "{log}"
        );
        if let Some(password) = password_of(&url).filter(|p| !p.is_empty()) {
            assert!(
                !log.contains(&password),
                "the password is in the log:\n{log}"
            );
            assert!(log.contains(":***@"), "{log}");
        }
    }
}

#[tokio::test]
async fn an_unreachable_database_ends_the_start_at_once_naming_it() {
    let port = free_port();
    let url = format!("postgres://mastra:hunter2secret@127.0.0.1:{port}/mastra");
    let dir = temp_dir("quickstart-no-db");
    let started = Instant::now();
    let mut child = Command::new(workspace_binary("quickstart"))
        .current_dir(&dir)
        .env("DATABASE_URL", &url)
        .env("PORT", free_port().to_string())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the quickstart");
    let deadline = started + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the quickstart kept running without its database");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let output = child.wait_with_output().expect("read its output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(status.code(), Some(1), "{stderr}");
    let expected = format!("could not open storage postgres://mastra:***@127.0.0.1:{port}/mastra");
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(stderr.contains("cannot connect"), "{stderr}");
    assert!(!stderr.contains("hunter2secret"), "{stderr}");
    assert!(
        !dir.join("mastra.db").exists(),
        "it did not fall back to SQLite"
    );
}
