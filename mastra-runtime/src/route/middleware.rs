//! Middleware as values: functions of actix-web's `middleware::from_fn` shape, or any
//! `Transform`, erased so routes and the server config can hold lists of them.

use std::{fmt, future::Future, sync::Arc};

use actix_web::{
    body::{BoxBody, MessageBody},
    middleware::from_fn,
};

use super::ConstructorError;
use crate::app::AppRef;

/// The types a middleware function's signature names, re-exported from actix-web.
pub use actix_web::{
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    Error,
};

type Layer = Arc<dyn Fn(actix_web::Route) -> actix_web::Route + Send + Sync>;

/// A middleware function of actix-web's `from_fn` shape,
/// `(ServiceRequest, Next<BoxBody>) -> impl Future<Output = Result<ServiceResponse<B>, Error>>`,
/// that can be cloned into every worker. Implemented for every such function and closure; the
/// one place the shape is written (with [`MiddlewareFuture`]).
pub trait MiddlewareFn<Fut>:
    Fn(ServiceRequest, Next<BoxBody>) -> Fut + Clone + Send + Sync + 'static
{
}

impl<F, Fut> MiddlewareFn<Fut> for F where
    F: Fn(ServiceRequest, Next<BoxBody>) -> Fut + Clone + Send + Sync + 'static
{
}

/// What a [`MiddlewareFn`] returns: the response, with any body type `B`, or an error.
pub trait MiddlewareFuture<B>:
    Future<Output = Result<ServiceResponse<B>, Error>> + 'static
{
}

impl<T, B> MiddlewareFuture<B> for T where
    T: Future<Output = Result<ServiceResponse<B>, Error>> + 'static
{
}

/// One middleware, ready to wrap a route.
///
/// Usually made from an async function of the `from_fn` shape:
///
/// ```
/// use mastra_runtime::prelude::*;
/// use mastra_runtime::middleware::{Error, Next, ServiceRequest, ServiceResponse};
///
/// async fn log_request(
///     req: ServiceRequest,
///     next: Next<impl MessageBody>,
/// ) -> Result<ServiceResponse<impl MessageBody>, Error> {
///     tracing::info!(path = req.path(), "custom route hit");
///     next.call(req).await
/// }
///
/// let mw = Middleware::from_fn(log_request);
/// # let _ = mw;
/// ```
#[derive(Clone)]
pub struct Middleware {
    layer: Layer,
}

impl fmt::Debug for Middleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Middleware")
    }
}

impl Middleware {
    /// Wraps an async function `(ServiceRequest, Next<_>) -> Result<ServiceResponse<_>, Error>`.
    pub fn from_fn<F, Fut, B>(f: F) -> Self
    where
        F: MiddlewareFn<Fut>,
        Fut: MiddlewareFuture<B>,
        B: MessageBody + 'static,
    {
        Self {
            layer: Arc::new(move |route: actix_web::Route| route.wrap(from_fn(f.clone()))),
        }
    }

    /// Wraps any actix-web `Transform`, built anew for each worker by `make`.
    pub fn transform<M, T, B>(make: M) -> Self
    where
        M: Fn() -> T + Send + Sync + 'static,
        T: actix_web::dev::Transform<
                actix_service::boxed::BoxService<ServiceRequest, ServiceResponse, Error>,
                ServiceRequest,
                Response = ServiceResponse<B>,
                Error = Error,
                InitError = (),
            > + 'static,
        B: MessageBody + 'static,
    {
        Self {
            layer: Arc::new(move |route: actix_web::Route| route.wrap(make())),
        }
    }

    pub(crate) fn apply(&self, route: actix_web::Route) -> actix_web::Route {
        (self.layer)(route)
    }
}

type Constructor =
    Box<dyn FnOnce(AppRef<'_>) -> Result<Middleware, ConstructorError> + Send + Sync>;

/// A middleware as declared: ready, to be constructed when the server is built, or refused
/// already (its path pattern did not parse), to be reported with the other route problems.
pub(crate) enum MiddlewareSlot {
    Ready(Middleware),
    Deferred(Constructor),
    Refused(ConstructorError),
}

impl MiddlewareSlot {
    pub(crate) fn build(self, app: AppRef<'_>) -> Result<Middleware, ConstructorError> {
        match self {
            MiddlewareSlot::Ready(mw) => Ok(mw),
            MiddlewareSlot::Deferred(construct) => construct(app),
            MiddlewareSlot::Refused(error) => Err(error),
        }
    }
}

/// Applies `stack` so that its first element is the outermost layer.
pub(crate) fn wrap_in_order(route: actix_web::Route, stack: &[Middleware]) -> actix_web::Route {
    // actix-web makes the last `wrap` the outermost, so wrap innermost-first.
    stack.iter().rev().fold(route, |route, mw| mw.apply(route))
}
