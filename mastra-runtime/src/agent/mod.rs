//! Agents: a model with instructions, tools and memory, run with [`Agent::generate`] or
//! [`Agent::stream`].
//!
//! ```
//! use mastra_runtime::agent::{Agent, GenerateOptions};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let agent = Agent::builder("helper")
//!     .instructions("You help.")
//!     .model("mastra/echo")
//!     .build();
//! let result = agent.generate("Hello", GenerateOptions::new()).await.unwrap();
//! assert_eq!(result.text, "You said: Hello");
//! # });
//! ```

mod approval;
mod chunk;
mod listing;
mod options;
mod output;
mod run;
mod run_state;
mod ui_stream;

use std::{
    collections::BTreeMap,
    fmt,
    sync::{Arc, OnceLock},
};

pub use approval::{
    SuspendedRun, SuspendedRunFilter, SuspendedToolCall, ToolApprovalRequest,
    APPROVAL_RESUME_SCHEMA, NOT_APPROVED,
};
pub use chunk::{Chunk, ChunkType, CHUNK_FROM_AGENT};
pub use listing::AgentSummary;
pub use options::{
    AgentInput, DefaultOptions, GenerateOptions, InputContent, InputMessage, InputPart,
    MemoryOptions,
};
pub use output::{AgentResult, ModelOutput, StepResult};
pub use ui_stream::{UiMessageChunk, UI_MESSAGE_STREAM_HEADER, UI_MESSAGE_STREAM_VERSION};

use crate::{
    error::ApiError,
    memory::{check_id, Memory, Storage, StorageError},
    model::{self, Anthropic, EchoModel, LanguageModel, ModelError, OpenAiCompatible},
    tool::Tool,
};

/// Most model calls in one run when neither the agent nor the call says: Mastra's default.
pub const DEFAULT_MAX_STEPS: u32 = 5;

/// Request-context key whose value (set by middleware) overrides the run's memory thread.
pub const THREAD_ID_KEY: &str = "mastra__threadId";

/// Request-context key whose value (set by middleware) overrides the run's memory resource.
pub const RESOURCE_ID_KEY: &str = "mastra__resourceId";

/// Why a run failed or could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    /// The model call failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Memory could not be read or saved.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The agent has no model.
    #[error("agent {0} has no model: give it one with `.model(\"provider/model\")`")]
    NoModel(String),
    /// The agent has memory but nowhere to keep it.
    #[error(
        "agent {0} has memory but no storage: register it with Mastra or give its Memory a storage"
    )]
    NoStorage(String),
    /// The input cannot be run.
    #[error("{0}")]
    InvalidInput(String),
    /// The abort signal fired; nothing was saved.
    #[error("the agent run was aborted")]
    Aborted,
    /// The run stopped for a reason outside it (a panic in a tool, a lost task).
    #[error("{0}")]
    Internal(String),
    /// A decision named a run or a tool call that does not wait for approval.
    #[error("{0}")]
    UnknownToolCall(String),
    /// A decision named a tool call that was already approved or declined.
    #[error("{0}")]
    AlreadyDecided(String),
}

impl AgentError {
    /// A short name for the error kind, sent as `payload.error.name` in `error` chunks.
    pub fn name(&self) -> &'static str {
        match self {
            AgentError::Model(_) => "ModelError",
            AgentError::Storage(_) => "StorageError",
            AgentError::NoModel(_) | AgentError::NoStorage(_) => "ConfigurationError",
            AgentError::InvalidInput(_) => "InvalidInputError",
            AgentError::Aborted => "AbortError",
            AgentError::Internal(_) => "Error",
            AgentError::UnknownToolCall(_) => "NotFoundError",
            AgentError::AlreadyDecided(_) => "ConflictError",
        }
    }
}

impl From<AgentError> for ApiError {
    fn from(error: AgentError) -> Self {
        use actix_web::http::StatusCode;
        let message = error.to_string();
        match &error {
            AgentError::InvalidInput(_) => ApiError::bad_request(message),
            AgentError::UnknownToolCall(_) => ApiError::not_found(message),
            AgentError::AlreadyDecided(_) => ApiError::conflict(message),
            AgentError::Model(ModelError::Aborted) | AgentError::Aborted => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
            }
            AgentError::Model(
                ModelError::MissingApiKey { .. }
                | ModelError::UnknownProvider { .. }
                | ModelError::BadModelName(_),
            )
            | AgentError::NoModel(_)
            | AgentError::NoStorage(_)
            | AgentError::Internal(_) => ApiError::internal(message),
            AgentError::Model(_) => ApiError::new(StatusCode::BAD_GATEWAY, message),
            AgentError::Storage(e) => ApiError::from(e.clone()),
        }
    }
}

/// How an agent's model is given: Mastra's `provider/model` string or a provider value.
#[derive(Debug, Clone)]
pub enum ModelChoice {
    /// `openai/gpt-4o-mini`, `anthropic/claude-...`, `mastra/echo`.
    Name(String),
    /// A configured provider.
    Provider(Arc<dyn LanguageModel>),
}

impl From<&str> for ModelChoice {
    fn from(name: &str) -> Self {
        ModelChoice::Name(name.to_owned())
    }
}

impl From<String> for ModelChoice {
    fn from(name: String) -> Self {
        ModelChoice::Name(name)
    }
}

impl From<Arc<dyn LanguageModel>> for ModelChoice {
    fn from(model: Arc<dyn LanguageModel>) -> Self {
        ModelChoice::Provider(model)
    }
}

macro_rules! provider_choice {
    ($($ty:ty),*) => {$(
        impl From<$ty> for ModelChoice {
            fn from(model: $ty) -> Self {
                ModelChoice::Provider(Arc::new(model))
            }
        }
    )*};
}
provider_choice!(OpenAiCompatible, Anthropic, EchoModel);

struct AgentInner {
    id: String,
    name: String,
    description: Option<String>,
    instructions: String,
    model_name: String,
    model: Result<Arc<dyn LanguageModel>, AgentError>,
    tools: BTreeMap<String, Tool>,
    memory: Option<Memory>,
    defaults: DefaultOptions,
    app_storage: OnceLock<Arc<dyn Storage>>,
    /// Where suspended runs are kept when the agent has no store at all (an agent used
    /// outside an application): in memory, for this process only.
    #[cfg(feature = "sqlite")]
    local_runs: OnceLock<Arc<dyn Storage>>,
}

/// A registered agent. Cloning is cheap.
///
/// ```
/// use mastra_runtime::Agent;
/// let agent = Agent::builder("my-agent").instructions("You help.").model("openai/gpt-4o-mini").build();
/// assert_eq!(agent.id(), "my-agent");
/// assert_eq!(agent.model(), "openai/gpt-4o-mini");
/// ```
#[derive(Clone)]
pub struct Agent {
    inner: Arc<AgentInner>,
}

impl fmt::Debug for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("id", &self.inner.id)
            .field("model", &self.inner.model_name)
            .field("tools", &self.inner.tools.keys().collect::<Vec<_>>())
            .field("memory", &self.inner.memory.is_some())
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// Starts describing an agent with the given id.
    pub fn builder(id: impl Into<String>) -> AgentBuilder {
        let id = id.into();
        AgentBuilder {
            name: id.clone(),
            id,
            description: None,
            instructions: String::new(),
            model: None,
            tools: BTreeMap::new(),
            memory: None,
            defaults: DefaultOptions::default(),
        }
    }

    /// The id the agent is registered under.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The display name (the id unless set).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The description, if any.
    pub fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }

    /// The system instructions.
    pub fn instructions(&self) -> &str {
        &self.inner.instructions
    }

    /// The model as `provider/model`.
    pub fn model(&self) -> &str {
        &self.inner.model_name
    }

    /// The resolved model, or why there is none.
    pub fn language_model(&self) -> Result<Arc<dyn LanguageModel>, AgentError> {
        self.inner.model.clone()
    }

    /// The tools, by the key they were registered under.
    pub fn tools(&self) -> &BTreeMap<String, Tool> {
        &self.inner.tools
    }

    /// The memory configuration, if the agent has memory.
    pub fn memory(&self) -> Option<&Memory> {
        self.inner.memory.as_ref()
    }

    /// The defaults applied to every run.
    pub fn default_options(&self) -> &DefaultOptions {
        &self.inner.defaults
    }

    /// The store the agent's memory uses: its own, else the application's.
    pub fn storage(&self) -> Option<Arc<dyn Storage>> {
        let memory = self.inner.memory.as_ref()?;
        memory
            .own_storage()
            .cloned()
            .or_else(|| self.inner.app_storage.get().cloned())
    }

    /// Where runs waiting for a tool call's approval are kept: the memory's own store, else
    /// the application's, else (an agent outside an application) a private in-memory SQLite
    /// store. Built without SQLite (the `sqlite` feature), such an agent has none: an error.
    pub fn run_storage(&self) -> Result<Arc<dyn Storage>, StorageError> {
        let own = self.inner.memory.as_ref().and_then(Memory::own_storage);
        match own.or_else(|| self.inner.app_storage.get()) {
            Some(storage) => Ok(Arc::clone(storage)),
            #[cfg(feature = "sqlite")]
            None => Ok(Arc::clone(self.inner.local_runs.get_or_init(|| {
                Arc::new(crate::memory::SqliteStorage::in_memory())
            }))),
            #[cfg(not(feature = "sqlite"))]
            None => Err(StorageError::Open {
                location: format!("agent {}", self.id()),
                message: "an agent outside an application keeps runs waiting for approval in \
                          SQLite, which this build lacks: give its Memory a store"
                    .to_owned(),
            }),
        }
    }

    /// Gives the agent the application's store (called when the application is built).
    pub(crate) fn attach_storage(&self, storage: &Arc<dyn Storage>) {
        let _ = self.inner.app_storage.set(Arc::clone(storage));
    }

    /// Runs to completion and returns the result.
    pub async fn generate(
        &self,
        input: impl Into<AgentInput>,
        options: GenerateOptions,
    ) -> Result<AgentResult, AgentError> {
        self.stream(input, options).await?.consume_stream().await
    }

    /// Starts a streaming run. Problems found before the model is called (no model, memory
    /// without storage, empty input) are returned here; everything later arrives in the stream.
    pub async fn stream(
        &self,
        input: impl Into<AgentInput>,
        options: GenerateOptions,
    ) -> Result<ModelOutput, AgentError> {
        let input = input.into().into_messages();
        if input.is_empty() {
            return Err(AgentError::InvalidInput(
                "messages must hold at least one message".to_owned(),
            ));
        }
        self.language_model()?;
        let ctx = options.request_context;
        let memory = match self.inner.memory.as_ref() {
            Some(memory) => {
                let from_ctx = |key: &str| ctx.get_as::<String>(key);
                let thread = from_ctx(THREAD_ID_KEY)
                    .or_else(|| options.memory.as_ref().map(|m| m.thread.clone()));
                let resource = from_ctx(RESOURCE_ID_KEY)
                    .or_else(|| options.memory.as_ref().map(|m| m.resource.clone()));
                match (thread, resource) {
                    (Some(thread), Some(resource)) => {
                        // Refused here, before the stream starts, so the route answers 400
                        // instead of a stream that ends in an error chunk.
                        for (field, id) in [("threadId", &thread), ("resourceId", &resource)] {
                            check_id(field, id)
                                .map_err(|error| AgentError::InvalidInput(error.to_string()))?;
                        }
                        Some(run::MemoryPlan {
                            storage: self
                                .storage()
                                .ok_or_else(|| AgentError::NoStorage(self.id().to_owned()))?,
                            thread,
                            resource,
                            last_messages: memory.recent_limit(),
                        })
                    }
                    (Some(_), None) | (None, Some(_)) => {
                        return Err(AgentError::InvalidInput(
                            "memory needs both a thread and a resource".to_owned(),
                        ))
                    }
                    (None, None) => None,
                }
            }
            None => None,
        };
        let defaults = &self.inner.defaults;
        let settings = crate::model::ModelSettings {
            temperature: options
                .settings
                .temperature
                .or(defaults.model_settings.temperature),
            max_tokens: options
                .settings
                .max_tokens
                .or(defaults.model_settings.max_tokens),
        };
        // A child token: aborting the output must not cancel the caller's own signal.
        let abort = options.abort.map(|t| t.child_token()).unwrap_or_default();
        let plan = run::RunPlan {
            agent: self.clone(),
            input,
            memory,
            max_steps: options
                .max_steps
                .or(defaults.max_steps)
                .unwrap_or(DEFAULT_MAX_STEPS),
            settings,
            request_context: ctx,
            abort: abort.clone(),
            app: options.app,
        };
        let run_id = options
            .run_id
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Ok(ModelOutput::new(
            run_id,
            self.id().to_owned(),
            abort,
            |rec| run::run(plan, rec),
        ))
    }

    /// The agent as `GET /api/agents/:agentId` describes it.
    pub fn summary(&self) -> AgentSummary {
        AgentSummary::of(self)
    }
}

/// Builder for [`Agent`].
#[derive(Debug, Clone)]
pub struct AgentBuilder {
    id: String,
    name: String,
    description: Option<String>,
    instructions: String,
    model: Option<ModelChoice>,
    tools: BTreeMap<String, Tool>,
    memory: Option<Memory>,
    defaults: DefaultOptions,
}

impl AgentBuilder {
    /// Sets the display name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the system instructions.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = instructions.into();
        self
    }

    /// Sets the model: `"provider/model"` (for example `openai/gpt-4o-mini`) or a provider
    /// value such as [`OpenAiCompatible`].
    pub fn model(mut self, model: impl Into<ModelChoice>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Adds a tool under its own id.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.insert(tool.id().to_owned(), tool);
        self
    }

    /// Adds tools under their own ids.
    pub fn tools(mut self, tools: impl IntoIterator<Item = Tool>) -> Self {
        for tool in tools {
            self = self.tool(tool);
        }
        self
    }

    /// Gives the agent memory.
    pub fn memory(mut self, memory: Memory) -> Self {
        self.memory = Some(memory);
        self
    }

    /// Sets the default sampling temperature.
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.defaults.model_settings.temperature = Some(temperature);
        self
    }

    /// Sets the default most tokens per step.
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.defaults.model_settings.max_tokens = Some(max_tokens);
        self
    }

    /// Sets the default most model calls per run ([`DEFAULT_MAX_STEPS`] otherwise).
    pub fn max_steps(mut self, steps: u32) -> Self {
        self.defaults.max_steps = Some(steps);
        self
    }

    /// Finishes the agent. A model string naming no known provider is reported when the
    /// application is built, and by every run.
    pub fn build(self) -> Agent {
        let (model_name, model) = match self.model {
            None => (String::new(), Err(AgentError::NoModel(self.id.clone()))),
            Some(ModelChoice::Name(name)) => {
                let model = model::resolve(&name).map_err(AgentError::Model);
                (name, model)
            }
            Some(ModelChoice::Provider(model)) => (
                format!("{}/{}", model.provider(), model.model_id()),
                Ok(model),
            ),
        };
        Agent {
            inner: Arc::new(AgentInner {
                id: self.id,
                name: self.name,
                description: self.description,
                instructions: self.instructions,
                model_name,
                model,
                tools: self.tools,
                memory: self.memory,
                defaults: self.defaults,
                app_storage: OnceLock::new(),
                #[cfg(feature = "sqlite")]
                local_runs: OnceLock::new(),
            }),
        }
    }
}

impl From<AgentBuilder> for Agent {
    fn from(builder: AgentBuilder) -> Self {
        builder.build()
    }
}
