//! The streaming part of Mastra's custom-routes guide, in Rust:
//!
//! - `POST /stream`: streams an agent's answer as plain text and passes the request's abort
//!   signal, so a client that disconnects stops the run and its model request;
//! - `POST /chat/persist/:agentId`: does not pass the signal and keeps consuming the run in the
//!   background, so the answer is finished and saved to the memory thread even when the client
//!   leaves mid-stream (graceful shutdown waits for it);
//! - `POST /chat/:agentId`: [`chat_route`], the AI SDK `useChat` endpoint, behind a middleware
//!   that decides whose conversation it is (the body cannot override it).
//!
//! The two UI message streams send a keep-alive comment after 15 s of silence (a `wait` tool
//! call makes one). The agent answers with the offline model (`mastra/echo`, one word every
//! [`ECHO_WORD_DELAY`]) unless `OPENAI_API_KEY` (or `ANTHROPIC_API_KEY`) is set. Memory is kept
//! in `./mastra.db`.

use std::time::Duration;

use mastra_runtime::{
    agent::{AgentInput, ModelChoice, UiMessageChunk, RESOURCE_ID_KEY},
    chat::{ChatRequest, MemoryBody},
    middleware::{Error, Next, ServiceRequest, ServiceResponse},
    model::EchoModel,
    prelude::*,
    sse::SseOptions,
};

/// The model used when `OPENAI_API_KEY` is set.
pub const OPENAI_MODEL: &str = "openai/gpt-4o-mini";

/// The model used when only `ANTHROPIC_API_KEY` is set.
pub const ANTHROPIC_MODEL: &str = "anthropic/claude-3-5-haiku-latest";

/// Pause between two words of the offline model: slow enough to watch the stream in a terminal
/// and to stop `curl` half-way through an answer.
pub const ECHO_WORD_DELAY: Duration = Duration::from_millis(100);

/// The id of the example's agent.
pub const AGENT_ID: &str = "my-agent";

/// The agent's model: a real provider when its key is set, else the offline echo, slowed down.
pub fn model() -> ModelChoice {
    let set = |var: &str| std::env::var(var).is_ok_and(|v| !v.trim().is_empty());
    if set("OPENAI_API_KEY") {
        OPENAI_MODEL.into()
    } else if set("ANTHROPIC_API_KEY") {
        ANTHROPIC_MODEL.into()
    } else {
        EchoModel::new().token_delay(ECHO_WORD_DELAY).into()
    }
}

/// Input of the temperature tool.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CelsiusInput {
    /// Degrees Celsius.
    pub celsius: f64,
}

/// Output of the temperature tool.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FahrenheitOutput {
    /// Degrees Fahrenheit.
    pub fahrenheit: f64,
}

/// Longest wait the `wait` tool accepts.
pub const MAX_WAIT_SECONDS: u64 = 120;

/// Input of the `wait` tool.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WaitInput {
    /// How long to wait.
    #[schemars(range(max = 120))]
    pub seconds: u64,
}

/// Output of the `wait` tool.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WaitOutput {
    /// How long it waited.
    pub waited_seconds: u64,
}

/// A slow tool (a long API call, a report): the stream is silent while it runs, which is when
/// keep-alive comments matter. It stops early when the run is aborted.
pub fn wait_tool() -> Tool {
    Tool::builder("wait")
        .description("Waits the given number of seconds")
        .execute(|input: WaitInput, ctx: ToolContext| async move {
            let seconds = input.seconds.min(MAX_WAIT_SECONDS);
            tokio::select! {
                () = ctx.abort_signal().cancelled() => Err(ToolError::new("aborted")),
                () = tokio::time::sleep(Duration::from_secs(seconds)) => {
                    Ok(WaitOutput { waited_seconds: seconds })
                }
            }
        })
}

/// The agent on `model`: two tools, memory.
pub fn agent(model: impl Into<ModelChoice>) -> Agent {
    Agent::builder(AGENT_ID)
        .name("My Agent")
        .instructions("You are a helpful assistant.")
        .tool(
            Tool::builder("celsius-to-fahrenheit")
                .description("Converts degrees Celsius to degrees Fahrenheit")
                .execute(|input: CelsiusInput, _ctx: ToolContext| async move {
                    Ok::<_, ToolError>(FahrenheitOutput {
                        fahrenheit: input.celsius * 9.0 / 5.0 + 32.0,
                    })
                }),
        )
        .tool(wait_tool())
        .memory(Memory::new())
        .model(model)
        .build()
}

/// The body of `/stream`: Mastra's `messages` (a string or `{role, content}` messages), and
/// optionally the memory thread to save the exchange to (it is saved only if the answer
/// completes).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct StreamBody {
    /// What to say to the agent.
    pub messages: AgentInput,
    /// Thread and resource to read from and save to.
    #[serde(default)]
    pub memory: Option<MemoryBody>,
}

/// Stream an answer as text, cancelled on disconnect
///
/// Passes the request's abort signal: a client that disconnects stops the run (and its model
/// request), and nothing is saved.
#[api_route("/stream", method = "POST", requires_auth = false,
    openapi(tags("streaming"), responses(
        (status = 200, description = "The answer's text deltas, streamed", content_type = "text/plain; charset=utf-8"),
        (status = 404, description = "Agent not found"))))]
async fn stream(c: Context, Json(body): Json<StreamBody>) -> Result<HttpResponse, ApiError> {
    let agent = c.mastra().agent(AGENT_ID)?;
    let mut options = GenerateOptions::new().abort_signal(c.abort_signal());
    if let Some(memory) = body.memory {
        options = options.memory(memory.thread.id(), memory.resource);
    }
    let output = agent.stream(body.messages, options).await?;
    Ok(output.to_text_stream_response())
}

/// Chat, and keep generating after a disconnect
///
/// No abort signal: the run is consumed in the background, so the final assistant message is
/// saved to the thread in `memory` even if nobody reads the stream to its end. Graceful
/// shutdown waits for it. Answers in the AI SDK UI message stream protocol.
#[api_route("/chat/persist/:agentId", method = "POST", requires_auth = false,
    openapi(tags("streaming"), responses(
        (status = 200, description = "UI message stream parts (`x-vercel-ai-ui-message-stream: v1`)",
         content_type = "text/event-stream", body = UiMessageChunk),
        (status = 404, description = "Agent not found"))))]
async fn persist(
    c: Context,
    Path(agent_id): Path<String>,
    Json(body): Json<ChatRequest>,
) -> Result<HttpResponse, ApiError> {
    let agent = c.mastra().agent(&agent_id)?;
    let Some(memory) = &body.memory else {
        return Err(ApiError::bad_request(
            "memory is required: {\"memory\": {\"thread\": \"...\", \"resource\": \"...\"}}",
        ));
    };
    let options = GenerateOptions::new()
        .request_context(c.request_context().clone())
        .mastra(c.mastra().clone())
        .memory(memory.thread.id(), memory.resource.clone());
    // The thread holds the history: send only the new turn.
    let output = agent.stream(body.input(true), options).await?;
    output.consume_stream_in_background(c.mastra());
    Ok(output.to_ui_message_stream_response_with(SseOptions::new().with_default_keep_alive()))
}

/// The header a gateway in front of the app sets to the user it authenticated.
pub const USER_HEADER: &str = "x-user-id";

/// Middleware on the chat route: the conversation belongs to the user the gateway
/// authenticated. Setting `mastra__resourceId` here makes it win over the body's `memory` and
/// `requestContext`. (With [`JwtAuth`] configured, take the user from `c.user()` instead.)
async fn user_from_gateway(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let user = req
        .headers()
        .get(USER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(user) = user {
        RequestContext::of(req.request()).set(RESOURCE_ID_KEY, user);
    }
    next.call(req).await
}

/// The application with the agent on `model`: `/stream`, `/chat/persist/:agentId`, and
/// [`chat_route`] at `/chat/:agentId`.
pub fn app_with_model(model: impl Into<ModelChoice>) -> mastra_runtime::MastraBuilder {
    Mastra::builder()
        .agent(agent(model))
        .route(
            chat_route(ChatRouteOptions {
                sse: SseOptions::new().with_default_keep_alive(),
                ..Default::default()
            })
            .middleware(user_from_gateway),
        )
        // Only this crate's routes, so the app stays the same when linked into a test binary.
        .routes_from_module(module_path!())
}

/// The application with [`model`] (a provider when its key is set, else the offline echo).
pub fn app() -> mastra_runtime::MastraBuilder {
    app_with_model(model())
}
