//! The JSON Schema vocabulary both hand-written checkers read (the quick check in `fast` and
//! the plain checker): the draft they know and the `type` keyword as a set of bits.

use serde_json::Value;

/// The draft the generators write, and jsonschema's default for a schema without `$schema`.
pub(crate) const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

pub(crate) const NULL: u8 = 1;
pub(crate) const BOOLEAN: u8 = 2;
pub(crate) const OBJECT: u8 = 4;
pub(crate) const ARRAY: u8 = 8;
pub(crate) const NUMBER: u8 = 16;
pub(crate) const INTEGER: u8 = 32;
pub(crate) const STRING: u8 = 64;

/// The type names and their bits, in the order messages list them.
pub(crate) const TYPE_NAMES: [(u8, &str); 7] = [
    (NULL, "null"),
    (BOOLEAN, "boolean"),
    (OBJECT, "object"),
    (ARRAY, "array"),
    (NUMBER, "number"),
    (INTEGER, "integer"),
    (STRING, "string"),
];

/// The bits of a `type` keyword's value (a name or a list of names); `None` for anything else.
pub(crate) fn type_mask(value: &Value) -> Option<u8> {
    let one = |name: &str| {
        TYPE_NAMES
            .iter()
            .find(|(_, known)| *known == name)
            .map(|(bit, _)| *bit)
    };
    match value {
        Value::String(name) => one(name),
        Value::Array(names) => names
            .iter()
            .try_fold(0, |acc, name| Some(acc | one(name.as_str()?)?)),
        _ => None,
    }
}
