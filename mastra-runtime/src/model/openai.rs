//! OpenAI-compatible Chat Completions, streamed: OpenAI, and anything speaking its protocol
//! (Ollama, vLLM, LM Studio, OpenRouter, Groq) through `OPENAI_BASE_URL`.

use std::collections::BTreeMap;

use eventsource_stream::Event;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    http::{SseDecoder, Transport},
    provider::{http_provider, ApiKeyAuth, HttpProvider},
    FinishReason, ModelError, ModelEvent, ModelMessage, ModelRequest, Usage,
};

/// OpenAI's API root, used when `OPENAI_BASE_URL` is not set.
pub const OPENAI_DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// A model behind an OpenAI-compatible `POST {base}/chat/completions`.
///
/// ```
/// use mastra_runtime::model::{LanguageModel, OpenAiCompatible};
/// let model = OpenAiCompatible::new("llama3.2")
///     .base_url("http://127.0.0.1:11434/v1")
///     .api_key("ollama");
/// assert_eq!(model.model_id(), "llama3.2");
/// ```
#[derive(Debug, Clone)]
pub struct OpenAiCompatible {
    http: HttpProvider,
}

http_provider! {
    OpenAiCompatible {
        provider: "openai", name: "OpenAI", env: "OPENAI",
        default_base_url: OPENAI_DEFAULT_BASE_URL, endpoint: "/chat/completions",
        auth: ApiKeyAuth::Bearer, key_sent_as: "`Authorization: Bearer`", headers: &[],
        decoder: Decoder,
    }
}

impl OpenAiCompatible {
    /// The Chat Completions request for `request`.
    fn body(&self, request: &ModelRequest) -> Value {
        let messages = flatten(request.messages.iter().map(wire_message).collect());
        let mut body = json!({
            "model": self.http.model(),
            "messages": messages,
            "stream": true,
            "stream_options": { "include_usage": true },
        });
        if !request.tools.is_empty() {
            body["tools"] = request
                .tools
                .iter()
                .map(|tool| {
                    json!({
                        "type": "function",
                        "function": {
                            "name": tool.name,
                            "description": tool.description,
                            "parameters": tool.parameters,
                        }
                    })
                })
                .collect();
        }
        if let Some(t) = request.settings.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(m) = request.settings.max_tokens {
            body["max_tokens"] = json!(m);
        }
        body
    }
}

fn wire_message(message: &ModelMessage) -> Value {
    match message {
        ModelMessage::System(text) => json!({ "role": "system", "content": text }),
        ModelMessage::User(text) => json!({ "role": "user", "content": text }),
        ModelMessage::Assistant { text, tool_calls } => {
            let mut m = json!({ "role": "assistant", "content": text });
            if !tool_calls.is_empty() {
                m["tool_calls"] = tool_calls
                    .iter()
                    .map(|c| {
                        json!({
                            "id": c.id,
                            "type": "function",
                            "function": { "name": c.name, "arguments": c.args.to_string() },
                        })
                    })
                    .collect();
            }
            m
        }
        // Each tool result is its own `tool` message; the caller flattens.
        ModelMessage::Tool(results) => Value::Array(
            results
                .iter()
                .map(|r| {
                    json!({
                        "role": "tool",
                        "tool_call_id": r.call_id,
                        "content": r.result.to_string(),
                    })
                })
                .collect(),
        ),
    }
}

fn flatten(messages: Vec<Value>) -> Vec<Value> {
    messages
        .into_iter()
        .flat_map(|m| match m {
            Value::Array(items) => items,
            other => vec![other],
        })
        .collect()
}

#[derive(Deserialize)]
struct WireChunk {
    #[serde(default)]
    choices: Vec<WireChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct WireChoice {
    #[serde(default)]
    delta: Option<WireDelta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireDelta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<WireToolCallDelta>,
}

#[derive(Deserialize)]
struct WireToolCallDelta {
    #[serde(default)]
    index: usize,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<WireFunctionDelta>,
}

#[derive(Deserialize)]
struct WireFunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// Decoding state across SSE events.
#[derive(Default)]
struct Decoder {
    calls: BTreeMap<usize, PartialCall>,
    finish: Option<FinishReason>,
    usage: Usage,
    done: bool,
}

impl SseDecoder for Decoder {
    fn on_event(&mut self, event: &Event, t: &Transport) -> Result<Vec<ModelEvent>, ModelError> {
        let data = event.data.as_str();
        if data.trim() == "[DONE]" {
            return self.finish(t);
        }
        let chunk: WireChunk = serde_json::from_str(data)
            .map_err(|e| t.malformed(format!("chunk is not valid JSON ({e}): {data:.200}")))?;
        if let Some(error) = chunk.error {
            return Err(t.reported(&error));
        }
        if let Some(usage) = chunk.usage {
            self.usage = Usage::new(usage.prompt_tokens, usage.completion_tokens);
        }
        let mut events = Vec::new();
        for choice in chunk.choices {
            if let Some(delta) = choice.delta {
                if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                    events.push(ModelEvent::TextDelta(text));
                }
                for call in delta.tool_calls {
                    let partial = self.calls.entry(call.index).or_default();
                    if let Some(id) = call.id {
                        partial.id = id;
                    }
                    if let Some(function) = call.function {
                        if let Some(name) = function.name {
                            partial.name.push_str(&name);
                        }
                        if let Some(args) = function.arguments {
                            partial.arguments.push_str(&args);
                        }
                    }
                }
            }
            if let Some(reason) = choice.finish_reason {
                self.finish = Some(match reason.as_str() {
                    "stop" => FinishReason::Stop,
                    "length" => FinishReason::Length,
                    "tool_calls" | "function_call" => FinishReason::ToolCalls,
                    "content_filter" => FinishReason::ContentFilter,
                    _ => FinishReason::Other,
                });
            }
        }
        Ok(events)
    }

    fn on_end(&mut self, t: &Transport) -> Result<Vec<ModelEvent>, ModelError> {
        // Some compatible servers end without `[DONE]` after a finish reason.
        if self.finish.is_some() {
            return self.finish(t);
        }
        Err(t.malformed("the stream ended before the model finished"))
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

impl Decoder {
    fn finish(&mut self, t: &Transport) -> Result<Vec<ModelEvent>, ModelError> {
        self.done = true;
        let mut events = Vec::new();
        for (index, call) in std::mem::take(&mut self.calls) {
            if call.name.is_empty() {
                return Err(t.malformed(format!("tool call #{index} has no function name")));
            }
            let id = if call.id.is_empty() {
                format!("call_{index}")
            } else {
                call.id
            };
            let invalid =
                |name: &str| format!("arguments of tool call `{name}` are not valid JSON");
            events.push(t.tool_call(id, call.name, &call.arguments, invalid)?);
        }
        let reason = match self.finish {
            Some(reason) => reason,
            None if !events.is_empty() => FinishReason::ToolCalls,
            None => FinishReason::Stop,
        };
        events.push(ModelEvent::Finish {
            reason,
            usage: self.usage,
        });
        Ok(events)
    }
}
