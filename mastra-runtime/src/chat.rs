//! [`chat_route`]: an agent behind the AI SDK's `useChat`, Mastra's `chatRoute()`.
//!
//! The route takes `useChat`'s request body (`messages` as UI messages with `parts`), runs the
//! agent with the request's abort signal (a client that leaves stops the run and its model
//! request, and nothing is saved), and answers in the UI message stream protocol
//! ([`ModelOutput::to_ui_message_stream_response`](crate::ModelOutput::to_ui_message_stream_response)).
//!
//! Tool calls that wait for approval reach `useChat` as Mastra's `chatRoute` sends them to AI
//! SDK 5 clients: a `data-tool-call-approval` part (`data: {runId, toolCallId, toolName, args,
//! ...}`) kept in the assistant message's parts, after which the stream ends. The app answers
//! by posting to the same route with `runId` and `resumeData: {approved: true | false}`
//! (optionally `toolCallId`); the rest of the turn streams back (a declined call as
//! `tool-output-error` with the reason).
//!
//! ```
//! use mastra_runtime::prelude::*;
//! let app = Mastra::builder()
//!     .agent(Agent::builder("helper").model("mastra/echo"))
//!     // POST /chat/:agentId
//!     .route(chat_route(ChatRouteOptions::default()))
//!     // POST /support, always the same agent
//!     .route(chat_route(ChatRouteOptions { path: "/support".into(), agent: Some("helper".into()), ..Default::default() }))
//!     .without_annotated_routes()
//!     .build()
//!     .unwrap();
//! assert!(app.routes().iter().any(|r| r.pattern().as_str() == "/chat/:agentId"));
//! ```

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::server::builtin::agents::{MemoryBody, ThreadRef};
use crate::{
    agent::{Agent, InputMessage, UiMessageChunk, RESOURCE_ID_KEY, THREAD_ID_KEY},
    disconnect::abort_signal,
    error::ApiError,
    extract::{Json, Path},
    mastra::Mastra,
    memory::MessageRole,
    model::ModelSettings,
    openapi::{DescribeInput, Inference, OperationFragment, RequestBodyFragment, ResponseFragment},
    route::{ApiRoute, RequestContext, Segment},
    sse::SseOptions,
    GenerateOptions,
};

/// Where `chat_route` listens unless told otherwise (Mastra's `chatRoute` default).
pub const DEFAULT_CHAT_PATH: &str = "/chat/:agentId";

/// The path parameter that names the agent when the route has no fixed agent.
pub const AGENT_ID_PARAM: &str = "agentId";

/// How [`chat_route`] is built. Every field has a default; use struct update syntax.
#[derive(Debug, Clone)]
pub struct ChatRouteOptions {
    /// The route's path ([`DEFAULT_CHAT_PATH`] by default). Without a fixed `agent` it must
    /// hold an `:agentId` parameter.
    pub path: String,
    /// A fixed agent (its id), checked when the server is built. `None`: the `:agentId` path
    /// parameter names the agent of each request.
    pub agent: Option<String>,
    /// What every run starts from: memory, max steps, model settings, request-context values.
    /// The body's own values override them. Each run gets a fresh run id and the request's abort
    /// signal; string-keyed request-context values are copied under what middleware set.
    pub default_options: GenerateOptions,
    /// How the stream is written (keep-alive comments; none by default).
    pub sse: SseOptions,
}

impl Default for ChatRouteOptions {
    fn default() -> Self {
        Self {
            path: DEFAULT_CHAT_PATH.to_owned(),
            agent: None,
            default_options: GenerateOptions::new(),
            sse: SseOptions::default(),
        }
    }
}

/// One part of a UI message. Only `text` parts are read; the others (`step-start`, tool,
/// reasoning, file and data parts) are accepted and skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UiMessagePart {
    /// `text`, `step-start`, `tool-<name>`, `reasoning`, `file`, `data-<name>`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` or `reasoning` part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The part's other fields.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// A message as the AI SDK's `useChat` keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UiMessage {
    /// The message id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `user`, `assistant` or `system`.
    pub role: MessageRole,
    /// The message's parts, in order.
    #[serde(default)]
    pub parts: Vec<UiMessagePart>,
}

impl UiMessage {
    /// The text of its `text` parts, joined.
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .filter(|p| p.kind == "text")
            .filter_map(|p| p.text.as_deref())
            .collect()
    }
}

/// The body `useChat` posts (through `DefaultChatTransport`), plus Mastra's run options.
/// Fields not listed are accepted and ignored.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatRequest {
    /// The chat's id.
    #[serde(default)]
    pub id: Option<String>,
    /// The conversation, oldest first.
    #[schemars(length(min = 1))]
    pub messages: Vec<UiMessage>,
    /// `submit-message` or `regenerate-message`.
    #[serde(default)]
    pub trigger: Option<String>,
    /// The message being regenerated, if any.
    #[serde(default)]
    pub message_id: Option<String>,
    /// Thread and resource to read from and save to.
    #[serde(default)]
    pub memory: Option<MemoryBody>,
    /// Values for the request context (reserved `mastra__*` keys and keys middleware set are
    /// never overridden).
    #[serde(default)]
    pub request_context: Option<Map<String, Value>>,
    /// Most model calls in the tool loop.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_steps: Option<u32>,
    /// Sampling settings for this run.
    #[serde(default)]
    pub model_settings: Option<ModelSettings>,
    /// The run a decision answers (the `runId` of the `data-tool-call-approval` part);
    /// required with `resumeData`.
    #[serde(default)]
    pub run_id: Option<String>,
    /// A decision on the tool call the run waits on (Mastra's `resumeData`): the messages are
    /// then not run as a new turn.
    #[serde(default)]
    pub resume_data: Option<ChatResumeData>,
}

/// A decision sent through the chat route: `{"approved": true | false}`, the resume schema of
/// a `tool-call-approval`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatResumeData {
    /// Run the tool (`true`) or not.
    pub approved: bool,
    /// The call decided; the one the run waits on when left out.
    #[serde(default)]
    pub tool_call_id: Option<String>,
}

impl ChatRequest {
    /// The messages as agent input: the text of each, skipping messages without text. With
    /// `new_only`, only the messages after the last assistant message (the new turn): when the
    /// run reads its history from memory, the earlier ones are already there.
    pub fn input(&self, new_only: bool) -> Vec<InputMessage> {
        let start = if new_only {
            self.messages
                .iter()
                .rposition(|m| m.role == MessageRole::Assistant)
                .map_or(0, |i| i + 1)
        } else {
            0
        };
        self.messages[start..]
            .iter()
            .filter_map(|m| {
                let text = m.text();
                (!text.is_empty()).then_some(InputMessage {
                    role: m.role,
                    content: crate::agent::InputContent::Text(text),
                })
            })
            .collect()
    }
}

struct ChatHandler {
    agent: Option<String>,
    defaults: GenerateOptions,
    sse: SseOptions,
}

impl ChatHandler {
    async fn handle(&self, req: HttpRequest, body: ChatRequest) -> Result<HttpResponse, ApiError> {
        let mastra = Mastra::serving(&req)?.clone();
        let agent_id = match &self.agent {
            Some(id) => id.clone(),
            None => req
                .match_info()
                .get(AGENT_ID_PARAM)
                .unwrap_or_default()
                .to_owned(),
        };
        let agent = mastra.agent(&agent_id)?;
        if let Some(decision) = &body.resume_data {
            return self.decide(req, &mastra, &agent, &body, decision).await;
        }
        let signal = abort_signal(&req);

        let ctx = RequestContext::of(&req);
        if let Some(entries) = body.request_context.clone() {
            ctx.merge_from_client(entries);
        }
        if let Value::Object(defaults) = self.defaults.request_context.to_json() {
            for (key, value) in defaults {
                if !ctx.has(&key) {
                    ctx.set(key, value);
                }
            }
        }

        let mut options = GenerateOptions {
            run_id: None,
            request_context: ctx.clone(),
            abort: Some(signal),
            ..self.defaults.clone()
        }
        .mastra(mastra.clone());
        if let Some(memory) = &body.memory {
            options = options.memory(memory.thread.id(), memory.resource.clone());
        }
        if let Some(steps) = body.max_steps {
            options = options.max_steps(steps);
        }
        if let Some(settings) = &body.model_settings {
            if let Some(t) = settings.temperature {
                options = options.temperature(t);
            }
            if let Some(m) = settings.max_tokens {
                options = options.max_tokens(m);
            }
        }
        let from_memory = uses_memory(&agent, &options, &ctx);
        let output = agent.stream(body.input(from_memory), options).await?;
        Ok(output.to_ui_message_stream_response_with(self.sse))
    }
}

impl ChatHandler {
    /// Approves or declines the call the run waits on and streams the rest of the turn, which
    /// goes on as tracked background work if the client leaves (the decision was taken).
    async fn decide(
        &self,
        req: HttpRequest,
        mastra: &Mastra,
        agent: &Agent,
        body: &ChatRequest,
        decision: &ChatResumeData,
    ) -> Result<HttpResponse, ApiError> {
        let run_id = body.run_id.as_deref().ok_or_else(|| {
            ApiError::bad_request("runId is required when resumeData is provided")
        })?;
        let tool_call_id = match &decision.tool_call_id {
            Some(id) => id.clone(),
            None => agent.pending_tool_call(run_id).await?.tool_call_id,
        };
        let ctx = RequestContext::of(&req);
        if let Some(entries) = body.request_context.clone() {
            ctx.merge_from_client(entries);
        }
        let options = GenerateOptions::new()
            .request_context(ctx)
            .mastra(mastra.clone());
        let output = if decision.approved {
            agent
                .approve_tool_call(run_id, &tool_call_id, options)
                .await?
        } else {
            agent
                .decline_tool_call(run_id, &tool_call_id, options)
                .await?
        };
        output.consume_stream_in_background(mastra);
        Ok(output.to_ui_message_stream_response_with(self.sse))
    }
}

/// Whether the run will read its history from memory.
fn uses_memory(agent: &Agent, options: &GenerateOptions, ctx: &RequestContext) -> bool {
    agent.memory().is_some()
        && (options.memory.is_some() || ctx.has(THREAD_ID_KEY) || ctx.has(RESOURCE_ID_KEY))
}

fn has_agent_param(path: &str) -> bool {
    crate::route::PathPattern::parse(path).is_ok_and(|pattern| {
        pattern
            .segments()
            .iter()
            .any(|s| matches!(s, Segment::Param(name) if name == AGENT_ID_PARAM))
    })
}

/// A `POST` route that serves an agent to the AI SDK's `useChat` (Mastra's `chatRoute()`).
///
/// It accepts `useChat`'s body ([`ChatRequest`]: UI messages with `parts`, plus optional
/// `memory`, `requestContext`, `maxSteps`, `modelSettings`), streams the answer in the UI
/// message stream protocol (`x-vercel-ai-ui-message-stream: v1`, [`UiMessageChunk`] parts,
/// `data: [DONE]`), and stops the run when the client disconnects. Request-context values in
/// the body never override what middleware (or auth) set. With memory, only the new turn
/// (the messages after the last assistant message) is taken from the body. A body with
/// `runId` and `resumeData: {approved}` answers a tool call waiting for approval instead (see
/// the module documentation).
///
/// Problems are found when the server is built: a fixed agent that is not registered, or a
/// path without `:agentId` and no fixed agent.
pub fn chat_route(options: ChatRouteOptions) -> ApiRoute {
    let ChatRouteOptions {
        path,
        agent,
        default_options,
        sse,
    } = options;
    let by_param = agent.is_none();
    let route_path = path.clone();
    ApiRoute::post(route_path)
        .try_create_handler(move |mastra: &Mastra| {
            match &agent {
                Some(id) => {
                    mastra
                        .agent(id)
                        .map_err(|e| format!("chat_route: {e}"))?;
                }
                None if !has_agent_param(&path) => {
                    return Err(format!(
                        "chat_route: the path {path} has no :{AGENT_ID_PARAM} parameter; add one or name a fixed agent"
                    ));
                }
                None => {}
            }
            let handler = Arc::new(ChatHandler {
                agent,
                defaults: default_options,
                sse,
            });
            Ok(move |req: HttpRequest, Json(body): Json<ChatRequest>| {
                let handler = Arc::clone(&handler);
                async move { handler.handle(req, body).await }
            })
        })
        .handler_name("chat")
        .openapi(
            OperationFragment::new()
                .summary("Chat with an agent (AI SDK useChat)")
                .description(
                    "Takes useChat's body (UI messages with parts) and streams the answer in the \
                     AI SDK UI message stream protocol: Server-Sent Events `data: {part}` frames \
                     with the header `x-vercel-ai-ui-message-stream: v1`, then `data: [DONE]`. \
                     A client that disconnects stops the run.",
                )
                .tag("chat")
                .request_body(RequestBodyFragment::new().body::<ChatRequest>().required(true))
                .response(
                    ResponseFragment::new(200)
                        .description("UI message stream parts")
                        .content_type("text/event-stream")
                        .body::<UiMessageChunk>(),
                )
                .response(ResponseFragment::new(404).description("Agent not found")),
        )
        .infer(if by_param { describe_with_agent_param } else { describe_fixed })
}

fn describe_with_agent_param(inference: &mut Inference) {
    Path::<String>::describe_input(inference);
    describe_fixed(inference);
}

fn describe_fixed(inference: &mut Inference) {
    Json::<ChatRequest>::describe_input(inference);
    inference.error_responses();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(messages: Value) -> ChatRequest {
        serde_json::from_value(
            json!({ "id": "c1", "messages": messages, "trigger": "submit-message" }),
        )
        .unwrap()
    }

    #[test]
    fn text_parts_become_input_and_other_parts_are_skipped() {
        let body = request(json!([
            {"id": "1", "role": "user", "parts": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]},
            {"id": "2", "role": "assistant", "parts": [{"type": "step-start"}, {"type": "tool-weather", "toolCallId": "c", "state": "output-available", "input": {}, "output": {}}]},
            {"id": "3", "role": "assistant", "parts": [{"type": "text", "text": "Hello"}]},
            {"id": "4", "role": "user", "parts": [{"type": "text", "text": "Again"}]}
        ]));
        let all: Vec<String> = body.input(false).iter().map(InputMessage::text).collect();
        assert_eq!(all, ["Hi there", "Hello", "Again"]);
        let new: Vec<String> = body.input(true).iter().map(InputMessage::text).collect();
        assert_eq!(new, ["Again"]);
    }

    #[test]
    fn a_path_needs_the_agent_parameter_unless_the_agent_is_fixed() {
        assert!(has_agent_param("/chat/:agentId"));
        assert!(has_agent_param("/x/{agentId}/chat"));
        assert!(!has_agent_param("/chat"));
    }
}
