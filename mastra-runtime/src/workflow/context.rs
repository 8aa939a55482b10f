//! What a step's function receives besides its input: [`StepContext`] (the run, the request
//! context, the application) and [`RunState`] (values shared by the steps of one run).

use std::{
    fmt,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::{exec::RunCore, StepError, WorkflowHost};
use crate::{
    agent::{Agent, GenerateOptions},
    route::RequestContext,
    tool::{Tool, ToolContext},
};

/// Values shared by every step of one run (Mastra's workflow state). Seeded from
/// `initialState` when the run starts, persisted in every snapshot (as `value`) and returned
/// with the result. Cloning is cheap; every clone is the same state.
///
/// ```
/// use mastra_runtime::workflow::RunState;
/// let state = RunState::default();
/// state.set("visits", 1);
/// assert_eq!(state.get_as::<u32>("visits"), Some(1));
/// ```
#[derive(Clone, Default)]
pub struct RunState {
    values: Arc<Mutex<Map<String, Value>>>,
}

impl fmt::Debug for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.lock().iter()).finish()
    }
}

impl RunState {
    pub(crate) fn from_map(values: Map<String, Value>) -> Self {
        Self {
            values: Arc::new(Mutex::new(values)),
        }
    }

    // A poisoned lock only means a step panicked while holding a plain map; it is still sound.
    fn lock(&self) -> MutexGuard<'_, Map<String, Value>> {
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets `key` to a JSON value.
    pub fn set(&self, key: impl Into<String>, value: impl Into<Value>) {
        self.lock().insert(key.into(), value.into());
    }

    /// Sets `key` to any serializable value.
    pub fn set_serialized<T: Serialize + ?Sized>(
        &self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(value)?;
        self.set(key, value);
        Ok(())
    }

    /// The JSON value under `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.lock().get(key).cloned()
    }

    /// The value under `key` as `T`; `None` if absent or of another shape.
    pub fn get_as<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.get(key).and_then(|v| serde_json::from_value(v).ok())
    }

    /// Removes `key`, returning its value.
    pub fn remove(&self, key: &str) -> Option<Value> {
        self.lock().remove(key)
    }

    /// Every entry.
    pub fn to_map(&self) -> Map<String, Value> {
        self.lock().clone()
    }
}

/// What a step's function receives besides its input: the run (its id, input and earlier
/// results), the request context, the application (to call agents and tools), the run's
/// state, and a signal that fires when the step is cancelled.
#[derive(Clone)]
pub struct StepContext {
    pub(crate) core: Arc<RunCore>,
    pub(crate) step_id: Arc<str>,
    pub(crate) abort: CancellationToken,
    /// What the step is resumed with, when this execution is a resume of it.
    pub(crate) resume: Option<Arc<Value>>,
}

impl fmt::Debug for StepContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepContext")
            .field("run_id", &self.core.run_id)
            .field("step_id", &self.step_id)
            .finish_non_exhaustive()
    }
}

impl StepContext {
    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.core.run_id
    }

    /// The id of the workflow being run (the outermost one, for a nested workflow's steps).
    pub fn workflow_id(&self) -> &str {
        self.core.workflow.id()
    }

    /// This step's id in the run (`outer.inner` inside a nested workflow).
    pub fn step_id(&self) -> &str {
        &self.step_id
    }

    /// Who the run belongs to, when the client said.
    pub fn resource_id(&self) -> Option<&str> {
        self.core.resource_id.as_deref()
    }

    /// The request context the run was started with (values set by middleware, auth, or the
    /// client's `requestContext`).
    pub fn request_context(&self) -> &RequestContext {
        &self.core.request_context
    }

    /// The run's shared state.
    pub fn state(&self) -> &RunState {
        &self.core.state
    }

    /// The agent registered under `id`.
    pub fn agent(&self, id: &str) -> Result<Agent, StepError> {
        self.app()?.agent(id).map_err(Into::into)
    }

    /// The tool registered under `id`.
    pub fn tool(&self, id: &str) -> Result<Tool, StepError> {
        self.app()?.tool(id).map_err(Into::into)
    }

    fn app(&self) -> Result<&dyn WorkflowHost, StepError> {
        self.core.host.as_deref().ok_or_else(|| {
            StepError::new(format!(
                "step {} needs the application, but workflow {} is not registered with Mastra",
                self.step_id,
                self.workflow_id()
            ))
        })
    }

    /// Options for an agent call made by this step: the run's request context, the
    /// application, and this step's abort signal (so a cancelled step stops its model call).
    pub fn generate_options(&self) -> GenerateOptions {
        GenerateOptions::new()
            .request_context(self.core.request_context.clone())
            .abort_signal(self.abort.clone())
            .app(self.core.app.clone())
    }

    /// A context for a tool called by this step, sharing its request context and abort signal.
    pub fn tool_context(&self) -> ToolContext {
        ToolContext::new(self.core.request_context.clone())
            .with_abort(self.abort.clone())
            .with_app(self.core.app.clone())
    }

    /// The workflow's input, as `T`.
    pub fn init_data<T: DeserializeOwned>(&self) -> Result<T, StepError> {
        serde_json::from_value(self.core.input.clone()).map_err(Into::into)
    }

    /// The output of an earlier step of this run, as `T` (steps of a nested workflow are
    /// named `outer.inner`). Fails when that step has not succeeded.
    pub fn step_output<T: DeserializeOwned>(&self, step_id: &str) -> Result<T, StepError> {
        let output = self.core.step_output(step_id).ok_or_else(|| {
            StepError::new(format!(
                "step {} has no output in run {}",
                step_id, self.core.run_id
            ))
        })?;
        serde_json::from_value(output).map_err(Into::into)
    }

    /// Suspends the step: the run stops here with status `suspended`, this step's record
    /// keeps `payload` as its `suspendPayload`, and the run waits to be resumed (`resume`,
    /// `resume-async`, `resume-stream`), when the step runs again with
    /// [`StepContext::resume_data`]. Return what it gives (it is always an `Err`):
    ///
    /// ```
    /// use mastra_runtime::prelude::*;
    /// use mastra_runtime::workflow::{Step, StepContext, StepError};
    ///
    /// #[derive(Serialize, Deserialize, JsonSchema)]
    /// struct Request { amount: u32 }
    /// #[derive(Serialize, Deserialize, JsonSchema)]
    /// struct Reason { reason: String }
    /// #[derive(Serialize, Deserialize, JsonSchema)]
    /// struct Answer { approved: bool }
    /// #[derive(Serialize, Deserialize, JsonSchema)]
    /// struct Decision { paid: bool }
    ///
    /// let step = Step::builder("approve")
    ///     .suspend_schema::<Reason>()
    ///     .resume_schema::<Answer>()
    ///     .execute(|r: Request, ctx: StepContext| async move {
    ///         match ctx.resume_data::<Answer>()? {
    ///             Some(answer) => Ok(Decision { paid: answer.approved }),
    ///             None => ctx.suspend(Reason { reason: format!("pay {}?", r.amount) }),
    ///         }
    ///     });
    /// assert!(step.resume_schema().is_some());
    /// ```
    ///
    /// A payload that cannot be serialized, or that breaks the step's declared suspend schema,
    /// fails the step instead.
    pub fn suspend<T>(&self, payload: impl Serialize) -> Result<T, StepError> {
        let payload = serde_json::to_value(payload)?;
        Err(StepError::suspension(&self.step_id, payload))
    }

    /// What the step was resumed with, as `T`: `None` the first time the step runs, the
    /// client's `resumeData` (already checked against the step's resume schema) when it runs
    /// again after [`StepContext::suspend`].
    pub fn resume_data<T: DeserializeOwned>(&self) -> Result<Option<T>, StepError> {
        match &self.resume {
            None => Ok(None),
            Some(data) => T::deserialize(data.as_ref()).map(Some).map_err(|error| {
                StepError::named(
                    "ValidationError",
                    format!("resume data of step {}: {error}", self.step_id),
                )
            }),
        }
    }

    /// Whether this execution of the step is a resume.
    pub fn is_resumed(&self) -> bool {
        self.resume.is_some()
    }

    /// Fires when the step is cancelled (the run was cancelled, or a step running next to it
    /// failed). The step's future is also dropped then; the signal is for work it handed
    /// elsewhere (an agent's model call, a tool).
    pub fn abort_signal(&self) -> &CancellationToken {
        &self.abort
    }
}
