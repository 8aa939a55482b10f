//! Agent run records: what a [`Storage`](super::Storage) keeps of an agent run that stopped
//! before a tool call waiting for a person's approval, so that any server instance sharing the
//! store can list it and continue it.
//!
//! A record moves `suspended` -> `running` in one conditional write
//! ([`Storage::claim_agent_run`](super::Storage::claim_agent_run)), so of two decisions sent at
//! once exactly one continues the run.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Timestamp;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use super::{check_id, limits::stored_json, StorageError};

/// Where an agent run kept in storage is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AgentRunStatus {
    /// Stopped before a tool call that waits for approval.
    Suspended,
    /// A decision was taken and the run goes on.
    Running,
    /// The run ended after its last decision.
    Success,
    /// The run failed after a decision.
    Failed,
}

impl AgentRunStatus {
    /// Every status.
    pub const ALL: [AgentRunStatus; 4] = [
        AgentRunStatus::Suspended,
        AgentRunStatus::Running,
        AgentRunStatus::Success,
        AgentRunStatus::Failed,
    ];

    /// The stored and wire name (`suspended`).
    pub fn as_str(self) -> &'static str {
        match self {
            AgentRunStatus::Suspended => "suspended",
            AgentRunStatus::Running => "running",
            AgentRunStatus::Success => "success",
            AgentRunStatus::Failed => "failed",
        }
    }

    /// The status named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for AgentRunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One agent run as stored: which agent, which run, whose, where it is, and its state (the
/// conversation so far and the tool call waiting for a decision) as JSON, which only the agent
/// module reads.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRunRecord {
    /// The agent's id.
    pub agent_id: String,
    /// The run's id, unique within the agent.
    pub run_id: String,
    /// The memory resource the run writes as, if it has memory.
    pub resource_id: Option<String>,
    /// The memory thread the run writes to, if it has memory.
    pub thread_id: Option<String>,
    /// Where the run is (a column of its own, for listing and claiming).
    pub status: AgentRunStatus,
    /// The run's state.
    pub snapshot: Value,
    /// Bumped by every write; a claim names the version it read, so a decision taken on a
    /// state that has since changed claims nothing.
    pub version: i64,
    /// When the run was first kept.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// Which agent runs to list. Runs come newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentRunFilter {
    /// The agent.
    pub agent_id: String,
    /// Only runs in this status.
    pub status: Option<AgentRunStatus>,
    /// Only this resource's runs.
    pub resource_id: Option<String>,
    /// Only runs writing to this memory thread.
    pub thread_id: Option<String>,
}

impl AgentRunFilter {
    /// Every run of `agent` kept in storage.
    pub fn new(agent: impl Into<String>) -> Self {
        Self {
            agent_id: agent.into(),
            ..Self::default()
        }
    }
}

/// What a store writes of an agent run, checked against the storage limits (every id within
/// [`MAX_ID_BYTES`](super::MAX_ID_BYTES), the state within
/// [`MAX_STORED_DEPTH`](super::MAX_STORED_DEPTH)): its state's text.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(super) fn checked_agent_run(run: &AgentRunRecord) -> Result<String, StorageError> {
    check_id("agentId", &run.agent_id)?;
    check_id("runId", &run.run_id)?;
    if let Some(resource) = &run.resource_id {
        check_id("resourceId", resource)?;
    }
    if let Some(thread) = &run.thread_id {
        check_id("threadId", thread)?;
    }
    stored_json("agent run snapshot", &run.snapshot, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_by_name() {
        for status in AgentRunStatus::ALL {
            assert_eq!(AgentRunStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                Value::String(status.as_str().to_owned())
            );
        }
        assert_eq!(AgentRunStatus::parse("pending"), None);
    }
}
