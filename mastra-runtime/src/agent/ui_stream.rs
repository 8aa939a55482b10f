//! The AI SDK's UI message stream protocol (what `useChat` reads): SSE `data: {part}` frames,
//! the header `x-vercel-ai-ui-message-stream: v1`, closed by `data: [DONE]`.
//!
//! Each agent chunk maps to at most one part. Parts carry only the fields the AI SDK's own
//! schema knows (it rejected unknown fields in version 5), so every `ai` release that speaks
//! protocol v1 parses them.
//!
//! The AI SDK 5 protocol has no part for a tool call waiting for approval. As Mastra's
//! `chatRoute` does for AI SDK 5 clients, a `tool-call-approval` chunk becomes the data part
//! `data-tool-call-approval` (`id`: the call's id; `data`: `{state, runId, toolCallId,
//! toolName, args, resumeSchema}`), which `useChat` keeps in the message's parts; a declined
//! call's `tool-output-denied` becomes `tool-output-error` with the reason, which both AI SDK 5
//! and 6 read.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::chunk::{Chunk, ChunkType};
use crate::model::FinishReason;

/// The header that marks a UI message stream response.
pub const UI_MESSAGE_STREAM_HEADER: &str = "x-vercel-ai-ui-message-stream";

/// The protocol version this server speaks (the value of [`UI_MESSAGE_STREAM_HEADER`]).
pub const UI_MESSAGE_STREAM_VERSION: &str = "v1";

/// One part of a UI message stream, as the AI SDK spells it.
///
/// ```
/// use mastra_runtime::agent::UiMessageChunk;
/// let part = UiMessageChunk::TextDelta { id: "t1".into(), delta: "Hi".into() };
/// assert_eq!(part.to_sse_frame(), "data: {\"type\":\"text-delta\",\"id\":\"t1\",\"delta\":\"Hi\"}\n\n");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum UiMessageChunk {
    /// The assistant message starts.
    Start {
        /// The id of the assistant message (the run id).
        message_id: String,
    },
    /// A step (one model call) starts.
    StartStep,
    /// A text block starts.
    TextStart {
        /// The block's id.
        id: String,
    },
    /// A piece of text.
    TextDelta {
        /// The block's id.
        id: String,
        /// The text.
        delta: String,
    },
    /// The text block ends.
    TextEnd {
        /// The block's id.
        id: String,
    },
    /// The model called a tool with this input.
    ToolInputAvailable {
        /// The call's id.
        tool_call_id: String,
        /// The tool's name.
        tool_name: String,
        /// The call's input.
        input: Value,
    },
    /// The tool returned.
    ToolOutputAvailable {
        /// The call's id.
        tool_call_id: String,
        /// What the tool returned.
        output: Value,
    },
    /// A tool call waits for approval (Mastra's AI SDK 5 data part): `id` is the call's id,
    /// `data` is `{state: "data-tool-call-approval", runId, toolCallId, toolName, args,
    /// resumeSchema}`.
    DataToolCallApproval {
        /// The call's id.
        id: String,
        /// What a client needs to answer: the run and the call.
        data: Value,
    },
    /// The tool failed.
    ToolOutputError {
        /// The call's id.
        tool_call_id: String,
        /// Why.
        error_text: String,
    },
    /// The step ends.
    FinishStep,
    /// The assistant message is complete.
    Finish {
        /// Why the run ended (`stop`, `tool-calls`, `length`, ...), when the model said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        finish_reason: Option<FinishReason>,
    },
    /// The run failed.
    Error {
        /// Why.
        error_text: String,
    },
    /// The run was aborted.
    Abort,
}

impl UiMessageChunk {
    /// The part an agent chunk becomes.
    pub fn from_chunk(chunk: &Chunk) -> Self {
        let field = |name: &str| {
            chunk
                .payload
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        match chunk.kind {
            ChunkType::Start => UiMessageChunk::Start {
                message_id: chunk.run_id.clone(),
            },
            ChunkType::StepStart => UiMessageChunk::StartStep,
            ChunkType::TextStart => UiMessageChunk::TextStart { id: field("id") },
            ChunkType::TextDelta => UiMessageChunk::TextDelta {
                id: field("id"),
                delta: field("text"),
            },
            ChunkType::TextEnd => UiMessageChunk::TextEnd { id: field("id") },
            ChunkType::ToolCall => UiMessageChunk::ToolInputAvailable {
                tool_call_id: field("toolCallId"),
                tool_name: field("toolName"),
                input: chunk.payload.get("args").cloned().unwrap_or(Value::Null),
            },
            ChunkType::ToolResult => {
                let result = chunk.payload.get("result").cloned().unwrap_or(Value::Null);
                let failed = chunk
                    .payload
                    .get("isError")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if failed {
                    UiMessageChunk::ToolOutputError {
                        tool_call_id: field("toolCallId"),
                        error_text: match result.get("error").and_then(Value::as_str) {
                            Some(message) => message.to_owned(),
                            None => result.to_string(),
                        },
                    }
                } else {
                    UiMessageChunk::ToolOutputAvailable {
                        tool_call_id: field("toolCallId"),
                        output: result,
                    }
                }
            }
            ChunkType::ToolCallApproval => {
                let mut data = serde_json::Map::new();
                data.insert("state".to_owned(), Value::from("data-tool-call-approval"));
                data.insert("runId".to_owned(), Value::from(chunk.run_id.clone()));
                for key in ["toolCallId", "toolName", "args", "resumeSchema"] {
                    if let Some(value) = chunk.payload.get(key) {
                        data.insert(key.to_owned(), value.clone());
                    }
                }
                UiMessageChunk::DataToolCallApproval {
                    id: field("toolCallId"),
                    data: Value::Object(data),
                }
            }
            ChunkType::ToolOutputDenied => UiMessageChunk::ToolOutputError {
                tool_call_id: field("toolCallId"),
                error_text: chunk
                    .payload
                    .pointer("/approval/reason")
                    .and_then(Value::as_str)
                    .unwrap_or(super::NOT_APPROVED)
                    .to_owned(),
            },
            ChunkType::StepFinish => UiMessageChunk::FinishStep,
            ChunkType::Finish => UiMessageChunk::Finish {
                finish_reason: chunk
                    .payload
                    .pointer("/stepResult/reason")
                    .and_then(|r| serde_json::from_value(r.clone()).ok())
                    // The AI SDK has no `unknown`; it leaves the field out instead.
                    .filter(|r| *r != FinishReason::Unknown),
            },
            ChunkType::Error => UiMessageChunk::Error {
                error_text: chunk
                    .payload
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("the agent run failed")
                    .to_owned(),
            },
            ChunkType::Abort => UiMessageChunk::Abort,
        }
    }

    /// The part as one SSE frame: `data: {json}\n\n`.
    pub fn to_sse_frame(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned());
        format!("data: {json}\n\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chunks_map_to_the_ai_sdk_parts() {
        let part = |kind, payload| {
            serde_json::to_value(UiMessageChunk::from_chunk(&Chunk::new(
                kind, "run-1", payload,
            )))
            .unwrap()
        };
        assert_eq!(
            part(ChunkType::Start, json!({})),
            json!({"type": "start", "messageId": "run-1"})
        );
        assert_eq!(
            part(ChunkType::TextDelta, json!({"id": "a", "text": "Hi"})),
            json!({"type": "text-delta", "id": "a", "delta": "Hi"})
        );
        assert_eq!(
            part(
                ChunkType::ToolCall,
                json!({"toolCallId": "c", "toolName": "t", "args": {"x": 1}})
            ),
            json!({"type": "tool-input-available", "toolCallId": "c", "toolName": "t", "input": {"x": 1}})
        );
        assert_eq!(
            part(
                ChunkType::ToolResult,
                json!({"toolCallId": "c", "result": {"error": "boom"}, "isError": true})
            ),
            json!({"type": "tool-output-error", "toolCallId": "c", "errorText": "boom"})
        );
        assert_eq!(
            part(
                ChunkType::Error,
                json!({"error": {"name": "ModelError", "message": "down"}})
            ),
            json!({"type": "error", "errorText": "down"})
        );
        assert_eq!(
            part(ChunkType::StepFinish, json!({})),
            json!({"type": "finish-step"})
        );
        assert_eq!(part(ChunkType::Abort, json!({})), json!({"type": "abort"}));
        assert_eq!(
            part(
                ChunkType::ToolCallApproval,
                json!({"toolCallId": "c", "toolName": "t", "args": {"x": 1}, "resumeSchema": "{}"})
            ),
            json!({"type": "data-tool-call-approval", "id": "c", "data": {
                "state": "data-tool-call-approval", "runId": "run-1", "toolCallId": "c",
                "toolName": "t", "args": {"x": 1}, "resumeSchema": "{}"
            }})
        );
        assert_eq!(
            part(
                ChunkType::ToolOutputDenied,
                json!({"toolCallId": "c", "toolName": "t", "approval": {"approved": false, "reason": "no"}})
            ),
            json!({"type": "tool-output-error", "toolCallId": "c", "errorText": "no"})
        );
        assert_eq!(
            part(
                ChunkType::Finish,
                json!({"stepResult": {"reason": "tool-calls", "isContinued": false}})
            ),
            json!({"type": "finish", "finishReason": "tool-calls"})
        );
        assert_eq!(
            part(
                ChunkType::Finish,
                json!({"stepResult": {"reason": "unknown"}})
            ),
            json!({"type": "finish"})
        );
    }
}
