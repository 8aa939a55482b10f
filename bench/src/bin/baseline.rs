//! The baseline: the same handlers written directly on actix-web, with only the middleware the
//! framework enables by default (CORS with Mastra's policy). `PORT`, `BENCH_WORKERS`,
//! `BENCH_OPENAPI_FILE` (the bytes to serve at /api/openapi.json) and `BENCH_EXTRA_ROUTES`.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use actix_web::{http::header, web, App, HttpRequest, HttpResponse, HttpServer};
use bytes::Bytes;
use futures_util::stream;
use mastra_bench::{env_usize, extra_route_path, PROTECTED_PATH, SECRET, SSE_FRAMES};
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize)]
struct Item {
    id: String,
    name: String,
    price: f64,
}

#[derive(Deserialize)]
struct CreateItem {
    name: String,
    price: f64,
}

struct Store {
    items: Mutex<BTreeMap<String, Item>>,
    next: AtomicU64,
}

async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"success":true}"#)
}

async fn get_item(store: web::Data<Store>, id: web::Path<String>) -> HttpResponse {
    // Cloned out of the store and serialized after the lock is released, as the quickstart's
    // handler does (it returns an owned `Json<Item>`): the two sides differ only in their glue.
    let item = store
        .items
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(id.as_str())
        .cloned();
    match item {
        Some(item) => HttpResponse::Ok().json(item),
        None => HttpResponse::NotFound().json(serde_json::json!({ "error": "Item not found" })),
    }
}

async fn create_item(store: web::Data<Store>, body: web::Json<CreateItem>) -> HttpResponse {
    let body = body.into_inner();
    if body.name.is_empty() || body.price <= 0.0 {
        return HttpResponse::BadRequest()
            .json(serde_json::json!({ "error": "Invalid request body" }));
    }
    let item = Item {
        id: store.next.fetch_add(1, Ordering::Relaxed).to_string(),
        name: body.name,
        price: body.price,
    };
    store
        .items
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(item.id.clone(), item.clone());
    HttpResponse::Created().json(item)
}

async fn protected(req: HttpRequest, key: web::Data<jsonwebtoken::DecodingKey>) -> HttpResponse {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_required_spec_claims(&["exp"]);
    match token.map(|t| jsonwebtoken::decode::<serde_json::Value>(t, &key, &validation)) {
        Some(Ok(data)) => HttpResponse::Ok().json(data.claims),
        _ => HttpResponse::Unauthorized()
            .json(serde_json::json!({ "error": "Invalid or expired token" })),
    }
}

async fn openapi(doc: web::Data<Bytes>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.get_ref().clone())
}

async fn sse() -> HttpResponse {
    let frames = (0..SSE_FRAMES)
        .map(|i| {
            let chunk = serde_json::json!({
                "type": "text-delta", "runId": "bench", "from": "AGENT",
                "payload": { "id": "bench-text", "text": format!("w{i} ") }
            });
            Bytes::from(format!("data: {chunk}\n\n"))
        })
        .chain(std::iter::once(Bytes::from_static(b"data: [DONE]\n\n")))
        .map(Ok::<_, actix_web::Error>);
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .streaming(stream::iter(frames))
}

async fn extra(id: web::Path<String>) -> HttpResponse {
    HttpResponse::Ok()
        .json(serde_json::json!({ "id": id.as_str(), "name": "Sample Item", "price": 9.99 }))
}

fn cors() -> actix_cors::Cors {
    actix_cors::Cors::default()
        .allow_any_origin()
        .send_wildcard()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .expose_headers([header::CONTENT_LENGTH])
        .max_age(3600)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port = env_usize("PORT", 4112);
    let workers = env_usize("BENCH_WORKERS", 1);
    let extra_routes = env_usize("BENCH_EXTRA_ROUTES", 0);
    let doc = match std::env::var("BENCH_OPENAPI_FILE") {
        Ok(path) => std::fs::read(path)?,
        Err(_) => b"{}".to_vec(),
    };
    let doc = web::Data::new(Bytes::from(doc));
    let sample = Item {
        id: "1".into(),
        name: "Sample Item".into(),
        price: 9.99,
    };
    let store = web::Data::new(Store {
        items: Mutex::new(BTreeMap::from([(sample.id.clone(), sample)])),
        next: AtomicU64::new(2),
    });
    let key = jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes())
        .map_err(|e| std::io::Error::other(format!("bench secret: {e}")))?;
    let key = web::Data::new(key);
    let extra_paths: Arc<Vec<String>> = Arc::new((0..extra_routes).map(extra_route_path).collect());
    HttpServer::new(move || {
        let mut app = App::new()
            .app_data(store.clone())
            .app_data(key.clone())
            .app_data(doc.clone())
            .wrap(cors())
            .route("/health", web::get().to(health))
            .route("/items/{itemId}", web::get().to(get_item))
            .route("/items", web::post().to(create_item))
            .route(PROTECTED_PATH, web::get().to(protected))
            .route("/api/openapi.json", web::get().to(openapi))
            .route("/api/agents/my-agent/stream", web::post().to(sse));
        for path in extra_paths.iter() {
            app = app.route(path, web::get().to(extra));
        }
        app
    })
    .workers(workers)
    .bind(("127.0.0.1", port as u16))?
    .run()
    .await
}
