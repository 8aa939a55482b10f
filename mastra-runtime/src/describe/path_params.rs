//! Whether a handler's `Path<T>` fits its route's path parameters, checked when the server is
//! built (as dropshot does when a route is registered) rather than failing on every request.

use serde_json::{Map, Value};

use crate::schema::{
    generator::{object_properties, resolve, tuple_items, DEFS_PATH},
    standalone, SchemaFn,
};

/// How a `Path<T>` does not fit the path it serves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathParamsMismatch {
    /// A field `T` requires is not a parameter of the path.
    #[error("its Path<..> requires the field `{field}`, which is not a parameter of the path (parameters: {params})")]
    MissingField {
        /// The field.
        field: String,
        /// The path's parameters, comma-separated.
        params: String,
    },
    /// `T` refuses unknown fields and the path has a parameter it does not declare.
    #[error("its Path<..> does not accept the path parameter `{param}`")]
    UnknownParam {
        /// The parameter.
        param: String,
    },
    /// `T` reads parameters by position and their number differs from the path's.
    #[error("its Path<..> reads {expected} parameter(s) but the path has {found}")]
    Arity {
        /// How many `T` reads.
        expected: usize,
        /// How many the path has.
        found: usize,
    },
}

/// Checks the `Path<T>` whose schema is `path_schema` against the route's parameter names.
pub fn check_path_params(path_schema: SchemaFn, params: &[&str]) -> Result<(), PathParamsMismatch> {
    let root = standalone(path_schema);
    let empty = Map::new();
    let defs = root
        .get("$defs")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let target = resolve(&root, defs, DEFS_PATH);
    if let Some(properties) = object_properties(target) {
        if let Some((field, ..)) = properties
            .iter()
            .find(|(name, _, required)| *required && !params.contains(name))
        {
            return Err(PathParamsMismatch::MissingField {
                field: (*field).to_owned(),
                params: params.join(", "),
            });
        }
        let closed = target.get("additionalProperties") == Some(&Value::Bool(false));
        if let Some(param) = params
            .iter()
            .find(|param| closed && !properties.iter().any(|(name, ..)| name == *param))
        {
            return Err(PathParamsMismatch::UnknownParam {
                param: (*param).to_owned(),
            });
        }
        return Ok(());
    }
    let expected = match tuple_items(target) {
        Some(items) => items.len(),
        // A single value (`Path<String>`, `Path<u32>`).
        None => 1,
    };
    if expected == params.len() {
        Ok(())
    } else {
        Err(PathParamsMismatch::Arity {
            expected,
            found: params.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use schemars::JsonSchema;

    use super::*;
    use crate::schema::schema_fn;

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct ItemPath {
        item_id: String,
        part: Option<String>,
    }

    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        item_id: String,
    }

    #[test]
    fn fields_must_be_parameters_and_positions_must_add_up() {
        let check = |schema: SchemaFn, params: &[&str]| check_path_params(schema, params);
        assert_eq!(check(schema_fn::<ItemPath>(), &["item_id"]), Ok(()));
        assert_eq!(
            check(schema_fn::<ItemPath>(), &["item_id", "other"]),
            Ok(())
        );
        assert_eq!(
            check(schema_fn::<ItemPath>(), &["itemId"]),
            Err(PathParamsMismatch::MissingField {
                field: "item_id".into(),
                params: "itemId".into()
            })
        );
        assert_eq!(
            check(schema_fn::<Strict>(), &["item_id", "other"]),
            Err(PathParamsMismatch::UnknownParam {
                param: "other".into()
            })
        );
        assert_eq!(check(schema_fn::<String>(), &["id"]), Ok(()));
        assert_eq!(
            check(schema_fn::<String>(), &["a", "b"]),
            Err(PathParamsMismatch::Arity {
                expected: 1,
                found: 2
            })
        );
        assert_eq!(check(schema_fn::<(String, u32)>(), &["a", "b"]), Ok(()));
        assert_eq!(
            check(schema_fn::<(String, u32)>(), &["a"]),
            Err(PathParamsMismatch::Arity {
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            check(
                schema_fn::<std::collections::HashMap<String, String>>(),
                &["a", "b"]
            ),
            Ok(())
        );
    }
}
