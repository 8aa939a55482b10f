//! `cargo run -p quickstart`: serves the quickstart on 127.0.0.1:4111 (or `PORT`).

use mastra_runtime::MastraError;

/// jemalloc, with a background thread that returns freed memory to the system, so the resident
/// size falls back after a spike (a large request body); the library leaves the choice of
/// allocator to the application.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read when it starts: purge freed pages within about a second
/// (`dirty_decay_ms`) and hand them straight back (`muzzy_decay_ms:0`), from the background
/// thread, so an idle server shrinks too.
#[export_name = "_rjem_malloc_conf"]
static ALLOCATOR_CONF: &[u8; 60] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

#[tokio::main]
async fn main() -> Result<(), MastraError> {
    quickstart::app().build()?.serve().await
}
