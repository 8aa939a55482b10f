//! Custom routes and nothing else: the catalogue's item routes, described in the OpenAPI
//! document and Swagger UI, with deleting behind a JWT. Built with
//! `default-features = false, features = ["openapi", "swagger-ui", "jwt"]`, so the server has
//! no agent, tool, memory, workflow or MCP routes and the build has no sqlx, reqwest or
//! jsonschema (`CreateItem`'s constraints are checked by the plain checker).
//!
//! `app(config, auth)` is the application the binary serves; `mint` signs a token for trying
//! the protected route.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, OnceLock, PoisonError,
    },
};

use mastra_runtime::{
    auth::{
        jsonwebtoken::{encode, get_current_timestamp, EncodingKey, Header},
        Algorithm, JwtAuth,
    },
    prelude::*,
    MastraBuilder,
};
use serde_json::Value;

/// An item in the catalogue.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Item {
    /// Unique identifier.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Price in the shop's currency.
    pub price: f64,
}

/// What a client sends to create an item: the document shows the constraints, and a request
/// that breaks them gets 400 before the handler runs.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateItem {
    /// Display name; at least one character.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Price; strictly positive.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub price: f64,
}

fn store() -> &'static Mutex<BTreeMap<String, Item>> {
    static STORE: OnceLock<Mutex<BTreeMap<String, Item>>> = OnceLock::new();
    STORE.get_or_init(|| {
        let sample = Item {
            id: "1".into(),
            name: "Sample Item".into(),
            price: 9.99,
        };
        Mutex::new(BTreeMap::from([(sample.id.clone(), sample)]))
    })
}

static NEXT_ID: AtomicU64 = AtomicU64::new(2);

/// Get item by ID
///
/// Retrieves a single item by its unique identifier.
#[api_route(
    "/items/:itemId",
    method = "GET",
    requires_auth = false,
    openapi(
        tags("Items"),
        responses((status = 404, description = "Item not found"))
    )
)]
pub async fn get_item(Path(item_id): Path<String>) -> Result<Json<Item>, ApiError> {
    let items = store().lock().unwrap_or_else(PoisonError::into_inner);
    items
        .get(&item_id)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("Item {item_id} not found")))
}

/// Create a new item
#[api_route(
    "/items",
    method = "POST",
    requires_auth = false,
    openapi(
        tags("Items"),
        responses((status = 201, description = "Item created", body = Item))
    )
)]
pub async fn create_item(Json(new): Json<CreateItem>) -> Created<Json<Item>> {
    let item = Item {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed).to_string(),
        name: new.name,
        price: new.price,
    };
    store()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(item.id.clone(), item.clone());
    Created(Json(item))
}

/// Delete an item
///
/// Needs a token (every route does unless it says `requires_auth = false`); answers the item
/// removed.
#[api_route(
    "/items/:itemId",
    method = "DELETE",
    openapi(
        tags("Items"),
        responses((status = 404, description = "Item not found"))
    )
)]
pub async fn delete_item(Path(item_id): Path<String>) -> Result<Json<Item>, ApiError> {
    store()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&item_id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("Item {item_id} not found")))
}

/// Who the token says the caller is.
#[api_route("/me", method = "GET", openapi(tags("Auth")))]
pub async fn me(AuthUser(claims): AuthUser<Value>) -> Json<Value> {
    Json(claims)
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
