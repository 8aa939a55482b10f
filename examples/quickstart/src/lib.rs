//! The quickstart: each snippet of Mastra's custom-routes guide that needs neither auth nor
//! streaming, written with `#[api_route]`, one agent with a tool and memory, and a workflow
//! (`trip-planner`) whose steps use the tool and the agent, all of them (and `GET /items/:itemId`)
//! also served as MCP tools by the MCP server `quickstart-mcp`.
//!
//! The agent uses the offline `mastra/echo` model unless `OPENAI_API_KEY` (or
//! `ANTHROPIC_API_KEY`) is set; the startup log says which. Memory and workflow runs are kept
//! in `./mastra.db`.

pub mod agent;
pub mod approval;
pub mod delete_tool;
pub mod routes;
pub mod workflow;

use mastra_runtime::prelude::*;

/// The application: one agent (with its tool and memory), one workflow and this crate's routes.
pub fn app() -> mastra_runtime::MastraBuilder {
    app_with_agent(agent::agent())
}

/// The application around `agent` (which should be [`agent::agent_with_model`] on some model).
pub fn app_with_agent(agent: Agent) -> mastra_runtime::MastraBuilder {
    Mastra::builder()
        .agent(agent)
        .workflow(workflow::trip_planner())
        .workflow(approval::expense_approval())
        .workflow(approval::slow_report())
        // Its agent, workflow and tool, and `GET /items/:itemId`, as MCP tools at
        // /api/mcp/quickstart-mcp/mcp (docs/mcp.md).
        .mcp_server(
            McpServer::new("quickstart-mcp")
                .name("Quickstart")
                .description("The quickstart's agent, trip planner, converter and item lookup"),
        )
        // Only this crate's routes, so the app stays the same when linked into a test binary.
        .routes_from_module(module_path!())
}
