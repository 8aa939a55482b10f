//! Server-Sent Events responses: the headers every SSE answer carries, the closing frame, and
//! optional keep-alive comments. The agent's SSE and UI message stream responses are written
//! with [`sse_response`]; a custom route can stream its own events with it too.
//!
//! Frames are pulled from their source as the connection takes them: actix-web polls a body
//! only while its write buffer has room, so a client that stops reading stops the pulling, and
//! the server holds at most that buffer (plus the kernel's socket buffers) for a stalled client,
//! whatever the source could still produce. Nothing is copied into an intermediate queue.
//!
//! ```
//! use mastra_runtime::{prelude::*, sse::{data_frame, sse_response, SseOptions}};
//! use std::time::Duration;
//!
//! async fn ticks() -> HttpResponse {
//!     let frames = futures_util::stream::iter(1..=3).map(|n| data_frame(&format!("{{\"tick\":{n}}}")));
//!     sse_response(frames, SseOptions::new().keep_alive(Duration::from_secs(15)))
//! }
//! # use futures_util::StreamExt;
//! # let _ = ApiRoute::get("/ticks").handler(ticks);
//! ```

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use actix_web::{http::header, HttpResponse};
use bytes::Bytes;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

/// The SSE frame that ends an agent stream and a UI message stream (Mastra's and the AI SDK's
/// end marker).
pub const SSE_DONE_FRAME: &str = "data: [DONE]\n\n";

/// The SSE comment sent on long silences when keep-alive is on. Readers ignore comments (the
/// `ai` package's parser and Mastra's client both skip lines that are not `data:`).
pub const SSE_KEEP_ALIVE_FRAME: &str = ": keep-alive\n\n";

/// A keep-alive period that suits common proxies: their idle timeouts are usually 60 s
/// (nginx's `proxy_read_timeout`, AWS load balancers), and browsers never time out an open
/// stream, so a comment every 15 s keeps a quiet stream well clear of them.
pub const DEFAULT_SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How an SSE response is written.
///
/// ```
/// use mastra_runtime::sse::{SseOptions, DEFAULT_SSE_KEEP_ALIVE};
/// use std::time::Duration;
/// let options = SseOptions::new().keep_alive(Duration::from_secs(10));
/// assert_eq!(options.keep_alive_period(), Some(Duration::from_secs(10)));
/// assert_eq!(SseOptions::new().with_default_keep_alive().keep_alive_period(), Some(DEFAULT_SSE_KEEP_ALIVE));
/// assert_eq!(SseOptions::default().keep_alive_period(), None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SseOptions {
    keep_alive: Option<Duration>,
}

impl SseOptions {
    /// No keep-alive comments (Mastra's behaviour).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends [`SSE_KEEP_ALIVE_FRAME`] whenever `period` passes without a frame.
    pub fn keep_alive(mut self, period: Duration) -> Self {
        self.keep_alive = Some(period).filter(|p| !p.is_zero());
        self
    }

    /// Keep-alive every [`DEFAULT_SSE_KEEP_ALIVE`].
    pub fn with_default_keep_alive(self) -> Self {
        self.keep_alive(DEFAULT_SSE_KEEP_ALIVE)
    }

    /// The keep-alive period, if on.
    pub fn keep_alive_period(&self) -> Option<Duration> {
        self.keep_alive
    }
}

/// One SSE event carrying `data`: `data: <line>` for each of its lines, then a blank line.
///
/// ```
/// use mastra_runtime::sse::data_frame;
/// assert_eq!(&data_frame("{\"a\":1}")[..], b"data: {\"a\":1}\n\n");
/// assert_eq!(&data_frame("two\nlines")[..], b"data: two\ndata: lines\n\n");
/// ```
pub fn data_frame(data: &str) -> Bytes {
    let mut frame = String::with_capacity(data.len() + 8);
    for line in data.split('\n') {
        frame.push_str("data: ");
        frame.push_str(line.strip_suffix('\r').unwrap_or(line));
        frame.push('\n');
    }
    frame.push('\n');
    Bytes::from(frame)
}

/// A streaming SSE response around `frames` (each item one or more complete events):
/// `200`, `Content-Type: text/event-stream`, `Cache-Control: no-cache` and
/// `X-Accel-Buffering: no` (so nginx passes each frame on instead of buffering the response).
///
/// Each frame is written as soon as it is produced, and `frames` is polled only while the
/// connection can take more (see the module docs). With [`SseOptions::keep_alive`], a
/// [`SSE_KEEP_ALIVE_FRAME`] comment is sent whenever the period passes without a frame. Add
/// headers through [`HttpResponse::headers_mut`].
pub fn sse_response(
    frames: impl Stream<Item = Bytes> + 'static,
    options: SseOptions,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((X_ACCEL_BUFFERING, "no"))
        .streaming(futures_util::StreamExt::map(
            KeepAlive::new(frames, options.keep_alive),
            Ok::<_, std::convert::Infallible>,
        ))
}

/// The header that tells nginx (and proxies that follow it) not to buffer a response.
pub const X_ACCEL_BUFFERING: &str = "x-accel-buffering";

pin_project_lite::pin_project! {
    /// Yields the inner stream's frames, and a keep-alive comment whenever the period passes
    /// without one. Pull-based: nothing is produced unless the response is being polled.
    struct KeepAlive<S> {
        #[pin]
        inner: S,
        #[pin]
        timer: Option<Sleep>,
        period: Duration,
    }
}

impl<S> KeepAlive<S> {
    fn new(inner: S, period: Option<Duration>) -> Self {
        Self {
            inner,
            timer: period.map(|p| tokio::time::sleep(p)),
            period: period.unwrap_or_default(),
        }
    }
}

impl<S: Stream<Item = Bytes>> Stream for KeepAlive<S> {
    type Item = Bytes;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let mut this = self.project();
        match this.inner.poll_next(cx) {
            Poll::Ready(Some(frame)) => {
                if let Some(timer) = this.timer.as_mut().as_pin_mut() {
                    timer.reset(Instant::now() + *this.period);
                }
                Poll::Ready(Some(frame))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let Some(mut timer) = this.timer.as_mut().as_pin_mut() else {
                    return Poll::Pending;
                };
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                timer.reset(Instant::now() + *this.period);
                Poll::Ready(Some(Bytes::from_static(SSE_KEEP_ALIVE_FRAME.as_bytes())))
            }
        }
    }
}
