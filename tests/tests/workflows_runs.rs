//! How runs behave: parallel outputs keyed by step id, a failing parallel step cancelling its
//! siblings, branches, `map`, nested workflows, run state, steps calling agents, panics,
//! run-time input checks, snapshots saved after each step, and runs surviving a restart.

mod workflows_support;

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use mastra_runtime::{
    model::EchoModel,
    prelude::*,
    workflow::{when, RunOptions, Step, StepContext, StepError, Workflow, WorkflowRunStatus},
};
use mastra_tests::{temp_dir, TestServer};
use serde_json::{json, Value};
use tokio::sync::Notify;
use workflows_support::{
    add, app, arithmetic, double, run_once, start_async, wait_for_status, Label, Pair, Total,
};

fn sleeper(
    id: &str,
    delay: Duration,
    finished: Arc<AtomicUsize>,
    aborted: Arc<AtomicBool>,
) -> Step {
    Step::builder(id).execute(move |t: Total, ctx: StepContext| {
        let finished = Arc::clone(&finished);
        let aborted = Arc::clone(&aborted);
        async move {
            let signal = ctx.abort_signal().clone();
            tokio::spawn(async move {
                signal.cancelled().await;
                aborted.store(true, Ordering::SeqCst);
            });
            tokio::time::sleep(delay).await;
            finished.fetch_add(1, Ordering::SeqCst);
            Ok::<_, StepError>(t)
        }
    })
}

/// A parallel step that finishes only once `peers` steps have started (its own start
/// included): if the steps of a `parallel` ran one after another, the first would wait for a
/// sibling that never starts and fail after a generous deadline. Order, not a time bound.
fn rendezvous(id: &str, peers: usize, started: Arc<AtomicUsize>) -> Step {
    Step::builder(id).execute(move |t: Total, _: StepContext| {
        let started = Arc::clone(&started);
        async move {
            started.fetch_add(1, Ordering::SeqCst);
            let deadline = Instant::now() + Duration::from_secs(30);
            while started.load(Ordering::SeqCst) < peers {
                if Instant::now() > deadline {
                    return Err(StepError::new("the sibling parallel steps never started"));
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Ok::<_, StepError>(t)
        }
    })
}

#[tokio::test]
async fn parallel_steps_run_at_the_same_time_and_their_outputs_are_keyed_by_step_id() {
    let started = Arc::new(AtomicUsize::new(0));
    let workflow = Workflow::builder("fan-out")
        .then(add())
        .parallel([
            rendezvous("slow-a", 2, started.clone()),
            rendezvous("slow-b", 2, started.clone()),
            double(),
        ])
        .commit()
        .unwrap();
    let result = run_once(&workflow, Pair { a: 1, b: 2 }).await;
    assert!(result.is_success(), "{result:?}");
    assert_eq!(
        result.result,
        Some(
            json!({ "slow-a": { "total": 3 }, "slow-b": { "total": 3 }, "double": { "total": 6 } })
        )
    );
    assert_eq!(started.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failing_parallel_step_fails_the_run_and_cancels_its_siblings() {
    let finished = Arc::new(AtomicUsize::new(0));
    let aborted = Arc::new(AtomicBool::new(false));
    let fail = Step::builder("fail-fast").execute(|_: Total, _: StepContext| async move {
        tokio::time::sleep(Duration::from_millis(30)).await;
        Err::<Total, _>(StepError::new("the upstream service is down"))
    });
    let workflow = Workflow::builder("fragile")
        .then(add())
        .parallel([
            sleeper(
                "slow",
                Duration::from_secs(3),
                finished.clone(),
                aborted.clone(),
            ),
            fail,
        ])
        .map(|both: Value, _: &StepContext| Ok(both))
        .commit()
        .unwrap();
    let server = TestServer::start(app([workflow])).await;
    let started = Instant::now();
    let run = start_async(&server, "fragile", Some("p1"), json!({ "a": 1, "b": 1 }))
        .await
        .json();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "did not wait for the slow sibling"
    );
    assert_eq!(run["status"], "failed");
    assert_eq!(run["error"]["message"], "the upstream service is down");
    assert_eq!(run["steps"]["fail-fast"]["status"], "failed");
    assert_eq!(run["steps"]["slow"]["status"], "canceled");
    assert!(run["steps"]["slow"]["endedAt"].is_i64());
    assert!(
        run["steps"].get("mapping_1").is_none(),
        "nothing after the group ran"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        aborted.load(Ordering::SeqCst),
        "the sibling's abort signal fired"
    );
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "the sibling never finished"
    );
    let stored = server.get("/api/workflows/fragile/runs/p1").await.json();
    assert_eq!(stored["steps"]["slow"]["status"], "canceled");
}

#[tokio::test]
async fn a_branch_runs_only_the_arms_whose_condition_holds() {
    let tag = |id: &'static str| {
        Step::builder(id).execute(move |t: Total, _: StepContext| async move {
            Ok::<_, StepError>(Label {
                label: format!("{id} {}", t.total),
            })
        })
    };
    let workflow = Workflow::builder("sorter")
        .then(add())
        .branch([
            (when(|t: &Total| t.total > 10), tag("big")),
            (when(|t: &Total| t.total % 2 == 0), tag("even")),
            (when(|t: &Total| t.total < 0), tag("negative")),
        ])
        .commit()
        .unwrap();
    for (pair, expected) in [
        (
            Pair { a: 6, b: 6 },
            json!({ "big": { "label": "big 12" }, "even": { "label": "even 12" } }),
        ),
        (Pair { a: 1, b: 2 }, json!({})),
        (
            Pair { a: -1, b: -2 },
            json!({ "negative": { "label": "negative -3" } }),
        ),
    ] {
        let result = run_once(&workflow, pair).await;
        assert_eq!(result.result, Some(expected.clone()));
        let ran: Vec<&String> = result.steps.keys().filter(|k| *k != "add").collect();
        assert_eq!(
            ran.len(),
            expected.as_object().unwrap().len(),
            "{:?}",
            result.steps
        );
    }
}

#[tokio::test]
async fn map_reshapes_between_steps_and_reads_the_input_and_earlier_outputs() {
    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Report {
        sum: i64,
        first: i64,
        doubled: i64,
    }
    let report = Step::builder("report").execute(|r: Report, _: StepContext| async move {
        Ok::<_, StepError>(Label {
            label: format!("{} {} {}", r.sum, r.first, r.doubled),
        })
    });
    let workflow = Workflow::builder("mapped")
        .then(add())
        .then(double())
        .map(|doubled: Total, ctx: &StepContext| {
            let input: Pair = ctx.init_data()?;
            let added: Total = ctx.step_output("add")?;
            Ok(Report {
                sum: added.total,
                first: input.a,
                doubled: doubled.total,
            })
        })
        .then(report)
        .commit()
        .unwrap();
    let result = run_once(&workflow, Pair { a: 4, b: 1 }).await;
    assert_eq!(result.output::<Label>().unwrap().label, "5 4 10");
    assert_eq!(
        result.steps["mapping_1"].output,
        Some(json!({ "sum": 5, "first": 4, "doubled": 10 }))
    );
}

#[tokio::test]
async fn a_nested_workflow_runs_as_one_step_and_its_failure_fails_the_outer_run() {
    let strict = Step::builder("strict").execute(|l: Label, _: StepContext| async move {
        if l.label.ends_with('0') {
            Err(StepError::new("round numbers are refused"))
        } else {
            Ok(l)
        }
    });
    let outer = Workflow::builder("outer")
        .then(arithmetic())
        .then(strict)
        .commit()
        .unwrap();
    let ok = run_once(&outer, Pair { a: 1, b: 2 }).await;
    assert_eq!(ok.result, Some(json!({ "label": "total is 6" })));
    assert_eq!(
        ok.steps["arithmetic.add"].output,
        Some(json!({ "total": 3 }))
    );

    let inner_fails = Workflow::builder("wrapper")
        .then(
            Workflow::builder("inner")
                .then(add())
                .then(
                    Step::builder("explode").execute(|_: Total, _: StepContext| async move {
                        Err::<Total, _>(StepError::named("TypeError", "inner failure"))
                    }),
                )
                .commit()
                .unwrap(),
        )
        .commit()
        .unwrap();
    let failed = run_once(&inner_fails, Pair { a: 1, b: 1 }).await;
    assert_eq!(failed.status, WorkflowRunStatus::Failed);
    assert_eq!(failed.error.as_ref().unwrap().name, "TypeError");
    assert_eq!(
        failed.steps["inner"].error.as_ref().unwrap().message,
        "inner failure"
    );
    assert_eq!(
        failed.steps["inner.explode"]
            .error
            .as_ref()
            .unwrap()
            .message,
        "inner failure"
    );
}

#[tokio::test]
async fn a_step_calls_an_agent_through_the_mastra_handle() {
    #[derive(Deserialize, JsonSchema)]
    struct Prompt {
        text: String,
    }
    let ask = Step::builder("ask").execute(|p: Prompt, ctx: StepContext| async move {
        let answer = ctx
            .agent("helper")?
            .generate(p.text, ctx.generate_options())
            .await?;
        Ok::<_, StepError>(Label { label: answer.text })
    });
    let missing = Step::builder("missing").execute(|l: Label, ctx: StepContext| async move {
        ctx.agent("nobody")?;
        Ok::<_, StepError>(l)
    });
    let workflow = Workflow::builder("asker")
        .then(ask)
        .then(missing)
        .commit()
        .unwrap();
    let server = TestServer::start(
        app([workflow.clone()])
            .agent(Agent::builder("helper").model(EchoModel::new().token_delay(Duration::ZERO))),
    )
    .await;
    let run = start_async(&server, "asker", None, json!({ "text": "hi there" }))
        .await
        .json();
    assert_eq!(
        run["steps"]["ask"]["output"],
        json!({ "label": "You said: hi there" })
    );
    assert_eq!(run["status"], "failed");
    assert_eq!(
        run["error"],
        json!({ "name": "NotFoundError", "message": "Agent with id nobody not found" })
    );

    // The same workflow, not registered: no application to call.
    let result = run_once(&workflow, json!({ "text": "x" })).await;
    assert!(result
        .error
        .unwrap()
        .message
        .contains("not registered with Mastra"));
}

#[tokio::test]
async fn a_panicking_step_fails_the_run_and_the_server_keeps_serving() {
    let panics = Step::builder("panics").execute(|t: Total, _: StepContext| async move {
        if t.total > 0 {
            panic!("step exploded");
        }
        Ok::<_, StepError>(t)
    });
    let workflow = Workflow::builder("panicky")
        .then(add())
        .then(panics)
        .commit()
        .unwrap();
    let server = TestServer::start(app([workflow])).await;
    let run = start_async(&server, "panicky", None, json!({ "a": 1, "b": 1 }))
        .await
        .json();
    assert_eq!(run["status"], "failed");
    assert_eq!(
        run["error"]["message"],
        "step panics panicked: step exploded"
    );
    server.get("/api/workflows").await.assert_status(200);
}

#[tokio::test]
async fn a_step_input_that_its_schema_refuses_fails_the_run_at_that_step() {
    // A step giving untyped JSON passes the build-time check; its value is checked at run time.
    let loose = Step::builder("loose").execute(|_: Pair, _: StepContext| async move {
        Ok::<_, StepError>(json!({ "total": "not a number" }))
    });
    let workflow = Workflow::builder("loose-then-strict")
        .then(loose)
        .then(double())
        .commit()
        .unwrap();
    let result = run_once(&workflow, Pair { a: 1, b: 1 }).await;
    assert_eq!(result.status, WorkflowRunStatus::Failed);
    let error = result.error.unwrap();
    assert_eq!(error.name, "ValidationError");
    assert!(
        error
            .message
            .starts_with("invalid input for step double: total:"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn the_snapshot_is_saved_after_each_step_while_the_run_goes_on() {
    let gate = Arc::new(Notify::new());
    let wait = {
        let gate = Arc::clone(&gate);
        Step::builder("wait").execute(move |t: Total, _: StepContext| {
            let gate = Arc::clone(&gate);
            async move {
                gate.notified().await;
                Ok::<_, StepError>(t)
            }
        })
    };
    let workflow = Workflow::builder("gated")
        .then(add())
        .then(wait)
        .then(double())
        .commit()
        .unwrap();
    let server = TestServer::start(app([workflow])).await;
    server
        .post_json("/api/workflows/gated/create-run?runId=g1", &json!({}))
        .await
        .assert_status(200);
    server
        .post_json(
            "/api/workflows/gated/start?runId=g1",
            &json!({ "inputData": { "a": 2, "b": 2 } }),
        )
        .await
        .assert_status(200);
    let deadline = Instant::now() + Duration::from_secs(5);
    let midway = loop {
        let run = server.get("/api/workflows/gated/runs/g1").await.json();
        if run["steps"]["add"]["status"] == "success" {
            break run;
        }
        assert!(Instant::now() < deadline, "add never saved: {run}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(midway["status"], "running");
    assert_eq!(midway["steps"]["add"]["output"], json!({ "total": 4 }));
    assert!(midway.get("result").is_none());
    assert!(midway["steps"].get("double").is_none());
    gate.notify_one();
    let done = wait_for_status(&server, "gated", "g1", "success").await;
    assert_eq!(done["result"], json!({ "total": 8 }));
}

#[tokio::test]
async fn a_run_survives_a_server_restart_on_a_file_database() {
    let dir = temp_dir("workflow-restart");
    let path = dir.join("mastra.db");
    let build = || app([arithmetic()]).storage(SqliteStorage::file(&path));
    {
        let server = TestServer::start(build()).await;
        start_async(
            &server,
            "arithmetic",
            Some("kept"),
            json!({ "a": 3, "b": 4 }),
        )
        .await
        .assert_status(200);
        server
            .post_json(
                "/api/workflows/arithmetic/create-run?runId=later",
                &json!({ "resourceId": "eve" }),
            )
            .await
            .assert_status(200);
        server.stop().await;
    }
    let server = TestServer::start(build()).await;
    let kept = server.get("/api/workflows/arithmetic/runs/kept").await;
    kept.assert_status(200);
    let kept = kept.json();
    assert_eq!(kept["status"], "success");
    assert_eq!(kept["result"], json!({ "label": "total is 14" }));
    assert_eq!(kept["steps"]["add"]["output"], json!({ "total": 7 }));
    let listed = server.get("/api/workflows/arithmetic/runs").await.json();
    assert_eq!(listed["total"], 2);
    assert_eq!(listed["runs"][0]["runId"], "later");
    assert_eq!(listed["runs"][0]["resourceId"], "eve");
    // The pending run made before the restart starts after it; the finished one does not rerun.
    server
        .post_json(
            "/api/workflows/arithmetic/start?runId=later",
            &json!({ "inputData": { "a": 1, "b": 0 } }),
        )
        .await
        .assert_status(200);
    let later = wait_for_status(&server, "arithmetic", "later", "success").await;
    assert_eq!(later["resourceId"], "eve");
    start_async(
        &server,
        "arithmetic",
        Some("kept"),
        json!({ "a": 1, "b": 1 }),
    )
    .await
    .assert_status(409);
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn runs_started_from_rust_are_streamed_and_read_back_like_the_routes_do() {
    use futures_util::StreamExt;
    let mastra = app([arithmetic()]).build().unwrap();
    let workflow = mastra.workflow("arithmetic").unwrap();
    let run = workflow.create_run(Some("rust-run")).await.unwrap();
    let events: Vec<Value> = run
        .stream(Pair { a: 5, b: 5 }, RunOptions::new())
        .await
        .unwrap()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
        .await;
    assert_eq!(events.first().unwrap()["type"], "workflow-start");
    assert_eq!(
        events.last().unwrap()["payload"]["workflowStatus"],
        "success"
    );
    assert_eq!(
        run.result().await.unwrap().output::<Label>().unwrap().label,
        "total is 20"
    );
    let again = run
        .start(Pair { a: 1, b: 1 }, RunOptions::new())
        .await
        .unwrap_err();
    assert!(again.to_string().contains("already started"), "{again}");
    let invalid = workflow
        .create_run(None)
        .await
        .unwrap()
        .start(json!({ "a": 1 }), RunOptions::new())
        .await
        .unwrap_err();
    assert!(invalid.to_string().contains("b"), "{invalid}");

    let server = TestServer::serve(mastra).await;
    let stored = server
        .get("/api/workflows/arithmetic/runs/rust-run")
        .await
        .json();
    assert_eq!(stored["status"], "success");
    assert_eq!(stored["result"], json!({ "label": "total is 20" }));
}

#[tokio::test]
async fn a_stream_reader_that_leaves_does_not_stop_the_run() {
    use futures_util::StreamExt;
    let slow = Step::builder("slow").execute(|t: Total, _: StepContext| async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok::<_, StepError>(t)
    });
    let workflow = Workflow::builder("long")
        .then(add())
        .then(slow)
        .then(double())
        .commit()
        .unwrap();
    let server = TestServer::start(app([workflow])).await;
    let response = server
        .client()
        .post(server.url("/api/workflows/long/stream?runId=left"))
        .json(&json!({ "inputData": { "a": 1, "b": 1 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let first = body.next().await.expect("a first record").unwrap();
    assert!(
        first.starts_with(b"{\"type\":\"workflow-start\""),
        "{first:?}"
    );
    drop(body);
    let done = wait_for_status(&server, "long", "left", "success").await;
    assert_eq!(done["result"], json!({ "total": 4 }));
    assert_eq!(done["stepExecutionPath"], json!(["add", "slow", "double"]));
}
