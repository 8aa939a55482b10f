//! Whether every value one schema allows is also accepted by another: a producer's output
//! schema against a consumer's input schema. Workflows ask it at `commit` for each step and what
//! comes before it; nothing in it is about workflows, so it lives with the other schema walks.
//!
//! The check is structural: types, required fields, `additionalProperties: false`, enums and
//! `const`, nullability, array items, tuples, and `anyOf`/`oneOf` alternatives. Value
//! constraints (lengths, ranges, patterns, formats) are not compared; every step's input is
//! also validated against its own schema when the step runs, which catches what a static check
//! cannot. A schema that says nothing (`true`, `{}`, a `serde_json::Value`) fits anything and
//! accepts anything. Both schemas are expected with their references inlined
//! ([`inline_refs`](super::refs::inline_refs)), since each comes from its own root.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// Every reason a value matching `producer` may not match `consumer` (both inlined), each as
/// "at `field.path`: what". Empty when every produced value fits structurally.
pub(crate) fn mismatches(producer: &Value, consumer: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(producer, consumer, "", &mut found);
    found
}

fn at(path: &str) -> String {
    if path.is_empty() {
        "the value".to_owned()
    } else {
        format!("field `{path}`")
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn alternatives(schema: &Value) -> Option<&Vec<Value>> {
    schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
}

/// `schema` without its `anyOf`/`oneOf`, merged into each alternative (schemars puts
/// descriptions and sometimes `type` next to them).
fn alternative_with_siblings(schema: &Value, alternative: &Value) -> Value {
    let (Some(outer), Some(inner)) = (schema.as_object(), alternative.as_object()) else {
        return alternative.clone();
    };
    let mut merged = inner.clone();
    for (k, v) in outer {
        if !matches!(k.as_str(), "anyOf" | "oneOf") && !merged.contains_key(k) {
            merged.insert(k.clone(), v.clone());
        }
    }
    Value::Object(merged)
}

/// Keywords that constrain a value's shape. A schema with none of them accepts anything.
const SHAPE_KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "prefixItems",
    "enum",
    "const",
    "anyOf",
    "oneOf",
    "allOf",
    "not",
];

fn accepts_anything(schema: &Value) -> bool {
    match schema {
        Value::Bool(b) => *b,
        Value::Object(map) => !SHAPE_KEYWORDS.iter().any(|k| map.contains_key(*k)),
        _ => true,
    }
}

/// The JSON types a schema allows, or `None` when it does not say.
fn types(schema: &Value) -> Option<BTreeSet<&'static str>> {
    const NAMES: [&str; 7] = [
        "null", "boolean", "object", "array", "number", "integer", "string",
    ];
    let canonical = |name: &str| NAMES.iter().copied().find(|n| *n == name);
    if let Some(values) = literals(schema) {
        return Some(values.iter().map(type_of).collect());
    }
    match schema.get("type") {
        Some(Value::String(t)) => canonical(t).map(|t| BTreeSet::from([t])),
        Some(Value::Array(ts)) => Some(
            ts.iter()
                .filter_map(|t| t.as_str())
                .filter_map(canonical)
                .collect(),
        ),
        _ => {
            if schema.get("properties").is_some() || schema.get("required").is_some() {
                Some(BTreeSet::from(["object"]))
            } else if schema.get("items").is_some() || schema.get("prefixItems").is_some() {
                Some(BTreeSet::from(["array"]))
            } else {
                None
            }
        }
    }
}

fn type_of(value: &Value) -> &'static str {
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

/// The only values a schema allows (`enum` or `const`), if it lists them.
fn literals(schema: &Value) -> Option<Vec<Value>> {
    if let Some(c) = schema.get("const") {
        return Some(vec![c.clone()]);
    }
    schema.get("enum").and_then(Value::as_array).cloned()
}

fn allows_type(allowed: &BTreeSet<&str>, t: &str) -> bool {
    allowed.contains(t) || (t == "integer" && allowed.contains("number"))
}

fn describe(set: &BTreeSet<&str>) -> String {
    set.iter().copied().collect::<Vec<_>>().join(" or ")
}

fn check(producer: &Value, consumer: &Value, path: &str, found: &mut Vec<String>) {
    if accepts_anything(consumer) || producer == &Value::Bool(false) {
        return;
    }
    if consumer == &Value::Bool(false) {
        found.push(format!("at {}: nothing is accepted", at(path)));
        return;
    }
    if let Some(alts) = alternatives(producer) {
        // Every shape the producer may give must fit.
        for alt in alts {
            check(
                &alternative_with_siblings(producer, alt),
                consumer,
                path,
                found,
            );
        }
        return;
    }
    if let Some(all) = producer.get("allOf").and_then(Value::as_array) {
        // Any conjunct that fits proves the whole fits.
        let fits = all
            .iter()
            .any(|part| mismatches_at(part, consumer, path).is_empty());
        if !fits && !all.is_empty() {
            found.extend(mismatches_at(&all[0], consumer, path));
        }
        return;
    }
    if accepts_anything(producer) {
        // The producer does not say what it gives (`serde_json::Value`): only run-time
        // validation can tell.
        return;
    }
    if let Some(alts) = alternatives(consumer) {
        let options: Vec<Vec<String>> = alts
            .iter()
            .map(|alt| mismatches_at(producer, &alternative_with_siblings(consumer, alt), path))
            .collect();
        if !options.iter().any(Vec::is_empty) {
            let closest = options.into_iter().min_by_key(Vec::len).unwrap_or_default();
            found.extend(closest);
        }
        return;
    }
    if let Some(all) = consumer.get("allOf").and_then(Value::as_array) {
        for part in all {
            check(producer, part, path, found);
        }
    }

    if let Some(wanted) = literals(consumer) {
        match literals(producer) {
            Some(given) => {
                let extra: Vec<String> = given
                    .iter()
                    .filter(|v| !wanted.contains(v))
                    .map(Value::to_string)
                    .collect();
                if !extra.is_empty() {
                    found.push(format!(
                        "at {}: {} may be given but only {} is accepted",
                        at(path),
                        extra.join(", "),
                        wanted
                            .iter()
                            .map(Value::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            None => found.push(format!(
                "at {}: only {} is accepted, but any {} may be given",
                at(path),
                wanted
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                types(producer).map_or_else(|| "value".to_owned(), |t| describe(&t))
            )),
        }
        return;
    }

    let produced = types(producer);
    let accepted = types(consumer);
    if let (Some(produced), Some(accepted)) = (&produced, &accepted) {
        let refused: BTreeSet<&str> = produced
            .iter()
            .copied()
            .filter(|t| !allows_type(accepted, t))
            .collect();
        if !refused.is_empty() {
            let message = if refused.len() == 1 && refused.contains("null") {
                format!(
                    "at {}: may be null (an `Option`), but {} is required",
                    at(path),
                    describe(accepted)
                )
            } else {
                format!(
                    "at {}: {} is expected, but {} may be given",
                    at(path),
                    describe(accepted),
                    describe(&refused)
                )
            };
            found.push(message);
            return;
        }
    }
    let both = |t: &str| {
        produced.as_ref().is_none_or(|p| p.contains(t))
            && accepted.as_ref().is_none_or(|a| a.contains(t))
    };
    if both("object") {
        check_object(producer, consumer, path, found);
    }
    if both("array") {
        check_array(producer, consumer, path, found);
    }
}

fn mismatches_at(producer: &Value, consumer: &Value, path: &str) -> Vec<String> {
    let mut found = Vec::new();
    check(producer, consumer, path, &mut found);
    found
}

fn names(schema: &Value, key: &str) -> BTreeSet<String> {
    schema
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn check_object(producer: &Value, consumer: &Value, path: &str, found: &mut Vec<String>) {
    let empty = Map::new();
    let p_props = producer
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let c_props = consumer
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let p_required = names(producer, "required");
    for name in names(consumer, "required") {
        if p_required.contains(&name) {
            continue;
        }
        let field = join(path, &name);
        if p_props.contains_key(&name) {
            found.push(format!(
                "at field `{field}`: required, but it is optional in what is given"
            ));
        } else {
            found.push(format!("at field `{field}`: required, but never given"));
        }
    }
    for (name, c_schema) in c_props {
        if let Some(p_schema) = p_props.get(name) {
            check(p_schema, c_schema, &join(path, name), found);
        }
    }
    match consumer.get("additionalProperties") {
        Some(Value::Bool(false)) => {
            for name in p_props.keys().filter(|n| !c_props.contains_key(*n)) {
                found.push(format!(
                    "at field `{}`: given, but unknown fields are refused",
                    join(path, name)
                ));
            }
        }
        Some(extra @ Value::Object(_)) => {
            for (name, p_schema) in p_props.iter().filter(|(n, _)| !c_props.contains_key(*n)) {
                check(p_schema, extra, &join(path, name), found);
            }
            if let Some(p_extra @ Value::Object(_)) = producer.get("additionalProperties") {
                check(p_extra, extra, &join(path, "*"), found);
            }
        }
        _ => {}
    }
}

fn check_array(producer: &Value, consumer: &Value, path: &str, found: &mut Vec<String>) {
    let item_path = join(path, "[]");
    match (producer.get("prefixItems"), consumer.get("prefixItems")) {
        (Some(Value::Array(p)), Some(Value::Array(c))) => {
            for (i, (p_item, c_item)) in p.iter().zip(c).enumerate() {
                check(p_item, c_item, &join(path, &i.to_string()), found);
            }
            if p.len() < c.len() {
                found.push(format!(
                    "at {}: {} items are expected, but only {} are given",
                    at(path),
                    c.len(),
                    p.len()
                ));
            }
            return;
        }
        (Some(Value::Array(p)), None) => {
            if let Some(c_items) = consumer.get("items") {
                for (i, p_item) in p.iter().enumerate() {
                    check(p_item, c_items, &join(path, &i.to_string()), found);
                }
            }
            return;
        }
        _ => {}
    }
    if let (Some(p_items), Some(c_items)) = (producer.get("items"), consumer.get("items")) {
        check(p_items, c_items, &item_path, found);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::refs::inline_refs;

    fn ok(p: Value, c: Value) {
        let found = mismatches(&inline_refs(&p), &inline_refs(&c));
        assert!(found.is_empty(), "{p} should fit {c}: {found:?}");
    }

    fn bad(p: Value, c: Value, needle: &str) {
        let found = mismatches(&inline_refs(&p), &inline_refs(&c));
        assert!(
            found.iter().any(|m| m.contains(needle)),
            "{p} should not fit {c} ({needle}); found {found:?}"
        );
    }

    #[test]
    fn same_object_fits_and_missing_required_field_does_not() {
        let a =
            json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]});
        ok(a.clone(), a.clone());
        ok(a.clone(), json!({"type":"object","properties":{}}));
        bad(
            json!({"type":"object","properties":{"town":{"type":"string"}},"required":["town"]}),
            a.clone(),
            "field `city`: required, but never given",
        );
        bad(
            json!({"type":"object","properties":{"city":{"type":["string","null"]}}}),
            a,
            "optional",
        );
    }

    #[test]
    fn types_nullability_integers_and_enums() {
        ok(json!({"type":"integer"}), json!({"type":"number"}));
        bad(
            json!({"type":"number"}),
            json!({"type":"integer"}),
            "integer is expected",
        );
        bad(
            json!({"type":["string","null"]}),
            json!({"type":"string"}),
            "may be null",
        );
        ok(json!({"type":"string"}), json!({"type":["string","null"]}));
        ok(json!({"enum":["a"]}), json!({"enum":["a","b"]}));
        bad(
            json!({"enum":["a","c"]}),
            json!({"enum":["a","b"]}),
            "\"c\"",
        );
        bad(json!({"type":"string"}), json!({"const":"x"}), "only \"x\"");
    }

    #[test]
    fn nested_refs_arrays_and_closed_objects() {
        let producer = json!({
            "type":"object","required":["days"],
            "properties":{"days":{"type":"array","items":{"$ref":"#/$defs/Day"}}},
            "$defs":{"Day":{"type":"object","required":["t"],"properties":{"t":{"type":"number"}}}}
        });
        let consumer = json!({
            "type":"object","required":["days"],
            "properties":{"days":{"type":"array","items":{"$ref":"#/$defs/D"}}},
            "$defs":{"D":{"type":"object","required":["t"],"properties":{"t":{"type":"string"}}}}
        });
        bad(
            producer.clone(),
            consumer,
            "field `days.[].t`: string is expected",
        );
        ok(producer.clone(), producer.clone());
        bad(
            producer,
            json!({"type":"object","properties":{},"additionalProperties":false}),
            "unknown fields are refused",
        );
    }

    #[test]
    fn alternatives_each_produced_shape_must_fit_one_accepted_shape() {
        let either = json!({"anyOf":[{"type":"string"},{"type":"integer"}]});
        ok(json!({"type":"string"}), either.clone());
        ok(either.clone(), json!({"type":["string","number"]}));
        bad(either.clone(), json!({"type":"string"}), "integer");
        bad(json!({"type":"boolean"}), either, "boolean");
    }

    #[test]
    fn untyped_schemas_accept_and_give_anything() {
        ok(json!(true), json!({"type":"object","required":["x"]}));
        ok(json!({"type":"object"}), json!({}));
    }

    #[test]
    fn recursive_refs_are_cut() {
        let list = json!({
            "$ref":"#/$defs/Node",
            "$defs":{"Node":{"type":"object","properties":{"next":{"anyOf":[{"$ref":"#/$defs/Node"},{"type":"null"}]}}}}
        });
        let inlined = inline_refs(&list);
        assert_eq!(inlined["type"], "object");
        ok(list.clone(), list);
    }
}
