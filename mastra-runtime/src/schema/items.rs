//! A cap on how many items one JSON request body may hold, counted on the text before parsing.
//!
//! A parsed `serde_json::Value` takes 72 bytes per value (with `preserve_order`, which the
//! document generator needs) plus a map per object, and the arrays holding them grow by
//! doubling: a 4.5 MB body of `{},{},...` (1.5 million items) took 260 MB once parsed, and one
//! of small objects about 40 times its size. No validation strategy helps when the value itself
//! is that large, so a body with more items than [`MAX_JSON_ITEMS`] is refused before anything
//! is built; what is accepted then costs at most a few tens of megabytes however it is shaped.

use super::text::TextTooLarge;

/// Most array elements and object members, counted at every depth together, that a JSON request
/// body may hold. Bodies of chat messages, tool inputs and workflow inputs stay far below it;
/// at the default body limit (4.5 MiB) it still allows items of 47 bytes on average. An
/// application that expects larger arrays raises it with `ServerConfig::max_json_items`.
pub const MAX_JSON_ITEMS: usize = 100_000;

/// A JSON text holding more items than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("JSON with more than {limit} items (array elements and object members, at any depth)")]
pub struct TooManyItems {
    /// The limit that was passed.
    pub limit: usize,
}

/// `Err` when the JSON text `bytes` holds more than `limit` array elements and object members
/// in all, counted before parsing (see [`check_text`](super::check_text), which also measures
/// nesting).
pub fn check_text_items(bytes: &[u8], limit: usize) -> Result<(), TooManyItems> {
    match super::text::check_text(bytes, usize::MAX, limit) {
        Err(TextTooLarge::TooManyItems(error)) => Err(error),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    /// Array elements and object members of a parsed value, at every depth.
    fn items(value: &Value) -> usize {
        match value {
            Value::Array(elements) => elements.len() + elements.iter().map(items).sum::<usize>(),
            Value::Object(members) => members.len() + members.values().map(items).sum::<usize>(),
            _ => 0,
        }
    }

    /// The smallest limit `text` passes.
    fn counted(text: &str) -> usize {
        (0..)
            .find(|&limit| check_text_items(text.as_bytes(), limit).is_ok())
            .unwrap()
    }

    #[test]
    fn the_text_count_agrees_with_the_parsed_value() {
        for value in [
            json!(1),
            json!("a, [b], {c}"),
            json!([]),
            json!({}),
            json!([[], {}, [1, 2, [3]], { "a": { "b": [1, "x,y", null] } }]),
            json!({ "messages": [{}, {}, {}], "k\"[": "}\\" }),
        ] {
            let compact = value.to_string();
            let pretty = serde_json::to_string_pretty(&value).unwrap();
            assert_eq!(counted(&compact), items(&value), "{compact}");
            assert_eq!(counted(&pretty), items(&value), "{pretty}");
        }
    }

    #[test]
    fn a_body_past_the_limit_is_refused() {
        let body = format!("[{}]", ["{}"; 11].join(","));
        assert_eq!(check_text_items(body.as_bytes(), 11), Ok(()));
        assert_eq!(
            check_text_items(body.as_bytes(), 10),
            Err(TooManyItems { limit: 10 })
        );
        assert_eq!(
            TooManyItems { limit: 10 }.to_string(),
            "JSON with more than 10 items (array elements and object members, at any depth)"
        );
    }
}
