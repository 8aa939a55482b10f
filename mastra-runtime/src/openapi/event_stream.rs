//! [`SseEvent`]: how an OpenAPI 3.1 document describes a `text/event-stream` response.
//!
//! Under `text/event-stream`, an OpenAPI 3.1 `schema` describes one event, an object with the
//! SSE fields (`data`, `event`, `id`, `retry`), not the payload inside it. A stream of JSON
//! chunks is therefore a `data` string whose content is JSON of the chunk's schema
//! (`contentMediaType` and `contentSchema`), which is what tools that read the stream event by
//! event (Schemathesis, generated clients) check. Mastra's streams end with `data: [DONE]`.

use std::{borrow::Cow, marker::PhantomData};

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

/// The text of the last event of Mastra's streams.
pub const DONE_DATA: &str = "[DONE]";

/// One event of a Server-Sent Events response whose `data` is `T` as JSON, or the final
/// `[DONE]`. Use it as the body of a `text/event-stream` response.
///
/// ```
/// use mastra_runtime::openapi::{ResponseFragment, SseEvent};
/// # #[derive(schemars::JsonSchema)] struct Tick { n: u32 }
/// let ok = ResponseFragment::new(200)
///     .description("Ticks")
///     .content_type("text/event-stream")
///     .body::<SseEvent<Tick>>();
/// # let _ = ok;
/// ```
pub struct SseEvent<T>(PhantomData<T>);

impl<T: JsonSchema> JsonSchema for SseEvent<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}Event", T::schema_name()).into()
    }

    fn schema_id() -> Cow<'static, str> {
        format!("mastra_runtime::openapi::SseEvent<{}>", T::schema_id()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let payload = generator.subschema_for::<T>();
        json_schema!({
            "description": "One Server-Sent Event: `data` holds one item as JSON, or `[DONE]` \
                            after the last one.",
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": {
                    "type": "string",
                    "if": { "const": DONE_DATA },
                    "else": {
                        "contentMediaType": "application/json",
                        "contentSchema": payload
                    }
                },
                "event": { "type": "string" },
                "id": { "type": "string" },
                "retry": { "type": "integer", "minimum": 0 }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Tick {
        n: u32,
    }

    #[test]
    fn the_event_refers_to_its_payload_schema() {
        let mut generator = crate::schema::document_generator();
        let schema = generator.subschema_for::<SseEvent<Tick>>();
        let defs = generator.definitions();
        let event = defs.get("TickEvent").expect("named event schema");
        assert_eq!(
            event["properties"]["data"]["else"]["contentSchema"]["$ref"],
            "#/components/schemas/Tick"
        );
        assert!(defs.contains_key("Tick"));
        assert_eq!(schema.as_value()["$ref"], "#/components/schemas/TickEvent");
    }
}
