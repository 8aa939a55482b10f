//! The routes of Mastra's custom-routes guide.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, OnceLock, PoisonError,
    },
};

use mastra_runtime::{
    actix_web::http::header::{HeaderName, HeaderValue},
    middleware::{Error, Next, ServiceRequest, ServiceResponse},
    prelude::*,
};

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

/// What a client sends to create an item. The constraints are declared once, here: the
/// OpenAPI document shows them and requests that break them get 400 before the handler runs.
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

/// Removes the item `item_id` from the catalogue; `None` when there is none. The agent's
/// `delete-item` tool (which waits for approval) calls it.
pub fn remove_item(item_id: &str) -> Option<Item> {
    store()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(item_id)
}

static NEXT_ID: AtomicU64 = AtomicU64::new(2);

/// Logs each request before the handler runs (the guide's logging middleware).
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    tracing::info!(method = %req.method(), url = %req.uri(), "custom route called");
    let mut res = next.call(req).await?;
    res.headers_mut().insert(
        HeaderName::from_static("x-logged-by"),
        HeaderValue::from_static("log_request"),
    );
    Ok(res)
}

/// A custom route that reaches the agent through the Mastra handle.
#[api_route(
    "/my-custom-route",
    method = "GET",
    requires_auth = false,
    middleware(log_request)
)]
pub async fn my_custom_route(c: Context) -> Result<HttpResponse, ApiError> {
    let agent = c.mastra().agent("my-agent")?;
    Ok(c.json(json!({ "message": "Custom route", "agent": agent.name() })))
}

/// Get item by ID
///
/// Retrieves a single item by its unique identifier.
#[api_route(
    "/items/:itemId",
    method = "GET",
    requires_auth = false,
    mcp(name = "get_item"),
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
