//! The `openapi(...)` grammar, read into a typed model of one operation.
//!
//! ```text
//! openapi(
//!     summary = "...", description = "...", tags("A", "B"), operation_id = "...",
//!     deprecated, hidden = false,
//!     parameters((name = "limit", in = "query", required = false, description = "...",
//!                 schema = "integer"), ...),
//!     request_body(content_type = "application/json", body = CreateItem, required = true,
//!                  description = "..."),
//!     responses((status = 404, description = "Not found", body = Item,
//!                content_type = "application/json"), ...),
//! )
//! ```

use proc_macro2::{Group, Span, TokenStream};
use syn::{LitInt, LitStr, Type};

use crate::{
    errors::Errors,
    meta::{self, Entry},
};

/// Everything `openapi(...)` said about the operation.
#[derive(Default)]
pub(crate) struct Operation {
    pub(crate) summary: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) tags: Vec<LitStr>,
    pub(crate) operation_id: Option<LitStr>,
    pub(crate) deprecated: Option<bool>,
    pub(crate) hidden: Option<bool>,
    pub(crate) parameters: Vec<Parameter>,
    pub(crate) request_body: Option<RequestBody>,
    pub(crate) responses: Vec<Response>,
}

/// One entry of `parameters(...)`.
pub(crate) struct Parameter {
    pub(crate) name: LitStr,
    pub(crate) location: Location,
    pub(crate) required: Option<bool>,
    pub(crate) description: Option<LitStr>,
    pub(crate) schema: Option<Schema>,
}

/// `in = "..."`; when absent, `path` for a name the route path binds and `query` otherwise.
/// Variants are named as `ParamLocation`'s; the expansion relies on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

impl Location {
    const CHOICES: [(&'static str, Self); 4] = [
        ("path", Self::Path),
        ("query", Self::Query),
        ("header", Self::Header),
        ("cookie", Self::Cookie),
    ];
}

/// `schema = "..."`: a JSON Schema primitive type. Variants are named as `SchemaType`'s; the
/// expansion relies on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Schema {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
}

impl Schema {
    const CHOICES: [(&'static str, Self); 6] = [
        ("string", Self::String),
        ("integer", Self::Integer),
        ("number", Self::Number),
        ("boolean", Self::Boolean),
        ("array", Self::Array),
        ("object", Self::Object),
    ];
}

/// `request_body(...)`.
#[derive(Default)]
pub(crate) struct RequestBody {
    pub(crate) content_type: Option<LitStr>,
    pub(crate) body: Option<Type>,
    pub(crate) required: Option<bool>,
    pub(crate) description: Option<LitStr>,
}

/// One entry of `responses(...)`.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) status_span: Span,
    pub(crate) description: Option<LitStr>,
    pub(crate) body: Option<Type>,
    pub(crate) content_type: Option<LitStr>,
}

const OPERATION_KEYS: &[&str] = &[
    "summary",
    "description",
    "tags",
    "operation_id",
    "deprecated",
    "hidden",
    "parameters",
    "request_body",
    "responses",
];
const PARAMETER_KEYS: &[&str] = &["name", "in", "required", "description", "schema"];
const REQUEST_BODY_KEYS: &[&str] = &["content_type", "body", "required", "description"];
const RESPONSE_KEYS: &[&str] = &["status", "description", "body", "content_type"];

const STRING: &str = "a string literal";
const TYPE: &str = "a Rust type, e.g. `body = Item`";
const BOOL: &str = "`true` or `false`";

/// Reads the contents of `openapi(...)`. `path_params` are the names the route path binds.
pub(crate) fn parse(tokens: TokenStream, path_params: &[String], errors: &mut Errors) -> Operation {
    let mut op = Operation::default();
    let entries = meta::parse_entries(tokens, errors);
    meta::read_keys(
        entries,
        errors,
        "`openapi`",
        OPERATION_KEYS,
        |key, entry, errors| match key {
            "summary" => op.summary = entry.value(errors, STRING),
            "description" => op.description = entry.value(errors, STRING),
            "operation_id" => op.operation_id = entry.value(errors, STRING),
            "deprecated" => op.deprecated = entry.flag(errors),
            "hidden" => op.hidden = entry.flag(errors),
            "tags" => op.tags = parse_tags(entry, errors),
            "parameters" => {
                op.parameters = groups(entry, errors, "parameters((name = \"limit\"), ...)")
                    .filter_map(|group| parse_parameter(group, path_params, errors))
                    .collect()
            }
            "request_body" => op.request_body = parse_request_body(entry, errors),
            "responses" => {
                op.responses = groups(entry, errors, "responses((status = 200), ...)")
                    .filter_map(|group| parse_response(group, errors))
                    .collect();
            }
            _ => unreachable!("`{key}` is in OPERATION_KEYS"),
        },
    );
    report_duplicate_statuses(&op.responses, errors);
    op
}

fn parse_tags(entry: &Entry, errors: &mut Errors) -> Vec<LitStr> {
    let Some(list) = entry.list(errors, "tags(\"Items\", \"Admin\")") else {
        return Vec::new();
    };
    meta::split_list(list, errors)
        .into_iter()
        .filter_map(|tag| match syn::parse2::<LitStr>(tag.clone()) {
            Ok(tag) => Some(tag),
            Err(_) => {
                errors.spanned(
                    tag,
                    "each tag is a string literal: tags(\"Items\", \"Admin\")",
                );
                None
            }
        })
        .collect()
}

/// The parenthesised groups of `parameters(...)` or `responses(...)`, as their entries.
fn groups(
    entry: &Entry,
    errors: &mut Errors,
    example: &str,
) -> impl Iterator<Item = (Group, Vec<Entry>)> {
    let items = entry
        .list(errors, example)
        .map(|list| meta::parse_entries(list, errors))
        .unwrap_or_default();
    let mut groups = Vec::new();
    for item in items {
        match item {
            Entry::Tuple(group) => {
                let entries = meta::parse_entries(group.stream(), errors);
                groups.push((group, entries));
            }
            other => errors.spanned(
                other,
                format_args!("expected a parenthesised group here, e.g. {example}"),
            ),
        }
    }
    groups.into_iter()
}

fn parse_parameter(
    (group, entries): (Group, Vec<Entry>),
    path_params: &[String],
    errors: &mut Errors,
) -> Option<Parameter> {
    let mut name: Option<LitStr> = None;
    let mut location = None;
    let mut required = None;
    let mut description = None;
    let mut schema = None;
    meta::read_keys(
        entries,
        errors,
        "parameter",
        PARAMETER_KEYS,
        |key, entry, errors| match key {
            "name" => name = entry.value(errors, STRING),
            "in" => location = entry.one_of(errors, &Location::CHOICES, false),
            "required" => required = entry.value::<syn::LitBool>(errors, BOOL),
            "description" => description = entry.value(errors, STRING),
            "schema" => schema = entry.one_of(errors, &Schema::CHOICES, false),
            _ => unreachable!("`{key}` is in PARAMETER_KEYS"),
        },
    );
    let Some(name) = name else {
        errors.spanned(
            &group,
            "parameter is missing `name = \"...\"` (required; `in`, `required`, \
             `description` and `schema` are optional)",
        );
        return None;
    };
    let in_path = path_params.contains(&name.value());
    let location = location.unwrap_or(if in_path {
        Location::Path
    } else {
        Location::Query
    });
    if location == Location::Path {
        if !in_path {
            errors.spanned(
                &name,
                format_args!(
                    "`{}` is declared `in = \"path\"` but the route path has no such parameter",
                    name.value()
                ),
            );
        }
        if let Some(lit) = required.as_ref().filter(|lit| !lit.value) {
            errors.spanned(lit, "path parameters are always required");
        }
    }
    Some(Parameter {
        name,
        location,
        required: required.map(|lit| lit.value),
        description,
        schema,
    })
}

fn parse_request_body(entry: &Entry, errors: &mut Errors) -> Option<RequestBody> {
    let example = "request_body(body = CreateItem)";
    let entries = meta::parse_entries(entry.list(errors, example)?, errors);
    let mut body = RequestBody::default();
    meta::read_keys(
        entries,
        errors,
        "request_body",
        REQUEST_BODY_KEYS,
        |key, entry, errors| match key {
            "content_type" => body.content_type = entry.value(errors, STRING),
            "body" => body.body = entry.value(errors, TYPE),
            "required" => {
                body.required = entry.value::<syn::LitBool>(errors, BOOL).map(|b| b.value)
            }
            "description" => body.description = entry.value(errors, STRING),
            _ => unreachable!("`{key}` is in REQUEST_BODY_KEYS"),
        },
    );
    Some(body)
}

fn parse_response((group, entries): (Group, Vec<Entry>), errors: &mut Errors) -> Option<Response> {
    let mut status: Option<Option<(u16, Span)>> = None;
    let mut description = None;
    let mut body = None;
    let mut content_type = None;
    meta::read_keys(
        entries,
        errors,
        "response",
        RESPONSE_KEYS,
        |key, entry, errors| match key {
            "status" => status = Some(parse_status(entry, errors)),
            "description" => description = entry.value(errors, STRING),
            "body" => body = entry.value(errors, TYPE),
            "content_type" => content_type = entry.value(errors, STRING),
            _ => unreachable!("`{key}` is in RESPONSE_KEYS"),
        },
    );
    match status {
        Some(status) => status.map(|(status, status_span)| Response {
            status,
            status_span,
            description,
            body,
            content_type,
        }),
        None => {
            errors.spanned(
                &group,
                "response is missing `status = <code>` (an integer from 100 to 599)",
            );
            None
        }
    }
}

fn parse_status(entry: &Entry, errors: &mut Errors) -> Option<(u16, Span)> {
    let lit = entry.value::<LitInt>(errors, "an integer status code from 100 to 599")?;
    match lit.base10_parse::<u16>() {
        Ok(code) if (100..=599).contains(&code) => Some((code, lit.span())),
        _ => {
            errors.spanned(
                &lit,
                format_args!("status code {lit} is out of range: expected 100 to 599"),
            );
            None
        }
    }
}

fn report_duplicate_statuses(responses: &[Response], errors: &mut Errors) {
    for (index, response) in responses.iter().enumerate() {
        if responses[..index]
            .iter()
            .any(|r| r.status == response.status)
        {
            errors.at(
                response.status_span,
                format_args!("duplicate response for status {}", response.status),
            );
        }
    }
}
