//! The HTTP server: configuration, actix-web application assembly (`assemble`, `mounts`), the
//! layers every request passes through (`envelope`, `route_guard`), built-in routes, and the
//! running server (`run`).

mod assemble;
pub(crate) mod builtin;
mod cors;
mod deadlines;
mod envelope;
mod mounts;
mod route_guard;
mod run;
pub(crate) mod table;

pub use crate::config::{self, limits};

pub use config::{AllowedOrigins, CorsConfig, ServerConfig};
pub use envelope::REQUEST_ID_HEADER;
pub use run::RunningServer;
