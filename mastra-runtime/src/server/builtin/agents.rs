//! `/api/agents`: list and describe agents, `generate` and `stream` (Mastra's SSE framing).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    common::{merge_client_context, Precomputed},
    found::Found,
};
use crate::{
    agent::{Agent, AgentInput, AgentResult, AgentSummary, Chunk, GenerateOptions},
    disconnect::abort_signal,
    error::ApiError,
    extract::{Json, Path},
    mastra::Mastra,
    model::ModelSettings,
    openapi::{OperationFragment, RequestBodyFragment, ResponseFragment, SseEvent},
    route::{ApiRoute, RouteOrigin},
};

/// `memory.thread`: an id, or an object with one.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ThreadRef {
    /// The thread id.
    Id(String),
    /// `{ "id": "..." }` (other fields are ignored).
    Object {
        /// The thread id.
        id: String,
    },
}

impl ThreadRef {
    /// The thread id.
    pub fn id(&self) -> &str {
        match self {
            ThreadRef::Id(id) | ThreadRef::Object { id } => id,
        }
    }
}

/// Which conversation a run reads and saves.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct MemoryBody {
    /// The thread, created on first save when it does not exist.
    pub thread: ThreadRef,
    /// The thread's owner (a user, an account).
    pub resource: String,
}

/// The body of `generate` and `stream` (Mastra's; fields not listed are accepted and ignored).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerateBody {
    /// One user message as a string, or a list of `{role, content}` messages.
    pub messages: AgentInput,
    /// Thread and resource to read from and save to.
    #[serde(default)]
    pub memory: Option<MemoryBody>,
    /// Values for the request context (reserved `mastra__*` keys are ignored).
    #[serde(default)]
    pub request_context: Option<Map<String, Value>>,
    /// Most model calls in the tool loop.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_steps: Option<u32>,
    /// The run id (a fresh UUID otherwise).
    #[serde(default)]
    pub run_id: Option<String>,
    /// Sampling settings for this run.
    #[serde(default)]
    pub model_settings: Option<ModelSettings>,
}

/// The run's input and options. The run gets the request's abort signal: a client that leaves
/// stops it (and its model request), and nothing is saved, as with Mastra's request signal.
fn options(
    mastra: &Mastra,
    req: &HttpRequest,
    body: GenerateBody,
) -> (AgentInput, GenerateOptions) {
    let ctx = merge_client_context(req, body.request_context);
    let mut options = GenerateOptions::new()
        .request_context(ctx)
        .mastra(mastra.clone())
        .abort_signal(abort_signal(req));
    if let Some(memory) = body.memory {
        options = options.memory(memory.thread.id(), memory.resource);
    }
    if let Some(steps) = body.max_steps {
        options = options.max_steps(steps);
    }
    if let Some(run_id) = body.run_id {
        options = options.run_id(run_id);
    }
    if let Some(settings) = body.model_settings {
        if let Some(t) = settings.temperature {
            options = options.temperature(t);
        }
        if let Some(m) = settings.max_tokens {
            options = options.max_tokens(m);
        }
    }
    (body.messages, options)
}

// `Found<Agent>` before `Json`: an unknown agent is 404 before the body is read.
async fn generate(
    req: HttpRequest,
    mastra: Mastra,
    Found(agent): Found<Agent>,
    Json(body): Json<GenerateBody>,
) -> Result<Json<AgentResult>, ApiError> {
    let (input, options) = options(&mastra, &req, body);
    Ok(Json(agent.generate(input, options).await?))
}

async fn stream(
    req: HttpRequest,
    mastra: Mastra,
    Found(agent): Found<Agent>,
    Json(body): Json<GenerateBody>,
) -> Result<HttpResponse, ApiError> {
    let (input, options) = options(&mastra, &req, body);
    Ok(agent.stream(input, options).await?.to_sse_response())
}

pub(super) fn routes(prefix: &str) -> Vec<ApiRoute> {
    vec![
        ApiRoute::get(format!("{prefix}/agents"))
            .create_inferred_handler(|mastra: &Mastra| {
                let all: BTreeMap<String, AgentSummary> = mastra
                    .agents()
                    .iter()
                    .map(|(id, agent)| (id.clone(), agent.summary()))
                    .collect();
                let body = Precomputed::new(&all);
                move || {
                    let body = body.clone();
                    async move { body }
                }
            })
            .handler_name("listAgents")
            .openapi(
                OperationFragment::new()
                    .summary("List agents")
                    .description("Every agent, keyed by id, with its tools and model.")
                    .tag("agents"),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::get(format!("{prefix}/agents/:agentId"))
            .create_inferred_handler(|mastra: &Mastra| {
                let each: BTreeMap<String, Precomputed<AgentSummary>> = mastra
                    .agents()
                    .iter()
                    .map(|(id, agent)| (id.clone(), Precomputed::new(&agent.summary())))
                    .collect();
                move |Path(agent_id): Path<String>| {
                    let found = each.get(&agent_id).cloned();
                    async move {
                        found.ok_or_else(|| {
                            ApiError::not_found(format!("Agent with id {agent_id} not found"))
                        })
                    }
                }
            })
            .handler_name("getAgentById")
            .openapi(
                OperationFragment::new()
                    .summary("Get agent by ID")
                    .tag("agents")
                    .response(ResponseFragment::new(404).description("Agent not found")),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::post(format!("{prefix}/agents/:agentId/generate"))
            .inferred_handler(generate)
            .handler_name("generateAgent")
            .openapi(
                OperationFragment::new()
                    .summary("Generate a response from an agent")
                    .description(
                        "Runs the tool loop to completion and answers with the text, usage, \
                         finish reason, tool calls and tool results.",
                    )
                    .tag("agents")
                    .response(ResponseFragment::new(404).description("Agent not found"))
                    .response(ResponseFragment::new(502).description("The model provider failed")),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::post(format!("{prefix}/agents/:agentId/stream"))
            .inferred_handler(stream)
            .handler_name("streamAgent")
            .openapi(
                OperationFragment::new()
                    .summary("Stream a response from an agent")
                    .description(
                        "Server-Sent Events: one `data: {chunk}` frame per chunk \
                         (`{type, runId, from, payload}`), then `data: [DONE]`.",
                    )
                    .tag("agents")
                    .request_body(
                        RequestBodyFragment::new()
                            .body::<GenerateBody>()
                            .required(true),
                    )
                    .response(
                        ResponseFragment::new(200)
                            .description("Agent stream chunks")
                            .content_type("text/event-stream")
                            .body::<SseEvent<Chunk>>(),
                    )
                    .response(ResponseFragment::new(404).description("Agent not found")),
            )
            .origin(RouteOrigin::BuiltIn),
    ]
}
