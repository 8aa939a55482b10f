//! Two quickstart instances on one PostgreSQL database behind a real load balancer (Debian's
//! nginx, round robin, on 127.0.0.1; `tests/src/nginx.rs`), as a team deploys replicas:
//!
//! - the official `@mastra/client-js` drives them through nginx (tests/js/load_balanced.mjs):
//!   agents with memory, threads, workflows, every request alternating between the instances,
//!   the same data whichever instance answers;
//! - concurrent turns on one thread, sent through nginx, are stored once each, in one order
//!   that both instances return identically (read from each directly);
//! - a body past the server's limit is refused by an instance (its JSON 413), not by nginx;
//! - with one instance killed (SIGKILL), nginx passes reads and writes to the other;
//! - `docs/deploy.md` shows the configuration these tests run.
//!
//! Each test gets a database of its own in the cluster `tests/run.sh` starts
//! (`MASTRA_TEST_POSTGRES_URL`); without it, or without nginx, the tests fail saying to run
//! `tests/run.sh`.

use std::{collections::HashMap, time::Duration};

use futures_util::future::join_all;
use mastra_tests::{
    binary::BinaryServer,
    client,
    nginx::{self, Nginx, UPSTREAM_HEADER},
    node::npm_dir,
    stores::fresh_postgres_database,
};
use serde_json::{json, Value};

const AGENT: &str = "my-agent";

/// Two quickstarts on one fresh PostgreSQL database, and nginx in front of them.
struct Cluster {
    instances: [BinaryServer; 2],
    nginx: Nginx,
}

impl Cluster {
    /// Starts both instances at the same moment on an empty database (so both apply the
    /// migrations at once), then nginx.
    async fn start(label: &str) -> Cluster {
        nginx::assert_installed();
        let database = fresh_postgres_database(label).await;
        let envs = [("DATABASE_URL", database.as_str()), ("RUST_LOG", "warn")];
        let (a, b) = tokio::join!(
            BinaryServer::start("quickstart", &envs),
            BinaryServer::start("quickstart", &envs),
        );
        let nginx = Nginx::start(&[a.base(), b.base()]).await;
        Cluster {
            instances: [a, b],
            nginx,
        }
    }

    /// Checks that neither instance kept anything in a SQLite file of its own: the state they
    /// share is PostgreSQL's.
    fn assert_no_sqlite_file(&self) {
        for instance in &self.instances {
            assert!(
                !instance.dir().join("mastra.db").exists(),
                "{} wrote ./mastra.db: DATABASE_URL was not honoured; log:\n{}",
                instance.base(),
                instance.log()
            );
        }
    }

    /// The instance bases, comma-separated.
    fn instance_urls(&self) -> String {
        self.instances
            .iter()
            .map(BinaryServer::base)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Runs `node --test --test-reporter=spec FILE` in `tests/js` against the cluster, for two
/// minutes at most; asserts it succeeded and returns its output.
async fn node_test_file(cluster: &Cluster, file: &str) -> String {
    let js_dir = npm_dir("js", "@mastra/client-js");
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node")
            .arg("--test")
            .arg("--test-reporter=spec")
            .arg(file)
            .current_dir(&js_dir)
            .env("MASTRA_URL", cluster.nginx.base())
            .env("MASTRA_INSTANCES", cluster.instance_urls())
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{file} finished within 2 minutes"))
    .expect("node runs (is Node.js installed? tests/run.sh installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{file} failed:\n{stdout}\n{stderr}\nnginx:\n{}\ninstance logs:\n{}\n{}",
        cluster.nginx.logs(),
        cluster.instances[0].log(),
        cluster.instances[1].log()
    );
    stdout
}

#[tokio::test]
async fn the_official_client_js_through_nginx_alternates_between_two_instances_on_postgres() {
    let cluster = Cluster::start("lb_client_js").await;
    let stdout = node_test_file(&cluster, "load_balanced.mjs").await;
    assert!(
        stdout.contains("pass 8") && stdout.contains("fail 0"),
        "expected 8 passing tests:\n{stdout}"
    );

    // nginx's own record agrees: every request it proxied (the client's, one after another,
    // and its readiness probe) went to the other instance than the one before.
    let log = cluster.nginx.access_log();
    let served: Vec<&str> = log
        .iter()
        .map(|line| line.rsplit(' ').next().unwrap_or_default())
        .collect();
    assert!(served.len() > 20, "nginx logged {} requests", served.len());
    for pair in served.windows(2) {
        assert_ne!(
            pair[0], pair[1],
            "two requests in a row on one instance:\n{log:#?}"
        );
    }
    for upstream in cluster.nginx.upstreams() {
        assert!(
            served.contains(&upstream.as_str()),
            "{upstream} served nothing"
        );
    }
    cluster.assert_no_sqlite_file();
}

/// `GET path` on `base`, as JSON, asserting 200.
async fn get_json(base: &str, path: &str) -> Value {
    let res = client()
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {base}{path}: {e}"));
    let status = res.status();
    let text = res.text().await.expect("read body");
    assert_eq!(status, 200, "GET {base}{path}: {text}");
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("GET {base}{path} is not JSON ({e}): {text}"))
}

#[tokio::test]
async fn concurrent_turns_through_nginx_have_one_order_on_both_instances() {
    const TURNS: usize = 16;
    let cluster = Cluster::start("lb_order").await;
    let lb = cluster.nginx.base();
    let http = client();

    let thread = "lb-concurrent";
    let res = http
        .post(format!("{lb}/api/memory/threads?agentId={AGENT}"))
        .json(&json!({ "resourceId": "lb-writer", "threadId": thread, "title": "Concurrent" }))
        .send()
        .await
        .expect("create the thread");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );

    // All turns at once, through nginx, which spreads them over both instances.
    let turns = (0..TURNS).map(|i| {
        let http = http.clone();
        async move {
            let res = http
                .post(format!("{lb}/api/agents/{AGENT}/generate"))
                .json(&json!({
                    "messages": format!("turn {i}"),
                    "memory": { "thread": thread, "resource": "lb-writer" },
                }))
                .send()
                .await
                .unwrap_or_else(|e| panic!("turn {i}: {e}"));
            let upstream = res
                .headers()
                .get(UPSTREAM_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .unwrap_or_else(|| panic!("turn {i}: no {UPSTREAM_HEADER} header"));
            let status = res.status();
            let text = res.text().await.expect("read body");
            assert_eq!(status, 200, "turn {i} on {upstream}: {text}");
            let body: Value = serde_json::from_str(&text).expect("generate answers JSON");
            assert_eq!(body["text"], format!("You said: turn {i}"), "turn {i}");
            upstream
        }
    });
    let served = join_all(turns).await;
    let mut per_instance: HashMap<&str, usize> = HashMap::new();
    for upstream in &served {
        *per_instance.entry(upstream.as_str()).or_default() += 1;
    }
    for upstream in cluster.nginx.upstreams() {
        assert_eq!(
            per_instance.get(upstream.as_str()),
            Some(&(TURNS / 2)),
            "round robin gives each instance half the turns: {per_instance:?}"
        );
    }

    // Each instance, asked directly, returns the same messages in the same order.
    let path = format!("/api/memory/threads/{thread}/messages?agentId={AGENT}&perPage=false");
    let [a, b] = &cluster.instances;
    let from_a = get_json(a.base(), &path).await;
    let from_b = get_json(b.base(), &path).await;
    assert_eq!(
        from_a["messages"], from_b["messages"],
        "the instances disagree on the thread"
    );
    assert_eq!(from_a["total"], TURNS * 2);
    let messages = from_a["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), TURNS * 2);

    // Every turn's input and answer are there exactly once, the input first.
    let text_of = |m: &Value| -> String {
        match m["role"].as_str() {
            Some("user") => m["content"]["parts"][0]["text"].as_str(),
            _ => m["content"]["content"].as_str(),
        }
        .unwrap_or_default()
        .to_owned()
    };
    let position = |role: &str, text: &str| -> usize {
        let found: Vec<usize> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m["role"] == role && text_of(m) == text)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{role} {text:?} stored {} times",
            found.len()
        );
        found[0]
    };
    for i in 0..TURNS {
        let asked = position("user", &format!("turn {i}"));
        let answered = position("assistant", &format!("You said: turn {i}"));
        assert!(
            asked < answered,
            "turn {i}: answer at {answered} before input at {asked}"
        );
    }
    let mut ids: Vec<&str> = messages.iter().filter_map(|m| m["id"].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), TURNS * 2, "message ids are unique");

    // And the newest-first listing is the same order reversed, on both.
    let newest = format!(
        "/api/memory/threads/{thread}/messages?agentId={AGENT}&perPage=false&orderBy=%7B%22field%22%3A%22createdAt%22%2C%22direction%22%3A%22DESC%22%7D"
    );
    let mut reversed = get_json(a.base(), &newest).await["messages"].clone();
    assert_eq!(reversed, get_json(b.base(), &newest).await["messages"]);
    reversed.as_array_mut().expect("messages").reverse();
    assert_eq!(&reversed, &from_a["messages"]);
    cluster.assert_no_sqlite_file();
}

/// The nginx configuration `docs/deploy.md` shows is the one these tests run (with example
/// addresses).
#[test]
fn docs_deploy_shows_the_tested_nginx_config() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/deploy.md"))
        .expect("read docs/deploy.md");
    let tested = nginx::http_block(
        "80",
        &["10.0.0.11:4111".to_owned(), "10.0.0.12:4111".to_owned()],
    );
    assert!(
        doc.contains(&format!("```nginx\n{tested}```\n")),
        "docs/deploy.md must show the tested configuration, as nginx::http_block writes it:\n{tested}"
    );
}

#[tokio::test]
async fn a_body_past_the_server_limit_is_refused_by_an_instance_not_by_nginx() {
    let cluster = Cluster::start("lb_body").await;
    // Past the server's 4.5 MiB limit, inside nginx's 5 MiB.
    let text = "x".repeat(4_800_000);
    let res = client()
        .post(format!(
            "{}/api/agents/{AGENT}/generate",
            cluster.nginx.base()
        ))
        .json(&json!({ "messages": text }))
        .send()
        .await
        .expect("send the large body");
    let upstream = res
        .headers()
        .get(UPSTREAM_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = res.status();
    let body = res.text().await.expect("read body");
    assert_eq!(status, 413, "{body}");
    let error: Value = serde_json::from_str(&body).expect("the server's JSON error");
    assert_eq!(error["error"], "Request body too large");
    assert!(
        upstream.is_some_and(|u| cluster.nginx.upstreams().contains(&u)),
        "the 413 came from nginx, not an instance: {body}"
    );
}

#[tokio::test]
async fn nginx_passes_requests_on_when_an_instance_is_killed() {
    let mut cluster = Cluster::start("lb_killed").await;
    let lb = cluster.nginx.base().to_owned();
    let http = client();
    let res = http
        .post(format!("{lb}/api/memory/threads?agentId={AGENT}"))
        .json(&json!({ "resourceId": "lb-survivor", "threadId": "lb-killed", "title": "Before" }))
        .send()
        .await
        .expect("create the thread");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );

    cluster.instances[0].sigkill();
    let survivor = cluster.nginx.upstreams()[1].clone();
    // Reads and writes, each answered by the survivor: nginx could not connect to the killed
    // instance, so it passed even a POST on (nothing had been sent).
    for i in 0..6 {
        let request = if i % 2 == 0 {
            http.get(format!(
                "{lb}/api/memory/threads/lb-killed/messages?agentId={AGENT}"
            ))
        } else {
            http.post(format!("{lb}/api/agents/{AGENT}/generate"))
                .json(&json!({
                    "messages": format!("after {i}"),
                    "memory": { "thread": "lb-killed", "resource": "lb-survivor" },
                }))
        };
        let res = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        let upstream = res
            .headers()
            .get(UPSTREAM_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let status = res.status();
        let body = res.text().await.expect("read body");
        assert_eq!(status, 200, "request {i} (upstreams {upstream}): {body}");
        assert!(
            upstream.ends_with(&survivor),
            "request {i} was answered by {upstream}, not the survivor {survivor}"
        );
    }
    let page = get_json(
        cluster.instances[1].base(),
        &format!("/api/memory/threads/lb-killed/messages?agentId={AGENT}&perPage=false"),
    )
    .await;
    assert_eq!(page["total"], 6, "three turns after the kill: {page}");
}
