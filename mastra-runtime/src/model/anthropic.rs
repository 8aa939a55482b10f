//! Anthropic Messages, streamed, with tool use.

use std::{collections::BTreeMap, time::Duration};

use eventsource_stream::Event;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    env_var,
    http::{RetryPolicy, SseDecoder, Transport},
    FinishReason, LanguageModel, ModelError, ModelEvent, ModelMessage, ModelRequest, ModelStream,
    ToolCall, Usage,
};

/// Anthropic's API root (as the AI SDK spells it, `/v1` included), used when
/// `ANTHROPIC_BASE_URL` is not set.
pub const ANTHROPIC_DEFAULT_BASE_URL: &str = "https://api.anthropic.com/v1";

/// The `anthropic-version` header the Messages API requires.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// `max_tokens` sent when the agent sets none: the Messages API requires one. 4096 is the
/// largest output every current Claude model accepts.
pub const ANTHROPIC_DEFAULT_MAX_TOKENS: u32 = 4096;

/// A Claude model behind `POST {base}/messages`.
///
/// ```
/// use mastra_runtime::model::{Anthropic, LanguageModel};
/// let model = Anthropic::new("claude-3-5-haiku-latest").api_key("sk-ant-...");
/// assert_eq!(model.provider(), "anthropic");
/// ```
#[derive(Debug, Clone)]
pub struct Anthropic {
    model: String,
    base_url: String,
    api_key: Option<String>,
    transport: Transport,
}

impl Anthropic {
    /// `model` at Anthropic, with no key yet.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            base_url: ANTHROPIC_DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            transport: Transport::new("anthropic"),
        }
    }

    /// `model` with `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL` from the environment.
    pub fn from_env(model: impl Into<String>) -> Self {
        let mut this = Self::new(model);
        this.api_key = env_var("ANTHROPIC_API_KEY");
        if let Some(base) = env_var("ANTHROPIC_BASE_URL") {
            this = this.base_url(base);
        }
        this
    }

    /// Sets the API root (everything before `/messages`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Sets the API key sent as `x-api-key`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets how 429, 529 and other 5xx answers are retried.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.transport.retry = policy;
        self
    }

    /// Sets the longest silence tolerated between two reads of the answer.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.transport.set_read_timeout(timeout);
        self
    }

    fn body(&self, request: &ModelRequest) -> Value {
        let mut system = Vec::new();
        let mut messages: Vec<Value> = Vec::new();
        for message in &request.messages {
            let (role, blocks) = match message {
                ModelMessage::System(text) => {
                    system.push(text.clone());
                    continue;
                }
                ModelMessage::User(text) => ("user", vec![json!({ "type": "text", "text": text })]),
                ModelMessage::Assistant { text, tool_calls } => {
                    let mut blocks = Vec::new();
                    if !text.is_empty() {
                        blocks.push(json!({ "type": "text", "text": text }));
                    }
                    blocks.extend(tool_calls.iter().map(|c| {
                        json!({ "type": "tool_use", "id": c.id, "name": c.name, "input": c.args })
                    }));
                    ("assistant", blocks)
                }
                ModelMessage::Tool(results) => (
                    "user",
                    results
                        .iter()
                        .map(|r| {
                            json!({
                                "type": "tool_result",
                                "tool_use_id": r.call_id,
                                "content": r.result.to_string(),
                                "is_error": r.is_error,
                            })
                        })
                        .collect(),
                ),
            };
            if blocks.is_empty() {
                continue;
            }
            // The API wants roles to alternate: merge consecutive messages of one role.
            match messages.last_mut() {
                Some(last) if last["role"] == role => {
                    if let Some(content) = last["content"].as_array_mut() {
                        content.extend(blocks);
                    }
                }
                _ => messages.push(json!({ "role": role, "content": blocks })),
            }
        }
        let mut body = json!({
            "model": self.model,
            "messages": messages,
            "max_tokens": request.settings.max_tokens.unwrap_or(ANTHROPIC_DEFAULT_MAX_TOKENS),
            "stream": true,
        });
        if !system.is_empty() {
            body["system"] = json!(system.join("\n\n"));
        }
        if let Some(t) = request.settings.temperature {
            body["temperature"] = json!(t);
        }
        if !request.tools.is_empty() {
            body["tools"] = request
                .tools
                .iter()
                .map(|t| {
                    json!({ "name": t.name, "description": t.description, "input_schema": t.parameters })
                })
                .collect();
        }
        body
    }
}

#[async_trait::async_trait]
impl LanguageModel for Anthropic {
    fn provider(&self) -> &str {
        "anthropic"
    }

    fn model_id(&self) -> &str {
        &self.model
    }

    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError> {
        let key = self
            .api_key
            .clone()
            .ok_or_else(|| ModelError::MissingApiKey {
                provider: "Anthropic".to_owned(),
                env_var: "ANTHROPIC_API_KEY".to_owned(),
            })?;
        let body = self.body(&request);
        let url = format!("{}/messages", self.base_url);
        let response = self
            .transport
            .send(&self.model, || {
                self.transport
                    .client
                    .post(&url)
                    .header("x-api-key", &key)
                    .header("anthropic-version", ANTHROPIC_VERSION)
                    .header("accept", "text/event-stream")
                    .json(&body)
            })
            .await?;
        Ok(self.transport.decode(response, Decoder::default()))
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireEvent {
    MessageStart {
        message: WireMessage,
    },
    ContentBlockStart {
        index: usize,
        content_block: WireBlock,
    },
    ContentBlockDelta {
        index: usize,
        delta: WireDelta,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        #[serde(default)]
        delta: WireMessageDelta,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Ping,
    Error {
        error: Value,
    },
}

#[derive(Deserialize)]
struct WireMessage {
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize, Default)]
struct WireMessageDelta {
    #[serde(default)]
    stop_reason: Option<String>,
}

struct PartialToolUse {
    id: String,
    name: String,
    json: String,
}

#[derive(Default)]
struct Decoder {
    tools: BTreeMap<usize, PartialToolUse>,
    input_tokens: u64,
    output_tokens: u64,
    stop: Option<FinishReason>,
    done: bool,
}

impl SseDecoder for Decoder {
    fn on_event(&mut self, event: &Event, t: &Transport) -> Result<Vec<ModelEvent>, ModelError> {
        if event.data.trim().is_empty() {
            return Ok(Vec::new());
        }
        let wire: WireEvent = serde_json::from_str(&event.data).map_err(|e| {
            t.malformed(format!(
                "event `{}` is not a known Messages event ({e}): {:.200}",
                event.event, event.data
            ))
        })?;
        Ok(match wire {
            WireEvent::MessageStart { message } => {
                if let Some(usage) = message.usage {
                    self.input_tokens = usage.input_tokens.unwrap_or(0);
                    self.output_tokens = usage.output_tokens.unwrap_or(0);
                }
                Vec::new()
            }
            WireEvent::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                WireBlock::Text { text } if !text.is_empty() => vec![ModelEvent::TextDelta(text)],
                WireBlock::ToolUse { id, name } => {
                    self.tools.insert(
                        index,
                        PartialToolUse {
                            id,
                            name,
                            json: String::new(),
                        },
                    );
                    Vec::new()
                }
                _ => Vec::new(),
            },
            WireEvent::ContentBlockDelta { index, delta } => match delta {
                WireDelta::TextDelta { text } => vec![ModelEvent::TextDelta(text)],
                WireDelta::InputJsonDelta { partial_json } => {
                    let tool = self.tools.get_mut(&index).ok_or_else(|| {
                        t.malformed(format!(
                            "input_json_delta for block {index}, which is not a tool_use"
                        ))
                    })?;
                    tool.json.push_str(&partial_json);
                    Vec::new()
                }
                WireDelta::Other => Vec::new(),
            },
            WireEvent::ContentBlockStop { index } => match self.tools.remove(&index) {
                Some(tool) => {
                    let args = if tool.json.trim().is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str(&tool.json).map_err(|e| {
                            t.malformed(format!(
                                "input of tool_use `{}` is not valid JSON ({e})",
                                tool.name
                            ))
                        })?
                    };
                    vec![ModelEvent::ToolCall(ToolCall {
                        id: tool.id,
                        name: tool.name,
                        args,
                    })]
                }
                None => Vec::new(),
            },
            WireEvent::MessageDelta { delta, usage } => {
                if let Some(usage) = usage {
                    if let Some(out) = usage.output_tokens {
                        self.output_tokens = out;
                    }
                    if let Some(input) = usage.input_tokens {
                        self.input_tokens = input;
                    }
                }
                if let Some(reason) = delta.stop_reason {
                    self.stop = Some(match reason.as_str() {
                        "end_turn" | "stop_sequence" => FinishReason::Stop,
                        "max_tokens" => FinishReason::Length,
                        "tool_use" => FinishReason::ToolCalls,
                        "refusal" => FinishReason::ContentFilter,
                        _ => FinishReason::Other,
                    });
                }
                Vec::new()
            }
            WireEvent::MessageStop => {
                self.done = true;
                vec![ModelEvent::Finish {
                    reason: self.stop.unwrap_or(FinishReason::Stop),
                    usage: Usage::new(self.input_tokens, self.output_tokens),
                }]
            }
            WireEvent::Ping => Vec::new(),
            WireEvent::Error { error } => {
                let message = error
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| error.to_string());
                return Err(ModelError::Provider {
                    provider: t.provider.to_owned(),
                    message,
                });
            }
        })
    }

    fn on_end(&mut self, _t: &Transport) -> Result<Vec<ModelEvent>, ModelError> {
        Ok(Vec::new())
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
