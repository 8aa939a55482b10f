//! Shared by the built-in route groups: precomputed JSON responses, Mastra's `perPage`, and
//! client-sent request context.

use actix_web::{web::Bytes, HttpRequest, HttpResponse};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::route::RequestContext;

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
