//! [`AuthUser`]: the authenticated user as a handler argument.

use std::{
    any::{Any, TypeId},
    future::{ready, Ready},
    ops::{Deref, DerefMut},
    sync::Arc,
};

use actix_web::{dev::Payload, FromRequest, HttpRequest};
use futures_util::future::{Either, LocalBoxFuture};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{
    layer::{check, store_user, Refusal},
    rules::RouteRules,
};
use super::{provider::DynProvider, TokenSources};
use crate::{
    describe::{DescribeInput, Inference},
    route::user_of,
};

/// What [`AuthUser`] needs to verify a token itself (on a public route): the configured
/// provider and token sources. The server registers it as app data when auth is configured.
#[derive(Clone)]
pub(crate) struct TokenVerifier {
    provider: Arc<dyn DynProvider>,
    tokens: TokenSources,
}

impl super::AuthConfig {
    /// The verifier an [`AuthUser`] on a public route uses.
    pub(crate) fn verifier(&self) -> TokenVerifier {
        TokenVerifier {
            provider: Arc::clone(&self.provider),
            tokens: self.tokens.clone(),
        }
    }
}

/// The authenticated user, deserialized from the verified claims into `T` (any
/// `Deserialize` type; `serde_json::Value` by default).
///
/// On a protected route the auth layer has already verified the token; this only
/// deserializes. On a public route (`requires_auth = false`) taking `AuthUser` makes the
/// extractor verify the token itself: a request without a valid one gets 401
/// `{"error":"Invalid or expired token"}`, a user the provider does not authorize 403. Take
/// `Option<AuthUser<T>>` for a user that may be absent.
///
/// Claims that do not fit `T` (a required field missing) are answered like an invalid token.
///
/// ```
/// use mastra_runtime::{auth::AuthUser, prelude::*};
///
/// #[derive(Deserialize)]
/// struct Claims { sub: String, role: Option<String> }
///
/// #[api_route("/user-profile", method = "GET")]
/// async fn profile(AuthUser(claims): AuthUser<Claims>) -> HttpResponse {
///     HttpResponse::Ok().json(json!({ "id": claims.sub, "role": claims.role }))
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser<T = Value>(pub T);

impl<T> AuthUser<T> {
    /// The inner value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for AuthUser<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for AuthUser<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

fn fit<T: DeserializeOwned + 'static>(user: &Value) -> Result<AuthUser<T>, actix_web::Error> {
    // `AuthUser` (of the claims as JSON) is the common case: a clone, not a deserialization
    // that rebuilds the same value.
    if TypeId::of::<T>() == TypeId::of::<Value>() {
        let mut claims = Some(user.clone());
        if let Some(value) = (&mut claims as &mut dyn Any)
            .downcast_mut::<Option<T>>()
            .and_then(Option::take)
        {
            return Ok(AuthUser(value));
        }
    }
    T::deserialize(user).map(AuthUser).map_err(|error| {
        tracing::debug!(target: "mastra::auth", %error, "the claims do not fit the handler's user type");
        Refusal::Invalid("claims do not fit the user type").into()
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for AuthUser<T> {
    type Error = actix_web::Error;
    type Future = Either<
        Ready<Result<Self, Self::Error>>,
        LocalBoxFuture<'static, Result<Self, Self::Error>>,
    >;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(user) = user_of(req) {
            return Either::Left(ready(fit(&user)));
        }
        // A public route: verify here (the rare path, so the future is boxed).
        let req = req.clone();
        Either::Right(Box::pin(async move {
            let Some(auth) = req.app_data::<TokenVerifier>().cloned() else {
                tracing::warn!(target: "mastra::auth", path = req.path(), "AuthUser used but no auth provider is configured");
                return Err(Refusal::Missing.into());
            };
            let user = check(&*auth.provider, &auth.tokens, &RouteRules::none(), &req).await?;
            let user = store_user(&req, user);
            fit(&user)
        }))
    }
}

impl<T> DescribeInput for AuthUser<T> {
    fn describe_input(inference: &mut Inference) {
        inference.needs_user();
    }
}
