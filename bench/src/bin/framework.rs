//! The framework side: the quickstart as users write it, plus HS256 auth, a protected route and
//! `BENCH_EXTRA_ROUTES` generated routes. `PORT`, `BENCH_WORKERS` as for the baseline.

use mastra_bench::{env_usize, extra_route_path, EXTRA_ROUTES, PROTECTED_PATH, SECRET};
use std::time::Duration;

use mastra_runtime::{
    auth::{AuthConfig, AuthUser},
    model::EchoModel,
    prelude::*,
};

async fn protected(AuthUser(claims): AuthUser<serde_json::Value>) -> Json<serde_json::Value> {
    Json(claims)
}

async fn extra(Path(item_id): Path<String>) -> Json<serde_json::Value> {
    Json(json!({ "id": item_id, "name": "Sample Item", "price": 9.99 }))
}

#[tokio::main]
async fn main() -> Result<(), MastraError> {
    let workers = env_usize("BENCH_WORKERS", 1);
    let extra_routes = env_usize("BENCH_EXTRA_ROUTES", 0).min(EXTRA_ROUTES * 10);
    let auth = AuthConfig::new(JwtAuth::hs256(SECRET)?)
        // The quickstart's built-in agent routes stay public, like the baseline's stream.
        .public("/api/agents/*");
    // The offline model without its per-token pause, so the SSE scenario measures the
    // framework's streaming rather than a sleep.
    let agent = quickstart::agent::agent_with_model(EchoModel::new().token_delay(Duration::ZERO));
    let mut app = quickstart::app_with_agent(agent)
        .server(
            ServerConfig::default()
                .workers(workers)
                .install_logger(false)
                // Release builds leave the document off unless asked (Mastra's default).
                .openapi_docs(true)
                .swagger_ui(true)
                .auth(auth),
        )
        .route(ApiRoute::get(PROTECTED_PATH).handler(protected));
    for i in 0..extra_routes {
        let path = extra_route_path(i);
        app = app.route(ApiRoute::get(path).handler(extra).requires_auth(false));
    }
    app.build()?.serve().await
}
