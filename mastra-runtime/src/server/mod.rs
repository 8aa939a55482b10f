//! The HTTP server: configuration, actix-web application assembly, built-in routes, and the
//! running server handle.

mod app;
pub(crate) mod builtin;
pub mod config;
pub(crate) mod core;
pub mod limits;

pub(crate) use app::start_on;
pub use app::RunningServer;
pub use config::{AllowedOrigins, CorsConfig, ServerConfig};
pub use core::REQUEST_ID_HEADER;
