//! The graph walk: steps one after another, parallel groups and branches at the same time (a
//! failure cancels the rest of its group), nested workflows inline. Every step start and
//! result is an event; every step result is persisted as a snapshot.

use std::{panic::AssertUnwindSafe, sync::Arc};

use futures_util::{future::BoxFuture, FutureExt};
use serde_json::{json, Map, Value};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::run_state::RunCore;
use crate::{
    memory::{Timestamp, WorkflowRunStatus},
    schema::issues_text,
    workflow::{
        builder::Node,
        context::StepContext,
        snapshot::{SerializedError, StepRecord, StepStatus, WorkflowEventType},
        step::{Step, StepKind},
        StepError, Workflow,
    },
};

/// How a run ends early: the error that failed it.
struct Failure(SerializedError);

/// Runs the whole workflow, persists the final snapshot and publishes the outcome.
pub(crate) async fn drive(core: Arc<RunCore>) {
    // If this task dies (a panic outside a step, the runtime shutting down), readers still
    // learn that the run is over.
    struct Finish(Arc<RunCore>);
    impl Drop for Finish {
        fn drop(&mut self) {
            if self.0.log.outcome().is_none() {
                let mut snapshot = self.0.snapshot();
                snapshot.status = WorkflowRunStatus::Failed;
                snapshot.error = Some(SerializedError::new(
                    "Error",
                    "the workflow run stopped unexpectedly",
                ));
                self.0.log.finish(snapshot.into());
            }
        }
    }
    let guard = Finish(Arc::clone(&core));
    core.emit(
        WorkflowEventType::WorkflowStart,
        json!({ "workflowId": core.workflow.id() }),
    );
    let graph = core.workflow.clone();
    let outcome = run_graph(
        Arc::clone(&core),
        graph,
        String::new(),
        core.input.clone(),
        CancellationToken::new(),
    )
    .await;
    let finish_payload = {
        let mut progress = core.progress();
        match outcome {
            Ok(result) => {
                progress.status = WorkflowRunStatus::Success;
                progress.result = Some(result.clone());
                json!({ "workflowStatus": "success", "result": result, "metadata": {} })
            }
            Err(Failure(error)) => {
                progress.status = WorkflowRunStatus::Failed;
                progress.error = Some(error.clone());
                json!({ "workflowStatus": "failed", "error": error, "metadata": {} })
            }
        }
    };
    if let Err(error) = core.persist().await {
        tracing::error!(
            workflow = core.workflow.id(),
            run_id = %core.run_id,
            %error,
            "the final snapshot of a workflow run could not be saved"
        );
    }
    let snapshot = core.snapshot();
    tracing::info!(
        workflow = core.workflow.id(),
        run_id = %core.run_id,
        status = %snapshot.status,
        "workflow run finished"
    );
    core.emit(WorkflowEventType::WorkflowFinish, finish_payload);
    core.log.finish(snapshot.into());
    drop(guard);
}

fn join_id(prefix: &str, id: &str) -> String {
    if prefix.is_empty() {
        id.to_owned()
    } else {
        format!("{prefix}.{id}")
    }
}

/// Runs `workflow`'s nodes in order on `input`; steps are recorded under `prefix`.
fn run_graph(
    core: Arc<RunCore>,
    workflow: Workflow,
    prefix: String,
    input: Value,
    abort: CancellationToken,
) -> BoxFuture<'static, Result<Value, Failure>> {
    Box::pin(async move {
        let mut value = input;
        for node in workflow.nodes() {
            value = match node {
                Node::Step(step) => {
                    run_step(
                        Arc::clone(&core),
                        step.clone(),
                        prefix.clone(),
                        value,
                        abort.clone(),
                    )
                    .await?
                }
                Node::Parallel(steps) => {
                    run_group(&core, steps.clone(), &prefix, value, &abort).await?
                }
                Node::Branch(arms) => {
                    let mut chosen = Vec::new();
                    for (condition, step) in arms {
                        match condition.test(&value) {
                            Ok(true) => chosen.push(step.clone()),
                            Ok(false) => {}
                            Err(message) => {
                                return Err(Failure(SerializedError::new(
                                    "ValidationError",
                                    format!(
                                        "the condition of branch step {} cannot read its input: \
                                         {message}",
                                        join_id(&prefix, step.id())
                                    ),
                                )))
                            }
                        }
                    }
                    run_group(&core, chosen, &prefix, value, &abort).await?
                }
            };
        }
        Ok(value)
    })
}

/// Runs `steps` at the same time on `input`; their outputs keyed by step id. The first
/// failure cancels the others (their futures are dropped and their abort signal fires).
async fn run_group(
    core: &Arc<RunCore>,
    steps: Vec<Step>,
    prefix: &str,
    input: Value,
    abort: &CancellationToken,
) -> Result<Value, Failure> {
    let group_abort = abort.child_token();
    let mut tasks = JoinSet::new();
    for step in &steps {
        let id = step.id().to_owned();
        let run = run_step(
            Arc::clone(core),
            step.clone(),
            prefix.to_owned(),
            input.clone(),
            group_abort.clone(),
        );
        tasks.spawn(async move { (id, run.await) });
    }
    let mut outputs = Map::new();
    let mut failure = None;
    while let Some(joined) = tasks.join_next().await {
        let outcome = match joined {
            Ok((id, Ok(output))) => {
                outputs.insert(id, output);
                continue;
            }
            Ok((_, Err(failed))) => failed,
            // `run_step` catches a step's panic; this is the task itself failing.
            Err(error) => Failure(SerializedError::new(
                "Error",
                format!("a parallel step stopped unexpectedly: {error}"),
            )),
        };
        failure = Some(outcome);
        group_abort.cancel();
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        break;
    }
    if let Some(failure) = failure {
        let ids: Vec<String> = steps.iter().map(|s| join_id(prefix, s.id())).collect();
        cancel_running(core, &ids).await;
        return Err(failure);
    }
    Ok(Value::Object(outputs))
}

/// Marks the steps under `ids` that are still running as cancelled, and says so.
async fn cancel_running(core: &RunCore, ids: &[String]) {
    let now = Timestamp::now().millis();
    let cancelled: Vec<(String, StepRecord)> = {
        let mut progress = core.progress();
        progress
            .steps
            .iter_mut()
            .filter(|(id, record)| {
                record.status == StepStatus::Running
                    && ids
                        .iter()
                        .any(|root| *id == root || id.starts_with(&format!("{root}.")))
            })
            .map(|(id, record)| {
                record.status = StepStatus::Canceled;
                record.ended_at = Some(now);
                (id.clone(), record.clone())
            })
            .collect()
    };
    for (id, record) in &cancelled {
        core.emit(
            WorkflowEventType::WorkflowStepResult,
            json!({ "id": id, "status": record.status, "payload": record.payload, "endedAt": now }),
        );
    }
    if !cancelled.is_empty() {
        if let Err(error) = core.persist().await {
            tracing::error!(run_id = %core.run_id, %error, "a workflow snapshot could not be saved");
        }
    }
}

/// Runs one step: validates its input, runs it (a nested workflow inline), records and
/// announces its result, and persists the snapshot.
fn run_step(
    core: Arc<RunCore>,
    step: Step,
    prefix: String,
    input: Value,
    abort: CancellationToken,
) -> BoxFuture<'static, Result<Value, Failure>> {
    Box::pin(async move {
        let id = join_id(&prefix, step.id());
        let call_id = uuid::Uuid::new_v4().to_string();
        let started_at = Timestamp::now().millis();
        {
            let mut progress = core.progress();
            progress.path.push(id.clone());
            progress.steps.insert(
                id.clone(),
                StepRecord {
                    status: StepStatus::Running,
                    payload: input.clone(),
                    output: None,
                    error: None,
                    started_at,
                    ended_at: None,
                },
            );
        }
        core.emit(
            WorkflowEventType::WorkflowStepStart,
            json!({
                "id": id, "stepCallId": call_id, "status": "running",
                "payload": input, "startedAt": started_at,
            }),
        );
        let outcome = execute(&core, &step, &id, input.clone(), abort).await;
        let ended_at = Timestamp::now().millis();
        let (record, event) = match &outcome {
            Ok(output) => (
                StepRecord {
                    status: StepStatus::Success,
                    payload: input,
                    output: Some(output.clone()),
                    error: None,
                    started_at,
                    ended_at: Some(ended_at),
                },
                json!({
                    "id": id, "stepCallId": call_id, "status": "success",
                    "output": output, "endedAt": ended_at,
                }),
            ),
            Err(error) => (
                StepRecord {
                    status: StepStatus::Failed,
                    payload: input,
                    output: None,
                    error: Some(error.clone()),
                    started_at,
                    ended_at: Some(ended_at),
                },
                json!({
                    "id": id, "stepCallId": call_id, "status": "failed",
                    "error": error, "endedAt": ended_at,
                }),
            ),
        };
        core.progress().steps.insert(id.clone(), record);
        core.emit(WorkflowEventType::WorkflowStepResult, event);
        if let Err(error) = core.persist().await {
            tracing::error!(run_id = %core.run_id, step = %id, %error, "a workflow snapshot could not be saved");
            return Err(Failure(SerializedError::new(
                "StorageError",
                format!("the run could not be saved after step {id}: {error}"),
            )));
        }
        outcome.map_err(Failure)
    })
}

async fn execute(
    core: &Arc<RunCore>,
    step: &Step,
    id: &str,
    input: Value,
    abort: CancellationToken,
) -> Result<Value, SerializedError> {
    let validator = match &step.inner.kind {
        StepKind::Workflow(workflow) => workflow.validator(),
        _ => &step.inner.validator,
    };
    if let Err(issues) = validator.validate(&input) {
        let detail = issues_text(&issues);
        return Err(SerializedError::new(
            "ValidationError",
            format!("invalid input for step {id}: {detail}"),
        ));
    }
    let ctx = StepContext {
        core: Arc::clone(core),
        step_id: Arc::from(id),
        abort: abort.clone(),
    };
    let future = match &step.inner.kind {
        StepKind::Function(execute) | StepKind::Mapping { execute, .. } => execute(input, ctx),
        StepKind::Workflow(workflow) => {
            let nested = run_graph(
                Arc::clone(core),
                workflow.clone(),
                id.to_owned(),
                input,
                abort,
            );
            return nested.await.map_err(|Failure(error)| error);
        }
    };
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result.map_err(|e: StepError| e.serialized()),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            tracing::error!(step = %id, %message, "a workflow step panicked");
            Err(SerializedError::new(
                "Error",
                format!("step {id} panicked: {message}"),
            ))
        }
    }
}
