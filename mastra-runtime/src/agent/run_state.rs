//! The state of an agent run between model calls, serializable so that a run stopped before a
//! tool call waiting for approval can be kept in storage and continued by any server instance.

use serde::{Deserialize, Serialize};

use super::{chunk::Chunk, options::InputMessage, output::StepResult};
use crate::{
    memory::MessagePart,
    model::{FinishReason, ModelMessage, ModelSettings, ToolCall, ToolOutcome, Usage},
};

/// What a person decided about a tool call that waited for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Decision {
    /// Run the tool.
    Approved,
    /// Do not run it; tell the model so.
    Declined,
}

/// One prompt message as stored (the provider-neutral [`ModelMessage`], with serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub(crate) enum PromptMessage {
    System {
        text: String,
    },
    User {
        text: String,
    },
    Assistant {
        text: String,
        #[serde(rename = "toolCalls")]
        tool_calls: Vec<ToolCall>,
    },
    Tool {
        results: Vec<ToolOutcome>,
    },
}

impl From<&ModelMessage> for PromptMessage {
    fn from(message: &ModelMessage) -> Self {
        match message {
            ModelMessage::System(text) => PromptMessage::System { text: text.clone() },
            ModelMessage::User(text) => PromptMessage::User { text: text.clone() },
            ModelMessage::Assistant { text, tool_calls } => PromptMessage::Assistant {
                text: text.clone(),
                tool_calls: tool_calls.clone(),
            },
            ModelMessage::Tool(results) => PromptMessage::Tool {
                results: results.clone(),
            },
        }
    }
}

impl From<PromptMessage> for ModelMessage {
    fn from(message: PromptMessage) -> Self {
        match message {
            PromptMessage::System { text } => ModelMessage::System(text),
            PromptMessage::User { text } => ModelMessage::User(text),
            PromptMessage::Assistant { text, tool_calls } => {
                ModelMessage::Assistant { text, tool_calls }
            }
            PromptMessage::Tool { results } => ModelMessage::Tool(results),
        }
    }
}

/// Where a run reads and saves its conversation, by id (the store is the agent's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MemoryIds {
    pub(crate) thread: String,
    pub(crate) resource: String,
}

/// A step whose model call is over and whose tool calls are being run, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OpenStep {
    pub(crate) message_id: String,
    pub(crate) text: String,
    pub(crate) calls: Vec<ToolCall>,
    /// Per call, why it was refused before running (arguments nested too deeply).
    pub(crate) refusals: Vec<Option<String>>,
    /// The results of the calls run so far: the next call to run is `calls[outcomes.len()]`.
    pub(crate) outcomes: Vec<ToolOutcome>,
    pub(crate) reason: FinishReason,
    pub(crate) usage: Usage,
    /// The decision on the next call, when it waited for approval and was decided.
    #[serde(default)]
    pub(crate) decision: Option<Decision>,
}

impl OpenStep {
    /// The call the step stopped at, if any remain.
    pub(crate) fn next_call(&self) -> Option<&ToolCall> {
        self.calls.get(self.outcomes.len())
    }
}

/// Everything a run has done and still needs, between two actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunState {
    /// The caller's input, saved to memory with the answer when the run ends.
    pub(crate) input: Vec<InputMessage>,
    pub(crate) memory: Option<MemoryIds>,
    pub(crate) max_steps: u32,
    pub(crate) settings: ModelSettings,
    /// The prompt of the next model call.
    pub(crate) prompt: Vec<PromptMessage>,
    /// The index of the current step (model call).
    pub(crate) step: u32,
    pub(crate) total_usage: Usage,
    pub(crate) steps: Vec<StepResult>,
    pub(crate) all_text: String,
    pub(crate) call_chunks: Vec<Chunk>,
    pub(crate) result_chunks: Vec<Chunk>,
    /// The parts of the assistant message memory saves.
    pub(crate) parts: Vec<MessagePart>,
    pub(crate) finish_reason: FinishReason,
    /// The step whose tool calls are running, if one is.
    pub(crate) open: Option<OpenStep>,
    /// The ids of the tool calls a person decided, so a second decision is told so.
    #[serde(default)]
    pub(crate) decided: Vec<String>,
}

impl RunState {
    /// The tool call the run waits on, when it stopped for approval.
    pub(crate) fn pending_call(&self) -> Option<&ToolCall> {
        self.open.as_ref().and_then(OpenStep::next_call)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn prompt_messages_round_trip_through_storage_form() {
        let messages = vec![
            ModelMessage::System("be brief".into()),
            ModelMessage::User("hi".into()),
            ModelMessage::Assistant {
                text: String::new(),
                tool_calls: vec![ToolCall {
                    id: "c1".into(),
                    name: "t".into(),
                    args: json!({"x": 1}),
                }],
            },
            ModelMessage::Tool(vec![ToolOutcome {
                call_id: "c1".into(),
                name: "t".into(),
                result: json!(2),
                is_error: false,
            }]),
        ];
        for message in messages {
            let stored = serde_json::to_value(PromptMessage::from(&message)).unwrap();
            let back: PromptMessage = serde_json::from_value(stored).unwrap();
            assert_eq!(ModelMessage::from(back), message);
        }
    }
}
