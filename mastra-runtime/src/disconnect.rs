//! Client disconnects as a value: the request's abort signal ([`abort_signal`]).
//!
//! actix-web drops a streaming response body once writing to a closed connection fails, but it
//! keeps polling a handler that is still awaiting when the client goes away (actix-web issue
//! #3462). So the signal has two sources:
//!
//! - **the connection itself.** The first time a request asks for its signal, a small task
//!   starts watching that request's TCP socket (a duplicate of its descriptor, registered with
//!   the reactor like any socket, so it costs nothing while idle). It wakes only on socket
//!   events and fires when the kernel reports that the peer closed or reset the connection
//!   (`EPOLLRDHUP`/`EPOLLHUP`). Bytes merely waiting to be read (a pipelined next request, a
//!   body the handler has not read) are not a close: the watcher clears that readiness and waits
//!   for the next event, so it never spins. The watch ends when the response has been written
//!   completely; a later close of a kept-alive connection is not an abort.
//! - **the response body.** A body that had started streaming and is dropped before its end
//!   (a write failed) fires the signal too.
//!
//! Requests that never ask for the signal pay one extension lookup when their response is
//! ready, nothing more.
//!
//! A client that shuts down only its sending side after the request (a half-close, which HTTP
//! clients rarely do) is treated as gone, as hyper and Node do by default.

use std::{
    any::Any,
    cell::Cell,
    pin::Pin,
    task::{Context, Poll},
};

use actix_web::{
    body::{BodySize, BoxBody, MessageBody},
    dev::{Extensions, ServiceResponse},
    web::Bytes,
    HttpMessage, HttpRequest,
};
use tokio_util::sync::CancellationToken;

/// What `HttpServer::on_connect` records for each plain TCP connection: its socket descriptor.
pub(crate) struct ConnSocket {
    #[cfg(unix)]
    fd: std::os::fd::RawFd,
}

/// Records the socket of a new connection (the `HttpServer::on_connect` callback).
pub(crate) fn on_connect(conn: &dyn Any, extensions: &mut Extensions) {
    #[cfg(unix)]
    if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
        use std::os::fd::AsRawFd;
        extensions.insert(ConnSocket {
            fd: tcp.as_raw_fd(),
        });
    }
    #[cfg(not(unix))]
    let _ = (conn, extensions);
}

std::thread_local! {
    /// Set while a route's own future (middleware and handler) is being polled: the address of
    /// the `ConnSocket` of the connection serving it, `0` for none. Asking for a signal checks
    /// it, so a socket descriptor is only borrowed while the connection that owns it is
    /// certainly open.
    ///
    /// A plain thread-local set around each poll ([`in_flight`]), which is what a tokio
    /// task-local scope does, without its lazily initialised `RefCell` and the scope guards:
    /// every request pays for this twice (its call and its poll).
    static IN_FLIGHT: Cell<usize> = const { Cell::new(0) };
}

fn conn_identity(conn: &ConnSocket) -> usize {
    std::ptr::from_ref(conn) as usize
}

/// The identity of `req`'s connection, for [`in_flight`]; `0` when it has none (not a plain
/// TCP connection).
pub(crate) fn connection_of(req: &HttpRequest) -> usize {
    req.conn_data::<ConnSocket>().map_or(0, conn_identity)
}

/// Runs `f` (a route's service call, or one poll of the future it returned) as the in-flight
/// request of `connection`, restoring what was there before afterwards, also on a panic.
pub(crate) fn in_flight<R>(connection: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            IN_FLIGHT.with(|current| current.set(self.0));
        }
    }
    let _restore = Restore(IN_FLIGHT.with(|current| current.replace(connection)));
    f()
}

/// The request's signal, as stored in its extensions.
#[derive(Clone)]
pub(crate) struct RequestSignal {
    /// Fires when the client goes away.
    gone: CancellationToken,
    /// Fires when the response is complete (or abandoned): the watcher stops.
    done: CancellationToken,
}

impl RequestSignal {
    fn new() -> Self {
        Self {
            gone: CancellationToken::new(),
            done: CancellationToken::new(),
        }
    }

    fn client_gone(&self) {
        self.gone.cancel();
        self.done.cancel();
    }

    fn complete(&self) {
        self.done.cancel();
    }
}

/// The abort signal of `req`: a token that is cancelled when the client goes away, while the
/// handler is still awaiting or while the response body is being written.
///
/// Every call for the same request returns the same token. Ask for it in the handler (or its
/// middleware), before spawning work: the connection can only be watched from there. It never
/// fires once the response has been written completely.
///
/// [`Context::abort_signal`](crate::Context::abort_signal) is the same for handlers taking a
/// `Context`.
///
/// ```
/// use mastra_runtime::{disconnect::abort_signal, prelude::*};
///
/// async fn slow(req: HttpRequest) -> HttpResponse {
///     let signal = abort_signal(&req);
///     tokio::select! {
///         () = signal.cancelled() => HttpResponse::NoContent().finish(), // nobody is listening
///         () = tokio::time::sleep(std::time::Duration::from_secs(5)) => HttpResponse::Ok().body("done"),
///     }
/// }
/// # let _ = ApiRoute::get("/slow").handler(slow);
/// ```
pub fn abort_signal(req: &HttpRequest) -> CancellationToken {
    if let Some(signal) = req.extensions().get::<RequestSignal>() {
        return signal.gone.clone();
    }
    let signal = RequestSignal::new();
    watch_connection(req, &signal);
    req.extensions_mut().insert(signal.clone());
    signal.gone
}

#[cfg(unix)]
fn watch_connection(req: &HttpRequest, signal: &RequestSignal) {
    let Some(conn) = req.conn_data::<ConnSocket>() else {
        return;
    };
    let current = IN_FLIGHT.try_with(Cell::get).unwrap_or(0);
    if current != conn_identity(conn) {
        tracing::debug!(
            "abort signal asked for outside its request's handler; only a dropped response body fires it"
        );
        return;
    }
    match socket::duplicate(conn.fd) {
        Ok(stream) => {
            let signal = signal.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = signal.done.cancelled() => {}
                    () = socket::peer_closed(&stream) => {
                        tracing::debug!("client closed the connection; abort signal fired");
                        signal.client_gone();
                    }
                }
            });
        }
        Err(error) => tracing::warn!(%error, "cannot watch the connection for a disconnect"),
    }
}

#[cfg(not(unix))]
fn watch_connection(_req: &HttpRequest, _signal: &RequestSignal) {}

#[cfg(unix)]
mod socket {
    use std::{
        io,
        os::fd::{BorrowedFd, RawFd},
    };

    use tokio::{io::Interest, net::TcpStream};

    /// A second handle on the connection's socket, registered with the current reactor.
    pub(super) fn duplicate(fd: RawFd) -> io::Result<TcpStream> {
        // SAFETY: `fd` is the socket of the connection the request arrived on (its
        // `conn_data`), and the caller checked that it runs inside that request's own route
        // future (`IN_FLIGHT` holds the address of that very `ConnSocket`, which cannot be
        // freed and reused while the request holds it). The connection's dispatcher is polling
        // that future right now and owns the socket, so the descriptor is open for this
        // borrow, which ends before this function returns.
        #[allow(unsafe_code)]
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let owned = borrowed.try_clone_to_owned()?;
        let std = std::net::TcpStream::from(owned);
        std.set_nonblocking(true)?;
        TcpStream::from_std(std)
    }

    /// Resolves once the peer has closed or reset the connection.
    pub(super) async fn peer_closed(stream: &TcpStream) {
        loop {
            match stream.ready(Interest::READABLE).await {
                Ok(ready) if ready.is_read_closed() || ready.is_error() => return,
                Ok(_) => {
                    // Data is waiting (the next pipelined request, an unread body): not a
                    // close. Clear this readiness without reading, so the next socket event
                    // (more data, or the peer's FIN) wakes us again instead of spinning.
                    let _ = stream.try_io(Interest::READABLE, || {
                        Err::<(), _>(io::ErrorKind::WouldBlock.into())
                    });
                }
                Err(_) => return,
            }
        }
    }
}

/// Hooks the response of a request that asked for its signal: the watch ends when the body has
/// been written, and a body dropped mid-stream fires the signal.
pub(crate) fn attach(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let signal = res.request().extensions().get::<RequestSignal>().cloned();
    match signal {
        None => res,
        Some(signal) => res.map_body(|_, body| {
            BoxBody::new(SignalBody {
                inner: body,
                signal,
                polled: false,
                finished: false,
            })
        }),
    }
}

/// The route's future was dropped before it produced a response (the connection was torn
/// down): nobody will read the answer.
pub(crate) fn abandoned(req: &HttpRequest) {
    if let Some(signal) = req.extensions().get::<RequestSignal>() {
        signal.client_gone();
    }
}

/// A response body that reports its end to the request's signal.
struct SignalBody {
    inner: BoxBody,
    signal: RequestSignal,
    polled: bool,
    finished: bool,
}

impl MessageBody for SignalBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        self.polled = true;
        let next = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(None) = next {
            self.finished = true;
            self.signal.complete();
        }
        next
    }
}

impl Drop for SignalBody {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if self.polled {
            // Dropped mid-stream: actix-web gives up on a body when writing to the client fails.
            self.signal.client_gone();
        } else {
            // Never streamed (an empty body, a HEAD request, or a layer replaced it).
            self.signal.complete();
        }
    }
}
