//! A server for the run-takeover test (`tests/tests/workflow_takeover.rs`): the store
//! `DATABASE_URL` names and one workflow, `relay`, whose middle step is slow
//! (`MASTRA_TEST_SLOW_STEP_MS`, default 4 s), so a test can kill the instance executing it.
//! The lease comes from `MASTRA_WORKFLOW_LEASE_MS`, as in any application. `PORT` as usual.
//!
//! `relay` on `{n}`: `add-one` (n + 1), `double` (slow, ×2, noting the pid of the process that
//! ran it), then `subtract-three`; its result is `{n: 2(n + 1) - 3}` whichever instance ran
//! which step.

use std::time::Duration;

use mastra_runtime::{
    config::ConfigError,
    memory::storage_from_env,
    prelude::*,
    workflow::{Step, StepContext, StepError, Workflow, WorkflowBuildError},
    MastraError,
};

/// The workflow's id.
const WORKFLOW_ID: &str = "relay";

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Number {
    n: i64,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Doubled {
    n: i64,
    /// The process that ran `double` (the instance that took the run over, when one did).
    doubled_by: u32,
}

fn slow_step() -> Duration {
    let millis = std::env::var("MASTRA_TEST_SLOW_STEP_MS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(4_000);
    Duration::from_millis(millis)
}

fn relay() -> Result<Workflow, WorkflowBuildError> {
    Workflow::builder(WORKFLOW_ID)
        .input::<Number>()
        .output::<Number>()
        .then(
            Step::builder("add-one").execute(|input: Number, _ctx: StepContext| async move {
                Ok::<_, StepError>(Number { n: input.n + 1 })
            }),
        )
        .then(
            Step::builder("double").execute(|input: Number, ctx: StepContext| async move {
                tokio::select! {
                    () = tokio::time::sleep(slow_step()) => {}
                    () = ctx.abort_signal().cancelled() => {
                        return Err(StepError::new("stopped"));
                    }
                }
                Ok::<_, StepError>(Doubled {
                    n: input.n * 2,
                    doubled_by: std::process::id(),
                })
            }),
        )
        .then(Step::builder("subtract-three").execute(
            |input: Doubled, _ctx: StepContext| async move {
                Ok::<_, StepError>(Number { n: input.n - 3 })
            },
        ))
        .commit()
}

#[tokio::main]
async fn main() -> Result<(), MastraError> {
    let storage = storage_from_env().map_err(ConfigError::from)?;
    Mastra::builder()
        .shared_storage(storage)
        .workflow(relay())
        .build()?
        .serve()
        .await
}
