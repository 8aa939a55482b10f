//! `cargo run -p quickstart`: serves the quickstart on 127.0.0.1:4111 (or `PORT`).

use mastra_runtime::MastraError;

#[tokio::main]
async fn main() -> Result<(), MastraError> {
    quickstart::app().build()?.serve().await
}
