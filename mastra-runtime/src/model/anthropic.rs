//! Anthropic Messages, streamed, with tool use.

use std::collections::BTreeMap;

use eventsource_stream::Event;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    http::{SseDecoder, Transport},
    provider::{http_provider, ApiKeyAuth, HttpProvider},
    FinishReason, ModelError, ModelEvent, ModelMessage, ModelRequest, ToolCall, Usage,
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
    http: HttpProvider,
}

http_provider! {
    Anthropic {
        provider: "anthropic", name: "Anthropic", env: "ANTHROPIC",
        default_base_url: ANTHROPIC_DEFAULT_BASE_URL, endpoint: "/messages",
        auth: ApiKeyAuth::Header("x-api-key"), key_sent_as: "`x-api-key`",
        headers: &[("anthropic-version", ANTHROPIC_VERSION)], decoder: Decoder,
    }
}

impl Anthropic {
    /// The Messages request for `request`.
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
                    blocks.extend(tool_calls.iter().map(tool_use));
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
            "model": self.http.model(),
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

/// A tool call as a `tool_use` block. The API takes only an object as `input`: a call refused
/// for its arguments keeps them as text, and is replayed with none (its result says why).
fn tool_use(call: &ToolCall) -> Value {
    let input = if call.args.is_object() {
        call.args.clone()
    } else {
        json!({})
    };
    json!({ "type": "tool_use", "id": call.id, "name": call.name, "input": input })
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
                    let invalid =
                        |name: &str| format!("input of tool_use `{name}` is not valid JSON");
                    vec![t.tool_call(tool.id, tool.name, &tool.json, invalid)?]
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
            WireEvent::Error { error } => return Err(t.reported(&error)),
        })
    }

    fn on_end(&mut self, _t: &Transport) -> Result<Vec<ModelEvent>, ModelError> {
        Ok(Vec::new())
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
