//! Inlining local `$ref`s, so that schemas generated from different roots (each with its own
//! `$defs`) can be compared or combined: the workflow check puts one step's output next to the
//! next step's input, and their `$defs` may use the same name for different types.
//!
//! References are read the way [`resolve`](super::generator::resolve) reads them (the same
//! `#<defs path>/Name` form and the same depth limit); here every one is replaced, at any depth,
//! instead of only the one at the top.

use serde_json::{Map, Value};

use super::generator::{local_ref_name, DEFS_PATH, LEGACY_DEFS_PATH, MAX_REF_DEPTH};

/// `root` with every local `$ref` (`#/$defs/Name`, `#/definitions/Name`) replaced by its
/// definition and the definitions (and `$schema`) dropped. A recursive reference is cut after
/// [`MAX_REF_DEPTH`] levels or where it repeats: it then becomes `{}` (accepts anything), which
/// keeps the result finite and errs toward "fits" in a comparison.
pub(crate) fn inline_refs(root: &Value) -> Value {
    // A root written for draft-07 keeps its definitions under `definitions`; `$defs` wins when a
    // schema has both, as it is the 2020-12 place every schema here is generated with.
    let none = Map::new();
    let (defs, defs_path) = match (root.get("$defs"), root.get("definitions")) {
        (Some(Value::Object(defs)), _) => (defs, DEFS_PATH),
        (_, Some(Value::Object(defs))) => (defs, LEGACY_DEFS_PATH),
        _ => (&none, DEFS_PATH),
    };
    let inliner = Inliner { defs, defs_path };
    let mut out = inliner.inline(root, &mut Vec::new());
    if let Some(map) = out.as_object_mut() {
        map.remove("$schema");
    }
    out
}

/// The definitions references point into, and where they live.
struct Inliner<'a> {
    defs: &'a Map<String, Value>,
    defs_path: &'static str,
}

impl Inliner<'_> {
    /// `value` with its references replaced; `stack` holds the definitions being inlined (to cut
    /// recursion).
    fn inline(&self, value: &Value, stack: &mut Vec<String>) -> Value {
        match value {
            Value::Object(map) => {
                if let Some(resolved) = self.inline_ref(map, stack) {
                    return resolved;
                }
                Value::Object(
                    map.iter()
                        .filter(|(k, _)| !matches!(k.as_str(), "$defs" | "definitions"))
                        .map(|(k, v)| (k.clone(), self.inline(v, stack)))
                        .collect(),
                )
            }
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.inline(v, stack)).collect())
            }
            other => other.clone(),
        }
    }

    /// The definition `map`'s `$ref` points at, inlined, with the keywords next to the `$ref` (a
    /// description) applied too. `None` when `map` has no local reference to a known definition.
    fn inline_ref(&self, map: &Map<String, Value>, stack: &mut Vec<String>) -> Option<Value> {
        let reference = map.get("$ref")?.as_str()?;
        let name = local_ref_name(reference, self.defs_path)?;
        let definition = self.defs.get(name)?;
        if stack.len() >= MAX_REF_DEPTH || stack.iter().any(|s| s == name) {
            return Some(Value::Object(Map::new()));
        }
        stack.push(name.to_owned());
        let mut resolved = self.inline(definition, stack);
        stack.pop();
        if let Value::Object(target) = &mut resolved {
            for (k, v) in map.iter().filter(|(k, _)| k.as_str() != "$ref") {
                target.insert(k.clone(), self.inline(v, stack));
            }
        }
        Some(resolved)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn references_are_replaced_at_any_depth_and_definitions_dropped() {
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": { "days": { "type": "array", "items": { "$ref": "#/$defs/Day" } } },
            "$defs": { "Day": { "type": "object", "properties": { "t": { "$ref": "#/$defs/T" } } },
                       "T": { "type": "number" } }
        });
        assert_eq!(
            inline_refs(&root),
            json!({
                "type": "object",
                "properties": { "days": { "type": "array", "items": {
                    "type": "object", "properties": { "t": { "type": "number" } } } } }
            })
        );
    }

    #[test]
    fn keywords_next_to_a_reference_apply_and_legacy_definitions_are_read() {
        let root = json!({
            "properties": { "a": { "$ref": "#/definitions/A", "description": "an a" } },
            "definitions": { "A": { "type": "string" } }
        });
        assert_eq!(
            inline_refs(&root)["properties"]["a"],
            json!({ "type": "string", "description": "an a" })
        );
    }

    #[test]
    fn recursive_references_are_cut_and_unknown_ones_kept() {
        let list = json!({
            "$ref": "#/$defs/Node",
            "$defs": { "Node": { "type": "object", "properties": {
                "next": { "anyOf": [{ "$ref": "#/$defs/Node" }, { "type": "null" }] } } } }
        });
        let inlined = inline_refs(&list);
        assert_eq!(inlined["type"], "object");
        assert_eq!(inlined["properties"]["next"]["anyOf"][0], json!({}));
        let remote = json!({ "$ref": "https://example.com/schema" });
        assert_eq!(inline_refs(&remote), remote);
    }
}
