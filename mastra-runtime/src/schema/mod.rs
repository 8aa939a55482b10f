//! JSON Schemas, in one place: how they are generated from Rust types (JSON Schema 2020-12;
//! `components/schemas` for the document, `$defs` for validators), how `$ref`s are followed and
//! inlined, how they are compiled into validators (tool and workflow input, built-in request
//! bodies, each route's body, query and path), and how a value that breaks one becomes Mastra's
//! error body: 400 `{"error":"Invalid request body","issues":[{"field","message"}]}`.
//!
//! One policy for a schema that does not compile: it is found when the server is built, and
//! the build fails naming what declared it (a route, a tool, a workflow step); nothing is
//! silently left unchecked.

#[cfg(feature = "validation")]
mod bounded;
#[cfg(feature = "workflows")]
mod compat;
mod depth;
mod fast;
#[cfg(feature = "agents")]
mod finite;
pub mod generator;
mod items;
mod keywords;
// Compiled in every build so its tests can hold it to jsonschema; used without `validation`.
#[cfg_attr(feature = "validation", allow(dead_code))]
mod plain;
#[cfg(feature = "workflows")]
mod refs;
mod report;
mod request;
mod text;
#[cfg(feature = "agents")]
mod typed;

// Schema walks and typed-function erasure for tools and workflows.
#[cfg(feature = "workflows")]
pub(crate) use compat::mismatches;
#[cfg(feature = "workflows")]
pub(crate) use refs::inline_refs;
#[cfg(feature = "agents")]
pub(crate) use typed::{erase, CallError, ErasedFn};

#[cfg(feature = "validation")]
pub(crate) use bounded::CheckedSchema;
pub(crate) use fast::QuickSchema;
#[cfg(not(feature = "validation"))]
pub(crate) use plain::CheckedSchema;
pub(crate) use report::short_message;

pub use depth::{check_depth, check_text_depth, nesting_depth, TooDeep, MAX_JSON_DEPTH};
pub use generator::{document_generator, schema_fn, standalone, SchemaFn};
pub use items::{check_text_items, TooManyItems, MAX_JSON_ITEMS};
pub use report::{MAX_EXCERPT_BYTES, MAX_ISSUES, MAX_MESSAGE_BYTES, SMALL_VALUE_NODES};
pub use request::{is_json, Part, RequestSchemas, RequestValidator};
pub use text::{check_text, TextTooLarge};

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

/// Issues as one line of text: each as its `Display` (`field: message`), joined by `; `.
#[cfg(feature = "workflows")]
pub(crate) fn issues_text(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(Issue::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl std::fmt::Display for Issue {
    /// `field: message`, or the message alone when it is about the whole value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// 400 `{"error":"Invalid request body","issues":[...]}`.
pub fn invalid_body(issues: Vec<Issue>) -> ApiError {
    let issues = serde_json::to_value(issues).unwrap_or(Value::Null);
    ApiError::bad_request(INVALID_BODY_MESSAGE).with_field("issues", issues)
}

/// A schema that could not be compiled into a validator (for example a `pattern` that is not a
/// valid regular expression). Found when the server is built: a route's fails the route table,
/// a tool's fails [`MastraBuilder::build`](crate::MastraBuilder::build), a step's or workflow's
/// fails [`WorkflowBuilder::commit`](crate::workflow::WorkflowBuilder::commit).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {part} schema cannot be used for validation: {reason}")]
pub struct SchemaError {
    /// Which schema: `body`, `query` or `path` for a route, `input` for a
    /// [`SchemaValidator`] (a tool's, a step's or a workflow's input).
    pub part: &'static str,
    /// The compiler's message.
    pub reason: String,
}

/// Compiles `schema` (named `part` in the error). Every validator here is built by this one
/// function, so a schema means the same wherever it is checked: with the `validation` feature,
/// by jsonschema (every keyword of the draft `$schema` names, JSON Schema 2020-12 without one);
/// without it, by the plain checker (`plain`: the keywords the generators write), which
/// refuses a schema with any other validation keyword here, when the server is built.
pub(crate) fn compile(schema: Value, part: &'static str) -> Result<CheckedSchema, SchemaError> {
    CheckedSchema::compile(schema, part)
}

/// A compiled JSON Schema. Build it once (at startup) and validate many values. With the
/// `validation` feature jsonschema checks it (every keyword); without it the plain checker does,
/// and a schema with a keyword only jsonschema checks (`pattern`, `not`, ...) does not compile
/// (docs/features.md).
///
/// ```
/// use mastra_runtime::{schemars::JsonSchema, schema::SchemaValidator};
/// #[derive(JsonSchema)]
/// #[schemars(crate = "mastra_runtime::schemars")]
/// #[allow(dead_code)]
/// struct City { #[schemars(length(min = 1))] name: String }
///
/// let v = SchemaValidator::try_for_type::<City>().expect("the schema compiles");
/// assert!(v.validate(&serde_json::json!({ "name": "Paris" })).is_ok());
/// let issues = v.validate(&serde_json::json!({ "name": "" })).unwrap_err();
/// assert_eq!(issues[0].field, "name");
/// ```
///
/// A schema that does not compile is never silently accepted: [`SchemaValidator::try_new`]
/// returns the [`SchemaError`], and a validator made with [`SchemaValidator::new`] anyway refuses
/// every value with an issue saying why (and [`SchemaValidator::schema_error`] tells).
#[derive(Debug)]
pub struct SchemaValidator {
    schema: Value,
    compiled: Result<CheckedSchema, SchemaError>,
}

impl SchemaValidator {
    /// Validates against `T`'s schema, or says why that schema does not compile.
    pub fn try_for_type<T: JsonSchema>() -> Result<Self, SchemaError> {
        Self::try_new(schema_of::<T>())
    }

    /// Validates against `schema`, or says why it does not compile.
    pub fn try_new(schema: Value) -> Result<Self, SchemaError> {
        let compiled = compile(schema.clone(), "input")?;
        Ok(Self {
            compiled: Ok(compiled),
            schema,
        })
    }

    /// Validates against `T`'s schema; see [`SchemaValidator::new`] for a schema that does not
    /// compile.
    pub fn for_type<T: JsonSchema>() -> Self {
        Self::new(schema_of::<T>())
    }

    /// Validates against `schema`. A schema that does not compile refuses every value (one issue
    /// names the compiler's complaint): failing closed, since a typed deserialization alone
    /// would let values through that break the declared constraints. Earlier versions accepted
    /// everything; use [`SchemaValidator::try_new`] to find out at construction.
    pub fn new(schema: Value) -> Self {
        let compiled = compile(schema.clone(), "input");
        Self { schema, compiled }
    }

    /// The schema.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Why the schema does not compile, if it does not (then every value is refused).
    pub fn schema_error(&self) -> Option<&SchemaError> {
        self.compiled.as_ref().err()
    }

    /// Every issue of `value`, or `Ok`: at most [`MAX_ISSUES`], then one issue saying how many
    /// more values fail; messages quote at most [`MAX_EXCERPT_BYTES`] of the value.
    pub fn validate(&self, value: &Value) -> Result<(), Vec<Issue>> {
        match &self.compiled {
            Ok(checked) => checked.check(value),
            Err(error) => Err(vec![Issue::new("", error.to_string())]),
        }
    }
}

/// `T`'s JSON Schema as a standalone document (definitions inlined under `$defs`).
pub fn schema_of<T: JsonSchema>() -> Value {
    let schema: Schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
    schema.to_value()
}

/// A deserialization error as one issue (serde reports only the first problem), its message
/// cut to [`MAX_MESSAGE_BYTES`].
pub fn serde_issue(error: &serde_json::Error) -> Issue {
    Issue::new("", short_message(error))
}
