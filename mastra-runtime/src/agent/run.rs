//! One agent run: load memory, then the tool loop (model call, tools, results back to the
//! model, up to `max_steps`), then save memory. Every step is reported as chunks.
//!
//! A tool call the agent's tool marks as requiring approval stops the loop: the run's state
//! ([`RunState`]) is kept in storage as a suspended agent run, the stream sends a
//! `tool-call-approval` chunk and ends. A decision ([`resume`]) claims the kept run, runs or
//! declines the call and goes on from there; memory is saved once, when the turn ends.

use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::{
    approval::{KeptRun, ToolApprovalRequest, APPROVAL_RESUME_SCHEMA, NOT_APPROVED},
    chunk::ChunkType,
    options::InputMessage,
    output::{AgentResult, Recorder, StepResult},
    run_state::{Decision, MemoryIds, OpenStep, PromptMessage, RunState},
    Agent, AgentError,
};
use crate::{
    app::AppHandle,
    memory::{
        check_id, AgentRunStatus, Message, MessageContent, MessagePart, MessageRole, Storage,
        StorageError, Thread, ToolInvocation,
    },
    model::{
        FinishReason, ModelError, ModelEvent, ModelMessage, ModelRequest, ModelSettings, ToolCall,
        ToolOutcome, Usage,
    },
    route::RequestContext,
    tool::{ToolContext, ToolFailure},
};

/// Where a run reads and saves its conversation.
pub(crate) struct MemoryPlan {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) thread: String,
    pub(crate) resource: String,
    pub(crate) last_messages: usize,
}

/// Everything a run needs, resolved before it starts.
pub(crate) struct RunPlan {
    pub(crate) agent: Agent,
    pub(crate) input: Vec<InputMessage>,
    pub(crate) memory: Option<MemoryPlan>,
    pub(crate) max_steps: u32,
    pub(crate) settings: ModelSettings,
    pub(crate) request_context: RequestContext,
    pub(crate) abort: CancellationToken,
    pub(crate) app: Option<AppHandle>,
}

/// A suspended run claimed for one decision: its state (the decision set on the call it waits
/// on) and where it is kept.
pub(crate) struct ResumePlan {
    pub(crate) agent: Agent,
    pub(crate) state: RunState,
    pub(crate) kept: KeptRun,
    pub(crate) request_context: RequestContext,
    pub(crate) abort: CancellationToken,
    pub(crate) app: Option<AppHandle>,
}

/// How a run ended early.
enum Stop {
    Aborted,
    Failed(AgentError),
}

impl From<AgentError> for Stop {
    fn from(e: AgentError) -> Self {
        Stop::Failed(e)
    }
}

/// How a stretch of a run ended.
enum Ended {
    /// The turn is over.
    Finished(Box<AgentResult>),
    /// The run stopped before a tool call that waits for approval: what it did so far, with
    /// the call in `suspend_payload`.
    Suspended(Box<AgentResult>),
}

/// What the loop needs besides the state.
struct Ctx<'a> {
    agent: &'a Agent,
    request_context: &'a RequestContext,
    abort: &'a CancellationToken,
    app: &'a Option<AppHandle>,
}

/// Runs `plan`, reporting through `rec`.
pub(crate) async fn run(plan: RunPlan, rec: Recorder) {
    rec.emit(ChunkType::Start, json!({}));
    let ctx = Ctx {
        agent: &plan.agent,
        request_context: &plan.request_context,
        abort: &plan.abort,
        app: &plan.app,
    };
    let outcome = match start(&plan).await {
        Ok(mut state) => match drive(&mut state, &ctx, &rec).await {
            Ok(Ended::Suspended(result)) => match KeptRun::fresh(&plan.agent, rec.run_id()) {
                Ok(kept) => suspend(kept, &state, result, &rec).await,
                Err(error) => Err(Stop::Failed(error.into())),
            },
            other => other,
        },
        Err(stop) => Err(stop),
    };
    report(&plan.agent, outcome, &rec);
}

/// Continues a claimed run after a decision, reporting through `rec`. The kept run ends
/// `success` or `failed`, or is kept `suspended` again at the next call waiting for approval.
pub(crate) async fn resume(plan: ResumePlan, rec: Recorder) {
    rec.emit(ChunkType::Start, json!({}));
    let ResumePlan {
        agent,
        mut state,
        kept,
        request_context,
        abort,
        app,
    } = plan;
    let ctx = Ctx {
        agent: &agent,
        request_context: &request_context,
        abort: &abort,
        app: &app,
    };
    let outcome = match drive(&mut state, &ctx, &rec).await {
        Ok(Ended::Suspended(result)) => suspend(kept, &state, result, &rec).await,
        Ok(Ended::Finished(result)) => {
            match kept.save(&state, AgentRunStatus::Success).await {
                Ok(()) => Ok(Ended::Finished(result)),
                // The turn is saved to memory; only the record of the decision is stale.
                Err(error) => {
                    tracing::error!(agent = agent.id(), run_id = rec.run_id(), %error, "the finished agent run could not be recorded");
                    Ok(Ended::Finished(result))
                }
            }
        }
        Err(stop) => {
            // The decision may have run the tool: the run is not offered for a second one.
            if let Err(error) = kept.save(&state, AgentRunStatus::Failed).await {
                tracing::error!(agent = agent.id(), run_id = rec.run_id(), %error, "the failed agent run could not be recorded");
            }
            Err(stop)
        }
    };
    report(&agent, outcome, &rec);
}

/// Keeps the run as suspended, then tells readers which call waits (only once it is kept, so
/// a client that answers at once finds it).
async fn suspend(
    kept: KeptRun,
    state: &RunState,
    result: Box<AgentResult>,
    rec: &Recorder,
) -> Result<Ended, Stop> {
    kept.save(state, AgentRunStatus::Suspended)
        .await
        .map_err(|e| Stop::Failed(AgentError::Storage(e)))?;
    if let Some(request) = &result.suspend_payload {
        rec.emit(
            ChunkType::ToolCallApproval,
            json!({
                "toolCallId": request.tool_call_id,
                "toolName": request.tool_name,
                "args": request.args,
                "resumeSchema": APPROVAL_RESUME_SCHEMA,
            }),
        );
    }
    Ok(Ended::Suspended(result))
}

/// Ends the chunk log: `finish` for a finished turn, nothing more for a suspended one (Mastra's
/// stream ends after `tool-call-approval`), `abort` or `error` otherwise.
fn report(agent: &Agent, outcome: Result<Ended, Stop>, rec: &Recorder) {
    match outcome {
        Ok(Ended::Finished(result)) => {
            rec.emit(
                ChunkType::Finish,
                json!({
                    "stepResult": { "reason": result.finish_reason, "isContinued": false },
                    "output": { "usage": result.usage },
                    "usage": result.usage,
                    "metadata": {},
                }),
            );
            rec.finish(Ok(*result));
        }
        Ok(Ended::Suspended(result)) => {
            tracing::info!(
                agent = agent.id(),
                run_id = rec.run_id(),
                tool_call_id = result
                    .suspend_payload
                    .as_ref()
                    .map(|r| r.tool_call_id.as_str()),
                "agent run suspended: a tool call waits for approval"
            );
            rec.finish(Ok(*result));
        }
        Err(Stop::Aborted) => {
            tracing::info!(
                agent = agent.id(),
                run_id = rec.run_id(),
                "agent run aborted; nothing saved"
            );
            rec.emit(ChunkType::Abort, json!({}));
            rec.finish(Err(AgentError::Aborted));
        }
        Err(Stop::Failed(error)) => {
            tracing::warn!(agent = agent.id(), run_id = rec.run_id(), %error, "agent run failed");
            rec.emit(
                ChunkType::Error,
                json!({ "error": { "name": error.name(), "message": error.to_string() } }),
            );
            rec.finish(Err(error));
        }
    }
}

/// Awaits `future` unless the run is aborted first (dropping it, and with it any upstream
/// request).
async fn unless_aborted<T>(
    abort: &CancellationToken,
    future: impl std::future::Future<Output = T>,
) -> Result<T, Stop> {
    tokio::select! {
        biased;
        () = abort.cancelled() => Err(Stop::Aborted),
        value = future => Ok(value),
    }
}

/// The state of a new run: memory read, the prompt built.
async fn start(plan: &RunPlan) -> Result<RunState, Stop> {
    let agent = &plan.agent;
    agent.language_model()?;
    let history = match &plan.memory {
        Some(memory) => Some(unless_aborted(&plan.abort, load_memory(memory)).await??.1),
        None => None,
    };
    let mut prompt = Vec::new();
    if !agent.instructions().is_empty() {
        prompt.push(ModelMessage::System(agent.instructions().to_owned()));
    }
    if let Some(history) = &history {
        prompt.extend(history_to_model(history));
    }
    prompt.extend(plan.input.iter().map(InputMessage::to_model));
    Ok(RunState {
        input: plan.input.clone(),
        memory: plan.memory.as_ref().map(|m| MemoryIds {
            thread: m.thread.clone(),
            resource: m.resource.clone(),
        }),
        max_steps: plan.max_steps,
        settings: plan.settings.clone(),
        prompt: prompt.iter().map(PromptMessage::from).collect(),
        step: 0,
        total_usage: Usage::default(),
        steps: Vec::new(),
        all_text: String::new(),
        call_chunks: Vec::new(),
        result_chunks: Vec::new(),
        parts: Vec::new(),
        finish_reason: FinishReason::Stop,
        open: None,
        decided: Vec::new(),
    })
}

/// The tool loop, from wherever `state` is: the open step's remaining tool calls, then model
/// calls until one asks for no tool or `max_steps` is reached; then memory is saved. Stops
/// before a call waiting for approval with no decision.
async fn drive(state: &mut RunState, ctx: &Ctx<'_>, rec: &Recorder) -> Result<Ended, Stop> {
    let agent = ctx.agent;
    let model = agent.language_model()?;
    let abort = ctx.abort;
    let tool_specs: Vec<_> = agent.tools().values().map(|t| t.spec()).collect();
    let mut prompt: Vec<ModelMessage> = state.prompt.drain(..).map(ModelMessage::from).collect();

    loop {
        if state.open.is_none() {
            let open = model_step(state, &prompt, &tool_specs, &*model, ctx, rec).await?;
            state.open = Some(open);
        }
        if let Some(open) = state.open.as_mut() {
            while let Some(call) = open.next_call().cloned() {
                let index = open.outcomes.len();
                let refusal = open.refusals.get(index).cloned().flatten();
                let outcome = match refusal {
                    Some(error) => Some(refused_call(&call, error)),
                    None if needs_approval(agent, &call) => match open.decision.take() {
                        None => {
                            state.prompt = prompt.iter().map(PromptMessage::from).collect();
                            return Ok(Ended::Suspended(Box::new(AgentResult {
                                text: state.all_text.clone(),
                                usage: state.total_usage,
                                finish_reason: FinishReason::ToolCalls,
                                tool_calls: state.call_chunks.clone(),
                                tool_results: state.result_chunks.clone(),
                                steps: state.steps.clone(),
                                run_id: rec.run_id().to_owned(),
                                suspend_payload: Some(ToolApprovalRequest {
                                    tool_call_id: call.id.clone(),
                                    tool_name: call.name.clone(),
                                    args: call.args.clone(),
                                }),
                            })));
                        }
                        Some(Decision::Approved) => {
                            Some(unless_aborted(abort, run_tool(ctx, &call)).await?)
                        }
                        Some(Decision::Declined) => {
                            rec.emit(
                                ChunkType::ToolOutputDenied,
                                json!({
                                    "toolCallId": call.id,
                                    "toolName": call.name,
                                    "args": call.args,
                                    "approval": { "approved": false, "reason": NOT_APPROVED },
                                }),
                            );
                            None
                        }
                    },
                    None => Some(unless_aborted(abort, run_tool(ctx, &call)).await?),
                };
                let outcome = match outcome {
                    Some(outcome) => {
                        state.result_chunks.push(rec.emit(
                            ChunkType::ToolResult,
                            json!({
                                "toolCallId": call.id,
                                "toolName": call.name,
                                "args": call.args,
                                "result": outcome.result,
                                "isError": outcome.is_error,
                            }),
                        ));
                        outcome
                    }
                    None => ToolOutcome {
                        call_id: call.id.clone(),
                        name: call.name.clone(),
                        result: Value::String(NOT_APPROVED.to_owned()),
                        is_error: true,
                    },
                };
                state.parts.push(MessagePart::ToolInvocation {
                    tool_invocation: ToolInvocation {
                        state: "result".to_owned(),
                        step: state.step,
                        tool_call_id: call.id.clone(),
                        tool_name: call.name.clone(),
                        args: call.args.clone(),
                        result: outcome.result.clone(),
                        is_error: outcome.is_error,
                    },
                });
                open.outcomes.push(outcome);
            }
        }
        let Some(open) = state.open.take() else {
            continue;
        };
        rec.emit(
            ChunkType::StepFinish,
            json!({
                "messageId": open.message_id,
                "stepResult": { "reason": open.reason, "isContinued": false },
                "output": { "text": open.text, "toolCalls": open.calls, "usage": open.usage },
                "metadata": {},
            }),
        );
        prompt.push(ModelMessage::Assistant {
            text: open.text.clone(),
            tool_calls: open.calls.clone(),
        });
        let called_tools = !open.calls.is_empty();
        if called_tools {
            prompt.push(ModelMessage::Tool(open.outcomes.clone()));
        }
        state.steps.push(StepResult {
            text: open.text,
            tool_calls: open.calls,
            tool_results: open.outcomes,
            finish_reason: open.reason,
            usage: open.usage,
        });
        state.step += 1;
        if !called_tools || state.step >= state.max_steps.max(1) {
            break;
        }
    }

    if abort.is_cancelled() {
        return Err(Stop::Aborted);
    }
    if let Some(ids) = &state.memory {
        let storage = agent
            .storage()
            .ok_or_else(|| AgentError::NoStorage(agent.id().to_owned()))?;
        let thread = Thread::new(ids.thread.clone(), ids.resource.clone());
        let mut messages: Vec<Message> = state
            .input
            .iter()
            .filter(|m| m.role != MessageRole::System)
            .map(|m| Message::new(&thread, m.role, MessageContent::text(m.text())))
            .collect();
        messages.push(Message::new(
            &thread,
            MessageRole::Assistant,
            MessageContent::from_parts(std::mem::take(&mut state.parts)),
        ));
        // Saved only once the turn is complete; a run aborted before this line saves nothing.
        unless_aborted(abort, storage.append_messages(&thread, &messages))
            .await?
            .map_err(refused)?;
    }

    Ok(Ended::Finished(Box::new(AgentResult {
        text: std::mem::take(&mut state.all_text),
        usage: state.total_usage,
        finish_reason: state.finish_reason,
        tool_calls: std::mem::take(&mut state.call_chunks),
        tool_results: std::mem::take(&mut state.result_chunks),
        steps: std::mem::take(&mut state.steps),
        run_id: rec.run_id().to_owned(),
        suspend_payload: None,
    })))
}

/// Whether `call` waits for a person: its tool requires approval.
fn needs_approval(agent: &Agent, call: &ToolCall) -> bool {
    agent
        .tools()
        .get(&call.name)
        .is_some_and(|tool| tool.requires_approval())
}

/// One model call: its text and tool calls reported as chunks, the step left open for its
/// tool calls.
async fn model_step(
    state: &mut RunState,
    prompt: &[ModelMessage],
    tool_specs: &[crate::model::ToolSpec],
    model: &dyn crate::model::LanguageModel,
    ctx: &Ctx<'_>,
    rec: &Recorder,
) -> Result<OpenStep, Stop> {
    let abort = ctx.abort;
    let message_id = uuid::Uuid::new_v4().to_string();
    rec.emit(
        ChunkType::StepStart,
        json!({ "messageId": message_id, "request": {}, "warnings": [] }),
    );
    state.parts.push(MessagePart::StepStart);
    let request = ModelRequest {
        messages: prompt.to_vec(),
        tools: tool_specs.to_vec(),
        settings: state.settings.clone(),
        abort: abort.clone(),
    };
    let mut stream = unless_aborted(abort, model.stream(request))
        .await?
        .map_err(AgentError::Model)?;

    let text_id = format!("{message_id}-text");
    let mut text = String::new();
    let mut calls: Vec<ToolCall> = Vec::new();
    // Per call, why it was refused before running (its arguments nested too deeply).
    let mut refusals: Vec<Option<String>> = Vec::new();
    let mut finish: Option<(FinishReason, Usage)> = None;
    while let Some(event) = unless_aborted(abort, stream.next()).await? {
        let event = match event.map_err(AgentError::Model)? {
            // The wire providers check depth as they parse; a model of the application's
            // own may hand over arguments of any depth, which memory could not read back.
            ModelEvent::ToolCall(call) => call.into_event(),
            other => other,
        };
        match event {
            ModelEvent::TextDelta(delta) => {
                if text.is_empty() {
                    rec.emit(ChunkType::TextStart, json!({ "id": text_id }));
                }
                text.push_str(&delta);
                rec.emit(
                    ChunkType::TextDelta,
                    json!({ "id": text_id, "text": delta }),
                );
            }
            ModelEvent::ToolCall(call) => {
                state.call_chunks.push(rec.emit(
                    ChunkType::ToolCall,
                    json!({ "toolCallId": call.id, "toolName": call.name, "args": call.args }),
                ));
                calls.push(call);
                refusals.push(None);
            }
            ModelEvent::InvalidToolCall { call, error } => {
                tracing::warn!(
                    agent = ctx.agent.id(),
                    run_id = rec.run_id(),
                    tool = %call.name,
                    %error,
                    "tool call refused"
                );
                state.call_chunks.push(rec.emit(
                    ChunkType::ToolCall,
                    json!({ "toolCallId": call.id, "toolName": call.name, "args": call.args }),
                ));
                calls.push(call);
                refusals.push(Some(error));
            }
            ModelEvent::Finish { reason, usage } => finish = Some((reason, usage)),
        }
    }
    drop(stream);
    if !text.is_empty() {
        rec.emit(ChunkType::TextEnd, json!({ "id": text_id }));
        state.parts.push(MessagePart::Text { text: text.clone() });
        state.all_text.push_str(&text);
    }
    let (reason, usage) = finish.ok_or_else(|| {
        AgentError::Model(ModelError::Malformed {
            provider: model.provider().to_owned(),
            detail: "the model stream ended without a finish event".to_owned(),
        })
    })?;
    state.total_usage.add(usage);
    state.finish_reason = reason;
    Ok(OpenStep {
        message_id,
        text,
        calls,
        refusals,
        outcomes: Vec::new(),
        reason,
        usage,
        decision: None,
    })
}

fn history_to_model(messages: &[Message]) -> Vec<ModelMessage> {
    let mut out = Vec::new();
    for message in messages {
        match message.role {
            MessageRole::User => out.push(ModelMessage::User(message.content.plain_text())),
            MessageRole::System => out.push(ModelMessage::System(message.content.plain_text())),
            MessageRole::Assistant => {
                // Replay each step: its text and calls, then the calls' results.
                let mut text = String::new();
                let mut calls = Vec::new();
                let mut results = Vec::new();
                let mut flush = |text: &mut String,
                                 calls: &mut Vec<ToolCall>,
                                 results: &mut Vec<ToolOutcome>| {
                    if !text.is_empty() || !calls.is_empty() {
                        out.push(ModelMessage::Assistant {
                            text: std::mem::take(text),
                            tool_calls: std::mem::take(calls),
                        });
                    }
                    if !results.is_empty() {
                        out.push(ModelMessage::Tool(std::mem::take(results)));
                    }
                };
                for part in &message.content.parts {
                    match part {
                        MessagePart::StepStart => flush(&mut text, &mut calls, &mut results),
                        MessagePart::Text { text: t } => text.push_str(t),
                        MessagePart::ToolInvocation { tool_invocation: t } => {
                            calls.push(ToolCall {
                                id: t.tool_call_id.clone(),
                                name: t.tool_name.clone(),
                                args: t.args.clone(),
                            });
                            results.push(ToolOutcome {
                                call_id: t.tool_call_id.clone(),
                                name: t.tool_name.clone(),
                                result: t.result.clone(),
                                is_error: t.is_error,
                            });
                        }
                    }
                }
                flush(&mut text, &mut calls, &mut results);
            }
        }
    }
    out
}

/// Reads the thread and its recent messages. Ids over their limit are refused here, before the
/// model is called or anything stored. The owner is checked here too, so a sequential
/// intruder is refused at once; the check that decides is the save's, in its transaction
/// ([`Storage::append_messages`]), which also catches concurrent first writes.
async fn load_memory(plan: &MemoryPlan) -> Result<(Thread, Vec<Message>), AgentError> {
    for (field, id) in [("threadId", &plan.thread), ("resourceId", &plan.resource)] {
        check_id(field, id).map_err(|e| AgentError::InvalidInput(e.to_string()))?;
    }
    let fresh = || Thread::new(plan.thread.clone(), plan.resource.clone());
    let thread = match plan.storage.get_thread(&plan.thread).await {
        Ok(Some(thread)) if thread.resource_id != plan.resource => {
            return Err(refused(StorageError::NotOwner {
                thread_id: thread.id,
                owner: thread.resource_id,
                resource: plan.resource.clone(),
            }))
        }
        Ok(Some(thread)) => thread,
        Ok(None) => fresh(),
        // Its title or metadata cannot be read; the save still checks its owner.
        Err(StorageError::Unreadable { .. }) => fresh(),
        Err(error) => return Err(error.into()),
    };
    let history = plan
        .storage
        .recent_messages(&plan.thread, plan.last_messages)
        .await?;
    Ok((thread, history))
}

/// A storage refusal as the run reports it: invalid input (`400`, an `InvalidInputError`
/// chunk), like every other refusal of what the caller sent.
fn refused(error: StorageError) -> AgentError {
    if error.is_refusal() {
        AgentError::InvalidInput(error.to_string())
    } else {
        AgentError::Storage(error)
    }
}

/// The error result of a call refused before running, as for a tool that fails.
fn refused_call(call: &ToolCall, error: String) -> ToolOutcome {
    ToolOutcome {
        call_id: call.id.clone(),
        name: call.name.clone(),
        result: json!({ "error": error }),
        is_error: true,
    }
}

/// Runs one tool call; unknown tools, invalid input and tool failures become error results the
/// model can read and correct.
async fn run_tool(ctx: &Ctx<'_>, call: &ToolCall) -> ToolOutcome {
    let outcome = |result: Value, is_error: bool| ToolOutcome {
        call_id: call.id.clone(),
        name: call.name.clone(),
        result,
        is_error,
    };
    let Some(tool) = ctx.agent.tools().get(&call.name) else {
        return outcome(
            json!({ "error": format!("Tool {} not found", call.name) }),
            true,
        );
    };
    let tool_ctx = ToolContext::new(ctx.request_context.clone())
        .with_abort(ctx.abort.clone())
        .with_app(ctx.app.clone());
    match tool.execute(call.args.clone(), tool_ctx).await {
        Ok(result) => outcome(result, false),
        Err(ToolFailure::InvalidInput { issues, .. }) => outcome(
            json!({ "error": format!("Invalid input for tool {}", call.name), "issues": issues }),
            true,
        ),
        Err(ToolFailure::Failed { error, .. }) => {
            outcome(json!({ "error": error.to_string() }), true)
        }
        Err(failure @ ToolFailure::InputTooDeep { .. }) => {
            outcome(json!({ "error": failure.to_string() }), true)
        }
    }
}
