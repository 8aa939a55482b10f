//! The tools one MCP server offers, and calling them.
//!
//! Every call answers a `CallToolResult` (`{content: [{type: "text", text}], isError}`):
//! arguments that do not fit the tool's input schema, a failing tool, a failed run, an agent
//! error and an unknown tool name are all `isError: true` results the model can read, never
//! JSON-RPC errors.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

use super::{
    route_tool::{Loopback, RouteCall},
    McpError,
};
use crate::{
    agent::{Agent, ChunkType, GenerateOptions},
    app::AppHandle,
    route::{MountedRoute, RequestContext},
    schema::issues_text,
    tool::{Tool, ToolContext, ToolFailure},
    workflow::{CreateRunOptions, RunOptions, Workflow, WorkflowError},
};

/// The argument a tool whose input is not an object takes its input under.
const WRAPPED_INPUT: &str = "input";

/// What an MCP tool calls.
#[derive(Clone)]
enum Target {
    Agent(Agent),
    Workflow(Workflow),
    Tool(Tool),
    Route(RouteCall),
}

/// What kind of item an MCP tool offers (Mastra's `toolType`; plain tools have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum McpToolKind {
    /// `ask_<agentId>`.
    Agent,
    /// `run_<workflowId>`.
    Workflow,
    /// A tool, under its own id.
    Tool,
    /// A custom route offered with `mcp(name = "...")`, under that name.
    Route,
}

/// One tool of an MCP server: its name, description and input schema as clients see them.
#[derive(Clone)]
pub struct McpTool {
    name: String,
    description: String,
    input_schema: Value,
    /// Whether the item's own input is not an object and travels under [`WRAPPED_INPUT`].
    wrapped: bool,
    target: Target,
}

impl std::fmt::Debug for McpTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpTool")
            .field("name", &self.name)
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

impl McpTool {
    /// The name clients call it by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Its input schema (always an object schema, as MCP requires: an item whose input is not
    /// an object takes it under the `input` argument).
    pub fn input_schema(&self) -> &Value {
        &self.input_schema
    }

    /// What it offers.
    pub fn kind(&self) -> McpToolKind {
        match self.target {
            Target::Agent(_) => McpToolKind::Agent,
            Target::Workflow(_) => McpToolKind::Workflow,
            Target::Tool(_) => McpToolKind::Tool,
            Target::Route(_) => McpToolKind::Route,
        }
    }

    /// The entry of `tools/list`.
    pub(crate) fn listing(&self) -> Value {
        json!({
            "name": self.name,
            "description": self.description,
            "inputSchema": self.input_schema,
        })
    }

    fn new(name: String, description: String, schema: &Value, target: Target) -> Self {
        let is_object = schema.get("type").and_then(Value::as_str) == Some("object");
        let input_schema = if is_object {
            schema.clone()
        } else {
            json!({
                "type": "object",
                "properties": {WRAPPED_INPUT: schema},
                "required": [WRAPPED_INPUT],
            })
        };
        Self {
            name,
            description,
            input_schema,
            wrapped: !is_object,
            target,
        }
    }
}

/// What a call runs with: the application, the request's context (the verified user
/// included) and its abort signal.
#[derive(Debug, Clone)]
pub(crate) struct CallContext {
    pub(crate) app: Option<AppHandle>,
    pub(crate) request_context: RequestContext,
    pub(crate) abort: CancellationToken,
    /// Where a custom route's call is replayed (the server that received the MCP request).
    pub(crate) loopback: Option<Loopback>,
    /// Where an agent's progress goes (`notifications/progress` params without the token),
    /// when the client asked for it with `_meta.progressToken`.
    pub(crate) progress: Option<tokio::sync::mpsc::Sender<Value>>,
}

/// A server's tools by name.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    tools: BTreeMap<String, McpTool>,
    /// The client that replays custom routes' calls over loopback.
    client: reqwest::Client,
}

/// The input schema of an agent's tool: one message.
fn agent_input_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"message": {"type": "string", "description": "What to ask the agent"}},
        "required": ["message"],
        "additionalProperties": false,
    })
}

/// A text result.
fn text_result(text: String, is_error: bool) -> Value {
    json!({"content": [{"type": "text", "text": text}], "isError": is_error})
}

/// `value` as a text result (JSON text).
fn json_result(value: &impl Serialize, is_error: bool) -> Value {
    match serde_json::to_string(value) {
        Ok(text) => text_result(text, is_error),
        Err(error) => text_result(format!("the result is not JSON: {error}"), true),
    }
}

fn invalid_arguments(name: &str, detail: &str) -> Value {
    text_result(format!("Invalid arguments for tool {name}: {detail}"), true)
}

impl Catalog {
    /// The tools of server `server`: `ask_<id>` per agent, `run_<id>` per workflow, each tool
    /// under its id.
    pub(crate) fn new<'a>(
        server: &str,
        agents: impl Iterator<Item = &'a Agent>,
        workflows: impl Iterator<Item = &'a Workflow>,
        tools: impl Iterator<Item = &'a Tool>,
        routes: impl Iterator<Item = &'a MountedRoute>,
    ) -> Result<Catalog, McpError> {
        let mut all = Vec::new();
        for agent in agents {
            let description = agent
                .description()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("Ask agent {}", agent.name()));
            all.push(McpTool::new(
                format!("ask_{}", agent.id()),
                description,
                &agent_input_schema(),
                Target::Agent(agent.clone()),
            ));
        }
        for workflow in workflows {
            let description = workflow
                .description()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("Run workflow {}", workflow.id()));
            all.push(McpTool::new(
                format!("run_{}", workflow.id()),
                description,
                workflow.input_schema(),
                Target::Workflow(workflow.clone()),
            ));
        }
        for tool in tools {
            all.push(McpTool::new(
                tool.id().to_owned(),
                tool.description().to_owned(),
                tool.input_schema(),
                Target::Tool(tool.clone()),
            ));
        }
        for route in routes {
            let Some(exposure) = route.mcp_exposure() else {
                continue;
            };
            let (call, schema) = RouteCall::new(route);
            let description = route
                .mcp_description()
                .unwrap_or_else(|| format!("{} {}", route.method().as_str(), route.path()));
            all.push(McpTool::new(
                exposure.name().to_owned(),
                description,
                &schema,
                Target::Route(call),
            ));
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap_or_default();
        let mut catalog = Catalog {
            tools: BTreeMap::new(),
            client,
        };
        for tool in all {
            if catalog.tools.contains_key(&tool.name) {
                return Err(McpError::DuplicateTool {
                    server: server.to_owned(),
                    name: tool.name,
                });
            }
            catalog.tools.insert(tool.name.clone(), tool);
        }
        Ok(catalog)
    }

    /// How many tools.
    pub(crate) fn len(&self) -> usize {
        self.tools.len()
    }

    /// Every tool, by name.
    pub(crate) fn tools(&self) -> impl Iterator<Item = &McpTool> {
        self.tools.values()
    }

    /// Calls tool `name` with `arguments`; always a `CallToolResult`.
    pub(crate) async fn call(&self, name: &str, arguments: Value, ctx: CallContext) -> Value {
        let Some(tool) = self.tools.get(name) else {
            return text_result(format!("Unknown tool: {name}"), true);
        };
        let arguments = match arguments {
            Value::Null => Value::Object(Map::new()),
            other => other,
        };
        let input = if tool.wrapped {
            match arguments {
                Value::Object(mut map) => map.remove(WRAPPED_INPUT).unwrap_or(Value::Null),
                _ => return invalid_arguments(name, "arguments must be an object"),
            }
        } else {
            arguments
        };
        let result = match &tool.target {
            Target::Agent(agent) => ask(agent, name, input, ctx).await,
            Target::Workflow(workflow) => run(workflow, name, input, ctx).await,
            Target::Tool(t) => execute(t, name, input, ctx).await,
            Target::Route(call) => {
                match call
                    .call(&self.client, ctx.loopback.as_ref(), name, input)
                    .await
                {
                    Ok((is_error, text)) => text_result(text, is_error),
                    Err(text) => text_result(text, true),
                }
            }
        };
        if result.get("isError") == Some(&Value::Bool(true)) {
            tracing::info!(tool = name, "MCP tool call answered with an error result");
        }
        result
    }
}

async fn ask(agent: &Agent, name: &str, input: Value, ctx: CallContext) -> Value {
    let message = match input {
        Value::Object(map) => match (map.get("message"), map.len()) {
            (Some(Value::String(message)), 1) => message.clone(),
            (Some(Value::String(_)), _) => {
                return invalid_arguments(name, "only `message` is accepted")
            }
            (Some(_), _) => return invalid_arguments(name, "message: expected a string"),
            (None, _) => return invalid_arguments(name, "message: required"),
        },
        _ => return invalid_arguments(name, "arguments must be an object"),
    };
    let options = GenerateOptions::new()
        .request_context(ctx.request_context)
        .abort_signal(ctx.abort)
        .app(ctx.app);
    let outcome = match agent.stream(message, options).await {
        Ok(output) => {
            if let Some(progress) = &ctx.progress {
                report_progress(&output, progress).await;
            }
            output.consume_stream().await
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(output) => json_result(&output, false),
        Err(error) => {
            tracing::warn!(agent = agent.id(), %error, "MCP agent call failed");
            text_result(format!("Agent {} failed: {error}", agent.id()), true)
        }
    }
}

/// Reports the run's text deltas and tool calls as progress, numbered from 1, until it ends.
/// Progress is advisory: when the client reads slower than the run, reports are dropped, not
/// queued without bound.
async fn report_progress(
    output: &crate::agent::ModelOutput,
    progress: &tokio::sync::mpsc::Sender<Value>,
) {
    let mut chunks = output.full_stream();
    let mut count: u64 = 0;
    while let Some(chunk) = chunks.next().await {
        let message = match chunk.kind {
            ChunkType::TextDelta => chunk.payload["text"].as_str().map(str::to_owned),
            ChunkType::ToolCall => chunk.payload["toolName"]
                .as_str()
                .map(|tool| format!("calling {tool}")),
            ChunkType::ToolResult => chunk.payload["toolName"]
                .as_str()
                .map(|tool| format!("{tool} answered")),
            _ => None,
        };
        if let Some(message) = message {
            count += 1;
            let _ = progress.try_send(json!({"progress": count, "message": message}));
        }
    }
}

async fn run(workflow: &Workflow, name: &str, input: Value, ctx: CallContext) -> Value {
    let options = RunOptions::new().request_context(ctx.request_context);
    if let Err(error) = workflow.check_start(&input, &options) {
        return match error {
            WorkflowError::InvalidInput { issues, .. } => {
                invalid_arguments(name, &issues_text(&issues))
            }
            other => invalid_arguments(name, &other.to_string()),
        };
    }
    let outcome = async {
        let run = workflow.create_run_with(CreateRunOptions::new()).await?;
        run.start(input, options).await
    }
    .await;
    match outcome {
        Ok(result) => json_result(&result, !result.is_success()),
        Err(error) => {
            tracing::warn!(workflow = workflow.id(), %error, "MCP workflow call failed");
            text_result(format!("Workflow {} failed: {error}", workflow.id()), true)
        }
    }
}

async fn execute(tool: &Tool, name: &str, input: Value, ctx: CallContext) -> Value {
    let context = ToolContext::new(ctx.request_context)
        .with_abort(ctx.abort)
        .with_app(ctx.app);
    match tool.execute(input, context).await {
        Ok(output) => json_result(&output, false),
        Err(ToolFailure::InvalidInput { issues, .. }) => {
            invalid_arguments(name, &issues_text(&issues))
        }
        Err(ToolFailure::InputTooDeep { error, .. }) => invalid_arguments(name, &error.to_string()),
        Err(failure @ ToolFailure::Failed { .. }) => {
            tracing::warn!(tool = tool.id(), error = %failure, "MCP tool call failed");
            text_result(failure.to_string(), true)
        }
    }
}
