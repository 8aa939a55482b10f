//! Workflow run records: what a [`Storage`](super::Storage) keeps of each workflow run (its
//! status and its latest snapshot), and how runs are listed.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Timestamp;

/// Where a workflow run is. Mastra's names; `pending` is a run created and not yet started.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, PartialOrd, Ord,
)]
#[serde(rename_all = "lowercase")]
pub enum WorkflowRunStatus {
    /// Created (`create-run`), not started.
    Pending,
    /// Started, not finished.
    Running,
    /// Every step succeeded; the run has a result.
    Success,
    /// A step failed (or the run could not go on); the run has an error.
    Failed,
    /// A step called `suspend` and waits to be resumed; the snapshot says which and why.
    Suspended,
    /// The run was cancelled (`runs/:runId/cancel`) before it finished.
    Canceled,
}

impl WorkflowRunStatus {
    /// Every status.
    pub const ALL: [WorkflowRunStatus; 6] = [
        WorkflowRunStatus::Pending,
        WorkflowRunStatus::Running,
        WorkflowRunStatus::Success,
        WorkflowRunStatus::Failed,
        WorkflowRunStatus::Suspended,
        WorkflowRunStatus::Canceled,
    ];

    /// The stored and wire name (`running`).
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowRunStatus::Pending => "pending",
            WorkflowRunStatus::Running => "running",
            WorkflowRunStatus::Success => "success",
            WorkflowRunStatus::Failed => "failed",
            WorkflowRunStatus::Suspended => "suspended",
            WorkflowRunStatus::Canceled => "canceled",
        }
    }

    /// The status named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the run is over for good (success, failed or canceled). A suspended run is
    /// not: it can be resumed.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            WorkflowRunStatus::Success | WorkflowRunStatus::Failed | WorkflowRunStatus::Canceled
        )
    }
}

impl fmt::Display for WorkflowRunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One workflow run as stored: which workflow, which run, whose, where it is, and its latest
/// snapshot (status, input, every step's result, the result or error) as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRunRecord {
    /// The workflow's id.
    pub workflow_name: String,
    /// The run's id, unique within the workflow.
    pub run_id: String,
    /// Who the run belongs to, when the client said.
    pub resource_id: Option<String>,
    /// Where the run is (also inside the snapshot; a column of its own for filtering).
    pub status: WorkflowRunStatus,
    /// The latest snapshot.
    pub snapshot: Value,
    /// When the run was created.
    pub created_at: Timestamp,
    /// When the snapshot last changed.
    pub updated_at: Timestamp,
}

/// Which runs of a workflow to list. Runs come newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkflowRunFilter {
    /// The workflow.
    pub workflow_name: String,
    /// Only runs in this status.
    pub status: Option<WorkflowRunStatus>,
    /// Only this owner's runs.
    pub resource_id: Option<String>,
    /// Only runs created at or after this time.
    pub from: Option<Timestamp>,
    /// Only runs created at or before this time.
    pub to: Option<Timestamp>,
}

impl WorkflowRunFilter {
    /// Every run of `workflow`.
    pub fn new(workflow: impl Into<String>) -> Self {
        Self {
            workflow_name: workflow.into(),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_by_name() {
        for status in WorkflowRunStatus::ALL {
            assert_eq!(WorkflowRunStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                Value::String(status.as_str().to_owned())
            );
        }
        assert_eq!(WorkflowRunStatus::parse("done"), None);
    }
}
