//! The HTTP server: configuration, actix-web application assembly, built-in routes, and the
//! running server handle.

mod app;
pub(crate) mod builtin;
mod envelope;
mod route_guard;
mod run;
pub(crate) mod table;

pub use crate::config::{self, limits};

pub use app::RunningServer;
pub use config::{AllowedOrigins, CorsConfig, ServerConfig};
pub use envelope::REQUEST_ID_HEADER;
