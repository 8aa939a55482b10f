//! [`Step`]: one typed unit of a workflow, with its id, description, input and output schemas
//! and its async function.

use std::{fmt, future::Future, sync::Arc};

use futures_util::future::BoxFuture;
use schemars::JsonSchema;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};

use super::{context::StepContext, snapshot::SerializedError, Workflow};
use crate::{
    agent::AgentError,
    error::NotFound,
    memory::StorageError,
    schema::{
        self, check_depth, inline_refs, schema_of, CallError, SchemaValidator, MAX_JSON_DEPTH,
    },
    tool::ToolFailure,
};

/// A step's failure: a kind and a message, reported in the run's result (Mastra's serialized
/// error). `?` converts agent, tool, lookup, storage and JSON errors.
///
/// [`StepContext::suspend`] also answers with one: a suspension, which the run records as the
/// step being `suspended` (not failed) with its payload. Returning it (or passing it on with
/// `?`) is how a step suspends.
///
/// ```
/// use mastra_runtime::workflow::StepError;
/// let e = StepError::new("no forecast for Atlantis");
/// assert_eq!(e.name(), "Error");
/// assert_eq!(e.to_string(), "no forecast for Atlantis");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StepError {
    name: String,
    message: String,
    /// The suspend payload, when this is a suspension rather than a failure.
    suspend: Option<Box<Value>>,
}

/// The `name` of a [`StepError`] that is a suspension.
pub(crate) const SUSPENDED: &str = "Suspended";

impl StepError {
    /// A failure with this message (kind `Error`).
    pub fn new(message: impl Into<String>) -> Self {
        Self::named("Error", message)
    }

    /// A failure of kind `name` (`ValidationError`, `TimeoutError`, ...).
    pub fn named(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            message: message.into(),
            suspend: None,
        }
    }

    /// A suspension of `step` with this payload (what [`StepContext::suspend`] returns).
    pub(crate) fn suspension(step: &str, payload: Value) -> Self {
        Self {
            name: SUSPENDED.to_owned(),
            message: format!("step {step} suspended"),
            suspend: Some(Box::new(payload)),
        }
    }

    /// Whether this is a suspension ([`StepContext::suspend`]) rather than a failure.
    pub fn is_suspension(&self) -> bool {
        self.suspend.is_some()
    }

    /// The suspend payload, when this is a suspension.
    pub(crate) fn into_suspend_payload(self) -> Result<Value, StepError> {
        match self.suspend {
            Some(payload) => Ok(*payload),
            None => Err(self),
        }
    }

    /// The kind.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn serialized(&self) -> SerializedError {
        SerializedError::new(&self.name, &self.message)
    }
}

impl From<String> for StepError {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for StepError {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

impl From<AgentError> for StepError {
    fn from(error: AgentError) -> Self {
        Self::named("AgentError", error.to_string())
    }
}

impl From<ToolFailure> for StepError {
    fn from(error: ToolFailure) -> Self {
        Self::named("ToolError", error.to_string())
    }
}

impl From<NotFound> for StepError {
    fn from(error: NotFound) -> Self {
        Self::named("NotFoundError", error.to_string())
    }
}

impl From<StorageError> for StepError {
    fn from(error: StorageError) -> Self {
        Self::named("StorageError", error.to_string())
    }
}

impl From<serde_json::Error> for StepError {
    fn from(error: serde_json::Error) -> Self {
        Self::named("SerializationError", error.to_string())
    }
}

/// The erased function of a step: JSON in, JSON out.
pub(crate) type ExecuteFn =
    dyn Fn(Value, StepContext) -> BoxFuture<'static, Result<Value, StepError>> + Send + Sync;

/// What a step does when it runs.
pub(crate) enum StepKind {
    /// A function given to [`StepBuilder::execute`].
    Function(Box<ExecuteFn>),
    /// A `.map(..)` between steps; `config` says what it maps (for the step graph).
    Mapping {
        execute: Box<ExecuteFn>,
        config: String,
    },
    /// A whole workflow used as a step.
    Workflow(Workflow),
}

pub(crate) struct StepInner {
    pub(crate) id: String,
    pub(crate) description: Option<String>,
    /// The input's schema as generated (with `$defs`): listings and validation.
    pub(crate) input_schema: Value,
    /// What the step may suspend with and be resumed with (their schemas and validators).
    pub(crate) suspension: Suspension,
    /// The output's schema as generated.
    pub(crate) output_schema: Value,
    /// The same schemas with every `$ref` inlined: the adjacent-schema checks.
    pub(crate) input_inlined: Value,
    pub(crate) output_inlined: Value,
    pub(crate) validator: SchemaValidator,
    pub(crate) kind: StepKind,
}

/// A step of a workflow. Cloning is cheap; one step may appear in several workflows.
///
/// ```
/// use mastra_runtime::prelude::*;
/// use mastra_runtime::workflow::{Step, StepContext, StepError};
///
/// #[derive(Deserialize, JsonSchema)]
/// struct City { name: String }
/// #[derive(Serialize, JsonSchema)]
/// struct Forecast { summary: String }
///
/// let step = Step::builder("fetch-weather")
///     .description("Looks up the forecast for a city")
///     .execute(|city: City, _ctx: StepContext| async move {
///         Ok::<_, StepError>(Forecast { summary: format!("Sunny in {}", city.name) })
///     });
/// assert_eq!(step.id(), "fetch-weather");
/// ```
#[derive(Clone)]
pub struct Step {
    pub(crate) inner: Arc<StepInner>,
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Step")
            .field("id", &self.inner.id)
            .field("component", &self.component())
            .finish_non_exhaustive()
    }
}

/// The schemas of what a step suspends with and is resumed with, each with its validator.
#[derive(Default)]
pub(crate) struct Suspension {
    /// The suspend payload's schema, when declared.
    pub(crate) suspend_schema: Option<Value>,
    /// The resume value's schema, when declared.
    pub(crate) resume_schema: Option<Value>,
    pub(crate) suspend_validator: Option<SchemaValidator>,
    pub(crate) resume_validator: Option<SchemaValidator>,
}

impl Suspension {
    fn new(suspend_schema: Option<Value>, resume_schema: Option<Value>) -> Self {
        Self {
            suspend_validator: suspend_schema.clone().map(SchemaValidator::new),
            resume_validator: resume_schema.clone().map(SchemaValidator::new),
            suspend_schema,
            resume_schema,
        }
    }
}

/// Builder for [`Step`]: id and description, the suspend and resume types of a step that can
/// wait for a person, then [`StepBuilder::execute`].
#[derive(Debug, Clone)]
pub struct StepBuilder {
    id: String,
    description: Option<String>,
    suspend_schema: Option<Value>,
    resume_schema: Option<Value>,
}

impl StepBuilder {
    /// Sets what the step does (listed by `GET /api/workflows`).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Declares what the step suspends with ([`StepContext::suspend`]): the payload is checked
    /// against `S`'s schema when the step suspends (a payload that breaks it fails the step),
    /// and `GET /api/workflows/:workflowId` lists the schema as `suspendSchema`.
    pub fn suspend_schema<S: JsonSchema>(mut self) -> Self {
        self.suspend_schema = Some(schema_of::<S>());
        self
    }

    /// Declares what the step is resumed with ([`StepContext::resume_data`]): a resume whose
    /// `resumeData` breaks `R`'s schema is refused (400 with the issues) and the run stays
    /// suspended; the listing shows the schema as `resumeSchema`.
    pub fn resume_schema<R: JsonSchema>(mut self) -> Self {
        self.resume_schema = Some(schema_of::<R>());
        self
    }

    /// Finishes the step with its function. `I` and `O` give the input and output schemas;
    /// the input is validated against `I`'s schema before the function runs.
    pub fn execute<I, O, F, Fut>(self, execute: F) -> Step
    where
        I: DeserializeOwned + JsonSchema + Send + 'static,
        O: Serialize + JsonSchema + 'static,
        F: Fn(I, StepContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, StepError>> + Send + 'static,
    {
        let mut step = Step::from_parts(
            self.id,
            self.description,
            schema_of::<I>(),
            schema_of::<O>(),
            StepKind::Function(erase(execute)),
        );
        let suspension = Suspension::new(self.suspend_schema, self.resume_schema);
        if let Some(inner) = Arc::get_mut(&mut step.inner) {
            inner.suspension = suspension;
        }
        step
    }
}

/// `f` as a step's function: the shared typed erasure, with its failures worded as step errors
/// (an input error names the step). An output nested deeper than [`MAX_JSON_DEPTH`] fails the
/// step: the run's snapshots keep every output, and must read back.
pub(crate) fn erase<I, O, F, Fut>(f: F) -> Box<ExecuteFn>
where
    I: DeserializeOwned + Send + 'static,
    O: Serialize + 'static,
    F: Fn(I, StepContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, StepError>> + Send + 'static,
{
    let erased = schema::erase(f);
    Box::new(move |input: Value, ctx: StepContext| {
        // The context goes to the function; the id (a cheap `Arc` clone) stays to word errors.
        let step = Arc::clone(&ctx.step_id);
        let call = erased(input, ctx);
        Box::pin(async move {
            let output = call.await.map_err(|error| step_error(error, &step))?;
            check_depth(&output, MAX_JSON_DEPTH).map_err(|error| {
                StepError::named("ValidationError", format!("output of step {step}: {error}"))
            })?;
            Ok(output)
        })
    })
}

/// A failure of a step's erased function as the run reports it.
fn step_error(error: CallError<StepError>, step: &str) -> StepError {
    match error {
        // Schema validation already passed when the step runs: a custom `Deserialize` refused.
        CallError::Input(issues) => {
            let detail: Vec<String> = issues.iter().map(ToString::to_string).collect();
            StepError::named(
                "ValidationError",
                format!("invalid input for step {step}: {}", detail.join("; ")),
            )
        }
        CallError::Failed(error) => error,
        CallError::Output(error) => StepError::named(
            "SerializationError",
            format!("step output could not be serialized: {error}"),
        ),
    }
}

impl Step {
    /// Starts describing a step with this id.
    pub fn builder(id: impl Into<String>) -> StepBuilder {
        StepBuilder {
            id: id.into(),
            description: None,
            suspend_schema: None,
            resume_schema: None,
        }
    }

    pub(crate) fn from_parts(
        id: String,
        description: Option<String>,
        input_schema: Value,
        output_schema: Value,
        kind: StepKind,
    ) -> Self {
        Self {
            inner: Arc::new(StepInner {
                id,
                description,
                input_inlined: inline_refs(&input_schema),
                output_inlined: inline_refs(&output_schema),
                validator: SchemaValidator::new(input_schema.clone()),
                input_schema,
                suspension: Suspension::default(),
                output_schema,
                kind,
            }),
        }
    }

    /// The step's id, unique within its workflow.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// What the step does.
    pub fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }

    /// JSON Schema of the input.
    pub fn input_schema(&self) -> &Value {
        &self.inner.input_schema
    }

    /// JSON Schema of the output.
    pub fn output_schema(&self) -> &Value {
        &self.inner.output_schema
    }

    /// JSON Schema of what the step suspends with, when declared.
    pub fn suspend_schema(&self) -> Option<&Value> {
        self.inner.suspension.suspend_schema.as_ref()
    }

    /// JSON Schema of what the step is resumed with, when declared.
    pub fn resume_schema(&self) -> Option<&Value> {
        self.inner.suspension.resume_schema.as_ref()
    }

    /// The step at `path` (`id`, or `outer.inner` inside a nested workflow) of `nodes`.
    pub(crate) fn find<'a>(nodes: &'a [super::builder::Node], path: &str) -> Option<&'a Step> {
        let (head, rest) = match path.split_once('.') {
            Some((head, rest)) => (head, Some(rest)),
            None => (path, None),
        };
        let step = nodes
            .iter()
            .flat_map(super::builder::Node::steps)
            .find(|s| s.id() == head)?;
        match rest {
            None => Some(step),
            Some(rest) => Step::find(step.as_workflow()?.nodes(), rest),
        }
    }

    /// The workflow this step runs, when it is a nested workflow.
    pub fn as_workflow(&self) -> Option<&Workflow> {
        match &self.inner.kind {
            StepKind::Workflow(workflow) => Some(workflow),
            _ => None,
        }
    }

    /// Mastra's `component` of the step: `WORKFLOW` for a nested workflow.
    pub(crate) fn component(&self) -> Option<&'static str> {
        match &self.inner.kind {
            StepKind::Workflow(_) => Some("WORKFLOW"),
            _ => None,
        }
    }

    /// The step's entry in a step graph (Mastra's serialized step flow).
    pub(crate) fn graph_entry(&self) -> Value {
        let inner = &self.inner;
        match &inner.kind {
            StepKind::Function(_) => {
                let mut step = json!({ "id": inner.id });
                if let Some(description) = &inner.description {
                    step["description"] = json!(description);
                }
                json!({ "type": "step", "step": step })
            }
            StepKind::Mapping { config, .. } => {
                json!({ "type": "mapping", "id": inner.id, "mapConfig": config })
            }
            StepKind::Workflow(workflow) => {
                let mut entry = json!({
                    "type": "workflow",
                    "id": inner.id,
                    "workflowId": workflow.id(),
                    "serializedStepFlow": workflow.step_graph(),
                });
                if let Some(description) = &inner.description {
                    entry["description"] = json!(description);
                }
                entry
            }
        }
    }
}

impl From<Workflow> for Step {
    /// A workflow used as a step of another: its id, description and schemas are the step's.
    fn from(workflow: Workflow) -> Self {
        Step::from_parts(
            workflow.id().to_owned(),
            workflow.description().map(str::to_owned),
            workflow.input_schema().clone(),
            workflow.output_schema().clone(),
            StepKind::Workflow(workflow),
        )
    }
}
