//! One small helper for end-to-end tests: start a real server on 127.0.0.1, wait for
//! `/health`, talk HTTP to it, stop it on drop.

pub mod binary;
pub mod fake_provider;
pub mod jwt;
pub mod leaving;
pub mod load;
pub mod logs;
pub mod models;
pub mod nginx;
pub mod node;
pub mod pg_cluster;
pub mod raw_http;
pub mod slow_provider;
pub mod stores;
pub mod trickle;
pub mod wire;

use std::{net::TcpListener, time::Duration};

use mastra_runtime::{Mastra, MastraBuilder, RunningServer, ServerConfig};
use reqwest::{header::HeaderMap, Method, StatusCode};
use serde_json::Value;

/// A response read whole: status, headers, body text, and the body as JSON when it is JSON.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub text: String,
}

impl Reply {
    /// The body parsed as JSON; panics with the body shown if it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}); status {}, body: {:?}",
                self.status, self.text
            )
        })
    }

    /// A response header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts the body is exactly `{"error": message}`-shaped with this message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, message: &str) -> &Self {
        self.assert_status(status);
        assert_eq!(
            self.json()["error"],
            message,
            "unexpected error message; body: {}",
            self.text
        );
        self
    }

    /// Asserts the body is a JSON error whose message contains `needle`.
    #[track_caller]
    pub fn assert_error_contains(&self, status: u16, needle: &str) -> &Self {
        self.assert_status(status);
        let message = self.json()["error"].as_str().unwrap_or_default().to_owned();
        assert!(
            message.contains(needle),
            "error {message:?} does not contain {needle:?}"
        );
        self
    }
}

/// A server running on 127.0.0.1 for the length of a test.
pub struct TestServer {
    running: Option<RunningServer>,
    base: String,
    mastra: Mastra,
    client: reqwest::Client,
}

/// A server config for tests: loopback, one worker, no log subscriber installed.
pub fn test_config() -> ServerConfig {
    ServerConfig::default()
        .host("127.0.0.1")
        .workers(1)
        .install_logger(false)
}

/// A reqwest client that never uses a proxy, so requests stay on loopback.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

impl TestServer {
    /// Builds `builder` and serves it on a free loopback port; panics with the build error.
    pub async fn start(builder: MastraBuilder) -> TestServer {
        let mastra = builder
            .build()
            .unwrap_or_else(|e| panic!("build failed: {e}"));
        Self::serve(mastra).await
    }

    /// Serves an already built application on a free loopback port.
    pub async fn serve(mastra: Mastra) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let running = mastra.start_on(listener).expect("start server");
        let base = running.url();
        let server = TestServer {
            running: Some(running),
            base,
            mastra,
            client: client(),
        };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&self) {
        for _ in 0..200 {
            if let Ok(res) = self.client.get(self.url("/health")).send().await {
                if res.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("server at {} never answered /health", self.base);
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The application being served.
    pub fn mastra(&self) -> &Mastra {
        &self.mastra
    }

    /// A client bound to nothing but loopback.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a prepared request and reads the whole reply.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let res = request.send().await.expect("request failed");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("read body");
        Reply {
            status,
            headers,
            text,
        }
    }

    /// A request with any method.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(self.url(path))).await
    }

    /// `GET path` with one extra request header.
    pub async fn get_with_header(&self, path: &str, name: &str, value: &str) -> Reply {
        self.send(self.request(Method::GET, path).header(name, value))
            .await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send(self.client.post(self.url(path)).json(body)).await
    }

    /// `METHOD path` with a raw body and content type.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut request = self.request(method, path).body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        self.send(request).await
    }

    /// Stops the server, letting in-flight requests finish.
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop(true).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            // The stop command is sent when `stop` is called; the future only awaits completion.
            drop(running.handle().stop(false));
        }
    }
}

/// A path under the system temp dir unique to this process and `name`, created empty.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("mastra-rs-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Reads an SSE body into its `data:` payloads (`[DONE]` included), as Mastra's client splits
/// it: on blank lines, keeping lines that start with `data: `.
pub fn sse_data(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|frame| frame.strip_prefix("data: "))
        .map(str::to_owned)
        .collect()
}

/// The JSON chunks of an agent SSE body, checking it ends with `data: [DONE]`.
#[track_caller]
pub fn sse_chunks(body: &str) -> Vec<Value> {
    let data = sse_data(body);
    assert_eq!(
        data.last().map(String::as_str),
        Some("[DONE]"),
        "stream must end with [DONE]: {body}"
    );
    data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("frame {d:?} is not JSON: {e}")))
        .collect()
}

/// The `type` of each chunk, part or event, in order (`"?"` for one without a type).
pub fn types_of(values: &[Value]) -> Vec<&str> {
    values
        .iter()
        .map(|v| v["type"].as_str().unwrap_or("?"))
        .collect()
}

/// Asserts that `chunks`, from Mastra's agent SSE stream, are one run's plain text answer in
/// `deltas` text deltas: `start`, `step-start`, `text-start`, the deltas, `text-end`,
/// `step-finish`, `finish`, each carrying the first chunk's `runId` and `from: "AGENT"`, the
/// deltas reading `text`.
#[track_caller]
pub fn assert_text_answer(chunks: &[Value], deltas: usize, text: &str) {
    let mut expected = vec!["start", "step-start", "text-start"];
    expected.extend(std::iter::repeat_n("text-delta", deltas));
    expected.extend(["text-end", "step-finish", "finish"]);
    assert_eq!(types_of(chunks), expected);
    let run_id = &chunks[0]["runId"];
    for chunk in chunks {
        assert_eq!(&chunk["runId"], run_id, "{chunk}");
        assert_eq!(chunk["from"], "AGENT", "{chunk}");
    }
    assert_eq!(delta_text(chunks), text);
}

/// The answer's text: the `text-delta` chunks joined, reading Mastra's `payload.text` or the
/// UI message stream's `delta`.
pub fn delta_text(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter(|c| c["type"] == "text-delta")
        .filter_map(|c| c["payload"]["text"].as_str().or(c["delta"].as_str()))
        .collect()
}

/// Reads from `body` until `needle` has been seen, returning everything read; panics after
/// `within` or if the body ends first.
pub async fn read_until<S, E>(body: &mut S, needle: &str, within: Duration) -> String
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Debug,
{
    use futures_util::StreamExt;
    let mut seen = String::new();
    let found = tokio::time::timeout(within, async {
        while let Some(chunk) = body.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.expect("body chunk")));
            if seen.contains(needle) {
                return true;
            }
        }
        false
    })
    .await;
    match found {
        Ok(true) => seen,
        Ok(false) => panic!("the body ended before {needle:?}: {seen}"),
        Err(_) => panic!("{needle:?} did not arrive within {within:?}; read so far: {seen}"),
    }
}

/// Polls `check` every 20 ms until it is true; panics with `what` after `within`.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
