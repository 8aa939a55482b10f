//! `/api/agents`: list and describe agents, `generate` and `stream` (Mastra's SSE framing),
//! and the decisions on tool calls waiting for approval (`approve-tool-call`,
//! `decline-tool-call`, their `-generate` forms, `suspended-runs`).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    common::{merge_client_context, per_page, PerPage, Precomputed},
    found::Found,
};
use crate::{
    agent::{
        Agent, AgentInput, AgentResult, AgentSummary, Chunk, GenerateOptions, ModelOutput,
        SuspendedRun, SuspendedRunFilter,
    },
    disconnect::abort_signal,
    error::ApiError,
    extract::{Json, Path, Query},
    mastra::Mastra,
    memory::PageRequest,
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

/// The body of `approve-tool-call` and `decline-tool-call` (and their `-generate` forms):
/// which run and which of its tool calls (Mastra's; fields not listed are accepted and
/// ignored).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolDecisionBody {
    /// The suspended run (the `runId` of its chunks).
    pub run_id: String,
    /// The tool call waiting for approval (the `toolCallId` of its `tool-call-approval`
    /// chunk); when left out, the call the run waits on.
    #[serde(default)]
    pub tool_call_id: Option<String>,
    /// Values for the request context the rest of the turn runs with (reserved `mastra__*`
    /// keys are ignored).
    #[serde(default)]
    pub request_context: Option<Map<String, Value>>,
}

/// `GET /api/agents/:agentId/suspended-runs` query.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SuspendedRunsQuery {
    /// Only this resource's runs.
    #[serde(default)]
    pub resource_id: Option<String>,
    /// Only runs writing to this memory thread.
    #[serde(default)]
    pub thread_id: Option<String>,
    /// The page, from 0.
    #[serde(default)]
    pub page: Option<u32>,
    /// Runs per page (100 unless given), or `false` for every run.
    #[serde(default)]
    pub per_page: Option<PerPage>,
}

/// Runs waiting for a decision, newest first (Mastra's `{runs, total}` with the paging fields).
#[derive(Debug, Clone, serde::Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SuspendedRunList {
    runs: Vec<SuspendedRun>,
    total: u64,
    page: u32,
    per_page: PerPage,
    has_more: bool,
    /// Runs on this page that are stored but cannot be read, with why (only when some).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unreadable: Vec<crate::memory::UnreadableItem>,
}

/// Runs per page of `suspended-runs` when the client does not say.
const DEFAULT_SUSPENDED_RUNS_PER_PAGE: u32 = 100;

/// Decides the call and starts the rest of the turn as tracked background work: once a
/// decision is accepted, the tool's effect and the turn's memory do not depend on the client
/// staying (a client that leaves stops reading, not the run).
async fn decide(
    mastra: &Mastra,
    req: &HttpRequest,
    agent: &Agent,
    body: ToolDecisionBody,
    approve: bool,
) -> Result<ModelOutput, ApiError> {
    let ctx = merge_client_context(req, body.request_context);
    let options = GenerateOptions::new()
        .request_context(ctx)
        .mastra(mastra.clone());
    let tool_call_id = match body.tool_call_id {
        Some(id) => id,
        None => agent.pending_tool_call(&body.run_id).await?.tool_call_id,
    };
    let output = if approve {
        agent
            .approve_tool_call(&body.run_id, &tool_call_id, options)
            .await?
    } else {
        agent
            .decline_tool_call(&body.run_id, &tool_call_id, options)
            .await?
    };
    output.consume_stream_in_background(mastra);
    Ok(output)
}

async fn approve_tool_call(
    req: HttpRequest,
    mastra: Mastra,
    Found(agent): Found<Agent>,
    Json(body): Json<ToolDecisionBody>,
) -> Result<HttpResponse, ApiError> {
    Ok(decide(&mastra, &req, &agent, body, true)
        .await?
        .to_sse_response())
}

async fn decline_tool_call(
    req: HttpRequest,
    mastra: Mastra,
    Found(agent): Found<Agent>,
    Json(body): Json<ToolDecisionBody>,
) -> Result<HttpResponse, ApiError> {
    Ok(decide(&mastra, &req, &agent, body, false)
        .await?
        .to_sse_response())
}

async fn approve_tool_call_generate(
    req: HttpRequest,
    mastra: Mastra,
    Found(agent): Found<Agent>,
    Json(body): Json<ToolDecisionBody>,
) -> Result<Json<AgentResult>, ApiError> {
    let output = decide(&mastra, &req, &agent, body, true).await?;
    Ok(Json(output.consume_stream().await?))
}

async fn decline_tool_call_generate(
    req: HttpRequest,
    mastra: Mastra,
    Found(agent): Found<Agent>,
    Json(body): Json<ToolDecisionBody>,
) -> Result<Json<AgentResult>, ApiError> {
    let output = decide(&mastra, &req, &agent, body, false).await?;
    Ok(Json(output.consume_stream().await?))
}

async fn suspended_runs(
    Found(agent): Found<Agent>,
    Query(q): Query<SuspendedRunsQuery>,
) -> Result<Json<SuspendedRunList>, ApiError> {
    let request = PageRequest {
        page: q.page.unwrap_or(0),
        per_page: per_page(q.per_page, DEFAULT_SUSPENDED_RUNS_PER_PAGE),
    };
    let filter = SuspendedRunFilter {
        resource_id: q.resource_id,
        thread_id: q.thread_id,
    };
    let page = agent.suspended_runs(filter, request).await?;
    Ok(Json(SuspendedRunList {
        per_page: page.per_page.map_or(PerPage::All, PerPage::Count),
        total: page.total,
        page: page.page,
        has_more: page.has_more,
        unreadable: page.unreadable,
        runs: page.items,
    }))
}

/// The description of a decision route: `stream` answers SSE, else the result as JSON.
fn decision_route(
    prefix: &str,
    path: &str,
    name: &'static str,
    summary: &'static str,
    description: &'static str,
    stream: bool,
) -> ApiRoute {
    let mut fragment = OperationFragment::new()
        .summary(summary)
        .description(description)
        .tag("agents")
        .request_body(
            RequestBodyFragment::new()
                .body::<ToolDecisionBody>()
                .required(true),
        );
    if stream {
        fragment = fragment.response(
            ResponseFragment::new(200)
                .description("Agent stream chunks: the rest of the turn")
                .content_type("text/event-stream")
                .body::<SseEvent<Chunk>>(),
        );
    }
    let route = ApiRoute::post(format!("{prefix}/agents/:agentId/{path}"));
    let route = match (stream, path.starts_with("approve")) {
        (true, true) => route.inferred_handler(approve_tool_call),
        (true, false) => route.inferred_handler(decline_tool_call),
        (false, true) => route.inferred_handler(approve_tool_call_generate),
        (false, false) => route.inferred_handler(decline_tool_call_generate),
    };
    route
        .handler_name(name)
        .openapi(
            fragment
                .response(
                    ResponseFragment::new(404)
                        .description("Agent, run or tool call not found, or not waiting"),
                )
                .response(
                    ResponseFragment::new(409).description("The tool call was already decided"),
                ),
        )
        .origin(RouteOrigin::BuiltIn)
}

pub(super) fn routes(prefix: &str) -> Vec<ApiRoute> {
    vec![
        decision_route(
            prefix,
            "approve-tool-call",
            "approveToolCall",
            "Approve a tool call waiting for approval",
            "Runs the tool the suspended run waits on and streams the rest of the turn \
             (`tool-result`, `step-finish`, the text, `finish`). The run goes on to its end \
             even if the client leaves.",
            true,
        ),
        decision_route(
            prefix,
            "decline-tool-call",
            "declineToolCall",
            "Decline a tool call waiting for approval",
            "Does not run the tool; streams `tool-output-denied`, and the model is told the \
             call was not approved, then the rest of the turn.",
            true,
        ),
        decision_route(
            prefix,
            "approve-tool-call-generate",
            "approveToolCallGenerate",
            "Approve a tool call and answer the result",
            "As approve-tool-call, answering the turn's result as JSON.",
            false,
        ),
        decision_route(
            prefix,
            "decline-tool-call-generate",
            "declineToolCallGenerate",
            "Decline a tool call and answer the result",
            "As decline-tool-call, answering the turn's result as JSON.",
            false,
        ),
        ApiRoute::get(format!("{prefix}/agents/:agentId/suspended-runs"))
            .inferred_handler(suspended_runs)
            .handler_name("listSuspendedRuns")
            .openapi(
                OperationFragment::new()
                    .summary("List runs waiting for a tool call's approval")
                    .description(
                        "Runs stopped before a tool call that requires approval, newest first, \
                         from storage (so they survive restarts and are shared by instances).",
                    )
                    .tag("agents")
                    .response(ResponseFragment::new(404).description("Agent not found")),
            )
            .origin(RouteOrigin::BuiltIn),
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
