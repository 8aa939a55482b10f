//! [`Context`]: the Hono-style single handler argument.

use std::{
    future::{ready, Ready},
    sync::Arc,
};

use actix_web::{dev::Payload, http::StatusCode, FromRequest, HttpRequest, HttpResponse};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use super::Mastra;
use crate::{error::ApiError, route::RequestContext};

/// Everything about the current request in one argument, in the style of Mastra's (Hono's)
/// handler context `c`.
///
/// ```no_run
/// use mastra_runtime::prelude::*;
///
/// #[api_route("/my-custom-route", method = "GET")]
/// async fn custom(c: Context) -> Result<HttpResponse, ApiError> {
///     let agent = c.mastra().agent("my-agent")?;
///     Ok(c.json(json!({ "message": "Custom route", "agent": agent.id() })))
/// }
/// ```
#[derive(Clone)]
pub struct Context {
    req: HttpRequest,
    mastra: Mastra,
    request_context: RequestContext,
}

impl Context {
    /// The [`Mastra`] instance serving this request.
    pub fn mastra(&self) -> &Mastra {
        &self.mastra
    }

    /// The underlying actix-web request.
    pub fn request(&self) -> &HttpRequest {
        &self.req
    }

    /// A path parameter by name (`itemId` for `/items/:itemId`), percent-decoded.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.req.match_info().get(name)
    }

    /// The first value of a query parameter, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        form_pairs(self.req.query_string())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// Every value of a query parameter, in order.
    pub fn queries(&self, name: &str) -> Vec<String> {
        form_pairs(self.req.query_string())
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value)
            .collect()
    }

    /// A request header as text; `None` if absent or not visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.req.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// The per-request context shared with middleware.
    pub fn request_context(&self) -> &RequestContext {
        &self.request_context
    }

    /// The request's abort signal: a token cancelled when the client goes away, while this
    /// handler is still awaiting or while its streamed response is being written (Mastra's
    /// `c.req.raw.signal`). It never fires once the response has been written completely.
    ///
    /// Pass it to [`GenerateOptions::abort_signal`](crate::GenerateOptions::abort_signal) to
    /// stop an agent run (and its model request) when nobody is listening any more. Ask for it
    /// here, in the handler: the connection can only be watched while the request is in flight.
    /// See [`disconnect`](crate::disconnect) for how it is detected.
    ///
    /// ```
    /// use mastra_runtime::prelude::*;
    ///
    /// async fn stream(c: Context) -> Result<HttpResponse, ApiError> {
    ///     let agent = c.mastra().agent("my-agent")?;
    ///     let output = agent
    ///         .stream("Tell me a story", GenerateOptions::new().abort_signal(c.abort_signal()))
    ///         .await?;
    ///     Ok(output.to_text_stream_response())
    /// }
    /// # let _ = ApiRoute::post("/stream").handler(stream);
    /// ```
    pub fn abort_signal(&self) -> tokio_util::sync::CancellationToken {
        crate::disconnect::abort_signal(&self.req)
    }

    /// The authenticated user (the verified claims), on a protected route; `None` on a public
    /// route unless an [`AuthUser`](crate::auth::AuthUser) argument verified a token.
    ///
    /// ```
    /// use mastra_runtime::prelude::*;
    ///
    /// async fn protected_data(c: Context) -> HttpResponse {
    ///     let user = c.user();
    ///     c.json(json!({ "message": "Protected data", "user": user.as_deref() }))
    /// }
    /// # let _ = ApiRoute::get("/protected-data").handler(protected_data);
    /// ```
    pub fn user(&self) -> Option<Arc<Value>> {
        crate::route::user_of(&self.req)
    }

    /// The authenticated user deserialized into `T`; `None` without a user or when the claims
    /// do not fit `T`.
    pub fn user_as<T: DeserializeOwned>(&self) -> Option<T> {
        self.user().and_then(|user| T::deserialize(&*user).ok())
    }

    /// A 200 response with `value` as JSON.
    pub fn json<T: Serialize>(&self, value: T) -> HttpResponse {
        self.json_with_status(value, StatusCode::OK)
    }

    /// A response with `value` as JSON and the given status.
    pub fn json_with_status<T: Serialize>(&self, value: T, status: StatusCode) -> HttpResponse {
        match serde_json::to_vec(&value) {
            Ok(body) => HttpResponse::build(status)
                .content_type("application/json")
                .body(body),
            Err(error) => {
                tracing::error!(%error, "response value could not be serialized");
                actix_web::ResponseError::error_response(&ApiError::internal(
                    "Internal Server Error",
                ))
            }
        }
    }

    /// A 200 `text/plain` response.
    pub fn text(&self, text: impl Into<String>) -> HttpResponse {
        HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(text.into())
    }
}

fn form_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(key), decode_component(value))
        })
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte;
/// invalid UTF-8 is replaced rather than refused, since a lookup helper should not fail.
fn decode_component(text: &str) -> String {
    let replaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&replaced)
        .decode_utf8_lossy()
        .into_owned()
}

impl FromRequest for Context {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            Mastra::serving(req)
                .map(|mastra| Context {
                    req: req.clone(),
                    mastra: mastra.clone(),
                    request_context: RequestContext::of(req),
                })
                .map_err(Into::into),
        )
    }
}

/// What a handler reads through `Context` is not known from its type: it adds nothing.
impl crate::describe::DescribeInput for Context {
    fn describe_input(_: &mut crate::describe::Inference) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_components_are_decoded() {
        let pairs: Vec<_> = form_pairs("a=1&b=x+y%21&c&&d=%E2%82%AC").collect();
        assert_eq!(
            pairs,
            [
                ("a".into(), "1".into()),
                ("b".into(), "x y!".into()),
                ("c".into(), "".into()),
                ("d".into(), "€".into())
            ]
        );
    }
}
