//! `mastra/echo`: an offline, deterministic model that streams token by token, so an
//! application runs with zero configuration and tests need no network.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};

use super::{
    FinishReason, LanguageModel, ModelError, ModelEvent, ModelMessage, ModelRequest, ModelStream,
    ToolCall, Usage,
};
use crate::schema::{check_text_depth, MAX_JSON_DEPTH};

/// Pause between two tokens of the offline model: long enough that streaming is visible in a
/// terminal, short enough that tests stay fast.
pub const ECHO_TOKEN_DELAY: Duration = Duration::from_millis(15);

/// The offline model. It answers deterministically:
///
/// - to a user message, `You said: <message>`, one word per text delta;
/// - to a user message containing `@<tool>` (a tool it is offered) followed by an optional
///   JSON object, a call to that tool with that object (or `{}`) as input;
/// - to tool results, `<tool> returned <result JSON>`, one line per result.
///
/// ```
/// use mastra_runtime::model::{EchoModel, LanguageModel};
/// let model = EchoModel::new();
/// assert_eq!(model.provider(), "mastra");
/// assert_eq!(model.model_id(), "echo");
/// ```
#[derive(Debug, Clone)]
pub struct EchoModel {
    delay: Duration,
}

impl Default for EchoModel {
    fn default() -> Self {
        Self::new()
    }
}

impl EchoModel {
    /// The offline model with [`ECHO_TOKEN_DELAY`] between tokens.
    pub fn new() -> Self {
        Self {
            delay: ECHO_TOKEN_DELAY,
        }
    }

    /// Sets the pause between tokens.
    pub fn token_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The events it answers `request` with, before pacing.
    fn answer(&self, request: &ModelRequest) -> Vec<ModelEvent> {
        let input_tokens = request.messages.iter().map(count_words).sum::<u64>();
        let (text, call) = match request.messages.last() {
            Some(ModelMessage::Tool(results)) => {
                let lines: Vec<String> = results
                    .iter()
                    .map(|r| format!("{} returned {}", r.name, r.result))
                    .collect();
                (lines.join("\n"), None)
            }
            Some(ModelMessage::User(text)) => match tool_request(text, request) {
                Some(call) => (String::new(), Some(call)),
                None => (format!("You said: {text}"), None),
            },
            _ => ("You said nothing.".to_owned(), None),
        };
        let mut events: Vec<ModelEvent> = tokens(&text)
            .map(|t| ModelEvent::TextDelta(t.to_owned()))
            .collect();
        let output_tokens = events.len() as u64 + u64::from(call.is_some());
        let reason = match call {
            Some(call) => {
                events.push(call);
                FinishReason::ToolCalls
            }
            None => FinishReason::Stop,
        };
        events.push(ModelEvent::Finish {
            reason,
            usage: Usage::new(input_tokens, output_tokens),
        });
        events
    }
}

/// Splits text into words, each keeping the whitespace after it, so the deltas join back
/// into the text exactly.
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let after = rest[word_end..]
            .find(|c: char| !c.is_whitespace())
            .map_or(rest.len(), |i| word_end + i);
        let (token, tail) = rest.split_at(after.max(1));
        rest = tail;
        Some(token)
    })
}

fn count_words(message: &ModelMessage) -> u64 {
    let words = |t: &str| t.split_whitespace().count() as u64;
    match message {
        ModelMessage::System(t) | ModelMessage::User(t) => words(t),
        ModelMessage::Assistant { text, tool_calls } => words(text) + tool_calls.len() as u64,
        ModelMessage::Tool(results) => results.len() as u64,
    }
}

/// `@tool {"json": "input"}` in a user message, for a tool on offer: the call, refused when
/// the JSON is nested deeper than [`MAX_JSON_DEPTH`] (checked on the text, which may be deeper
/// than the parser reads).
fn tool_request(text: &str, request: &ModelRequest) -> Option<ModelEvent> {
    let (at, tool) = request.tools.iter().find_map(|tool| {
        let needle = format!("@{}", tool.name);
        text.find(&needle).and_then(|at| {
            let end = at + needle.len();
            let boundary = text[end..]
                .chars()
                .next()
                .is_none_or(|c| c.is_whitespace() || c == '{');
            boundary.then_some((end, tool))
        })
    })?;
    let turn = request
        .messages
        .iter()
        .filter(|m| matches!(m, ModelMessage::User(_)))
        .count();
    let call = ToolCall {
        id: format!("call_echo_{turn}_{}", tool.name),
        name: tool.name.clone(),
        args: json!({}),
    };
    let rest = text[at..].trim_start();
    if !rest.starts_with('{') {
        return Some(ModelEvent::ToolCall(call));
    }
    if let Err(error) = check_text_depth(rest.as_bytes(), MAX_JSON_DEPTH) {
        return Some(call.with_args_text(rest).refused(error));
    }
    let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
    let args = match values.next() {
        Some(Ok(value)) => value,
        _ => json!({}),
    };
    Some(ModelEvent::ToolCall(ToolCall { args, ..call }))
}

#[async_trait::async_trait]
impl LanguageModel for EchoModel {
    fn provider(&self) -> &str {
        "mastra"
    }

    fn model_id(&self) -> &str {
        "echo"
    }

    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError> {
        let events = self.answer(&request);
        let delay = self.delay;
        Ok(futures_util::stream::iter(events)
            .then(move |event| async move {
                if matches!(event, ModelEvent::TextDelta(_)) && !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Ok(event)
            })
            .boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ModelSettings, ToolSpec};
    use tokio_util::sync::CancellationToken;

    fn request(messages: Vec<ModelMessage>, tools: &[&str]) -> ModelRequest {
        ModelRequest {
            messages,
            tools: tools
                .iter()
                .map(|n| ToolSpec {
                    name: (*n).to_owned(),
                    description: String::new(),
                    parameters: json!({}),
                })
                .collect(),
            settings: ModelSettings::default(),
            abort: CancellationToken::new(),
        }
    }

    #[test]
    fn tokens_join_back_into_the_text() {
        let text = "You said:  hello\n world ";
        let parts: Vec<&str> = tokens(text).collect();
        assert_eq!(parts, ["You ", "said:  ", "hello\n ", "world "]);
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn a_mentioned_tool_is_called_with_the_json_after_it() {
        let model = EchoModel::new();
        let events = model.answer(&request(
            vec![ModelMessage::User(
                r#"weather? @get-weather {"city":"Paris"} thanks"#.into(),
            )],
            &["get-weather"],
        ));
        assert!(matches!(
            &events[0],
            ModelEvent::ToolCall(call) if call.name == "get-weather" && call.args == json!({"city":"Paris"})
        ));
        assert!(matches!(
            events[1],
            ModelEvent::Finish {
                reason: FinishReason::ToolCalls,
                ..
            }
        ));
    }

    #[test]
    fn a_mentioned_tool_with_arguments_nested_too_deep_is_refused_as_text() {
        let deep = format!(r#"{{"a": {}0{}}}"#, "[".repeat(200), "]".repeat(200));
        let events = EchoModel::new().answer(&request(
            vec![ModelMessage::User(format!("@add {deep}"))],
            &["add"],
        ));
        match &events[0] {
            ModelEvent::InvalidToolCall { call, error } => {
                assert_eq!(call.args, Value::String(deep));
                assert!(error.contains("64"), "{error}");
            }
            other => panic!("expected a refused call, got {other:?}"),
        }
    }

    #[test]
    fn an_unknown_tool_mention_is_echoed() {
        let events = EchoModel::new().answer(&request(
            vec![ModelMessage::User("@nope".into())],
            &["get-weather"],
        ));
        assert_eq!(events[0], ModelEvent::TextDelta("You ".into()));
    }
}
