//! Request validation from the same schemas the document shows.
//!
//! When the server is built, each route's inferred `Json<T>` body, `Query<T>` and `Path<T>`
//! schemas are compiled into a [`RequestValidator`] once. The extractors find it in the route's
//! data and check the incoming value before deserializing it, so a request that breaks a declared
//! constraint (`minLength`, `exclusiveMinimum`, `enum`, `pattern`, `required`, ...) gets 400 with
//! every problem listed and never reaches the handler. A route with nothing to check gets no
//! validator and pays nothing.

use serde_json::{Map, Value};

use super::{
    compile,
    generator::{self as schema, ParamKind, SchemaFn, DEFS_PATH},
    CheckedSchema, Issue, QuickSchema, SchemaError, INVALID_BODY_MESSAGE,
};
use crate::error::ApiError;

/// The schemas a request is checked against: what a route's handler types declare for its JSON
/// body, its query string and its path parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestSchemas {
    /// The JSON body's schema (only for a JSON content type).
    pub json_body: Option<SchemaFn>,
    /// The query parameters' schema.
    pub query: Option<SchemaFn>,
    /// The path parameters' schema.
    pub path: Option<SchemaFn>,
}

/// Which part of the request a value came from; names the 400 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The JSON body.
    Body,
    /// The query string.
    Query,
    /// The path parameters.
    Path,
}

impl Part {
    /// The `error` message of the 400 answer (Mastra's wording for the body).
    pub fn message(self) -> &'static str {
        match self {
            Part::Body => INVALID_BODY_MESSAGE,
            Part::Query => "Invalid query",
            Part::Path => "Invalid path",
        }
    }

    /// The 400 error listing `issues`: `{"error": "Invalid request body", "issues": [...]}`.
    pub fn error(self, issues: Vec<Issue>) -> ApiError {
        ApiError::bad_request(self.message()).with_field(
            "issues",
            serde_json::to_value(issues).unwrap_or(Value::Array(Vec::new())),
        )
    }
}

/// How parameter text becomes the JSON value that is validated.
#[derive(Debug)]
enum Shape {
    /// An object with one entry per parameter, each converted by its property's kind; names the
    /// schema does not declare stay text (so `additionalProperties: false` can refuse them).
    Object(Vec<(String, ParamKind)>),
    /// Path parameters in order, as an array (a tuple type).
    Tuple(Vec<ParamKind>),
    /// The single path parameter itself (`Path<u32>`).
    Scalar(ParamKind),
}

/// A compiled schema for query or path parameters.
#[derive(Debug)]
struct ParamsValidator {
    validator: CheckedSchema,
    shape: Shape,
}

/// The compiled validators of one route.
#[derive(Debug)]
pub struct RequestValidator {
    body: Option<CheckedSchema>,
    /// The body's quick check, when its schema has one (see [`QuickSchema`]).
    body_quick: Option<QuickSchema>,
    query: Option<ParamsValidator>,
    path: Option<ParamsValidator>,
}

impl RequestValidator {
    /// Compiles the declared schemas. `None` when no request could break them: no schemas, or
    /// only path parameters that any text satisfies.
    pub fn compile(schemas: &RequestSchemas) -> Result<Option<Self>, SchemaError> {
        let mut body_quick = None;
        let body = match schemas.json_body {
            Some(schema_fn) => {
                let schema = schema::standalone(schema_fn);
                body_quick = QuickSchema::compile(&schema);
                Some(compile(schema, "body")?)
            }
            None => None,
        };
        let query = match schemas.query {
            Some(schema_fn) => params(schema::standalone(schema_fn), Part::Query)?,
            None => None,
        };
        let path = match schemas.path {
            Some(schema_fn) => params(schema::standalone(schema_fn), Part::Path)?,
            None => None,
        };
        Ok(
            (body.is_some() || query.is_some() || path.is_some()).then_some(Self {
                body,
                body_quick,
                query,
                path,
            }),
        )
    }

    /// Whether a JSON body is checked.
    pub fn checks_body(&self) -> bool {
        self.body.is_some()
    }

    /// The body's quick check (certainly valid, or not sure), when its schema has one.
    pub(crate) fn quick_body(&self) -> Option<&QuickSchema> {
        self.body_quick.as_ref()
    }

    /// Whether query parameters are checked.
    pub fn checks_query(&self) -> bool {
        self.query.is_some()
    }

    /// Whether path parameters are checked.
    pub fn checks_path(&self) -> bool {
        self.path.is_some()
    }

    /// Checks a parsed JSON body.
    pub fn check_body(&self, body: &Value) -> Result<(), ApiError> {
        match &self.body {
            Some(validator) => check(validator, body, Part::Body),
            None => Ok(()),
        }
    }

    /// Checks the decoded `(name, value)` pairs of the query string.
    pub fn check_query<'a>(
        &self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), ApiError> {
        match &self.query {
            Some(params) => check(&params.validator, &params.value(pairs), Part::Query),
            None => Ok(()),
        }
    }

    /// Checks the decoded `(name, value)` path parameters, in path order.
    pub fn check_path<'a>(
        &self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), ApiError> {
        match &self.path {
            Some(params) => check(&params.validator, &params.value(pairs), Part::Path),
            None => Ok(()),
        }
    }
}

/// Whether a content type is JSON (`application/json` or a `+json` type), so its body is checked.
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json") || essence.ends_with("+json")
}

fn part_name(part: Part) -> &'static str {
    match part {
        Part::Body => "body",
        Part::Query => "query",
        Part::Path => "path",
    }
}

/// Builds the validator for query or path parameters, or `None` when any text passes.
fn params(root: Value, part: Part) -> Result<Option<ParamsValidator>, SchemaError> {
    let empty = Map::new();
    let defs = root
        .get("$defs")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let target = schema::resolve(&root, defs, DEFS_PATH);
    let kind = |schema: &Value| ParamKind::of(schema, defs, DEFS_PATH);
    let (shape, trivial) = if let Some(properties) = schema::object_properties(target) {
        // Unnamed parameters must fit `additionalProperties` when it is there.
        let closed = target
            .get("additionalProperties")
            .is_some_and(|extra| !accepts_any_text(extra, defs));
        // Path parameters are always present; a required query parameter can be missing.
        let nothing_required = part == Part::Path || properties.iter().all(|(_, _, req)| !req);
        let trivial = !closed
            && nothing_required
            && properties
                .iter()
                .all(|(_, property, _)| accepts_any_text(property, defs));
        let shape = Shape::Object(
            properties
                .iter()
                .map(|(name, property, _)| ((*name).to_owned(), kind(property)))
                .collect(),
        );
        (shape, trivial)
    } else if let Some(items) = schema::tuple_items(target) {
        let trivial = items.iter().all(|item| accepts_any_text(item, defs));
        (Shape::Tuple(items.iter().map(kind).collect()), trivial)
    } else {
        (Shape::Scalar(kind(target)), accepts_any_text(target, defs))
    };
    if trivial {
        return Ok(None);
    }
    let validator = compile(root, part_name(part))?;
    Ok(Some(ParamsValidator { validator, shape }))
}

/// Whether any parameter text satisfies `schema` (a plain string, possibly optional).
fn accepts_any_text(schema: &Value, defs: &Map<String, Value>) -> bool {
    let schema = schema::resolve(schema, defs, DEFS_PATH);
    if schema::accepts_any_string(schema) {
        return true;
    }
    // `Option<String>`: `{"type": ["string", "null"]}` and nothing else that constrains.
    let mut without_null = schema.clone();
    if let Some(Value::Array(types)) = without_null.get("type") {
        let types: Vec<&Value> = types.iter().filter(|t| *t != "null").collect();
        if types.len() == 1 {
            let only = types[0].clone();
            without_null["type"] = only;
            return schema::accepts_any_string(&without_null);
        }
    }
    false
}

impl ParamsValidator {
    fn value<'a>(&self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
        match &self.shape {
            Shape::Object(kinds) => {
                let mut object = Map::new();
                for (name, text) in pairs {
                    let kind = kinds
                        .iter()
                        .find(|(known, _)| known == name)
                        .map_or(&ParamKind::String, |(_, kind)| kind);
                    match (object.get_mut(name), kind) {
                        // Repeated keys fill an array parameter.
                        (Some(Value::Array(values)), ParamKind::Array(items)) => {
                            values.push(items.convert(text))
                        }
                        // Otherwise the first occurrence wins, as serde_urlencoded reads it.
                        (Some(_), _) => {}
                        (None, kind) => {
                            object.insert(name.to_owned(), kind.convert(text));
                        }
                    }
                }
                Value::Object(object)
            }
            Shape::Tuple(kinds) => Value::Array(
                pairs
                    .into_iter()
                    .enumerate()
                    .map(|(i, (_, text))| kinds.get(i).unwrap_or(&ParamKind::String).convert(text))
                    .collect(),
            ),
            Shape::Scalar(kind) => pairs
                .into_iter()
                .next()
                .map_or(Value::Null, |(_, text)| kind.convert(text)),
        }
    }
}

fn check(validator: &CheckedSchema, value: &Value, part: Part) -> Result<(), ApiError> {
    validator.check(value).map_err(|issues| part.error(issues))
}

#[cfg(test)]
mod tests {
    use schemars::JsonSchema;
    use serde::Deserialize;
    use serde_json::json;

    use super::*;
    use crate::describe::Inference;

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct NewThing {
        #[schemars(length(min = 1))]
        name: String,
        #[schemars(extend("exclusiveMinimum" = 0))]
        price: f64,
        tags: Option<Vec<String>>,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Paging {
        #[schemars(range(min = 1, max = 100))]
        limit: Option<u32>,
        order: Option<Order>,
        ids: Option<Vec<u32>>,
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    #[allow(dead_code)]
    enum Order {
        Asc,
        Desc,
    }

    fn issues(error: ApiError) -> Value {
        error.body()["issues"].clone()
    }

    #[test]
    fn body_constraints_are_checked_and_every_issue_is_listed() {
        let mut inference = Inference::default();
        inference.json_body::<NewThing>();
        let v = RequestValidator::compile(&inference.request_schemas())
            .unwrap()
            .expect("a body validator");
        assert!(v.checks_body());
        v.check_body(&json!({ "name": "Lamp", "price": 1.5 }))
            .unwrap();
        let error = v
            .check_body(&json!({ "name": "", "price": 0 }))
            .unwrap_err();
        assert_eq!(error.status().as_u16(), 400);
        assert_eq!(error.message(), "Invalid request body");
        let listed = issues(error);
        let fields: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["name", "price"], "{listed}");
        let missing = v.check_body(&json!({ "price": 2 })).unwrap_err();
        assert_eq!(issues(missing)[0]["field"], "name");
        let nested = v
            .check_body(&json!({ "name": "a", "price": 1, "tags": [1] }))
            .unwrap_err();
        assert_eq!(issues(nested)[0]["field"], "tags.0");
    }

    #[test]
    fn query_text_is_converted_before_checking() {
        let mut inference = Inference::default();
        inference.query::<Paging>();
        let v = RequestValidator::compile(&inference.request_schemas())
            .unwrap()
            .expect("a query validator");
        v.check_query([
            ("limit", "10"),
            ("order", "asc"),
            ("ids", "1"),
            ("ids", "2"),
        ])
        .unwrap();
        v.check_query([]).unwrap();
        let error = v
            .check_query([("limit", "0"), ("order", "up")])
            .unwrap_err();
        assert_eq!(error.message(), "Invalid query");
        let listed = issues(error);
        assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
        let error = v.check_query([("limit", "ten")]).unwrap_err();
        assert_eq!(issues(error)[0]["field"], "limit");
        let error = v.check_query([("ids", "1"), ("ids", "x")]).unwrap_err();
        assert_eq!(issues(error)[0]["field"], "ids.1");
    }

    /// A count, or `false` for "no limit" (Mastra's `perPage`), written by hand the way
    /// serde's untagged unions look in a schema.
    #[allow(dead_code)]
    enum CountOrAll {
        Count(u32),
        All,
    }

    impl JsonSchema for CountOrAll {
        fn schema_name() -> std::borrow::Cow<'static, str> {
            "CountOrAll".into()
        }

        fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
            schemars::json_schema!({
                "oneOf": [{ "type": "integer", "minimum": 0 }, { "const": false }]
            })
        }
    }

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Page {
        per_page: Option<CountOrAll>,
    }

    #[test]
    fn query_text_matching_one_of_several_kinds_is_converted_to_that_kind() {
        let mut inference = Inference::default();
        inference.query::<Page>();
        let v = RequestValidator::compile(&inference.request_schemas())
            .unwrap()
            .expect("a query validator");
        v.check_query([("per_page", "3")]).unwrap();
        v.check_query([("per_page", "false")]).unwrap();
        let error = v.check_query([("per_page", "lots")]).unwrap_err();
        assert_eq!(issues(error)[0]["field"], "per_page");
    }

    #[test]
    fn path_values_are_checked_by_shape() {
        let mut inference = Inference::default();
        inference.path_params::<u32>();
        let v = RequestValidator::compile(&inference.request_schemas())
            .unwrap()
            .expect("a path validator");
        v.check_path([("id", "7")]).unwrap();
        let error = v.check_path([("id", "-1")]).unwrap_err();
        assert_eq!(error.message(), "Invalid path");

        let mut inference = Inference::default();
        inference.path_params::<(String, u8)>();
        let v = RequestValidator::compile(&inference.request_schemas())
            .unwrap()
            .expect("a tuple validator");
        v.check_path([("a", "x"), ("b", "255")]).unwrap();
        let error = v.check_path([("a", "x"), ("b", "256")]).unwrap_err();
        assert_eq!(issues(error)[0]["field"], "1");
    }

    #[test]
    fn routes_nothing_can_break_get_no_validator() {
        let mut inference = Inference::default();
        inference.path_params::<String>();
        assert!(RequestValidator::compile(&inference.request_schemas())
            .unwrap()
            .is_none());
        let mut inference = Inference::default();
        inference.query::<std::collections::HashMap<String, String>>();
        inference.path_params::<(String, String)>();
        assert!(RequestValidator::compile(&inference.request_schemas())
            .unwrap()
            .is_none());
        assert!(
            RequestValidator::compile(&Inference::default().request_schemas())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_bad_pattern_is_a_schema_error() {
        #[derive(JsonSchema)]
        #[allow(dead_code)]
        struct Bad {
            #[schemars(pattern("(unclosed"))]
            code: String,
        }
        let mut inference = Inference::default();
        inference.json_body::<Bad>();
        let error = RequestValidator::compile(&inference.request_schemas()).unwrap_err();
        assert_eq!(error.part, "body");
    }
}
