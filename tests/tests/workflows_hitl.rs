//! Human in the loop, workflow half, over HTTP on a real server: steps that suspend with a
//! typed payload and are resumed with typed data (`resume`, `resume-async`, `resume-stream`),
//! refusals that change nothing, concurrent resumes, suspension in parallel groups and nested
//! workflows, a resume after a restart, `create-run` attaching to an existing run, the schemas
//! in the listing and the OpenAPI document, cancel (the step's abort signal fires, every
//! attached stream ends) and observe.

mod workflows_support;

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use futures_util::StreamExt;
use mastra_runtime::{
    prelude::*,
    workflow::{Step, StepContext, StepError, Workflow},
};
use mastra_tests::{
    eventually, read_until, slow_provider::SlowProvider, temp_dir, test_config, TestServer,
};
use serde_json::{json, Value};
use tokio::sync::Notify;
use workflows_support::{app, event_names, records, start_async, wait_for_status, Label};

/// What the approval step is given.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct Request {
    amount: u32,
}

/// Why the step waits.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct Reason {
    reason: String,
}

/// What a person answers.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct Answer {
    approved: bool,
    approver: String,
}

/// The decision.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct Decision {
    approved: bool,
    approver: String,
}

/// A step that suspends with a reason until it is resumed with an `Answer`.
fn ask(id: &str) -> Step {
    Step::builder(id)
        .description("Waits for a person to approve")
        .suspend_schema::<Reason>()
        .resume_schema::<Answer>()
        .execute(|r: Request, ctx: StepContext| async move {
            match ctx.resume_data::<Answer>()? {
                Some(answer) => Ok(Decision {
                    approved: answer.approved,
                    approver: answer.approver,
                }),
                None => ctx.suspend(Reason {
                    reason: format!("approve {}?", r.amount),
                }),
            }
        })
}

fn announce() -> Step {
    Step::builder("announce").execute(|d: Decision, _: StepContext| async move {
        Ok::<_, StepError>(Label {
            label: if d.approved {
                format!("approved by {}", d.approver)
            } else {
                format!("declined by {}", d.approver)
            },
        })
    })
}

/// `request-approval` (suspends) -> `announce`.
fn approval() -> Workflow {
    Workflow::builder("approval")
        .then(ask("request-approval"))
        .then(announce())
        .commit()
        .expect("approval fits")
}

/// Two approvals at the same time.
fn two_approvals() -> Workflow {
    Workflow::builder("two-approvals")
        .parallel([ask("finance"), ask("legal")])
        .commit()
        .expect("two-approvals fits")
}

/// A nested workflow whose step suspends, then `announce`.
fn nested() -> Workflow {
    let inner = Workflow::builder("inner")
        .then(ask("ask"))
        .commit()
        .expect("inner fits");
    Workflow::builder("outer")
        .then(inner)
        .then(announce())
        .commit()
        .expect("outer fits")
}

fn resume_body(step: Value, approved: bool, approver: &str) -> Value {
    json!({ "step": step, "resumeData": { "approved": approved, "approver": approver } })
}

async fn suspended_run(server: &TestServer, workflow: &str, run: &str) -> Value {
    let reply = start_async(server, workflow, Some(run), json!({ "amount": 5 })).await;
    reply.assert_status(200);
    let body = reply.json();
    assert_eq!(body["status"], "suspended", "{body}");
    body
}

#[tokio::test]
async fn a_step_suspends_and_is_resumed_with_typed_data() {
    let server = TestServer::start(app([approval()])).await;
    let body = suspended_run(&server, "approval", "a1").await;
    assert_eq!(body["suspended"], json!([["request-approval"]]));
    let step = &body["steps"]["request-approval"];
    assert_eq!(step["status"], "suspended");
    assert_eq!(step["suspendPayload"], json!({ "reason": "approve 5?" }));
    assert_eq!(
        body["suspendPayload"]["request-approval"],
        json!({ "reason": "approve 5?" })
    );
    assert!(body["steps"].get("announce").is_none());
    let stored = wait_for_status(&server, "approval", "a1", "suspended").await;
    assert_eq!(
        stored["steps"]["request-approval"]["suspendPayload"]["reason"],
        "approve 5?"
    );

    let resumed = server
        .post_json(
            "/api/workflows/approval/resume-async?runId=a1",
            &resume_body(json!("request-approval"), true, "ada"),
        )
        .await;
    resumed.assert_status(200);
    let resumed = resumed.json();
    assert_eq!(resumed["status"], "success", "{resumed}");
    assert_eq!(resumed["result"], json!({ "label": "approved by ada" }));
    let step = &resumed["steps"]["request-approval"];
    assert_eq!(step["status"], "success");
    assert_eq!(
        step["resumePayload"],
        json!({ "approved": true, "approver": "ada" })
    );
    assert_eq!(step["suspendPayload"], json!({ "reason": "approve 5?" }));
    assert!(resumed.get("suspended").is_none());
    let stored = wait_for_status(&server, "approval", "a1", "success").await;
    assert_eq!(stored["result"], json!({ "label": "approved by ada" }));
    assert_eq!(
        stored["stepExecutionPath"],
        json!(["request-approval", "announce"])
    );
}

#[tokio::test]
async fn the_answer_decides_the_result_and_step_may_be_left_out_when_one_is_suspended() {
    let server = TestServer::start(app([approval()])).await;
    suspended_run(&server, "approval", "a2").await;
    let resumed = server
        .post_json(
            "/api/workflows/approval/resume-async?runId=a2",
            &json!({ "resumeData": { "approved": false, "approver": "bob" } }),
        )
        .await;
    resumed.assert_status(200);
    assert_eq!(
        resumed.json()["result"],
        json!({ "label": "declined by bob" })
    );
}

#[tokio::test]
async fn bad_resume_data_is_400_with_issues_and_the_run_stays_suspended() {
    let server = TestServer::start(app([approval()])).await;
    suspended_run(&server, "approval", "bad").await;
    for body in [
        json!({ "step": "request-approval", "resumeData": { "approved": "yes" } }),
        json!({ "step": "request-approval" }),
    ] {
        let reply = server
            .post_json("/api/workflows/approval/resume-async?runId=bad", &body)
            .await;
        reply.assert_error_contains(400, "Invalid resume data");
        let issues = reply.json()["issues"].clone();
        assert!(
            issues.as_array().is_some_and(|i| !i.is_empty()
                && i.iter().all(|i| i["field"]
                    .as_str()
                    .is_some_and(|f| f.starts_with("resumeData")))),
            "{issues}"
        );
    }
    // A step that is not suspended is refused too.
    server
        .post_json(
            "/api/workflows/approval/resume?runId=bad",
            &resume_body(json!("announce"), true, "x"),
        )
        .await
        .assert_error_contains(400, "was not suspended");
    let stored = wait_for_status(&server, "approval", "bad", "suspended").await;
    assert!(stored["steps"]["request-approval"]
        .get("resumePayload")
        .is_none());
    // Still resumable.
    server
        .post_json(
            "/api/workflows/approval/resume-async?runId=bad",
            &resume_body(json!("request-approval"), true, "ada"),
        )
        .await
        .assert_status(200);
}

#[tokio::test]
async fn resuming_a_run_that_is_not_suspended_is_409_and_changes_nothing() {
    let server = TestServer::start(app([approval()])).await;
    // Unknown run: 404, and nothing is created.
    server
        .post_json(
            "/api/workflows/approval/resume?runId=nobody",
            &resume_body(json!("request-approval"), true, "x"),
        )
        .await
        .assert_error(404, "Workflow run not found");
    server
        .get("/api/workflows/approval/runs/nobody")
        .await
        .assert_status(404);
    // Pending.
    server
        .post_json("/api/workflows/approval/create-run?runId=p", &json!({}))
        .await
        .assert_status(200);
    server
        .post_json(
            "/api/workflows/approval/resume?runId=p",
            &resume_body(json!("request-approval"), true, "x"),
        )
        .await
        .assert_error_contains(409, "This workflow run was not suspended");
    wait_for_status(&server, "approval", "p", "pending").await;
    // Finished.
    suspended_run(&server, "approval", "done").await;
    server
        .post_json(
            "/api/workflows/approval/resume-async?runId=done",
            &resume_body(json!("request-approval"), true, "ada"),
        )
        .await
        .assert_status(200);
    let before = wait_for_status(&server, "approval", "done", "success").await;
    for route in ["resume", "resume-async", "resume-stream"] {
        server
            .post_json(
                &format!("/api/workflows/approval/{route}?runId=done"),
                &resume_body(json!("request-approval"), false, "eve"),
            )
            .await
            .assert_error_contains(409, "This workflow run was not suspended");
    }
    let after = wait_for_status(&server, "approval", "done", "success").await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn of_two_concurrent_resumes_exactly_one_wins() {
    let server = TestServer::start(app([approval()])).await;
    for round in 0..5 {
        let run = format!("race-{round}");
        suspended_run(&server, "approval", &run).await;
        let path = format!("/api/workflows/approval/resume-async?runId={run}");
        let first = resume_body(json!("request-approval"), true, "first");
        let second = resume_body(json!("request-approval"), false, "second");
        let (a, b) = tokio::join!(
            server.post_json(&path, &first),
            server.post_json(&path, &second)
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
        let winner = if a.status == 200 { a.json() } else { b.json() };
        let stored = wait_for_status(&server, "approval", &run, "success").await;
        assert_eq!(stored["result"], winner["result"]);
    }
}

#[tokio::test]
async fn parallel_steps_suspended_together_are_resumed_one_by_one() {
    let server = TestServer::start(app([two_approvals()])).await;
    let body = suspended_run(&server, "two-approvals", "par").await;
    assert_eq!(body["suspended"], json!([["finance"], ["legal"]]));
    assert_eq!(body["suspendPayload"]["legal"]["reason"], "approve 5?");
    // Two are suspended: the step must be named.
    server
        .post_json(
            "/api/workflows/two-approvals/resume?runId=par",
            &json!({ "resumeData": { "approved": true, "approver": "x" } }),
        )
        .await
        .assert_error_contains(400, "Several steps are suspended");
    let first = server
        .post_json(
            "/api/workflows/two-approvals/resume-async?runId=par",
            &resume_body(json!("finance"), true, "fin"),
        )
        .await;
    first.assert_status(200);
    let first = first.json();
    assert_eq!(first["status"], "suspended", "{first}");
    assert_eq!(first["suspended"], json!([["legal"]]));
    assert_eq!(first["steps"]["finance"]["status"], "success");
    let second = server
        .post_json(
            "/api/workflows/two-approvals/resume-async?runId=par",
            &resume_body(json!("legal"), false, "law"),
        )
        .await;
    second.assert_status(200);
    let second = second.json();
    assert_eq!(second["status"], "success", "{second}");
    assert_eq!(
        second["result"],
        json!({
            "finance": { "approved": true, "approver": "fin" },
            "legal": { "approved": false, "approver": "law" },
        })
    );
}

#[tokio::test]
async fn a_step_of_a_nested_workflow_suspends_and_is_resumed_by_its_path() {
    let server = TestServer::start(app([nested()])).await;
    for (run, step) in [("n1", json!("inner.ask")), ("n2", json!(["inner", "ask"]))] {
        let body = suspended_run(&server, "outer", run).await;
        assert_eq!(body["suspended"], json!([["inner", "ask"]]));
        assert_eq!(body["steps"]["inner.ask"]["status"], "suspended");
        assert_eq!(body["steps"]["inner"]["status"], "suspended");
        let resumed = server
            .post_json(
                &format!("/api/workflows/outer/resume-async?runId={run}"),
                &resume_body(step, true, "nia"),
            )
            .await;
        resumed.assert_status(200);
        let resumed = resumed.json();
        assert_eq!(resumed["status"], "success", "{resumed}");
        assert_eq!(resumed["result"], json!({ "label": "approved by nia" }));
    }
}

#[tokio::test]
async fn resume_stream_streams_the_resumed_part() {
    let server = TestServer::start(app([approval()])).await;
    suspended_run(&server, "approval", "rs").await;
    let reply = server
        .post_json(
            "/api/workflows/approval/resume-stream?runId=rs",
            &resume_body(json!("request-approval"), true, "ada"),
        )
        .await;
    reply.assert_status(200);
    let events = records(&reply.text);
    assert_eq!(
        event_names(&events),
        [
            "workflow-start",
            "workflow-step-start:request-approval",
            "workflow-step-result:request-approval",
            "workflow-step-start:announce",
            "workflow-step-result:announce",
            "workflow-finish",
        ]
    );
    let finish = events.last().expect("a finish");
    assert_eq!(finish["payload"]["workflowStatus"], "success");
}

#[tokio::test]
async fn the_stream_of_a_suspending_run_ends_with_the_suspension() {
    let server = TestServer::start(app([approval()])).await;
    let reply = server
        .post_json(
            "/api/workflows/approval/stream?runId=s1",
            &json!({ "inputData": { "amount": 9 } }),
        )
        .await;
    reply.assert_status(200);
    let events = records(&reply.text);
    assert_eq!(
        event_names(&events),
        [
            "workflow-start",
            "workflow-step-start:request-approval",
            "workflow-step-suspended:request-approval",
            "workflow-finish",
        ]
    );
    assert_eq!(
        events[2]["payload"]["suspendPayload"],
        json!({ "reason": "approve 9?" })
    );
    assert_eq!(events[3]["payload"]["workflowStatus"], "suspended");
}

#[tokio::test]
async fn a_suspended_run_is_resumed_after_a_restart() {
    let dir = temp_dir("workflow-hitl-restart");
    let path = dir.join("mastra.db");
    let build = || app([approval()]).storage(SqliteStorage::file(&path));
    {
        let server = TestServer::start(build()).await;
        suspended_run(&server, "approval", "kept").await;
        server.stop().await;
    }
    let server = TestServer::start(build()).await;
    wait_for_status(&server, "approval", "kept", "suspended").await;
    let resumed = server
        .post_json(
            "/api/workflows/approval/resume-async?runId=kept",
            &resume_body(json!("request-approval"), true, "later"),
        )
        .await;
    resumed.assert_status(200);
    assert_eq!(
        resumed.json()["result"],
        json!({ "label": "approved by later" })
    );
}

#[tokio::test]
async fn create_run_with_an_existing_id_returns_that_run_unchanged() {
    let server = TestServer::start(app([approval()])).await;
    suspended_run(&server, "approval", "att").await;
    let before = wait_for_status(&server, "approval", "att", "suspended").await;
    let created = server
        .post_json(
            "/api/workflows/approval/create-run?runId=att",
            &json!({ "resourceId": "someone-else" }),
        )
        .await;
    created.assert_status(200);
    assert_eq!(created.json(), json!({ "runId": "att" }));
    let after = wait_for_status(&server, "approval", "att", "suspended").await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn the_listing_and_the_document_describe_suspend_and_resume() {
    let server = TestServer::start(app([approval()])).await;
    let workflow = server.get("/api/workflows/approval").await.json();
    let step = &workflow["steps"]["request-approval"];
    let schema = |field: &str| -> Value {
        let text = step[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field}: {step}"));
        serde_json::from_str::<Value>(text).expect("superjson")["json"].clone()
    };
    assert_eq!(
        schema("resumeSchema")["required"],
        json!(["approved", "approver"])
    );
    assert_eq!(schema("suspendSchema")["required"], json!(["reason"]));
    assert!(workflow["steps"]["announce"].get("resumeSchema").is_none());

    let document = server.get("/api/openapi.json").await.json();
    let text = document.to_string();
    for path in [
        "/api/workflows/{workflowId}/resume",
        "/api/workflows/{workflowId}/resume-async",
        "/api/workflows/{workflowId}/resume-stream",
        "/api/workflows/{workflowId}/observe",
        "/api/workflows/{workflowId}/runs/{runId}/cancel",
    ] {
        assert!(
            document["paths"][path]["post"].is_object(),
            "{path} missing"
        );
    }
    let body = &document["paths"]["/api/workflows/{workflowId}/resume"]["post"]["requestBody"];
    assert!(body.is_object(), "resume has a body: {body}");
    assert!(text.contains("resumeData"), "the resume body is described");
}

/// A step that waits up to a minute, recording whether its abort signal fired and whether
/// it ever finished.
fn slow(started: Arc<Notify>, aborted: Arc<AtomicBool>, finished: Arc<AtomicUsize>) -> Step {
    Step::builder("slow").execute(move |r: Request, ctx: StepContext| {
        let started = Arc::clone(&started);
        let aborted = Arc::clone(&aborted);
        let finished = Arc::clone(&finished);
        async move {
            let signal = ctx.abort_signal().clone();
            tokio::spawn(async move {
                signal.cancelled().await;
                aborted.store(true, Ordering::SeqCst);
            });
            started.notify_one();
            tokio::time::sleep(Duration::from_secs(60)).await;
            finished.fetch_add(1, Ordering::SeqCst);
            Ok::<_, StepError>(r)
        }
    })
}

#[tokio::test]
async fn cancel_fires_the_steps_abort_signal_and_ends_every_attached_stream() {
    let started = Arc::new(Notify::new());
    let aborted = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicUsize::new(0));
    let workflow = Workflow::builder("slow")
        .then(slow(started.clone(), aborted.clone(), finished.clone()))
        .commit()
        .expect("slow fits");
    let server = TestServer::start(app([workflow])).await;
    let starter = server
        .client()
        .post(server.url("/api/workflows/slow/stream?runId=c1"))
        .json(&json!({ "inputData": { "amount": 1 } }))
        .send()
        .await
        .expect("stream");
    assert_eq!(starter.status(), 200);
    tokio::time::timeout(Duration::from_secs(30), started.notified())
        .await
        .expect("the slow step starts");
    let observer = server
        .client()
        .post(server.url("/api/workflows/slow/observe?runId=c1"))
        .send()
        .await
        .expect("observe");
    assert_eq!(observer.status(), 200);
    let mut observed = observer.bytes_stream();
    // The observer gets what was already produced before anything new happens.
    let early = read_until(
        &mut observed,
        "workflow-step-start",
        Duration::from_secs(30),
    )
    .await;
    assert!(early.contains("workflow-start"), "{early}");

    let cancelling = std::time::Instant::now();
    let cancelled = server
        .post_json("/api/workflows/slow/runs/c1/cancel", &json!({}))
        .await;
    cancelled.assert_status(200);
    assert_eq!(
        cancelled.json(),
        json!({ "message": "Workflow run cancelled" })
    );
    eventually(Duration::from_secs(30), "the step's abort signal", || {
        let aborted = aborted.clone();
        async move { aborted.load(Ordering::SeqCst) }
    })
    .await;
    // Measured, not asserted: a loaded machine must not fail the test (docs/workflows.md).
    eprintln!(
        "cancel to the step's abort signal: {:?}",
        cancelling.elapsed()
    );
    // Both streams end (they would hang for a minute otherwise), with the terminal events.
    let starter_text = tokio::time::timeout(Duration::from_secs(30), starter.text())
        .await
        .expect("the starter's stream ends")
        .expect("body");
    let rest = tokio::time::timeout(Duration::from_secs(30), async {
        let mut rest = String::new();
        while let Some(chunk) = observed.next().await {
            rest.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        }
        rest
    })
    .await
    .expect("the observer's stream ends");
    for text in [starter_text, format!("{early}{rest}")] {
        let events = records(&text);
        assert_eq!(
            event_names(&events),
            [
                "workflow-start",
                "workflow-step-start:slow",
                "workflow-step-result:slow",
                "workflow-canceled",
                "workflow-finish",
            ],
            "{text}"
        );
        assert_eq!(events[2]["payload"]["status"], "canceled");
        assert_eq!(events[4]["payload"]["workflowStatus"], "canceled");
    }
    let stored = wait_for_status(&server, "slow", "c1", "canceled").await;
    assert_eq!(stored["steps"]["slow"]["status"], "canceled");
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "the step never finished"
    );
    // Cancelling again changes nothing.
    server
        .post_json("/api/workflows/slow/runs/c1/cancel", &json!({}))
        .await
        .assert_status(200);
    let again = wait_for_status(&server, "slow", "c1", "canceled").await;
    assert_eq!(stored, again);
}

#[tokio::test]
async fn cancelling_a_finished_run_changes_nothing_and_a_suspended_one_ends_canceled() {
    let server = TestServer::start(app([approval()])).await;
    suspended_run(&server, "approval", "f1").await;
    server
        .post_json(
            "/api/workflows/approval/resume-async?runId=f1",
            &resume_body(json!("request-approval"), true, "ada"),
        )
        .await
        .assert_status(200);
    let before = wait_for_status(&server, "approval", "f1", "success").await;
    server
        .post_json("/api/workflows/approval/runs/f1/cancel", &json!({}))
        .await
        .assert_status(200);
    assert_eq!(
        before,
        wait_for_status(&server, "approval", "f1", "success").await
    );

    suspended_run(&server, "approval", "f2").await;
    server
        .post_json("/api/workflows/approval/runs/f2/cancel", &json!({}))
        .await
        .assert_status(200);
    let canceled = wait_for_status(&server, "approval", "f2", "canceled").await;
    assert_eq!(canceled["steps"]["request-approval"]["status"], "canceled");
    server
        .post_json(
            "/api/workflows/approval/resume?runId=f2",
            &resume_body(json!("request-approval"), true, "late"),
        )
        .await
        .assert_error_contains(409, "This workflow run was not suspended");
    server
        .post_json("/api/workflows/approval/runs/nobody/cancel", &json!({}))
        .await
        .assert_error(404, "Workflow run not found");
}

#[tokio::test]
async fn observe_replays_a_suspended_run_and_follows_its_resume_live() {
    let gate = Arc::new(Notify::new());
    let gated = Step::builder("gated").execute({
        let gate = Arc::clone(&gate);
        move |d: Decision, _: StepContext| {
            let gate = Arc::clone(&gate);
            async move {
                gate.notified().await;
                Ok::<_, StepError>(d)
            }
        }
    });
    let workflow = Workflow::builder("gated-approval")
        .then(ask("request-approval"))
        .then(gated)
        .commit()
        .expect("fits");
    let server = TestServer::start(app([workflow])).await;
    suspended_run(&server, "gated-approval", "o1").await;
    // A suspended run: its events so far, ending with the suspension.
    let replay = server
        .post_json("/api/workflows/gated-approval/observe?runId=o1", &json!({}))
        .await;
    replay.assert_status(200);
    let events = records(&replay.text);
    assert_eq!(
        event_names(&events),
        [
            "workflow-start",
            "workflow-step-start:request-approval",
            "workflow-step-suspended:request-approval",
            "workflow-finish",
        ]
    );
    assert_eq!(events[3]["payload"]["workflowStatus"], "suspended");
    // From an offset.
    let tail = server
        .post_json(
            "/api/workflows/gated-approval/observe?runId=o1&offset=2",
            &json!({}),
        )
        .await;
    assert_eq!(
        event_names(&records(&tail.text)),
        [
            "workflow-step-suspended:request-approval",
            "workflow-finish"
        ]
    );

    // Resumed in the background, held at `gated`: an observer sees what happened, then the
    // rest live, then the end.
    server
        .post_json(
            "/api/workflows/gated-approval/resume?runId=o1",
            &resume_body(json!("request-approval"), true, "ada"),
        )
        .await
        .assert_status(200);
    let observer = server
        .client()
        .post(server.url("/api/workflows/gated-approval/observe?runId=o1"))
        .send()
        .await
        .expect("observe");
    let mut body = observer.bytes_stream();
    let early = read_until(&mut body, "\"gated\"", Duration::from_secs(30)).await;
    assert!(!early.contains("workflow-finish"), "{early}");
    gate.notify_one();
    let rest = tokio::time::timeout(Duration::from_secs(30), async {
        let mut rest = String::new();
        while let Some(chunk) = body.next().await {
            rest.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        }
        rest
    })
    .await
    .expect("the observer's stream ends");
    let events = records(&format!("{early}{rest}"));
    assert_eq!(
        event_names(&events),
        [
            "workflow-start",
            "workflow-step-start:request-approval",
            "workflow-step-result:request-approval",
            "workflow-step-start:gated",
            "workflow-step-result:gated",
            "workflow-finish",
        ]
    );
    assert_eq!(
        events.last().expect("finish")["payload"]["workflowStatus"],
        "success"
    );
    server
        .post_json(
            "/api/workflows/gated-approval/observe?runId=nobody",
            &json!({}),
        )
        .await
        .assert_error(404, "Workflow run not found");
}

#[tokio::test]
async fn a_run_suspended_on_one_server_is_resumed_once_by_two_servers_sharing_the_store() {
    let dir = temp_dir("workflow-hitl-two-servers");
    let path = dir.join("mastra.db");
    let build = || app([approval()]).storage(SqliteStorage::file(&path));
    let first = TestServer::start(build()).await;
    let second = TestServer::start(build()).await;
    for round in 0..5 {
        let run = format!("shared-{round}");
        suspended_run(&first, "approval", &run).await;
        // The other server sees it suspended, and both resume it at once: the atomic
        // transition in the shared store lets exactly one through.
        wait_for_status(&second, "approval", &run, "suspended").await;
        let path = format!("/api/workflows/approval/resume-async?runId={run}");
        let one = resume_body(json!("request-approval"), true, "one");
        let two = resume_body(json!("request-approval"), false, "two");
        let (a, b) = tokio::join!(first.post_json(&path, &one), second.post_json(&path, &two));
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
        let winner = if a.status == 200 { a.json() } else { b.json() };
        let stored = wait_for_status(&first, "approval", &run, "success").await;
        assert_eq!(stored["result"], winner["result"]);
        assert_eq!(
            stored["stepExecutionPath"],
            json!(["request-approval", "announce"])
        );
    }
    // A run suspended by the first server is resumed by the second alone.
    suspended_run(&first, "approval", "elsewhere").await;
    let resumed = second
        .post_json(
            "/api/workflows/approval/resume-async?runId=elsewhere",
            &resume_body(json!("request-approval"), true, "two"),
        )
        .await;
    resumed.assert_status(200);
    assert_eq!(
        resumed.json()["result"],
        json!({ "label": "approved by two" })
    );
    let seen_by_first = wait_for_status(&first, "approval", "elsewhere", "success").await;
    assert_eq!(
        seen_by_first["result"],
        json!({ "label": "approved by two" })
    );
}

#[tokio::test]
async fn cancel_stops_the_model_call_a_step_awaits() {
    let (words, delay) = (400, Duration::from_millis(50));
    let slow = SlowProvider::start(words, delay).await;
    let ask_agent = Step::builder("ask-agent").execute(|r: Request, ctx: StepContext| async move {
        let agent = ctx.agent("slow")?;
        let answer = agent
            .generate(format!("about {}", r.amount), ctx.generate_options())
            .await?;
        Ok::<_, StepError>(Label { label: answer.text })
    });
    let workflow = Workflow::builder("asks")
        .then(ask_agent)
        .commit()
        .expect("asks fits");
    let server = TestServer::start(slow.app().server(test_config()).workflow(workflow)).await;
    server
        .post_json("/api/workflows/asks/create-run?runId=m1", &json!({}))
        .await
        .assert_status(200);
    server
        .post_json(
            "/api/workflows/asks/start?runId=m1",
            &json!({ "inputData": { "amount": 1 } }),
        )
        .await
        .assert_status(200);
    eventually(Duration::from_secs(30), "the model streaming", || async {
        slow.words_sent() >= 2
    })
    .await;
    server
        .post_json("/api/workflows/asks/runs/m1/cancel", &json!({}))
        .await
        .assert_status(200);
    // The step's abort signal reached the agent: its model request is dropped upstream.
    slow.wait_closed().await;
    assert_eq!(
        slow.finished(),
        0,
        "the provider finished its answer anyway"
    );
    let stored = wait_for_status(&server, "asks", "m1", "canceled").await;
    assert_eq!(stored["steps"]["ask-agent"]["status"], "canceled");
}

#[tokio::test]
async fn observe_follows_a_run_executing_on_another_server_to_its_end() {
    let gate = Arc::new(Notify::new());
    // Each server gets a workflow of its own, as two processes would.
    let held = || {
        let gate = Arc::clone(&gate);
        let gated = Step::builder("gated").execute(move |r: Request, _: StepContext| {
            let gate = Arc::clone(&gate);
            async move {
                gate.notified().await;
                Ok::<_, StepError>(r)
            }
        });
        Workflow::builder("held")
            .then(gated)
            .then(ask("request-approval"))
            .commit()
            .expect("held fits")
    };
    let dir = temp_dir("workflow-hitl-observe-elsewhere");
    let path = dir.join("mastra.db");
    let build = || app([held()]).storage(SqliteStorage::file(&path));
    let runner = TestServer::start(build()).await;
    let watcher = TestServer::start(build()).await;
    runner
        .post_json("/api/workflows/held/create-run?runId=h1", &json!({}))
        .await
        .assert_status(200);
    runner
        .post_json(
            "/api/workflows/held/start?runId=h1",
            &json!({ "inputData": { "amount": 3 } }),
        )
        .await
        .assert_status(200);
    wait_for_status(&watcher, "held", "h1", "running").await;
    let observer = watcher
        .client()
        .post(watcher.url("/api/workflows/held/observe?runId=h1"))
        .send()
        .await
        .expect("observe");
    assert_eq!(observer.status(), 200);
    let mut body = observer.bytes_stream();
    // A step is saved once it ends, so the start is what the store shows so far.
    let early = read_until(&mut body, "workflow-start", Duration::from_secs(30)).await;
    assert!(!early.contains("workflow-finish"), "{early}");
    gate.notify_one();
    let rest = tokio::time::timeout(Duration::from_secs(30), async {
        let mut rest = String::new();
        while let Some(chunk) = body.next().await {
            rest.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        }
        rest
    })
    .await
    .expect("the observer's stream ends once the run suspends");
    let events = records(&format!("{early}{rest}"));
    assert_eq!(
        event_names(&events),
        [
            "workflow-start",
            "workflow-step-start:gated",
            "workflow-step-result:gated",
            "workflow-step-start:request-approval",
            "workflow-step-suspended:request-approval",
            "workflow-finish",
        ]
    );
    assert_eq!(
        events.last().expect("finish")["payload"]["workflowStatus"],
        "suspended"
    );
}

#[tokio::test]
async fn cancelling_a_resumed_run_leaves_no_step_waiting() {
    let gate = Arc::new(Notify::new());
    // `finance` asks, `legal` asks and, once resumed, waits at the gate.
    let legal = Step::builder("legal").resume_schema::<Answer>().execute({
        let gate = Arc::clone(&gate);
        move |r: Request, ctx: StepContext| {
            let gate = Arc::clone(&gate);
            async move {
                match ctx.resume_data::<Answer>()? {
                    Some(answer) => {
                        gate.notified().await;
                        Ok(Decision {
                            approved: answer.approved,
                            approver: answer.approver,
                        })
                    }
                    None => ctx.suspend(Reason {
                        reason: format!("approve {}?", r.amount),
                    }),
                }
            }
        }
    });
    let workflow = Workflow::builder("held-approvals")
        .parallel([ask("finance"), legal])
        .commit()
        .expect("fits");
    let server = TestServer::start(app([workflow])).await;
    suspended_run(&server, "held-approvals", "hc").await;
    server
        .post_json(
            "/api/workflows/held-approvals/resume?runId=hc",
            &resume_body(json!("legal"), true, "law"),
        )
        .await
        .assert_status(200);
    wait_for_status(&server, "held-approvals", "hc", "running").await;
    server
        .post_json("/api/workflows/held-approvals/runs/hc/cancel", &json!({}))
        .await
        .assert_status(200);
    let canceled = wait_for_status(&server, "held-approvals", "hc", "canceled").await;
    assert_eq!(
        canceled["steps"]["legal"]["status"], "canceled",
        "{canceled}"
    );
    assert_eq!(
        canceled["steps"]["finance"]["status"], "canceled",
        "{canceled}"
    );
    server
        .post_json(
            "/api/workflows/held-approvals/resume?runId=hc",
            &resume_body(json!("finance"), true, "fin"),
        )
        .await
        .assert_error_contains(409, "This workflow run was not suspended");
}

#[tokio::test]
async fn a_run_executing_on_one_server_is_cancelled_through_another() {
    let started = Arc::new(Notify::new());
    let aborted = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicUsize::new(0));
    // Each server gets a workflow of its own, as two processes would.
    let workflow = || {
        Workflow::builder("slow")
            .then(slow(started.clone(), aborted.clone(), finished.clone()))
            .commit()
            .expect("slow fits")
    };
    let dir = temp_dir("workflow-hitl-cancel-elsewhere");
    let path = dir.join("mastra.db");
    // A short lease, so the executor renews (and so rereads its run) often.
    let build = || {
        app([workflow()])
            .storage(SqliteStorage::file(&path))
            .server(test_config().workflow_run_lease(Duration::from_millis(900)))
    };
    let runner = TestServer::start(build()).await;
    let other = TestServer::start(build()).await;
    let starter = runner
        .client()
        .post(runner.url("/api/workflows/slow/stream?runId=x1"))
        .json(&json!({ "inputData": { "amount": 1 } }))
        .send()
        .await
        .expect("stream");
    assert_eq!(starter.status(), 200);
    tokio::time::timeout(Duration::from_secs(30), started.notified())
        .await
        .expect("the slow step starts");
    wait_for_status(&other, "slow", "x1", "running").await;
    other
        .post_json("/api/workflows/slow/runs/x1/cancel", &json!({}))
        .await
        .assert_status(200);
    eventually(Duration::from_secs(30), "the step's abort signal", || {
        let aborted = aborted.clone();
        async move { aborted.load(Ordering::SeqCst) }
    })
    .await;
    let text = tokio::time::timeout(Duration::from_secs(30), starter.text())
        .await
        .expect("the starter's stream ends")
        .expect("body");
    let events = records(&text);
    let names = event_names(&events);
    assert_eq!(
        names[names.len() - 2..],
        ["workflow-canceled", "workflow-finish"],
        "{text}"
    );
    for server in [&runner, &other] {
        let stored = wait_for_status(server, "slow", "x1", "canceled").await;
        // Saved as its executor last wrote it (a step is saved when it ends or at a lease
        // renewal), then canceled: never a success.
        let step = &stored["steps"]["slow"];
        assert!(step.is_null() || step["status"] == "canceled", "{stored}");
    }
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "the step never finished"
    );
}
