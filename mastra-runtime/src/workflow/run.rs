//! [`Run`]: one execution of a workflow. Created with [`Workflow::create_run`], then started
//! once with [`Run::start`] (awaits the result), [`Run::start_background`] or [`Run::stream`].

use std::{
    fmt,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use futures_util::{stream::BoxStream, StreamExt};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    exec::{drive, EventLog, RunCore},
    host::WorkflowHost,
    snapshot::{RunResult, RunSnapshot, WorkflowEvent},
    Workflow,
};
use crate::{
    error::ApiError,
    memory::{check_id, InvalidId, Storage, StorageError, Timestamp, WorkflowRunStatus},
    route::RequestContext,
    schema::{check_depth, Issue, TooDeep, MAX_JSON_DEPTH},
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
            WorkflowError::AlreadyStarted { .. } | WorkflowError::NotStarted(_) => {
                ApiError::conflict(error.to_string())
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

struct RunShared {
    workflow: Workflow,
    run_id: String,
    resource_id: Option<String>,
    created_at: Timestamp,
    host: Option<Arc<dyn WorkflowHost>>,
    storage: Option<Arc<dyn Storage>>,
    started: AtomicBool,
    log: Arc<EventLog>,
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
        Ok(Run {
            shared: Arc::new(RunShared {
                workflow,
                run_id,
                resource_id,
                created_at,
                host,
                storage,
                started: AtomicBool::new(false),
                log: Arc::new(EventLog::default()),
            }),
        })
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
        let core = Arc::new(RunCore::new(
            shared.run_id.clone(),
            workflow.clone(),
            shared.resource_id.clone(),
            shared.created_at,
            options.request_context,
            shared.host.clone(),
            shared.storage.clone(),
            options.initial_state,
            input,
            Arc::clone(&shared.log),
        ));
        if let Some(storage) = &shared.storage {
            if let Err(error) = claim(storage.as_ref(), &core).await {
                // Not started here: a later call may try again (after a storage failure).
                shared.started.store(false, Ordering::SeqCst);
                return Err(error);
            }
        }
        tracing::info!(workflow = workflow.id(), run_id = %shared.run_id, "workflow run started");
        let label = format!("workflow {} run {}", workflow.id(), shared.run_id);
        spawn_run(shared.host.as_deref(), label, drive(core));
        Ok(())
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
        let log = Arc::clone(&self.shared.log);
        let started = self.shared.started.load(Ordering::SeqCst);
        let receiver = log.subscribe();
        futures_util::stream::unfold(
            (log, receiver, 0usize, started),
            |(log, mut receiver, index, started)| async move {
                if !started {
                    return None;
                }
                loop {
                    let done = receiver.borrow_and_update().1;
                    if let Some(event) = log.event(index) {
                        return Some((event, (log, receiver, index + 1, started)));
                    }
                    if done || receiver.changed().await.is_err() {
                        return None;
                    }
                }
            },
        )
        .boxed()
    }

    /// Waits for the started run to finish and returns it.
    pub async fn result(&self) -> Result<RunResult, WorkflowError> {
        if !self.shared.started.load(Ordering::SeqCst) {
            return Err(WorkflowError::NotStarted(self.shared.run_id.clone()));
        }
        let mut receiver = self.shared.log.subscribe();
        loop {
            if let Some(outcome) = self.shared.log.outcome() {
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
            .log
            .outcome()
            .map_or(WorkflowRunStatus::Running, |outcome| outcome.status)
    }
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

/// Runs a started workflow to completion in a task of its own: tracked background work of the
/// application when there is one (it outlives the request, and graceful shutdown waits for it
/// and names it if it must abandon it), else a plain task.
fn spawn_run(
    host: Option<&dyn WorkflowHost>,
    label: String,
    run: impl std::future::Future<Output = ()> + Send + 'static,
) {
    match host {
        Some(host) => {
            host.background().spawn(label, run);
        }
        None => {
            tokio::spawn(run);
        }
    }
}
