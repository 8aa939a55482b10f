//! The OpenAPI 3.1 document: every mounted route that is not `hidden`, built once from the route
//! table and kept as bytes with an `ETag`.
//!
//! Paths are written absolute from the server root (`/api/agents`, `/items/{itemId}`) under one
//! server `/`, so Swagger UI's "Try it out" reaches built-in and custom routes alike.

use std::{
    collections::{BTreeMap, BTreeSet, HashSet},
    hash::{Hash, Hasher},
};

use apistos::{
    components::Components,
    info::Info,
    paths::{Operation, OperationType, PathItem, Paths},
    reference_or::ReferenceOr,
    security::{Http, SecurityScheme, SecurityType},
    server::Server,
    tag::Tag,
    ApistosSchema, IndexMap, OpenApi, OpenApiVersion,
};
use bytes::Bytes;
use serde_json::Value;

use super::operation::{self, Context, BEARER_AUTH};
use crate::route::{MountedRoute, RouteMethod};
use crate::schema::generator::{self as schema, COMPONENTS_PATH};

/// The Content-Security-Policy of the OpenAPI document: a JSON file loads and runs nothing,
/// and is never framed.
pub const DOCUMENT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

pub use super::{DEFAULT_TITLE, DEFAULT_VERSION};

/// What the document is built with besides the routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSettings {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// The API prefix; groups built-in routes without tags.
    pub api_prefix: String,
    /// Whether an auth provider is configured: then the document has the `bearerAuth` scheme.
    /// Each operation carries `security: [{bearerAuth: []}]` when its route
    /// [requires a token](MountedRoute::requires_token), which only happens with auth configured.
    pub auth_configured: bool,
}

impl Default for DocumentSettings {
    fn default() -> Self {
        Self {
            title: DEFAULT_TITLE.to_owned(),
            version: DEFAULT_VERSION.to_owned(),
            api_prefix: crate::route::DEFAULT_API_PREFIX.to_owned(),
            auth_configured: false,
        }
    }
}

/// The built document: the model, its JSON bytes, and their `ETag`.
#[derive(Debug, Clone)]
pub struct OpenApiDocument {
    spec: OpenApi,
    json: Bytes,
    etag: String,
    /// [`OpenApiDocument::etag`] as a header value, built once for every response.
    etag_header: actix_web::http::header::HeaderValue,
}

impl OpenApiDocument {
    /// Builds the document of `routes`. Hidden routes are left out; an `ALL` route is listed
    /// under each method.
    ///
    /// ```
    /// use mastra_runtime::{openapi::{DocumentSettings, OpenApiDocument}, prelude::*};
    ///
    /// async fn hello() -> Json<String> { Json("hi".into()) }
    ///
    /// let app = Mastra::builder()
    ///     .route(ApiRoute::get("/hello").handler(hello).handler_name("hello"))
    ///     .without_annotated_routes()
    ///     .build()
    ///     .unwrap();
    /// let doc = OpenApiDocument::build(app.routes(), &DocumentSettings::default());
    /// assert_eq!(doc.to_value()["paths"]["/hello"]["get"]["operationId"], "hello");
    /// ```
    pub fn build(routes: &[MountedRoute], settings: &DocumentSettings) -> Self {
        let spec = spec(routes, settings);
        let json = match serde_json::to_vec(&spec) {
            Ok(json) => Bytes::from(json),
            Err(error) => {
                // The model holds only strings, numbers and maps; this cannot happen in practice.
                tracing::error!(%error, "the OpenAPI document could not be serialized");
                Bytes::from_static(b"{}")
            }
        };
        let etag = etag(&json);
        // Quotes, hex digits and a dash: always a valid header value.
        let etag_header = actix_web::http::header::HeaderValue::from_str(&etag)
            .unwrap_or_else(|_| actix_web::http::header::HeaderValue::from_static("\"0\""));
        Self {
            spec,
            json,
            etag,
            etag_header,
        }
    }

    /// The document model (apistos's OpenAPI types).
    pub fn spec(&self) -> &OpenApi {
        &self.spec
    }

    /// The JSON bytes served at `/api/openapi.json`.
    pub fn json(&self) -> &Bytes {
        &self.json
    }

    /// The strong `ETag` of [`OpenApiDocument::json`], quoted.
    pub fn etag(&self) -> &str {
        &self.etag
    }

    pub(crate) fn etag_header(&self) -> &actix_web::http::header::HeaderValue {
        &self.etag_header
    }

    /// The document as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }
}

fn etag(bytes: &[u8]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    format!("\"{:016x}-{:x}\"", hasher.finish(), bytes.len())
}

fn operation_type(method: RouteMethod) -> OperationType {
    match method {
        RouteMethod::Get => OperationType::Get,
        RouteMethod::Post => OperationType::Post,
        RouteMethod::Put => OperationType::Put,
        RouteMethod::Patch => OperationType::Patch,
        RouteMethod::Delete => OperationType::Delete,
        // Callers expand ALL into single methods first.
        RouteMethod::All => OperationType::Get,
    }
}

/// One row of the document before ids are made unique.
struct Entry {
    path: String,
    method: RouteMethod,
    id: String,
    operation: Operation,
}

fn spec(routes: &[MountedRoute], settings: &DocumentSettings) -> OpenApi {
    let cx = Context {
        api_prefix: &settings.api_prefix,
    };
    let mut generator = schema::document_generator();

    // Paths in lexical order, methods in `RouteMethod::SINGLE` order: reproducible ids and a
    // stable document whatever order the routes were declared in.
    let mut order: Vec<&MountedRoute> = routes.iter().filter(|r| !r.operation().hidden).collect();
    order.sort_by(|a, b| {
        (a.pattern().openapi(), a.method()).cmp(&(b.pattern().openapi(), b.method()))
    });
    let mut entries = Vec::new();
    for route in order {
        let inference = route.inference();
        let base_id = operation::default_operation_id(route);
        let methods: Vec<RouteMethod> = match route.method() {
            RouteMethod::All => RouteMethod::SINGLE.to_vec(),
            single => vec![single],
        };
        for &method in &methods {
            let id = if route.method() == RouteMethod::All {
                format!("{base_id}_{}", method.as_str().to_ascii_lowercase())
            } else {
                base_id.clone()
            };
            entries.push(Entry {
                path: route.pattern().openapi(),
                method,
                id,
                operation: operation::build(route, method, inference, &mut generator, cx),
            });
        }
    }
    unique_ids(&mut entries);

    let mut tags: Vec<String> = Vec::new();
    let mut paths: IndexMap<String, PathItem> = IndexMap::new();
    for mut entry in entries {
        for tag in &entry.operation.tags {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
        entry.operation.operation_id = Some(entry.id);
        paths
            .entry(entry.path)
            .or_default()
            .operations
            .insert(operation_type(entry.method), entry.operation);
    }

    let mut schemas: BTreeMap<String, Value> =
        generator.take_definitions(true).into_iter().collect();
    let paths = Paths {
        paths,
        ..Paths::default()
    };
    keep_referenced(&mut schemas, &paths);

    let mut security_schemes = BTreeMap::new();
    let any_secured = paths
        .paths
        .values()
        .flat_map(|item| item.operations.values())
        .any(|op| !op.security.is_empty());
    if settings.auth_configured || any_secured {
        security_schemes.insert(
            BEARER_AUTH.to_owned(),
            ReferenceOr::Object(SecurityScheme {
                _type: SecurityType::Http(Http {
                    scheme: "bearer".to_owned(),
                    bearer_format: Some("JWT".to_owned()),
                }),
                description: Some("A JWT sent as `Authorization: Bearer <token>`.".to_owned()),
                extensions: IndexMap::new(),
            }),
        );
    }

    OpenApi {
        openapi: OpenApiVersion::OAS3_1,
        info: Info {
            title: settings.title.clone(),
            version: settings.version.clone(),
            ..Info::default()
        },
        servers: vec![Server {
            url: "/".to_owned(),
            ..Server::default()
        }],
        paths,
        components: Some(Components {
            schemas: schemas
                .into_iter()
                .map(|(name, schema)| {
                    let schema = ApistosSchema::from_value(&schema, OpenApiVersion::OAS3_1);
                    (name, ReferenceOr::Object(schema))
                })
                .collect(),
            security_schemes,
            ..Components::default()
        }),
        tags: tags
            .into_iter()
            .map(|name| Tag {
                name,
                ..Tag::default()
            })
            .collect(),
        ..OpenApi::default()
    }
}

/// Makes operation ids unique: the first (in document order) keeps its id, later ones get
/// `_2`, `_3`, ... skipping ids already in use.
fn unique_ids(entries: &mut [Entry]) {
    let mut taken: HashSet<String> = entries.iter().map(|e| e.id.clone()).collect();
    let mut seen: HashSet<String> = HashSet::new();
    for entry in entries.iter_mut() {
        if seen.insert(entry.id.clone()) {
            continue;
        }
        let base = entry.id.clone();
        let mut n = 2;
        let id = loop {
            let candidate = format!("{base}_{n}");
            if !taken.contains(&candidate) {
                break candidate;
            }
            n += 1;
        };
        tracing::warn!(
            target: "mastra::openapi",
            "two operations want the id `{base}`; {} {} gets `{id}`",
            entry.method,
            entry.path
        );
        taken.insert(id.clone());
        seen.insert(id.clone());
        entry.id = id;
    }
}

/// Drops named schemas nothing refers to (the struct behind `Query<T>` or `Path<T>`, whose
/// fields became parameters).
fn keep_referenced(schemas: &mut BTreeMap<String, Value>, paths: &Paths) {
    let prefix = format!("#{COMPONENTS_PATH}/");
    let mut pending: Vec<String> = Vec::new();
    collect_refs(
        &serde_json::to_value(paths).unwrap_or(Value::Null),
        &prefix,
        &mut pending,
    );
    let mut reachable: BTreeSet<String> = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if reachable.insert(name.clone()) {
            if let Some(schema) = schemas.get(&name) {
                collect_refs(schema, &prefix, &mut pending);
            }
        }
    }
    schemas.retain(|name, _| reachable.contains(name));
}

fn collect_refs(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(target)) => {
                        if let Some(name) = target.strip_prefix(prefix) {
                            out.push(name.to_owned());
                        }
                    }
                    _ => collect_refs(value, prefix, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, prefix, out)),
        _ => {}
    }
}
