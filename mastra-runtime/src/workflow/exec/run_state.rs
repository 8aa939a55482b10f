//! A run's state and its persistence: the [`EventLog`] every reader follows, the run's
//! progress (step records, execution path, result or error), the [`RunSnapshot`] built from
//! them, and the snapshot written to storage after every step.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicBool, AtomicI64, Ordering},
        Arc, Mutex, MutexGuard, PoisonError,
    },
};

use serde_json::{Map, Value};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

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

    /// A log that already holds `events` and `outcome` (a run read back from storage).
    pub(crate) fn finished(events: Vec<WorkflowEvent>, outcome: RunResult) -> Self {
        let log = Self::default();
        {
            let mut inner = log.lock();
            inner.events = events;
            inner.outcome = Some(outcome);
        }
        let count = log.lock().events.len();
        log.progress.send_modify(|p| *p = (count, true));
        log
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
    /// Fires when the run is cancelled; every step's abort signal is a child of it.
    pub(crate) cancel: CancellationToken,
    /// The step this execution resumes (dotted id) and what it is resumed with.
    pub(crate) resume: Option<(String, Arc<Value>)>,
    /// The `updatedAt` of the last record written: each write moves it forward, so a stored
    /// `(status, updatedAt)` pair names one version of the run.
    last_update: AtomicI64,
    /// Set when a write found the run changed by someone else (another instance took it over
    /// after this one's lease lapsed): this execution stops and writes nothing more.
    lost_lease: AtomicBool,
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
            cancel: CancellationToken::new(),
            resume: None,
            last_update: AtomicI64::new(i64::MIN),
            lost_lease: AtomicBool::new(false),
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

    /// This core, cancelled by `cancel`.
    pub(crate) fn with_cancel(mut self, cancel: CancellationToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// This core continuing the stored run `snapshot` (last written at `updated_at`): its
    /// steps, execution path and state, resuming step `step` with `data`.
    pub(crate) fn resuming(
        self,
        snapshot: &RunSnapshot,
        updated_at: i64,
        step: String,
        data: Value,
    ) -> Self {
        let mut core = self.continuing(snapshot, updated_at);
        core.resume = Some((step, Arc::new(data)));
        core
    }

    /// This core continuing the stored run `snapshot` (last written at `updated_at`) where it
    /// stopped: steps that succeeded give their recorded output, the others run.
    pub(crate) fn continuing(mut self, snapshot: &RunSnapshot, updated_at: i64) -> Self {
        {
            let progress = self
                .progress
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner);
            progress.steps = snapshot.context.steps.clone();
            progress.path = snapshot.step_execution_path.clone();
        }
        self.state = RunState::from_map(snapshot.value.clone());
        self.last_update = AtomicI64::new(updated_at);
        self
    }

    /// Whether another instance took this run over: nothing more is written from here.
    pub(crate) fn lost_lease(&self) -> bool {
        self.lost_lease.load(Ordering::SeqCst)
    }

    /// What `step_id` is resumed with, when this execution resumes it.
    pub(crate) fn resume_for(&self, step_id: &str) -> Option<Arc<Value>> {
        self.resume
            .as_ref()
            .filter(|(id, _)| id == step_id)
            .map(|(_, data)| Arc::clone(data))
    }

    /// Marks a suspended run (that no longer executes) as cancelled: its status and its
    /// suspended steps.
    pub(crate) fn mark_canceled(&self) {
        let now = crate::memory::Timestamp::now().millis();
        let mut progress = self.progress();
        progress.status = WorkflowRunStatus::Canceled;
        for record in progress.steps.values_mut() {
            if record.status == StepStatus::Suspended {
                record.status = StepStatus::Canceled;
                record.ended_at = Some(now);
            }
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
        let mut updated_at = snapshot.timestamp;
        // Strictly after the previous write, even within one millisecond.
        let _ = self
            .last_update
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |previous| {
                updated_at = snapshot.timestamp.max(previous.saturating_add(1));
                Some(updated_at)
            });
        WorkflowRunRecord {
            workflow_name: self.workflow.id().to_owned(),
            run_id: self.run_id.clone(),
            resource_id: self.resource_id.clone(),
            status: snapshot.status,
            snapshot: serde_json::to_value(snapshot).unwrap_or(Value::Null),
            created_at: self.created_at,
            updated_at: Timestamp(updated_at),
        }
    }

    /// Writes the current snapshot, if the run has a store.
    pub(super) async fn persist(&self) -> Result<(), StorageError> {
        let Some(storage) = &self.storage else {
            return Ok(());
        };
        let _one_at_a_time = self.persist.lock().await;
        if self.lost_lease() {
            return Ok(());
        }
        let written_last = self.last_update.load(Ordering::SeqCst);
        let record = self.record(&self.snapshot());
        if written_last == i64::MIN {
            return storage.save_workflow_run(&record).await;
        }
        // Only over the version this execution wrote last: if the run changed meanwhile, it
        // was taken over elsewhere (see `lease`), and this execution stops.
        let still_ours = storage
            .transition_workflow_run(&record, WorkflowRunStatus::Running, Timestamp(written_last))
            .await?;
        if !still_ours {
            self.lost_lease.store(true, Ordering::SeqCst);
            self.cancel.cancel();
            tracing::warn!(
                workflow = self.workflow.id(),
                run_id = %self.run_id,
                "workflow run changed by another instance (cancelled there, or taken over after its lease lapsed here): stopping this execution"
            );
        }
        Ok(())
    }

    pub(super) fn emit(&self, kind: WorkflowEventType, payload: Value) {
        self.log
            .push(WorkflowEvent::new(kind, &self.run_id, payload));
    }
}
