//! [`Run`]: one execution of a workflow. Created with [`Workflow::create_run`], then started
//! once with [`Run::start`] (awaits the result), [`Run::start_background`] or [`Run::stream`];
//! a suspended run is resumed with [`Run::resume`] (and its background and stream forms),
//! cancelled with [`Run::cancel`], and followed by anyone with [`Run::observe`].

use std::{
    fmt,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, MutexGuard, PoisonError,
    },
};

use futures_util::{stream::BoxStream, StreamExt};
use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

use super::{
    exec::{spawn_drive, EventLog, LiveRun, RunCore},
    host::WorkflowHost,
    snapshot::{
        suspended_steps, RunResult, RunSnapshot, StepStatus, WorkflowEvent, WorkflowEventType,
    },
    Workflow,
};
use crate::{
    error::ApiError,
    memory::{
        check_id, InvalidId, Storage, StorageError, Timestamp, WorkflowRunRecord, WorkflowRunStatus,
    },
    route::RequestContext,
    schema::{check_depth, issues_text, Issue, TooDeep, MAX_JSON_DEPTH},
};

/// Why a run could not be created, started or read. A step's failure is not one of these: it
/// fails the run, whose [`RunResult`] says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// The input does not match the workflow's input schema; nothing ran.
    #[error(
        "invalid input for workflow {workflow}: {}",
        crate::schema::issues_text(issues)
    )]
    InvalidInput {
        /// The workflow.
        workflow: String,
        /// What is wrong.
        issues: Vec<Issue>,
    },
    /// A value the run would start with (`inputData`, `initialState`, `requestContext`) is
    /// nested deeper than [`MAX_JSON_DEPTH`], so its snapshots could not be read back; nothing
    /// ran and nothing was stored.
    #[error("{field} of workflow {workflow}: {error}")]
    TooDeep {
        /// The workflow.
        workflow: String,
        /// Which value, in Mastra's spelling.
        field: &'static str,
        /// The limit it broke.
        error: TooDeep,
    },
    /// The run's id or owner is empty or longer than
    /// [`MAX_ID_BYTES`](crate::memory::MAX_ID_BYTES); nothing was stored.
    #[error(transparent)]
    InvalidId(#[from] InvalidId),
    /// The run was already started (here, or by another server sharing the store).
    #[error("workflow run {run_id} was already started (status {status})")]
    AlreadyStarted {
        /// The run.
        run_id: String,
        /// Its status.
        status: WorkflowRunStatus,
    },
    /// The run has not been started, so it has no result to wait for.
    #[error("workflow run {0} has not been started")]
    NotStarted(String),
    /// No run with this id exists (nothing was created).
    #[error("Workflow run not found")]
    RunNotFound(String),
    /// A resume of a run that is not suspended; nothing changed.
    #[error("This workflow run was not suspended (run {run_id} is {status})")]
    NotSuspended {
        /// The run.
        run_id: String,
        /// Its status.
        status: WorkflowRunStatus,
    },
    /// A resume that names no step, or a step that is not suspended; nothing changed.
    #[error("{message}")]
    StepNotSuspended {
        /// What is wrong, naming the suspended steps.
        message: String,
        /// The steps that are suspended (dotted ids).
        suspended: Vec<String>,
    },
    /// The resume data does not match the step's resume schema; the run stays suspended.
    #[error("Invalid resume data: {}", issues_text(issues))]
    InvalidResumeData {
        /// The step.
        step: String,
        /// What is wrong (fields under `resumeData`).
        issues: Vec<Issue>,
    },
    /// The run executes, but not in this process (another server sharing the store), and
    /// kept changing while it was being cancelled.
    #[error("workflow run {0} is running on another server and kept changing; try again")]
    RunningElsewhere(String),
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<WorkflowError> for ApiError {
    fn from(error: WorkflowError) -> Self {
        match error {
            WorkflowError::InvalidInput { issues, .. } => crate::schema::invalid_body(issues),
            WorkflowError::TooDeep { field, error, .. } => {
                ApiError::bad_request(format!("{field}: {error}"))
                    .with_field("limit", Value::from(error.limit))
            }
            WorkflowError::InvalidId(error) => ApiError::bad_request(error.to_string())
                .with_field("limit", Value::from(error.limit)),
            WorkflowError::AlreadyStarted { .. }
            | WorkflowError::NotStarted(_)
            | WorkflowError::NotSuspended { .. }
            | WorkflowError::RunningElsewhere(_) => ApiError::conflict(error.to_string()),
            WorkflowError::RunNotFound(_) => ApiError::not_found(error.to_string()),
            WorkflowError::StepNotSuspended { ref suspended, .. } => {
                ApiError::bad_request(error.to_string()).with_field("suspended", json!(suspended))
            }
            WorkflowError::InvalidResumeData { ref issues, .. } => {
                let issues = serde_json::to_value(issues).unwrap_or(Value::Null);
                ApiError::bad_request(error.to_string()).with_field("issues", issues)
            }
            WorkflowError::Storage(error) => error.into(),
        }
    }
}

/// How to create a run: its id (a fresh UUID otherwise) and owner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateRunOptions {
    pub(crate) run_id: Option<String>,
    pub(crate) resource_id: Option<String>,
}

impl CreateRunOptions {
    /// A run with a fresh id and no owner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the run's id.
    pub fn run_id(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }

    /// Sets who the run belongs to (`resourceId`, a filter of the run listing).
    pub fn resource_id(mut self, resource_id: impl Into<String>) -> Self {
        self.resource_id = Some(resource_id.into());
        self
    }
}

/// What a run starts with besides its input: the request context its steps see and the
/// initial [`RunState`](super::RunState).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    request_context: RequestContext,
    initial_state: Map<String, Value>,
}

impl RunOptions {
    /// No request context, empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the request context the steps see.
    pub fn request_context(mut self, context: RequestContext) -> Self {
        self.request_context = context;
        self
    }

    /// Sets the state the run starts with (Mastra's `initialState`).
    pub fn initial_state(mut self, state: Map<String, Value>) -> Self {
        self.initial_state = state;
        self
    }

    /// The first of the state and the request context nested deeper than [`MAX_JSON_DEPTH`]
    /// (each is kept in every snapshot), named as Mastra spells it.
    pub(super) fn too_deep(&self) -> Option<(&'static str, TooDeep)> {
        // The state is an object: one level, then its values.
        let state = self
            .initial_state
            .values()
            .try_for_each(|value| check_depth(value, MAX_JSON_DEPTH - 1))
            .map_err(|_| TooDeep {
                limit: MAX_JSON_DEPTH,
            });
        let context = check_depth(&self.request_context.to_json(), MAX_JSON_DEPTH);
        [("initialState", state), ("requestContext", context)]
            .into_iter()
            .find_map(|(field, checked)| checked.err().map(|error| (field, error)))
    }
}

/// What a cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The run executes here: its abort signal fired, and it ends `canceled` as soon as its
    /// running steps stop (at their next await).
    Cancelling,
    /// The run was pending or suspended: it is `canceled` now.
    Canceled,
    /// The run had already ended with this status; nothing changed.
    AlreadyFinished(WorkflowRunStatus),
}

struct RunShared {
    workflow: Workflow,
    run_id: String,
    resource_id: Option<String>,
    created_at: Timestamp,
    host: Option<Arc<dyn WorkflowHost>>,
    storage: Option<Arc<dyn Storage>>,
    started: AtomicBool,
    /// The log of the run's current segment (from its start, or its latest resume).
    log: Mutex<Arc<EventLog>>,
    /// The core of the current segment: what a run with no store resumes from.
    core: Mutex<Option<Arc<RunCore>>>,
}

impl RunShared {
    fn log(&self) -> Arc<EventLog> {
        Arc::clone(&self.log.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn core(&self) -> MutexGuard<'_, Option<Arc<RunCore>>> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One run of a workflow. Cloning is cheap; every clone is the same run.
///
/// A run starts once. Its steps run in a task of their own, so the run finishes (and its
/// snapshots are saved) even if whoever started it stops waiting.
#[derive(Clone)]
pub struct Run {
    shared: Arc<RunShared>,
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("workflow", &self.shared.workflow.id())
            .field("run_id", &self.shared.run_id)
            .finish_non_exhaustive()
    }
}

impl Run {
    /// Records a `pending` run in the store (when the workflow is registered with an
    /// application), unless one with this id exists already.
    pub(crate) async fn create(
        workflow: Workflow,
        options: CreateRunOptions,
    ) -> Result<Run, WorkflowError> {
        if let Some(run_id) = &options.run_id {
            check_id("runId", run_id)?;
        }
        if let Some(resource_id) = &options.resource_id {
            check_id("resourceId", resource_id)?;
        }
        let host = workflow.app();
        let storage = host.as_ref().map(|host| host.storage());
        let run_id = options
            .run_id
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let mut resource_id = options.resource_id;
        let mut created_at = Timestamp::now();
        if let Some(storage) = &storage {
            let snapshot = RunSnapshot::pending(&run_id, workflow.step_graph());
            let record = crate::memory::WorkflowRunRecord {
                workflow_name: workflow.id().to_owned(),
                run_id: run_id.clone(),
                resource_id: resource_id.clone(),
                status: WorkflowRunStatus::Pending,
                snapshot: serde_json::to_value(&snapshot).unwrap_or(Value::Null),
                created_at,
                updated_at: created_at,
            };
            if !storage.create_workflow_run(&record).await? {
                if let Some(existing) = storage.get_workflow_run(workflow.id(), &run_id).await? {
                    resource_id = resource_id.or(existing.resource_id);
                    created_at = existing.created_at;
                }
            }
        }
        Ok(Run::with(workflow, run_id, resource_id, created_at))
    }

    fn with(
        workflow: Workflow,
        run_id: String,
        resource_id: Option<String>,
        created_at: Timestamp,
    ) -> Run {
        let host = workflow.app();
        let storage = host.as_ref().map(|host| host.storage());
        Run {
            shared: Arc::new(RunShared {
                workflow,
                run_id,
                resource_id,
                created_at,
                host,
                storage,
                started: AtomicBool::new(false),
                log: Mutex::new(Arc::new(EventLog::default())),
                core: Mutex::new(None),
            }),
        }
    }

    /// The run `run_id` as it stands (stored, or live here), without recording anything.
    pub(crate) async fn open(workflow: Workflow, run_id: &str) -> Result<Run, WorkflowError> {
        check_id("runId", run_id)?;
        let not_found = || WorkflowError::RunNotFound(run_id.to_owned());
        let storage = workflow.app().map(|host| host.storage());
        let (resource_id, created_at) = match &storage {
            Some(storage) => {
                let record = storage
                    .get_workflow_run(workflow.id(), run_id)
                    .await?
                    .ok_or_else(not_found)?;
                (record.resource_id, record.created_at)
            }
            None if workflow.live().get(run_id).is_some() => (None, Timestamp::now()),
            None => return Err(not_found()),
        };
        Ok(Run::with(
            workflow,
            run_id.to_owned(),
            resource_id,
            created_at,
        ))
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.shared.run_id
    }

    /// Who the run belongs to, if set.
    pub fn resource_id(&self) -> Option<&str> {
        self.shared.resource_id.as_deref()
    }

    /// The workflow being run.
    pub fn workflow(&self) -> &Workflow {
        &self.shared.workflow
    }

    /// Runs the workflow on `input` and returns the finished run. The input is checked
    /// against the workflow's input schema first; a failing step fails the run (the result
    /// says which and why), it is not an `Err`.
    pub async fn start(
        &self,
        input: impl Serialize,
        options: RunOptions,
    ) -> Result<RunResult, WorkflowError> {
        self.start_background(input, options).await?;
        self.result().await
    }

    /// Checks the input and starts the run without waiting for it; [`Run::result`] or
    /// [`Run::events`] follow it.
    pub async fn start_background(
        &self,
        input: impl Serialize,
        options: RunOptions,
    ) -> Result<(), WorkflowError> {
        let shared = &self.shared;
        let workflow = &shared.workflow;
        let input = serde_json::to_value(input).map_err(|e| WorkflowError::InvalidInput {
            workflow: workflow.id().to_owned(),
            issues: vec![Issue::new("", e.to_string())],
        })?;
        workflow.check_start(&input, &options)?;
        if shared.started.swap(true, Ordering::SeqCst) {
            return Err(WorkflowError::AlreadyStarted {
                run_id: shared.run_id.clone(),
                status: self.status(),
            });
        }
        let cancel = CancellationToken::new();
        let log = shared.log();
        let core = Arc::new(
            RunCore::new(
                shared.run_id.clone(),
                workflow.clone(),
                shared.resource_id.clone(),
                shared.created_at,
                options.request_context,
                shared.host.clone(),
                shared.storage.clone(),
                options.initial_state,
                input,
                Arc::clone(&log),
            )
            .with_cancel(cancel.clone()),
        );
        // Live before it is claimed, so a cancel arriving meanwhile reaches it.
        let live = LiveRun {
            log: Arc::clone(&log),
            cancel,
        };
        if !workflow.live().insert(&shared.run_id, live) {
            shared.started.store(false, Ordering::SeqCst);
            return Err(WorkflowError::AlreadyStarted {
                run_id: shared.run_id.clone(),
                status: WorkflowRunStatus::Running,
            });
        }
        if let Some(storage) = &shared.storage {
            if let Err(error) = claim(storage.as_ref(), &core).await {
                // Not started here: a later call may try again (after a storage failure).
                workflow.live().remove(&shared.run_id, &log);
                shared.started.store(false, Ordering::SeqCst);
                return Err(error);
            }
        }
        tracing::info!(workflow = workflow.id(), run_id = %shared.run_id, "workflow run started");
        *shared.core() = Some(Arc::clone(&core));
        let label = format!("workflow {} run {}", workflow.id(), shared.run_id);
        spawn_drive(core, label);
        Ok(())
    }

    /// Resumes the suspended run and returns it when it ends (or suspends again). `step` names
    /// the suspended step to resume (`id`, or `outer.inner` inside a nested workflow; a bare
    /// id is enough when it names one suspended step; `None` when only one step is
    /// suspended); `data` is checked against that step's resume schema. Refused, changing
    /// nothing, when the run is not suspended, the step is not, or the data does not fit.
    pub async fn resume(
        &self,
        step: Option<&str>,
        data: impl Serialize,
        options: RunOptions,
    ) -> Result<RunResult, WorkflowError> {
        self.resume_background(step, data, options).await?;
        self.result().await
    }

    /// As [`Run::resume`], returning the resumed segment's events as they happen.
    pub async fn resume_stream(
        &self,
        step: Option<&str>,
        data: impl Serialize,
        options: RunOptions,
    ) -> Result<BoxStream<'static, WorkflowEvent>, WorkflowError> {
        self.resume_background(step, data, options).await?;
        Ok(self.events())
    }

    /// As [`Run::resume`], without waiting: the resumed run goes on in a task of its own.
    ///
    /// The run moves from `suspended` to `running` in one atomic step in storage (status and
    /// version checked in the same statement), so of concurrent resumes, here or on another
    /// server sharing the store, exactly one goes ahead; the others get
    /// [`WorkflowError::NotSuspended`]. The request context of `options` is merged over the
    /// one the run started with; its initial state is not used (the run keeps its own).
    pub async fn resume_background(
        &self,
        step: Option<&str>,
        data: impl Serialize,
        options: RunOptions,
    ) -> Result<(), WorkflowError> {
        let shared = &self.shared;
        let workflow = &shared.workflow;
        let (snapshot, updated_at) = self.suspended_snapshot().await?;
        let target = resume_target(&snapshot, step)?;
        let data = serde_json::to_value(data).map_err(|e| WorkflowError::InvalidResumeData {
            step: target.clone(),
            issues: vec![Issue::new("resumeData", e.to_string())],
        })?;
        check_resume_data(workflow, &target, &data)?;
        let mut context = snapshot.request_context.clone();
        if let Value::Object(given) = options.request_context.to_json() {
            context.extend(given);
        }
        let request_context = RequestContext::new();
        for (key, value) in context {
            request_context.set(key, value);
        }
        let cancel = CancellationToken::new();
        let log = Arc::new(EventLog::default());
        let core = Arc::new(
            RunCore::new(
                shared.run_id.clone(),
                workflow.clone(),
                shared.resource_id.clone(),
                shared.created_at,
                request_context,
                shared.host.clone(),
                shared.storage.clone(),
                Map::new(),
                snapshot.context.input.clone(),
                Arc::clone(&log),
            )
            .with_cancel(cancel.clone())
            .resuming(&snapshot, updated_at, target.clone(), data),
        );
        let live = LiveRun {
            log: Arc::clone(&log),
            cancel,
        };
        let not_suspended = |status| WorkflowError::NotSuspended {
            run_id: shared.run_id.clone(),
            status,
        };
        if !workflow.live().insert(&shared.run_id, live) {
            return Err(not_suspended(WorkflowRunStatus::Running));
        }
        let claimed = match &shared.storage {
            Some(storage) => {
                let record = core.record(&core.snapshot());
                storage
                    .transition_workflow_run(
                        &record,
                        WorkflowRunStatus::Suspended,
                        Timestamp(updated_at),
                    )
                    .await
            }
            None => {
                let mut current = shared.core();
                let suspended = current
                    .as_ref()
                    .is_some_and(|c| c.snapshot().status == WorkflowRunStatus::Suspended);
                if suspended {
                    *current = Some(Arc::clone(&core));
                }
                Ok(suspended)
            }
        };
        match claimed {
            Ok(true) => {}
            Ok(false) => {
                workflow.live().remove(&shared.run_id, &log);
                return Err(not_suspended(self.stored_status().await));
            }
            Err(error) => {
                workflow.live().remove(&shared.run_id, &log);
                return Err(error.into());
            }
        }
        tracing::info!(
            workflow = workflow.id(),
            run_id = %shared.run_id,
            step = %target,
            "workflow run resumed"
        );
        *shared.log.lock().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&log);
        *shared.core() = Some(Arc::clone(&core));
        shared.started.store(true, Ordering::SeqCst);
        let label = format!("workflow {} run {}", workflow.id(), shared.run_id);
        spawn_drive(core, label);
        Ok(())
    }

    /// The run's snapshot and version when it is suspended; why not otherwise.
    async fn suspended_snapshot(&self) -> Result<(RunSnapshot, i64), WorkflowError> {
        let shared = &self.shared;
        let (snapshot, updated_at) = match &shared.storage {
            Some(storage) => {
                let record = storage
                    .get_workflow_run(shared.workflow.id(), &shared.run_id)
                    .await?
                    .ok_or_else(|| WorkflowError::RunNotFound(shared.run_id.clone()))?;
                let snapshot = read_snapshot(&record)?;
                (snapshot, record.updated_at.millis())
            }
            None => {
                let snapshot = shared
                    .core()
                    .as_ref()
                    .map(|core| core.snapshot())
                    .ok_or_else(|| WorkflowError::NotSuspended {
                        run_id: shared.run_id.clone(),
                        status: WorkflowRunStatus::Pending,
                    })?;
                (snapshot, 0)
            }
        };
        if snapshot.status != WorkflowRunStatus::Suspended {
            return Err(WorkflowError::NotSuspended {
                run_id: shared.run_id.clone(),
                status: snapshot.status,
            });
        }
        Ok((snapshot, updated_at))
    }

    /// The status in storage, for a refusal's message (`running` when it cannot be read).
    async fn stored_status(&self) -> WorkflowRunStatus {
        let shared = &self.shared;
        match &shared.storage {
            Some(storage) => storage
                .get_workflow_run(shared.workflow.id(), &shared.run_id)
                .await
                .ok()
                .flatten()
                .map_or(WorkflowRunStatus::Running, |record| record.status),
            None => WorkflowRunStatus::Running,
        }
    }

    /// Cancels the run. One executing here has its abort signal fired (every running step's
    /// signal with it: an agent or tool call a step awaits is stopped) and ends `canceled`,
    /// with `workflow-canceled` and `workflow-finish` sent to every stream attached to it. One
    /// executing on another server sharing the store is written `canceled` there (one atomic
    /// step over the version read); its executor finds that at its next write (a step's end
    /// or its lease renewal) and stops its steps the same way. A pending or suspended run
    /// becomes `canceled` at once. A run that has ended is left as it is
    /// ([`CancelOutcome::AlreadyFinished`]).
    pub async fn cancel(&self) -> Result<CancelOutcome, WorkflowError> {
        let shared = &self.shared;
        let workflow = &shared.workflow;
        let cancelled_live = || {
            workflow.live().get(&shared.run_id).map(|live| {
                live.cancel.cancel();
                tracing::info!(workflow = workflow.id(), run_id = %shared.run_id, "workflow run cancelled");
                CancelOutcome::Cancelling
            })
        };
        if let Some(outcome) = cancelled_live() {
            return Ok(outcome);
        }
        let Some(storage) = &shared.storage else {
            return Ok(self.cancel_unstored());
        };
        // A few tries: each loses only to a concurrent change of the same run.
        for _ in 0..5 {
            let record = storage
                .get_workflow_run(workflow.id(), &shared.run_id)
                .await?
                .ok_or_else(|| WorkflowError::RunNotFound(shared.run_id.clone()))?;
            match record.status {
                status if status.is_finished() => {
                    return Ok(CancelOutcome::AlreadyFinished(status))
                }
                WorkflowRunStatus::Running => {
                    if let Some(outcome) = cancelled_live() {
                        return Ok(outcome);
                    }
                    // Executing on another instance: written `canceled` over the version read.
                    // Every write of its executor is conditional on the version it wrote last,
                    // so at its next write (a step's end, or its lease renewal) it finds the
                    // run changed, fires its steps' abort signal and stops.
                    let mut snapshot = read_snapshot(&record)?;
                    let now = Timestamp::now().millis();
                    mark_canceled(&mut snapshot, now);
                    let canceled = WorkflowRunRecord {
                        status: WorkflowRunStatus::Canceled,
                        snapshot: serde_json::to_value(&snapshot).unwrap_or(Value::Null),
                        updated_at: Timestamp(now.max(record.updated_at.millis() + 1)),
                        ..record.clone()
                    };
                    if storage
                        .transition_workflow_run(&canceled, record.status, record.updated_at)
                        .await?
                    {
                        tracing::info!(workflow = workflow.id(), run_id = %shared.run_id, "workflow run executing elsewhere cancelled");
                        return Ok(CancelOutcome::Cancelling);
                    }
                }
                status => {
                    let mut snapshot = read_snapshot(&record)?;
                    let now = Timestamp::now().millis();
                    mark_canceled(&mut snapshot, now);
                    let canceled = WorkflowRunRecord {
                        status: WorkflowRunStatus::Canceled,
                        snapshot: serde_json::to_value(&snapshot).unwrap_or(Value::Null),
                        updated_at: Timestamp(now.max(record.updated_at.millis() + 1)),
                        ..record.clone()
                    };
                    if storage
                        .transition_workflow_run(&canceled, status, record.updated_at)
                        .await?
                    {
                        tracing::info!(workflow = workflow.id(), run_id = %shared.run_id, "workflow run cancelled");
                        return Ok(CancelOutcome::Canceled);
                    }
                }
            }
        }
        Err(WorkflowError::RunningElsewhere(shared.run_id.clone()))
    }

    /// Cancels a run of a workflow that has no store, from what this `Run` knows.
    fn cancel_unstored(&self) -> CancelOutcome {
        let current = self.shared.core();
        let Some(core) = current.as_ref() else {
            return CancelOutcome::Canceled;
        };
        match core.snapshot().status {
            WorkflowRunStatus::Suspended => {
                core.mark_canceled();
                CancelOutcome::Canceled
            }
            status => CancelOutcome::AlreadyFinished(status),
        }
    }

    /// Every event of the run from `offset` (0: the first): those already produced, then the
    /// live ones, ending after `workflow-finish`. For a run executing here, its current
    /// segment's log; otherwise the stored run's events, rebuilt from its snapshot (its start,
    /// each step's start and result or suspension, and its end when it has ended or
    /// suspended; a pending run has none), and, while it runs on another server sharing the
    /// store, followed through its snapshot until it ends or suspends.
    pub async fn observe(
        &self,
        offset: usize,
    ) -> Result<BoxStream<'static, WorkflowEvent>, WorkflowError> {
        let shared = &self.shared;
        let workflow = &shared.workflow;
        if let Some(live) = workflow.live().get(&shared.run_id) {
            return Ok(follow(live.log, offset));
        }
        let Some(storage) = &shared.storage else {
            return Ok(follow(shared.log(), offset));
        };
        let record = storage
            .get_workflow_run(workflow.id(), &shared.run_id)
            .await?
            .ok_or_else(|| WorkflowError::RunNotFound(shared.run_id.clone()))?;
        // Started here between the two looks: follow it live.
        if let Some(live) = workflow.live().get(&shared.run_id) {
            return Ok(follow(live.log, offset));
        }
        let snapshot = read_snapshot(&record)?;
        if snapshot.status == WorkflowRunStatus::Running {
            // Executing on another server sharing the store: followed through its snapshots.
            return Ok(follow_stored(
                Arc::clone(storage),
                workflow.id().to_owned(),
                snapshot,
                offset,
            ));
        }
        let events = replayed_events(workflow.id(), &snapshot);
        let log = Arc::new(EventLog::finished(events, snapshot.into()));
        Ok(follow(log, offset))
    }

    /// Starts the run on `input` and returns its events as they happen: `workflow-start`,
    /// `workflow-step-start` and `workflow-step-result` for each step, `workflow-finish`.
    /// Dropping the stream does not stop the run.
    pub async fn stream(
        &self,
        input: impl Serialize,
        options: RunOptions,
    ) -> Result<BoxStream<'static, WorkflowEvent>, WorkflowError> {
        self.start_background(input, options).await?;
        Ok(self.events())
    }

    /// Every event of the run from the first, as it happens; ends after `workflow-finish`.
    /// Empty if the run was never started.
    pub fn events(&self) -> BoxStream<'static, WorkflowEvent> {
        if !self.shared.started.load(Ordering::SeqCst) {
            return futures_util::stream::empty().boxed();
        }
        follow(self.shared.log(), 0)
    }

    /// Waits for the started run to finish and returns it.
    pub async fn result(&self) -> Result<RunResult, WorkflowError> {
        if !self.shared.started.load(Ordering::SeqCst) {
            return Err(WorkflowError::NotStarted(self.shared.run_id.clone()));
        }
        let log = self.shared.log();
        let mut receiver = log.subscribe();
        loop {
            if let Some(outcome) = log.outcome() {
                return Ok(outcome);
            }
            if receiver.changed().await.is_err() {
                return Err(WorkflowError::NotStarted(self.shared.run_id.clone()));
            }
        }
    }

    /// Where a started run is, as known here.
    fn status(&self) -> WorkflowRunStatus {
        self.shared
            .log()
            .outcome()
            .map_or(WorkflowRunStatus::Running, |outcome| outcome.status)
    }
}

/// The events of `log` from `offset`, as they come; ends after the last once the log is
/// finished.
fn follow(log: Arc<EventLog>, offset: usize) -> BoxStream<'static, WorkflowEvent> {
    let receiver = log.subscribe();
    futures_util::stream::unfold(
        (log, receiver, offset),
        |(log, mut receiver, index)| async move {
            loop {
                let done = receiver.borrow_and_update().1;
                if let Some(event) = log.event(index) {
                    return Some((event, (log, receiver, index + 1)));
                }
                if done || receiver.changed().await.is_err() {
                    return None;
                }
            }
        },
    )
    .boxed()
}

/// How often `observe` reads the snapshot of a run executing on another server.
const OBSERVE_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// The events of a run executing on another server, rebuilt from its stored snapshot as it
/// changes (read every [`OBSERVE_POLL`]), from `offset`; ends after the run ends or
/// suspends (or when its record can no longer be read). Each event is sent once, in the
/// order the snapshots reveal them.
fn follow_stored(
    storage: Arc<dyn Storage>,
    workflow_id: String,
    first: RunSnapshot,
    offset: usize,
) -> BoxStream<'static, WorkflowEvent> {
    struct Follow {
        storage: Arc<dyn Storage>,
        workflow_id: String,
        run_id: String,
        next: Option<RunSnapshot>,
        seen: std::collections::HashSet<String>,
        queue: std::collections::VecDeque<WorkflowEvent>,
        skip: usize,
        done: bool,
    }
    let state = Follow {
        storage,
        workflow_id,
        run_id: first.run_id.clone(),
        next: Some(first),
        seen: Default::default(),
        queue: Default::default(),
        skip: offset,
        done: false,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(event) = state.queue.pop_front() {
                return Some((event, state));
            }
            if state.done {
                return None;
            }
            let snapshot = match state.next.take() {
                Some(snapshot) => snapshot,
                None => {
                    tokio::time::sleep(OBSERVE_POLL).await;
                    let record = state
                        .storage
                        .get_workflow_run(&state.workflow_id, &state.run_id)
                        .await;
                    match record.ok().flatten().map(|r| read_snapshot(&r)) {
                        Some(Ok(snapshot)) => snapshot,
                        _ => return None,
                    }
                }
            };
            state.done = snapshot.status != WorkflowRunStatus::Running;
            for event in replayed_events(&state.workflow_id, &snapshot) {
                let key = format!(
                    "{:?}:{}",
                    event.kind,
                    event.payload["id"].as_str().unwrap_or_default()
                );
                if state.seen.insert(key) {
                    if state.skip > 0 {
                        state.skip -= 1;
                    } else {
                        state.queue.push_back(event);
                    }
                }
            }
        }
    })
    .boxed()
}

/// A stored run's snapshot, or why it cannot be read.
fn read_snapshot(record: &WorkflowRunRecord) -> Result<RunSnapshot, WorkflowError> {
    RunSnapshot::from_record(record).map_err(|error| {
        WorkflowError::Storage(StorageError::Unreadable {
            kind: "workflow run",
            id: record.run_id.clone(),
            reason: error.to_string(),
        })
    })
}

/// The suspended step a resume names: `step` as a dotted id, a bare id naming exactly one
/// suspended step (its last or first part), or the only suspended step when `step` is `None`.
fn resume_target(snapshot: &RunSnapshot, step: Option<&str>) -> Result<String, WorkflowError> {
    let suspended = suspended_steps(&snapshot.context.steps);
    let refuse = |message: String| WorkflowError::StepNotSuspended {
        message,
        suspended: suspended.clone(),
    };
    let listed = || suspended.join(", ");
    let Some(step) = step.filter(|s| !s.is_empty()) else {
        return match suspended.as_slice() {
            [only] => Ok(only.clone()),
            _ => Err(refuse(format!(
                "Several steps are suspended ({}): say which to resume with `step`",
                listed()
            ))),
        };
    };
    if suspended.iter().any(|id| id == step) {
        return Ok(step.to_owned());
    }
    let matching: Vec<&String> = suspended
        .iter()
        .filter(|id| id.rsplit('.').next() == Some(step) || id.split('.').next() == Some(step))
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(refuse(format!(
            "This workflow step \"{step}\" was not suspended (suspended: {})",
            listed()
        ))),
        _ => Err(refuse(format!(
            "Step \"{step}\" names several suspended steps ({}): give its full path",
            listed()
        ))),
    }
}

/// `data` checked for the step at `target`: its depth, then its resume schema when declared.
fn check_resume_data(workflow: &Workflow, target: &str, data: &Value) -> Result<(), WorkflowError> {
    let invalid = |issues| WorkflowError::InvalidResumeData {
        step: target.to_owned(),
        issues,
    };
    if let Err(error) = check_depth(data, MAX_JSON_DEPTH) {
        return Err(invalid(vec![Issue::new("resumeData", error.to_string())]));
    }
    let validator = workflow
        .step(target)
        .and_then(|step| step.inner.suspension.resume_validator.as_ref());
    if let Some(validator) = validator {
        validator.validate(data).map_err(|issues| {
            invalid(issues.into_iter().map(|i| i.under("resumeData")).collect())
        })?;
    }
    Ok(())
}

/// The snapshot of a pending or suspended run as cancelled: status `canceled`, its suspended
/// steps `canceled` at `now`.
fn mark_canceled(snapshot: &mut RunSnapshot, now: i64) {
    snapshot.status = WorkflowRunStatus::Canceled;
    snapshot.timestamp = now;
    for record in snapshot.context.steps.values_mut() {
        if matches!(record.status, StepStatus::Suspended | StepStatus::Running) {
            record.status = StepStatus::Canceled;
            record.ended_at = Some(now);
        }
    }
}

/// The events a stored run produced, rebuilt from its snapshot (for `observe` of a run that
/// does not execute here): start, each step in execution order, and the end.
fn replayed_events(workflow_id: &str, snapshot: &RunSnapshot) -> Vec<WorkflowEvent> {
    let run_id = &snapshot.run_id;
    if snapshot.status == WorkflowRunStatus::Pending {
        return Vec::new();
    }
    let event = |kind, payload| WorkflowEvent::new(kind, run_id, payload);
    let mut events = vec![event(
        WorkflowEventType::WorkflowStart,
        json!({ "workflowId": workflow_id }),
    )];
    for id in &snapshot.step_execution_path {
        let Some(record) = snapshot.context.steps.get(id) else {
            continue;
        };
        events.push(event(
            WorkflowEventType::WorkflowStepStart,
            json!({
                "id": id, "status": "running", "payload": record.payload,
                "startedAt": record.started_at,
            }),
        ));
        let ended = match record.status {
            StepStatus::Running => continue,
            StepStatus::Success => json!({
                "id": id, "status": "success", "output": record.output,
                "endedAt": record.ended_at,
            }),
            StepStatus::Failed => json!({
                "id": id, "status": "failed", "error": record.error,
                "endedAt": record.ended_at,
            }),
            StepStatus::Canceled => json!({
                "id": id, "status": "canceled", "endedAt": record.ended_at,
            }),
            StepStatus::Suspended => {
                events.push(event(
                    WorkflowEventType::WorkflowStepSuspended,
                    json!({
                        "id": id, "status": "suspended",
                        "suspendPayload": record.suspend_payload,
                        "suspendedAt": record.suspended_at,
                    }),
                ));
                continue;
            }
        };
        events.push(event(WorkflowEventType::WorkflowStepResult, ended));
    }
    let finish = match snapshot.status {
        WorkflowRunStatus::Success => {
            json!({ "workflowStatus": "success", "result": snapshot.result, "metadata": {} })
        }
        WorkflowRunStatus::Failed => {
            json!({ "workflowStatus": "failed", "error": snapshot.error, "metadata": {} })
        }
        WorkflowRunStatus::Suspended => {
            let suspended: Vec<Vec<String>> = suspended_steps(&snapshot.context.steps)
                .iter()
                .map(|id| id.split('.').map(str::to_owned).collect())
                .collect();
            json!({ "workflowStatus": "suspended", "suspended": suspended, "metadata": {} })
        }
        WorkflowRunStatus::Canceled => {
            events.push(event(WorkflowEventType::WorkflowCanceled, json!({})));
            json!({ "workflowStatus": "canceled", "metadata": {} })
        }
        WorkflowRunStatus::Pending | WorkflowRunStatus::Running => return events,
    };
    events.push(event(WorkflowEventType::WorkflowFinish, finish));
    events
}

/// Marks the run as running in storage, in one atomic step; refused when it is not new or
/// pending (it runs, or ran, elsewhere).
async fn claim(storage: &dyn Storage, core: &RunCore) -> Result<(), WorkflowError> {
    if storage
        .claim_workflow_run(&core.record(&core.snapshot()))
        .await?
    {
        return Ok(());
    }
    let status = storage
        .get_workflow_run(core.workflow.id(), &core.run_id)
        .await?
        .map_or(WorkflowRunStatus::Running, |r| r.status);
    Err(WorkflowError::AlreadyStarted {
        run_id: core.run_id.clone(),
        status,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::workflow::snapshot::StepRecord;

    /// A suspended snapshot whose steps `ids` are suspended (and `done` succeeded).
    fn suspended(ids: &[&str], done: &[&str]) -> RunSnapshot {
        let mut snapshot = RunSnapshot::pending("r", &json!([]));
        snapshot.status = WorkflowRunStatus::Suspended;
        for id in ids {
            let mut record = StepRecord::running(json!({}), 1);
            record.status = StepStatus::Suspended;
            record.suspend_payload = Some(json!({ "why": id }));
            snapshot.context.steps.insert((*id).to_owned(), record);
        }
        for id in done {
            let mut record = StepRecord::running(json!({}), 1);
            record.status = StepStatus::Success;
            snapshot.context.steps.insert((*id).to_owned(), record);
        }
        snapshot
    }

    #[test]
    fn a_resume_names_its_step_by_path_by_a_bare_id_or_not_at_all_when_one_waits() {
        let one = suspended(&["ask"], &["before"]);
        assert_eq!(resume_target(&one, None).unwrap(), "ask");
        assert_eq!(resume_target(&one, Some("")).unwrap(), "ask");
        assert_eq!(resume_target(&one, Some("ask")).unwrap(), "ask");
        let refused = resume_target(&one, Some("before")).unwrap_err();
        assert!(
            matches!(&refused, WorkflowError::StepNotSuspended { suspended, .. } if suspended == &["ask"]),
            "{refused:?}"
        );

        // A nested workflow's suspended step: listed by its full path, not the outer step.
        let nested = suspended(&["outer", "outer.ask", "side"], &[]);
        assert_eq!(
            suspended_steps(&nested.context.steps),
            ["outer.ask", "side"]
        );
        assert_eq!(
            resume_target(&nested, Some("outer.ask")).unwrap(),
            "outer.ask"
        );
        assert_eq!(resume_target(&nested, Some("ask")).unwrap(), "outer.ask");
        assert_eq!(resume_target(&nested, Some("outer")).unwrap(), "outer.ask");
        assert!(matches!(
            resume_target(&nested, None),
            Err(WorkflowError::StepNotSuspended { .. })
        ));

        // A bare id naming two suspended steps is refused.
        let twice = suspended(&["a.ask", "b.ask"], &[]);
        let refused = resume_target(&twice, Some("ask")).unwrap_err();
        assert!(refused.to_string().contains("several"), "{refused}");
    }

    #[test]
    fn the_result_of_a_suspended_run_lists_paths_and_payloads() {
        let result = RunResult::from(suspended(&["outer", "outer.ask"], &["first"]));
        assert_eq!(
            result.suspended,
            vec![vec!["outer".to_owned(), "ask".to_owned()]]
        );
        assert_eq!(
            result.suspend_payload.get("outer.ask"),
            Some(&json!({ "why": "outer.ask" }))
        );
        assert_eq!(result.suspend_payload.len(), 1);
    }

    #[test]
    fn a_cancelled_snapshot_marks_its_waiting_steps_canceled() {
        let mut snapshot = suspended(&["ask"], &["before"]);
        mark_canceled(&mut snapshot, 42);
        assert_eq!(snapshot.status, WorkflowRunStatus::Canceled);
        assert_eq!(snapshot.context.steps["ask"].status, StepStatus::Canceled);
        assert_eq!(snapshot.context.steps["ask"].ended_at, Some(42));
        assert_eq!(snapshot.context.steps["before"].status, StepStatus::Success);
        let events = replayed_events("wf", &snapshot);
        let kinds: Vec<WorkflowEventType> = events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds.last(), Some(&WorkflowEventType::WorkflowFinish));
        assert!(kinds.contains(&WorkflowEventType::WorkflowCanceled));
    }
}
