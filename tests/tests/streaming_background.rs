//! Keeping generation alive: a route that does not pass the abort signal and consumes the run
//! in the background finishes the answer and saves it to memory after the client has gone;
//! the run is tracked while it lasts. Graceful shutdown waits for it, and names what it had to
//! abandon (this file installs a global log subscriber to read that, so it is its own binary).

use std::time::{Duration, Instant};

use mastra_runtime::{memory::MessageRole, prelude::*};
use mastra_tests::{
    eventually,
    leaving::{leave_after_first_text_delta, start_message_id},
    logs::captured_logs,
    slow_provider::SlowProvider,
    test_config, TestServer,
};
use serde_json::json;

/// `POST /keep-going/:thread`: no abort signal; the run is consumed in the background.
async fn keep_going(c: Context, Path(thread): Path<String>) -> Result<HttpResponse, ApiError> {
    let agent = c.mastra().agent("slow")?;
    let output = agent
        .stream("hello", GenerateOptions::new().memory(thread, "r"))
        .await?;
    output.consume_stream_in_background(c.mastra());
    Ok(output.to_ui_message_stream_response())
}

fn app(slow: &SlowProvider, config: ServerConfig) -> mastra_runtime::MastraBuilder {
    slow.app()
        .route(ApiRoute::post("/keep-going/:thread").handler(keep_going))
        .server(config)
}

/// Starts a run on `/keep-going/:thread`, reads until the first text delta, and leaves.
/// Returns the run id (the `start` part's `messageId`).
async fn start_and_leave(server: &TestServer, thread: &str) -> String {
    let path = format!("/keep-going/{thread}");
    let (seen, _) = leave_after_first_text_delta(server.base(), &path, &json!({})).await;
    start_message_id(&seen)
}

/// The thread's messages as (role, text), from the store itself.
async fn saved(mastra: &Mastra, thread: &str) -> Vec<(MessageRole, String)> {
    mastra
        .storage()
        .recent_messages(thread, 10)
        .await
        .expect("read the thread")
        .into_iter()
        .map(|m| (m.role, m.content.plain_text()))
        .collect()
}

#[tokio::test]
async fn a_background_run_finishes_and_saves_the_answer_after_the_client_left() {
    captured_logs();
    let (words, delay) = (10, Duration::from_millis(50));
    let slow = SlowProvider::start(words, delay).await;
    let server = TestServer::start(app(&slow, test_config())).await;
    let run_id = start_and_leave(&server, "kept").await;

    // The run is tracked, under a label naming the agent and the run.
    let running = server.mastra().background().running();
    assert!(
        running
            .iter()
            .any(|t| t.label == format!("agent slow run {run_id}")),
        "{running:?}"
    );

    eventually(Duration::from_secs(5), "the answer saved", || async {
        saved(server.mastra(), "kept").await.len() == 2
    })
    .await;
    assert_eq!(
        saved(server.mastra(), "kept").await,
        [
            (MessageRole::User, "hello".to_owned()),
            (MessageRole::Assistant, SlowProvider::full_text(words)),
        ]
    );
    // The model answered to the end: its connection was never cut.
    assert_eq!((slow.finished(), slow.closed_early()), (1, 0));
    // Also visible through the memory route.
    let messages = server.get("/api/memory/threads/kept/messages").await.json();
    assert_eq!(messages["total"], 2, "{messages}");
    eventually(Duration::from_secs(2), "the task untracked", || async {
        server.mastra().background().is_empty()
    })
    .await;
}

#[tokio::test]
async fn graceful_shutdown_waits_for_background_runs_to_finish_and_save() {
    captured_logs();
    // 2.5 s of answer: longer than the HTTP side of the drain takes, shorter than the 5 s
    // drain timeout.
    let (words, delay) = (25, Duration::from_millis(100));
    let slow = SlowProvider::start(words, delay).await;
    let server = TestServer::start(app(&slow, test_config())).await;
    let mastra = server.mastra().clone();
    let run_id = start_and_leave(&server, "drained").await;
    assert!(saved(&mastra, "drained").await.is_empty());

    let stopping = Instant::now();
    server.stop().await;
    let took = stopping.elapsed();
    eprintln!("graceful stop took {took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // Stopping returned only once the run had finished and saved its answer.
    assert_eq!(slow.finished(), 1, "the run was cut short");
    assert_eq!(saved(&mastra, "drained").await.len(), 2);
    assert!(mastra.background().is_empty());
    let log = captured_logs();
    assert!(
        log.contains("waiting for background tasks to finish before exiting"),
        "{log}"
    );
    assert!(
        !log.contains(&format!("task=agent slow run {run_id} ")),
        "the finished run is named as unfinished: {log}"
    );
}

#[tokio::test]
async fn background_runs_still_going_at_the_drain_timeout_are_logged_by_name() {
    captured_logs();
    let drain = Duration::from_millis(300);
    let slow = SlowProvider::start(100, Duration::from_millis(100)).await;
    let server = TestServer::start(app(&slow, test_config().drain_timeout(drain))).await;
    let mastra = server.mastra().clone();
    let run_id = start_and_leave(&server, "abandoned").await;

    let stopping = Instant::now();
    server.stop().await;
    let took = stopping.elapsed();
    eprintln!("stop with a {drain:?} drain timeout took {took:?}");
    assert!(
        took >= drain,
        "stop returned before the drain timeout: {took:?}"
    );
    assert!(
        took < drain + Duration::from_secs(2),
        "stop waited {took:?}"
    );
    assert_eq!(slow.finished(), 0);
    assert!(saved(&mastra, "abandoned").await.is_empty());

    let log = captured_logs();
    let line = log
        .lines()
        .find(|l| {
            l.contains("did not finish (the drain timeout passed); abandoned")
                && l.contains(&run_id)
        })
        .unwrap_or_else(|| panic!("no log line names run {run_id}: {log}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains(&format!("agent slow run {run_id}")), "{line}");
    assert!(line.contains("running_for_ms="), "{line}");
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Nap {
    millis: u64,
}

/// A workflow whose one step sleeps for its input's `millis`.
fn napping() -> mastra_runtime::workflow::Workflow {
    use mastra_runtime::workflow::{Step, StepContext, StepError, Workflow};
    let nap = Step::builder("nap").description("Sleeps").execute(
        |nap: Nap, _ctx: StepContext| async move {
            tokio::time::sleep(Duration::from_millis(nap.millis)).await;
            Ok::<_, StepError>(nap)
        },
    );
    Workflow::builder("napping")
        .then(nap)
        .commit()
        .expect("commit")
}

#[tokio::test]
async fn graceful_shutdown_waits_for_started_workflow_runs_too() {
    captured_logs();
    let server = TestServer::start(
        Mastra::builder()
            .workflow(napping())
            .storage(SqliteStorage::in_memory())
            .server(test_config())
            .without_annotated_routes(),
    )
    .await;
    let mastra = server.mastra().clone();
    server
        .post_json("/api/workflows/napping/create-run?runId=nap-1", &json!({}))
        .await
        .assert_status(200);
    server
        .post_json(
            "/api/workflows/napping/start?runId=nap-1",
            &json!({ "inputData": { "millis": 1500 } }),
        )
        .await
        .assert_status(200);
    let running = mastra.background().running();
    assert!(
        running
            .iter()
            .any(|t| t.label == "workflow napping run nap-1"),
        "{running:?}"
    );
    let stopping = Instant::now();
    server.stop().await;
    let took = stopping.elapsed();
    eprintln!("graceful stop with a workflow run took {took:?}");
    let run = mastra
        .storage()
        .get_workflow_run("napping", "nap-1")
        .await
        .expect("read the run")
        .expect("the run is stored");
    assert_eq!(
        serde_json::to_value(run.status).unwrap(),
        json!("success"),
        "the run did not finish before the server stopped"
    );
    assert!(mastra.background().is_empty());
}
