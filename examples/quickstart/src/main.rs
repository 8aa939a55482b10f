//! `cargo run -p quickstart`: serves the quickstart on 127.0.0.1:4111 (or `PORT`).
//!
//! Memory and workflow runs go to the store `DATABASE_URL` names (`postgres://…` or
//! `sqlite://…`; `./mastra.db` when unset). A store that cannot be opened at startup ends the
//! process at once with exit code 1 and a message naming the store (password hidden) and what
//! failed.

use std::process::ExitCode;

use mastra_runtime::{config::ConfigError, memory::storage_from_env, MastraError};

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
async fn main() -> ExitCode {
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("quickstart: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), MastraError> {
    let storage = storage_from_env().map_err(ConfigError::from)?;
    quickstart::app()
        .shared_storage(storage)
        .build()?
        .serve()
        .await
}
