//! One agent run: load memory, then the tool loop (model call, tools, results back to the
//! model, up to `max_steps`), then save memory. Every step is reported as chunks.

use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::{
    chunk::{Chunk, ChunkType},
    options::InputMessage,
    output::{AgentResult, Recorder, StepResult},
    Agent, AgentError,
};
use crate::{
    app::AppHandle,
    memory::{
        check_id, Message, MessageContent, MessagePart, MessageRole, Storage, StorageError, Thread,
        ToolInvocation,
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

/// Runs `plan`, reporting through `rec`.
pub(crate) async fn run(plan: RunPlan, rec: Recorder) {
    rec.emit(ChunkType::Start, json!({}));
    match run_steps(&plan, &rec).await {
        Ok(result) => {
            rec.emit(
                ChunkType::Finish,
                json!({
                    "stepResult": { "reason": result.finish_reason, "isContinued": false },
                    "output": { "usage": result.usage },
                    "usage": result.usage,
                    "metadata": {},
                }),
            );
            rec.finish(Ok(result));
        }
        Err(Stop::Aborted) => {
            tracing::info!(
                agent = plan.agent.id(),
                run_id = rec.run_id(),
                "agent run aborted; nothing saved"
            );
            rec.emit(ChunkType::Abort, json!({}));
            rec.finish(Err(AgentError::Aborted));
        }
        Err(Stop::Failed(error)) => {
            tracing::warn!(agent = plan.agent.id(), run_id = rec.run_id(), %error, "agent run failed");
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

async fn run_steps(plan: &RunPlan, rec: &Recorder) -> Result<AgentResult, Stop> {
    let agent = &plan.agent;
    let model = agent.language_model()?;
    let abort = &plan.abort;

    let memory = match &plan.memory {
        Some(memory) => Some(unless_aborted(abort, load_memory(memory)).await??),
        None => None,
    };

    let mut prompt = Vec::new();
    if !agent.instructions().is_empty() {
        prompt.push(ModelMessage::System(agent.instructions().to_owned()));
    }
    if let Some((_, history)) = &memory {
        prompt.extend(history_to_model(history));
    }
    prompt.extend(plan.input.iter().map(InputMessage::to_model));
    let tool_specs: Vec<_> = agent.tools().values().map(|t| t.spec()).collect();

    let mut total_usage = Usage::default();
    let mut steps: Vec<StepResult> = Vec::new();
    let mut all_text = String::new();
    let mut call_chunks: Vec<Chunk> = Vec::new();
    let mut result_chunks: Vec<Chunk> = Vec::new();
    let mut parts: Vec<MessagePart> = Vec::new();
    let mut finish_reason = FinishReason::Stop;

    for step in 0..plan.max_steps.max(1) {
        let message_id = uuid::Uuid::new_v4().to_string();
        rec.emit(
            ChunkType::StepStart,
            json!({ "messageId": message_id, "request": {}, "warnings": [] }),
        );
        parts.push(MessagePart::StepStart);
        let request = ModelRequest {
            messages: prompt.clone(),
            tools: tool_specs.clone(),
            settings: plan.settings.clone(),
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
                    call_chunks.push(rec.emit(
                        ChunkType::ToolCall,
                        json!({ "toolCallId": call.id, "toolName": call.name, "args": call.args }),
                    ));
                    calls.push(call);
                    refusals.push(None);
                }
                ModelEvent::InvalidToolCall { call, error } => {
                    tracing::warn!(
                        agent = agent.id(),
                        run_id = rec.run_id(),
                        tool = %call.name,
                        %error,
                        "tool call refused"
                    );
                    call_chunks.push(rec.emit(
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
            parts.push(MessagePart::Text { text: text.clone() });
            all_text.push_str(&text);
        }
        let (reason, usage) = finish.ok_or_else(|| {
            AgentError::Model(ModelError::Malformed {
                provider: model.provider().to_owned(),
                detail: "the model stream ended without a finish event".to_owned(),
            })
        })?;
        total_usage.add(usage);
        finish_reason = reason;

        let mut outcomes = Vec::with_capacity(calls.len());
        for (call, refusal) in calls.iter().zip(refusals) {
            let outcome = match refusal {
                Some(error) => refused_call(call, error),
                None => unless_aborted(abort, run_tool(plan, call)).await?,
            };
            result_chunks.push(rec.emit(
                ChunkType::ToolResult,
                json!({
                    "toolCallId": call.id,
                    "toolName": call.name,
                    "args": call.args,
                    "result": outcome.result,
                    "isError": outcome.is_error,
                }),
            ));
            parts.push(MessagePart::ToolInvocation {
                tool_invocation: ToolInvocation {
                    state: "result".to_owned(),
                    step,
                    tool_call_id: call.id.clone(),
                    tool_name: call.name.clone(),
                    args: call.args.clone(),
                    result: outcome.result.clone(),
                    is_error: outcome.is_error,
                },
            });
            outcomes.push(outcome);
        }
        rec.emit(
            ChunkType::StepFinish,
            json!({
                "messageId": message_id,
                "stepResult": { "reason": reason, "isContinued": false },
                "output": { "text": text, "toolCalls": calls, "usage": usage },
                "metadata": {},
            }),
        );
        prompt.push(ModelMessage::Assistant {
            text: text.clone(),
            tool_calls: calls.clone(),
        });
        let called_tools = !calls.is_empty();
        if called_tools {
            prompt.push(ModelMessage::Tool(outcomes.clone()));
        }
        steps.push(StepResult {
            text,
            tool_calls: calls,
            tool_results: outcomes,
            finish_reason: reason,
            usage,
        });
        if !called_tools {
            break;
        }
    }

    if abort.is_cancelled() {
        return Err(Stop::Aborted);
    }
    if let (Some(memory), Some((thread, _))) = (&plan.memory, &memory) {
        let mut messages: Vec<Message> = plan
            .input
            .iter()
            .filter(|m| m.role != MessageRole::System)
            .map(|m| Message::new(thread, m.role, MessageContent::text(m.text())))
            .collect();
        messages.push(Message::new(
            thread,
            MessageRole::Assistant,
            MessageContent::from_parts(parts),
        ));
        // Saved only once the run is complete; a run aborted before this line saves nothing.
        unless_aborted(abort, memory.storage.append_messages(thread, &messages))
            .await?
            .map_err(refused)?;
    }

    Ok(AgentResult {
        text: all_text,
        usage: total_usage,
        finish_reason,
        tool_calls: call_chunks,
        tool_results: result_chunks,
        steps,
        run_id: rec.run_id().to_owned(),
    })
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
async fn run_tool(plan: &RunPlan, call: &ToolCall) -> ToolOutcome {
    let outcome = |result: Value, is_error: bool| ToolOutcome {
        call_id: call.id.clone(),
        name: call.name.clone(),
        result,
        is_error,
    };
    let Some(tool) = plan.agent.tools().get(&call.name) else {
        return outcome(
            json!({ "error": format!("Tool {} not found", call.name) }),
            true,
        );
    };
    let ctx = ToolContext::new(plan.request_context.clone())
        .with_abort(plan.abort.clone())
        .with_app(plan.app.clone());
    match tool.execute(call.args.clone(), ctx).await {
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
