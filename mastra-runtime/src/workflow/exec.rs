//! Running a workflow's graph: steps one after another, parallel groups and branches at the
//! same time (a failure cancels the rest of its group), nested workflows inline. Every step
//! start and result is an event; every step result is persisted as a snapshot.

use std::{
    collections::BTreeMap,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use futures_util::{future::BoxFuture, FutureExt};
use serde_json::{json, Map, Value};
use tokio::{sync::watch, task::JoinSet};
use tokio_util::sync::CancellationToken;

use super::WorkflowHost;
use super::{
    builder::Node,
    context::{RunState, StepContext},
    snapshot::{
        RunContext, RunResult, RunSnapshot, SerializedError, StepRecord, StepStatus, WorkflowEvent,
        WorkflowEventType,
    },
    step::{Step, StepKind},
    StepError, Workflow,
};
use crate::{
    app::AppHandle,
    memory::{Storage, StorageError, Timestamp, WorkflowRunRecord, WorkflowRunStatus},
    route::{RequestContext, RESERVED_KEYS},
};

/// The event log and outcome of one run, shared by the run and every reader.
#[derive(Default)]
pub(crate) struct EventLog {
    inner: Mutex<LogInner>,
    progress: watch::Sender<(usize, bool)>,
}

#[derive(Default)]
struct LogInner {
    events: Vec<WorkflowEvent>,
    outcome: Option<RunResult>,
}

impl EventLog {
    fn lock(&self) -> MutexGuard<'_, LogInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn push(&self, event: WorkflowEvent) {
        let count = {
            let mut log = self.lock();
            log.events.push(event);
            log.events.len()
        };
        self.progress.send_modify(|p| p.0 = count);
    }

    /// Records the outcome (once) and wakes every reader.
    pub(crate) fn finish(&self, outcome: RunResult) {
        {
            let mut log = self.lock();
            if log.outcome.is_some() {
                return;
            }
            log.outcome = Some(outcome);
        }
        self.progress.send_modify(|p| p.1 = true);
    }

    pub(crate) fn event(&self, index: usize) -> Option<WorkflowEvent> {
        self.lock().events.get(index).cloned()
    }

    pub(crate) fn outcome(&self) -> Option<RunResult> {
        self.lock().outcome.clone()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<(usize, bool)> {
        self.progress.subscribe()
    }
}

/// What the run has done so far.
struct Progress {
    status: WorkflowRunStatus,
    steps: BTreeMap<String, StepRecord>,
    path: Vec<String>,
    result: Option<Value>,
    error: Option<SerializedError>,
}

/// Everything one run shares between its steps.
pub(crate) struct RunCore {
    pub(crate) run_id: String,
    pub(crate) workflow: Workflow,
    pub(crate) resource_id: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) request_context: RequestContext,
    /// The application the workflow is registered with, for the steps' lookups.
    pub(crate) host: Option<Arc<dyn WorkflowHost>>,
    /// The same application as steps, agents and tools receive it.
    pub(crate) app: Option<AppHandle>,
    pub(crate) storage: Option<Arc<dyn Storage>>,
    pub(crate) state: RunState,
    pub(crate) input: Value,
    pub(crate) log: Arc<EventLog>,
    progress: Mutex<Progress>,
    /// Snapshots are written one at a time, so the last one written is the latest.
    persist: tokio::sync::Mutex<()>,
}

/// How a run ends early: the error that failed it.
struct Failure(SerializedError);

impl RunCore {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        run_id: String,
        workflow: Workflow,
        resource_id: Option<String>,
        created_at: Timestamp,
        request_context: RequestContext,
        host: Option<Arc<dyn WorkflowHost>>,
        storage: Option<Arc<dyn Storage>>,
        state: Map<String, Value>,
        input: Value,
        log: Arc<EventLog>,
    ) -> Self {
        Self {
            run_id,
            workflow,
            resource_id,
            created_at,
            request_context,
            app: host.clone().map(WorkflowHost::handle),
            host,
            storage,
            state: RunState::from_map(state),
            input,
            log,
            progress: Mutex::new(Progress {
                status: WorkflowRunStatus::Running,
                steps: BTreeMap::new(),
                path: Vec::new(),
                result: None,
                error: None,
            }),
            persist: tokio::sync::Mutex::new(()),
        }
    }

    fn progress(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn step_output(&self, step_id: &str) -> Option<Value> {
        let progress = self.progress();
        let record = progress.steps.get(step_id)?;
        (record.status == StepStatus::Success)
            .then(|| record.output.clone())
            .flatten()
    }

    /// The run as it stands.
    pub(crate) fn snapshot(&self) -> RunSnapshot {
        let progress = self.progress();
        let request_context = match self.request_context.to_json() {
            Value::Object(mut map) => {
                map.retain(|k, _| !RESERVED_KEYS.contains(&k.as_str()));
                map
            }
            _ => Map::new(),
        };
        let mut snapshot = RunSnapshot::pending(&self.run_id, self.workflow.step_graph());
        snapshot.status = progress.status;
        snapshot.value = self.state.to_map();
        snapshot.context = RunContext {
            input: self.input.clone(),
            steps: progress.steps.clone(),
        };
        snapshot.step_execution_path = progress.path.clone();
        snapshot.result = progress.result.clone();
        snapshot.error = progress.error.clone();
        snapshot.request_context = request_context;
        snapshot
    }

    pub(crate) fn record(&self, snapshot: &RunSnapshot) -> WorkflowRunRecord {
        WorkflowRunRecord {
            workflow_name: self.workflow.id().to_owned(),
            run_id: self.run_id.clone(),
            resource_id: self.resource_id.clone(),
            status: snapshot.status,
            snapshot: serde_json::to_value(snapshot).unwrap_or(Value::Null),
            created_at: self.created_at,
            updated_at: Timestamp(snapshot.timestamp),
        }
    }

    /// Writes the current snapshot, if the run has a store.
    async fn persist(&self) -> Result<(), StorageError> {
        let Some(storage) = &self.storage else {
            return Ok(());
        };
        let _one_at_a_time = self.persist.lock().await;
        let record = self.record(&self.snapshot());
        storage.save_workflow_run(&record).await
    }

    fn emit(&self, kind: WorkflowEventType, payload: Value) {
        self.log
            .push(WorkflowEvent::new(kind, &self.run_id, payload));
    }
}

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
        let detail = issues
            .iter()
            .map(|i| {
                if i.field.is_empty() {
                    i.message.clone()
                } else {
                    format!("{}: {}", i.field, i.message)
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
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
