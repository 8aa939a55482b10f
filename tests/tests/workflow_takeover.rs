//! A workflow run outlives the instance executing it: two `relay_server` processes share one
//! fresh PostgreSQL database (`MASTRA_TEST_POSTGRES_URL`, set by `tests/run.sh`), the one
//! executing a run is killed with SIGKILL in the middle of its slow step, and the other takes
//! the run over once its lease lapses, from its last persisted step, and finishes it with the
//! result an uninterrupted run has. The steps that had finished are not run again.

use std::time::{Duration, Instant};

use mastra_tests::{binary::BinaryServer, stores::fresh_postgres_database};
use serde_json::{json, Value};

/// Short, so the test does not wait 30 s; the slow step lasts several leases.
const LEASE_MS: &str = "1500";
const SLOW_STEP_MS: &str = "4000";
/// Generous: a loaded CI machine is slow, and nothing here is timed.
const DEADLINE: Duration = Duration::from_secs(90);

async fn run_of(client: &reqwest::Client, server: &BinaryServer, run_id: &str) -> Value {
    let url = format!("{}/api/workflows/relay/runs/{run_id}", server.base());
    let reply = client.get(&url).send().await.expect("GET the run");
    assert!(reply.status().is_success(), "{url}: {}", reply.status());
    reply.json().await.expect("JSON")
}

/// Polls `server` for the run until `done` holds for it.
async fn wait_for(
    client: &reqwest::Client,
    server: &BinaryServer,
    run_id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let run = run_of(client, server, run_id).await;
        if done(&run) {
            return run;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "run {run_id} never {what}: {run:#}\nlog:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn start(client: &reqwest::Client, server: &BinaryServer, run_id: &str, n: i64) {
    let base = server.base();
    let created = client
        .post(format!(
            "{base}/api/workflows/relay/create-run?runId={run_id}"
        ))
        .json(&json!({}))
        .send()
        .await
        .expect("create-run");
    assert!(created.status().is_success(), "{}", created.status());
    let started = client
        .post(format!("{base}/api/workflows/relay/start?runId={run_id}"))
        .json(&json!({ "inputData": { "n": n } }))
        .send()
        .await
        .expect("start");
    assert!(started.status().is_success(), "{}", started.status());
}

#[tokio::test]
async fn a_run_whose_instance_is_killed_is_taken_over_and_ends_as_an_uninterrupted_run() {
    let url = fresh_postgres_database("workflow_takeover").await;
    let envs = [
        ("DATABASE_URL", url.as_str()),
        ("MASTRA_WORKFLOW_LEASE_MS", LEASE_MS),
        ("MASTRA_TEST_SLOW_STEP_MS", SLOW_STEP_MS),
        ("RUST_LOG", "info"),
    ];
    let mut doomed = BinaryServer::start("relay_server", &envs).await;
    let survivor = BinaryServer::start("relay_server", &envs).await;
    let client = reqwest::Client::new();

    // The reference: a run nothing interrupts.
    start(&client, &survivor, "calm", 20).await;
    let calm = wait_for(&client, &survivor, "calm", "succeeded", |run| {
        run["status"] == "success"
    })
    .await;
    assert_eq!(calm["result"], json!({ "n": 39 }));

    // The same input on the instance about to die, killed while `double` runs there.
    start(&client, &doomed, "interrupted", 20).await;
    let midway = wait_for(&client, &survivor, "interrupted", "reached double", |run| {
        run["steps"]["double"]["status"] == "running"
    })
    .await;
    assert_eq!(midway["steps"]["add-one"]["status"], "success");
    let add_one_before = midway["steps"]["add-one"].clone();
    doomed.sigkill();

    let done = wait_for(&client, &survivor, "interrupted", "finished", |run| {
        matches!(
            run["status"].as_str(),
            Some("success" | "failed" | "canceled")
        )
    })
    .await;
    assert_eq!(done["status"], "success", "{done:#}");
    assert_eq!(done["result"], calm["result"]);
    // `double` ran again, on the survivor; `add-one`, finished before the kill, did not.
    assert_eq!(
        done["steps"]["double"]["output"]["doubled_by"],
        json!(survivor.pid()),
        "{done:#}"
    );
    assert_eq!(done["steps"]["add-one"], add_one_before);
    assert!(
        survivor.log().contains("took over a workflow run"),
        "{}",
        survivor.log()
    );
}

#[tokio::test]
async fn a_live_run_is_not_taken_over_while_its_executor_renews_its_lease() {
    let url = fresh_postgres_database("workflow_lease_kept").await;
    let envs = [
        ("DATABASE_URL", url.as_str()),
        ("MASTRA_WORKFLOW_LEASE_MS", LEASE_MS),
        // Several leases long: without renewals the other instance would take it over.
        ("MASTRA_TEST_SLOW_STEP_MS", "6000"),
        ("RUST_LOG", "info"),
    ];
    let executor = BinaryServer::start("relay_server", &envs).await;
    let watcher = BinaryServer::start("relay_server", &envs).await;
    let client = reqwest::Client::new();

    start(&client, &executor, "kept", 5).await;
    let done = wait_for(&client, &watcher, "kept", "finished", |run| {
        matches!(
            run["status"].as_str(),
            Some("success" | "failed" | "canceled")
        )
    })
    .await;
    assert_eq!(done["status"], "success", "{done:#}");
    assert_eq!(done["result"], json!({ "n": 9 }));
    assert_eq!(
        done["steps"]["double"]["output"]["doubled_by"],
        json!(executor.pid())
    );
    assert!(
        !watcher.log().contains("took over a workflow run"),
        "{}",
        watcher.log()
    );
    assert!(
        !executor.log().contains("stopping this execution"),
        "{}",
        executor.log()
    );
}
