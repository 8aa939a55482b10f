//! [`WorkflowHost`]: what a registered workflow needs from the application that holds it.

use std::sync::Arc;

use super::exec::RunLease;
use crate::{
    agent::Agent, app::AppHandle, background::BackgroundTasks, error::NotFound, memory::Storage,
    tool::Tool,
};

/// The services a registered workflow calls on its application: where runs are saved, where
/// they run, and the agents and tools its steps reach. The application (the `Mastra` facade,
/// a layer above) implements it; a workflow holds it weakly, since the application holds the
/// workflow.
pub(crate) trait WorkflowHost: Send + Sync {
    /// Where runs are recorded.
    fn storage(&self) -> Arc<dyn Storage>;
    /// Where a started run is driven, tracked so shutdown waits for it.
    fn background(&self) -> &BackgroundTasks;
    /// The agent registered under `id`.
    fn agent(&self, id: &str) -> Result<Agent, NotFound>;
    /// The tool registered under `id`.
    fn tool(&self, id: &str) -> Result<Tool, NotFound>;
    /// How long a run may go unrenewed before another instance sharing the store takes it
    /// over.
    fn run_lease(&self) -> RunLease;
    /// The application itself, handed to steps (`StepContext::mastra`), agents and tools.
    fn handle(self: Arc<Self>) -> AppHandle;
}
