//! JSON Schemas, in one place: how they are generated from Rust types (JSON Schema 2020-12;
//! `components/schemas` for the document, `$defs` for validators), how `$ref`s are followed and
//! inlined, how they are compiled into validators (tool and workflow input, built-in request
//! bodies, each route's body, query and path), and how a value that breaks one becomes Mastra's
//! error body: 400 `{"error":"Invalid request body","issues":[{"field","message"}]}`.
//!
//! One policy for a schema that does not compile: it is found when the server is built, and
//! the build fails naming what declared it (a route, a tool, a workflow step); nothing is
//! silently left unchecked.

mod compat;
pub mod generator;
mod refs;
mod request;

pub(crate) use compat::mismatches;
pub(crate) use refs::inline_refs;

pub use generator::{document_generator, schema_fn, standalone, SchemaFn};
pub use request::{is_json, Part, RequestSchemas, RequestValidator, SchemaError};

use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;

/// The `error` of a body that does not match its schema, as Mastra words it.
pub const INVALID_BODY_MESSAGE: &str = "Invalid request body";

/// One thing wrong with client input: where (a dotted path, empty for the whole value) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Issue {
    /// Dotted path of the offending value (`data.city`, `messages.0.role`), or empty.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl Issue {
    /// An issue at `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// This issue with `prefix.` before its field.
    pub fn under(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

/// 400 `{"error":"Invalid request body","issues":[...]}`.
pub fn invalid_body(issues: Vec<Issue>) -> ApiError {
    let issues = serde_json::to_value(issues).unwrap_or(Value::Null);
    ApiError::bad_request(INVALID_BODY_MESSAGE).with_field("issues", issues)
}

/// A compiled JSON Schema. Build it once (at startup) and validate many values.
///
/// ```
/// use mastra_runtime::{schemars::JsonSchema, schema::SchemaValidator};
/// #[derive(JsonSchema)]
/// #[schemars(crate = "mastra_runtime::schemars")]
/// #[allow(dead_code)]
/// struct City { #[schemars(length(min = 1))] name: String }
///
/// let v = SchemaValidator::for_type::<City>();
/// assert!(v.validate(&serde_json::json!({ "name": "Paris" })).is_ok());
/// let issues = v.validate(&serde_json::json!({ "name": "" })).unwrap_err();
/// assert_eq!(issues[0].field, "name");
/// ```
#[derive(Debug)]
pub struct SchemaValidator {
    schema: Value,
    validator: Option<jsonschema::Validator>,
}

impl SchemaValidator {
    /// Validates against `T`'s schema.
    pub fn for_type<T: JsonSchema>() -> Self {
        Self::new(schema_of::<T>())
    }

    /// Validates against `schema`. A schema that does not compile accepts everything and is
    /// logged: the typed deserialization that follows still guards the handler.
    pub fn new(schema: Value) -> Self {
        let validator = match jsonschema::validator_for(&schema) {
            Ok(v) => Some(v),
            Err(error) => {
                tracing::error!(%error, "a JSON Schema did not compile; its values are not validated");
                None
            }
        };
        Self { schema, validator }
    }

    /// The schema.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Every issue of `value`, or `Ok`.
    pub fn validate(&self, value: &Value) -> Result<(), Vec<Issue>> {
        let Some(validator) = &self.validator else {
            return Ok(());
        };
        let issues: Vec<Issue> = validator
            .iter_errors(value)
            .map(|error| {
                let mut field = pointer_to_dotted(error.instance_path().as_str());
                if let jsonschema::error::ValidationErrorKind::Required { property } = error.kind()
                {
                    let name = property
                        .as_str()
                        .map_or_else(|| property.to_string(), str::to_owned);
                    field = if field.is_empty() {
                        name
                    } else {
                        format!("{field}.{name}")
                    };
                }
                Issue::new(field, error.to_string())
            })
            .collect();
        if issues.is_empty() {
            Ok(())
        } else {
            Err(issues)
        }
    }
}

/// `T`'s JSON Schema as a standalone document (definitions inlined under `$defs`).
pub fn schema_of<T: JsonSchema>() -> Value {
    let schema: Schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
    schema.to_value()
}

/// `/messages/0/role` -> `messages.0.role`.
fn pointer_to_dotted(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

/// A deserialization error as one issue (serde reports only the first problem).
pub fn serde_issue(error: &serde_json::Error) -> Issue {
    Issue::new("", error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_dotted_fields() {
        assert_eq!(pointer_to_dotted(""), "");
        assert_eq!(pointer_to_dotted("/a/0/b~1c"), "a.0.b/c");
    }
}
