//! Custom routes offered as MCP tools (`mcp(name = "...")` on `#[api_route]`, or
//! [`ApiRoute::mcp`](crate::ApiRoute::mcp)).
//!
//! The tool's input schema merges the route's path parameters, query and JSON body into one
//! object (a body that is not an object, or whose fields collide with a parameter, travels under
//! `body`). A call is replayed as an HTTP request to the same server over loopback, carrying
//! the MCP request's `Authorization` and `Cookie` headers: it passes the route's own auth
//! rules, middleware and validation with the same user, so an MCP call reaches nothing the same
//! token could not reach over REST. The response body is the result (`isError` unless 2xx).

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Map, Value};

use crate::{
    route::{MountedRoute, RouteMethod, Segment},
    schema::{inline_refs, standalone, SchemaFn},
};

/// The argument a body that cannot be merged travels under.
const BODY_ARGUMENT: &str = "body";

/// Most bytes of a route's response kept as the tool's result; past it the result is an error.
pub const MAX_ROUTE_RESULT_BYTES: usize = 4_718_592;

/// Where the body's value comes from in the arguments.
#[derive(Debug, Clone)]
enum BodyPlacement {
    None,
    /// The body is an object whose fields are these top-level arguments.
    Merged(Vec<String>),
    /// The body is the `body` argument.
    Under,
}

/// How one route is called.
#[derive(Debug, Clone)]
pub(crate) struct RouteCall {
    method: RouteMethod,
    segments: Vec<Segment>,
    query: Vec<String>,
    body: BodyPlacement,
}

/// Where the replayed request goes and what it carries from the MCP request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Loopback {
    /// `http://127.0.0.1:4111`: the server that received the MCP request.
    pub(crate) base: String,
    /// Headers carried over (`Authorization`, `Cookie`).
    pub(crate) headers: Vec<(String, String)>,
}

fn self_contained(schema: SchemaFn) -> Value {
    inline_refs(&standalone(schema))
}

fn properties(schema: &Value) -> Option<(&Map<String, Value>, Vec<String>)> {
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return None;
    }
    let props = schema.get("properties")?.as_object()?;
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Some((props, required))
}

impl RouteCall {
    /// The call and the tool's input schema for `route`.
    pub(crate) fn new(route: &MountedRoute) -> (RouteCall, Value) {
        let inference = route.inference();
        let mut props = Map::new();
        let mut required: Vec<String> = Vec::new();
        let path_schema = inference.path.map(self_contained);
        let path_props = path_schema.as_ref().and_then(properties);
        let params: Vec<String> = route.pattern().params().map(str::to_owned).collect();
        for name in &params {
            let schema = path_props
                .as_ref()
                .and_then(|(p, _)| p.get(name).cloned())
                .unwrap_or_else(|| json!({"type": "string"}));
            props.insert(name.clone(), schema);
            required.push(name.clone());
        }
        let mut query = Vec::new();
        if let Some(schema) = inference.query.map(self_contained) {
            if let Some((p, r)) = properties(&schema) {
                for (name, s) in p {
                    if !props.contains_key(name) {
                        props.insert(name.clone(), s.clone());
                        query.push(name.clone());
                    }
                }
                required.extend(r.into_iter().filter(|n| query.contains(n)));
            }
        }
        let body_schema = inference
            .body
            .as_ref()
            .filter(|b| b.content_type.contains("json"))
            .and_then(|b| b.schema.map(|s| (self_contained(s), b.required)));
        let body = match body_schema {
            None => BodyPlacement::None,
            Some((schema, body_required)) => match properties(&schema) {
                Some((p, r))
                    if !p
                        .keys()
                        .any(|k| props.contains_key(k) || k == BODY_ARGUMENT) =>
                {
                    let keys: Vec<String> = p.keys().cloned().collect();
                    for (name, s) in p {
                        props.insert(name.clone(), s.clone());
                    }
                    if body_required {
                        required.extend(r);
                    }
                    BodyPlacement::Merged(keys)
                }
                _ => {
                    props.insert(BODY_ARGUMENT.to_owned(), schema.clone());
                    if body_required {
                        required.push(BODY_ARGUMENT.to_owned());
                    }
                    BodyPlacement::Under
                }
            },
        };
        let mut input = json!({"type": "object", "properties": props});
        if !required.is_empty() {
            input["required"] = json!(required);
        }
        let call = RouteCall {
            method: route.method(),
            segments: route.pattern().segments().to_vec(),
            query,
            body,
        };
        (call, input)
    }

    /// Replays the call over loopback; the tool's result.
    pub(crate) async fn call(
        &self,
        client: &reqwest::Client,
        loopback: Option<&Loopback>,
        name: &str,
        arguments: Value,
    ) -> Result<(bool, String), String> {
        let Some(loopback) = loopback else {
            return Err(format!("Tool {name} needs the server that serves it"));
        };
        let Value::Object(mut args) = arguments else {
            return Err(format!(
                "Invalid arguments for tool {name}: arguments must be an object"
            ));
        };
        let mut path = String::new();
        for segment in &self.segments {
            path.push('/');
            match segment {
                Segment::Static(text) => path.push_str(text),
                Segment::Param(param) => {
                    let value = match args.remove(param) {
                        Some(Value::String(s)) => s,
                        Some(Value::Number(n)) => n.to_string(),
                        Some(Value::Bool(b)) => b.to_string(),
                        _ => {
                            return Err(format!(
                                "Invalid arguments for tool {name}: {param}: required"
                            ))
                        }
                    };
                    path.extend(utf8_percent_encode(&value, NON_ALPHANUMERIC));
                }
            }
        }
        if path.is_empty() {
            path.push('/');
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for key in &self.query {
            match args.remove(key) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => pairs.push((key.clone(), s)),
                Some(Value::Array(items)) => {
                    for item in items {
                        let text = match item {
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        pairs.push((key.clone(), text));
                    }
                }
                Some(other) => pairs.push((key.clone(), other.to_string())),
            }
        }
        let body = match &self.body {
            BodyPlacement::None => None,
            BodyPlacement::Under => args.remove(BODY_ARGUMENT),
            BodyPlacement::Merged(keys) => {
                let fields: Map<String, Value> = keys
                    .iter()
                    .filter_map(|k| args.remove(k).map(|v| (k.clone(), v)))
                    .collect();
                Some(Value::Object(fields))
            }
        };
        if let Some(extra) = args.keys().next() {
            return Err(format!(
                "Invalid arguments for tool {name}: {extra}: not an argument of this tool"
            ));
        }
        let method = match self.method {
            RouteMethod::Get | RouteMethod::All => reqwest::Method::GET,
            RouteMethod::Post => reqwest::Method::POST,
            RouteMethod::Put => reqwest::Method::PUT,
            RouteMethod::Patch => reqwest::Method::PATCH,
            RouteMethod::Delete => reqwest::Method::DELETE,
        };
        let mut url = format!("{}{path}", loopback.base);
        if !pairs.is_empty() {
            let query = serde_urlencoded::to_string(&pairs)
                .map_err(|error| format!("Invalid arguments for tool {name}: {error}"))?;
            url.push('?');
            url.push_str(&query);
        }
        let mut request = client
            .request(method, url)
            .header("accept", "application/json");
        for (header, value) in &loopback.headers {
            request = request.header(header.as_str(), value.as_str());
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let mut response = request
            .send()
            .await
            .map_err(|error| format!("Tool {name} could not reach its route: {error}"))?;
        let ok = response.status().is_success();
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| format!("Tool {name}: reading its route's answer failed: {error}"))?
        {
            if bytes.len() + chunk.len() > MAX_ROUTE_RESULT_BYTES {
                return Err(format!(
                    "Tool {name}: its route answered more than {MAX_ROUTE_RESULT_BYTES} bytes"
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if ok {
            Ok((false, text))
        } else {
            Ok((true, format!("HTTP {status}: {text}")))
        }
    }
}
