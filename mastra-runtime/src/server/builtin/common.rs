//! Shared by the built-in route groups: a JSON body validated against its schema (Mastra's
//! 400 with `issues`), precomputed JSON responses, and client-sent request context.

use std::{
    any::TypeId,
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Arc, OnceLock, PoisonError, RwLock},
};

use actix_web::{
    dev::Payload, http::StatusCode, web::Bytes, FromRequest, HttpRequest, HttpResponse,
};
use schemars::JsonSchema;
use serde::{de::DeserializeOwned, Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::{
    error::ApiError,
    extract::{is_json_content_type, json_error, read_body},
    openapi::{DescribeInput, Inference},
    route::RequestContext,
    validate::{invalid_body, serde_issue, SchemaValidator},
};

type Validators = RwLock<HashMap<TypeId, Arc<SchemaValidator>>>;

/// The compiled validator of `T`, built once per type.
pub(crate) fn validator<T: JsonSchema + 'static>() -> Arc<SchemaValidator> {
    static CACHE: OnceLock<Validators> = OnceLock::new();
    let cache = CACHE.get_or_init(Validators::default);
    let key = TypeId::of::<T>();
    if let Some(v) = cache
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Arc::clone(v);
    }
    let compiled = Arc::new(SchemaValidator::for_type::<T>());
    cache
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(key)
        .or_insert(compiled)
        .clone()
}

/// A JSON body checked against `T`'s schema before it is deserialized: every problem is
/// reported as `{"error":"Invalid request body","issues":[{"field","message"}]}`.
#[derive(Debug)]
pub(crate) struct ValidJson<T>(pub(crate) T);

impl<T: DeserializeOwned + JsonSchema + 'static> FromRequest for ValidJson<T> {
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
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = read_body(bytes.await).await?;
            if body.is_empty() {
                return Err(ApiError::bad_request("Malformed JSON body: the body is empty").into());
            }
            let value: Value = serde_json::from_slice(&body).map_err(|e| json_error(&e))?;
            validator::<T>().validate(&value).map_err(invalid_body)?;
            serde_json::from_value(value)
                .map(ValidJson)
                .map_err(|e| invalid_body(vec![serde_issue(&e)]).into())
        })
    }
}

impl<T: JsonSchema> DescribeInput for ValidJson<T> {
    fn describe_input(inference: &mut Inference) {
        inference.json_body::<T>();
    }
}

/// A JSON response serialized once, at startup.
#[derive(Clone)]
pub(crate) struct Precomputed(Bytes);

impl Precomputed {
    pub(crate) fn new(value: &impl serde::Serialize) -> Self {
        Self(Bytes::from(serde_json::to_vec(value).unwrap_or_else(
            |error| {
                tracing::error!(%error, "a built-in listing could not be serialized");
                b"{}".to_vec()
            },
        )))
    }

    pub(crate) fn respond(&self) -> HttpResponse {
        HttpResponse::Ok()
            .content_type("application/json")
            .body(self.0.clone())
    }
}

/// Takes the client's `requestContext` into the request's context (reserved keys dropped,
/// values set by middleware kept).
pub(crate) fn merge_client_context(
    req: &HttpRequest,
    entries: Option<Map<String, Value>>,
) -> RequestContext {
    let ctx = RequestContext::of(req);
    if let Some(entries) = entries {
        ctx.merge_from_client(entries);
    }
    ctx
}

/// `perPage`: a count, or `false` for every item (Mastra's spelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PerPage {
    Count(u32),
    All,
}

impl<'de> Deserialize<'de> for PerPage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.as_str() {
            "false" => Ok(PerPage::All),
            n => n.parse::<u32>().map(PerPage::Count).map_err(|_| {
                serde::de::Error::custom(format!("perPage must be a number or false, got {n:?}"))
            }),
        }
    }
}

impl serde::Serialize for PerPage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PerPage::Count(n) => s.serialize_u32(*n),
            PerPage::All => s.serialize_bool(false),
        }
    }
}

impl JsonSchema for PerPage {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PerPage".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Items per page, or false for every item",
            "oneOf": [{ "type": "integer", "minimum": 0 }, { "const": false }]
        })
    }
}

/// Turns an optional `PerPage` into the store's page size.
pub(crate) fn per_page(value: Option<PerPage>, default: u32) -> Option<u32> {
    match value {
        None => Some(default),
        Some(PerPage::Count(n)) => Some(n),
        Some(PerPage::All) => None,
    }
}
