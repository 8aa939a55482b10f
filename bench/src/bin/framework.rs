//! The framework side: the quickstart as users write it, plus HS256 auth, a protected route and
//! `BENCH_EXTRA_ROUTES` generated routes. `PORT`, `BENCH_WORKERS` as for the baseline.

use mastra_bench::{env_usize, extra_route_path, EXTRA_ROUTES, PROTECTED_PATH, SECRET};
use mastra_runtime::{
    auth::{AuthConfig, AuthUser},
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
    let auth =
        AuthConfig::new(JwtAuth::hs256(SECRET).map_err(|e| MastraError::Config(e.to_string()))?)
            // The quickstart's built-in agent routes stay public, like the baseline's stream.
            .public("/api/agents/*");
    let mut app = quickstart::app()
        .server(
            ServerConfig::default()
                .workers(workers)
                .install_logger(false)
                .auth(auth),
        )
        .route(ApiRoute::get(PROTECTED_PATH).handler(protected));
    for i in 0..extra_routes {
        let path = extra_route_path(i);
        app = app.route(ApiRoute::get(path).handler(extra).requires_auth(false));
    }
    app.build()?.serve().await
}
