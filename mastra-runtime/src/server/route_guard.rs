//! [`RouteGuard`], the layer around each route (outermost in its stack): the request timeout,
//! panic isolation, the abort signal on a dropped connection, and errors turned into responses.

use std::{
    future::{ready, Future, Ready},
    panic::AssertUnwindSafe,
    pin::Pin,
    task::{Context as TaskContext, Poll},
    time::Duration,
};

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, Transform},
    http::StatusCode,
    Error,
};

use tokio::time::Instant;

use super::deadlines::Deadline;
use crate::{disconnect, error::ApiError};

/// Wraps every route (outermost in its stack): the request timeout, panic isolation, and
/// errors turned into responses so the JSON error body applies to them.
#[derive(Clone)]
pub(crate) struct RouteGuard {
    pub(crate) timeout: Duration,
}

impl<S, B> Transform<S, ServiceRequest> for RouteGuard
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Transform = RouteGuardService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RouteGuardService {
            service,
            timeout: self.timeout,
        }))
    }
}

pub(crate) struct RouteGuardService<S> {
    service: S,
    timeout: Duration,
}

impl<S, B> Service<ServiceRequest> for RouteGuardService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Future = Guarded<S::Future>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // Routing is done, so holding a clone is safe here; it answers if the handler panics.
        let request = req.request().clone();
        let connection = disconnect::connection_of(&request);
        let call = disconnect::in_flight(connection, || self.service.call(req));
        Guarded {
            call,
            connection,
            deadline: None,
            timeout: self.timeout,
            request,
            answered: false,
        }
    }
}

pin_project_lite::pin_project! {
    /// A route's call under [`RouteGuard`]: a panic becomes a 500, an error becomes its
    /// response, and a response head not ready within the timeout becomes a 503.
    ///
    /// The deadline is only armed once the call first waits: most handlers answer on their
    /// first poll, and for them even a slot in the deadline list would be pure per-request cost. The deadline therefore counts from the first wait, which trails
    /// the call's start by the synchronous work of that first poll.
    pub(crate) struct Guarded<F> {
        #[pin]
        call: F,
        // The connection the request came on, marked in flight while `call` is polled (see
        // `disconnect::in_flight`).
        connection: usize,
        // In the worker's deadline list, not a timer of its own: see `deadlines`.
        deadline: Option<Deadline>,
        timeout: Duration,
        request: actix_web::HttpRequest,
        answered: bool,
    }

    impl<F> PinnedDrop for Guarded<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before answering: the connection was torn down while the handler was
            // awaiting, so fire the request's abort signal if one was asked for.
            if !this.answered {
                disconnect::abandoned(&this.request);
            }
        }
    }
}

impl<F, B> Future for Guarded<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody + 'static,
{
    type Output = Result<ServiceResponse<BoxBody>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let call = this.call;
        let polled = disconnect::in_flight(*this.connection, || {
            std::panic::catch_unwind(AssertUnwindSafe(|| call.poll(cx)))
        });
        let request = || this.request.clone();
        let res = match polled {
            Ok(Poll::Ready(Ok(res))) => res.map_into_boxed_body(),
            Ok(Poll::Ready(Err(error))) => ServiceResponse::from_err(error, request()),
            Ok(Poll::Pending) => {
                let timeout = *this.timeout;
                let deadline = this
                    .deadline
                    .get_or_insert_with(|| Deadline::at(Instant::now() + timeout));
                if deadline.poll_passed(cx).is_pending() {
                    return Poll::Pending;
                }
                let request = request();
                tracing::warn!(
                    method = %request.method(),
                    path = request.path(),
                    "request timed out before a response was ready"
                );
                ServiceResponse::from_err(
                    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Request timed out"),
                    request,
                )
            }
            Err(panic) => {
                let request = request();
                let message = panic_message(panic.as_ref());
                tracing::error!(
                    method = %request.method(),
                    path = request.path(),
                    panic = %message,
                    "handler panicked; answered 500 and kept serving"
                );
                ServiceResponse::from_err(ApiError::internal("Internal Server Error"), request)
            }
        };
        *this.answered = true;
        Poll::Ready(Ok(disconnect::attach(res)))
    }
}

/// The text of a panic payload.
pub(super) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}
