//! A scripted model provider on 127.0.0.1 for provider tests: each request gets the next
//! scripted reply (the last one repeats), and every request is recorded.

use std::{
    collections::VecDeque,
    net::TcpListener,
    sync::{Arc, Mutex},
    time::Duration,
};

use mastra_runtime::actix_web::{
    dev::ServerHandle, web, App, HttpRequest, HttpResponse, HttpServer,
};
use serde_json::Value;

/// One scripted reply.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    chunks: Vec<String>,
    delay: Duration,
}

impl Reply {
    /// A 200 `text/event-stream` whose body is these SSE `data:` payloads, one frame each.
    pub fn sse(data: &[&str]) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            chunks: data.iter().map(|d| format!("data: {d}\n\n")).collect(),
            delay: Duration::ZERO,
        }
    }

    /// A 200 `text/event-stream` of named events (`event: name` + `data:`), Anthropic-style.
    pub fn named_sse(events: &[(&str, &str)]) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            chunks: events
                .iter()
                .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
                .collect(),
            delay: Duration::ZERO,
        }
    }

    /// A raw body, split into the given chunks, with this status.
    pub fn raw(status: u16, chunks: &[&str]) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            chunks: chunks.iter().map(|c| (*c).to_owned()).collect(),
            delay: Duration::ZERO,
        }
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Waits this long before each body chunk.
    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The path.
    pub path: String,
    /// Header values by lower-case name.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Value,
}

impl Seen {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    seen: Vec<Seen>,
}

/// The fake server; stops when dropped.
pub struct FakeProvider {
    url: String,
    state: Arc<Mutex<State>>,
    handle: ServerHandle,
}

async fn answer(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<State>>>,
) -> HttpResponse {
    let reply = {
        let mut state = state.lock().expect("fake provider state");
        state.seen.push(Seen {
            path: req.path().to_owned(),
            headers: req
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        if state.script.len() > 1 {
            state.script.pop_front()
        } else {
            state.script.front().cloned()
        }
    };
    let Some(reply) = reply else {
        return HttpResponse::InternalServerError().body("no scripted reply");
    };
    let mut builder = HttpResponse::build(
        mastra_runtime::actix_web::http::StatusCode::from_u16(reply.status).expect("status"),
    );
    for (name, value) in &reply.headers {
        builder.insert_header((name.as_str(), value.as_str()));
    }
    let delay = reply.delay;
    let chunks = futures_util::stream::iter(reply.chunks).then(move |chunk| async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok::<_, std::convert::Infallible>(web::Bytes::from(chunk))
    });
    builder.streaming(chunks)
}

use futures_util::StreamExt;

impl FakeProvider {
    /// Starts a fake answering with `script`, in order.
    pub async fn start(script: Vec<Reply>) -> FakeProvider {
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            seen: Vec::new(),
        }));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake provider");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let data = web::Data::new(Arc::clone(&state));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(10 * 1024 * 1024))
                .default_service(web::to(answer))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeProvider { url, state, handle }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().expect("fake provider state").seen.clone()
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}
