//! The default log output for applications that set none.

use tracing_subscriber::EnvFilter;

/// Installs a formatted `tracing` subscriber filtered by `RUST_LOG` (default `info`), unless the
/// application already installed one.
pub fn install_default_subscriber() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // `try_init` fails only when a subscriber is already set, which is the case to respect.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}
