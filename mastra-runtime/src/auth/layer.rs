//! The per-route auth layer: read the token, authenticate, authorize, apply the rules, put the
//! user in the request, or answer 401/403/500. Only protected routes get it, chosen at startup.

use std::{
    future::{ready, Future, Ready},
    pin::Pin,
    rc::Rc,
    sync::Arc,
};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, Transform},
    http::{
        header::{HeaderValue, CONTENT_TYPE, WWW_AUTHENTICATE},
        StatusCode,
    },
    Error, HttpRequest, HttpResponse, ResponseError,
};
use serde_json::Value;

use super::{
    provider::{Access, AuthProvider},
    rules::RouteRules,
    token::Presented,
    TokenSources,
};
pub(crate) use crate::route::store_user;
use crate::route::Middleware;

const INVALID_BODY: &str = r#"{"error":"Invalid or expired token"}"#;
const DENIED_BODY: &str = r#"{"error":"Access denied"}"#;
const AUTHORIZER_BODY: &str = r#"{"error":"Authorization error"}"#;

/// Why a request was stopped. The client sees one of three bodies; the reason is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    /// No credentials at all: 401 with `WWW-Authenticate: Bearer` (RFC 6750 3.1 sends no error
    /// code then).
    #[error("no token")]
    Missing,
    /// Credentials that are not a valid token: 401 with `Bearer error="invalid_token"`.
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    /// The provider or the rules said no: 403.
    #[error("access denied")]
    Denied,
    /// The authorizer failed: 500.
    #[error("authorizer failed")]
    AuthorizerFailed,
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        match self {
            Refusal::Missing | Refusal::Invalid(_) => StatusCode::UNAUTHORIZED,
            Refusal::Denied => StatusCode::FORBIDDEN,
            Refusal::AuthorizerFailed => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")));
        match self {
            Refusal::Missing => {
                res.insert_header((WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
                res.body(INVALID_BODY)
            }
            Refusal::Invalid(_) => {
                res.insert_header((
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer error="invalid_token""#),
                ));
                res.body(INVALID_BODY)
            }
            Refusal::Denied => res.body(DENIED_BODY),
            Refusal::AuthorizerFailed => res.body(AUTHORIZER_BODY),
        }
    }
}

/// Authenticates and authorizes `req`, returning the user. Shared by the layer and by the
/// `AuthUser` extractor on public routes.
pub(crate) async fn check<P: AuthProvider + ?Sized>(
    provider: &P,
    tokens: &TokenSources,
    rules: &RouteRules,
    req: &HttpRequest,
) -> Result<Value, Refusal> {
    let token = match tokens.extract(req) {
        Presented::Token(token) => token,
        Presented::Missing => {
            tracing::debug!(target: "mastra::auth", path = req.path(), "request without a token");
            return Err(Refusal::Missing);
        }
        Presented::Malformed(reason) => {
            tracing::debug!(target: "mastra::auth", path = req.path(), reason, "credentials refused");
            return Err(Refusal::Invalid(reason));
        }
    };
    let Some(user) = provider.authenticate_token(&token, req).await else {
        return Err(Refusal::Invalid("the provider refused the token"));
    };
    match provider.authorize_user(&user, req).await {
        Ok(Access::Allow) => {}
        Ok(Access::Deny) => {
            tracing::debug!(target: "mastra::auth", path = req.path(), "authorize_user denied the user");
            return Err(Refusal::Denied);
        }
        Err(error) => {
            tracing::error!(target: "mastra::auth", path = req.path(), %error, "authorize_user failed");
            return Err(Refusal::AuthorizerFailed);
        }
    }
    if !rules.permits(req.method(), &user) {
        tracing::debug!(target: "mastra::auth", path = req.path(), "no rule allows the request");
        return Err(Refusal::Denied);
    }
    Ok(user)
}

/// Everything one protected route's layer needs.
pub(crate) struct Gate<P: ?Sized> {
    tokens: TokenSources,
    rules: RouteRules,
    provider: Arc<P>,
}

impl<P: AuthProvider> Gate<P> {
    pub(crate) fn new(provider: Arc<P>, tokens: TokenSources, rules: RouteRules) -> Self {
        Self {
            tokens,
            rules,
            provider,
        }
    }

    pub(crate) fn into_middleware(self) -> Middleware {
        let gate = Arc::new(self);
        Middleware::transform(move || AuthLayer {
            gate: Arc::clone(&gate),
        })
    }
}

struct AuthLayer<P> {
    gate: Arc<Gate<P>>,
}

impl<S, B, P> Transform<S, ServiceRequest> for AuthLayer<P>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
    P: AuthProvider,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = AuthService<S, P>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthService {
            inner: Rc::new(Inner {
                service,
                gate: Arc::clone(&self.gate),
            }),
        }))
    }
}

struct Inner<S, P> {
    service: S,
    gate: Arc<Gate<P>>,
}

struct AuthService<S, P> {
    inner: Rc<Inner<S, P>>,
}

type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B, P> Service<ServiceRequest> for AuthService<S, P>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
    P: AuthProvider,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.service.poll_ready(cx)
    }

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let inner = Rc::clone(&self.inner);
        Box::pin(async move {
            let gate = &inner.gate;
            let verdict = check(&*gate.provider, &gate.tokens, &gate.rules, req.request()).await;
            match verdict {
                Ok(user) => {
                    store_user(req.request(), user);
                    inner
                        .service
                        .call(req)
                        .await
                        .map(ServiceResponse::map_into_left_body)
                }
                Err(refusal) => Ok(req
                    .into_response(refusal.error_response())
                    .map_into_right_body()),
            }
        })
    }
}
