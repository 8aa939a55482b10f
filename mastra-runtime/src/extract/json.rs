use std::{
    future::Future,
    ops::{Deref, DerefMut},
    pin::Pin,
    sync::Arc,
};

use actix_web::{
    body::BoxBody,
    dev::Payload,
    error::PayloadError,
    http::{
        header::{self, HeaderValue},
        StatusCode,
    },
    web::{Bytes, BytesMut},
    FromRequest, HttpMessage, HttpRequest, HttpResponse, Responder,
};
use futures_util::{Stream, StreamExt};
use schemars::JsonSchema;
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    describe::{DescribeInput, DescribeOutput, Inference},
    error::ApiError,
    schema::{
        check_text, invalid_body, serde_issue, short_message, RequestValidator, MAX_JSON_DEPTH,
        MAX_JSON_ITEMS,
    },
};

/// A JSON request body or response.
///
/// As an argument it needs `Content-Type: application/json` (or any `+json` type), else 415;
/// a body that is not JSON or not of type `T` gets 400 naming the line and column; a body over
/// the server's limit gets 413. On a route whose handler was documented from its types (any
/// `#[api_route]`), the body is first checked against `T`'s schema, so a value that breaks a
/// declared constraint gets 400 `{"error": "Invalid request body", "issues": [...]}`.
///
/// ```
/// use mastra_runtime::prelude::*;
///
/// #[derive(Deserialize, Serialize, JsonSchema)]
/// struct Item { name: String }
///
/// async fn echo(Json(item): Json<Item>) -> Json<Item> {
///     Json(item)
/// }
/// # let _ = ApiRoute::post("/echo").handler(echo);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The inner value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// Whether a request declares a JSON body (`application/json` or `application/*+json`).
fn is_json_content_type(req: &HttpRequest) -> bool {
    // The exact common value answers without parsing a `Mime` (every JSON request asks).
    if req
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"application/json"))
    {
        return true;
    }
    match req.mime_type() {
        Ok(Some(mime)) => {
            mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
        }
        _ => false,
    }
}

/// Reads the whole body: at most `limit` bytes once any `Content-Encoding` is decoded (the
/// app-wide layer limits the bytes on the wire, and ends a body past its read timeout).
/// Failures are JSON errors in plain words: `413` past the size limit, `408` past the body read
/// timeout, `400` otherwise.
///
/// Read here rather than through actix-web's `Bytes` extractor, whose future looks up its
/// `PayloadConfig`, allocates an 8 KiB buffer and copies every chunk into it: a body that
/// arrives in one chunk, the common case, is kept as it came.
async fn read_body(body: BodyStream, limit: usize) -> Result<Bytes, ApiError> {
    use super::payload::body_read_refusal;
    let read = match body {
        BodyStream::AsSent(payload) => read_to_end(payload, limit).await,
        BodyStream::Decoded(decoded) => read_to_end(decoded, limit).await,
    };
    read.map_err(|error| body_read_refusal(&error))
}

/// A request's body as the application reads it.
enum BodyStream {
    /// Without a `Content-Encoding`.
    AsSent(Payload),
    /// With one: decoded (`gzip`, or any other that actix-web was built to decode).
    Decoded(actix_web::dev::Decompress<Payload>),
}

impl BodyStream {
    fn of(req: &HttpRequest, payload: &mut Payload) -> Self {
        let payload = payload.take();
        if req.headers().contains_key(header::CONTENT_ENCODING) {
            BodyStream::Decoded(actix_web::dev::Decompress::from_headers(
                payload,
                req.headers(),
            ))
        } else {
            BodyStream::AsSent(payload)
        }
    }
}

/// Every chunk of `stream`, joined; `Overflow` past `limit` bytes.
async fn read_to_end<S>(stream: S, limit: usize) -> Result<Bytes, PayloadError>
where
    S: Stream<Item = Result<Bytes, PayloadError>>,
{
    let mut stream = std::pin::pin!(stream);
    let Some(first) = stream.next().await.transpose()? else {
        return Ok(Bytes::new());
    };
    if first.len() > limit {
        return Err(PayloadError::Overflow);
    }
    let Some(mut chunk) = stream.next().await.transpose()? else {
        return Ok(first);
    };
    let mut body = BytesMut::with_capacity(first.len() + chunk.len());
    body.extend_from_slice(&first);
    loop {
        if body.len() + chunk.len() > limit {
            return Err(PayloadError::Overflow);
        }
        body.extend_from_slice(&chunk);
        match stream.next().await.transpose()? {
            Some(next) => chunk = next,
            None => return Ok(body.freeze()),
        }
    }
}

/// Turns a serde_json failure into the client's error message.
fn json_error(error: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::bad_request(format!("Malformed JSON body: {}", short_message(error)))
        }
        Category::Data => {
            ApiError::bad_request(format!("Invalid request body: {}", short_message(error)))
        }
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !is_json_content_type(req) {
            return Box::pin(async {
                Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Unsupported Content-Type: expected application/json",
                )
                .into())
            });
        }
        let body = BodyStream::of(req, payload);
        let validator = body_validator(req);
        let limits = json_limits(req);
        Box::pin(async move {
            let body = read_body(body, limits.bytes).await?;
            if body.is_empty() {
                return Err(ApiError::bad_request("Malformed JSON body: the body is empty").into());
            }
            decode(body, validator, limits.items).await.map(Json)
        })
    }
}

/// The limits of a JSON request body on this application (app data): its size once decoded
/// ([`ServerConfig::body_limit`](crate::ServerConfig::body_limit)) and its items
/// ([`ServerConfig::max_json_items`](crate::ServerConfig::max_json_items)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonLimits {
    pub(crate) bytes: usize,
    pub(crate) items: usize,
}

/// The size limit actix-web's own body extractors apply without a `PayloadConfig`.
const ACTIX_DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// The JSON body limits of this request's application. Outside an application this server
/// built (an actix-web `App` of the user's own), actix-web's default size limit, as its `Bytes`
/// extractor would apply, and the default item limit.
fn json_limits(req: &HttpRequest) -> JsonLimits {
    req.app_data::<JsonLimits>().copied().unwrap_or(JsonLimits {
        bytes: ACTIX_DEFAULT_BODY_LIMIT,
        items: MAX_JSON_ITEMS,
    })
}

/// The route's body validator, when its schema constrains anything.
fn body_validator(req: &HttpRequest) -> Option<Arc<RequestValidator>> {
    req.app_data::<Arc<RequestValidator>>()
        .filter(|v| v.checks_body())
        .cloned()
}

/// Bodies at least this large are parsed and checked against their schema on a blocking
/// thread, so the worker goes on answering other requests (`/health` among them) meanwhile.
const OFF_WORKER_BYTES: usize = 64 * 1024;

/// Parses a JSON body, checks it against the route's schema when there is one, and
/// deserializes it. Its nesting and its number of items are measured on the text first, so a
/// body too deep or too large to hold in memory is refused before any value is built (on the
/// quick path they are counted as it is read instead, which stops at either limit and leaves
/// the refusal to the full path). A large body is parsed and checked off the worker.
async fn decode<T: DeserializeOwned>(
    body: Bytes,
    validator: Option<Arc<RequestValidator>>,
    item_limit: usize,
) -> Result<T, actix_web::Error> {
    let Some(validator) = validator else {
        check_body_text(&body, item_limit)?;
        return serde_json::from_slice(&body).map_err(|e| json_error(&e).into());
    };
    let value = if body.len() < OFF_WORKER_BYTES {
        // A valid body on a schema the quick check knows (the common case) is checked, its
        // nesting and items counted, as it is deserialized straight from its text; anything
        // else takes the full path below, which answers exactly as it always did (see
        // `schema::QuickSchema`).
        if let Some(value) = validator
            .quick_body()
            .and_then(|quick| quick.deserialize(&body, MAX_JSON_DEPTH, item_limit))
        {
            return Ok(value);
        }
        check_body_text(&body, item_limit)?;
        validated_value(&body, &validator)?
    } else {
        actix_web::web::block(move || checked_value(&body, &validator, item_limit))
            .await
            .map_err(|error| {
                tracing::error!(%error, "a request body could not be checked off the worker");
                ApiError::internal("Internal Server Error")
            })??
    };
    // The schema passed, so what is left is what it cannot say (a custom `Deserialize`):
    // still one issue in the same 400 shape.
    serde_json::from_value(value).map_err(|e| invalid_body(vec![serde_issue(&e)]).into())
}

/// The checks on the text, nesting and the number of items: 400 naming the limit passed
/// (`{"error": "JSON nested deeper than 64 levels of arrays and objects", "limit": 64}`).
fn check_body_text(body: &[u8], item_limit: usize) -> Result<(), ApiError> {
    check_text(body, MAX_JSON_DEPTH, item_limit).map_err(|error| {
        ApiError::bad_request(error.to_string())
            .with_field("limit", serde_json::Value::from(error.limit()))
    })
}

/// The body's text checked, then the body parsed and checked against the route's schema.
fn checked_value(
    body: &[u8],
    validator: &RequestValidator,
    item_limit: usize,
) -> Result<serde_json::Value, ApiError> {
    check_body_text(body, item_limit)?;
    validated_value(body, validator)
}

/// A body whose text passed [`check_body_text`], parsed and checked against the route's schema.
fn validated_value(
    body: &[u8],
    validator: &RequestValidator,
) -> Result<serde_json::Value, ApiError> {
    let value = serde_json::from_slice(body).map_err(|e| json_error(&e))?;
    validator.check_body(&value)?;
    Ok(value)
}

/// A JSON body the client may leave out: no body, or only whitespace, reads as
/// `T::default()`; a body that is there is read exactly like [`Json`] (JSON content type,
/// checked against `T`'s schema, 400 with `issues` otherwise). The document marks the
/// request body optional.
///
/// ```
/// use mastra_runtime::prelude::*;
///
/// #[derive(Default, Deserialize, JsonSchema)]
/// struct Options { verbose: Option<bool> }
///
/// async fn refresh(OptionalJson(options): OptionalJson<Options>) -> Json<bool> {
///     Json(options.verbose.unwrap_or(false))
/// }
/// # let _ = refresh;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let declared_json = is_json_content_type(req);
        let body = BodyStream::of(req, payload);
        let validator = body_validator(req);
        let limits = json_limits(req);
        Box::pin(async move {
            let body = read_body(body, limits.bytes).await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(T::default()));
            }
            if !declared_json {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Unsupported Content-Type: expected application/json",
                )
                .into());
            }
            decode(body, validator, limits.items)
                .await
                .map(OptionalJson)
        })
    }
}

impl<T: JsonSchema> DescribeInput for OptionalJson<T> {
    fn describe_input(inference: &mut Inference) {
        inference.optional_json_body::<T>();
    }
}

/// The `Content-Type` of JSON responses, built once rather than parsed per response.
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

impl<T: Serialize> Responder for Json<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        match serde_json::to_vec(&self.0) {
            Ok(body) => {
                // Built directly rather than through `HttpResponseBuilder`, whose fallible
                // header insertion and deferred error this fixed header does not need.
                let mut response = HttpResponse::with_body(StatusCode::OK, BoxBody::new(body));
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, APPLICATION_JSON);
                response
            }
            Err(error) => {
                tracing::error!(%error, "response body could not be serialized");
                actix_web::ResponseError::error_response(&ApiError::internal(
                    "Internal Server Error",
                ))
            }
        }
    }
}

impl<T: JsonSchema> DescribeInput for Json<T> {
    fn describe_input(inference: &mut Inference) {
        inference.json_body::<T>();
    }
}

impl<T: JsonSchema> DescribeOutput for Json<T> {
    fn describe_output(inference: &mut Inference) {
        inference.json_response::<T>(200, "Successful response");
    }
}

/// A response with status 201 Created around any responder, usually [`Json`].
///
/// ```
/// use mastra_runtime::prelude::*;
/// async fn create() -> Created<Json<serde_json::Value>> {
///     Created(Json(json!({ "id": "1" })))
/// }
/// # let _ = ApiRoute::post("/x").handler(create);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created<T>(pub T);

impl<T: Responder> Responder for Created<T> {
    type Body = T::Body;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse<Self::Body> {
        let mut response = self.0.respond_to(req);
        if response.status().is_success() {
            *response.status_mut() = StatusCode::CREATED;
        }
        response
    }
}

impl<T: DescribeOutput> DescribeOutput for Created<T> {
    fn describe_output(inference: &mut Inference) {
        let before = inference.responses.len();
        T::describe_output(inference);
        for response in &mut inference.responses[before..] {
            if response.status == 200 {
                response.status = 201;
                response.description = "Created".to_owned();
            }
        }
    }
}

impl<T: DescribeOutput> DescribeOutput for Result<T, ApiError> {
    fn describe_output(inference: &mut Inference) {
        T::describe_output(inference);
        inference.error_responses();
    }
}

#[cfg(test)]
mod tests {
    use futures_util::stream;

    use super::*;

    fn chunks(parts: &[&'static str]) -> impl Stream<Item = Result<Bytes, PayloadError>> {
        stream::iter(
            parts
                .iter()
                .map(|part| Ok(Bytes::from_static(part.as_bytes())))
                .collect::<Vec<_>>(),
        )
    }

    #[actix_web::test]
    async fn a_body_is_read_whole_up_to_its_limit() {
        assert_eq!(read_to_end(chunks(&[]), 0).await.ok(), Some(Bytes::new()));
        let one = Bytes::from_static(b"{\"a\":1}");
        let read = read_to_end(stream::iter([Ok(one.clone())]), 7).await;
        // One chunk is the body as it came, not a copy.
        assert_eq!(read.ok().map(|body| body.as_ptr()), Some(one.as_ptr()));
        assert_eq!(
            read_to_end(chunks(&["{\"a\"", ":", "1}"]), 7).await.ok(),
            Some(Bytes::from_static(b"{\"a\":1}"))
        );
        for parts in [
            &["{\"a\":1}"][..],
            &["{\"a\"", ":1}"],
            &["{", "\"a\"", ":1}"],
        ] {
            assert!(matches!(
                read_to_end(chunks(parts), 6).await,
                Err(PayloadError::Overflow)
            ));
        }
    }

    #[actix_web::test]
    async fn a_failed_read_is_the_failure() {
        let failing = stream::iter([
            Ok(Bytes::from_static(b"{")),
            Err(PayloadError::Incomplete(None)),
        ]);
        assert!(matches!(
            read_to_end(failing, 100).await,
            Err(PayloadError::Incomplete(None))
        ));
    }
}
