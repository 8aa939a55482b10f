//! One nesting limit for every JSON value that enters the server: request bodies, a model's
//! tool-call arguments, workflow inputs and step outputs.
//!
//! serde_json refuses to read a value nested deeper than 128 arrays and objects, and storage
//! wraps what it keeps in a few levels of its own (a message's parts, a run's snapshot). A value
//! accepted near 128 could be written but never read back, and one such row made a whole
//! listing fail. Values are therefore refused on the way in at [`MAX_JSON_DEPTH`], half of what
//! any read can take, so whatever is accepted always reads back.

use serde_json::Value;

use super::text::TextTooLarge;

/// Deepest nesting of arrays and objects accepted in any JSON value that enters the server
/// (a scalar is depth 0, `[]` and `{}` depth 1). Half of serde_json's read limit (128), so the
/// levels storage adds around a value never push it past what a read accepts.
pub const MAX_JSON_DEPTH: usize = 64;

/// A JSON value nested deeper than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("JSON nested deeper than {limit} levels of arrays and objects")]
pub struct TooDeep {
    /// The limit that was passed.
    pub limit: usize,
}

/// The nesting depth of `value`: 0 for a scalar, 1 for `[]` or `{}`, one more per level inside.
/// Walks with its own stack, so a value built in code deeper than any parser allows is measured
/// without recursion.
pub fn nesting_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 0usize)];
    while let Some((value, depth)) = pending.pop() {
        match value {
            Value::Array(items) => {
                deepest = deepest.max(depth + 1);
                pending.extend(items.iter().map(|item| (item, depth + 1)));
            }
            Value::Object(entries) => {
                deepest = deepest.max(depth + 1);
                pending.extend(entries.values().map(|item| (item, depth + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// `Err` when `value` is nested deeper than `limit`.
pub fn check_depth(value: &Value, limit: usize) -> Result<(), TooDeep> {
    let mut pending = vec![(value, 0usize)];
    while let Some((value, depth)) = pending.pop() {
        match value {
            Value::Array(_) | Value::Object(_) if depth >= limit => {
                return Err(TooDeep { limit });
            }
            Value::Array(items) => pending.extend(items.iter().map(|item| (item, depth + 1))),
            Value::Object(entries) => {
                pending.extend(entries.values().map(|item| (item, depth + 1)));
            }
            _ => {}
        }
    }
    Ok(())
}

/// `Err` when the JSON text `bytes` opens more than `limit` arrays and objects at once,
/// measured before parsing (see [`check_text`](super::check_text), which also counts items).
pub fn check_text_depth(bytes: &[u8], limit: usize) -> Result<(), TooDeep> {
    match super::text::check_text(bytes, limit, usize::MAX) {
        Err(TextTooLarge::TooDeep(error)) => Err(error),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn nested(levels: usize) -> String {
        format!("{}{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn depth_counts_arrays_and_objects() {
        assert_eq!(nesting_depth(&json!(1)), 0);
        assert_eq!(nesting_depth(&json!([])), 1);
        assert_eq!(nesting_depth(&json!({"a": [1, {"b": {}}]})), 4);
        let value: Value = serde_json::from_str(&nested(100)).expect("parses");
        assert_eq!(nesting_depth(&value), 100);
        assert!(check_depth(&value, 100).is_ok());
        assert_eq!(check_depth(&value, 99), Err(TooDeep { limit: 99 }));
    }

    #[test]
    fn text_depth_agrees_with_the_value_and_ignores_strings() {
        for levels in [1, 5, 64, 65, 127] {
            let text = nested(levels);
            let value: Value = serde_json::from_str(&text).expect("parses");
            assert_eq!(
                check_text_depth(text.as_bytes(), MAX_JSON_DEPTH).is_ok(),
                check_depth(&value, MAX_JSON_DEPTH).is_ok(),
                "{levels} levels"
            );
        }
        let quoted = format!(r#"{{"a": "{}\"[[[", "b": [1]}}"#, "[".repeat(500));
        assert!(check_text_depth(quoted.as_bytes(), 2).is_ok());
        assert!(check_text_depth(br#"{"a": "\\", "b": [[[]]]}"#, 3).is_err());
    }

    #[test]
    fn what_is_accepted_reads_back_inside_storage_wrappers() {
        // Storage adds a handful of levels around a value; at the limit plus a generous eight,
        // serde_json still reads it.
        let text = nested(MAX_JSON_DEPTH + 8);
        assert!(serde_json::from_str::<Value>(&text).is_ok());
    }
}
