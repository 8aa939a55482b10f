//! `/api/mcp`: the MCP servers over Streamable HTTP, their listing and a REST view of their
//! tools (docs/mcp.md).
//!
//! `POST {prefix}/mcp/:serverId/mcp` takes one JSON-RPC message through the same `Json`
//! extractor every body goes through (size, depth and item limits), answers a request with
//! one `event: message` frame of `text/event-stream` (or JSON when the client does not accept
//! a stream), and a notification or response with 202. `DELETE` ends a session. `GET` with a
//! session opens that session's server stream: `text/event-stream` kept open with comment
//! frames until the session ends or the client leaves (this server has no message of its own to
//! send on it yet: tools never change); without a session there is no stream (405, as the
//! transport allows, and as revision 2026-07-28, which has no sessions, expects).

use std::future::{ready, Ready};

use actix_web::{
    dev::Payload, http::StatusCode, web::Bytes, FromRequest, HttpRequest, HttpResponse,
};
use serde_json::{json, Map, Value};

use super::found::Found;
use crate::{
    app::AppHandle,
    describe::{DescribeInput, Inference},
    disconnect::abort_signal,
    error::ApiError,
    extract::Json,
    mastra::Mastra,
    mcp::{
        protocol::{
            self, Incoming, INVALID_PARAMS, INVALID_REQUEST, META_VERSION_KEY, METHOD_NOT_FOUND,
            SERVER_ERROR, SESSION_HEADER, STATELESS_VERSION, SUPPORTED_VERSIONS,
            UNSUPPORTED_VERSION, VERSION_HEADER,
        },
        CallContext, Loopback, McpToolKind, ServedMcp,
    },
    openapi::{OperationFragment, ResponseFragment},
    route::{ApiRoute, RequestContext, RouteOrigin},
};

/// The server the path names, found before the body is read, with the request's `Origin`
/// checked (403 for a foreign one) before anything else happens.
struct Endpoint(ServedMcp);

impl FromRequest for Endpoint {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(
            Found::<ServedMcp>::from_request(req, payload)
                .into_inner()
                .and_then(|Found(server)| {
                    check_origin(req, &server)?;
                    Ok(Endpoint(server))
                }),
        )
    }
}

impl DescribeInput for Endpoint {
    fn describe_input(inference: &mut Inference) {
        inference.path_params::<String>();
    }
}

/// Whether `host` (from an origin, without port) is a loopback name.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a request whose `Origin` is foreign: not loopback, not the request's own `Host`,
/// and not one the server allows ([`McpServer::allowed_origin`](crate::McpServer::allowed_origin)).
/// No `Origin` (a non-browser client) is accepted.
fn check_origin(req: &HttpRequest, server: &ServedMcp) -> Result<(), ApiError> {
    let Some(origin) = req.headers().get(actix_web::http::header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let refused = || {
        tracing::warn!(
            origin,
            server = server.server().id(),
            "MCP request from a foreign origin refused"
        );
        Err(ApiError::forbidden(format!(
            "Origin {origin} is not allowed to reach this MCP server"
        )))
    };
    if server
        .server()
        .allowed_origins()
        .iter()
        .any(|o| o == origin)
    {
        return Ok(());
    }
    let Some((_, authority)) = origin.split_once("://") else {
        return refused();
    };
    let host = match authority.rsplit_once(':') {
        // `[::1]:4111` or `localhost:4111`; a bare `[::1]` has its last colon inside brackets.
        Some((host, port)) if !port.contains(']') => host,
        _ => authority,
    };
    let own_host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    if is_loopback(host) || own_host.is_some_and(|own| own.eq_ignore_ascii_case(authority)) {
        Ok(())
    } else {
        refused()
    }
}

/// A transport-level refusal: a JSON-RPC error answered as JSON with its own status, before
/// any message is handled.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    code: i64,
    message: String,
    data: Option<Box<Value>>,
}

impl Refusal {
    fn new(status: StatusCode, code: i64, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            data: None,
        }
    }

    fn respond(self) -> HttpResponse {
        self.respond_to(&Value::Null)
    }

    /// The refusal of the request with id `id`.
    fn respond_to(self, id: &Value) -> HttpResponse {
        let mut body = protocol::error(id, self.code, &self.message);
        if let Some(data) = self.data {
            body["error"]["data"] = *data;
        }
        HttpResponse::build(self.status).json(body)
    }
}

fn session_not_found() -> Refusal {
    Refusal::new(StatusCode::NOT_FOUND, SERVER_ERROR, "Session not found")
}

fn session_required() -> Refusal {
    Refusal::new(
        StatusCode::BAD_REQUEST,
        SERVER_ERROR,
        "Bad Request: Mcp-Session-Id header is required",
    )
}

/// A header's value, or 400 when it is not visible ASCII.
fn header<'r>(req: &'r HttpRequest, name: &str) -> Result<Option<&'r str>, Refusal> {
    match req.headers().get(name) {
        None => Ok(None),
        Some(value) => value.to_str().map(Some).map_err(|_| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                SERVER_ERROR,
                format!("Bad Request: the {name} header is not readable text"),
            )
        }),
    }
}

/// Whether the client accepts a stream (then the answer is one SSE frame), or only JSON.
/// `Err` (406) when it accepts neither.
fn wants_stream(req: &HttpRequest) -> Result<bool, Refusal> {
    let accept = match header(req, "accept")? {
        None => return Ok(false),
        Some(accept) => accept.to_ascii_lowercase(),
    };
    if accept.contains("text/event-stream") {
        return Ok(true);
    }
    if accept.contains("application/json")
        || accept.contains("*/*")
        || accept.contains("application/*")
    {
        return Ok(false);
    }
    Err(Refusal::new(
        StatusCode::NOT_ACCEPTABLE,
        SERVER_ERROR,
        "Not Acceptable: the client must accept application/json or text/event-stream",
    ))
}

/// One JSON-RPC message as the answer: an SSE frame or JSON.
fn reply(message: Value, stream: bool, session: Option<&str>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    if let Some(session) = session {
        response.insert_header((SESSION_HEADER, session));
    }
    if stream {
        response
            .content_type("text/event-stream")
            .insert_header(("cache-control", "no-cache"))
            .body(format!("event: message\ndata: {message}\n\n"))
    } else {
        response.json(message)
    }
}

/// What a request's revision is.
#[derive(Debug, Clone, Copy)]
enum Era {
    /// A `2025-*` session.
    Session,
    /// `2026-07-28`: no session.
    Stateless,
}

/// The revision of a request that is not `initialize`, or the error answer.
fn era_of(
    req: &HttpRequest,
    server: &ServedMcp,
    params: Option<&Map<String, Value>>,
) -> Result<Era, Refusal> {
    let declared = header(req, VERSION_HEADER)?.map(str::to_owned).or_else(|| {
        params
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.get(META_VERSION_KEY))
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let declared_served = match declared.as_deref() {
        None => None,
        Some(v) => match protocol::served_version(v) {
            Some(v) => Some(v),
            None => {
                let message = format!(
                    "Unsupported protocol version {v} (supported: {})",
                    SUPPORTED_VERSIONS.join(", ")
                );
                return Err(Refusal {
                    data: Some(Box::new(json!({"supported": SUPPORTED_VERSIONS}))),
                    ..Refusal::new(StatusCode::BAD_REQUEST, UNSUPPORTED_VERSION, message)
                });
            }
        },
    };
    if let Some(session) = header(req, SESSION_HEADER)? {
        return match server.sessions().touch(session) {
            None => Err(session_not_found()),
            Some(version) => {
                tracing::debug!(version, declared = ?declared_served, "MCP request in a session");
                Ok(Era::Session)
            }
        };
    }
    match declared_served {
        Some(STATELESS_VERSION) => Ok(Era::Stateless),
        _ => Err(session_required()),
    }
}

fn capabilities() -> Value {
    json!({"tools": {"listChanged": false}})
}

fn server_info(server: &ServedMcp) -> Value {
    json!({"name": server.server().display_name(), "version": server.server().server_version()})
}

fn with_instructions(mut result: Value, server: &ServedMcp) -> Value {
    if let (Some(text), Some(map)) = (server.server().server_description(), result.as_object_mut())
    {
        map.insert("instructions".into(), Value::from(text));
    }
    result
}

/// Where a custom route's call is replayed: the address this request came in on, with the
/// request's credentials.
fn loopback(req: &HttpRequest) -> Loopback {
    let local = req.app_config().local_addr();
    let headers = ["authorization", "cookie"]
        .into_iter()
        .filter_map(|name| {
            let value = req.headers().get(name)?.to_str().ok()?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    Loopback {
        base: format!("http://{local}"),
        headers,
    }
}

async fn post(
    req: HttpRequest,
    mastra: Mastra,
    Endpoint(server): Endpoint,
    Json(body): Json<Value>,
) -> HttpResponse {
    let stream = match wants_stream(&req) {
        Ok(stream) => stream,
        Err(refused) => return refused.respond(),
    };
    let message = match Incoming::parse(body) {
        Ok(message) => message,
        Err((id, text)) => {
            return Refusal::new(StatusCode::BAD_REQUEST, INVALID_REQUEST, text).respond_to(&id)
        }
    };
    if let Incoming::Request { id, method, params } = &message {
        if method == "initialize" {
            let asked = params.get("protocolVersion").and_then(Value::as_str);
            let version = protocol::negotiate_session_version(asked);
            let session = server.sessions().open(version);
            tracing::info!(
                server = server.server().id(),
                version,
                "MCP session started"
            );
            let result = with_instructions(
                json!({
                    "protocolVersion": version,
                    "capabilities": capabilities(),
                    "serverInfo": server_info(&server),
                }),
                &server,
            );
            return reply(protocol::result(id, result), stream, Some(&session));
        }
    }
    let params = match &message {
        Incoming::Request { params, .. } => Some(params),
        _ => None,
    };
    let era = match era_of(&req, &server, params) {
        Ok(era) => era,
        Err(refused) => return refused.respond(),
    };
    let Incoming::Request { id, method, params } = message else {
        // Notifications (`notifications/initialized`, cancellations) and responses.
        return HttpResponse::Accepted().finish();
    };
    let answer = match method.as_str() {
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({
            "tools": server.tools().map(|t| t.listing()).collect::<Vec<_>>(),
        })),
        "server/discover" => Ok(with_instructions(
            json!({
                "supportedVersions": SUPPORTED_VERSIONS,
                "capabilities": capabilities(),
                "serverInfo": server_info(&server),
            }),
            &server,
        )),
        "tools/call" => match params.get("name") {
            Some(Value::String(name)) => {
                let arguments = params.get("arguments").cloned().unwrap_or(Value::Null);
                let ctx = CallContext {
                    app: Some(AppHandle::new(mastra.clone())),
                    request_context: RequestContext::of(&req),
                    abort: abort_signal(&req),
                    loopback: Some(loopback(&req)),
                    progress: None,
                };
                let token = params
                    .get("_meta")
                    .and_then(|m| m.get("progressToken"))
                    .filter(|t| t.is_string() || t.is_number());
                if let (true, Some(token)) = (stream, token) {
                    return with_progress(
                        server,
                        name.clone(),
                        arguments,
                        ctx,
                        id,
                        token.clone(),
                        era,
                    );
                }
                Ok(server.catalog().call(name, arguments, ctx).await)
            }
            _ => Err((
                INVALID_PARAMS,
                "Invalid params: `name` must be a string".to_owned(),
            )),
        },
        other => Err((METHOD_NOT_FOUND, format!("Method not found: {other}"))),
    };
    let message = match answer {
        Ok(mut result) => {
            if let (Era::Stateless, Some(map)) = (era, result.as_object_mut()) {
                map.insert("resultType".into(), Value::from("complete"));
                if matches!(method.as_str(), "tools/list" | "server/discover") {
                    // Cacheable results: the tools do not change while the server runs; a
                    // listing answered behind auth is the caller's, not a shared cache's.
                    map.insert("ttlMs".into(), Value::from(LIST_TTL_MS));
                    map.insert("cacheScope".into(), Value::from("private"));
                }
            }
            protocol::result(&id, result)
        }
        Err((code, text)) => protocol::error(&id, code, &text),
    };
    reply(message, stream, None)
}

/// How long a 2026-07-28 client may cache `tools/list` and `server/discover` (`ttlMs`).
const LIST_TTL_MS: u64 = 300_000;

/// How many progress reports wait for a slow client before later ones are dropped.
const PROGRESS_BUFFER: usize = 64;

/// A `tools/call` that asked for progress, answered as a stream: `notifications/progress`
/// frames while an agent runs (other tools have none), then the result frame.
fn with_progress(
    server: ServedMcp,
    name: String,
    arguments: Value,
    mut ctx: CallContext,
    id: Value,
    token: Value,
    era: Era,
) -> HttpResponse {
    let (progress_tx, mut progress_rx) = tokio::sync::mpsc::channel::<Value>(PROGRESS_BUFFER);
    let (frames_tx, frames_rx) = tokio::sync::mpsc::channel::<Value>(PROGRESS_BUFFER);
    ctx.progress = Some(progress_tx);
    let call = async move {
        let note = |mut report: Value| {
            report["progressToken"] = token.clone();
            json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": report})
        };
        let call = server.catalog().call(&name, arguments, ctx);
        tokio::pin!(call);
        // Reports first, so none is overtaken by the result; a client that left stops
        // reading and the call still ends (its abort signal).
        let mut result = loop {
            tokio::select! {
                biased;
                Some(report) = progress_rx.recv() => {
                    let _ = frames_tx.try_send(note(report));
                }
                result = &mut call => break result,
            }
        };
        while let Ok(report) = progress_rx.try_recv() {
            let _ = frames_tx.try_send(note(report));
        }
        if let (Era::Stateless, Some(map)) = (era, result.as_object_mut()) {
            map.insert("resultType".into(), Value::from("complete"));
        }
        let _ = frames_tx.send(protocol::result(&id, result)).await;
    };
    actix_web::rt::spawn(call);
    let frames = futures_util::stream::unfold(frames_rx, |mut rx| async move {
        rx.recv().await.map(|message| {
            let frame = format!("event: message\ndata: {message}\n\n");
            (
                Ok::<_, std::convert::Infallible>(actix_web::web::Bytes::from(frame)),
                rx,
            )
        })
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .streaming(frames)
}

/// How often an open server stream sends a comment frame, so proxies keep it and a client
/// that left is noticed.
const SERVER_STREAM_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

/// `GET`: the session's server stream, open until the session ends or the client leaves.
async fn server_stream(req: HttpRequest, Endpoint(server): Endpoint) -> HttpResponse {
    let session = match header(&req, SESSION_HEADER) {
        Err(refused) => return refused.respond(),
        Ok(None) => {
            return HttpResponse::MethodNotAllowed()
                .insert_header(("allow", "POST, DELETE"))
                .json(json!({"error": "A server stream needs a session (Mcp-Session-Id)"}))
        }
        Ok(Some(session)) => session,
    };
    match header(&req, "accept") {
        Err(refused) => return refused.respond(),
        Ok(Some(accept)) if accept.to_ascii_lowercase().contains("text/event-stream") => {}
        Ok(_) => {
            return Refusal::new(
                StatusCode::NOT_ACCEPTABLE,
                INVALID_REQUEST,
                "Not Acceptable: the server stream is text/event-stream",
            )
            .respond()
        }
    }
    let Some(ended) = server.sessions().watch(session) else {
        return session_not_found().respond();
    };
    let frames = futures_util::stream::unfold((ended, true), |(ended, first)| async move {
        if first {
            return Some((
                Ok::<_, actix_web::Error>(Bytes::from_static(b": stream open\n\n")),
                (ended, false),
            ));
        }
        tokio::select! {
            () = ended.cancelled() => None,
            () = tokio::time::sleep(SERVER_STREAM_KEEP_ALIVE) => {
                Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (ended, false)))
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .streaming(frames)
}

async fn delete(req: HttpRequest, Endpoint(server): Endpoint) -> HttpResponse {
    match header(&req, SESSION_HEADER) {
        Err(refused) => refused.respond(),
        Ok(None) => session_required().respond(),
        Ok(Some(session)) if server.sessions().close(session) => {
            tracing::info!(server = server.server().id(), "MCP session ended");
            HttpResponse::Ok().finish()
        }
        Ok(Some(_)) => session_not_found().respond(),
    }
}

async fn list_servers(mastra: Mastra) -> Json<Value> {
    let servers: Vec<Value> = mastra
        .mcp_servers()
        .values()
        .map(|s| {
            let mut entry = json!({
                "id": s.server().id(),
                "name": s.server().display_name(),
                "version_detail": {
                    "version": s.server().server_version(),
                    "release_date": s.released(),
                    "is_latest": true,
                },
            });
            if let (Some(text), Some(map)) =
                (s.server().server_description(), entry.as_object_mut())
            {
                map.insert("description".into(), Value::from(text));
            }
            entry
        })
        .collect();
    let total = servers.len();
    Json(json!({"servers": servers, "total_count": total, "next": null}))
}

async fn list_tools(Found(server): Found<ServedMcp>) -> Json<Value> {
    let tools: Vec<Value> = server
        .tools()
        .map(|t| {
            let mut entry = json!({
                "id": t.name(),
                "name": t.name(),
                "description": t.description(),
                "inputSchema": t.input_schema(),
            });
            if let (
                Some(map),
                kind @ (McpToolKind::Agent | McpToolKind::Workflow | McpToolKind::Route),
            ) = (entry.as_object_mut(), t.kind())
            {
                map.insert("toolType".into(), json!(kind));
            }
            entry
        })
        .collect();
    Json(json!({"tools": tools}))
}

pub(super) fn routes(prefix: &str) -> Vec<ApiRoute> {
    let endpoint = format!("{prefix}/mcp/:serverId/mcp");
    vec![
        ApiRoute::get(format!("{prefix}/mcp/v0/servers"))
            .inferred_handler(list_servers)
            .handler_name("listMcpServers")
            .openapi(
                OperationFragment::new()
                    .summary("List MCP servers")
                    .description("`{servers: [{id, name, description, version_detail}], total_count, next}`.")
                    .tag("mcp"),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::get(format!("{prefix}/mcp/:serverId/tools"))
            .inferred_handler(list_tools)
            .handler_name("listMcpServerTools")
            .openapi(
                OperationFragment::new()
                    .summary("List an MCP server's tools")
                    .description(
                        "`{tools: [{id, name, description, inputSchema, toolType}]}`; `toolType` \
                         is `agent` or `workflow` where it applies.",
                    )
                    .tag("mcp")
                    .response(ResponseFragment::new(404).description("MCP server not found")),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::post(endpoint.clone())
            .inferred_handler(post)
            .handler_name("mcpMessage")
            .openapi(
                OperationFragment::new()
                    .summary("Send an MCP JSON-RPC message (Streamable HTTP)")
                    .description(
                        "`initialize` starts a session (`mcp-session-id` header, revisions \
                         2025-06-18 and 2025-11-25); revision 2026-07-28 needs no session (its \
                         `MCP-Protocol-Version` header). A request is answered with one \
                         `event: message` frame, or JSON when the client accepts no stream; \
                         notifications with 202.",
                    )
                    .tag("mcp")
                    .response(ResponseFragment::new(202).description("Notification accepted"))
                    .response(ResponseFragment::new(400).description("No session, or an invalid message"))
                    .response(ResponseFragment::new(403).description("Foreign Origin"))
                    .response(ResponseFragment::new(404).description("Unknown server or session")),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::get(endpoint.clone())
            .inferred_handler(server_stream)
            .handler_name("mcpServerStream")
            .openapi(
                OperationFragment::new()
                    .summary("Open an MCP session's server stream")
                    .description(
                        "`text/event-stream`, kept open with comment frames until the session \
                         ends (`DELETE`, expiry) or the client leaves.",
                    )
                    .tag("mcp")
                    .response(ResponseFragment::new(200).description("The server stream").content_type("text/event-stream"))
                    .response(ResponseFragment::new(404).description("Unknown server or session"))
                    .response(ResponseFragment::new(405).description("No session: no server stream"))
                    .response(ResponseFragment::new(406).description("The client does not accept text/event-stream")),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::delete(endpoint)
            .inferred_handler(delete)
            .handler_name("mcpEndSession")
            .openapi(
                OperationFragment::new()
                    .summary("End an MCP session")
                    .tag("mcp")
                    .response(ResponseFragment::new(400).description("No mcp-session-id header"))
                    .response(ResponseFragment::new(404).description("Unknown server or session")),
            )
            .origin(RouteOrigin::BuiltIn),
    ]
}
