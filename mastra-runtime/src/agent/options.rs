//! What a caller passes to `generate` and `stream`: the input messages and the options.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::{
    app::AppHandle,
    memory::MessageRole,
    model::{ModelMessage, ModelSettings},
    route::RequestContext,
};

/// One input message: who says it and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InputMessage {
    /// `user`, `assistant` or `system`.
    pub role: MessageRole,
    /// A string, or a list of text parts.
    pub content: InputContent,
}

/// The content of an input message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum InputContent {
    /// Plain text.
    Text(String),
    /// Text parts (`[{"type": "text", "text": "..."}]`), joined in order.
    Parts(Vec<InputPart>),
}

/// One part of an input message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum InputPart {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
}

impl InputMessage {
    /// A user message.
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: MessageRole::User,
            content: InputContent::Text(text.into()),
        }
    }

    /// The text of the message.
    pub fn text(&self) -> String {
        match &self.content {
            InputContent::Text(text) => text.clone(),
            InputContent::Parts(parts) => parts
                .iter()
                .map(|InputPart::Text { text }| text.as_str())
                .collect(),
        }
    }

    pub(crate) fn to_model(&self) -> ModelMessage {
        let text = self.text();
        match self.role {
            MessageRole::User => ModelMessage::User(text),
            MessageRole::Assistant => ModelMessage::Assistant {
                text,
                tool_calls: Vec::new(),
            },
            MessageRole::System => ModelMessage::System(text),
        }
    }
}

/// Mastra's `messages`: one string, or a list of messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AgentInput {
    /// One user message.
    Text(String),
    /// Several messages.
    Messages(Vec<InputMessage>),
}

impl AgentInput {
    /// The input as messages.
    pub fn into_messages(self) -> Vec<InputMessage> {
        match self {
            AgentInput::Text(text) => vec![InputMessage::user(text)],
            AgentInput::Messages(messages) => messages,
        }
    }
}

impl From<&str> for AgentInput {
    fn from(text: &str) -> Self {
        AgentInput::Text(text.to_owned())
    }
}

impl From<String> for AgentInput {
    fn from(text: String) -> Self {
        AgentInput::Text(text)
    }
}

impl From<Vec<InputMessage>> for AgentInput {
    fn from(messages: Vec<InputMessage>) -> Self {
        AgentInput::Messages(messages)
    }
}

/// Which conversation a run belongs to: its thread and the thread's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryOptions {
    /// The thread id (created on first save when it does not exist).
    pub thread: String,
    /// The resource (user, account) owning the thread.
    pub resource: String,
}

/// Options of one `generate` or `stream` call. Unset values fall back to the agent's defaults.
///
/// ```
/// use mastra_runtime::agent::GenerateOptions;
/// use tokio_util::sync::CancellationToken;
/// let abort = CancellationToken::new();
/// let options = GenerateOptions::new()
///     .memory("thread-1", "user-42")
///     .max_steps(3)
///     .abort_signal(abort.clone());
/// assert_eq!(options.memory_options().unwrap().thread, "thread-1");
/// ```
#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    pub(crate) memory: Option<MemoryOptions>,
    pub(crate) max_steps: Option<u32>,
    pub(crate) settings: ModelSettings,
    pub(crate) request_context: RequestContext,
    pub(crate) abort: Option<CancellationToken>,
    pub(crate) run_id: Option<String>,
    /// The application tools see through their context (`GenerateOptions::mastra` sets it).
    pub(crate) app: Option<AppHandle>,
}

impl GenerateOptions {
    /// No options: the agent's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads and saves the conversation `thread` owned by `resource`.
    pub fn memory(mut self, thread: impl Into<String>, resource: impl Into<String>) -> Self {
        self.memory = Some(MemoryOptions {
            thread: thread.into(),
            resource: resource.into(),
        });
        self
    }

    /// Sets the most model calls the tool loop makes.
    pub fn max_steps(mut self, steps: u32) -> Self {
        self.max_steps = Some(steps);
        self
    }

    /// Sets the sampling temperature.
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.settings.temperature = Some(temperature);
        self
    }

    /// Sets the most tokens per step.
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.settings.max_tokens = Some(max_tokens);
        self
    }

    /// Sets the request context tools receive. `mastra__threadId` and `mastra__resourceId`
    /// in it (set by middleware) override [`GenerateOptions::memory`].
    pub fn request_context(mut self, context: RequestContext) -> Self {
        self.request_context = context;
        self
    }

    /// Sets the signal that aborts the run: the model call is dropped and nothing is saved.
    pub fn abort_signal(mut self, abort: CancellationToken) -> Self {
        self.abort = Some(abort);
        self
    }

    /// Sets the run id (a fresh UUID otherwise).
    pub fn run_id(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }

    /// Sets the application, as the layers below the facade carry it.
    pub(crate) fn app(mut self, app: Option<AppHandle>) -> Self {
        self.app = app;
        self
    }

    /// The memory options, if set.
    pub fn memory_options(&self) -> Option<&MemoryOptions> {
        self.memory.as_ref()
    }
}

/// The defaults an agent applies to every run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefaultOptions {
    /// Most model calls per run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u32>,
    /// Sampling settings.
    #[serde(default)]
    pub model_settings: ModelSettings,
}
