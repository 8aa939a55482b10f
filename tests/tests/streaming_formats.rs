//! `ModelOutput`'s response formats over real connections: text, Mastra's SSE and the AI SDK
//! UI message stream, with their exact headers and frames; every frame flushed as produced (the
//! first one is read while the model is still answering); a stalled reader holds the server to
//! a bounded buffer; keep-alive comments on long silences.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures_util::StreamExt;
use mastra_runtime::{
    model::{
        EchoModel, FinishReason, LanguageModel, ModelError, ModelEvent, ModelRequest, ModelStream,
        Usage,
    },
    prelude::*,
    sse::{data_frame, sse_response, SseOptions, SSE_KEEP_ALIVE_FRAME},
};
use mastra_tests::{
    assert_text_answer, delta_text, eventually, models::DownModel, raw_http::RawHttp,
    slow_provider::SlowProvider, sse_chunks, sse_data, test_config, types_of, Reply, TestServer,
};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

/// A model that answers at once with `deltas` text deltas of `size` bytes each.
#[derive(Debug)]
struct Big {
    deltas: usize,
    size: usize,
}

#[async_trait::async_trait]
impl LanguageModel for Big {
    fn provider(&self) -> &str {
        "test"
    }
    fn model_id(&self) -> &str {
        "big"
    }
    async fn stream(&self, _: ModelRequest) -> Result<ModelStream, ModelError> {
        let delta = "x".repeat(self.size);
        let events = (0..self.deltas)
            .map(move |_| Ok(ModelEvent::TextDelta(delta.clone())))
            .chain(std::iter::once(Ok(ModelEvent::Finish {
                reason: FinishReason::Stop,
                usage: Usage::new(1, self.deltas as u64),
            })));
        Ok(futures_util::stream::iter(events).boxed())
    }
}

#[derive(Deserialize, JsonSchema)]
struct Celsius {
    celsius: f64,
}

#[derive(Serialize, JsonSchema)]
struct Fahrenheit {
    fahrenheit: f64,
}

fn agents(slow: Option<&SlowProvider>) -> Vec<Agent> {
    let convert = Tool::builder("celsius-to-fahrenheit")
        .description("Converts degrees")
        .execute(|i: Celsius, _: ToolContext| async move {
            Ok::<_, ToolError>(Fahrenheit {
                fahrenheit: i.celsius * 9.0 / 5.0 + 32.0,
            })
        });
    let mut agents = vec![
        Agent::builder("echo")
            .model(EchoModel::new().token_delay(Duration::ZERO))
            .tool(convert)
            .memory(Memory::new())
            .build(),
        Agent::builder("echo-slow")
            .model(EchoModel::new().token_delay(Duration::from_millis(50)))
            .build(),
        Agent::builder("failing")
            .model(Arc::new(DownModel) as Arc<dyn LanguageModel>)
            .build(),
        Agent::builder("big")
            .model(Arc::new(Big {
                deltas: 2000,
                size: 2048,
            }) as Arc<dyn LanguageModel>)
            .memory(Memory::new())
            .build(),
    ];
    if let Some(slow) = slow {
        agents.push(Agent::builder("slow").model(slow.model()).build());
    }
    agents
}

#[derive(Deserialize, JsonSchema)]
struct Ask {
    q: String,
    #[serde(default)]
    keep_alive_ms: Option<u64>,
    #[serde(default)]
    thread: Option<String>,
}

/// `GET /out/:format/:agent?q=...`: the run in `text`, `sse` or `ui` format.
async fn out(
    c: Context,
    Path((format, agent)): Path<(String, String)>,
    Query(ask): Query<Ask>,
) -> Result<HttpResponse, ApiError> {
    let agent = c.mastra().agent(&agent)?;
    let mut options = GenerateOptions::new().abort_signal(c.abort_signal());
    if let Some(thread) = &ask.thread {
        options = options.memory(thread.as_str(), "r");
    }
    let output = agent.stream(ask.q, options).await?;
    let sse = match ask.keep_alive_ms {
        Some(ms) => SseOptions::new().keep_alive(Duration::from_millis(ms)),
        None => SseOptions::new(),
    };
    Ok(match format.as_str() {
        "text" => output.to_text_stream_response(),
        "sse" => output.to_sse_response_with(sse),
        "ui" => output.to_ui_message_stream_response_with(sse),
        other => return Err(ApiError::bad_request(format!("unknown format {other}"))),
    })
}

/// `GET /ui-aborted`: a UI message stream of a run aborted after its first text delta.
async fn ui_aborted(c: Context) -> Result<HttpResponse, ApiError> {
    let agent = c.mastra().agent("echo-slow")?;
    let abort = CancellationToken::new();
    let output = agent
        .stream(
            "this run is cut short",
            GenerateOptions::new().abort_signal(abort.clone()),
        )
        .await?;
    output.text_stream().next().await;
    abort.cancel();
    Ok(output.to_ui_message_stream_response())
}

async fn server_with(slow: Option<&SlowProvider>, extra: Vec<ApiRoute>) -> TestServer {
    let mut builder = Mastra::builder()
        .storage(SqliteStorage::in_memory())
        .route(ApiRoute::get("/out/:format/:agent").handler(out))
        .route(ApiRoute::get("/ui-aborted").handler(ui_aborted))
        .server(test_config())
        .without_annotated_routes();
    for agent in agents(slow) {
        builder = builder.agent(agent);
    }
    for route in extra {
        builder = builder.route(route);
    }
    TestServer::start(builder).await
}

#[track_caller]
fn assert_streamed_headers(reply: &Reply, content_type: &str) {
    reply.assert_status(200);
    assert_eq!(reply.header("content-type"), Some(content_type));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    assert_eq!(reply.header("x-accel-buffering"), Some("no"));
    // Streamed, not buffered whole: no length known up front.
    assert_eq!(reply.header("transfer-encoding"), Some("chunked"));
    assert_eq!(reply.header("content-length"), None);
}

/// The UI message stream's parts, checking the framing: `data: {json}\n\n` each, then
/// `data: [DONE]\n\n` last.
#[track_caller]
fn ui_parts(body: &str) -> Vec<Value> {
    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
    for frame in body.trim_end_matches("\n\n").split("\n\n") {
        assert!(frame.starts_with("data: "), "frame {frame:?} in {body}");
        assert!(!frame.contains('\n'), "multi-line frame {frame:?}");
    }
    sse_chunks(body)
}

#[tokio::test]
async fn the_text_format_is_plain_text_deltas_with_exact_headers() {
    let server = server_with(None, vec![]).await;
    let reply = server.get("/out/text/echo?q=hi%20there").await;
    assert_streamed_headers(&reply, "text/plain; charset=utf-8");
    assert_eq!(reply.text, "You said: hi there");
}

#[tokio::test]
async fn the_sse_format_is_mastras_data_frames_ending_with_done_with_exact_headers() {
    let server = server_with(None, vec![]).await;
    let reply = server.get("/out/sse/echo?q=hi%20there").await;
    assert_streamed_headers(&reply, "text/event-stream");
    assert_eq!(reply.header("x-vercel-ai-ui-message-stream"), None);
    let chunks = ui_parts(&reply.text);
    assert_text_answer(&chunks, 4, "You said: hi there");
}

#[tokio::test]
async fn the_ui_message_stream_has_its_header_and_the_ai_sdk_parts_of_a_tool_run() {
    let server = server_with(None, vec![]).await;
    let reply = server
        .get("/out/ui/echo?q=%40celsius-to-fahrenheit%20%7B%22celsius%22%3A%2021%7D")
        .await;
    assert_streamed_headers(&reply, "text/event-stream");
    assert_eq!(reply.header("x-vercel-ai-ui-message-stream"), Some("v1"));
    let parts = ui_parts(&reply.text);
    assert_eq!(
        types_of(&parts),
        [
            "start",
            "start-step",
            "tool-input-available",
            "tool-output-available",
            "finish-step",
            "start-step",
            "text-start",
            "text-delta",
            "text-delta",
            "text-delta",
            "text-end",
            "finish-step",
            "finish"
        ],
        "{}",
        reply.text
    );
    let call_id = parts[2]["toolCallId"].clone();
    assert_eq!(
        parts[2],
        json!({ "type": "tool-input-available", "toolCallId": call_id,
                "toolName": "celsius-to-fahrenheit", "input": { "celsius": 21 } })
    );
    assert_eq!(
        parts[3],
        json!({ "type": "tool-output-available", "toolCallId": call_id,
                "output": { "fahrenheit": 69.8 } })
    );
    let text_id = parts[6]["id"].clone();
    assert_eq!(parts[6], json!({ "type": "text-start", "id": text_id }));
    let text: String = parts[7..10]
        .iter()
        .map(|p| {
            assert_eq!(p["id"], text_id);
            p["delta"].as_str().unwrap()
        })
        .collect();
    assert_eq!(text, "celsius-to-fahrenheit returned {\"fahrenheit\":69.8}");
    assert_eq!(parts[10], json!({ "type": "text-end", "id": text_id }));
    assert_eq!(
        parts[12],
        json!({ "type": "finish", "finishReason": "stop" })
    );
    assert!(parts[0]["messageId"].is_string());
}

#[tokio::test]
async fn a_failed_run_ends_its_ui_message_stream_with_an_error_part() {
    let server = server_with(None, vec![]).await;
    let reply = server.get("/out/ui/failing?q=hello").await;
    assert_streamed_headers(&reply, "text/event-stream");
    let parts = ui_parts(&reply.text);
    assert_eq!(types_of(&parts), ["start", "start-step", "error"]);
    assert_eq!(
        parts[2],
        json!({ "type": "error", "errorText": "test reported an error: the model is down" })
    );
}

#[tokio::test]
async fn an_aborted_run_ends_its_ui_message_stream_with_an_abort_part() {
    let server = server_with(None, vec![]).await;
    let reply = server.get("/ui-aborted").await;
    let parts = ui_parts(&reply.text);
    assert_eq!(parts.last().unwrap(), &json!({ "type": "abort" }));
    assert!(!types_of(&parts).contains(&"finish"), "{}", reply.text);
}

/// Reads `format` from the slow agent until `needle`, and checks the model is still answering.
async fn first_frame_arrives_before_the_model_finishes(format: &str, needle: &str) {
    let (words, delay) = (10, Duration::from_millis(200));
    let slow = SlowProvider::start(words, delay).await;
    let server = server_with(Some(&slow), vec![]).await;
    let asked = Instant::now();
    let mut client = RawHttp::get(server.base(), &format!("/out/{format}/slow?q=hello")).await;
    client.read_until(needle, Duration::from_secs(5)).await;
    let took = asked.elapsed();
    eprintln!("{format}: first text after {took:?}");
    assert!(
        slow.words_sent() < words && slow.finished() == 0,
        "the model had finished ({} words) before the first {format} frame arrived",
        slow.words_sent()
    );
    assert!(took < delay * words as u32 / 2, "{took:?}");
}

#[tokio::test]
async fn the_first_text_frame_is_read_before_the_model_finishes() {
    first_frame_arrives_before_the_model_finishes("text", "w0 ").await;
}

#[tokio::test]
async fn the_first_sse_frame_is_read_before_the_model_finishes() {
    first_frame_arrives_before_the_model_finishes("sse", "\"type\":\"text-delta\"").await;
}

#[tokio::test]
async fn the_first_ui_message_stream_frame_is_read_before_the_model_finishes() {
    first_frame_arrives_before_the_model_finishes("ui", "\"type\":\"text-delta\"").await;
}

/// Most the server may hold for a client that stopped reading: actix-web's write buffer plus
/// the kernel's send and receive buffers on loopback (4 MiB + a few MiB of autotuned receive
/// window here); a leak grows past it within the test's second.
const STALLED_BOUND: usize = 16 * 1024 * 1024;

/// A pull-counted endless source of 64 KiB SSE frames.
fn endless(pulled: Arc<AtomicUsize>) -> ApiRoute {
    ApiRoute::get("/endless").handler(move || {
        let pulled = Arc::clone(&pulled);
        let payload = "y".repeat(64 * 1024);
        let frames = futures_util::stream::repeat(()).map(move |()| {
            let frame = data_frame(&payload);
            pulled.fetch_add(frame.len(), Ordering::SeqCst);
            frame
        });
        async move { sse_response(frames, SseOptions::new()) }
    })
}

/// Waits until `counter` stops moving for 500 ms, returning where it stopped.
async fn plateau(counter: &AtomicUsize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = counter.load(Ordering::SeqCst);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = counter.load(Ordering::SeqCst);
        if now == last {
            return now;
        }
        assert!(
            Instant::now() < deadline && now < STALLED_BOUND * 4,
            "the server kept pulling frames for a stalled client: {now} bytes"
        );
        last = now;
    }
}

#[tokio::test]
async fn a_stalled_reader_holds_the_server_to_a_bounded_buffer() {
    let pulled = Arc::new(AtomicUsize::new(0));
    let server = server_with(None, vec![endless(Arc::clone(&pulled))]).await;
    let mut client = RawHttp::get(server.base(), "/endless").await;
    client.read_until("\r\n\r\n", Duration::from_secs(5)).await;
    // The client stops reading. The source is endless: only backpressure stops the pulling.
    let stalled_at = plateau(&pulled).await;
    eprintln!("pulled while the client stalled: {stalled_at} bytes");
    assert!(
        stalled_at < STALLED_BOUND,
        "{stalled_at} bytes pulled for a stalled client"
    );
    // Reading again resumes the stream where it was.
    let read = client
        .read_for(Duration::from_secs(5), 32 * 1024 * 1024)
        .await;
    assert!(read >= 32 * 1024 * 1024, "read {read} bytes after resuming");
    assert!(pulled.load(Ordering::SeqCst) > stalled_at);
}

#[tokio::test]
async fn a_stalled_reader_neither_stops_the_run_nor_loses_frames() {
    let server = server_with(None, vec![]).await;
    let mut client = RawHttp::get(server.base(), "/out/sse/big?q=go&thread=big").await;
    client.read_until("\r\n\r\n", Duration::from_secs(5)).await;
    // 4 MiB of answer: the run completes and is saved while the client reads nothing.
    eventually(Duration::from_secs(10), "the run saved", || async {
        server
            .mastra()
            .storage()
            .recent_messages("big", 10)
            .await
            .is_ok_and(|m| m.len() == 2)
    })
    .await;
    let before = client.bytes_read();
    client
        .read_until("data: [DONE]\n\n", Duration::from_secs(20))
        .await;
    assert!(before < client.bytes_read());
    let frames = sse_data(&client.body());
    let deltas = frames
        .iter()
        .filter(|f| f.contains("\"text-delta\""))
        .count();
    assert_eq!(deltas, 2000);
}

#[tokio::test]
async fn keep_alive_comments_fill_long_silences_and_only_when_asked() {
    let slow = SlowProvider::start(3, Duration::from_millis(400)).await;
    let server = server_with(Some(&slow), vec![]).await;
    for format in ["sse", "ui"] {
        let reply = server
            .get(&format!("/out/{format}/slow?q=hi&keep_alive_ms=100"))
            .await;
        let comments = reply.text.matches(SSE_KEEP_ALIVE_FRAME).count();
        // Three silences of about 400 ms: about three comments each.
        assert!(
            comments >= 6,
            "{comments} keep-alive comments: {}",
            reply.text
        );
        for frame in reply.text.trim_end_matches("\n\n").split("\n\n") {
            assert!(
                frame.starts_with("data: ") || format!("{frame}\n\n") == SSE_KEEP_ALIVE_FRAME,
                "unexpected frame {frame:?}"
            );
        }
        // The frames around them are complete and in order.
        assert_eq!(
            delta_text(&sse_chunks(&reply.text)),
            SlowProvider::full_text(3)
        );

        let quiet = server.get(&format!("/out/{format}/slow?q=hi")).await;
        assert!(!quiet.text.contains(": keep-alive"), "{}", quiet.text);
    }
}

#[tokio::test]
async fn sse_response_streams_a_custom_routes_own_frames() {
    async fn ticks() -> HttpResponse {
        let frames = futures_util::stream::iter(1..=3)
            .map(|n| data_frame(&json!({ "tick": n }).to_string()))
            .chain(futures_util::stream::once(async {
                Bytes::from_static(b"data: [DONE]\n\n")
            }));
        sse_response(frames, SseOptions::new())
    }
    let server = server_with(None, vec![ApiRoute::get("/ticks").handler(ticks)]).await;
    let reply = server.get("/ticks").await;
    assert_streamed_headers(&reply, "text/event-stream");
    assert_eq!(
        reply.text,
        "data: {\"tick\":1}\n\ndata: {\"tick\":2}\n\ndata: {\"tick\":3}\n\ndata: [DONE]\n\n"
    );
}
