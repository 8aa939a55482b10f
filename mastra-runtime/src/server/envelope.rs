//! [`RequestEnvelope`], the app-wide layer around every request, routed or not: request id,
//! head limits, the body's size and time limits, JSON error bodies, streamed bodies isolated from
//! panics, and the access log line.

use std::{
    cell::{Cell, RefCell},
    future::{ready, Future, Ready},
    panic::AssertUnwindSafe,
    pin::Pin,
    rc::Rc,
    sync::atomic::{AtomicU64, Ordering},
    task::{Context as TaskContext, Poll},
    time::Instant,
};

use actix_web::{
    body::{BodySize, BoxBody, MessageBody},
    dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform},
    error::PayloadError,
    http::{
        header::{self, HeaderName, HeaderValue},
        StatusCode,
    },
    Error, HttpMessage, ResponseError,
};
use bytes::Bytes;
use futures_util::Stream;

use super::{
    deadlines::Deadline,
    limits::{BodyLimits, HeadLimits},
    route_guard::panic_message,
};
use crate::{
    error::ApiError,
    extract::payload::{body_read_refusal, body_timed_out, payload_error, BODY_TIMED_OUT},
};

/// Header carrying the request id, echoed when the client sends a sane one.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// [`REQUEST_ID_HEADER`] as a header name, so that lookups do not parse the name every time.
const REQUEST_ID: HeaderName = HeaderName::from_static(REQUEST_ID_HEADER);

static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// The outermost layer: request id, head limits, the body's size and time limits, JSON error
/// bodies, the log line.
#[derive(Clone)]
pub(crate) struct RequestEnvelope {
    pub(crate) body_limits: BodyLimits,
    pub(crate) head_limits: HeadLimits,
}

impl<S, B> Transform<S, ServiceRequest> for RequestEnvelope
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Transform = EnvelopeService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(EnvelopeService {
            service,
            config: self.clone(),
        }))
    }
}

pub(crate) struct EnvelopeService<S> {
    service: S,
    config: RequestEnvelope,
}

impl<S, B> Service<ServiceRequest> for EnvelopeService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Future = EnvelopeFuture<S::Future>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        // The clock is only read for the log line's latency, when that line is logged.
        let started = access_log_enabled().then(Instant::now);
        let request_id = request_id(&req);

        // Note: nothing here may keep a clone of the `HttpRequest` while the inner service
        // runs; the router needs the only reference to record path parameters.
        if let Some(refusal) = self.config.head_limits.check(&req) {
            return refuse(req, refusal, started, request_id);
        }
        let has_body = match declared_length(&req) {
            Some(Ok(length)) if length > self.config.body_limits.max_bytes => {
                let refusal =
                    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large");
                return refuse(req, refusal, started, request_id);
            }
            Some(Ok(length)) => length > 0,
            Some(Err(())) => {
                let refusal = ApiError::bad_request("Invalid Content-Length header");
                return refuse(req, refusal, started, request_id);
            }
            // HTTP/1.x with neither Content-Length nor Transfer-Encoding has no body at all;
            // without a declared length the body is chunked (or HTTP/2 frames).
            None => may_stream_body(&req),
        };
        let body = has_body.then(|| {
            let watch = Rc::new(BodyWatch::default());
            let payload = req.take_payload();
            req.set_payload(Payload::from(Box::pin(GuardedBody {
                inner: payload,
                limits: self.config.body_limits,
                remaining: self.config.body_limits.max_bytes,
                received: 0,
                first_wait: None,
                deadline: None,
                received_at_deadline: 0,
                ended: false,
                complete: false,
                watch: Rc::clone(&watch),
            })
                as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>));
            watch
        });

        EnvelopeFuture::Call {
            call: self.service.call(req),
            started,
            request_id: Some(request_id),
            body,
        }
    }
}

/// Answers `refusal` without calling the application. A chunked body is kept with the response,
/// so the connection is closed after it rather than drained (actix-http already closes one of
/// declared length).
fn refuse<F>(
    mut req: ServiceRequest,
    refusal: ApiError,
    started: Option<Instant>,
    request_id: HeaderValue,
) -> EnvelopeFuture<F> {
    let mut watch = BodyWatch::default();
    if may_stream_body(&req) {
        *watch.unfinished.get_mut() = Some(req.take_payload());
    }
    let res = req.into_response(refusal.error_response());
    EnvelopeFuture::Refused {
        response: Some(complete(res, started, request_id, Some(&watch))),
    }
}

pin_project_lite::pin_project! {
    /// [`RequestEnvelope`]'s answer: the application's call, completed (request id, log line,
    /// JSON error body) when it resolves, or a refusal decided before routing.
    #[project = EnvelopeFutureProj]
    pub(crate) enum EnvelopeFuture<F> {
        Call {
            #[pin]
            call: F,
            started: Option<Instant>,
            request_id: Option<HeaderValue>,
            body: Option<Rc<BodyWatch>>,
        },
        Refused {
            response: Option<ServiceResponse<BoxBody>>,
        },
    }
}

impl<F, B> Future for EnvelopeFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody + 'static,
{
    type Output = Result<ServiceResponse<BoxBody>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        match self.project() {
            EnvelopeFutureProj::Call {
                call,
                started,
                request_id,
                body,
            } => {
                let res = std::task::ready!(call.poll(cx))?.map_into_boxed_body();
                let request_id = request_id
                    .take()
                    .expect("EnvelopeFuture polled after completion");
                Poll::Ready(Ok(complete(res, *started, request_id, body.as_deref())))
            }
            EnvelopeFutureProj::Refused { response } => Poll::Ready(Ok(response
                .take()
                .expect("EnvelopeFuture polled after completion"))),
        }
    }
}

/// A streamed body is polled after the handler returned, outside
/// [`RouteGuard`](super::route_guard::RouteGuard)'s `catch_unwind`: a panic in it would unwind
/// through the HTTP dispatcher. This wraps a streamed body ([`complete`] calls it for those
/// only: a sized body cannot panic) so a panic ends the body with an error, which closes that
/// one connection mid-response like any failed stream, and is logged like a handler's.
fn isolate_stream_panics(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let route = format!("{} {}", res.request().method(), res.request().path());
    res.map_body(|_, body| {
        BoxBody::new(PanicSafeBody {
            inner: body,
            route,
            done: false,
        })
    })
}

struct PanicSafeBody {
    inner: BoxBody,
    /// `METHOD path`, for the log line.
    route: String,
    done: bool,
}

/// The error a streamed body ends with when it panicked.
#[derive(Debug, thiserror::Error)]
#[error("the response stream panicked")]
struct StreamPanicked;

impl MessageBody for PanicSafeBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let polled =
            std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(&mut this.inner).poll_next(cx)));
        match polled {
            Ok(poll) => poll,
            Err(panic) => {
                this.done = true;
                tracing::error!(
                    route = %this.route,
                    panic = %panic_message(panic.as_ref()),
                    "response stream panicked; closed that connection and kept serving"
                );
                Poll::Ready(Some(Err(Box::new(StreamPanicked))))
            }
        }
    }
}

fn complete(
    mut res: ServiceResponse<BoxBody>,
    started: Option<Instant>,
    request_id: HeaderValue,
    body: Option<&BodyWatch>,
) -> ServiceResponse<BoxBody> {
    // Each step only when it has something to do: each takes the response by value, and
    // moving a `ServiceResponse` is a copy of it.
    if res.status().as_u16() >= 400 {
        res = json_error_body(res);
    }
    if let Some(body) = body.filter(|body| body.has_news()) {
        res = body.settle(res);
    }
    if matches!(res.response().body().size(), BodySize::Stream) {
        res = isolate_stream_panics(res);
    }
    let latency = started.map(|started| started.elapsed()).unwrap_or_default();
    tracing::info!(
        target: "mastra::http",
        method = %res.request().method(),
        path = res.request().path(),
        status = res.status().as_u16(),
        latency_ms = %format_args!("{:.3}", latency.as_secs_f64() * 1000.0),
        request_id = request_id.to_str().unwrap_or_default(),
    );
    res.headers_mut().insert(REQUEST_ID, request_id);
    res
}

/// Whether the access log line (`mastra::http` at `info`) is logged: a cached check on its
/// level, a few instructions, where reading the clock for a latency nobody sees is not.
fn access_log_enabled() -> bool {
    tracing::enabled!(target: "mastra::http", tracing::Level::INFO)
}

fn request_id(req: &ServiceRequest) -> HeaderValue {
    req.headers()
        .get(&REQUEST_ID)
        .filter(|v| {
            let bytes = v.as_bytes();
            !bytes.is_empty()
                && bytes.len() <= 128
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
        })
        .cloned()
        .unwrap_or_else(|| {
            let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
            HeaderValue::from_bytes(&hex16(id)).unwrap_or_else(|_| HeaderValue::from_static("0"))
        })
}

/// `id` as 16 lowercase hex digits, without going through `fmt` (this runs on every request).
fn hex16(id: u64) -> [u8; 16] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        let shift = (15 - i) * 4;
        *byte = DIGITS[((id >> shift) & 0xf) as usize];
    }
    out
}

/// Whether a request without `Content-Length` can still carry a body: chunked HTTP/1.1, or
/// HTTP/2 (whose frames need no length header).
fn may_stream_body(req: &ServiceRequest) -> bool {
    req.headers().contains_key(header::TRANSFER_ENCODING)
        || req.version() >= actix_web::http::Version::HTTP_2
}

/// `Some(Ok(n))` for a valid `Content-Length`, `Some(Err)` for a malformed one, `None` when absent.
fn declared_length(req: &ServiceRequest) -> Option<Result<usize, ()>> {
    let value = req.headers().get(header::CONTENT_LENGTH)?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .ok_or(()),
    )
}

/// What a request's [`GuardedBody`] leaves for the envelope once the application is done with
/// it.
#[derive(Default)]
struct BodyWatch {
    /// The body outlasted its read timeout.
    timed_out: Cell<bool>,
    /// The body, when the application let go of it before its end. It is kept until the
    /// response has been written: actix-http then closes the connection, as it does for an
    /// unread body of declared length, instead of reading and discarding a chunked body for as
    /// long as the client keeps sending it (which would hold the connection, and a file
    /// descriptor, indefinitely).
    unfinished: RefCell<Option<Payload>>,
}

impl BodyWatch {
    /// Whether [`BodyWatch::settle`] has anything to change.
    fn has_news(&self) -> bool {
        self.timed_out.get() || self.unfinished.borrow().is_some()
    }

    /// The response as the body's fate requires: a failure answered while the body timed out is
    /// the `408` (whatever the handler made of the read error), and an unfinished body rides
    /// along with the response so the connection closes after it.
    fn settle(&self, res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
        let timed_out = self.timed_out.get() && res.status().as_u16() >= 400;
        let res = if timed_out && res.status() != StatusCode::REQUEST_TIMEOUT {
            replace_error(
                res,
                &ApiError::new(StatusCode::REQUEST_TIMEOUT, BODY_TIMED_OUT),
            )
        } else {
            res
        };
        match self.unfinished.borrow_mut().take() {
            None => res,
            Some(unread) => res.map_body(|_, body| {
                BoxBody::new(WithUnreadBody {
                    inner: body,
                    _unread: unread,
                })
            }),
        }
    }
}

/// A response body carrying the request body nobody read to its end (see
/// [`BodyWatch::unfinished`]).
struct WithUnreadBody {
    inner: BoxBody,
    _unread: Payload,
}

impl MessageBody for WithUnreadBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

/// The request body as the application reads it: it fails with `Overflow` past the size limit
/// (a chunked body is counted as it arrives; a declared length was checked from the head), and
/// with the body read timeout's error once it has taken longer than
/// [`BodyLimits::allowed`] for what it delivered, counted from the first read that had to wait.
///
/// The clock is read and the timer armed only when a read has to wait: a body already buffered
/// with the head, the common case, costs neither. (The first wait trails the first read only by
/// the work of handing over what was already buffered, no client time.)
struct GuardedBody {
    inner: Payload,
    limits: BodyLimits,
    remaining: usize,
    received: u64,
    first_wait: Option<tokio::time::Instant>,
    /// In the worker's deadline list, not a timer of its own: see `deadlines`.
    deadline: Option<Deadline>,
    /// `received` when `deadline` was last set: it moves only as the body arrives.
    received_at_deadline: u64,
    /// Nothing more will be yielded (the end, an error, or the timeout).
    ended: bool,
    /// The body was read to its end.
    complete: bool,
    watch: Rc<BodyWatch>,
}

impl Stream for GuardedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) if chunk.len() > this.remaining => {
                this.ended = true;
                Poll::Ready(Some(Err(PayloadError::Overflow)))
            }
            Poll::Ready(Some(Ok(chunk))) => {
                this.remaining -= chunk.len();
                this.received += chunk.len() as u64;
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(error))) => {
                this.ended = true;
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => {
                this.ended = true;
                this.complete = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                let first_wait = *this
                    .first_wait
                    .get_or_insert_with(tokio::time::Instant::now);
                let at = first_wait + this.limits.allowed(this.received);
                let deadline = match &mut this.deadline {
                    Some(deadline) => {
                        if this.received != this.received_at_deadline {
                            deadline.reset(at);
                        }
                        deadline
                    }
                    slot => slot.insert(Deadline::at(at)),
                };
                this.received_at_deadline = this.received;
                if deadline.poll_passed(cx).is_pending() {
                    return Poll::Pending;
                }
                this.ended = true;
                this.watch.timed_out.set(true);
                tracing::info!(
                    received_bytes = this.received,
                    waited_ms = first_wait.elapsed().as_millis() as u64,
                    "request body too slow; answering 408 and closing the connection"
                );
                Poll::Ready(Some(Err(body_timed_out())))
            }
        }
    }
}

impl Drop for GuardedBody {
    fn drop(&mut self) {
        if !self.complete {
            *self.watch.unfinished.borrow_mut() =
                Some(std::mem::replace(&mut self.inner, Payload::None));
        }
    }
}

/// `res` with `error`'s status and JSON body, keeping its other headers (CORS among them).
fn replace_error(res: ServiceResponse<BoxBody>, error: &ApiError) -> ServiceResponse<BoxBody> {
    let (req, response) = res.into_parts();
    let (mut head, _) = response.into_parts();
    *head.status_mut() = error.status();
    let headers = head.headers_mut();
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let response = head.set_body(BoxBody::new(error.body().to_string()));
    ServiceResponse::new(req, response)
}

/// Gives an error response (status 400 or above: [`complete`] calls it for those only) the JSON
/// body `{"error": "..."}`, keeping its status and headers.
///
/// Handlers and `ApiError` already answer in JSON; this catches what actix-web and third-party
/// extractors or middleware answer in plain text.
fn json_error_body(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if is_json(res.headers()) {
        return res;
    }
    // A body actix-web's own extractors failed to read: its text is Rust debug output.
    if let Some(refusal) = res
        .response()
        .error()
        .and_then(payload_error)
        .map(body_read_refusal)
    {
        return replace_error(res, &refusal);
    }
    let (req, response) = res.into_parts();
    let (mut head, body) = response.into_parts();
    let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "Request body too large".to_owned()
    } else {
        body.try_into_bytes()
            .ok()
            .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty() && text.len() <= 2048)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned())
    };
    let body = serde_json::json!({ "error": message }).to_string();
    let headers = head.headers_mut();
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let response = head.set_body(BoxBody::new(body));
    ServiceResponse::new(req, response)
}

fn is_json(headers: &actix_web::http::header::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let essence = ct.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/json") || essence.ends_with("+json")
        })
}

#[cfg(test)]
mod tests {
    use super::hex16;

    #[test]
    fn request_ids_are_sixteen_hex_digits() {
        assert_eq!(&hex16(1), b"0000000000000001");
        assert_eq!(&hex16(0xdead_beef), b"00000000deadbeef");
        assert_eq!(&hex16(u64::MAX), b"ffffffffffffffff");
    }
}
