//! What the two benchmark servers share: the scenario routes, the secret, the request bodies.
//! Both servers answer the same requests with the same JSON so only the framework differs.

use std::time::{SystemTime, UNIX_EPOCH};

/// HS256 secret both servers verify with (benchmarks only; never a real secret).
pub const SECRET: &str = "bench-secret-0123456789abcdef0123456789abcdef";

/// Route path of the JWT-protected scenario.
pub const PROTECTED_PATH: &str = "/protected";

/// Words in the SSE scenario's prompt. The offline model answers "You said: <prompt>", one text
/// delta per word (994), and start, step-start, text-start, text-end, step-finish and finish
/// bring the stream to [`SSE_FRAMES`] chunks.
pub const SSE_WORDS: usize = 992;

/// Chunks in the SSE scenario, on both sides, before the closing `data: [DONE]`.
pub const SSE_FRAMES: usize = 1_000;

/// Extra routes registered for the routing-cost scenario.
pub const EXTRA_ROUTES: usize = 1_000;

/// Path of extra route `i` (parameterised like the item route).
pub fn extra_route_path(i: usize) -> String {
    format!("/bench/{i}/items/{{itemId}}")
}

/// The POST body of the create scenario (valid: name non-empty, price positive).
pub const CREATE_BODY: &str = r#"{"name":"Lamp","price":12.5}"#;

/// The SSE scenario's request body.
pub fn sse_body() -> String {
    let words: Vec<String> = (0..SSE_WORDS).map(|i| format!("w{i}")).collect();
    serde_json::json!({ "messages": words.join(" ") }).to_string()
}

/// A token both servers accept, valid for an hour.
pub fn token() -> Result<String, jsonwebtoken::errors::Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = serde_json::json!({ "sub": "bench", "name": "Bench", "exp": now + 3600 });
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes())?;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &key,
    )
}

/// Reads a `usize` setting from the environment.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
