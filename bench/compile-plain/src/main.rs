//! The routes-only application on plain actix-web: the quickstart's item routes and the auth
//! example's routes, an OpenAPI document (apistos) with Swagger UI, and HS256 bearer tokens
//! checked with jsonwebtoken. What `examples/routes-only` gets from mastra-runtime with
//! `default-features = false, features = ["openapi", "swagger-ui", "jwt"]`, written by hand;
//! `bench/compile.sh` compares the clean builds of the two.

use std::{
    collections::BTreeMap,
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, OnceLock, PoisonError,
    },
};

use actix_web::{
    dev::Payload, http::StatusCode, web, FromRequest, HttpRequest, HttpResponse, HttpServer,
    ResponseError,
};
use apistos::{
    actix::CreatedJson,
    api_operation,
    app::{BuildConfig, OpenApiWrapper},
    info::Info,
    schemars::JsonSchema,
    spec::Spec,
    web::{get, post, resource},
    ApiComponent, ApiErrorComponent, ApiSecurity, SwaggerUIConfig,
};
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// An item in the catalogue.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct Item {
    /// Unique identifier.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Price in the shop's currency.
    pub price: f64,
}

/// What a client sends to create an item.
#[derive(Debug, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct CreateItem {
    /// Display name; at least one character.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Price; strictly positive.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub price: f64,
}

/// The claims the tokens carry.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct UserClaims {
    /// The user id.
    pub sub: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Role.
    #[serde(default)]
    pub role: Option<String>,
}

/// The caller's profile.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct Profile {
    id: String,
    name: Option<String>,
    role: Option<String>,
}

/// The JSON error body, `{"error": "..."}`, with its status.
#[derive(Debug, ApiErrorComponent)]
#[openapi_error(
    status(code = 400, description = "Invalid request"),
    status(code = 401, description = "Missing or invalid token"),
    status(code = 404, description = "Not found")
)]
pub enum ApiError {
    BadRequest(String),
    Unauthorized(String),
    NotFound(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadRequest(m) | Self::Unauthorized(m) | Self::NotFound(m) => f.write_str(m),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(json!({ "error": self.to_string() }))
    }
}

/// The HS256 key tokens are checked with.
struct JwtKey(DecodingKey);

/// A verified bearer token's claims: the extractor every protected handler takes.
#[derive(ApiSecurity)]
#[openapi_security(scheme(security_type(http(scheme = "bearer", bearer_format = "JWT"))))]
pub struct Bearer(UserClaims);

impl FromRequest for Bearer {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(verify(req).map(Bearer))
    }
}

fn verify(req: &HttpRequest) -> Result<UserClaims, ApiError> {
    let unauthorized = |m: &str| ApiError::Unauthorized(m.to_owned());
    let token = req
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("missing bearer token"))?;
    let key = req
        .app_data::<web::Data<JwtKey>>()
        .ok_or_else(|| unauthorized("auth is not configured"))?;
    decode::<UserClaims>(token, &key.0, &Validation::new(Algorithm::HS256))
        .map(|data| data.claims)
        .map_err(|_| unauthorized("invalid token"))
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
#[api_operation(tag = "Items")]
async fn get_item(item_id: web::Path<String>) -> Result<web::Json<Item>, ApiError> {
    let item_id = item_id.into_inner();
    let items = store().lock().unwrap_or_else(PoisonError::into_inner);
    items
        .get(&item_id)
        .cloned()
        .map(web::Json)
        .ok_or_else(|| ApiError::NotFound(format!("Item {item_id} not found")))
}

/// Create a new item
#[api_operation(tag = "Items")]
async fn create_item(new: web::Json<CreateItem>) -> Result<CreatedJson<Item>, ApiError> {
    let new = new.into_inner();
    // What the schema says, checked by hand.
    if new.name.is_empty() {
        return Err(ApiError::BadRequest("name: at least one character".into()));
    }
    if new.price.is_nan() || new.price <= 0.0 {
        return Err(ApiError::BadRequest("price: must be greater than 0".into()));
    }
    let item = Item {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed).to_string(),
        name: new.name,
        price: new.price,
    };
    store()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(item.id.clone(), item.clone());
    Ok(CreatedJson(item))
}

/// The data behind `/protected-data`: who asked.
#[api_operation(tag = "Auth example")]
async fn protected_data(Bearer(user): Bearer) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "message": "This is protected data", "user": user }))
}

/// Receive a GitHub webhook
///
/// Public: GitHub signs the body instead of sending a bearer token.
#[api_operation(tag = "Auth example", skip_args = "payload")]
async fn github_webhook(req: HttpRequest, payload: web::Json<Value>) -> HttpResponse {
    let event = req
        .headers()
        .get("x-github-event")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("unknown")
        .to_owned();
    let action = payload.get("action").cloned().unwrap_or(Value::Null);
    HttpResponse::Ok().json(json!({ "received": true, "event": event, "action": action }))
}

/// The caller's profile, from the typed claims.
#[api_operation(tag = "Auth example")]
async fn user_profile(Bearer(user): Bearer) -> web::Json<Profile> {
    web::Json(Profile {
        id: user.sub,
        name: user.name,
        role: user.role,
    })
}

#[api_operation(skip)]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The allocator and settings of examples/routes-only, so both sides of the comparison compile
/// jemalloc.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[export_name = "_rjem_malloc_conf"]
static ALLOCATOR_CONF: &[u8; 60] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let secret = std::env::var("MASTRA_JWT_SECRET").unwrap_or_default();
    let key = DecodingKey::from_secret(secret.as_bytes())
        .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidInput, error))?;
    let key = web::Data::new(JwtKey(key));
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(4111);
    HttpServer::new(move || {
        let spec = Spec {
            info: Info {
                title: "routes-only (plain actix-web)".into(),
                version: "0.0.0".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        actix_web::App::new()
            .document(spec)
            .app_data(key.clone())
            .service(resource("/health").route(get().to(health)))
            .service(resource("/items/{itemId}").route(get().to(get_item)))
            .service(resource("/items").route(post().to(create_item)))
            .service(resource("/protected-data").route(get().to(protected_data)))
            .service(resource("/webhooks/github").route(post().to(github_webhook)))
            .service(resource("/user-profile").route(get().to(user_profile)))
            .build_with(
                "/api/openapi.json",
                BuildConfig::default().with_ui(SwaggerUIConfig::new(&"/swagger-ui")),
            )
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
