//! The graph walk: steps one after another, parallel groups and branches at the same time (a
//! failure cancels the rest of its group), nested workflows inline. Every step start and
//! result is an event; every step result is persisted as a snapshot.
//!
//! A step may suspend: its group still finishes its other steps, then the run stops with
//! status `suspended`. A resumed run walks the graph again from the start: steps that already
//! succeeded give their recorded output without running, steps still suspended (other than
//! the one resumed) stay so, and the resumed step runs again with its resume data. A cancelled
//! run's steps are dropped at their next await and recorded `canceled`.

use std::{panic::AssertUnwindSafe, sync::Arc};

use futures_util::{future::BoxFuture, FutureExt};
use serde_json::{json, Map, Value};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{lease::keep_lease, run_state::RunCore};
use crate::{
    memory::{Timestamp, WorkflowRunStatus},
    schema::issues_text,
    workflow::{
        builder::Node,
        context::StepContext,
        snapshot::{suspended_steps, SerializedError, StepRecord, StepStatus, WorkflowEventType},
        step::{Step, StepKind},
        StepError, Workflow,
    },
};

/// Why a walk stopped before its end.
enum Halt {
    /// A step failed: the run fails with this error.
    Failed(SerializedError),
    /// A step suspended (and nothing failed): the run waits to be resumed.
    Suspended,
    /// The run was cancelled.
    Canceled,
}

/// How one step's execution ended.
enum Ended {
    Output(Value),
    Failed(SerializedError),
    Suspended(Option<Value>),
    Canceled,
}

/// Runs the whole workflow (or the rest of a resumed one), persists the final snapshot and
/// publishes the outcome.
async fn drive(core: Arc<RunCore>) {
    // If this task dies (a panic outside a step, the runtime shutting down), readers still
    // learn that the run is over, and the run stops being live here.
    struct Finish(Arc<RunCore>);
    impl Drop for Finish {
        fn drop(&mut self) {
            let core = &self.0;
            if core.log.outcome().is_none() {
                let mut snapshot = core.snapshot();
                snapshot.status = WorkflowRunStatus::Failed;
                snapshot.error = Some(SerializedError::new(
                    "Error",
                    "the workflow run stopped unexpectedly",
                ));
                core.log.finish(snapshot.into());
            }
            core.workflow.live().remove(&core.run_id, &core.log);
        }
    }
    let guard = Finish(Arc::clone(&core));
    let renewing = keep_lease(&core);
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
        core.cancel.clone(),
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
            Err(Halt::Failed(error)) => {
                progress.status = WorkflowRunStatus::Failed;
                progress.error = Some(error.clone());
                json!({ "workflowStatus": "failed", "error": error, "metadata": {} })
            }
            Err(Halt::Suspended) => {
                progress.status = WorkflowRunStatus::Suspended;
                let suspended: Vec<Vec<String>> = suspended_steps(&progress.steps)
                    .iter()
                    .map(|id| id.split('.').map(str::to_owned).collect())
                    .collect();
                json!({ "workflowStatus": "suspended", "suspended": suspended, "metadata": {} })
            }
            Err(Halt::Canceled) => {
                progress.status = WorkflowRunStatus::Canceled;
                // Steps still waiting to be resumed (siblings of a resumed one) wait no more.
                let now = Timestamp::now().millis();
                for record in progress.steps.values_mut() {
                    if record.status == StepStatus::Suspended {
                        record.status = StepStatus::Canceled;
                        record.ended_at = Some(now);
                    }
                }
                json!({ "workflowStatus": "canceled", "metadata": {} })
            }
        }
    };
    renewing.cancel();
    if let Err(error) = core.persist().await {
        tracing::error!(
            workflow = core.workflow.id(),
            run_id = %core.run_id,
            %error,
            "the final snapshot of a workflow run could not be saved"
        );
    }
    // No longer live before anyone hears the end: a client that resumes or cancels the moment
    // it reads `workflow-finish` (or the result) finds the stored run, not this one.
    core.workflow.live().remove(&core.run_id, &core.log);
    let snapshot = core.snapshot();
    tracing::info!(
        workflow = core.workflow.id(),
        run_id = %core.run_id,
        status = %snapshot.status,
        "workflow run finished"
    );
    if snapshot.status == WorkflowRunStatus::Canceled {
        core.emit(WorkflowEventType::WorkflowCanceled, json!({}));
    }
    core.emit(WorkflowEventType::WorkflowFinish, finish_payload);
    core.log.finish(snapshot.into());
    drop(guard);
}

/// Drives `core` to completion in a task of its own: tracked background work of the
/// application when there is one (it outlives the request, and graceful shutdown waits for it
/// and names it if it must abandon it), else a plain task.
pub(crate) fn spawn_drive(core: Arc<RunCore>, label: String) {
    match core.host.clone() {
        Some(host) => {
            host.background().spawn(label, drive(core));
        }
        None => {
            tokio::spawn(drive(core));
        }
    }
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
) -> BoxFuture<'static, Result<Value, Halt>> {
    Box::pin(async move {
        let mut value = input;
        for node in workflow.nodes() {
            if abort.is_cancelled() {
                return Err(Halt::Canceled);
            }
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
                                return Err(Halt::Failed(SerializedError::new(
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
/// failure cancels the others (their futures are dropped and their abort signal fires). A
/// suspended step lets the others finish; the group is then suspended.
async fn run_group(
    core: &Arc<RunCore>,
    steps: Vec<Step>,
    prefix: &str,
    input: Value,
    abort: &CancellationToken,
) -> Result<Value, Halt> {
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
    let mut suspended = false;
    let mut canceled = false;
    while let Some(joined) = tasks.join_next().await {
        let outcome = match joined {
            Ok((id, Ok(output))) => {
                outputs.insert(id, output);
                continue;
            }
            Ok((_, Err(Halt::Suspended))) => {
                suspended = true;
                continue;
            }
            Ok((_, Err(Halt::Canceled))) => {
                canceled = true;
                continue;
            }
            Ok((_, Err(Halt::Failed(error)))) => error,
            // `run_step` catches a step's panic; this is the task itself failing.
            Err(error) => SerializedError::new(
                "Error",
                format!("a parallel step stopped unexpectedly: {error}"),
            ),
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
        return Err(Halt::Failed(failure));
    }
    if canceled || abort.is_cancelled() {
        return Err(Halt::Canceled);
    }
    if suspended {
        return Err(Halt::Suspended);
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

/// What a resumed walk does with a step recorded before: a success gives its output again
/// and a suspended step other than the one resumed stays suspended, without running.
enum Replay {
    Output(Value),
    StillSuspended,
    Run,
}

fn replay(core: &RunCore, step: &Step, id: &str) -> Replay {
    let progress = core.progress();
    let Some(record) = progress.steps.get(id) else {
        return Replay::Run;
    };
    match record.status {
        StepStatus::Success => Replay::Output(record.output.clone().unwrap_or(Value::Null)),
        // A nested workflow goes in: its own steps replay one by one.
        StepStatus::Suspended if step.as_workflow().is_none() && core.resume_for(id).is_none() => {
            Replay::StillSuspended
        }
        _ => Replay::Run,
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
) -> BoxFuture<'static, Result<Value, Halt>> {
    Box::pin(async move {
        let id = join_id(&prefix, step.id());
        match replay(&core, &step, &id) {
            Replay::Output(output) => return Ok(output),
            Replay::StillSuspended => return Err(Halt::Suspended),
            Replay::Run => {}
        }
        let resume = core.resume_for(&id);
        let call_id = uuid::Uuid::new_v4().to_string();
        let started_at = Timestamp::now().millis();
        let mut record = StepRecord::running(input.clone(), started_at);
        {
            let mut progress = core.progress();
            if !progress.path.contains(&id) {
                progress.path.push(id.clone());
            }
            if let Some(before) = progress.steps.get(&id) {
                // A resumed step keeps what it suspended with, and says what resumed it.
                record.suspend_payload = before.suspend_payload.clone();
                record.suspended_at = before.suspended_at;
            }
            if let Some(data) = &resume {
                record.resume_payload = Some(data.as_ref().clone());
                record.resumed_at = Some(started_at);
            }
            progress.steps.insert(id.clone(), record.clone());
        }
        core.emit(
            WorkflowEventType::WorkflowStepStart,
            json!({
                "id": id, "stepCallId": call_id, "status": "running",
                "payload": input, "startedAt": started_at,
            }),
        );
        let ended = execute(&core, &step, &id, input, abort, resume).await;
        let ended_at = Timestamp::now().millis();
        let (kind, event, outcome) = match ended {
            Ended::Output(output) => {
                record.status = StepStatus::Success;
                record.output = Some(output.clone());
                record.ended_at = Some(ended_at);
                let event = json!({
                    "id": id, "stepCallId": call_id, "status": "success",
                    "output": output, "endedAt": ended_at,
                });
                (WorkflowEventType::WorkflowStepResult, event, Ok(output))
            }
            Ended::Failed(error) => {
                record.status = StepStatus::Failed;
                record.error = Some(error.clone());
                record.ended_at = Some(ended_at);
                let event = json!({
                    "id": id, "stepCallId": call_id, "status": "failed",
                    "error": error, "endedAt": ended_at,
                });
                (
                    WorkflowEventType::WorkflowStepResult,
                    event,
                    Err(Halt::Failed(error)),
                )
            }
            Ended::Suspended(payload) => {
                record.status = StepStatus::Suspended;
                record.suspend_payload = payload.clone();
                record.suspended_at = Some(ended_at);
                let event = json!({
                    "id": id, "stepCallId": call_id, "status": "suspended",
                    "suspendPayload": payload, "suspendedAt": ended_at,
                });
                (
                    WorkflowEventType::WorkflowStepSuspended,
                    event,
                    Err(Halt::Suspended),
                )
            }
            Ended::Canceled => {
                record.status = StepStatus::Canceled;
                record.ended_at = Some(ended_at);
                let event = json!({
                    "id": id, "stepCallId": call_id, "status": "canceled",
                    "endedAt": ended_at,
                });
                (
                    WorkflowEventType::WorkflowStepResult,
                    event,
                    Err(Halt::Canceled),
                )
            }
        };
        core.progress().steps.insert(id.clone(), record);
        core.emit(kind, event);
        if let Err(error) = core.persist().await {
            tracing::error!(run_id = %core.run_id, step = %id, %error, "a workflow snapshot could not be saved");
            return Err(Halt::Failed(SerializedError::new(
                "StorageError",
                format!("the run could not be saved after step {id}: {error}"),
            )));
        }
        outcome
    })
}

async fn execute(
    core: &Arc<RunCore>,
    step: &Step,
    id: &str,
    input: Value,
    abort: CancellationToken,
    resume: Option<Arc<Value>>,
) -> Ended {
    let validator = match &step.inner.kind {
        StepKind::Workflow(workflow) => workflow.validator(),
        _ => &step.inner.validator,
    };
    if let Err(issues) = validator.validate(&input) {
        let detail = issues_text(&issues);
        return Ended::Failed(SerializedError::new(
            "ValidationError",
            format!("invalid input for step {id}: {detail}"),
        ));
    }
    let future = match &step.inner.kind {
        StepKind::Function(execute) | StepKind::Mapping { execute, .. } => {
            let ctx = StepContext {
                core: Arc::clone(core),
                step_id: Arc::from(id),
                abort: abort.clone(),
                resume,
            };
            execute(input, ctx)
        }
        StepKind::Workflow(workflow) => {
            let nested = run_graph(
                Arc::clone(core),
                workflow.clone(),
                id.to_owned(),
                input,
                abort,
            );
            return match nested.await {
                Ok(output) => Ended::Output(output),
                Err(Halt::Failed(error)) => Ended::Failed(error),
                Err(Halt::Suspended) => Ended::Suspended(None),
                Err(Halt::Canceled) => Ended::Canceled,
            };
        }
    };
    let guarded = AssertUnwindSafe(future).catch_unwind();
    let result = tokio::select! {
        // A cancelled step stops at its next await: its future is dropped here.
        biased;
        () = abort.cancelled() => return Ended::Canceled,
        result = guarded => result,
    };
    match result {
        Ok(Ok(output)) => Ended::Output(output),
        Ok(Err(error)) => suspended_or_failed(step, id, error),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            tracing::error!(step = %id, %message, "a workflow step panicked");
            Ended::Failed(SerializedError::new(
                "Error",
                format!("step {id} panicked: {message}"),
            ))
        }
    }
}

/// A step's error: a suspension (its payload checked against the step's suspend schema), or
/// a failure.
fn suspended_or_failed(step: &Step, id: &str, error: StepError) -> Ended {
    let payload = match error.into_suspend_payload() {
        Ok(payload) => payload,
        Err(error) => return Ended::Failed(error.serialized()),
    };
    if let Some(validator) = &step.inner.suspension.suspend_validator {
        if let Err(issues) = validator.validate(&payload) {
            return Ended::Failed(SerializedError::new(
                "ValidationError",
                format!(
                    "step {id} suspended with a payload that breaks its suspend schema: {}",
                    issues_text(&issues)
                ),
            ));
        }
    }
    if let Err(error) = crate::schema::check_depth(&payload, crate::schema::MAX_JSON_DEPTH) {
        return Ended::Failed(SerializedError::new(
            "ValidationError",
            format!("suspend payload of step {id}: {error}"),
        ));
    }
    Ended::Suspended(Some(payload))
}
