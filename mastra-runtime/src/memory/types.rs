//! Threads and messages, in the JSON shapes Mastra's server and client use (messages in
//! "format 2": `content: {format: 2, parts: [...], content}`).

use std::{borrow::Cow, fmt};

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A point in time, milliseconds since the Unix epoch; JSON is an ISO-8601 string, as
/// JavaScript's `Date` serializes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Now.
    pub fn now() -> Self {
        Self(chrono::Utc::now().timestamp_millis())
    }

    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// `2024-05-01T12:00:00.000Z`.
    pub fn to_iso(self) -> String {
        chrono::DateTime::from_timestamp_millis(self.0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_iso())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_i64()
                .map(Timestamp)
                .ok_or_else(|| de::Error::custom("timestamp out of range")),
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(&s)
                .map(|t| Timestamp(t.timestamp_millis()))
                .map_err(|e| de::Error::custom(format!("invalid date {s:?}: {e}"))),
            _ => Err(de::Error::custom("expected an ISO-8601 date string")),
        }
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({ "type": "string", "format": "date-time" })
    }
}

/// A conversation, owned by a resource (a user, an account, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Thread {
    /// Unique id.
    pub id: String,
    /// Who owns it.
    pub resource_id: String,
    /// A title, when one was given.
    #[serde(default)]
    pub title: Option<String>,
    /// Free-form data attached by the application.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it or its messages last changed.
    pub updated_at: Timestamp,
}

impl Thread {
    /// A new thread created now.
    pub fn new(id: impl Into<String>, resource_id: impl Into<String>) -> Self {
        let now = Timestamp::now();
        Self {
            id: id.into(),
            resource_id: resource_id.into(),
            title: None,
            metadata: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    /// The person.
    User,
    /// The agent.
    Assistant,
    /// Instructions.
    System,
}

impl MessageRole {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
            Self::System => "system",
        }
    }

    /// Reads the lower-case name.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "user" => Self::User,
            "assistant" => Self::Assistant,
            "system" => Self::System,
            _ => return None,
        })
    }
}

/// A tool call and its result, as stored in an assistant message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolInvocation {
    /// `result` once the tool ran.
    pub state: String,
    /// The step of the run it happened in (from 0).
    #[serde(default)]
    pub step: u32,
    /// The call's id.
    pub tool_call_id: String,
    /// The tool.
    pub tool_name: String,
    /// Its input.
    pub args: Value,
    /// Its output.
    #[serde(default)]
    pub result: Value,
    /// Whether it failed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
}

/// One part of a message's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type")]
pub enum MessagePart {
    /// Text.
    #[serde(rename = "text")]
    Text {
        /// The text.
        text: String,
    },
    /// The start of a step of the run.
    #[serde(rename = "step-start")]
    StepStart,
    /// A tool call with its result.
    #[serde(rename = "tool-invocation", rename_all = "camelCase")]
    ToolInvocation {
        /// The call and result.
        tool_invocation: ToolInvocation,
    },
}

/// A message's content in Mastra's format 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MessageContent {
    /// Always 2.
    pub format: u8,
    /// The parts, in order.
    pub parts: Vec<MessagePart>,
    /// The text parts joined, for readers that want plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

impl MessageContent {
    /// Content of the given parts; `content` is their text.
    pub fn from_parts(parts: Vec<MessagePart>) -> Self {
        let text: String = parts
            .iter()
            .filter_map(|p| match p {
                MessagePart::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        Self {
            format: 2,
            parts,
            content: Some(text),
        }
    }

    /// Content that is one text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self::from_parts(vec![MessagePart::Text { text: text.into() }])
    }

    /// The text of every text part, joined.
    pub fn plain_text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| match p {
                MessagePart::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Unique id.
    pub id: String,
    /// The thread it belongs to.
    pub thread_id: String,
    /// The thread's owner.
    #[serde(default)]
    pub resource_id: Option<String>,
    /// Who wrote it.
    pub role: MessageRole,
    /// What it says.
    pub content: MessageContent,
    /// When it was written.
    pub created_at: Timestamp,
    /// The storage format's name, `v2`.
    #[serde(rename = "type", default = "v2")]
    pub kind: String,
}

fn v2() -> String {
    "v2".to_owned()
}

impl Message {
    /// A message written now, with a fresh id.
    pub fn new(thread: &Thread, role: MessageRole, content: MessageContent) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            thread_id: thread.id.clone(),
            resource_id: Some(thread.resource_id.clone()),
            role,
            content,
            created_at: Timestamp::now(),
            kind: v2(),
        }
    }

    /// The AI SDK v5 UI message form the client's `uiMessages` carries.
    pub fn to_ui_message(&self) -> Value {
        let parts: Vec<Value> = self
            .content
            .parts
            .iter()
            .map(|part| match part {
                MessagePart::Text { text } => serde_json::json!({ "type": "text", "text": text }),
                MessagePart::StepStart => serde_json::json!({ "type": "step-start" }),
                MessagePart::ToolInvocation { tool_invocation: t } => serde_json::json!({
                    "type": format!("tool-{}", t.tool_name),
                    "toolCallId": t.tool_call_id,
                    "state": if t.is_error { "output-error" } else { "output-available" },
                    "input": t.args,
                    "output": t.result,
                }),
            })
            .collect();
        serde_json::json!({
            "id": self.id,
            "role": self.role.as_str(),
            "parts": parts,
            "metadata": { "createdAt": self.created_at },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso_strings_and_read_back() {
        let t = Timestamp(1_714_564_800_123);
        let json = serde_json::to_value(t).unwrap();
        assert_eq!(json, "2024-05-01T12:00:00.123Z");
        assert_eq!(serde_json::from_value::<Timestamp>(json).unwrap(), t);
    }

    #[test]
    fn content_is_format_2_with_parts() {
        let json = serde_json::to_value(MessageContent::text("hi")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "format": 2, "parts": [{ "type": "text", "text": "hi" }], "content": "hi" })
        );
    }
}
