//! Validation whose cost does not grow with the number of failing items.
//!
//! jsonschema collects every error before handing back the first one, and an `anyOf` or `oneOf`
//! error keeps the errors of each branch (with an owned copy of the instance for each). A body
//! of a million invalid items therefore cost gigabytes, and every message quoted its whole
//! instance. Here a value is first tested with `is_valid` (the common case pays nothing more);
//! a failing value small enough ([`SMALL_VALUE_NODES`](super::SMALL_VALUE_NODES)) has its errors collected as before; a
//! larger one is walked along its schema (`$ref`, `allOf`, the one `anyOf`/`oneOf` branch its
//! type fits, `properties`, `additionalProperties`, `items`, `prefixItems`), each part checked
//! with a validator compiled for that sub-schema on first use, until [`MAX_ISSUES`](super::MAX_ISSUES) issues are
//! listed. Past that the walk only counts failing values (no allocation per value) and the list
//! ends with one issue saying how many more there are. Messages quote at most
//! [`MAX_EXCERPT_BYTES`](super::MAX_EXCERPT_BYTES) of the instance.

use std::{
    collections::HashMap,
    fmt::Write as _,
    sync::{Arc, Mutex, PoisonError},
};

use jsonschema::{error::ValidationErrorKind, paths::LocationSegment, ValidationError, Validator};
use serde_json::{Map, Value};

use super::{
    report::{bounded, excerpt, Field, Segment, Sink, MAX_MESSAGE_BYTES, SMALL_VALUE_NODES},
    Issue, SchemaError,
};

/// `$ref`s followed in a row without going into the value: a schema that refers to itself
/// without consuming anything is reported instead of followed forever.
const MAX_REF_HOPS: usize = 32;

/// Where the sub-schema built for a walk goes in the document compiled around it.
const PART_KEY: &str = "__mastra_part";

/// Keywords whose errors say something about the value's members or items one by one; a
/// schema with them is checked for its first error only when the value is large.
const NESTED_KEYWORDS: [&str; 7] = [
    "not",
    "if",
    "contains",
    "propertyNames",
    "dependentSchemas",
    "patternProperties",
    "additionalItems",
];

/// A compiled schema that can also check its parts on their own: the validator of the whole,
/// the schema it came from, and validators for sub-schemas compiled on first use.
#[derive(Debug)]
pub(crate) struct CheckedSchema {
    validator: Validator,
    schema: Value,
    parts: Mutex<HashMap<String, Option<Arc<Validator>>>>,
}

impl CheckedSchema {
    /// Compiles `schema` (named `part` in the error) with jsonschema.
    pub(crate) fn compile(schema: Value, part: &'static str) -> Result<Self, SchemaError> {
        Ok(Self {
            validator: validator(&schema, part)?,
            schema,
            parts: Mutex::new(HashMap::new()),
        })
    }

    /// Whether `value` is valid (nothing collected).
    pub(crate) fn is_valid(&self, value: &Value) -> bool {
        self.validator.is_valid(value)
    }

    /// Every issue of `value` (at most [`MAX_ISSUES`](super::MAX_ISSUES), then one counting the rest), or `Ok`.
    pub(crate) fn check(&self, value: &Value) -> Result<(), Vec<Issue>> {
        // The quick test first: valid values, the common case, skip collecting errors.
        if self.validator.is_valid(value) {
            return Ok(());
        }
        let mut sink = Sink::default();
        if is_small(value) {
            collect(&mut sink, &self.validator, value, &[]);
        } else {
            let mut walk = Walk {
                schema: self,
                sink: &mut sink,
                path: Vec::new(),
            };
            walk.value(&self.schema, "", value, 0);
        }
        Err(sink.into_issues())
    }

    /// The validator of the sub-schema at `pointer`, compiled on first use; `None` when it
    /// cannot be compiled on its own (a reference that leaves the definitions, for example).
    fn part(&self, pointer: &str, schema: &Value) -> Option<Arc<Validator>> {
        if pointer.is_empty() {
            return None;
        }
        let mut parts = self.parts.lock().unwrap_or_else(PoisonError::into_inner);
        // Looked up by `&str` first: a walk asks for the same part once per item.
        if let Some(compiled) = parts.get(pointer) {
            return compiled.clone();
        }
        let compiled = compile_part(&self.schema, schema).map(Arc::new);
        parts.insert(pointer.to_owned(), compiled.clone());
        compiled
    }

    /// Whether `value` fits the sub-schema at `pointer` (`None`: it cannot be told alone).
    fn fits(&self, pointer: &str, schema: &Value, value: &Value) -> Option<bool> {
        if pointer.is_empty() {
            return Some(self.validator.is_valid(value));
        }
        match schema {
            Value::Bool(accepts) => Some(*accepts),
            _ => self.part(pointer, schema).map(|v| v.is_valid(value)),
        }
    }
}

/// Compiles `schema` (named `part` in the error). Every jsonschema validator here is built by
/// this one function, so a schema means the same wherever it is checked. The draft is read from
/// `$schema`, JSON Schema 2020-12 without one (what the generators write).
fn validator(schema: &Value, part: &'static str) -> Result<Validator, SchemaError> {
    jsonschema::options()
        .build(schema)
        .map_err(|error| SchemaError {
            part,
            reason: error.to_string(),
        })
}

/// Compiles `part` as a schema of its own, inside a document that keeps the root's
/// definitions, so its `$ref`s into `$defs` (what the generators write) still resolve.
fn compile_part(root: &Value, part: &Value) -> Option<Validator> {
    let mut document = Map::new();
    let mut defs = Map::new();
    if let Some(root) = root.as_object() {
        for key in ["$schema", "$id", "definitions"] {
            if let Some(value) = root.get(key) {
                document.insert(key.to_owned(), value.clone());
            }
        }
        if let Some(Value::Object(root_defs)) = root.get("$defs") {
            defs.clone_from(root_defs);
        }
    }
    defs.insert(PART_KEY.to_owned(), part.clone());
    document.insert("$defs".to_owned(), Value::Object(defs));
    document.insert(
        "$ref".to_owned(),
        Value::from(format!("#/$defs/{PART_KEY}")),
    );
    let document = Value::Object(document);
    match validator(&document, "part") {
        Ok(validator) => Some(validator),
        Err(error) => {
            tracing::debug!(%error, "a sub-schema cannot be compiled on its own");
            None
        }
    }
}

/// Whether `value` has at most [`SMALL_VALUE_NODES`](super::SMALL_VALUE_NODES) values in it (counting stops there).
fn is_small(value: &Value) -> bool {
    let mut budget = SMALL_VALUE_NODES;
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        if budget == 0 {
            return false;
        }
        budget -= 1;
        // Checked before stacking, so a wide array is not copied onto the stack to be counted.
        let width = match value {
            Value::Array(items) => items.len(),
            Value::Object(entries) => entries.len(),
            _ => 0,
        };
        if width > budget {
            return false;
        }
        match value {
            Value::Array(items) => pending.extend(items),
            Value::Object(entries) => pending.extend(entries.values()),
            _ => {}
        }
    }
    true
}

/// Collects `validator`'s errors for `value` (small, or checked by keywords that report
/// once), each under `path`.
fn collect(sink: &mut Sink, validator: &Validator, value: &Value, path: &[Segment<'_>]) {
    for error in validator.iter_errors(value) {
        sink.add(|| issue(&error, path));
    }
}

/// One validation error as an issue under `prefix`: the instance path, dotted; a missing
/// property is reported at its own field (`city`), not at the object that lacks it. The
/// message quotes an excerpt of the instance, never all of it.
fn issue(error: &ValidationError<'_>, prefix: &[Segment<'_>]) -> Issue {
    let mut field = Field::at(prefix);
    for segment in error.instance_path().segments() {
        match segment {
            LocationSegment::Property(name) => field.push(name),
            LocationSegment::Index(index) => field.push(index),
        }
    }
    if let ValidationErrorKind::Required { property } = error.kind() {
        match property.as_str() {
            Some(name) => field.push(name),
            None => field.push(property),
        }
    }
    let message = bounded(MAX_MESSAGE_BYTES, |w| {
        write!(w, "{}", error.masked_with(excerpt(error.instance())))
    });
    Issue::new(field.into_string(), message)
}

/// A walk of a large failing value along its schema.
struct Walk<'s, 'v> {
    schema: &'s CheckedSchema,
    sink: &'s mut Sink,
    path: Vec<Segment<'v>>,
}

impl<'s, 'v> Walk<'s, 'v> {
    /// Checks `value` against `schema`, found at `pointer` in the root schema ("" for the
    /// root). `hops` counts `$ref`s followed since the walk last went into the value.
    fn value(&mut self, schema: &'s Value, pointer: &str, value: &'v Value, hops: usize) {
        match self.schema.fits(pointer, schema, value) {
            Some(true) => return,
            Some(false) if self.sink.full() => {
                // Counting only: each further failing value once, nothing allocated for it.
                self.sink.more += 1;
                return;
            }
            Some(false) => {}
            None => return self.whole(value, "does not match its schema"),
        }
        let Value::Object(keywords) = schema else {
            return self.whole(value, "is not allowed here");
        };
        if is_small(value) {
            return match self.schema.part(pointer, schema) {
                Some(validator) => collect(self.sink, &validator, value, &self.path),
                None if pointer.is_empty() => {
                    collect(self.sink, &self.schema.validator, value, &self.path)
                }
                None => self.whole(value, "does not match its schema"),
            };
        }
        if ["unevaluatedProperties", "unevaluatedItems", "$dynamicRef"]
            .iter()
            .any(|k| keywords.contains_key(*k))
        {
            // What these accept depends on every other keyword at once: not split.
            return self.whole(value, "does not match its schema");
        }
        if let Some(Value::String(reference)) = keywords.get("$ref") {
            match self.reference(reference) {
                Some((target, target_pointer)) if hops < MAX_REF_HOPS => {
                    self.value(target, &target_pointer, value, hops + 1);
                }
                _ => self.whole(value, "does not match its schema"),
            }
        }
        if let Some(Value::Array(members)) = keywords.get("allOf") {
            for (i, member) in members.iter().enumerate() {
                self.value(member, &format!("{pointer}/allOf/{i}"), value, hops);
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = keywords.get(keyword) {
                self.alternatives(keyword, branches, pointer, value, hops);
            }
        }
        self.own_keywords(keywords, pointer, value);
        self.members(keywords, pointer, value);
    }

    /// The root schema's sub-schema that `reference` names, with its pointer (local
    /// references only: `#`, `#/$defs/...`, `#/definitions/...`, any JSON pointer).
    fn reference(&self, reference: &str) -> Option<(&'s Value, String)> {
        let pointer = reference.strip_prefix('#')?;
        let target = if pointer.is_empty() {
            &self.schema.schema
        } else {
            self.schema.schema.pointer(pointer)?
        };
        Some((target, pointer.to_owned()))
    }

    /// `anyOf`/`oneOf`: fine when the right number of branches accept the value; else the
    /// one branch the value's type fits is walked, or one issue names the keyword.
    fn alternatives(
        &mut self,
        keyword: &str,
        branches: &'s [Value],
        pointer: &str,
        value: &'v Value,
        hops: usize,
    ) {
        let pointers: Vec<String> = (0..branches.len())
            .map(|i| format!("{pointer}/{keyword}/{i}"))
            .collect();
        let fitting = branches
            .iter()
            .zip(&pointers)
            .filter(|(branch, p)| self.schema.fits(p, branch, value) == Some(true))
            .count();
        match (keyword, fitting) {
            (_, 0) => {}
            ("oneOf", n) if n > 1 => {
                return self.whole(
                    value,
                    "is valid under more than one of the schemas listed in the 'oneOf' keyword",
                )
            }
            _ => return,
        }
        let kind = json_type(value);
        let mut candidates = branches
            .iter()
            .zip(&pointers)
            .filter(|(branch, _)| self.admits_type(branch, kind, 0));
        match (candidates.next(), candidates.next()) {
            (Some((branch, p)), None) => self.value(branch, p, value, hops),
            _ => self.whole(
                value,
                &format!("is not valid under any of the schemas listed in the '{keyword}' keyword"),
            ),
        }
    }

    /// Whether `schema` could accept a value of type `kind`, from its `type`, `const` and
    /// `enum` (and those of what it refers to); unknown means yes.
    fn admits_type(&self, schema: &Value, kind: &str, hops: usize) -> bool {
        let Value::Object(keywords) = schema else {
            return schema.as_bool().unwrap_or(true);
        };
        if let Some(Value::String(reference)) = keywords.get("$ref") {
            if let Some((target, _)) = self.reference(reference) {
                if hops < MAX_REF_HOPS && !self.admits_type(target, kind, hops + 1) {
                    return false;
                }
            }
        }
        let named = |name: &str| name == kind || (name == "number" && kind == "integer");
        match keywords.get("type") {
            Some(Value::String(name)) if !named(name) => return false,
            Some(Value::Array(names)) if !names.iter().filter_map(Value::as_str).any(named) => {
                return false
            }
            _ => {}
        }
        if let Some(constant) = keywords.get("const") {
            return json_type(constant) == kind;
        }
        if let Some(Value::Array(options)) = keywords.get("enum") {
            return options.iter().any(|option| json_type(option) == kind);
        }
        true
    }

    /// The keywords about the value itself (`type`, `required`, bounds, ...), with the
    /// sub-schemas of members and items set to `true`: those are walked one by one after.
    fn own_keywords(&mut self, keywords: &'s Map<String, Value>, pointer: &str, value: &'v Value) {
        let mut own = keywords.clone();
        for applicator in ["$ref", "allOf", "anyOf", "oneOf", "$defs", "definitions"] {
            own.remove(applicator);
        }
        if let Some(Value::Object(properties)) = own.get_mut("properties") {
            properties.values_mut().for_each(|p| *p = Value::Bool(true));
        }
        if !own.contains_key("patternProperties") {
            if let Some(extra @ Value::Object(_)) = own.get_mut("additionalProperties") {
                *extra = Value::Bool(true);
            }
        }
        match own.get_mut("items") {
            Some(Value::Array(items)) => items.iter_mut().for_each(|i| *i = Value::Bool(true)),
            Some(items @ Value::Object(_)) => *items = Value::Bool(true),
            _ => {}
        }
        if let Some(Value::Array(prefix)) = own.get_mut("prefixItems") {
            prefix.iter_mut().for_each(|i| *i = Value::Bool(true));
        }
        let nested = NESTED_KEYWORDS.iter().any(|k| own.contains_key(*k));
        let own = Value::Object(own);
        let Some(validator) = self.schema.part(&format!("{pointer}/(own)"), &own) else {
            return self.whole(value, "does not match its schema");
        };
        if validator.is_valid(value) {
            return;
        }
        if nested {
            // Errors that could be one per member or item: the first is enough.
            if let Err(error) = validator.validate(value) {
                self.sink.add(|| issue(&error, &self.path));
            }
        } else {
            collect(self.sink, &validator, value, &self.path);
        }
    }

    /// Walks each member or item that has a sub-schema of its own.
    fn members(&mut self, keywords: &'s Map<String, Value>, pointer: &str, value: &'v Value) {
        match value {
            Value::Object(entries) => {
                let properties = keywords.get("properties").and_then(Value::as_object);
                // With `patternProperties` the other members are left to the own keywords.
                let extra = match keywords.get("additionalProperties") {
                    Some(extra @ Value::Object(_))
                        if !keywords.contains_key("patternProperties") =>
                    {
                        Some(extra)
                    }
                    _ => None,
                };
                let extra_pointer = format!("{pointer}/additionalProperties");
                for (key, member) in entries {
                    self.path.push(Segment::Key(key));
                    if let Some(schema) = properties.and_then(|p| p.get(key)) {
                        let member_pointer = format!("{pointer}/properties/{}", escape(key));
                        self.value(schema, &member_pointer, member, 0);
                    } else if let Some(extra) = extra {
                        self.value(extra, &extra_pointer, member, 0);
                    }
                    self.path.pop();
                }
            }
            Value::Array(items) => {
                let (prefix, prefix_key, rest, rest_key) =
                    match (keywords.get("prefixItems"), keywords.get("items")) {
                        (Some(Value::Array(prefix)), rest) => {
                            (prefix.as_slice(), "prefixItems", rest, "items")
                        }
                        (None, Some(Value::Array(prefix))) => (
                            prefix.as_slice(),
                            "items",
                            keywords.get("additionalItems"),
                            "additionalItems",
                        ),
                        (_, rest) => (&[][..], "", rest, "items"),
                    };
                let rest = rest.filter(|schema| schema.is_object());
                let rest_pointer = format!("{pointer}/{rest_key}");
                for (index, item) in items.iter().enumerate() {
                    self.path.push(Segment::Index(index));
                    if let Some(schema) = prefix.get(index) {
                        self.value(schema, &format!("{pointer}/{prefix_key}/{index}"), item, 0);
                    } else if let Some(schema) = rest {
                        self.value(schema, &rest_pointer, item, 0);
                    }
                    self.path.pop();
                }
            }
            _ => {}
        }
    }

    /// One issue about the whole value at the current path.
    fn whole(&mut self, value: &Value, what: &str) {
        let path = &self.path;
        self.sink.add(|| {
            Issue::new(
                Field::at(path).into_string(),
                bounded(MAX_MESSAGE_BYTES, |w| {
                    write!(w, "{} {what}", excerpt(value))
                }),
            )
        });
    }
}

/// A member name as a JSON pointer token.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// JSON Schema's name for the type of `value`.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{MAX_EXCERPT_BYTES, MAX_ISSUES};
    fn checked(schema: Value) -> CheckedSchema {
        CheckedSchema::compile(schema, "body").expect("compiles")
    }

    fn fields(issues: &[Issue]) -> Vec<&str> {
        issues.iter().map(|i| i.field.as_str()).collect()
    }

    /// A message-list schema the way schemars writes an untagged enum: a string, or items
    /// defined under `$defs`.
    fn messages_schema() -> CheckedSchema {
        checked(json!({
            "type": "object",
            "required": ["messages"],
            "properties": { "messages": { "$ref": "#/$defs/Input" } },
            "$defs": {
                "Input": { "anyOf": [
                    { "type": "string" },
                    { "type": "array", "items": { "$ref": "#/$defs/Message" } }
                ] },
                "Message": {
                    "type": "object",
                    "required": ["role", "content"],
                    "properties": {
                        "role": { "enum": ["user", "assistant"] },
                        "content": { "type": "string" }
                    }
                }
            }
        }))
    }

    #[test]
    fn many_failing_items_list_the_first_issues_and_count_the_rest() {
        let items = vec![json!({}); 1000];
        let issues = messages_schema()
            .check(&json!({ "messages": items }))
            .unwrap_err();
        assert_eq!(issues.len(), MAX_ISSUES + 1, "{issues:?}");
        // The walk went into the array branch of the `anyOf` (the only one an array fits).
        assert_eq!(
            fields(&issues[..4]),
            [
                "messages.0.role",
                "messages.0.content",
                "messages.1.role",
                "messages.1.content"
            ]
        );
        assert_eq!(issues[0].message, "\"role\" is a required property");
        // Ten items listed (two issues each), the other 990 counted once each.
        let rest = &issues[MAX_ISSUES];
        assert_eq!(rest.field, "");
        assert_eq!(
            rest.message,
            "990 more invalid values not listed (the first 20 issues are)"
        );
    }

    #[test]
    fn small_values_keep_every_issue_and_valid_ones_pass() {
        let schema = messages_schema();
        schema
            .check(&json!({ "messages": [{ "role": "user", "content": "hi" }] }))
            .unwrap();
        schema.check(&json!({ "messages": "hi" })).unwrap();
        let issues = schema.check(&json!({})).unwrap_err();
        assert_eq!(fields(&issues), ["messages"]);
    }

    #[test]
    fn messages_quote_an_excerpt_of_the_instance() {
        let schema = checked(json!({ "type": "object" }));
        let long = "é".repeat(10_000);
        let issues = schema.check(&json!([long])).unwrap_err();
        assert_eq!(issues.len(), 1);
        let message = &issues[0].message;
        assert!(message.len() < MAX_EXCERPT_BYTES + 40, "{message}");
        assert!(message.starts_with("[\"éé"), "{message}");
        assert!(
            message.ends_with("é… is not of type \"object\""),
            "{message}"
        );

        // A large array: the walk reports the whole value once, with an excerpt too.
        let issues = schema.check(&json!(vec![0; 100_000])).unwrap_err();
        assert_eq!(issues.len(), 1);
        assert!(issues[0].message.len() < MAX_MESSAGE_BYTES, "{issues:?}");
    }

    #[test]
    fn excerpts_are_cut_on_a_character_boundary() {
        let text = "aé".repeat(100);
        let cut = bounded(5, |w| w.write_str(&text));
        // "aéa" is 4 bytes; the next "é" would pass 5.
        assert_eq!(cut, "aéa…");
        assert_eq!(bounded(5, |w| w.write_str("abc")), "abc");
    }

    #[test]
    fn alternatives_no_branch_fits_by_type_are_one_issue() {
        let schema = checked(json!({
            "oneOf": [{ "type": "array", "items": { "type": "string" } },
                      { "type": "array", "items": { "type": "integer" } }]
        }));
        let issues = schema.check(&json!(vec![json!(null); 1000])).unwrap_err();
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert!(
            issues[0]
                .message
                .ends_with("is not valid under any of the schemas listed in the 'oneOf' keyword"),
            "{issues:?}"
        );
    }

    #[test]
    fn a_reference_to_itself_ends() {
        let schema = checked(json!({
            "$defs": { "Loop": { "$ref": "#/$defs/Loop", "type": "string" } },
            "$ref": "#/$defs/Loop"
        }));
        let issues = schema.check(&json!(vec![1; 1000])).unwrap_err();
        assert!(
            !issues.is_empty() && issues.len() <= MAX_ISSUES + 1,
            "{issues:?}"
        );
    }

    #[test]
    fn members_are_walked_by_property_and_additional_properties() {
        let schema = checked(json!({
            "type": "object",
            "properties": { "name": { "type": "string", "minLength": 1 } },
            "additionalProperties": { "type": "integer" }
        }));
        let mut value = Map::new();
        value.insert("name".to_owned(), json!(""));
        for i in 0..500 {
            value.insert(format!("k{i}"), json!(i));
        }
        value.insert("bad".to_owned(), json!("x"));
        let issues = schema.check(&Value::Object(value)).unwrap_err();
        assert_eq!(fields(&issues), ["name", "bad"], "{issues:?}");
    }
}
