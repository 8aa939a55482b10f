//! The plain checker: JSON Schema validation for a build without the `validation` feature, so
//! without jsonschema and its dependencies.
//!
//! It checks the keywords the schema generators write for Rust types: `type`, `enum`, `const`,
//! string lengths, numeric bounds, `properties`, `required`, `additionalProperties`, property
//! counts, `prefixItems`, `items`, item counts, `uniqueItems`, `allOf`, `anyOf`, `oneOf` and
//! local `$ref`s. A schema with any other keyword that constrains a value (`pattern`, `not`,
//! `if`, `multipleOf`, ...) is refused when it is compiled, which is when the server is built,
//! with an error naming the feature that checks it: a constraint is never skipped silently.
//! Keywords JSON Schema does not define are annotations, as jsonschema treats them, and so is
//! `format` (JSON Schema 2020-12's default, and jsonschema's).
//!
//! Messages follow jsonschema's wording and are bounded the same way (`report`): at most
//! [`MAX_ISSUES`](super::MAX_ISSUES) listed, then a count, each message cut to a bounded
//! length. The tests hold its verdicts to jsonschema's.

use std::{
    cmp::Ordering,
    collections::{HashMap, HashSet},
    fmt::Write as _,
};

use serde_json::{Map, Number, Value};

use super::{
    keywords::{
        type_mask, ARRAY, BOOLEAN, DRAFT_2020_12, INTEGER, NULL, NUMBER, OBJECT, STRING, TYPE_NAMES,
    },
    report::{bounded, excerpt, Field, Segment, Sink, MAX_MESSAGE_BYTES},
    Issue, SchemaError,
};

/// Keywords of JSON Schema (2020-12 and the drafts before it) that constrain a value and that
/// only the `validation` feature checks.
const FULL_ONLY: [&str; 23] = [
    "pattern",
    "patternProperties",
    "multipleOf",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "minContains",
    "maxContains",
    "propertyNames",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
    "$dynamicRef",
    "$dynamicAnchor",
    "$recursiveRef",
    "$recursiveAnchor",
    "$id",
    "$anchor",
];

/// `$ref`s, `allOf`s, `anyOf`s and `oneOf`s followed in a row without going into the value: a
/// schema that refers to itself without consuming anything fails instead of recursing forever.
const MAX_HOPS: usize = 32;

/// A compiled schema; see the module docs.
#[derive(Debug)]
pub(crate) struct CheckedSchema {
    nodes: Vec<Node>,
    root: usize,
}

#[derive(Debug)]
enum Node {
    /// `true`, or only annotations.
    Any,
    /// `false`.
    Never,
    /// A `$ref` alone, or a slot reserved while its target compiles: the node it points at.
    Ref(usize),
    Checks(Box<Checks>),
}

#[derive(Debug, Default, PartialEq)]
struct Checks {
    reference: Option<usize>,
    types: Option<u8>,
    enumeration: Option<Vec<Value>>,
    constant: Option<Value>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    minimum: Option<Number>,
    maximum: Option<Number>,
    exclusive_minimum: Option<Number>,
    exclusive_maximum: Option<Number>,
    properties: Vec<(String, usize)>,
    required: Vec<String>,
    additional: Option<usize>,
    min_properties: Option<u64>,
    max_properties: Option<u64>,
    prefix_items: Vec<usize>,
    items: Option<usize>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    unique_items: bool,
    all_of: Vec<usize>,
    any_of: Vec<usize>,
    one_of: Vec<usize>,
}

impl CheckedSchema {
    /// Compiles `schema` (named `part` in the error), or says which keyword it cannot check.
    pub(crate) fn compile(schema: Value, part: &'static str) -> Result<Self, SchemaError> {
        let mut compiler = Compiler {
            root: &schema,
            nodes: Vec::new(),
            by_pointer: HashMap::new(),
        };
        let root = compiler
            .reference("#")
            .map_err(|reason| SchemaError { part, reason })?;
        Ok(Self {
            nodes: compiler.nodes,
            root,
        })
    }

    /// Whether `value` is valid (nothing collected).
    pub(crate) fn is_valid(&self, value: &Value) -> bool {
        self.fits(self.root, value, 0)
    }

    /// Every issue of `value` (at most [`MAX_ISSUES`](super::MAX_ISSUES), then one counting the
    /// rest), or `Ok`.
    pub(crate) fn check(&self, value: &Value) -> Result<(), Vec<Issue>> {
        let mut sink = Sink::default();
        let mut walk = Walk {
            schema: self,
            sink: Some(&mut sink),
            path: Vec::new(),
            failed: false,
        };
        walk.value(self.root, value, 0);
        if walk.failed {
            drop(walk);
            Err(sink.into_issues())
        } else {
            Ok(())
        }
    }

    fn fits(&self, node: usize, value: &Value, hops: usize) -> bool {
        let mut walk = Walk {
            schema: self,
            sink: None,
            path: Vec::new(),
            failed: false,
        };
        walk.value(node, value, hops);
        !walk.failed
    }

    /// `node` through its references (a cycle of bare references ends as `Any`: it constrains
    /// nothing, which is also what it means to jsonschema).
    fn resolved(&self, mut node: usize) -> &Node {
        for _ in 0..MAX_HOPS {
            match &self.nodes[node] {
                Node::Ref(target) => node = *target,
                other => return other,
            }
        }
        &Node::Any
    }
}

struct Compiler<'s> {
    root: &'s Value,
    nodes: Vec<Node>,
    by_pointer: HashMap<String, usize>,
}

impl<'s> Compiler<'s> {
    fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// A local reference (`#`, `#/$defs/Name`, any JSON pointer into the schema), compiled once.
    fn reference(&mut self, reference: &str) -> Result<usize, String> {
        let Some(pointer) = reference.strip_prefix('#') else {
            return Err(format!(
                "`$ref` {reference} is not a local reference; \
                 only mastra-runtime's `validation` feature resolves those"
            ));
        };
        if let Some(&node) = self.by_pointer.get(pointer) {
            return Ok(node);
        }
        let Some(target) = self.root.pointer(pointer) else {
            return Err(format!(
                "`$ref` {reference} points at nothing in the schema"
            ));
        };
        // Reserved first, so a type that contains itself refers to this slot.
        let slot = self.push(Node::Any);
        self.by_pointer.insert(pointer.to_owned(), slot);
        let compiled = self.node(target, pointer)?;
        self.nodes[slot] = Node::Ref(compiled);
        Ok(slot)
    }

    fn node(&mut self, schema: &'s Value, pointer: &str) -> Result<usize, String> {
        let object = match schema {
            Value::Bool(true) => return Ok(self.push(Node::Any)),
            Value::Bool(false) => return Ok(self.push(Node::Never)),
            Value::Object(object) => object,
            _ => {
                return Err(format!(
                    "the schema at `{pointer}` is neither an object nor a boolean"
                ))
            }
        };
        let mut checks = Checks::default();
        for (keyword, value) in object {
            let at = format!("{pointer}/{keyword}");
            let invalid = || format!("`{keyword}` at `{pointer}` has an invalid value");
            let count = || value.as_u64().ok_or_else(invalid);
            let number = || value.as_number().cloned().ok_or_else(invalid);
            let keyword = keyword.as_str();
            match keyword {
                "$schema" if pointer.is_empty() && value.as_str() == Some(DRAFT_2020_12) => {}
                "$defs" | "definitions" => {}
                "$ref" => {
                    let reference = value.as_str().ok_or_else(invalid)?;
                    checks.reference = Some(self.reference(reference)?);
                }
                "type" => checks.types = Some(type_mask(value).ok_or_else(invalid)?),
                "enum" => checks.enumeration = Some(value.as_array().ok_or_else(invalid)?.clone()),
                "const" => checks.constant = Some(value.clone()),
                "minLength" => checks.min_length = Some(count()?),
                "maxLength" => checks.max_length = Some(count()?),
                "minimum" => checks.minimum = Some(number()?),
                "maximum" => checks.maximum = Some(number()?),
                "exclusiveMinimum" => checks.exclusive_minimum = Some(number()?),
                "exclusiveMaximum" => checks.exclusive_maximum = Some(number()?),
                "properties" => {
                    for (name, property) in value.as_object().ok_or_else(invalid)? {
                        let node = self.node(property, &format!("{at}/{name}"))?;
                        checks.properties.push((name.clone(), node));
                    }
                }
                "required" => {
                    for name in value.as_array().ok_or_else(invalid)? {
                        let name = name.as_str().ok_or_else(invalid)?;
                        checks.required.push(name.to_owned());
                    }
                }
                "additionalProperties" => checks.additional = Some(self.node(value, &at)?),
                "minProperties" => checks.min_properties = Some(count()?),
                "maxProperties" => checks.max_properties = Some(count()?),
                "prefixItems" => checks.prefix_items = self.nodes_of(value, &at, invalid)?,
                "items" => checks.items = Some(self.node(value, &at)?),
                "minItems" => checks.min_items = Some(count()?),
                "maxItems" => checks.max_items = Some(count()?),
                "uniqueItems" => checks.unique_items = value.as_bool().ok_or_else(invalid)?,
                "allOf" => checks.all_of = self.nodes_of(value, &at, invalid)?,
                "anyOf" => checks.any_of = self.nodes_of(value, &at, invalid)?,
                "oneOf" => checks.one_of = self.nodes_of(value, &at, invalid)?,
                "$schema" => {
                    return Err(format!(
                        "`$schema` at `{pointer}` names a draft other than 2020-12; \
                         only mastra-runtime's `validation` feature checks other drafts"
                    ))
                }
                _ if FULL_ONLY.contains(&keyword) => {
                    return Err(format!(
                        "`{keyword}` (at `{pointer}`) is checked only with mastra-runtime's \
                         `validation` feature, which this build leaves out"
                    ))
                }
                // Annotations: `title`, `description`, `format`, `default`, `x-...`.
                _ => {}
            }
        }
        // A schema of annotations alone accepts every value.
        Ok(self.push(if checks != Checks::default() {
            Node::Checks(Box::new(checks))
        } else {
            Node::Any
        }))
    }

    /// The schemas of a non-empty array keyword (`allOf`, `prefixItems`, ...).
    fn nodes_of(
        &mut self,
        value: &'s Value,
        at: &str,
        invalid: impl Fn() -> String,
    ) -> Result<Vec<usize>, String> {
        let schemas = value
            .as_array()
            .filter(|s| !s.is_empty())
            .ok_or_else(&invalid)?;
        schemas
            .iter()
            .enumerate()
            .map(|(i, schema)| self.node(schema, &format!("{at}/{i}")))
            .collect()
    }
}

/// A number's integer value, when it is stored as one.
fn integer(number: &Number) -> Option<i128> {
    number
        .as_i64()
        .map(i128::from)
        .or_else(|| number.as_u64().map(i128::from))
}

/// Whether a number is an integer in JSON Schema's sense (`1.0` is one).
fn is_integer(number: &Number) -> bool {
    integer(number).is_some() || number.as_f64().is_some_and(|f| f.fract() == 0.0)
}

/// The order of two numbers: exact between integers, as `f64` otherwise.
fn compare(a: &Number, b: &Number) -> Option<Ordering> {
    match (integer(a), integer(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// Equality as JSON Schema means it for `enum`, `const` and `uniqueItems`: numbers by value.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => compare(a, b) == Some(Ordering::Equal),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// A text that two values share exactly when [`json_eq`] holds: keys sorted, integral numbers
/// written as integers. Lets `uniqueItems` hash items instead of comparing every pair.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Number(n) => {
            match (integer(n), n.as_f64()) {
                (Some(i), _) => write!(out, "{i}"),
                // Integral floats up to 2^63 are written as the integer they equal.
                (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.2e18 => {
                    write!(out, "{}", f as i128)
                }
                _ => write!(out, "{n}"),
            }
            .ok();
        }
        Value::Array(items) => {
            out.push('[');
            for item in items {
                canonical(item, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::Object(entries) => {
            let mut keys: Vec<&String> = entries.keys().collect();
            keys.sort();
            out.push('{');
            for key in keys {
                write!(out, "{}:", Value::from(key.as_str())).ok();
                canonical(&entries[key], out);
                out.push(',');
            }
            out.push('}');
        }
        other => {
            write!(out, "{other}").ok();
        }
    }
}

fn kind(value: &Value) -> u8 {
    match value {
        Value::Null => NULL,
        Value::Bool(_) => BOOLEAN,
        Value::Object(_) => OBJECT,
        Value::Array(_) => ARRAY,
        Value::String(_) => STRING,
        Value::Number(n) if is_integer(n) => NUMBER | INTEGER,
        Value::Number(_) => NUMBER,
    }
}

/// How jsonschema words a count outside its bounds: `"x" is shorter than 2 characters`,
/// `[] has less than 1 item`.
struct CountWords {
    below: &'static str,
    above: &'static str,
    one: &'static str,
    many: &'static str,
}

impl CountWords {
    fn message(&self, value: &Value, words: &str, limit: u64) -> String {
        let noun = if limit == 1 { self.one } else { self.many };
        format!("{} {words} {limit} {noun}", excerpt(value))
    }
}

const CHARACTERS: CountWords = CountWords {
    below: "is shorter than",
    above: "is longer than",
    one: "character",
    many: "characters",
};

const PROPERTIES: CountWords = CountWords {
    below: "has less than",
    above: "has more than",
    one: "property",
    many: "properties",
};

const ITEMS: CountWords = CountWords {
    below: "has less than",
    above: "has more than",
    one: "item",
    many: "items",
};

/// A numeric bound: its limit, when the schema sets it, the order the value must have to it,
/// and the words of the message when it does not.
type Bound<'c> = (&'c Option<Number>, fn(Ordering) -> bool, &'static str);

/// A walk of a value along the schema: collecting issues into a sink, or (without one) finding
/// whether there is any, stopping at the first.
struct Walk<'s, 'v> {
    schema: &'s CheckedSchema,
    sink: Option<&'s mut Sink>,
    path: Vec<Segment<'v>>,
    failed: bool,
}

impl<'s, 'v> Walk<'s, 'v> {
    /// Done: only whether the value fails is asked, and it does.
    fn done(&self) -> bool {
        self.failed && self.sink.is_none()
    }

    /// One issue at the current path (at `last` below it, when given).
    fn fail(&mut self, last: Option<&str>, message: impl FnOnce() -> String) {
        self.failed = true;
        let Self { sink, path, .. } = self;
        if let Some(sink) = sink {
            sink.add(|| {
                let mut field = Field::at(path);
                if let Some(last) = last {
                    field.push(last);
                }
                Issue::new(field.into_string(), super::short_message(&message()))
            });
        }
    }

    fn value(&mut self, node: usize, value: &'v Value, hops: usize) {
        if self.done() {
            return;
        }
        let schema = self.schema;
        match &schema.nodes[node] {
            Node::Any => {}
            Node::Never => {
                self.fail(None, || {
                    format!("False schema does not allow {}", excerpt(value))
                });
            }
            Node::Ref(target) => self.hop(*target, value, hops),
            Node::Checks(checks) => self.checks(checks, value, hops),
        }
    }

    /// `node` applied to the same value (a reference or a member of `allOf`).
    fn hop(&mut self, node: usize, value: &'v Value, hops: usize) {
        if hops >= MAX_HOPS {
            self.fail(None, || {
                "the schema refers to itself without going into the value".to_owned()
            });
        } else {
            self.value(node, value, hops + 1);
        }
    }

    fn checks(&mut self, checks: &'s Checks, value: &'v Value, hops: usize) {
        if let Some(reference) = checks.reference {
            self.hop(reference, value, hops);
        }
        if let Some(types) = checks.types {
            if kind(value) & types == 0 {
                self.fail(None, || type_message(types, value));
            }
        }
        if let Some(allowed) = &checks.enumeration {
            if !allowed.iter().any(|a| json_eq(a, value)) {
                self.fail(None, || enum_message(value, allowed));
            }
        }
        if let Some(constant) = &checks.constant {
            if !json_eq(constant, value) {
                self.fail(None, || format!("{} was expected", excerpt(constant)));
            }
        }
        match value {
            Value::String(text) => self.string(checks, value, text),
            Value::Number(number) => self.number(checks, value, number),
            Value::Object(entries) => self.object(checks, value, entries),
            Value::Array(items) => self.array(checks, value, items),
            Value::Null | Value::Bool(_) => {}
        }
        for &member in &checks.all_of {
            self.hop(member, value, hops);
        }
        if !checks.any_of.is_empty() && self.fitting(&checks.any_of, value, hops, 1) == 0 {
            self.fail(None, || alternatives_message(value, "anyOf"));
        }
        if !checks.one_of.is_empty() {
            match self.fitting(&checks.one_of, value, hops, 2) {
                1 => {}
                0 => self.fail(None, || alternatives_message(value, "oneOf")),
                _ => self.fail(None, || {
                    format!(
                        "{} is valid under more than one of the schemas listed in the 'oneOf' \
                         keyword",
                        excerpt(value)
                    )
                }),
            }
        }
    }

    /// How many of `branches` accept `value`, counting up to `enough`.
    fn fitting(&self, branches: &[usize], value: &Value, hops: usize, enough: usize) -> usize {
        if self.done() || hops >= MAX_HOPS {
            return 0;
        }
        branches
            .iter()
            .filter(|&&branch| self.schema.fits(branch, value, hops + 1))
            .take(enough)
            .count()
    }

    fn string(&mut self, checks: &Checks, value: &Value, text: &str) {
        if checks.min_length.is_none() && checks.max_length.is_none() {
            return;
        }
        // JSON Schema counts code points.
        let length = text.chars().count() as u64;
        self.count(
            value,
            length,
            checks.min_length,
            checks.max_length,
            &CHARACTERS,
        );
    }

    /// A count's bounds (`minLength`/`maxLength`, `minProperties`/..., `minItems`/...).
    fn count(
        &mut self,
        value: &Value,
        count: u64,
        min: Option<u64>,
        max: Option<u64>,
        words: &CountWords,
    ) {
        if let Some(min) = min.filter(|&min| count < min) {
            self.fail(None, || words.message(value, words.below, min));
        }
        if let Some(max) = max.filter(|&max| count > max) {
            self.fail(None, || words.message(value, words.above, max));
        }
    }

    fn number(&mut self, checks: &Checks, value: &Value, number: &Number) {
        let bounds: [Bound<'_>; 4] = [
            (
                &checks.minimum,
                Ordering::is_ge,
                "is less than the minimum of",
            ),
            (
                &checks.maximum,
                Ordering::is_le,
                "is greater than the maximum of",
            ),
            (
                &checks.exclusive_minimum,
                Ordering::is_gt,
                "is less than or equal to the minimum of",
            ),
            (
                &checks.exclusive_maximum,
                Ordering::is_lt,
                "is greater than or equal to the maximum of",
            ),
        ];
        for (limit, holds, words) in bounds {
            if let Some(limit) = limit {
                if !compare(number, limit).is_some_and(holds) {
                    self.fail(None, || format!("{} {words} {limit}", excerpt(value)));
                }
            }
        }
    }

    fn object(&mut self, checks: &'s Checks, value: &'v Value, entries: &'v Map<String, Value>) {
        for name in &checks.required {
            if !entries.contains_key(name) {
                self.fail(Some(name), || {
                    format!("{} is a required property", Value::from(name.as_str()))
                });
            }
        }
        let count = entries.len() as u64;
        self.count(
            value,
            count,
            checks.min_properties,
            checks.max_properties,
            &PROPERTIES,
        );
        // jsonschema lists unexpected names in one issue only next to `properties`; alone,
        // `additionalProperties: false` refuses each member at its own field.
        let closed = !checks.properties.is_empty()
            && checks
                .additional
                .is_some_and(|node| matches!(self.schema.resolved(node), Node::Never));
        let mut unexpected: Vec<&str> = Vec::new();
        for (key, member) in entries {
            if self.done() {
                return;
            }
            let declared = checks
                .properties
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, node)| *node);
            match (declared, checks.additional) {
                (Some(node), _) => self.member(Segment::Key(key), node, member),
                (None, Some(_)) if closed => {
                    if unexpected.len() < MAX_MESSAGE_BYTES {
                        unexpected.push(key);
                    }
                }
                (None, Some(node)) => self.member(Segment::Key(key), node, member),
                (None, None) => {}
            }
        }
        if !unexpected.is_empty() {
            self.fail(None, || unexpected_message(&unexpected));
        }
    }

    fn array(&mut self, checks: &'s Checks, value: &'v Value, items: &'v [Value]) {
        let count = items.len() as u64;
        self.count(value, count, checks.min_items, checks.max_items, &ITEMS);
        if checks.unique_items && !all_unique(items) {
            self.fail(None, || {
                format!("{} has non-unique elements", excerpt(value))
            });
        }
        for (index, item) in items.iter().enumerate() {
            if self.done() {
                return;
            }
            if let Some(node) = checks.prefix_items.get(index).copied().or(checks.items) {
                self.member(Segment::Index(index), node, item);
            }
        }
    }

    /// A member or item, checked under its own path.
    fn member(&mut self, segment: Segment<'v>, node: usize, value: &'v Value) {
        self.path.push(segment);
        self.value(node, value, 0);
        self.path.pop();
    }
}

fn all_unique(items: &[Value]) -> bool {
    let mut seen = HashSet::with_capacity(items.len());
    items.iter().all(|item| {
        let mut text = String::new();
        canonical(item, &mut text);
        seen.insert(text)
    })
}

fn type_message(types: u8, value: &Value) -> String {
    let names: Vec<String> = TYPE_NAMES
        .iter()
        .filter(|(bit, _)| types & bit != 0)
        .map(|(_, name)| format!("\"{name}\""))
        .collect();
    let noun = if names.len() == 1 { "type" } else { "types" };
    format!("{} is not of {noun} {}", excerpt(value), names.join(", "))
}

/// `"c" is not one of "a", "b" or "d"`, the list cut to a bounded length.
fn enum_message(value: &Value, allowed: &[Value]) -> String {
    let list = bounded(MAX_MESSAGE_BYTES - 64, |w| {
        for (i, option) in allowed.iter().enumerate() {
            match i {
                0 => {}
                _ if i + 1 == allowed.len() => w.write_str(" or ")?,
                _ => w.write_str(", ")?,
            }
            w.write_str(&excerpt(option))?;
        }
        Ok(())
    });
    format!("{} is not one of {list}", excerpt(value))
}

fn alternatives_message(value: &Value, keyword: &str) -> String {
    format!(
        "{} is not valid under any of the schemas listed in the '{keyword}' keyword",
        excerpt(value)
    )
}

/// `Additional properties are not allowed ('a', 'b' were unexpected)`, the names cut to a
/// bounded length.
fn unexpected_message(names: &[&str]) -> String {
    let verb = if names.len() == 1 { "was" } else { "were" };
    let list = bounded(MAX_MESSAGE_BYTES - 64, |w| {
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                w.write_str(", ")?;
            }
            write!(w, "'{name}'")?;
        }
        Ok(())
    });
    format!("Additional properties are not allowed ({list} {verb} unexpected)")
}

#[cfg(test)]
mod tests {
    use schemars::JsonSchema;
    use serde_json::json;

    use super::*;
    use crate::schema::{schema_of, MAX_ISSUES};

    fn plain(schema: Value) -> CheckedSchema {
        CheckedSchema::compile(schema, "body").expect("the plain checker takes this schema")
    }

    fn refusal(schema: Value) -> String {
        CheckedSchema::compile(schema, "body")
            .expect_err("the plain checker refuses this schema")
            .to_string()
    }

    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Closed {
        a: i64,
        #[serde(default)]
        b: Option<String>,
    }

    #[test]
    fn refuses_keywords_it_cannot_check_naming_the_feature() {
        for schema in [
            json!({ "type": "string", "pattern": "^a" }),
            json!({ "properties": { "x": { "not": { "type": "null" } } } }),
            json!({ "if": { "type": "string" }, "then": { "minLength": 1 } }),
            json!({ "$defs": { "T": { "multipleOf": 2 } }, "$ref": "#/$defs/T" }),
            json!({ "$schema": "http://json-schema.org/draft-07/schema#" }),
            json!({ "$ref": "https://example.com/other.json" }),
        ] {
            let message = refusal(schema.clone());
            assert!(
                message.contains("`validation` feature"),
                "{schema}: {message}"
            );
            assert!(message.starts_with("the body schema"), "{message}");
        }
        assert!(refusal(json!({ "$ref": "#/$defs/Missing" })).contains("points at nothing"));
        assert!(refusal(json!({ "minLength": "one" })).contains("invalid value"));
    }

    #[test]
    fn issues_name_the_field_and_what_is_wrong() {
        let checked = plain(schema_of::<Closed>());
        let issues = checked
            .check(&json!({ "b": 1, "c": true, "d": 0 }))
            .expect_err("invalid");
        let listed: Vec<(&str, &str)> = issues
            .iter()
            .map(|i| (i.field.as_str(), i.message.as_str()))
            .collect();
        assert!(
            listed.contains(&("a", "\"a\" is a required property")),
            "{listed:?}"
        );
        assert!(
            listed.contains(&(
                "",
                "Additional properties are not allowed ('c', 'd' were unexpected)"
            )),
            "{listed:?}"
        );
        assert!(
            listed
                .iter()
                .any(|(field, message)| *field == "b" && message.contains("is not of type")),
            "{listed:?}"
        );
        let lengths = plain(json!({ "type": "string", "minLength": 2 }));
        let issues = lengths.check(&json!("x")).expect_err("too short");
        assert_eq!(issues[0].message, "\"x\" is shorter than 2 characters");
        let bounds = plain(json!({ "exclusiveMinimum": 0 }));
        assert_eq!(
            bounds.check(&json!(0)).expect_err("not above 0")[0].message,
            "0 is less than or equal to the minimum of 0"
        );
    }

    #[test]
    fn what_it_reports_is_bounded() {
        let checked =
            plain(json!({ "type": "array", "items": { "type": "string", "maxLength": 1 } }));
        let long = "x".repeat(10_000);
        let items: Vec<Value> = (0..100_000).map(|_| Value::from(long.as_str())).collect();
        let issues = checked
            .check(&Value::Array(items))
            .expect_err("every item too long");
        assert_eq!(issues.len(), MAX_ISSUES + 1, "{:?}", &issues[..3]);
        assert!(issues[MAX_ISSUES]
            .message
            .starts_with("99980 more invalid values"));
        for issue in &issues[..MAX_ISSUES] {
            assert!(
                issue.message.len() <= MAX_MESSAGE_BYTES + '…'.len_utf8(),
                "{issue:?}"
            );
        }
        let unique = plain(json!({ "uniqueItems": true }));
        let many: Vec<Value> = (0..200_000).map(Value::from).collect();
        assert!(unique.is_valid(&Value::Array(many)));
    }

    #[test]
    fn a_schema_that_refers_to_itself_in_place_fails_instead_of_recursing() {
        let checked = plain(json!({
            "$defs": { "Loop": { "allOf": [{ "$ref": "#/$defs/Loop" }] } },
            "$ref": "#/$defs/Loop"
        }));
        let issues = checked.check(&json!(1)).expect_err("cannot be decided");
        assert!(issues[0].message.contains("refers to itself"), "{issues:?}");
        // A type that contains itself through a property is fine: the value ends.
        let tree = plain(json!({
            "$defs": { "Tree": { "type": "object", "properties": {
                "children": { "type": "array", "items": { "$ref": "#/$defs/Tree" } } } } },
            "$ref": "#/$defs/Tree"
        }));
        assert!(tree.is_valid(&json!({ "children": [{ "children": [] }] })));
        assert!(!tree.is_valid(&json!({ "children": [{ "children": 1 }] })));
    }

    /// The plain checker held to jsonschema (only in a build that has both).
    #[cfg(feature = "validation")]
    mod against_jsonschema {
        use std::collections::{BTreeMap, HashSet};

        use proptest::{collection::vec, prelude::*};

        use super::*;

        #[derive(JsonSchema)]
        #[allow(dead_code)]
        struct Item {
            #[schemars(length(min = 1, max = 8))]
            name: String,
            #[schemars(extend("exclusiveMinimum" = 0))]
            price: f64,
            #[schemars(range(min = 1, max = 5))]
            id: Option<u8>,
            tags: HashSet<String>,
            kind: Kind,
            inner: Option<Box<Item>>,
            pair: Option<(bool, i32)>,
            extra: Option<BTreeMap<String, u32>>,
        }

        #[derive(JsonSchema)]
        #[allow(dead_code)]
        enum Kind {
            Plain,
            Named { name: String },
            Counted(u32),
        }

        /// The schemas the generators write for the types above, and hand-written ones using every
        /// keyword the plain checker knows.
        fn schemas() -> Vec<Value> {
            vec![
                schema_of::<Item>(),
                schema_of::<Kind>(),
                schema_of::<Closed>(),
                schema_of::<Vec<Closed>>(),
                json!({ "type": ["string", "null"], "enum": ["a", "abc", null] }),
                json!({ "const": { "x": [1, 2.0] } }),
                json!({ "type": "object", "minProperties": 1, "maxProperties": 2 }),
                json!({ "type": "array", "minItems": 1, "maxItems": 3, "uniqueItems": true }),
                json!({ "prefixItems": [{ "type": "integer" }, { "type": "string" }], "items": false }),
                json!({ "allOf": [{ "minimum": -1 }, { "maximum": 2.5 }], "type": "number" }),
                json!({ "oneOf": [{ "type": "integer" }, { "minimum": 0 }] }),
                json!({ "anyOf": [{ "type": "string", "maxLength": 1 }, { "type": "array" }] }),
                json!({ "exclusiveMaximum": 1, "exclusiveMinimum": -1 }),
                json!({ "additionalProperties": { "type": "boolean" }, "properties": { "x": {} } }),
                json!({ "$defs": { "T": { "type": "array", "items": { "$ref": "#/$defs/T" } } },
                        "$ref": "#/$defs/T" }),
                json!(false),
                json!({ "title": "annotations only", "format": "email", "x-extension": 1 }),
            ]
        }

        fn leaf() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                (-3i64..7).prop_map(Value::from),
                prop::sample::select(vec![0.5, -0.5, 1.0, 2.5, 1e300]).prop_map(Value::from),
                prop::sample::select(vec!["", "a", "abc", "abcdefghij", "Plain", "Named"])
                    .prop_map(Value::from),
            ]
        }

        /// Values made of the schemas' own names and the numbers and strings near their bounds, so
        /// that most of them come close to being valid.
        fn value() -> impl Strategy<Value = Value> {
            let keys = prop::sample::select(vec![
                "name", "price", "id", "tags", "kind", "inner", "pair", "extra", "Named",
                "Counted", "a", "b", "x", "y",
            ]);
            leaf().prop_recursive(4, 48, 6, move |inner| {
                prop_oneof![
                    vec(inner.clone(), 0..5).prop_map(Value::Array),
                    vec((keys.clone(), inner), 0..7).prop_map(|entries| {
                        Value::Object(
                            entries
                                .into_iter()
                                .map(|(k, v)| (k.to_owned(), v))
                                .collect(),
                        )
                    }),
                ]
            })
        }

        fn valid_item() -> Value {
            json!({
                "name": "Lamp", "price": 12.5, "id": 3, "tags": ["a", "b"], "kind": "Plain",
                "inner": { "name": "x", "price": 1, "tags": [], "kind": { "Counted": 2 } },
                "pair": [true, -4], "extra": { "k": 1 }
            })
        }

        /// The plain checker and jsonschema agree on what is valid, and list issues at the same
        /// fields.
        fn agree(schema: &Value, value: &Value) {
            let full = crate::schema::compile(schema.clone(), "body").expect("jsonschema takes it");
            let ours = plain(schema.clone());
            assert_eq!(
                ours.is_valid(value),
                full.is_valid(value),
                "validity of {value} under {schema}"
            );
            let fields = |issues: Result<(), Vec<Issue>>| {
                let mut fields: Vec<String> = issues
                    .err()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|i| i.field)
                    .collect();
                fields.sort();
                fields.dedup();
                fields
            };
            assert_eq!(
                fields(ours.check(value)),
                fields(full.check(value)),
                "issue fields of {value} under {schema}"
            );
        }

        /// Each keyword's message is jsonschema's, word for word.
        #[test]
        fn messages_are_jsonschemas() {
            let mut differing = Vec::new();
            for (schema, value) in [
                (json!({ "type": "string" }), json!(1)),
                (json!({ "type": ["string", "null"] }), json!(1)),
                (json!({ "enum": ["a", "b"] }), json!("c")),
                (json!({ "enum": ["a"] }), json!("c")),
                (json!({ "enum": ["a", 1, null] }), json!("c")),
                (
                    json!({ "properties": { "a": {} }, "additionalProperties": false }),
                    json!({ "c": 1 }),
                ),
                (
                    json!({ "properties": { "a": {} }, "additionalProperties": false }),
                    json!({ "c": 1, "d": 2 }),
                ),
                (json!({ "const": "a" }), json!("c")),
                (json!({ "minLength": 2 }), json!("x")),
                (json!({ "minLength": 1 }), json!("")),
                (json!({ "maxLength": 1 }), json!("xyz")),
                (json!({ "minimum": 1 }), json!(0)),
                (json!({ "maximum": 1 }), json!(2.5)),
                (json!({ "exclusiveMinimum": 0 }), json!(-1)),
                (json!({ "exclusiveMaximum": 0 }), json!(0)),
                (json!({ "required": ["name"] }), json!({})),
                (json!({ "additionalProperties": false }), json!({ "c": 1 })),
                // (With two such members jsonschema reports the first only; this checker
                // reports each, at its field.)
                (json!({ "minProperties": 1 }), json!({})),
                (json!({ "maxProperties": 1 }), json!({ "a": 1, "b": 2 })),
                (json!({ "minItems": 1 }), json!([])),
                (json!({ "minItems": 2 }), json!([1])),
                (json!({ "maxItems": 1 }), json!([1, 2])),
                (json!({ "uniqueItems": true }), json!([1, 1.0])),
                (
                    json!({ "anyOf": [{ "type": "string" }, { "type": "null" }] }),
                    json!(1),
                ),
                (
                    json!({ "oneOf": [{ "type": "string" }, { "type": "null" }] }),
                    json!(1),
                ),
                (
                    json!({ "oneOf": [{ "type": "number" }, { "minimum": 0 }] }),
                    json!(1),
                ),
                (
                    json!({ "items": false, "prefixItems": [{}] }),
                    json!([1, 2]),
                ),
                (json!(false), json!("x")),
            ] {
                let full = crate::schema::compile(schema.clone(), "body").expect("compiles");
                let ours = plain(schema.clone());
                let messages = |issues: Result<(), Vec<Issue>>| -> Vec<String> {
                    issues
                        .err()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|i| i.message)
                        .collect()
                };
                let (ours, theirs) = (messages(ours.check(&value)), messages(full.check(&value)));
                if ours != theirs {
                    differing.push(format!(
                        "{value} under {schema}: {ours:?} against {theirs:?}"
                    ));
                }
            }
            assert!(differing.is_empty(), "{differing:#?}");
        }

        #[test]
        fn agrees_with_jsonschema_on_chosen_values() {
            let mut item_variants = vec![valid_item()];
            for (pointer, replacement) in [
                ("/name", json!("")),
                ("/name", json!("much too long")),
                ("/price", json!(0)),
                ("/price", json!("12")),
                ("/id", json!(9)),
                ("/id", json!(2.0)),
                ("/tags", json!(["a", "a"])),
                ("/kind", json!("Other")),
                ("/kind", json!({ "Named": {} })),
                ("/kind", json!({ "Counted": -1 })),
                ("/inner/name", json!(5)),
                ("/pair", json!([true])),
                ("/pair", json!([true, 1, 2])),
                ("/extra/k", json!(-1)),
            ] {
                let mut variant = valid_item();
                *variant.pointer_mut(pointer).expect("a field of the item") = replacement;
                item_variants.push(variant);
            }
            let mut missing = valid_item();
            missing.as_object_mut().expect("an object").remove("kind");
            item_variants.push(missing);
            for value in &item_variants {
                agree(&schema_of::<Item>(), value);
            }
            for value in [
                json!({ "a": 1 }),
                json!({ "a": 1, "b": null, "c": 2, "d": 3 }),
                json!({ "b": "x" }),
                json!([{ "a": 1 }, { "a": "1" }, 3]),
            ] {
                agree(&schema_of::<Closed>(), &value);
                agree(&schema_of::<Vec<Closed>>(), &value);
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(400))]

            #[test]
            fn agrees_with_jsonschema_on_any_value(value in value()) {
                for schema in schemas() {
                    agree(&schema, &value);
                }
            }
        }
    }
}
