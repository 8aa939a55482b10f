//! Stream chunks in Mastra's shape: `{type, runId, from: "AGENT", payload}`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kinds of chunk an agent stream carries, in Mastra's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ChunkType {
    /// The run started.
    Start,
    /// A step (one model call) started.
    StepStart,
    /// A text block started.
    TextStart,
    /// A piece of text: `payload.text`.
    TextDelta,
    /// The text block ended.
    TextEnd,
    /// The model asked for a tool: `payload.toolCallId`, `toolName`, `args`.
    ToolCall,
    /// A tool ran: `payload.toolCallId`, `toolName`, `result`, `isError`.
    ToolResult,
    /// A tool call waits for a person's approval and the run stops: `payload.toolCallId`,
    /// `toolName`, `args`, `resumeSchema`.
    ToolCallApproval,
    /// A person declined a tool call, which did not run: `payload.toolCallId`, `toolName`,
    /// `args`, `approval: {approved: false, reason}`.
    ToolOutputDenied,
    /// A step ended: `payload.stepResult.reason`, `payload.output.usage`.
    StepFinish,
    /// The run ended: `payload.stepResult.reason`, `payload.output.usage`.
    Finish,
    /// The run failed: `payload.error`.
    Error,
    /// The run was aborted.
    Abort,
}

/// Who produced a chunk; agent runs always say `AGENT`.
pub const CHUNK_FROM_AGENT: &str = "AGENT";

/// One chunk of an agent stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Chunk {
    /// What kind of chunk.
    #[serde(rename = "type")]
    pub kind: ChunkType,
    /// The run it belongs to.
    pub run_id: String,
    /// Who produced it (`AGENT`).
    pub from: String,
    /// Its data; the fields depend on the type.
    pub payload: Value,
}

impl Chunk {
    /// A chunk of `kind` for run `run_id`.
    pub fn new(kind: ChunkType, run_id: &str, payload: Value) -> Self {
        Self {
            kind,
            run_id: run_id.to_owned(),
            from: CHUNK_FROM_AGENT.to_owned(),
            payload,
        }
    }

    /// The text of a `text-delta` chunk.
    pub fn text_delta(&self) -> Option<&str> {
        match self.kind {
            ChunkType::TextDelta => self.payload.get("text").and_then(Value::as_str),
            _ => None,
        }
    }

    /// The chunk as one SSE frame: `data: {json}\n\n`.
    pub fn to_sse_frame(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned());
        format!("data: {json}\n\n")
    }
}
