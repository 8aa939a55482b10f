//! Shared by the built-in route groups: precomputed JSON responses, Mastra's `perPage`, and
//! client-sent request context.

use std::marker::PhantomData;

use actix_web::{body::BoxBody, web::Bytes, HttpRequest, HttpResponse, Responder};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::{
    describe::{DescribeOutput, Inference},
    extract::Json,
    memory::MAX_PER_PAGE,
    route::RequestContext,
};

/// A JSON response of type `T` serialized once, at startup. It documents itself as `T`, so
/// a route answering it is described by its handler's type like any other.
pub(crate) struct Precomputed<T>(Bytes, PhantomData<fn() -> T>);

impl<T> Clone for Precomputed<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<T: serde::Serialize> Precomputed<T> {
    pub(crate) fn new(value: &T) -> Self {
        let bytes = serde_json::to_vec(value).unwrap_or_else(|error| {
            tracing::error!(%error, "a built-in listing could not be serialized");
            b"{}".to_vec()
        });
        Self(Bytes::from(bytes), PhantomData)
    }
}

impl<T> Responder for Precomputed<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        HttpResponse::Ok()
            .content_type("application/json")
            .body(self.0)
    }
}

impl<T: JsonSchema> DescribeOutput for Precomputed<T> {
    fn describe_output(inference: &mut Inference) {
        Json::<T>::describe_output(inference);
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

/// `perPage`: a count, at most [`MAX_PER_PAGE`], or `false` for every item (Mastra's
/// spelling), which answers the first [`MAX_PER_PAGE`] items with `hasMore` saying whether more
/// remain. A larger count is refused as the query is read, with a 400 naming the limit (the
/// schema says it in its description: a `maximum` inside the `oneOf` would be refused by the
/// validator with a message that names neither).
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
            n => match n.parse::<u32>() {
                Ok(count) if count > MAX_PER_PAGE => Err(serde::de::Error::custom(format!(
                    "perPage must be at most {MAX_PER_PAGE}, got {count}"
                ))),
                Ok(count) => Ok(PerPage::Count(count)),
                Err(_) => Err(serde::de::Error::custom(format!(
                    "perPage must be a number or false, got {n:?}"
                ))),
            },
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
            "description": format!(
                "Items per page (at most {MAX_PER_PAGE}), or false for every item (the first \
                 {MAX_PER_PAGE}, hasMore telling whether more remain)"
            ),
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

/// Fuzz target: the client's request context, from the raw body of the agent routes to the
/// merged per-request context (see `crate::fuzzing`).
#[cfg(test)]
mod props {
    use actix_web::test::TestRequest;
    use proptest::{collection::vec, prelude::*};

    use super::*;
    use crate::route::RESERVED_KEYS;
    use crate::server::builtin::agents::GenerateBody;

    /// Keys middleware sets before the handler runs.
    const PRESET: [(&str, &str); 2] = [("tenant", "from-middleware"), ("locale", "fr")];

    /// Any JSON value, a few levels deep.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..8).prop_map(Value::Array),
                vec((key(), inner), 0..8)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    /// Keys from the ones that matter (reserved, preset) and any others.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(RESERVED_KEYS.to_vec()).prop_map(str::to_owned),
            prop::sample::select(PRESET.iter().map(|(k, _)| *k).collect::<Vec<_>>())
                .prop_map(str::to_owned),
            Just("mastra__other".to_owned()),
            any::<String>(),
        ]
    }

    /// Merges `entries` into a context middleware already wrote to, and checks the result.
    fn merge_and_check(entries: Map<String, Value>) -> Result<(), TestCaseError> {
        let req = TestRequest::default().to_http_request();
        let ctx = RequestContext::of(&req);
        for (key, value) in PRESET {
            ctx.set(key, value);
        }
        let merged = merge_client_context(&req, Some(entries.clone()));
        for reserved in RESERVED_KEYS {
            prop_assert!(!merged.has(reserved), "client set reserved key {reserved}");
        }
        for (key, value) in PRESET {
            prop_assert_eq!(merged.get(key), Some(Value::from(value)));
        }
        for (key, value) in &entries {
            let ours =
                RESERVED_KEYS.contains(&key.as_str()) || PRESET.iter().any(|(k, _)| k == key);
            if !ours {
                prop_assert_eq!(merged.get(key), Some(value.clone()));
            }
        }
        // It is the request's context: the handler and the run see the same map.
        prop_assert_eq!(RequestContext::of(&req).to_json(), merged.to_json());
        Ok(())
    }

    proptest! {
        #![proptest_config(crate::fuzzing::config())]

        /// Any bytes as the body of `/generate` or `/stream`: parsed or refused, never a panic.
        #[test]
        fn arbitrary_bodies_never_panic(bytes in vec(any::<u8>(), 0..512)) {
            let _ = serde_json::from_slice::<GenerateBody>(&bytes);
        }

        /// Any JSON as `requestContext`: an object is taken (reserved and middleware keys kept
        /// as they were), anything else but `null` is refused.
        #[test]
        fn client_context_is_parsed_and_merged_safely(value in json_value()) {
            let body = serde_json::json!({ "messages": "hi", "requestContext": value });
            match serde_json::from_value::<GenerateBody>(body) {
                Ok(parsed) => {
                    prop_assert!(value.is_object() || value.is_null(), "{value} taken");
                    merge_and_check(parsed.request_context.unwrap_or_default())?;
                }
                Err(_) => prop_assert!(!value.is_object() && !value.is_null(), "{value} refused"),
            }
        }

        /// Object-shaped contexts with many reserved and preset keys, merged directly.
        #[test]
        fn reserved_and_middleware_keys_always_win(entries in vec((key(), json_value()), 0..16)) {
            merge_and_check(entries.into_iter().collect())?;
        }
    }
}
