//! Tool calls that wait for a person's approval: the pending call, the kept (suspended) run,
//! and the decisions that continue it ([`Agent::approve_tool_call`],
//! [`Agent::decline_tool_call`]).
//!
//! A run that reaches a call to a tool built with
//! [`require_approval(true)`](crate::tool::ToolBuilder::require_approval) is written to the
//! agent's store as a suspended agent run and its stream ends after a `tool-call-approval`
//! chunk. A decision reads the run, claims it in one conditional write (so of two decisions
//! sent at once, on one server or several sharing the store, exactly one continues it) and
//! streams the rest of the turn.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    run::{self, ResumePlan},
    run_state::{Decision, RunState},
    Agent, AgentError, GenerateOptions, ModelOutput,
};
use crate::memory::{
    check_id, AgentRunFilter, AgentRunRecord, AgentRunStatus, Page, PageRequest, Storage,
    StorageError, Timestamp,
};

/// What the model receives instead of a declined tool's result (Mastra's words).
pub const NOT_APPROVED: &str = "Tool call was not approved by the user";

/// The resume schema a `tool-call-approval` chunk carries (Mastra's, as a JSON Schema string):
/// a decision is `{"approved": true | false}`.
pub const APPROVAL_RESUME_SCHEMA: &str =
    r#"{"type":"object","properties":{"approved":{"type":"boolean"}},"required":["approved"]}"#;

/// A tool call waiting for approval: the `tool-call-approval` chunk's payload (with
/// `resumeSchema`), and the `suspendPayload` of a suspended run's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolApprovalRequest {
    /// The call's id: what `approve-tool-call` and `decline-tool-call` name.
    pub tool_call_id: String,
    /// The tool, by the agent's key for it.
    pub tool_name: String,
    /// The arguments the model gave.
    pub args: Value,
}

/// A tool call of a suspended run, as `GET /api/agents/:agentId/suspended-runs` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuspendedToolCall {
    /// The call's id.
    pub tool_call_id: String,
    /// The tool.
    pub tool_name: String,
    /// The arguments the model gave.
    pub args: Value,
    /// Whether it waits for approval (always, here).
    pub requires_approval: bool,
}

/// A run waiting for a decision, as `GET /api/agents/:agentId/suspended-runs` lists it
/// (Mastra's shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuspendedRun {
    /// The run's id: what a decision names.
    pub run_id: String,
    /// Always `suspended`.
    pub status: AgentRunStatus,
    /// The memory thread the turn will be saved to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// The memory resource, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// When it stopped.
    pub suspended_at: Timestamp,
    /// The calls waiting (one: a run stops at the first call that waits).
    pub tool_calls: Vec<SuspendedToolCall>,
}

/// Which suspended runs [`Agent::suspended_runs`] lists (every one when empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SuspendedRunFilter {
    /// Only this memory resource's runs.
    pub resource_id: Option<String>,
    /// Only runs writing to this memory thread.
    pub thread_id: Option<String>,
}

/// A run kept in storage, and the version its next write takes.
pub(crate) struct KeptRun {
    storage: Arc<dyn Storage>,
    agent_id: String,
    run_id: String,
    created_at: Timestamp,
    /// The version last written or claimed; the next write is `version + 1`.
    version: i64,
}

impl KeptRun {
    /// A run not kept yet.
    pub(crate) fn fresh(agent: &Agent, run_id: &str) -> Result<Self, StorageError> {
        Ok(Self {
            storage: agent.run_storage()?,
            agent_id: agent.id().to_owned(),
            run_id: run_id.to_owned(),
            created_at: Timestamp::now(),
            version: 0,
        })
    }

    /// Writes `state` with `status`.
    pub(crate) async fn save(
        &self,
        state: &RunState,
        status: AgentRunStatus,
    ) -> Result<(), StorageError> {
        let snapshot = serde_json::to_value(state).map_err(|e| {
            StorageError::Query(format!("agent run state cannot be serialized: {e}"))
        })?;
        let memory = state.memory.as_ref();
        self.storage
            .save_agent_run(&AgentRunRecord {
                agent_id: self.agent_id.clone(),
                run_id: self.run_id.clone(),
                resource_id: memory.map(|m| m.resource.clone()),
                thread_id: memory.map(|m| m.thread.clone()),
                status,
                snapshot,
                version: self.version + 1,
                created_at: self.created_at,
                updated_at: Timestamp::now(),
            })
            .await
    }
}

/// The state a kept run holds, or why it cannot be read.
fn state_of(record: &AgentRunRecord) -> Result<RunState, AgentError> {
    serde_json::from_value(record.snapshot.clone()).map_err(|e| {
        AgentError::Storage(StorageError::Unreadable {
            kind: "agent run",
            id: record.run_id.clone(),
            reason: e.to_string(),
        })
    })
}

/// A decision named a run the agent does not have.
fn unknown_run(agent: &Agent, run_id: &str) -> AgentError {
    AgentError::UnknownToolCall(format!(
        "No suspended run {run_id} for agent {}",
        agent.id()
    ))
}

impl Agent {
    /// Approves the tool call `tool_call_id` that run `run_id` waits on: the tool runs and the
    /// turn goes on (streamed like [`Agent::stream`], from a `start` chunk). Refused before
    /// anything runs when the run or the call is unknown ([`AgentError::UnknownToolCall`]) or
    /// the call was already decided ([`AgentError::AlreadyDecided`]); of concurrent decisions
    /// exactly one is accepted.
    ///
    /// `options` gives the request context, the application and the abort signal of the rest
    /// of the turn; its memory, steps and settings are those the run started with.
    pub async fn approve_tool_call(
        &self,
        run_id: &str,
        tool_call_id: &str,
        options: GenerateOptions,
    ) -> Result<ModelOutput, AgentError> {
        self.decide(run_id, tool_call_id, Decision::Approved, options)
            .await
    }

    /// Declines the tool call `tool_call_id` that run `run_id` waits on: the tool does not
    /// run, the stream sends `tool-output-denied`, and the model is told
    /// [`NOT_APPROVED`] as the call's result. Refused as [`Agent::approve_tool_call`] is.
    pub async fn decline_tool_call(
        &self,
        run_id: &str,
        tool_call_id: &str,
        options: GenerateOptions,
    ) -> Result<ModelOutput, AgentError> {
        self.decide(run_id, tool_call_id, Decision::Declined, options)
            .await
    }

    /// The tool call run `run_id` waits on. [`AgentError::UnknownToolCall`] when the agent has
    /// no such run, [`AgentError::AlreadyDecided`] when the run no longer waits.
    pub async fn pending_tool_call(&self, run_id: &str) -> Result<ToolApprovalRequest, AgentError> {
        check_id("runId", run_id).map_err(|e| AgentError::InvalidInput(e.to_string()))?;
        let record = self
            .run_storage()?
            .get_agent_run(self.id(), run_id)
            .await?
            .ok_or_else(|| unknown_run(self, run_id))?;
        let state = state_of(&record)?;
        match state.pending_call() {
            Some(call) if record.status == AgentRunStatus::Suspended => Ok(ToolApprovalRequest {
                tool_call_id: call.id.clone(),
                tool_name: call.name.clone(),
                args: call.args.clone(),
            }),
            _ => Err(AgentError::AlreadyDecided(format!(
                "Run {run_id} is not waiting for approval: its tool call was already decided"
            ))),
        }
    }

    /// The agent's runs waiting for a decision, newest first, one page (optionally one
    /// resource's or one thread's).
    pub async fn suspended_runs(
        &self,
        filter: SuspendedRunFilter,
        page: PageRequest,
    ) -> Result<Page<SuspendedRun>, AgentError> {
        for (field, id) in [
            ("resourceId", &filter.resource_id),
            ("threadId", &filter.thread_id),
        ] {
            if let Some(id) = id {
                check_id(field, id).map_err(|e| AgentError::InvalidInput(e.to_string()))?;
            }
        }
        let filter = AgentRunFilter {
            status: Some(AgentRunStatus::Suspended),
            resource_id: filter.resource_id,
            thread_id: filter.thread_id,
            ..AgentRunFilter::new(self.id())
        };
        let records = self.run_storage()?.list_agent_runs(&filter, page).await?;
        let mut unreadable = records.unreadable;
        let mut items = Vec::with_capacity(records.items.len());
        for record in records.items {
            match state_of(&record) {
                Ok(state) => items.push(SuspendedRun {
                    tool_calls: state
                        .pending_call()
                        .map(|call| SuspendedToolCall {
                            tool_call_id: call.id.clone(),
                            tool_name: call.name.clone(),
                            args: call.args.clone(),
                            requires_approval: true,
                        })
                        .into_iter()
                        .collect(),
                    run_id: record.run_id,
                    status: record.status,
                    thread_id: record.thread_id,
                    resource_id: record.resource_id,
                    suspended_at: record.updated_at,
                }),
                Err(error) => {
                    tracing::warn!(agent = self.id(), run_id = %record.run_id, %error, "a suspended agent run cannot be read");
                    unreadable.push(crate::memory::UnreadableItem {
                        id: record.run_id,
                        error: error.to_string(),
                    });
                }
            }
        }
        Ok(Page::with_unreadable(
            items,
            unreadable,
            records.total,
            page,
        ))
    }

    async fn decide(
        &self,
        run_id: &str,
        tool_call_id: &str,
        decision: Decision,
        options: GenerateOptions,
    ) -> Result<ModelOutput, AgentError> {
        for (field, id) in [("runId", run_id), ("toolCallId", tool_call_id)] {
            check_id(field, id).map_err(|e| AgentError::InvalidInput(e.to_string()))?;
        }
        self.language_model()?;
        let storage = self.run_storage()?;
        let record = storage
            .get_agent_run(self.id(), run_id)
            .await?
            .ok_or_else(|| unknown_run(self, run_id))?;
        let mut state = state_of(&record)?;
        let already = || {
            AgentError::AlreadyDecided(format!(
                "Tool call {tool_call_id} of run {run_id} was already decided"
            ))
        };
        let named = state
            .pending_call()
            .is_some_and(|call| call.id == tool_call_id);
        // A run that left `suspended` at the call it waited on was claimed by a decision on
        // that call (the claim changes the status, not yet the state).
        if state.decided.iter().any(|id| id == tool_call_id)
            || (named && record.status != AgentRunStatus::Suspended)
        {
            return Err(already());
        }
        if !named {
            return Err(AgentError::UnknownToolCall(format!(
                "Tool call {tool_call_id} is not waiting for approval in run {run_id}"
            )));
        }
        if !storage
            .claim_agent_run(self.id(), run_id, record.version)
            .await?
        {
            return Err(already());
        }
        tracing::info!(
            agent = self.id(),
            run_id,
            tool_call_id,
            ?decision,
            "tool call decided; the agent run goes on"
        );
        if let Some(open) = state.open.as_mut() {
            open.decision = Some(decision);
        }
        state.decided.push(tool_call_id.to_owned());
        let abort = options.abort.map(|t| t.child_token()).unwrap_or_default();
        let plan = ResumePlan {
            agent: self.clone(),
            state,
            kept: KeptRun {
                storage,
                agent_id: self.id().to_owned(),
                run_id: run_id.to_owned(),
                created_at: record.created_at,
                version: record.version + 1,
            },
            request_context: options.request_context,
            abort: abort.clone(),
            app: options.app,
        };
        Ok(ModelOutput::new(
            run_id.to_owned(),
            self.id().to_owned(),
            abort,
            |rec| run::resume(plan, rec),
        ))
    }
}
