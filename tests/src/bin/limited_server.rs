//! The quickstart as a process whose limits a test sets through the environment (the library's
//! settings have no variables of their own): `MASTRA_TEST_WORKERS`,
//! `MASTRA_TEST_BODY_READ_TIMEOUT_MS`. `PORT` as usual. `tests/tests/slow_bodies.rs` runs it under
//! a small open-file limit.

use std::time::Duration;

use mastra_runtime::{MastraError, ServerConfig};

fn var<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|text| text.parse().ok())
}

#[tokio::main]
async fn main() -> Result<(), MastraError> {
    let mut config = ServerConfig::default();
    if let Some(workers) = var("MASTRA_TEST_WORKERS") {
        config = config.workers(workers);
    }
    if let Some(millis) = var("MASTRA_TEST_BODY_READ_TIMEOUT_MS") {
        config = config.body_read_timeout(Duration::from_millis(millis));
    }
    quickstart::app().server(config).build()?.serve().await
}
