//! The quickstart: each snippet of Mastra's custom-routes guide that needs neither auth nor
//! streaming, written with `#[api_route]`.

pub mod routes;

use mastra_runtime::prelude::*;

/// The application: one agent and this crate's routes.
pub fn app() -> mastra_runtime::MastraBuilder {
    Mastra::builder()
        .agent(
            Agent::builder("my-agent")
                .name("My Agent")
                .instructions("You are a helpful assistant.")
                .model("openai/gpt-4o-mini"),
        )
        // Only this crate's routes, so the app stays the same when linked into a test binary.
        .routes_from_module(module_path!())
}
