//! Schema generation settings and the small JSON Schema walks that the document builder, the
//! request validators and the `$ref` inliner need: following local `$ref`s, reading an object's
//! properties, telling a schema that any string satisfies.

use schemars::{generate::SchemaSettings, JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value};

/// Produces the schema of one Rust type, registering its definitions in the generator.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The [`SchemaFn`] of `T`.
pub fn schema_fn<T: JsonSchema>() -> SchemaFn {
    fn subschema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<T>()
    }
    subschema::<T>
}

/// Where named schemas live in the OpenAPI document (`#/components/schemas/Item`).
pub const COMPONENTS_PATH: &str = "/components/schemas";

/// Where named schemas live in a self-contained validation schema (`#/$defs/Item`), JSON Schema
/// 2020-12's own place for them.
pub const DEFS_PATH: &str = "/$defs";

/// Where draft-07 (and schemars' older settings) keep named schemas (`#/definitions/Item`).
/// Hand-written schemas may still use it, so inlining follows it too.
#[cfg(feature = "workflows")]
pub(crate) const LEGACY_DEFS_PATH: &str = "/definitions";

/// How many `$ref`s are followed in a row before giving up: hops of [`resolve`] (a cycle of pure
/// references), nesting of `inline_refs` (a recursive type, which then accepts anything).
pub(crate) const MAX_REF_DEPTH: usize = 32;

/// A generator for the document: JSON Schema 2020-12 (what OpenAPI 3.1 uses), named schemas under
/// `components/schemas`, no `$schema` keyword on each.
pub fn document_generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.definitions_path = COMPONENTS_PATH.into();
            settings.meta_schema = None;
        })
        .into_generator()
}

/// A self-contained JSON Schema 2020-12 document for one type: its schema with every named
/// schema it uses under `$defs`. This is what the request validators compile.
pub fn standalone(schema_fn: SchemaFn) -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.definitions_path = DEFS_PATH.into();
            settings.meta_schema = None;
        })
        .into_generator();
    let schema = schema_fn(&mut generator).to_value();
    let defs = generator.take_definitions(true);
    match schema {
        Value::Object(mut root) => {
            if !defs.is_empty() {
                root.insert("$defs".to_owned(), Value::Object(defs));
            }
            Value::Object(root)
        }
        other => other,
    }
}

/// Follows local `$ref`s (`#<defs_path>/Name`) into `defs` until a schema that is not a bare
/// reference. Returns `schema` itself for anything else (a non-local reference, a cycle).
pub fn resolve<'a>(
    mut schema: &'a Value,
    defs: &'a Map<String, Value>,
    defs_path: &str,
) -> &'a Value {
    for _ in 0..MAX_REF_DEPTH {
        let Some(target) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| local_ref_name(reference, defs_path))
            .and_then(|name| defs.get(name))
        else {
            return schema;
        };
        schema = target;
    }
    schema
}

/// The name a local reference points at: `#<defs_path>/Name` -> `Name`. `None` for any other
/// reference (another document, a JSON pointer elsewhere in this one).
pub(crate) fn local_ref_name<'a>(reference: &'a str, defs_path: &str) -> Option<&'a str> {
    reference
        .strip_prefix('#')?
        .strip_prefix(defs_path)?
        .strip_prefix('/')
}

/// The properties of an object schema, with whether each is required, in declaration order.
/// `None` when `schema` does not describe an object; empty for a map type (no named properties).
pub fn object_properties(schema: &Value) -> Option<Vec<(&str, &Value, bool)>> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return (schema.get("type") == Some(&Value::from("object"))).then(Vec::new);
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    Some(
        properties
            .iter()
            .map(|(name, property)| (name.as_str(), property, required.contains(&name.as_str())))
            .collect(),
    )
}

/// The items of a tuple schema (`prefixItems`), in order.
pub fn tuple_items(schema: &Value) -> Option<&Vec<Value>> {
    schema.get("prefixItems")?.as_array()
}

/// Keywords that describe a value without constraining it.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "format",
    "examples",
    "example",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
];

/// Whether every string satisfies `schema`: `{"type": "string"}` plus annotations only (formats
/// are annotations in JSON Schema 2020-12 unless a validator opts in, and ours do not).
pub fn accepts_any_string(schema: &Value) -> bool {
    match schema {
        Value::Bool(accepts) => *accepts,
        Value::Object(map) => map.iter().all(|(key, value)| match key.as_str() {
            "type" => value == "string",
            key => ANNOTATIONS.contains(&key),
        }),
        _ => false,
    }
}

/// The primitive JSON type a parameter's text is converted to before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamKind {
    /// Kept as text.
    String,
    /// Parsed as an integer when it is one.
    Integer,
    /// Parsed as a number when it is one.
    Number,
    /// `true` / `false`.
    Boolean,
    /// Repeated keys collected into an array of this kind.
    Array(Box<ParamKind>),
    /// One of several kinds (`oneOf` / `anyOf`, e.g. "a count or `false`"): the first
    /// alternative the text parses as, else text.
    OneOf(Vec<ParamKind>),
}

impl ParamKind {
    /// Reads the kind from a schema's `type` (the first that is not `null`), its `const`, or
    /// the alternatives of its `oneOf` / `anyOf`, following local references. Anything else
    /// (enums of strings, no type at all) is text.
    pub fn of(schema: &Value, defs: &Map<String, Value>, defs_path: &str) -> ParamKind {
        let schema = resolve(schema, defs, defs_path);
        if schema.get("type").is_none() {
            if let Some(kind) = Self::of_const(schema) {
                return kind;
            }
            if let Some(Value::Array(alternatives)) =
                schema.get("oneOf").or_else(|| schema.get("anyOf"))
            {
                return Self::of_alternatives(alternatives, defs, defs_path);
            }
        }
        let ty = match schema.get("type") {
            Some(Value::String(ty)) => Some(ty.as_str()),
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null"),
            _ => None,
        };
        match ty {
            Some("integer") => ParamKind::Integer,
            Some("number") => ParamKind::Number,
            Some("boolean") => ParamKind::Boolean,
            Some("array") => {
                let items = schema.get("items").map_or(ParamKind::String, |items| {
                    ParamKind::of(items, defs, defs_path)
                });
                ParamKind::Array(Box::new(items))
            }
            _ => ParamKind::String,
        }
    }

    fn of_const(schema: &Value) -> Option<ParamKind> {
        match schema.get("const")? {
            Value::Bool(_) => Some(ParamKind::Boolean),
            Value::Number(n) if n.is_f64() => Some(ParamKind::Number),
            Value::Number(_) => Some(ParamKind::Integer),
            _ => None,
        }
    }

    fn of_alternatives(alternatives: &[Value], defs: &Map<String, Value>, defs_path: &str) -> Self {
        let mut kinds: Vec<ParamKind> = Vec::new();
        for alternative in alternatives {
            if resolve(alternative, defs, defs_path).get("type") == Some(&Value::from("null")) {
                continue;
            }
            let kind = ParamKind::of(alternative, defs, defs_path);
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        match kinds.len() {
            0 => ParamKind::String,
            1 => kinds.remove(0),
            _ => ParamKind::OneOf(kinds),
        }
    }

    /// Converts one parameter's text to the JSON value validation sees. Text that does not parse
    /// stays text, so the validator reports the type mismatch.
    pub fn convert(&self, text: &str) -> Value {
        match self {
            ParamKind::String => Value::String(text.to_owned()),
            ParamKind::Integer => text
                .parse::<i64>()
                .map(Value::from)
                .or_else(|_| text.parse::<u64>().map(Value::from))
                .unwrap_or_else(|_| Value::String(text.to_owned())),
            ParamKind::Number => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(text.to_owned())),
            ParamKind::Boolean => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(text.to_owned()),
            },
            ParamKind::Array(items) => Value::Array(vec![items.convert(text)]),
            ParamKind::OneOf(kinds) => kinds
                .iter()
                .map(|kind| kind.convert(text))
                .find(|value| !value.is_string())
                .unwrap_or_else(|| Value::String(text.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn references_are_followed_to_the_named_schema() {
        let defs = json!({ "A": { "$ref": "#/$defs/B" }, "B": { "type": "integer" } });
        let defs = defs.as_object().unwrap();
        let schema = json!({ "$ref": "#/$defs/A" });
        assert_eq!(
            resolve(&schema, defs, DEFS_PATH),
            &json!({ "type": "integer" })
        );
        let cycle = json!({ "C": { "$ref": "#/$defs/C" } });
        let cycle = cycle.as_object().unwrap();
        let start = json!({ "$ref": "#/$defs/C" });
        assert_eq!(resolve(&start, cycle, DEFS_PATH)["$ref"], "#/$defs/C");
    }

    #[test]
    fn only_unconstrained_strings_accept_any_string() {
        assert!(accepts_any_string(
            &json!({ "type": "string", "description": "x" })
        ));
        assert!(!accepts_any_string(
            &json!({ "type": "string", "minLength": 1 })
        ));
        assert!(!accepts_any_string(&json!({ "type": "integer" })));
        assert!(!accepts_any_string(&json!({ "enum": ["a"] })));
    }

    #[test]
    fn parameter_text_is_converted_by_kind() {
        let defs = Map::new();
        let kind = |schema: Value| ParamKind::of(&schema, &defs, DEFS_PATH);
        assert_eq!(
            kind(json!({ "type": ["integer", "null"] })).convert("7"),
            json!(7)
        );
        assert_eq!(kind(json!({ "type": "integer" })).convert("x"), json!("x"));
        assert_eq!(kind(json!({ "type": "number" })).convert("2.5"), json!(2.5));
        assert_eq!(
            kind(json!({ "type": "boolean" })).convert("true"),
            json!(true)
        );
        assert_eq!(kind(json!({ "enum": ["a", "b"] })).convert("a"), json!("a"));
        let count_or_false =
            kind(json!({ "oneOf": [{ "type": "integer", "minimum": 0 }, { "const": false }] }));
        assert_eq!(count_or_false.convert("3"), json!(3));
        assert_eq!(count_or_false.convert("false"), json!(false));
        assert_eq!(count_or_false.convert("lots"), json!("lots"));
        assert_eq!(
            kind(json!({ "anyOf": [{ "type": "integer" }, { "type": "null" }] })),
            ParamKind::Integer
        );
        assert_eq!(
            kind(json!({ "type": "array", "items": { "type": "integer" } })),
            ParamKind::Array(Box::new(ParamKind::Integer))
        );
    }
}
