//! Shared by the workflow tests: small typed steps, an app around workflows, and readers for
//! runs and 0x1E-separated workflow streams.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use mastra_runtime::{
    prelude::*,
    workflow::{RunOptions, RunResult, Step, StepContext, StepError, Workflow},
    MastraBuilder,
};
use mastra_tests::{test_config, Reply, TestServer};
use serde_json::{json, Value};

/// Two numbers.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Pair {
    pub a: i64,
    pub b: i64,
}

/// One number.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Total {
    pub total: i64,
}

/// A label.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Label {
    pub label: String,
}

/// `add`: `{a, b}` -> `{total: a + b}`.
pub fn add() -> Step {
    Step::builder("add").description("Adds a and b").execute(
        |p: Pair, _ctx: StepContext| async move { Ok::<_, StepError>(Total { total: p.a + p.b }) },
    )
}

/// `double`: `{total}` -> `{total: 2 * total}`.
pub fn double() -> Step {
    Step::builder("double")
        .description("Doubles the total")
        .execute(|t: Total, _ctx: StepContext| async move {
            Ok::<_, StepError>(Total { total: t.total * 2 })
        })
}

/// `describe`: `{total}` -> `{label}`.
pub fn describe() -> Step {
    Step::builder("describe").execute(|t: Total, _ctx: StepContext| async move {
        Ok::<_, StepError>(Label {
            label: format!("total is {}", t.total),
        })
    })
}

/// `add -> double -> describe`.
pub fn arithmetic() -> Workflow {
    Workflow::builder("arithmetic")
        .description("Adds, doubles, describes")
        .input::<Pair>()
        .output::<Label>()
        .then(add())
        .then(double())
        .then(describe())
        .commit()
        .expect("arithmetic fits together")
}

/// A test app with these workflows, an in-memory store and no annotated routes.
pub fn app(workflows: impl IntoIterator<Item = Workflow>) -> MastraBuilder {
    let mut builder = Mastra::builder()
        .storage(SqliteStorage::in_memory())
        .server(test_config())
        .without_annotated_routes();
    for workflow in workflows {
        builder = builder.workflow(workflow);
    }
    builder
}

/// Runs `workflow` once in process: a new run, started on `input` with default options, to
/// its end.
pub async fn run_once(workflow: &Workflow, input: impl Serialize) -> RunResult {
    workflow
        .create_run(None)
        .await
        .expect("create a run")
        .start(input, RunOptions::new())
        .await
        .expect("start the run")
}

/// `POST /api/workflows/:workflow/start-async` (`?runId=` when `run_id` is given) with
/// `{"inputData": input}`: the finished run, or why it was refused.
pub async fn start_async(
    server: &TestServer,
    workflow: &str,
    run_id: Option<&str>,
    input: Value,
) -> Reply {
    let query = run_id.map(|id| format!("?runId={id}")).unwrap_or_default();
    server
        .post_json(
            &format!("/api/workflows/{workflow}/start-async{query}"),
            &json!({ "inputData": input }),
        )
        .await
}

/// `GET /api/workflows/:workflow/runs/:run` until its status is `status` (5 s at most).
pub async fn wait_for_status(
    server: &TestServer,
    workflow: &str,
    run: &str,
    status: &str,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let reply = server
            .get(&format!("/api/workflows/{workflow}/runs/{run}"))
            .await;
        if reply.status == 200 && reply.json()["status"] == status {
            return reply.json();
        }
        assert!(
            Instant::now() < deadline,
            "run {run} never reached {status}: {} {}",
            reply.status,
            reply.text
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The JSON records of a workflow stream body, checking each is followed by 0x1E.
#[track_caller]
pub fn records(body: &str) -> Vec<Value> {
    assert!(
        body.ends_with('\u{1e}'),
        "every record ends with 0x1E: {body:?}"
    );
    body.split('\u{1e}')
        .filter(|r| !r.is_empty())
        .map(|r| {
            serde_json::from_str(r).unwrap_or_else(|e| panic!("record {r:?} is not JSON: {e}"))
        })
        .collect()
}

/// `type` of each event, with the step id for step events: `workflow-step-start:add`.
pub fn event_names(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e["payload"]["id"].as_str() {
            Some(id) if e["type"] != "workflow-start" => {
                format!("{}:{id}", e["type"].as_str().unwrap_or("?"))
            }
            _ => e["type"].as_str().unwrap_or("?").to_owned(),
        })
        .collect()
}
