//! The database goes away while the server serves, then comes back: requests that need storage
//! answer `503` with a JSON error within seconds (never hang, never `500`), routes that need
//! none keep answering, and once PostgreSQL is up again the same requests succeed without a
//! restart; the readiness probe (`/ready`) says so all along while liveness (`/health`) stays
//! 200. The test freezes (`SIGSTOP`) and thaws a real cluster of its own, as a partition
//! would leave it, then stops and starts it (`pg_ctl stop -m fast`), so other tests on the
//! run's cluster are not disturbed.

mod workflows_support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use mastra_runtime::{
    memory::{PoolSettings, PostgresStorage, Storage, DEFAULT_ACQUIRE_TIMEOUT},
    model::EchoModel,
    prelude::*,
};
use mastra_tests::{pg_cluster::PgCluster, Reply, TestServer};
use serde_json::json;
use workflows_support::{app, arithmetic, start_async};

/// The query timeout of the test's store: a frozen database answers 503 after it.
const QUERY_TIMEOUT: Duration = Duration::from_secs(3);

/// Longest a request may take to answer while the database is down: the acquire timeout and
/// generous slack for a loaded machine.
const ANSWER_WITHIN: Duration = Duration::from_secs(15);

async fn timed(request: impl std::future::Future<Output = Reply>) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = tokio::time::timeout(ANSWER_WITHIN * 2, request)
        .await
        .expect("the request answered (it must never hang)");
    (reply, started.elapsed())
}

#[track_caller]
fn assert_unavailable(what: &str, reply: &Reply, took: Duration) {
    assert_eq!(
        reply.status.as_u16(),
        503,
        "{what}: expected 503, got {} {}",
        reply.status,
        reply.text
    );
    assert!(
        reply.json()["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{what}: a JSON error: {}",
        reply.text
    );
    assert!(took < ANSWER_WITHIN, "{what} took {took:?}");
}

/// Polls (each attempt bounded) until the store answers again, with no restart.
async fn wait_until_served(server: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (reply, _) = timed(server.get("/api/memory/threads/t1")).await;
        if reply.status == 200 {
            assert_eq!(reply.json()["resourceId"], "alice");
            return;
        }
        assert_eq!(reply.status.as_u16(), 503, "{}", reply.text);
        assert!(
            Instant::now() < deadline,
            "the store never came back: {}",
            reply.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_database_is_503_within_seconds_and_service_resumes_when_it_returns() {
    let cluster = PgCluster::start("outage", None);
    let settings = PoolSettings {
        query_timeout: QUERY_TIMEOUT,
        ..PoolSettings::default()
    };
    let storage: Arc<dyn Storage> = Arc::new(
        PostgresStorage::with_settings(&cluster.url(""), settings).expect("the URL parses"),
    );
    let server = TestServer::start(
        app([arithmetic()])
            .agent(
                Agent::builder("mem")
                    .model(EchoModel::new().token_delay(Duration::ZERO))
                    .memory(Memory::new()),
            )
            .shared_storage(storage),
    )
    .await;
    let turn = json!({ "messages": "hello", "memory": { "thread": "t1", "resource": "alice" } });
    server
        .post_json("/api/agents/mem/generate", &turn)
        .await
        .assert_status(200);
    server
        .get("/api/memory/threads/t1")
        .await
        .assert_status(200);
    assert_eq!(server.get("/ready").await.json(), json!({ "ready": true }));

    // Frozen: connections stay open, nothing answers. The query timeout bounds the wait.
    cluster.freeze();
    let (reply, took) = timed(server.get("/api/memory/threads/t1")).await;
    let (turn_reply, turn_took) = timed(server.post_json("/api/agents/mem/generate", &turn)).await;
    let (ready, ready_took) = timed(server.get("/ready")).await;
    server.get("/health").await.assert_status(200);
    cluster.thaw();
    assert_unavailable("readiness with a frozen database", &ready, ready_took);
    assert_unavailable("reading a thread from a frozen database", &reply, took);
    assert_unavailable("a turn on a frozen database", &turn_reply, turn_took);
    assert!(
        took >= QUERY_TIMEOUT / 2,
        "it did wait for the database: {took:?}"
    );
    wait_until_served(&server).await;

    cluster.stop();

    let (reply, took) = timed(server.get("/api/memory/threads/t1")).await;
    assert_unavailable("reading a thread", &reply, took);
    let (reply, took) = timed(server.get("/api/memory/threads/t1/messages")).await;
    assert_unavailable("listing messages", &reply, took);
    let (reply, took) = timed(server.post_json("/api/agents/mem/generate", &turn)).await;
    assert_unavailable("a turn with memory", &reply, took);
    let (reply, took) = timed(start_async(
        &server,
        "arithmetic",
        Some("down"),
        json!({ "a": 1, "b": 2 }),
    ))
    .await;
    assert_unavailable("starting a workflow run", &reply, took);
    let (reply, took) = timed(server.get("/api/workflows/arithmetic/runs")).await;
    assert_unavailable("listing workflow runs", &reply, took);
    // The acquire timeout is what bounds the wait.
    assert!(DEFAULT_ACQUIRE_TIMEOUT < ANSWER_WITHIN);

    let (reply, took) = timed(server.get("/ready")).await;
    assert_unavailable("readiness", &reply, took);

    // What needs no storage keeps answering: liveness among it.
    server.get("/health").await.assert_status(200);
    let agents = server.get("/api/agents").await;
    agents.assert_status(200);
    assert!(agents.json()["mem"].is_object(), "{}", agents.text);
    server.get("/api/workflows").await.assert_status(200);

    cluster.start_again();

    // Back without a restart.
    wait_until_served(&server).await;
    server.get("/ready").await.assert_status(200);
    server
        .post_json("/api/agents/mem/generate", &turn)
        .await
        .assert_status(200);
    let page = server.get("/api/memory/threads/t1/messages").await.json();
    // Two turns answered 200 (before the freeze, after the restart): their four messages.
    // The turn refused while frozen may or may not have committed (it timed out waiting).
    let total = page["total"].as_u64().unwrap_or_default();
    assert!(
        total == 4 || total == 6,
        "nothing acknowledged was lost: {page}"
    );
    start_async(&server, "arithmetic", Some("up"), json!({ "a": 1, "b": 2 }))
        .await
        .assert_status(200);
}
