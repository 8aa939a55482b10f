//! JSON-RPC 2.0 as MCP uses it, and the protocol revisions this server speaks.
//!
//! Small and hand-written: one message shape in ([`Incoming`]), results and errors out.

use serde_json::{json, Map, Value};

/// The revision that has no `initialize` and no sessions: every request says its revision
/// (the `MCP-Protocol-Version` header, or `_meta["io.modelcontextprotocol/protocolVersion"]`).
pub const STATELESS_VERSION: &str = "2026-07-28";

/// The session revisions (`initialize` and `mcp-session-id`), newest first.
pub const SESSION_VERSIONS: [&str; 2] = ["2025-11-25", "2025-06-18"];

/// Every revision served, newest first.
pub const SUPPORTED_VERSIONS: [&str; 3] = [STATELESS_VERSION, "2025-11-25", "2025-06-18"];

/// The header naming the session.
pub const SESSION_HEADER: &str = "mcp-session-id";

/// The header naming the revision of a request after `initialize` (and of every request in
/// the stateless revision).
pub const VERSION_HEADER: &str = "mcp-protocol-version";

/// The `_meta` key carrying the revision in the stateless revision.
pub const META_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";

/// JSON-RPC: the message is not a valid request.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: no such method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC: the parameters are wrong.
pub const INVALID_PARAMS: i64 = -32602;
/// MCP's transport-level error (missing or unknown session, bad revision header).
pub const SERVER_ERROR: i64 = -32000;
/// The revision asked for is not served.
pub const UNSUPPORTED_VERSION: i64 = -32022;

/// The session revision served for `asked` (itself when served, else the newest).
pub fn negotiate_session_version(asked: Option<&str>) -> &'static str {
    SESSION_VERSIONS
        .iter()
        .find(|v| Some(**v) == asked)
        .copied()
        .unwrap_or(SESSION_VERSIONS[0])
}

/// `version` as one of the served revisions, if it is one.
pub fn served_version(version: &str) -> Option<&'static str> {
    SUPPORTED_VERSIONS.iter().find(|v| **v == version).copied()
}

/// One JSON-RPC message a client sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A request: it has an id and expects an answer.
    Request {
        /// Its id (a string or a number).
        id: Value,
        /// The method.
        method: String,
        /// Its parameters (an empty object when absent).
        params: Map<String, Value>,
    },
    /// A notification: no id, no answer.
    Notification {
        /// The method.
        method: String,
    },
    /// A response to a request of the server's (this server sends none; accepted and ignored).
    Response,
}

impl Incoming {
    /// Reads one message; `Err` is the JSON-RPC error to answer with (and the id it had, if
    /// any).
    pub fn parse(value: Value) -> Result<Incoming, (Value, String)> {
        let Value::Object(mut message) = value else {
            return Err((
                Value::Null,
                "Invalid Request: a JSON-RPC message is an object (batches are not accepted)"
                    .into(),
            ));
        };
        let id = message.remove("id");
        if message.get("jsonrpc") != Some(&Value::from("2.0")) {
            return Err((
                id.unwrap_or(Value::Null),
                "Invalid Request: `jsonrpc` must be \"2.0\"".into(),
            ));
        }
        if let Some(id) = &id {
            if !(id.is_string() || id.is_number()) {
                return Err((
                    Value::Null,
                    "Invalid Request: `id` must be a string or a number".into(),
                ));
            }
        }
        let method = match message.remove("method") {
            Some(Value::String(method)) => method,
            Some(_) => {
                return Err((
                    id.unwrap_or(Value::Null),
                    "Invalid Request: `method` must be a string".into(),
                ))
            }
            None if id.is_some()
                && (message.contains_key("result") || message.contains_key("error")) =>
            {
                return Ok(Incoming::Response)
            }
            None => {
                return Err((
                    id.unwrap_or(Value::Null),
                    "Invalid Request: `method` is missing".into(),
                ))
            }
        };
        let params = match message.remove("params") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(params)) => params,
            Some(_) => {
                return Err((
                    id.unwrap_or(Value::Null),
                    "Invalid Request: `params` must be an object".into(),
                ))
            }
        };
        Ok(match id {
            Some(id) => Incoming::Request { id, method, params },
            None => Incoming::Notification { method },
        })
    }
}

/// A JSON-RPC result message.
pub fn result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// A JSON-RPC error message.
pub fn error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_a_notification_and_a_response_are_told_apart() {
        let request = Incoming::parse(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}));
        assert!(matches!(request, Ok(Incoming::Request { .. })));
        let note =
            Incoming::parse(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        assert!(matches!(note, Ok(Incoming::Notification { .. })));
        let response = Incoming::parse(json!({"jsonrpc": "2.0", "id": 1, "result": {}}));
        assert_eq!(response, Ok(Incoming::Response));
        assert!(Incoming::parse(json!([])).is_err());
        assert!(Incoming::parse(json!({"jsonrpc": "1.0", "id": 1, "method": "x"})).is_err());
    }

    #[test]
    fn an_unknown_session_version_negotiates_the_newest() {
        assert_eq!(negotiate_session_version(Some("2025-06-18")), "2025-06-18");
        assert_eq!(negotiate_session_version(Some("2024-11-05")), "2025-11-25");
        assert_eq!(negotiate_session_version(None), "2025-11-25");
    }
}
