//! Serves the routes-only example on http://127.0.0.1:4111 (or `PORT`), or mints a token for
//! its protected routes.
//!
//! ```sh
//! export MASTRA_JWT_SECRET="$(head -c 48 /dev/urandom | base64)"
//! cargo run -p routes-only -- --mint '{"sub":"user-1"}'
//! cargo run -p routes-only
//! ```

use std::process::ExitCode;

use mastra_runtime::{
    auth::{JwtAuth, SECRET_ENV_VAR},
    ServerConfig,
};

const USAGE: &str = "usage: routes-only            serve on 127.0.0.1:4111 (PORT, MASTRA_HOST)
       routes-only --mint [CLAIMS_JSON]   print an HS256 token signed with MASTRA_JWT_SECRET
                                          (default claims: {\"sub\":\"user-1\"}; exp: in 1 hour)";

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None => serve().await,
        Some("--mint") if args.len() <= 2 => mint(args.get(1).map(String::as_str)),
        Some("--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(_) => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("routes-only: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), String> {
    // Checks the secret before anything listens: missing, empty or short is refused here.
    let auth = JwtAuth::from_env().map_err(|e| e.to_string())?;
    let mastra = routes_only::app(ServerConfig::default(), auth)
        .build()
        .map_err(|e| e.to_string())?;
    mastra.serve().await.map_err(|e| e.to_string())
}

fn mint(claims: Option<&str>) -> Result<(), String> {
    // The same checks as the server, so a minted token is one the server accepts.
    JwtAuth::from_env().map_err(|e| e.to_string())?;
    let secret = std::env::var(SECRET_ENV_VAR).map_err(|e| e.to_string())?;
    let token = routes_only::mint(secret.as_bytes(), claims.unwrap_or(r#"{"sub":"user-1"}"#))?;
    println!("{token}");
    Ok(())
}
