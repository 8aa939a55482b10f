//! [`ModelOutput`]: a run in progress. Any number of readers see every chunk from the start;
//! the run itself is started once, by whichever reader comes first, and runs to completion
//! (or abort) whether or not anyone keeps reading.

use std::{
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex, PoisonError},
};

use actix_web::{http::header, HttpResponse};
use bytes::Bytes;
use futures_util::{future::BoxFuture, stream::BoxStream, FutureExt, StreamExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{
    approval::ToolApprovalRequest,
    chunk::{Chunk, ChunkType},
    ui_stream::{UiMessageChunk, UI_MESSAGE_STREAM_HEADER, UI_MESSAGE_STREAM_VERSION},
    AgentError,
};
use crate::{
    background::BackgroundTasks,
    model::{FinishReason, ToolCall, ToolOutcome, Usage},
    sse::{sse_response, SseOptions, SSE_DONE_FRAME, X_ACCEL_BUFFERING},
};

/// One model call of a run and what followed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StepResult {
    /// Text produced in this step.
    pub text: String,
    /// Tools the model asked for.
    pub tool_calls: Vec<ToolCall>,
    /// What those tools returned.
    pub tool_results: Vec<ToolOutcome>,
    /// Why the step ended.
    pub finish_reason: FinishReason,
    /// What the step cost.
    pub usage: Usage,
}

/// The result of a finished run (Mastra's `generate` answer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentResult {
    /// Every text delta of every step, joined.
    pub text: String,
    /// Tokens used over all steps.
    pub usage: Usage,
    /// Why the last step ended.
    pub finish_reason: FinishReason,
    /// The `tool-call` chunks of the run.
    pub tool_calls: Vec<Chunk>,
    /// The `tool-result` chunks of the run.
    pub tool_results: Vec<Chunk>,
    /// Each step.
    pub steps: Vec<StepResult>,
    /// The run's id.
    pub run_id: String,
    /// When the run stopped before a tool call waiting for approval: that call. The run is
    /// kept until `approve-tool-call` or `decline-tool-call` continues it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend_payload: Option<ToolApprovalRequest>,
}

#[derive(Clone, Copy, Default)]
struct Progress {
    chunks: usize,
    done: bool,
}

#[derive(Default)]
struct Log {
    chunks: Vec<Chunk>,
    outcome: Option<Result<AgentResult, AgentError>>,
}

/// What the run writes and readers read.
pub(crate) struct Channel {
    log: Mutex<Log>,
    progress: watch::Sender<Progress>,
}

impl Channel {
    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        // Writers only push or set fields; a panic mid-way leaves a usable log.
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The run's handle on its channel: pushes chunks and records the outcome exactly once. If it
/// is dropped without an outcome (the run panicked or its task was cancelled), readers get an
/// error instead of waiting forever.
pub(crate) struct Recorder {
    channel: Arc<Channel>,
    run_id: String,
}

impl Recorder {
    pub(crate) fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Appends a chunk of `kind` and wakes readers.
    pub(crate) fn emit(&self, kind: ChunkType, payload: serde_json::Value) -> Chunk {
        let chunk = Chunk::new(kind, &self.run_id, payload);
        let count = {
            let mut log = self.channel.log();
            log.chunks.push(chunk.clone());
            log.chunks.len()
        };
        self.channel.progress.send_modify(|p| p.chunks = count);
        chunk
    }

    /// Records the outcome and wakes readers; later calls are ignored.
    pub(crate) fn finish(&self, outcome: Result<AgentResult, AgentError>) {
        {
            let mut log = self.channel.log();
            if log.outcome.is_some() {
                return;
            }
            log.outcome = Some(outcome);
        }
        self.channel.progress.send_modify(|p| p.done = true);
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let unfinished = self.channel.log().outcome.is_none();
        if unfinished {
            self.emit(
                ChunkType::Error,
                serde_json::json!({ "error": { "name": "Error", "message": "the agent run stopped unexpectedly" } }),
            );
            self.finish(Err(AgentError::Internal(
                "the agent run stopped unexpectedly".to_owned(),
            )));
        }
    }
}

struct Shared {
    run_id: String,
    agent_id: String,
    channel: Arc<Channel>,
    pending: Mutex<Option<BoxFuture<'static, ()>>>,
    abort: CancellationToken,
}

/// A streaming agent run (Mastra's `MastraModelOutput`).
///
/// Cloning is cheap and every clone is the same run. The run starts when something first reads
/// it (a stream, a response, [`ModelOutput::consume_stream`], or an awaited value), and is
/// driven to completion exactly once however many readers there are. Every reader sees every
/// chunk from the start.
#[derive(Clone)]
pub struct ModelOutput {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ModelOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelOutput")
            .field("run_id", &self.shared.run_id)
            .finish_non_exhaustive()
    }
}

impl ModelOutput {
    /// A run whose body `run` writes through the recorder it is given.
    pub(crate) fn new<F, Fut>(
        run_id: String,
        agent_id: String,
        abort: CancellationToken,
        run: F,
    ) -> Self
    where
        F: FnOnce(Recorder) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let (progress, _) = watch::channel(Progress::default());
        let channel = Arc::new(Channel {
            log: Mutex::new(Log::default()),
            progress,
        });
        let recorder = Recorder {
            channel: Arc::clone(&channel),
            run_id: run_id.clone(),
        };
        let body = run(recorder);
        let guarded = async move {
            // A panic drops the recorder, which reports the failure to readers.
            if AssertUnwindSafe(body).catch_unwind().await.is_err() {
                tracing::error!("agent run panicked");
            }
        };
        Self {
            shared: Arc::new(Shared {
                run_id,
                agent_id,
                channel,
                pending: Mutex::new(Some(guarded.boxed())),
                abort,
            }),
        }
    }

    /// The run's id (the `runId` of every chunk).
    pub fn run_id(&self) -> &str {
        &self.shared.run_id
    }

    /// The signal that aborts this run.
    pub fn abort_signal(&self) -> &CancellationToken {
        &self.shared.abort
    }

    /// Aborts the run: the model call is dropped, an `abort` chunk ends the stream, and nothing
    /// is saved to memory.
    pub fn abort(&self) {
        self.shared.abort.cancel();
    }

    /// The id of the agent running it.
    pub fn agent_id(&self) -> &str {
        &self.shared.agent_id
    }

    /// The run, if nothing has started it yet.
    fn take_pending(&self) -> Option<BoxFuture<'static, ()>> {
        self.shared
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Starts the run if nothing has yet. Needs a Tokio runtime.
    fn start(&self) {
        if let Some(run) = self.take_pending() {
            tokio::spawn(run);
        }
    }

    /// Every chunk of the run, from the first, as it is produced.
    pub fn full_stream(&self) -> BoxStream<'static, Chunk> {
        let this = self.clone();
        let receiver = self.shared.channel.progress.subscribe();
        futures_util::stream::unfold(
            (this, receiver, 0usize, false),
            |(this, mut receiver, index, started)| async move {
                if !started {
                    this.start();
                }
                loop {
                    let done = receiver.borrow_and_update().done;
                    let next = this.shared.channel.log().chunks.get(index).cloned();
                    if let Some(chunk) = next {
                        return Some((chunk, (this, receiver, index + 1, true)));
                    }
                    if done || receiver.changed().await.is_err() {
                        return None;
                    }
                }
            },
        )
        .boxed()
    }

    /// The text deltas of the run, as they are produced.
    pub fn text_stream(&self) -> BoxStream<'static, String> {
        self.full_stream()
            .filter_map(|chunk| std::future::ready(chunk.text_delta().map(str::to_owned)))
            .boxed()
    }

    /// Drives the run to completion (once, however many callers) and returns its result.
    pub async fn consume_stream(&self) -> Result<AgentResult, AgentError> {
        self.start();
        let mut receiver = self.shared.channel.progress.subscribe();
        loop {
            if let Some(outcome) = self.shared.channel.log().outcome.clone() {
                return outcome;
            }
            if receiver.changed().await.is_err() {
                return Err(AgentError::Internal("the agent run was lost".to_owned()));
            }
        }
    }

    /// Keeps the run going to its end as tracked work of `background` (the facade's
    /// `consume_stream_in_background` documents the behaviour).
    pub(crate) fn consume_stream_on(
        &self,
        background: &BackgroundTasks,
    ) -> tokio::task::JoinHandle<Result<AgentResult, AgentError>> {
        let pending = self.take_pending();
        let this = self.clone();
        let label = format!("agent {} run {}", self.agent_id(), self.run_id());
        background.spawn(label, async move {
            if let Some(run) = pending {
                run.await;
            }
            let outcome = this.consume_stream().await;
            if let Err(error) = &outcome {
                tracing::warn!(
                    agent = this.agent_id(),
                    run_id = this.run_id(),
                    %error,
                    "background agent run did not complete"
                );
            }
            outcome
        })
    }

    /// The final text, once the run finished.
    pub async fn text(&self) -> Result<String, AgentError> {
        self.consume_stream().await.map(|r| r.text)
    }

    /// The total usage, once the run finished.
    pub async fn usage(&self) -> Result<Usage, AgentError> {
        self.consume_stream().await.map(|r| r.usage)
    }

    /// Why the run ended, once it finished.
    pub async fn finish_reason(&self) -> Result<FinishReason, AgentError> {
        self.consume_stream().await.map(|r| r.finish_reason)
    }

    /// The run as Mastra's SSE body: one `data: {chunk}\n\n` frame per chunk, then
    /// `data: [DONE]\n\n`.
    pub fn sse_stream(&self) -> BoxStream<'static, Bytes> {
        self.full_stream()
            .map(|chunk| Bytes::from(chunk.to_sse_frame()))
            .chain(done_frame())
            .boxed()
    }

    /// The run as the AI SDK's UI message stream body: one `data: {part}\n\n` frame per part
    /// (`start`, `start-step`, `text-start`, `text-delta`, `text-end`, `tool-input-available`,
    /// `tool-output-available`, `finish-step`, `finish`, `error`, `abort`), then
    /// `data: [DONE]\n\n`.
    pub fn ui_message_stream(&self) -> BoxStream<'static, Bytes> {
        self.full_stream()
            .map(|chunk| Bytes::from(UiMessageChunk::from_chunk(&chunk).to_sse_frame()))
            .chain(done_frame())
            .boxed()
    }

    /// The run as an SSE response (`text/event-stream`, `Cache-Control: no-cache`,
    /// `X-Accel-Buffering: no`), each frame sent as it is produced.
    pub fn to_sse_response(&self) -> HttpResponse {
        self.to_sse_response_with(SseOptions::default())
    }

    /// [`ModelOutput::to_sse_response`] with options (keep-alive comments).
    pub fn to_sse_response_with(&self, options: SseOptions) -> HttpResponse {
        sse_response(self.sse_stream(), options)
    }

    /// The run in the AI SDK UI message stream protocol, what `useChat` reads: SSE frames of
    /// [`UiMessageChunk`] parts with the header `x-vercel-ai-ui-message-stream: v1`, each sent as
    /// it is produced.
    pub fn to_ui_message_stream_response(&self) -> HttpResponse {
        self.to_ui_message_stream_response_with(SseOptions::default())
    }

    /// [`ModelOutput::to_ui_message_stream_response`] with options (keep-alive comments).
    pub fn to_ui_message_stream_response_with(&self, options: SseOptions) -> HttpResponse {
        let mut response = sse_response(self.ui_message_stream(), options);
        response.headers_mut().insert(
            header::HeaderName::from_static(UI_MESSAGE_STREAM_HEADER),
            header::HeaderValue::from_static(UI_MESSAGE_STREAM_VERSION),
        );
        response
    }

    /// The text deltas as a `text/plain; charset=utf-8` response, sent as produced.
    pub fn to_text_stream_response(&self) -> HttpResponse {
        HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header((X_ACCEL_BUFFERING, "no"))
            .streaming(
                self.text_stream()
                    .map(|t| Ok::<_, std::convert::Infallible>(Bytes::from(t))),
            )
    }
}

fn done_frame() -> impl futures_util::Stream<Item = Bytes> {
    futures_util::stream::once(std::future::ready(Bytes::from_static(
        SSE_DONE_FRAME.as_bytes(),
    )))
}
