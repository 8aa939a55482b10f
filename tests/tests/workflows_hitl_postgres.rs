//! Human in the loop across two server instances on one PostgreSQL database: a run suspended
//! through one is resumed through the other, concurrent resumes through both let exactly one
//! through (the store's atomic transition), a suspended run is cancelled through the other
//! instance, and an observer on one follows a run executing on the other. Needs
//! `MASTRA_TEST_POSTGRES_URL` (tests/run.sh starts a throwaway cluster and sets it).

mod workflows_support;

use std::{sync::Arc, time::Duration};

use futures_util::StreamExt;
use mastra_runtime::{
    prelude::*,
    workflow::{Step, StepContext, StepError, Workflow},
};
use mastra_tests::{
    read_until,
    stores::{Backend, TestStore},
    TestServer,
};
use serde_json::{json, Value};
use tokio::sync::Notify;
use workflows_support::{app, event_names, records, start_async, wait_for_status, Label};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct Request {
    amount: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct Reason {
    reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct Answer {
    approved: bool,
    approver: String,
}

/// `request-approval` (suspends until it gets an `Answer`) -> `announce`.
fn approval(gate: Arc<Notify>) -> Workflow {
    let hold = Step::builder("hold").execute(move |r: Request, _: StepContext| {
        let gate = Arc::clone(&gate);
        async move {
            if r.amount == 0 {
                gate.notified().await;
            }
            Ok::<_, StepError>(r)
        }
    });
    let ask = Step::builder("request-approval")
        .suspend_schema::<Reason>()
        .resume_schema::<Answer>()
        .execute(|r: Request, ctx: StepContext| async move {
            match ctx.resume_data::<Answer>()? {
                Some(answer) => Ok(answer),
                None => ctx.suspend(Reason {
                    reason: format!("approve {}?", r.amount),
                }),
            }
        });
    let announce = Step::builder("announce").execute(|a: Answer, _: StepContext| async move {
        Ok::<_, StepError>(Label {
            label: format!(
                "{} by {}",
                if a.approved { "approved" } else { "declined" },
                a.approver
            ),
        })
    });
    Workflow::builder("approval")
        .then(hold)
        .then(ask)
        .then(announce)
        .commit()
        .expect("approval fits")
}

fn resume_body(approved: bool, approver: &str) -> Value {
    json!({ "step": "request-approval", "resumeData": { "approved": approved, "approver": approver } })
}

#[tokio::test]
async fn two_instances_on_one_postgres_database_share_suspended_runs() {
    let store = TestStore::open(Backend::Postgres, "workflow_hitl").await;
    let gate = Arc::new(Notify::new());
    let first = TestServer::start(
        app([approval(Arc::clone(&gate))]).shared_storage(Arc::clone(&store.storage)),
    )
    .await;
    let second = TestServer::start(
        app([approval(Arc::clone(&gate))]).shared_storage(store.second_instance()),
    )
    .await;

    // Suspended through one, resumed through the other.
    let suspended = start_async(&first, "approval", Some("moved"), json!({ "amount": 5 })).await;
    suspended.assert_status(200);
    assert_eq!(suspended.json()["suspended"], json!([["request-approval"]]));
    let resumed = second
        .post_json(
            "/api/workflows/approval/resume-async?runId=moved",
            &resume_body(true, "two"),
        )
        .await;
    resumed.assert_status(200);
    assert_eq!(
        resumed.json()["result"],
        json!({ "label": "approved by two" })
    );
    wait_for_status(&first, "approval", "moved", "success").await;

    // Resumed through both at once: exactly one goes ahead.
    for round in 0..5 {
        let run = format!("race-{round}");
        start_async(&first, "approval", Some(&run), json!({ "amount": 5 }))
            .await
            .assert_status(200);
        let path = format!("/api/workflows/approval/resume-async?runId={run}");
        let (one, two) = (resume_body(true, "one"), resume_body(false, "two"));
        let (a, b) = tokio::join!(first.post_json(&path, &one), second.post_json(&path, &two));
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
        let winner = if a.status == 200 { a.json() } else { b.json() };
        let stored = wait_for_status(&second, "approval", &run, "success").await;
        assert_eq!(stored["result"], winner["result"]);
    }

    // Suspended through one, cancelled through the other: no longer resumable anywhere.
    start_async(&first, "approval", Some("dropped"), json!({ "amount": 5 }))
        .await
        .assert_status(200);
    second
        .post_json("/api/workflows/approval/runs/dropped/cancel", &json!({}))
        .await
        .assert_status(200);
    wait_for_status(&first, "approval", "dropped", "canceled").await;
    first
        .post_json(
            "/api/workflows/approval/resume?runId=dropped",
            &resume_body(true, "late"),
        )
        .await
        .assert_error_contains(409, "This workflow run was not suspended");

    // Executing on the first (held at `hold`), observed through the second to its suspension.
    first
        .post_json(
            "/api/workflows/approval/create-run?runId=watched",
            &json!({}),
        )
        .await
        .assert_status(200);
    first
        .post_json(
            "/api/workflows/approval/start?runId=watched",
            &json!({ "inputData": { "amount": 0 } }),
        )
        .await
        .assert_status(200);
    wait_for_status(&second, "approval", "watched", "running").await;
    let observer = second
        .client()
        .post(second.url("/api/workflows/approval/observe?runId=watched"))
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
            "workflow-step-start:hold",
            "workflow-step-result:hold",
            "workflow-step-start:request-approval",
            "workflow-step-suspended:request-approval",
            "workflow-finish",
        ]
    );
}
