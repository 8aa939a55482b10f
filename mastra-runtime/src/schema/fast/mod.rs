//! A quick check of a JSON body's text against its schema, without building a
//! `serde_json::Value`: the common case of a valid body on a route whose schema uses only plain
//! keywords (`type`, `properties`, `required`, `additionalProperties`, `items`, lengths, bounds,
//! string `enum`s, local `$ref`s).
//!
//! It only ever answers "certainly valid". Anything it is not sure of (a keyword it does not
//! know, a failing value, a duplicate key, a number it cannot compare exactly) is "not sure",
//! and the body then takes the full path: parsed into a `Value`, checked by the compiled
//! `jsonschema` validator (which lists every issue), deserialized from that value. So a body is
//! refused exactly as before; what changes is that a valid one is deserialized straight from its
//! text, as a plain actix-web handler would do.
//!
//! Why a body it accepts is also one `jsonschema` accepts: each keyword below is checked with
//! the meaning JSON Schema 2020-12 gives it (the draft `jsonschema` uses for a schema without
//! `$schema`, which is what the generators write), only for the types it applies to, and a
//! schema that has any other keyword gets no quick check at all. `format` is accepted only when
//! the validator treats it as an annotation (tested once against the real validator).
//! Duplicate keys are "not sure": the `Value` keeps the last one, a struct refuses them, so
//! neither reading could be told from the other.

use std::{borrow::Cow, cmp::Ordering, collections::HashMap, fmt, sync::OnceLock};

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

mod one_walk;

use super::keywords::{
    type_mask, ARRAY, BOOLEAN, DRAFT_2020_12, INTEGER, NULL, NUMBER, OBJECT, STRING,
};

/// Keywords that say nothing about validity.
const ANNOTATIONS: [&str; 8] = [
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
];

/// A schema compiled for the quick check; see the module docs.
#[derive(Debug)]
pub(crate) struct QuickSchema {
    nodes: Vec<Node>,
    root: usize,
    /// Some node is a string `enum`: a Rust enum, most likely, which the one-walk check cannot
    /// see through (`one_walk`), so the body is checked first and deserialized after.
    has_string_enums: bool,
}

#[derive(Debug)]
enum Node {
    /// `true`, `{}`, or only annotations.
    Any,
    /// `false`.
    Never,
    Checks(Box<Checks>),
    /// A `$ref`: the node it points at.
    Ref(usize),
}

const ALL_TYPES: u8 = NULL | BOOLEAN | OBJECT | ARRAY | NUMBER | INTEGER | STRING;

#[derive(Debug)]
struct Checks {
    types: u8,
    min_length: Option<u64>,
    max_length: Option<u64>,
    /// An `enum` of strings only (any other `enum` gets no quick check).
    strings: Option<Vec<String>>,
    minimum: Option<Num>,
    maximum: Option<Num>,
    exclusive_minimum: Option<Num>,
    exclusive_maximum: Option<Num>,
    properties: Vec<(String, usize)>,
    /// The required properties among the first 64 declared ones, as a mask of their indexes
    /// in `properties` (the bits `visit_map` sets as it meets them).
    required_declared: u64,
    /// The other required names (undeclared, or declared past the 64th).
    required_other: Vec<String>,
    /// `additionalProperties`; `None` when absent.
    additional: Option<usize>,
    items: Option<usize>,
    min_items: Option<u64>,
    max_items: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
enum Num {
    U(u64),
    I(i64),
    F(f64),
}

impl Num {
    fn of(number: &Number) -> Option<Self> {
        if let Some(u) = number.as_u64() {
            Some(Num::U(u))
        } else if let Some(i) = number.as_i64() {
            Some(Num::I(i))
        } else {
            number.as_f64().filter(|f| f.is_finite()).map(Num::F)
        }
    }

    /// The exact order of two numbers; `None` when a float and an integer past 2^53 meet (no
    /// exact answer without more care, so no answer).
    fn cmp(self, other: Num) -> Option<Ordering> {
        const EXACT: u64 = 1 << 53;
        let int = |n: Num| match n {
            Num::U(u) => Some(i128::from(u)),
            Num::I(i) => Some(i128::from(i)),
            Num::F(_) => None,
        };
        let float = |n: Num| match n {
            Num::U(u) if u <= EXACT => Some(u as f64),
            Num::I(i) if i.unsigned_abs() <= EXACT => Some(i as f64),
            Num::F(f) => Some(f),
            _ => None,
        };
        match (int(self), int(other)) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => float(self)?.partial_cmp(&float(other)?),
        }
    }
}

impl QuickSchema {
    /// The quick check of `schema` (a standalone schema: `$defs` at its root), or `None` when it
    /// uses anything the quick check does not know.
    pub(crate) fn compile(schema: &Value) -> Option<Self> {
        let empty = Map::new();
        let defs = match schema.get("$defs") {
            None => &empty,
            Some(Value::Object(defs)) => defs,
            Some(_) => return None,
        };
        let mut compiler = Compiler {
            defs,
            nodes: Vec::new(),
            by_name: HashMap::new(),
        };
        let root = compiler.node(schema, true)?;
        let has_string_enums = compiler
            .nodes
            .iter()
            .any(|node| matches!(node, Node::Checks(checks) if checks.strings.is_some()));
        Some(Self {
            nodes: compiler.nodes,
            root,
            has_string_enums,
        })
    }

    /// What `node` checks, through references: `Ok(None)` when it accepts anything, `Err` when
    /// it accepts nothing or is a cycle of bare references ("not sure" either way).
    fn checks_of(&self, node: usize) -> Result<Option<&Checks>, ()> {
        let mut node = &self.nodes[node];
        // References in a row (a cycle of bare references has no end: not sure).
        for _ in 0..32 {
            match node {
                Node::Ref(target) => node = &self.nodes[*target],
                Node::Any => return Ok(None),
                Node::Checks(checks) => return Ok(Some(checks)),
                Node::Never => return Err(()),
            }
        }
        Err(())
    }

    /// Whether `text` is certainly one JSON value that the schema accepts, without duplicate
    /// keys. `false` means "not sure", never "invalid".
    pub(crate) fn accepts(&self, text: &[u8]) -> bool {
        let mut de = serde_json::Deserializer::from_slice(text);
        let seed = Seed {
            schema: self,
            node: self.root,
        };
        seed.deserialize(&mut de).is_ok() && de.end().is_ok()
    }
}

struct Compiler<'s> {
    defs: &'s Map<String, Value>,
    nodes: Vec<Node>,
    by_name: HashMap<&'s str, usize>,
}

impl<'s> Compiler<'s> {
    fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn node(&mut self, schema: &'s Value, root: bool) -> Option<usize> {
        let object = match schema {
            Value::Bool(true) => return Some(self.push(Node::Any)),
            Value::Bool(false) => return Some(self.push(Node::Never)),
            Value::Object(object) => object,
            _ => return None,
        };
        if let Some(reference) = object.get("$ref") {
            // A reference with nothing but annotations beside it is its target.
            let only_annotations = object.iter().all(|(k, v)| {
                k == "$ref"
                    || ANNOTATIONS.contains(&k.as_str())
                    || root && k == "$defs"
                    || root && k == "$schema" && v.as_str() == Some(DRAFT_2020_12)
            });
            if !only_annotations {
                return None;
            }
            return self.reference(reference.as_str()?);
        }
        let mut checks = Checks {
            types: ALL_TYPES,
            min_length: None,
            max_length: None,
            strings: None,
            minimum: None,
            maximum: None,
            exclusive_minimum: None,
            exclusive_maximum: None,
            properties: Vec::new(),
            required_declared: 0,
            required_other: Vec::new(),
            additional: None,
            items: None,
            min_items: None,
            max_items: None,
        };
        let mut constrained = false;
        let mut required: &[Value] = &[];
        for (keyword, value) in object {
            let keyword = keyword.as_str();
            if ANNOTATIONS.contains(&keyword) {
                continue;
            }
            constrained = true;
            match keyword {
                "$schema" if root && value.as_str() == Some(DRAFT_2020_12) => {}
                "$defs" if root => {}
                "format" if !formats_asserted() => {}
                "type" => checks.types = type_mask(value)?,
                "minLength" => checks.min_length = Some(value.as_u64()?),
                "maxLength" => checks.max_length = Some(value.as_u64()?),
                "minItems" => checks.min_items = Some(value.as_u64()?),
                "maxItems" => checks.max_items = Some(value.as_u64()?),
                "minimum" => checks.minimum = Some(Num::of(value.as_number()?)?),
                "maximum" => checks.maximum = Some(Num::of(value.as_number()?)?),
                "exclusiveMinimum" => checks.exclusive_minimum = Some(Num::of(value.as_number()?)?),
                "exclusiveMaximum" => checks.exclusive_maximum = Some(Num::of(value.as_number()?)?),
                "enum" => {
                    let strings = value
                        .as_array()?
                        .iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()?;
                    checks.strings = Some(strings);
                }
                "required" => required = value.as_array()?,
                "properties" => {
                    for (name, property) in value.as_object()? {
                        let node = self.node(property, false)?;
                        checks.properties.push((name.clone(), node));
                    }
                }
                "additionalProperties" => checks.additional = Some(self.node(value, false)?),
                "items" => checks.items = Some(self.node(value, false)?),
                _ => return None,
            }
        }
        // Resolved once `properties` is known, whichever came first in the schema.
        for name in required {
            let name = name.as_str()?;
            match declared_index(&checks.properties, name) {
                Some(index) => checks.required_declared |= 1 << index,
                None => checks.required_other.push(name.to_owned()),
            }
        }
        Some(self.push(if constrained {
            Node::Checks(Box::new(checks))
        } else {
            Node::Any
        }))
    }

    /// A local reference into `$defs` (`#/$defs/Name`, a plain name).
    fn reference(&mut self, reference: &str) -> Option<usize> {
        let name = reference.strip_prefix("#/$defs/")?;
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        {
            return None;
        }
        let (name, target) = self.defs.get_key_value(name)?;
        if let Some(&node) = self.by_name.get(name.as_str()) {
            return Some(node);
        }
        // Reserved first, so a type that contains itself refers to this node.
        let slot = self.push(Node::Never);
        self.by_name.insert(name.as_str(), slot);
        let compiled = self.node(target, false)?;
        self.nodes[slot] = Node::Ref(compiled);
        Some(slot)
    }
}

/// The index of `name` among the declared `properties` when it has a bit in a `u64` mask.
fn declared_index(properties: &[(String, usize)], name: &str) -> Option<usize> {
    properties
        .iter()
        .position(|(known, _)| known == name)
        .filter(|&index| index < 64)
}

/// Whether the full validator (as [`super::compile`] builds it) checks `format`: tested once.
fn formats_asserted() -> bool {
    static ASSERTED: OnceLock<bool> = OnceLock::new();
    *ASSERTED.get_or_init(|| {
        let schema = serde_json::json!({ "format": "email" });
        super::compile(schema, "body")
            .map_or(true, |v| !v.is_valid(&Value::from("not an email address")))
    })
}

/// "Not sure": any failure of the quick check.
fn unsure<E: de::Error>() -> E {
    E::custom("not certainly valid")
}

struct Seed<'a> {
    schema: &'a QuickSchema,
    node: usize,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let checks = self.schema.checks_of(self.node).map_err(|()| unsure())?;
        deserializer.deserialize_any(Check {
            schema: self.schema,
            checks,
        })
    }
}

/// Checks one value against a node (`checks` is `None` for a node that accepts anything; its
/// value is still walked for duplicate keys).
struct Check<'a> {
    schema: &'a QuickSchema,
    checks: Option<&'a Checks>,
}

impl Check<'_> {
    fn allows(&self, kind: u8) -> bool {
        self.checks.is_none_or(|c| c.types & kind != 0)
    }

    fn number<E: de::Error>(&self, n: Num, integer: bool) -> Result<(), E> {
        let kinds = if integer { NUMBER | INTEGER } else { NUMBER };
        if !self.allows(kinds) {
            return Err(unsure());
        }
        let Some(c) = self.checks else { return Ok(()) };
        let holds = |limit: Option<Num>, ok: fn(Ordering) -> bool| {
            limit.is_none_or(|limit| n.cmp(limit).is_some_and(ok))
        };
        if c.strings.is_some()
            || !holds(c.minimum, Ordering::is_ge)
            || !holds(c.maximum, Ordering::is_le)
            || !holds(c.exclusive_minimum, Ordering::is_gt)
            || !holds(c.exclusive_maximum, Ordering::is_lt)
        {
            return Err(unsure());
        }
        Ok(())
    }

    fn scalar<E: de::Error>(&self, kind: u8) -> Result<(), E> {
        if !self.allows(kind) || self.checks.is_some_and(|c| c.strings.is_some()) {
            return Err(unsure());
        }
        Ok(())
    }

    fn string<E: de::Error>(&self, v: &str) -> Result<(), E> {
        if !self.allows(STRING) {
            return Err(unsure());
        }
        let Some(c) = self.checks else { return Ok(()) };
        if c.min_length.is_some() || c.max_length.is_some() {
            // JSON Schema counts code points, as `jsonschema` does.
            let length = v.chars().count() as u64;
            if c.min_length.is_some_and(|min| length < min)
                || c.max_length.is_some_and(|max| length > max)
            {
                return Err(unsure());
            }
        }
        if c.strings
            .as_ref()
            .is_some_and(|s| !s.iter().any(|s| s == v))
        {
            return Err(unsure());
        }
        Ok(())
    }

    /// Whether an array may be here at all (its items are checked one by one).
    fn array<E: de::Error>(&self) -> Result<(), E> {
        self.scalar(ARRAY)
    }

    /// Whether an object may be here at all (its entries are checked one by one).
    fn object<E: de::Error>(&self) -> Result<(), E> {
        self.scalar(OBJECT)
    }

    fn item_count<E: de::Error>(&self, count: u64) -> Result<(), E> {
        if let Some(c) = self.checks {
            if c.min_items.is_some_and(|min| count < min)
                || c.max_items.is_some_and(|max| count > max)
            {
                return Err(unsure());
            }
        }
        Ok(())
    }
}

impl Checks {
    /// The index of `name` among the declared properties.
    fn declared(&self, name: &str) -> Option<usize> {
        self.properties.iter().position(|(known, _)| known == name)
    }
}

impl<'de> Visitor<'de> for Check<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar(BOOLEAN)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar(NULL)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.number(Num::U(v), true)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.number(Num::I(v), true)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        // An integer-valued float is an `integer` to JSON Schema; not worth being sure of here.
        self.number(Num::F(v), false)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.string(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.array()?;
        let items = self.checks.and_then(|c| c.items);
        let mut count = 0u64;
        loop {
            let more = match items {
                Some(node) => seq
                    .next_element_seed(Seed {
                        schema: self.schema,
                        node,
                    })?
                    .is_some(),
                None => seq
                    .next_element_seed(Check {
                        schema: self.schema,
                        checks: None,
                    })?
                    .is_some(),
            };
            if !more {
                break;
            }
            count += 1;
        }
        self.item_count(count)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.object()?;
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(Key)? {
            let declared = self.checks.and_then(|c| c.declared(&key));
            let node = seen.record(self.checks, declared, || key)?;
            match node {
                Some(node) => map.next_value_seed(Seed {
                    schema: self.schema,
                    node,
                })?,
                None => map.next_value_seed(Check {
                    schema: self.schema,
                    checks: None,
                })?,
            }
        }
        seen.complete(self.checks)
    }
}

/// The keys of one object seen so far: declared properties by index (the common case, without
/// allocating), other names in a list made on the first one.
#[derive(Default)]
struct Seen<'de> {
    declared: u64,
    other: Vec<Cow<'de, str>>,
}

impl<'de> Seen<'de> {
    /// Records a key (`declared`: its index among the declared properties) and answers the node
    /// its value must match (`None`: anything). A key seen twice is "not sure".
    fn record<E: de::Error>(
        &mut self,
        checks: Option<&Checks>,
        declared: Option<usize>,
        name: impl FnOnce() -> Cow<'de, str>,
    ) -> Result<Option<usize>, E> {
        match declared {
            Some(index) if index < 64 => {
                if self.declared & (1 << index) != 0 {
                    return Err(unsure());
                }
                self.declared |= 1 << index;
            }
            _ => {
                let name = name();
                if self.other.contains(&name) {
                    return Err(unsure());
                }
                self.other.push(name);
            }
        }
        Ok(checks.and_then(|c| match declared {
            Some(index) => Some(c.properties[index].1),
            None => c.additional,
        }))
    }

    /// "Not sure" unless every required property was seen.
    fn complete<E: de::Error>(&self, checks: Option<&Checks>) -> Result<(), E> {
        if let Some(c) = checks {
            let missing = (self.declared & c.required_declared) != c.required_declared
                || c.required_other
                    .iter()
                    .any(|name| !self.other.iter().any(|key| key == name));
            if missing {
                return Err(unsure());
            }
        }
        Ok(())
    }
}

/// A value that accepts anything, walked for duplicate keys.
impl<'de> DeserializeSeed<'de> for Check<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Every body the quick check accepts, and every body read in one walk
    /// (`QuickSchema::deserialize`), is one `jsonschema` accepts; `sure` lists the bodies both
    /// must accept (the common cases they exist for).
    fn agrees(schema: Value, sure: &[&str], others: &[&str]) {
        let quick = QuickSchema::compile(&schema).expect("a quick check for this schema");
        let full = super::super::compile(schema.clone(), "body").expect("the schema compiles");
        for body in sure {
            assert!(quick.accepts(body.as_bytes()), "quick check refused {body}");
            assert!(
                quick
                    .deserialize::<Value>(body.as_bytes(), 64, 1000)
                    .is_some(),
                "one walk refused {body}"
            );
        }
        for body in sure.iter().chain(others) {
            if quick.accepts(body.as_bytes()) {
                let value: Value = serde_json::from_str(body).expect("accepted text is JSON");
                assert!(full.is_valid(&value), "{body} accepted but invalid");
            }
            if let Some(read) = quick.deserialize::<Value>(body.as_bytes(), 64, 1000) {
                let value: Value = serde_json::from_str(body).expect("accepted text is JSON");
                assert!(full.is_valid(&value), "{body} read in one walk but invalid");
                assert_eq!(read, value);
            }
        }
    }

    #[test]
    fn plain_keywords_agree_with_jsonschema() {
        let item = json!({
            "$ref": "#/$defs/CreateItem",
            "$defs": { "CreateItem": {
                "type": "object",
                "description": "What a client sends",
                "properties": {
                    "name": { "type": "string", "minLength": 1, "maxLength": 3 },
                    "price": { "type": "number", "format": "double", "exclusiveMinimum": 0 },
                    "count": { "type": ["integer", "null"], "minimum": 0, "maximum": 10 },
                    "tags": { "type": "array", "items": { "enum": ["a", "b"] }, "maxItems": 2 },
                    "child": { "$ref": "#/$defs/CreateItem" }
                },
                "required": ["name", "price"]
            }}
        });
        agrees(
            item,
            &[
                r#"{"name":"L","price":12.5}"#,
                r#" {"price":1,"name":"élé","extra":{"x":[1,2]}} "#,
                r#"{"name":"L","price":1e-300,"count":null,"tags":["a","b"]}"#,
                r#"{"name":"L","price":1,"count":10,"child":{"name":"M","price":2}}"#,
            ],
            &[
                r#"{"name":"Lamp"}"#,
                r#"{"name":"Lamp","price":1}"#,
                r#"{"name":"","price":1}"#,
                r#"{"name":"L","price":0}"#,
                r#"{"name":"L","price":-0.0}"#,
                r#"{"name":"L","price":"1"}"#,
                r#"{"name":"L"}"#,
                r#"{"name":"L","price":1,"count":1.0}"#,
                r#"{"name":"L","price":1,"count":11}"#,
                r#"{"name":"L","price":1,"count":-1}"#,
                r#"{"name":"L","price":1,"tags":["c"]}"#,
                r#"{"name":"L","price":1,"tags":["a","a","a"]}"#,
                r#"{"name":"L","price":1,"name":"M"}"#,
                r#"{"name":"L","price":1,"x":1,"x":2}"#,
                r#"{"name":"L","price":1,"child":{"name":""}}"#,
                r#"{"name":"L","price":1} x"#,
                r#"[]"#,
                r#"null"#,
            ],
        );
    }

    #[test]
    fn closed_objects_and_big_numbers() {
        let schema = json!({
            "type": "object",
            "properties": { "n": { "type": "integer", "exclusiveMaximum": 9007199254740993u64 } },
            "additionalProperties": false
        });
        agrees(
            schema,
            &[r#"{"n":1}"#, r#"{}"#],
            &[
                r#"{"n":9007199254740993}"#,
                r#"{"n":9007199254740992.0}"#,
                r#"{"n":1,"m":2}"#,
                r#"{"n":18446744073709551616}"#,
            ],
        );
    }

    #[test]
    fn required_names_need_not_be_declared() {
        let schema = json!({
            "required": ["b", "extra"],
            "properties": { "a": { "type": "string" }, "b": { "type": "integer" } }
        });
        agrees(
            schema,
            &[r#"{"b":1,"extra":null}"#, r#"{"extra":[],"a":"x","b":2}"#],
            &[
                r#"{"b":1}"#,
                r#"{"extra":1}"#,
                r#"{}"#,
                r#"{"b":1,"extra":1,"extra":2}"#,
            ],
        );
        let quick = QuickSchema::compile(&json!({ "required": ["x"] })).expect("a quick check");
        assert!(!quick.accepts(br#"{"y":1}"#));
    }

    #[test]
    fn unknown_keywords_get_no_quick_check() {
        for schema in [
            json!({ "type": "string", "pattern": "^a" }),
            json!({ "anyOf": [{ "type": "string" }, { "type": "null" }] }),
            json!({ "$ref": "https://example.com/s" }),
            json!({ "$schema": "http://json-schema.org/draft-07/schema#", "type": "string" }),
            json!({ "enum": [1, 2] }),
            json!({ "properties": { "a": { "const": 1 } } }),
        ] {
            assert!(QuickSchema::compile(&schema).is_none(), "{schema}");
        }
    }
}
