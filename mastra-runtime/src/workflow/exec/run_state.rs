//! A run's state and its persistence: the [`EventLog`] every reader follows, the run's
//! progress (step records, execution path, result or error), the [`RunSnapshot`] built from
//! them, and the snapshot written to storage after every step.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use serde_json::{Map, Value};
use tokio::sync::watch;

use crate::{
    app::AppHandle,
    memory::{Storage, StorageError, Timestamp, WorkflowRunRecord, WorkflowRunStatus},
    route::{RequestContext, RESERVED_KEYS},
    workflow::{
        context::RunState,
        snapshot::{
            RunContext, RunResult, RunSnapshot, SerializedError, StepRecord, StepStatus,
            WorkflowEvent, WorkflowEventType,
        },
        Workflow, WorkflowHost,
    },
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

/// What the run has done so far. The driver updates it as steps start and end.
pub(super) struct Progress {
    pub(super) status: WorkflowRunStatus,
    pub(super) steps: BTreeMap<String, StepRecord>,
    pub(super) path: Vec<String>,
    pub(super) result: Option<Value>,
    pub(super) error: Option<SerializedError>,
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

    pub(super) fn progress(&self) -> MutexGuard<'_, Progress> {
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
    pub(super) async fn persist(&self) -> Result<(), StorageError> {
        let Some(storage) = &self.storage else {
            return Ok(());
        };
        let _one_at_a_time = self.persist.lock().await;
        let record = self.record(&self.snapshot());
        storage.save_workflow_run(&record).await
    }

    pub(super) fn emit(&self, kind: WorkflowEventType, payload: Value) {
        self.log
            .push(WorkflowEvent::new(kind, &self.run_id, payload));
    }
}
