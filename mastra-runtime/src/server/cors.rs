//! CORS: actix-cors's policy, built from [`CorsConfig`], applied only to requests that carry an
//! `Origin` header.
//!
//! A request without `Origin` is not a cross-origin request (browsers send `Origin` on every
//! CORS request and every preflight), so no `Access-Control-*` header of its response is read
//! by anyone. actix-cors still boxes a future for it and adds its expose list, the credentials
//! flag and `Vary`; [`OriginCors`] answers such a request through the inner service directly
//! and adds only `Vary`, which caches need whatever the request (a response cached for a
//! same-origin request must not be served to a cross-origin one). Requests with `Origin`,
//! preflights among them, get actix-cors unchanged.

use std::{
    future::Future,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
};

use actix_cors::{Cors, CorsMiddleware};
use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, Transform},
    http::{
        header::{self, HeaderMap, HeaderValue},
        Method,
    },
    Error,
};
use futures_util::future::LocalBoxFuture;

use super::config::{AllowedOrigins, CorsConfig};

/// The CORS layer of the app: the policy `config` describes (credentials allowed when auth is
/// configured and origins are left to the default).
pub(super) fn cors_layer(config: &CorsConfig, auth_configured: bool) -> OriginCors {
    let mut cors = Cors::default()
        .allowed_methods(
            config
                .allow_methods
                .iter()
                .filter_map(|m| Method::from_bytes(m.as_bytes()).ok()),
        )
        .allowed_headers(
            config
                .allow_headers
                .iter()
                .filter_map(|h| header::HeaderName::from_bytes(h.as_bytes()).ok()),
        )
        .expose_headers(
            config
                .expose_headers
                .iter()
                .filter_map(|h| header::HeaderName::from_bytes(h.as_bytes()).ok()),
        )
        .max_age(config.max_age);
    match &config.origins {
        AllowedOrigins::Auto if auth_configured => {
            cors = cors.allow_any_origin().supports_credentials()
        }
        AllowedOrigins::Auto | AllowedOrigins::Any => {
            cors = cors.allow_any_origin().send_wildcard()
        }
        AllowedOrigins::Reflect => cors = cors.allow_any_origin().supports_credentials(),
        AllowedOrigins::List(origins) => {
            for origin in origins {
                cors = cors.allowed_origin(origin);
            }
            cors = cors.supports_credentials();
        }
    }
    OriginCors { cors }
}

/// actix-cors for requests with `Origin`; the inner service plus `Vary` for the others.
pub(super) struct OriginCors {
    cors: Cors,
}

/// The value actix-cors gives `Vary` (without its draft private-network feature, which this
/// crate does not enable).
const VARY_VALUE: &str = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

impl<S, B> Transform<S, ServiceRequest> for OriginCors
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = OriginCorsService<S>;
    type InitError = ();
    type Future = LocalBoxFuture<'static, Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let inner = Rc::new(service);
        let cors = self.cors.new_transform(Rc::clone(&inner));
        Box::pin(async move {
            Ok(OriginCorsService {
                cors: cors.await?,
                inner,
            })
        })
    }
}

/// See [`OriginCors`]. Both paths share one inner service.
pub(super) struct OriginCorsService<S> {
    cors: CorsMiddleware<Rc<S>>,
    inner: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for OriginCorsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = OriginCorsFuture<S::Future, B>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if req.headers().contains_key(header::ORIGIN) {
            OriginCorsFuture::Cors {
                future: self.cors.call(req),
            }
        } else {
            OriginCorsFuture::Plain {
                future: self.inner.call(req),
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// actix-cors's boxed future, or the inner service's own.
    #[project = OriginCorsProj]
    pub(super) enum OriginCorsFuture<F, B> {
        /// A request with `Origin`.
        Cors { future: LocalBoxFuture<'static, Result<ServiceResponse<EitherBody<B>>, Error>> },
        /// A request without: `Vary` is added to whatever it answers.
        Plain { #[pin] future: F },
    }
}

impl<F, B> Future for OriginCorsFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            OriginCorsProj::Cors { future } => future.as_mut().poll(cx),
            OriginCorsProj::Plain { future } => match future.poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(mut res)) => {
                    add_vary(res.headers_mut());
                    Poll::Ready(Ok(res.map_into_left_body()))
                }
                Poll::Ready(Err(mut error)) => {
                    error.add_response_mapper(|mut res| {
                        add_vary(res.headers_mut());
                        res
                    });
                    Poll::Ready(Err(error))
                }
            },
        }
    }
}

/// `Vary` as actix-cors sets it: its list after any `Vary` the response already has.
fn add_vary(headers: &mut HeaderMap) {
    let value = match headers.get(header::VARY) {
        None => HeaderValue::from_static(VARY_VALUE),
        Some(existing) => {
            let mut joined = Vec::with_capacity(existing.len() + 2 + VARY_VALUE.len());
            joined.extend_from_slice(existing.as_bytes());
            joined.extend_from_slice(b", ");
            joined.extend_from_slice(VARY_VALUE.as_bytes());
            match HeaderValue::from_bytes(&joined) {
                Ok(value) => value,
                // Unreachable: both parts are valid header values.
                Err(_) => return,
            }
        }
    };
    headers.insert(header::VARY, value);
}
