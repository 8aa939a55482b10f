//! What a run records and reports, in Mastra's JSON shapes: step results, the run snapshot
//! that is persisted after every step, the finished run, and the stream events.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::memory::{Timestamp, WorkflowRunRecord, WorkflowRunStatus};

/// The `from` of every workflow stream event (Mastra's `ChunkFrom.WORKFLOW`).
pub const EVENT_FROM_WORKFLOW: &str = "WORKFLOW";

/// The byte after each JSON record of a workflow stream (ASCII record separator), as Mastra
/// frames `POST /api/workflows/:workflowId/stream`.
pub const RECORD_SEPARATOR: u8 = 0x1E;

/// Where one step of a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// Started, not finished.
    Running,
    /// Finished with an output.
    Success,
    /// Finished with an error.
    Failed,
    /// Stopped because a step running next to it failed, or the run was cancelled.
    Canceled,
    /// Called `suspend`; waits to be resumed.
    Suspended,
}

/// An error as Mastra serializes one: a name and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SerializedError {
    /// The kind of error (`Error`, `ValidationError`, `AgentError`, ...).
    pub name: String,
    /// What went wrong.
    pub message: String,
}

impl SerializedError {
    /// An error of kind `name`.
    pub fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            message: message.into(),
        }
    }
}

/// One step's result in a run (Mastra's step result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    /// Where the step is.
    pub status: StepStatus,
    /// The step's input.
    pub payload: Value,
    /// The step's output, once it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// The step's error, once it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SerializedError>,
    /// When it started (milliseconds since the Unix epoch).
    pub started_at: i64,
    /// When it ended (milliseconds since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<i64>,
    /// What the step suspended with, once it suspended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend_payload: Option<Value>,
    /// When it suspended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_at: Option<i64>,
    /// What it was resumed with, once it was resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_payload: Option<Value>,
    /// When it was resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_at: Option<i64>,
}

impl StepRecord {
    /// A step that has just started on `payload`.
    pub(crate) fn running(payload: Value, started_at: i64) -> Self {
        Self {
            status: StepStatus::Running,
            payload,
            output: None,
            error: None,
            started_at,
            ended_at: None,
            suspend_payload: None,
            suspended_at: None,
            resume_payload: None,
            resumed_at: None,
        }
    }
}

/// The steps of `steps` waiting to be resumed: suspended, and not a nested workflow whose own
/// steps are (those are listed instead), as dotted ids in execution order of their keys.
pub(crate) fn suspended_steps(steps: &BTreeMap<String, StepRecord>) -> Vec<String> {
    let suspended: Vec<&String> = steps
        .iter()
        .filter(|(_, record)| record.status == StepStatus::Suspended)
        .map(|(id, _)| id)
        .collect();
    suspended
        .iter()
        .filter(|id| {
            let inner = format!("{id}.");
            !suspended.iter().any(|other| other.starts_with(&inner))
        })
        .map(|id| (*id).clone())
        .collect()
}

/// The run's input and every step's result, keyed by step id (Mastra's snapshot `context`).
/// Steps of a nested workflow are keyed `outer.inner`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunContext {
    /// The workflow's input.
    #[serde(default)]
    pub input: Value,
    /// Each step's result.
    #[serde(flatten)]
    pub steps: BTreeMap<String, StepRecord>,
}

/// Everything known about a run at one moment: what is persisted after each step (Mastra's
/// workflow run snapshot), so a run's status and history survive a restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunSnapshot {
    /// The run's id.
    pub run_id: String,
    /// Where the run is.
    pub status: WorkflowRunStatus,
    /// The run's state (what steps put in [`RunState`](super::RunState)).
    #[serde(default)]
    pub value: Map<String, Value>,
    /// The input and each step's result.
    #[serde(default)]
    pub context: RunContext,
    /// Step ids in the order they started.
    #[serde(default)]
    pub step_execution_path: Vec<String>,
    /// The run's output, once it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The error that failed the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SerializedError>,
    /// The request context the run was started with (reserved keys, such as the
    /// authenticated `user`, are never persisted).
    #[serde(default)]
    pub request_context: Map<String, Value>,
    /// The workflow's step graph (as `GET /api/workflows/:workflowId` gives `stepGraph`).
    #[serde(default)]
    pub serialized_step_graph: Value,
    /// Mastra's graph-position bookkeeping; always empty here: what is suspended, with what,
    /// and what resumed it is in each step's record in `context` (`status: "suspended"`,
    /// `suspendPayload`, `resumePayload`).
    #[serde(default)]
    pub active_paths: Vec<u32>,
    /// As `active_paths`.
    #[serde(default)]
    pub active_steps_path: Map<String, Value>,
    /// As `active_paths`.
    #[serde(default)]
    pub suspended_paths: Map<String, Value>,
    /// As `active_paths`.
    #[serde(default)]
    pub resume_labels: Map<String, Value>,
    /// As `active_paths`.
    #[serde(default)]
    pub waiting_paths: Map<String, Value>,
    /// When the snapshot was taken (milliseconds since the Unix epoch).
    pub timestamp: i64,
}

impl RunSnapshot {
    /// A snapshot of a run that has not started.
    pub(crate) fn pending(run_id: &str, step_graph: &Value) -> Self {
        Self {
            run_id: run_id.to_owned(),
            status: WorkflowRunStatus::Pending,
            value: Map::new(),
            context: RunContext::default(),
            step_execution_path: Vec::new(),
            result: None,
            error: None,
            request_context: Map::new(),
            serialized_step_graph: step_graph.clone(),
            active_paths: Vec::new(),
            active_steps_path: Map::new(),
            suspended_paths: Map::new(),
            resume_labels: Map::new(),
            waiting_paths: Map::new(),
            timestamp: Timestamp::now().millis(),
        }
    }

    /// Reads a stored snapshot back.
    pub fn from_record(record: &WorkflowRunRecord) -> Result<Self, serde_json::Error> {
        serde_json::from_value(record.snapshot.clone())
    }
}

/// A finished run, as `start` returns it and `POST /api/workflows/:workflowId/start-async`
/// answers: the status, the result or error, the input and every step's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunResult {
    /// The run's id.
    pub run_id: String,
    /// `success`, `failed`, `suspended` or `canceled`.
    pub status: WorkflowRunStatus,
    /// The output of the last step, when the run succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The error of the step that failed the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SerializedError>,
    /// When the run is suspended: the path of each suspended step (`["request-approval"]`,
    /// `["outer", "inner"]` inside a nested workflow).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suspended: Vec<Vec<String>>,
    /// When the run is suspended: each suspended step's payload, keyed by its id (dotted
    /// inside a nested workflow).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub suspend_payload: Map<String, Value>,
    /// The workflow's input.
    pub input: Value,
    /// Each step's result, keyed by step id.
    pub steps: BTreeMap<String, StepRecord>,
    /// Step ids in the order they started.
    pub step_execution_path: Vec<String>,
    /// The run's state when it ended.
    pub state: Map<String, Value>,
}

impl RunResult {
    /// Whether the run succeeded.
    pub fn is_success(&self) -> bool {
        self.status == WorkflowRunStatus::Success
    }

    /// The result as `T`, when the run succeeded.
    pub fn output<T: serde::de::DeserializeOwned>(&self) -> Result<T, super::StepError> {
        match (&self.result, &self.error) {
            (Some(value), _) => serde_json::from_value(value.clone()).map_err(Into::into),
            (None, Some(error)) => Err(super::StepError::named(&error.name, &error.message)),
            (None, None) => Err(super::StepError::new(format!(
                "workflow run {} has no result ({})",
                self.run_id, self.status
            ))),
        }
    }
}

impl From<RunSnapshot> for RunResult {
    fn from(snapshot: RunSnapshot) -> Self {
        let mut suspended = Vec::new();
        let mut suspend_payload = Map::new();
        if snapshot.status == WorkflowRunStatus::Suspended {
            for id in suspended_steps(&snapshot.context.steps) {
                let payload = snapshot.context.steps[&id].suspend_payload.clone();
                suspend_payload.insert(id.clone(), payload.unwrap_or(Value::Null));
                suspended.push(id.split('.').map(str::to_owned).collect());
            }
        }
        Self {
            run_id: snapshot.run_id,
            status: snapshot.status,
            result: snapshot.result,
            error: snapshot.error,
            suspended,
            suspend_payload,
            input: snapshot.context.input,
            steps: snapshot.context.steps,
            step_execution_path: snapshot.step_execution_path,
            state: snapshot.value,
        }
    }
}

/// The kind of a workflow stream event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WorkflowEventType {
    /// The run started: `payload.workflowId`.
    WorkflowStart,
    /// A step started: `payload.{id, stepCallId, status, payload, startedAt}`.
    WorkflowStepStart,
    /// A step ended: `payload.{id, stepCallId, status, output | error, payload, endedAt}`.
    WorkflowStepResult,
    /// A step suspended: `payload.{id, stepCallId, status, suspendPayload, suspendedAt}`.
    WorkflowStepSuspended,
    /// The run was cancelled (then `workflow-finish` with `workflowStatus: "canceled"`).
    WorkflowCanceled,
    /// The run ended, or suspended: `payload.workflowStatus`, and `payload.result` or
    /// `payload.error`.
    WorkflowFinish,
}

/// One event of a workflow stream (Mastra's workflow chunk): `{type, runId, from, payload}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowEvent {
    /// What happened.
    #[serde(rename = "type")]
    pub kind: WorkflowEventType,
    /// The run.
    pub run_id: String,
    /// Always `WORKFLOW`.
    pub from: String,
    /// The details.
    pub payload: Value,
}

impl WorkflowEvent {
    pub(crate) fn new(kind: WorkflowEventType, run_id: &str, payload: Value) -> Self {
        Self {
            kind,
            run_id: run_id.to_owned(),
            from: EVENT_FROM_WORKFLOW.to_owned(),
            payload,
        }
    }

    /// The event as one record of Mastra's workflow stream: its JSON, then the byte 0x1E.
    pub fn to_record(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec(self).unwrap_or_else(|error| {
            tracing::error!(%error, "a workflow event could not be serialized");
            b"{}".to_vec()
        });
        bytes.push(RECORD_SEPARATOR);
        bytes
    }
}

/// One stored run as `GET /api/workflows/:workflowId/runs/:runId` describes it (Mastra's
/// workflow state): the record's metadata with the snapshot's status, input (`payload`),
/// steps, result and error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    /// The run's id.
    pub run_id: String,
    /// The workflow's id.
    pub workflow_name: String,
    /// Who the run belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// When the run was created.
    pub created_at: Timestamp,
    /// When its snapshot last changed.
    pub updated_at: Timestamp,
    /// Where the run is.
    pub status: WorkflowRunStatus,
    /// The output, once the run succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The error that failed the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SerializedError>,
    /// The workflow's input.
    pub payload: Value,
    /// Each step's result, keyed by step id.
    pub steps: BTreeMap<String, StepRecord>,
    /// Step ids in the order they started.
    pub step_execution_path: Vec<String>,
    /// The run's state.
    pub state: Map<String, Value>,
    /// Mastra's graph-position bookkeeping; always empty here (each step's record says
    /// whether it is suspended).
    pub active_steps_path: Map<String, Value>,
    /// The workflow's step graph.
    pub serialized_step_graph: Value,
}

impl RunDetails {
    /// The details of a stored run.
    pub fn from_record(record: &WorkflowRunRecord) -> Result<Self, serde_json::Error> {
        let snapshot = RunSnapshot::from_record(record)?;
        Ok(Self {
            run_id: record.run_id.clone(),
            workflow_name: record.workflow_name.clone(),
            resource_id: record.resource_id.clone(),
            created_at: record.created_at,
            updated_at: record.updated_at,
            status: record.status,
            result: snapshot.result,
            error: snapshot.error,
            payload: snapshot.context.input,
            steps: snapshot.context.steps,
            step_execution_path: snapshot.step_execution_path,
            state: snapshot.value,
            active_steps_path: snapshot.active_steps_path,
            serialized_step_graph: snapshot.serialized_step_graph,
        })
    }
}
