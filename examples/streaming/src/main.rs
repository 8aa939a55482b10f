//! `cargo run -p streaming-example`: serves the streaming example on 127.0.0.1:4111 (or `PORT`).

use mastra_runtime::MastraError;

/// mimalloc returns freed memory to the system, so the resident size falls back after a spike
/// (a large request body); the library leaves the choice of allocator to the application.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), MastraError> {
    streaming_example::app().build()?.serve().await
}
