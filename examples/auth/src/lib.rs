//! Mastra's authentication snippets in Rust: every route needs a JWT signed with
//! `MASTRA_JWT_SECRET`, except the GitHub webhook; handlers read the verified user.
//!
//! `app(config, auth)` is the application (the binary serves it; the tests start it on 127.0.0.1),
//! and `mint` signs a token for trying it.

use mastra_runtime::{
    auth::{
        jsonwebtoken::{encode, get_current_timestamp, EncodingKey, Header},
        Algorithm, JwtAuth,
    },
    prelude::*,
    MastraBuilder,
};
use serde_json::Value;

/// The data behind `/protected-data`: who asked, as the auth layer verified it.
///
/// Any valid token gets here; the claims are in the request context under `user`, as in
/// Mastra's `c.get("requestContext").get("user")`.
#[api_route("/protected-data", method = "GET", openapi(tags("Auth example")))]
async fn protected_data(c: Context) -> HttpResponse {
    let user = c.request_context().get("user");
    c.json(json!({ "message": "This is protected data", "user": user }))
}

/// Receive a GitHub webhook
///
/// Public: GitHub cannot send a bearer token (it signs the body instead, which a real handler
/// checks with the webhook secret).
#[api_route(
    "/webhooks/github",
    method = "POST",
    requires_auth = false,
    openapi(tags("Auth example"))
)]
async fn github_webhook(c: Context, Json(payload): Json<Value>) -> HttpResponse {
    let event = c.header("x-github-event").unwrap_or("unknown").to_owned();
    let action = payload.get("action").cloned().unwrap_or(Value::Null);
    tracing::info!(%event, "GitHub webhook received");
    c.json(json!({ "received": true, "event": event, "action": action }))
}

/// The claims this application puts in its tokens.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct UserClaims {
    /// The user id.
    pub sub: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Role, for authorization decisions.
    #[serde(default)]
    pub role: Option<String>,
}

/// The user's profile.
#[derive(Debug, Serialize, JsonSchema)]
struct Profile {
    id: String,
    name: Option<String>,
    role: Option<String>,
}

/// The caller's profile, from the typed claims.
#[api_route("/user-profile", method = "GET", openapi(tags("Auth example")))]
async fn user_profile(AuthUser(user): AuthUser<UserClaims>) -> Json<Profile> {
    Json(Profile {
        id: user.sub,
        name: user.name,
        role: user.role,
    })
}

/// The application: this crate's routes, served with `config` behind `auth`.
pub fn app(config: ServerConfig, auth: JwtAuth) -> MastraBuilder {
    Mastra::builder()
        .routes_from_module(module_path!())
        .server(config.auth(auth))
}

/// How long a minted token is valid unless its claims set `exp`: one hour.
pub const MINT_TTL_SECS: u64 = 3600;

/// Signs `claims` (a JSON object) with HS256 and `secret`, adding `exp` one hour ahead and
/// `iat` unless they are given.
pub fn mint(secret: &[u8], claims: &str) -> Result<String, String> {
    let mut claims: Value =
        serde_json::from_str(claims).map_err(|e| format!("claims are not JSON: {e}"))?;
    let Some(object) = claims.as_object_mut() else {
        return Err("claims must be a JSON object".to_owned());
    };
    let now = get_current_timestamp();
    object.entry("iat").or_insert(now.into());
    object.entry("exp").or_insert((now + MINT_TTL_SECS).into());
    let key = EncodingKey::from_secret(secret).map_err(|e| e.to_string())?;
    encode(&Header::new(Algorithm::HS256), &claims, &key).map_err(|e| e.to_string())
}
