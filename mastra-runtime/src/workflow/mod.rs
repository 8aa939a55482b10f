//! Workflows: typed step graphs whose runs are persisted after every step.
//!
//! A [`Step`] has an id, a description, typed input and output (their schemas come from
//! `JsonSchema`) and an async function. [`Workflow::builder`] composes steps with `then`,
//! `parallel`, `branch` and `map` (nested workflows are steps too) and checks at `commit` that
//! each step can take what comes before it. A [`Run`] validates its input, runs the graph,
//! emits events, and saves a snapshot of itself after every step in the application's
//! [`Storage`](crate::Storage), so run status and history survive a restart.
//!
//! ```
//! use mastra_runtime::prelude::*;
//! use mastra_runtime::workflow::{RunOptions, Step, StepContext, StepError, Workflow};
//!
//! #[derive(Serialize, Deserialize, JsonSchema)]
//! struct Name { name: String }
//! #[derive(Serialize, Deserialize, JsonSchema)]
//! struct Greeting { text: String }
//!
//! let greet = Step::builder("greet").execute(|n: Name, _: StepContext| async move {
//!     Ok::<_, StepError>(Greeting { text: format!("Hello, {}!", n.name) })
//! });
//! let workflow = Workflow::builder("greeter").then(greet).commit().unwrap();
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let run = workflow.create_run(None).await.unwrap();
//! let result = run.start(Name { name: "Ada".into() }, RunOptions::new()).await.unwrap();
//! assert_eq!(result.output::<Greeting>().unwrap().text, "Hello, Ada!");
//! # });
//! ```

mod builder;
mod context;
mod exec;
mod host;
mod listing;
mod run;
mod snapshot;
mod step;

use std::{
    fmt,
    sync::{Arc, Weak},
};

use serde_json::Value;

pub use builder::{when, Condition, WorkflowBuildError, WorkflowBuilder};
pub use context::{RunState, StepContext};
pub(crate) use exec::take_over_lapsed_runs;
pub use exec::RunLease;
pub use listing::{StepSummary, WorkflowSummary};
pub use run::{CancelOutcome, CreateRunOptions, Run, RunOptions, WorkflowError};
pub use snapshot::{
    RunContext, RunDetails, RunResult, RunSnapshot, SerializedError, StepRecord, StepStatus,
    WorkflowEvent, WorkflowEventType, EVENT_FROM_WORKFLOW, RECORD_SEPARATOR,
};
pub use step::{Step, StepBuilder, StepError};

pub use crate::memory::WorkflowRunStatus;

use crate::schema::{check_depth, Issue, SchemaValidator, MAX_JSON_DEPTH};
use builder::Node;
pub(crate) use host::WorkflowHost;

pub(crate) struct WorkflowInner {
    pub(crate) id: String,
    pub(crate) description: Option<String>,
    pub(crate) input_schema: Value,
    pub(crate) output_schema: Value,
    pub(crate) validator: SchemaValidator,
    pub(crate) nodes: Vec<Node>,
    pub(crate) step_graph: Value,
    /// The runs of this workflow driven in this process now.
    pub(crate) live: exec::LiveRuns,
}

/// A committed workflow. Cloning is cheap.
///
/// Registered with [`MastraBuilder::workflow`](crate::MastraBuilder::workflow), it is served
/// under `/api/workflows`, its steps can reach the application's agents and tools, and its
/// runs are saved in the application's storage. Unregistered, it still runs (nothing is saved).
#[derive(Clone)]
pub struct Workflow {
    pub(crate) inner: Arc<WorkflowInner>,
    pub(crate) app: Option<Weak<dyn WorkflowHost>>,
}

impl fmt::Debug for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workflow")
            .field("id", &self.inner.id)
            .field("nodes", &self.inner.nodes.len())
            .finish_non_exhaustive()
    }
}

impl Workflow {
    /// Starts composing a workflow with this id.
    pub fn builder(id: impl Into<String>) -> WorkflowBuilder {
        WorkflowBuilder::new(id.into())
    }

    /// The id the workflow is registered under.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The description, if any.
    pub fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }

    /// JSON Schema of the input (runs are refused unless their input matches it).
    pub fn input_schema(&self) -> &Value {
        &self.inner.input_schema
    }

    /// JSON Schema of the output.
    pub fn output_schema(&self) -> &Value {
        &self.inner.output_schema
    }

    /// The step graph, in Mastra's serialized form (`stepGraph` of the listing).
    pub fn step_graph(&self) -> &Value {
        &self.inner.step_graph
    }

    /// Checks `input` against the input schema without running anything.
    pub fn validate_input(&self, input: &Value) -> Result<(), Vec<Issue>> {
        self.inner.validator.validate(input)
    }

    /// Checks what a run would start with, without creating or running anything: the input,
    /// the state and the request context are nested no deeper than
    /// [`MAX_JSON_DEPTH`](crate::schema::MAX_JSON_DEPTH) (every snapshot keeps them, and must
    /// read back), and the input matches the input schema.
    pub fn check_start(&self, input: &Value, options: &RunOptions) -> Result<(), WorkflowError> {
        let too_deep = |field, error| WorkflowError::TooDeep {
            workflow: self.id().to_owned(),
            field,
            error,
        };
        check_depth(input, MAX_JSON_DEPTH).map_err(|error| too_deep("inputData", error))?;
        if let Some((field, error)) = options.too_deep() {
            return Err(too_deep(field, error));
        }
        self.validate_input(input)
            .map_err(|issues| WorkflowError::InvalidInput {
                workflow: self.id().to_owned(),
                issues,
            })
    }

    pub(crate) fn validator(&self) -> &SchemaValidator {
        &self.inner.validator
    }

    pub(crate) fn nodes(&self) -> &[Node] {
        &self.inner.nodes
    }

    /// The runs of this workflow executing in this process.
    pub(crate) fn live(&self) -> &exec::LiveRuns {
        &self.inner.live
    }

    /// The step at `path` (`id`, or `outer.inner` inside a nested workflow).
    pub fn step(&self, path: &str) -> Option<&Step> {
        Step::find(self.nodes(), path)
    }

    /// Opens the run `run_id` as it stands: running here, or stored. Unlike
    /// [`Workflow::create_run`], nothing is recorded; [`WorkflowError::RunNotFound`] when no
    /// such run exists.
    pub async fn run(&self, run_id: &str) -> Result<Run, WorkflowError> {
        Run::open(self.clone(), run_id).await
    }

    /// The application this workflow is registered with, while it exists.
    pub(crate) fn app(&self) -> Option<Arc<dyn WorkflowHost>> {
        self.app.as_ref().and_then(Weak::upgrade)
    }

    /// This workflow, registered with an application.
    pub(crate) fn bound_to(&self, app: Weak<dyn WorkflowHost>) -> Workflow {
        Workflow {
            inner: Arc::clone(&self.inner),
            app: Some(app),
        }
    }

    /// Creates a run (with a fresh UUID unless `run_id` is given). For a registered workflow
    /// the run is recorded as `pending` in the application's storage; a run that exists keeps
    /// its record.
    pub async fn create_run(&self, run_id: Option<&str>) -> Result<Run, WorkflowError> {
        let mut options = CreateRunOptions::new();
        if let Some(run_id) = run_id {
            options = options.run_id(run_id);
        }
        self.create_run_with(options).await
    }

    /// Creates a run with these options (id, owner).
    pub async fn create_run_with(&self, options: CreateRunOptions) -> Result<Run, WorkflowError> {
        Run::create(self.clone(), options).await
    }

    /// The workflow as `GET /api/workflows/:workflowId` describes it.
    pub fn summary(&self) -> WorkflowSummary {
        WorkflowSummary::of(self)
    }
}

/// What [`MastraBuilder::workflow`](crate::MastraBuilder::workflow) accepts: a committed
/// [`Workflow`], the `Result` of [`WorkflowBuilder::commit`] (an error fails
/// [`MastraBuilder::build`](crate::MastraBuilder::build)), or a builder still to commit.
pub trait IntoWorkflow {
    /// The workflow, or why it cannot be built.
    fn into_workflow(self) -> Result<Workflow, WorkflowBuildError>;
}

impl IntoWorkflow for Workflow {
    fn into_workflow(self) -> Result<Workflow, WorkflowBuildError> {
        Ok(self)
    }
}

impl IntoWorkflow for Result<Workflow, WorkflowBuildError> {
    fn into_workflow(self) -> Result<Workflow, WorkflowBuildError> {
        self
    }
}

impl IntoWorkflow for WorkflowBuilder {
    fn into_workflow(self) -> Result<Workflow, WorkflowBuildError> {
        self.commit()
    }
}
