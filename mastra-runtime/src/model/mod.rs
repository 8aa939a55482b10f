//! Language models: the provider-neutral [`LanguageModel`] trait, the prompt and event types it
//! speaks, and the providers that implement it over real wire protocols.
//!
//! | `provider/model` string | provider | configuration |
//! |---|---|---|
//! | `openai/<model>` | [`OpenAiCompatible`] (Chat Completions) | `OPENAI_API_KEY`, `OPENAI_BASE_URL` |
//! | `anthropic/<model>` | [`Anthropic`] (Messages) | `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL` |
//! | `mastra/echo` | [`EchoModel`], offline and deterministic | none |
//!
//! ```
//! use mastra_runtime::model::{resolve, LanguageModel};
//! let model = resolve("mastra/echo").unwrap();
//! assert_eq!((model.provider(), model.model_id()), ("mastra", "echo"));
//! assert!(resolve("nope/model").is_err());
//! ```

mod anthropic;
mod echo;
mod http;
mod openai;
mod provider;

use std::{fmt, sync::Arc};

use futures_util::stream::BoxStream;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use anthropic::Anthropic;
pub use echo::{EchoModel, ECHO_TOKEN_DELAY};
pub use http::RetryPolicy;
pub use openai::OpenAiCompatible;

use crate::schema::{check_depth, TooDeep, MAX_JSON_DEPTH};

/// The offline model's `provider/model` name.
pub const ECHO_MODEL: &str = "mastra/echo";

/// One message of a prompt, in the provider-neutral form every provider translates.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelMessage {
    /// System instructions.
    System(String),
    /// What the user said.
    User(String),
    /// What the model answered: text and the tools it asked for.
    Assistant {
        /// The text of the answer (may be empty when it only calls tools).
        text: String,
        /// The tool calls it made.
        tool_calls: Vec<ToolCall>,
    },
    /// Results of the tool calls of the previous assistant message.
    Tool(Vec<ToolOutcome>),
}

/// A tool call asked for by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolCall {
    /// The provider's id for the call; tool results refer to it.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments, parsed from the model's JSON.
    pub args: Value,
}

impl ToolCall {
    /// This call as a model event: [`ModelEvent::ToolCall`], or [`ModelEvent::InvalidToolCall`]
    /// (its arguments kept as JSON text) when they are nested deeper than [`MAX_JSON_DEPTH`].
    pub fn into_event(self) -> ModelEvent {
        match check_depth(&self.args, MAX_JSON_DEPTH) {
            Ok(()) => ModelEvent::ToolCall(self),
            Err(error) => {
                let text = self.args.to_string();
                self.with_args_text(text).refused(error)
            }
        }
    }

    /// The call with its arguments replaced by their JSON text, as a string.
    pub(crate) fn with_args_text(self, text: impl Into<String>) -> ToolCall {
        ToolCall {
            args: Value::String(text.into()),
            ..self
        }
    }

    /// The call refused for arguments nested too deeply.
    pub(crate) fn refused(self, error: TooDeep) -> ModelEvent {
        let error = format!("invalid arguments for tool {}: {error}", self.name);
        ModelEvent::InvalidToolCall { call: self, error }
    }
}

/// The result of running one tool call, sent back to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolOutcome {
    /// The id of the call this answers.
    pub call_id: String,
    /// The tool's name.
    pub name: String,
    /// What the tool returned, or `{"error": "..."}` when it failed.
    pub result: Value,
    /// Whether the tool failed.
    pub is_error: bool,
}

/// A tool offered to the model: its name, what it does and its input's JSON Schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// The name the model calls it by.
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON Schema of its input.
    pub parameters: Value,
}

/// Sampling settings of one request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelSettings {
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// The most tokens the model may produce in one step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

/// One call to a model: the prompt, the tools on offer, settings, and the signal that aborts it.
#[derive(Debug, Clone)]
pub struct ModelRequest {
    /// The prompt.
    pub messages: Vec<ModelMessage>,
    /// The tools the model may call.
    pub tools: Vec<ToolSpec>,
    /// Sampling settings.
    pub settings: ModelSettings,
    /// Fires to drop the upstream request.
    pub abort: CancellationToken,
}

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FinishReason {
    /// A natural end.
    Stop,
    /// The token limit was reached.
    Length,
    /// The model asked for tools.
    ToolCalls,
    /// Content was filtered.
    ContentFilter,
    /// The run failed.
    Error,
    /// Anything else the provider reported.
    Other,
    /// The provider said nothing.
    Unknown,
}

/// Token counts, in Mastra's (AI SDK v5) field names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Tokens in the prompt.
    pub input_tokens: u64,
    /// Tokens produced.
    pub output_tokens: u64,
    /// Both together.
    pub total_tokens: u64,
}

impl Usage {
    /// Usage from prompt and completion counts.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens + output_tokens,
        }
    }

    /// Adds another step's usage.
    pub fn add(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.total_tokens += other.total_tokens;
    }
}

/// What a model stream yields.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelEvent {
    /// A piece of text.
    TextDelta(String),
    /// A complete tool call (streamed argument fragments already joined and parsed).
    ToolCall(ToolCall),
    /// A tool call refused before any tool ran, because its arguments are nested deeper than
    /// [`MAX_JSON_DEPTH`] (they could not be stored and read back): `call.args` holds their
    /// JSON text as a string. The agent answers it with a tool error, as for a tool that
    /// fails, and the run goes on.
    InvalidToolCall {
        /// The call, its arguments as text.
        call: ToolCall,
        /// Why it was refused, naming the limit.
        error: String,
    },
    /// The end of the step.
    Finish {
        /// Why it ended.
        reason: FinishReason,
        /// What it cost.
        usage: Usage,
    },
}

/// The events of one model call.
pub type ModelStream = BoxStream<'static, Result<ModelEvent, ModelError>>;

/// Why a model call failed. Every variant says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The `provider/model` string names no known provider.
    #[error("unknown model provider `{provider}` in `{model}`: use `openai/<model>`, `anthropic/<model>` or `mastra/echo`")]
    UnknownProvider {
        /// The provider part.
        provider: String,
        /// The whole string.
        model: String,
    },
    /// The string has no `provider/` part.
    #[error("model `{0}` must be written `provider/model` (for example `openai/gpt-4o-mini`)")]
    BadModelName(String),
    /// The provider's API key is not configured.
    #[error("{provider} API key is missing: set {env_var}")]
    MissingApiKey {
        /// The provider.
        provider: String,
        /// The variable to set.
        env_var: String,
    },
    /// The provider refused the credentials (401/403).
    #[error("{provider} rejected the API key (HTTP {status}): {message}")]
    Auth {
        /// The provider.
        provider: String,
        /// The upstream status.
        status: u16,
        /// The upstream message.
        message: String,
    },
    /// The provider does not know the model.
    #[error("{provider} does not know model `{model}`: {message}")]
    UnknownModel {
        /// The provider.
        provider: String,
        /// The model asked for.
        model: String,
        /// The upstream message.
        message: String,
    },
    /// Still rate limited or failing after every retry.
    #[error("{provider} answered HTTP {status} after {attempts} attempt(s): {message}")]
    Upstream {
        /// The provider.
        provider: String,
        /// The last upstream status.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// The upstream message.
        message: String,
    },
    /// The provider's answer broke its own protocol.
    #[error("{provider} sent a malformed stream: {detail}")]
    Malformed {
        /// The provider.
        provider: String,
        /// What was wrong.
        detail: String,
    },
    /// The provider reported an error inside the stream.
    #[error("{provider} reported an error: {message}")]
    Provider {
        /// The provider.
        provider: String,
        /// Its message.
        message: String,
    },
    /// The connection failed or stalled.
    #[error("could not reach {provider}: {message}")]
    Transport {
        /// The provider.
        provider: String,
        /// What happened.
        message: String,
    },
    /// The abort signal fired.
    #[error("the model call was aborted")]
    Aborted,
}

/// A language model: one streaming call per step of an agent run.
#[async_trait::async_trait]
pub trait LanguageModel: Send + Sync + fmt::Debug + 'static {
    /// The provider's name (`openai`, `anthropic`, `mastra`).
    fn provider(&self) -> &str;

    /// The model's id at that provider.
    fn model_id(&self) -> &str;

    /// Starts one call. Errors before the first event (auth, unknown model, retries used up)
    /// come back here; errors mid-stream come as stream items.
    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError>;
}

/// Resolves Mastra's `provider/model` string, reading the provider's environment variables.
///
/// A missing API key is not an error here: the model fails each call with
/// [`ModelError::MissingApiKey`], so an application can start with agents it does not use.
pub fn resolve(name: &str) -> Result<Arc<dyn LanguageModel>, ModelError> {
    let (provider, model) = name
        .split_once('/')
        .filter(|(p, m)| !p.is_empty() && !m.is_empty())
        .ok_or_else(|| ModelError::BadModelName(name.to_owned()))?;
    Ok(match provider {
        "openai" => Arc::new(OpenAiCompatible::from_env(model)),
        "anthropic" => Arc::new(Anthropic::from_env(model)),
        "mastra" if model == "echo" => Arc::new(EchoModel::new()),
        _ => {
            return Err(ModelError::UnknownProvider {
                provider: provider.to_owned(),
                model: name.to_owned(),
            })
        }
    })
}

/// Reads a non-empty environment variable.
pub(crate) fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
