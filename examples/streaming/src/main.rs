//! `cargo run -p streaming-example`: serves the streaming example on 127.0.0.1:4111 (or `PORT`).

use mastra_runtime::MastraError;

#[tokio::main]
async fn main() -> Result<(), MastraError> {
    streaming_example::app().build()?.serve().await
}
