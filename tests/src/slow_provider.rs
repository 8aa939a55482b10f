//! A model provider on 127.0.0.1 that streams an OpenAI Chat Completions answer slowly, word by
//! word, and records the moment its client closes the connection: the way to see that a model
//! request was dropped upstream.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use mastra_runtime::model::{OpenAiCompatible, RetryPolicy};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::Notify,
};

#[derive(Default)]
struct State {
    requests: AtomicUsize,
    words_sent: AtomicUsize,
    closed: Mutex<Vec<Instant>>,
    finished: AtomicUsize,
    changed: Notify,
}

/// The fake; stops accepting when dropped.
pub struct SlowProvider {
    url: String,
    state: Arc<State>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for SlowProvider {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl SlowProvider {
    /// Answers every request with `words` words (`w0 w1 ...`), one every `delay`.
    pub async fn start(words: usize, delay: Duration) -> SlowProvider {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind slow provider");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, Arc::clone(&shared), words, delay));
            }
        });
        SlowProvider { url, state, accept }
    }

    /// `http://127.0.0.1:PORT` (the OpenAI base URL to configure).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// An OpenAI-compatible model pointed at this provider, without retries.
    pub fn model(&self) -> OpenAiCompatible {
        OpenAiCompatible::new("slow-model")
            .base_url(format!("{}/v1", self.url))
            .api_key("sk-test")
            .retry(RetryPolicy::none())
    }

    /// A builder with one agent, `slow`, on this provider, with memory in an in-memory SQLite
    /// and no annotated routes: what the streaming tests start from.
    pub fn app(&self) -> mastra_runtime::MastraBuilder {
        mastra_runtime::Mastra::builder()
            .agent(
                mastra_runtime::Agent::builder("slow")
                    .model(self.model())
                    .memory(mastra_runtime::Memory::new()),
            )
            .storage(mastra_runtime::SqliteStorage::in_memory())
            .without_annotated_routes()
    }

    /// The text a complete answer carries: `w0 w1 ... w{n-1} `.
    pub fn full_text(words: usize) -> String {
        (0..words).map(|i| format!("w{i} ")).collect()
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Words written so far, over all requests.
    pub fn words_sent(&self) -> usize {
        self.state.words_sent.load(Ordering::SeqCst)
    }

    /// Answers written to their end.
    pub fn finished(&self) -> usize {
        self.state.finished.load(Ordering::SeqCst)
    }

    /// Waits until `n` requests arrived; panics after 10 s.
    pub async fn wait_requests(&self, n: usize) {
        self.wait_for(|s| s.requests.load(Ordering::SeqCst) >= n, "requests")
            .await;
    }

    /// Waits until some client closed a connection before its answer ended, and returns when
    /// that was; panics after 10 s.
    pub async fn wait_closed(&self) -> Instant {
        self.wait_for(
            |s| !s.closed.lock().expect("closed").is_empty(),
            "a closed connection",
        )
        .await;
        self.state.closed.lock().expect("closed")[0]
    }

    /// Connections the client closed before their answer ended.
    pub fn closed_early(&self) -> usize {
        self.state.closed.lock().expect("closed").len()
    }

    async fn wait_for(&self, done: impl Fn(&State) -> bool, what: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let changed = self.state.changed.notified();
            if done(&self.state) {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("the slow provider never saw {what}");
            }
        }
    }
}

async fn read_request(socket: &mut TcpStream) -> Option<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() - head_end < length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(())
}

fn frame(data: &str) -> String {
    format!("data: {data}\n\n")
}

async fn serve(mut socket: TcpStream, state: Arc<State>, words: usize, delay: Duration) {
    if read_request(&mut socket).await.is_none() {
        return;
    }
    state.requests.fetch_add(1, Ordering::SeqCst);
    state.changed.notify_waiters();
    let (mut reader, mut writer) = socket.into_split();
    // The client sends nothing more after its request: a read that returns is the close.
    let watcher = {
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let mut byte = [0u8; 1];
            let _ = reader.read(&mut byte).await;
            state.closed.lock().expect("closed").push(Instant::now());
            state.changed.notify_waiters();
        })
    };
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";
    if writer.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    for i in 0..words {
        tokio::time::sleep(delay).await;
        if watcher.is_finished() {
            return;
        }
        let delta = serde_json::json!({
            "id": "chatcmpl-slow", "object": "chat.completion.chunk",
            "choices": [{ "index": 0, "delta": { "content": format!("w{i} ") }, "finish_reason": null }]
        });
        if writer
            .write_all(frame(&delta.to_string()).as_bytes())
            .await
            .is_err()
        {
            return;
        }
        state.words_sent.fetch_add(1, Ordering::SeqCst);
    }
    let finish = serde_json::json!({
        "id": "chatcmpl-slow", "object": "chat.completion.chunk",
        "choices": [{ "index": 0, "delta": {}, "finish_reason": "stop" }],
        "usage": { "prompt_tokens": 3, "completion_tokens": words }
    });
    let tail = format!("{}{}", frame(&finish.to_string()), frame("[DONE]"));
    if writer.write_all(tail.as_bytes()).await.is_ok() {
        watcher.abort();
        state.finished.fetch_add(1, Ordering::SeqCst);
        state.changed.notify_waiters();
    }
}
