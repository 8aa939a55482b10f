//! Server-Sent Events responses: the headers every SSE answer carries, the closing frame, and
//! optional keep-alive comments.
//!
//! Frames are pulled from the run as the connection takes them: actix-web polls the body only
//! while its write buffer has room, so a client that stops reading stops the pulling, and the
//! server holds at most that buffer plus the socket's, whatever the run produces.

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

/// The SSE frame that ends an agent stream and a UI message stream.
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
/// use mastra_runtime::agent::{SseOptions, DEFAULT_SSE_KEEP_ALIVE};
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

/// A streaming SSE response: `text/event-stream`, `Cache-Control: no-cache`,
/// `X-Accel-Buffering: no` (so nginx does not buffer it), plus `extra` headers.
pub(crate) fn sse_response(
    frames: impl Stream<Item = Bytes> + 'static,
    options: SseOptions,
    extra: &[(&'static str, &'static str)],
) -> HttpResponse {
    let mut builder = HttpResponse::Ok();
    builder
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"));
    for header in extra {
        builder.insert_header(*header);
    }
    let frames = KeepAlive::new(frames, options.keep_alive);
    builder.streaming(futures_util::StreamExt::map(
        frames,
        Ok::<_, std::convert::Infallible>,
    ))
}

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
