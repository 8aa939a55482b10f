//! The server the storage benchmark (`bench/src/bin/storage.rs`) drives: one agent with memory
//! on the offline model (no per-token pause, so a turn costs its memory reads and writes, not a
//! sleep) and one quick workflow, on the store `DATABASE_URL` names (SQLite file or
//! PostgreSQL). Several of these may share one database: that is the two-instance case.
//! `PORT` and `BENCH_WORKERS` as for the other bench servers.

use mastra_bench::env_usize;
use std::time::Duration;

use mastra_runtime::{
    memory::storage_from_env,
    model::EchoModel,
    prelude::*,
    workflow::{Step, StepContext, StepError, Workflow},
};

/// The agent the append scenario talks to.
pub const AGENT_ID: &str = "bench-agent";

/// The workflow the run scenario starts.
pub const WORKFLOW_ID: &str = "bench-quick";

/// The quick workflow's input and output.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(crate = "mastra_runtime::schemars")]
struct Count {
    n: i64,
}

/// Two trivial steps: a run costs its snapshot writes (start, each step, the end) and the
/// lease, not computation.
fn quick_workflow() -> Result<Workflow, mastra_runtime::workflow::WorkflowBuildError> {
    let step = |id: &str| {
        Step::builder(id).execute(|input: Count, _ctx: StepContext| async move {
            Ok::<_, StepError>(Count { n: input.n + 1 })
        })
    };
    Workflow::builder(WORKFLOW_ID)
        .input::<Count>()
        .output::<Count>()
        .then(step("first"))
        .then(step("second"))
        .commit()
}

#[tokio::main]
async fn main() -> Result<(), MastraError> {
    let workers = env_usize("BENCH_WORKERS", 1);
    let storage = storage_from_env().map_err(mastra_runtime::config::ConfigError::from)?;
    let agent = Agent::builder(AGENT_ID)
        .instructions("Echo the user.")
        .model(EchoModel::new().token_delay(Duration::ZERO))
        .memory(Memory::new())
        .build();
    Mastra::builder()
        .shared_storage(storage)
        .agent(agent)
        .workflow(quick_workflow())
        .server(
            ServerConfig::default()
                .workers(workers)
                .install_logger(false),
        )
        .build()?
        .serve()
        .await
}
