//! One operation of the document: what the handler's types say ([`Inference`]), refined by the
//! route's doc comments and `openapi(...)` fragment, plus Mastra's defaults.

use std::collections::BTreeMap;

use apistos::{
    paths::{
        MediaType, Operation, Parameter, ParameterDefinition, ParameterIn, RequestBody, Response,
        Responses,
    },
    reference_or::ReferenceOr,
    security::SecurityRequirement,
    ApistosSchema, OpenApiVersion, VersionSpecificSchema,
};
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Value};

use crate::describe::{Inference, OperationFragment, ParamLocation};
use crate::route::{MountedRoute, RouteMethod, Segment};
use crate::schema::generator::{self as schema, SchemaFn, COMPONENTS_PATH};
use crate::schema::Issue;

/// Name of the security scheme protected operations refer to.
pub const BEARER_AUTH: &str = "bearerAuth";

/// Tag of custom routes that declare none (Mastra's default).
pub const CUSTOM_TAG: &str = "custom";

/// Description of the response of an operation that declares and infers none (Mastra's default).
pub const DEFAULT_RESPONSE_DESCRIPTION: &str = "Successful response";

/// The `{"error": "..."}` body every failure answers with.
#[derive(JsonSchema)]
#[schemars(rename = "ErrorResponse")]
#[allow(dead_code)] // Only its schema is used.
struct ErrorResponse {
    /// What went wrong.
    error: String,
}

/// The 400 body of a request whose body, query or path breaks its declared schema.
#[derive(JsonSchema)]
#[schemars(rename = "ValidationErrorResponse")]
#[allow(dead_code)] // Only its schema is used.
struct ValidationErrorResponse {
    /// `Invalid request body`, `Invalid query`, `Invalid path`, or what could not be read.
    error: String,
    /// Every problem found, when the value was readable.
    issues: Option<Vec<Issue>>,
}

/// What the document needs from the whole application to describe one route.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub(crate) api_prefix: &'a str,
}

/// A parameter while it is being assembled.
struct Param {
    name: String,
    location: ParamLocation,
    required: bool,
    description: Option<String>,
    schema: Value,
}

/// A response while it is being assembled.
#[derive(Default)]
struct Reply {
    description: Option<String>,
    content_type: Option<String>,
    schema: Option<Value>,
}

/// Builds the operation for `route` answering `method` (one of the methods of an `ALL` route).
/// The operation id is set by the caller, which de-duplicates ids across the document.
pub(crate) fn build(
    route: &MountedRoute,
    method: RouteMethod,
    inference: &Inference,
    generator: &mut SchemaGenerator,
    cx: Context<'_>,
) -> Operation {
    let fragment = route.operation();
    let path = route.pattern().openapi();
    let params = parameters(route, inference, generator);
    let typed_path = params.iter().any(|p| {
        p.location == ParamLocation::Path
            && !schema::accepts_any_string(&resolved(&p.schema, generator))
    });
    // Exactly what the auth layer enforces: protected by the auth settings, or a handler that
    // takes the user (which then verifies the token itself).
    let protected = route.requires_token();
    let can_be_invalid = inference.body.is_some() || inference.query.is_some() || typed_path;
    Operation {
        tags: tags(route, cx.api_prefix),
        summary: Some(
            fragment
                .summary
                .clone()
                .or_else(|| route.doc_summary().map(str::to_owned))
                .unwrap_or_else(|| format!("{method} {path}")),
        ),
        description: fragment
            .description
            .clone()
            .or_else(|| route.doc_description().map(str::to_owned)),
        parameters: params.into_iter().map(into_parameter).collect(),
        request_body: request_body(fragment, inference, generator).map(ReferenceOr::Object),
        responses: responses(fragment, inference, generator, can_be_invalid, protected),
        deprecated: fragment.deprecated,
        security: if protected {
            vec![SecurityRequirement {
                requirements: BTreeMap::from([(BEARER_AUTH.to_owned(), Vec::new())]),
            }]
        } else {
            Vec::new()
        },
        ..Operation::default()
    }
}

/// The default operation id of a route: its handler's name, else `method_path_words`.
pub(crate) fn default_operation_id(route: &MountedRoute) -> String {
    if let Some(id) = &route.operation().operation_id {
        return id.clone();
    }
    if let Some(name) = route.handler_name() {
        return name.to_owned();
    }
    let mut id = route.method().as_str().to_ascii_lowercase();
    for segment in route.pattern().segments() {
        let text = match segment {
            Segment::Static(text) | Segment::Param(text) => text,
        };
        if text.is_empty() {
            continue;
        }
        id.push('_');
        id.extend(
            text.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        );
    }
    id
}

fn tags(route: &MountedRoute, api_prefix: &str) -> Vec<String> {
    let declared = &route.operation().tags;
    if !declared.is_empty() {
        return declared.clone();
    }
    if !route.is_builtin() {
        return vec![CUSTOM_TAG.to_owned()];
    }
    // A built-in route without tags is grouped by its first segment under the API prefix
    // (`/api/agents/...` -> `agents`); those outside it (`/health`, `/swagger-ui`) are `system`.
    let under = route
        .path()
        .strip_prefix(api_prefix)
        .filter(|rest| rest.starts_with('/'))
        .and_then(|rest| rest.split('/').find(|s| !s.is_empty()))
        .filter(|segment| !segment.starts_with(':') && !segment.starts_with('{'));
    vec![under.unwrap_or("system").to_owned()]
}

fn schema_of(schema_fn: SchemaFn, generator: &mut SchemaGenerator) -> Value {
    schema_fn(generator).to_value()
}

fn resolved(schema: &Value, generator: &SchemaGenerator) -> Value {
    schema::resolve(schema, generator.definitions(), COMPONENTS_PATH).clone()
}

/// The schema of each path parameter and each query parameter, then the fragment's own.
fn parameters(
    route: &MountedRoute,
    inference: &Inference,
    generator: &mut SchemaGenerator,
) -> Vec<Param> {
    let mut params = Vec::new();

    let path_schema = inference.path.map(|f| {
        let schema = schema_of(f, generator);
        resolved(&schema, generator)
    });
    let names: Vec<&str> = route.pattern().params().collect();
    for (index, name) in names.iter().enumerate() {
        let schema = path_schema.as_ref().and_then(|schema| {
            if let Some(properties) = schema::object_properties(schema) {
                properties
                    .into_iter()
                    .find(|(property, _, _)| property == name)
                    .map(|(_, s, _)| s.clone())
            } else if let Some(items) = schema::tuple_items(schema) {
                items.get(index).cloned()
            } else if names.len() == 1 {
                Some(schema.clone())
            } else {
                None
            }
        });
        let schema = schema.unwrap_or_else(|| json!({ "type": "string" }));
        params.push(Param {
            name: (*name).to_owned(),
            location: ParamLocation::Path,
            required: true,
            description: description_of(&schema),
            schema,
        });
    }

    if let Some(query) = inference.query {
        let schema = schema_of(query, generator);
        let schema = resolved(&schema, generator);
        for (name, property, required) in schema::object_properties(&schema).unwrap_or_default() {
            params.push(Param {
                name: name.to_owned(),
                location: ParamLocation::Query,
                required,
                description: description_of(property),
                schema: property.clone(),
            });
        }
    }

    for declared in &route.operation().parameters {
        let schema = declared.schema.map(|t| json!({ "type": t.as_str() }));
        match params
            .iter_mut()
            .find(|p| p.name == declared.name && p.location == declared.location)
        {
            Some(existing) => {
                if let Some(text) = &declared.description {
                    existing.description = Some(text.clone());
                }
                if let (Some(required), false) =
                    (declared.required, declared.location == ParamLocation::Path)
                {
                    existing.required = required;
                }
                if let Some(schema) = schema {
                    existing.schema = schema;
                }
            }
            None => params.push(Param {
                name: declared.name.clone(),
                location: declared.location,
                required: declared.location == ParamLocation::Path
                    || declared.required.unwrap_or(false),
                description: declared.description.clone(),
                schema: schema.unwrap_or_else(|| json!({ "type": "string" })),
            }),
        }
    }
    params
}

fn description_of(schema: &Value) -> Option<String> {
    schema
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn into_parameter(param: Param) -> ReferenceOr<Parameter> {
    ReferenceOr::Object(Parameter {
        name: param.name,
        _in: match param.location {
            ParamLocation::Path => ParameterIn::Path,
            ParamLocation::Query => ParameterIn::Query,
            ParamLocation::Header => ParameterIn::Header,
            ParamLocation::Cookie => ParameterIn::Cookie,
        },
        description: param.description,
        required: Some(param.required),
        definition: Some(ParameterDefinition::Schema(ReferenceOr::Object(
            api_schema(param.schema),
        ))),
        ..Parameter::default()
    })
}

fn api_schema(value: Value) -> ApistosSchema {
    ApistosSchema::from_value(&value, OpenApiVersion::OAS3_1)
}

fn media(content_type: String, schema: Option<Value>) -> BTreeMap<String, MediaType> {
    BTreeMap::from([(
        content_type,
        MediaType {
            schema: schema.map(|s| VersionSpecificSchema::OAS3_1(api_schema(s))),
            ..MediaType::default()
        },
    )])
}

fn request_body(
    fragment: &OperationFragment,
    inference: &Inference,
    generator: &mut SchemaGenerator,
) -> Option<RequestBody> {
    let inferred = inference.body.as_ref();
    let declared = fragment.request_body.as_ref();
    if inferred.is_none() && declared.is_none() {
        return None;
    }
    let content_type = declared
        .and_then(|d| d.content_type.clone())
        .or_else(|| inferred.map(|i| i.content_type.clone()))
        .unwrap_or_else(|| "application/json".to_owned());
    let schema = declared
        .and_then(|d| d.body)
        .or_else(|| inferred.and_then(|i| i.schema))
        .map(|f| schema_of(f, generator));
    Some(RequestBody {
        description: declared.and_then(|d| d.description.clone()),
        content: media(content_type, schema),
        required: Some(
            declared
                .and_then(|d| d.required)
                .or_else(|| inferred.map(|i| i.required))
                .unwrap_or(false),
        ),
        ..RequestBody::default()
    })
}

fn responses(
    fragment: &OperationFragment,
    inference: &Inference,
    generator: &mut SchemaGenerator,
    can_be_invalid: bool,
    protected: bool,
) -> Responses {
    let mut replies: BTreeMap<u16, Reply> = BTreeMap::new();
    for inferred in &inference.responses {
        replies.insert(
            inferred.status,
            Reply {
                description: Some(inferred.description.clone()),
                content_type: inferred.content_type.clone(),
                schema: inferred.schema.map(|f| schema_of(f, generator)),
            },
        );
    }
    for declared in &fragment.responses {
        let reply = replies.entry(declared.status).or_default();
        if let Some(text) = &declared.description {
            reply.description = Some(text.clone());
        }
        if let Some(body) = declared.body {
            reply.schema = Some(schema_of(body, generator));
            reply
                .content_type
                .get_or_insert_with(|| "application/json".to_owned());
        }
        if let Some(content_type) = &declared.content_type {
            reply.content_type = Some(content_type.clone());
        }
    }
    if replies.is_empty() {
        replies.insert(
            200,
            Reply {
                description: Some(DEFAULT_RESPONSE_DESCRIPTION.to_owned()),
                ..Reply::default()
            },
        );
    }

    let error = schema_of(|g| g.subschema_for::<ErrorResponse>(), generator);
    let json_error = |description: &str| Reply {
        description: Some(description.to_owned()),
        content_type: Some("application/json".to_owned()),
        schema: Some(error.clone()),
    };
    if inference.error_responses {
        // Declared failures of a `Result<_, ApiError>` handler carry the error body.
        for (status, reply) in replies.iter_mut() {
            if *status >= 400 && reply.schema.is_none() && reply.content_type.is_none() {
                reply.content_type = Some("application/json".to_owned());
                reply.schema = Some(error.clone());
            }
        }
    }
    if can_be_invalid {
        replies.entry(400).or_insert_with(|| Reply {
            description: Some("The request is malformed or breaks its declared schema".to_owned()),
            content_type: Some("application/json".to_owned()),
            schema: Some(schema_of(
                |g| g.subschema_for::<ValidationErrorResponse>(),
                generator,
            )),
        });
    }
    if inference.body.is_some() {
        // What the runtime answers before the body is even parsed.
        replies
            .entry(413)
            .or_insert_with(|| json_error("Request body too large"));
        if inference
            .body
            .as_ref()
            .is_some_and(|b| b.content_type == "application/json")
        {
            replies.entry(415).or_insert_with(|| {
                json_error("Unsupported Content-Type: expected application/json")
            });
        }
    }
    if protected {
        replies
            .entry(401)
            .or_insert_with(|| json_error("Missing, invalid or expired token"));
        replies
            .entry(403)
            .or_insert_with(|| json_error("The token's user may not call this route"));
    }

    let mut out = Responses::default();
    for (status, reply) in replies {
        out.responses.insert(
            status.to_string(),
            ReferenceOr::Object(into_response(status, reply)),
        );
    }
    if inference.error_responses {
        out.default = Some(ReferenceOr::Object(into_response(
            0,
            json_error("An error, with its status and the JSON error body"),
        )));
    }
    out
}

fn into_response(status: u16, reply: Reply) -> Response {
    let description = reply.description.unwrap_or_else(|| {
        actix_web::http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Response")
            .to_owned()
    });
    let content = match (reply.content_type, reply.schema) {
        (Some(content_type), schema) => media(content_type, schema),
        (None, Some(schema)) => media("application/json".to_owned(), Some(schema)),
        (None, None) => BTreeMap::new(),
    };
    Response {
        description,
        content,
        ..Response::default()
    }
}
