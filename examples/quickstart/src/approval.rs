//! The quickstart's human-in-the-loop workflows:
//!
//! - `expense-approval`: `request-approval` suspends with a reason until a person answers
//!   `{approved, approver}` (`resume`), then `record-decision` says what was decided.
//! - `slow-report`: `compile-report` takes a long while (a minute unless cancelled), so there
//!   is something to cancel (`runs/:runId/cancel`) and to observe (`observe`).
//!
//! ```text
//! expense-approval: request-approval (suspends) -> record-decision
//! slow-report:      compile-report (slow)
//! ```

use std::time::Duration;

use mastra_runtime::{
    prelude::*,
    workflow::{Step, StepContext, StepError, Workflow, WorkflowBuildError},
};

/// The approval workflow's id.
pub const APPROVAL_WORKFLOW_ID: &str = "expense-approval";

/// The slow workflow's id.
pub const SLOW_WORKFLOW_ID: &str = "slow-report";

/// How long `compile-report` works before it answers, unless cancelled first.
pub const SLOW_STEP_DURATION: Duration = Duration::from_secs(60);

/// An expense to approve.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ExpenseRequest {
    /// What the money is for.
    #[schemars(length(min = 1, max = 200))]
    pub item: String,
    /// How much, in whole euros.
    pub amount: u32,
}

/// Why `request-approval` waits (its suspend payload).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalRequest {
    /// What the approver is asked.
    pub reason: String,
}

/// What the approver answers (the resume data).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalAnswer {
    /// Whether the expense is approved.
    pub approved: bool,
    /// Who decided.
    #[schemars(length(min = 1, max = 100))]
    pub approver: String,
}

/// The expense with its decision.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    /// What the money is for.
    pub item: String,
    /// How much.
    pub amount: u32,
    /// Whether it was approved.
    pub approved: bool,
    /// Who decided.
    pub approver: String,
}

/// The approval workflow's result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ExpenseOutcome {
    /// `approved` or `rejected`.
    pub status: String,
    /// One sentence about it.
    pub message: String,
}

/// Suspends with a reason the first time; on resume, the answer becomes the decision.
fn request_approval() -> Step {
    Step::builder("request-approval")
        .description("Asks a person to approve the expense")
        .suspend_schema::<ApprovalRequest>()
        .resume_schema::<ApprovalAnswer>()
        .execute(|request: ExpenseRequest, ctx: StepContext| async move {
            match ctx.resume_data::<ApprovalAnswer>()? {
                Some(answer) => Ok(Decision {
                    item: request.item,
                    amount: request.amount,
                    approved: answer.approved,
                    approver: answer.approver,
                }),
                None => ctx.suspend(ApprovalRequest {
                    reason: format!(
                        "Approve an expense of {} EUR for {}?",
                        request.amount, request.item
                    ),
                }),
            }
        })
}

fn record_decision() -> Step {
    Step::builder("record-decision")
        .description("Says what was decided")
        .execute(|decision: Decision, _ctx: StepContext| async move {
            let (status, verb) = if decision.approved {
                ("approved", "approved")
            } else {
                ("rejected", "rejected")
            };
            Ok::<_, StepError>(ExpenseOutcome {
                status: status.to_owned(),
                message: format!(
                    "{} EUR for {} {verb} by {}",
                    decision.amount, decision.item, decision.approver
                ),
            })
        })
}

/// `expense-approval`: waits for a person, then records the decision.
pub fn expense_approval() -> Result<Workflow, WorkflowBuildError> {
    Workflow::builder(APPROVAL_WORKFLOW_ID)
        .description("Asks a person to approve an expense, then records the decision")
        .input::<ExpenseRequest>()
        .output::<ExpenseOutcome>()
        .then(request_approval())
        .then(record_decision())
        .commit()
}

/// What to report on.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ReportRequest {
    /// The report's topic.
    #[schemars(length(min = 1, max = 200))]
    pub topic: String,
}

/// The finished report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// One line about the topic.
    pub text: String,
}

fn compile_report() -> Step {
    Step::builder("compile-report")
        .description("Works on the report for a minute; cancel the run to stop it")
        .execute(|request: ReportRequest, ctx: StepContext| async move {
            // A cancel drops this future at its await and fires `ctx.abort_signal()`, which
            // also stops an agent or tool called with `ctx.generate_options()` or
            // `ctx.tool_context()`. Work handed to a task of its own watches the signal:
            let signal = ctx.abort_signal().clone();
            let topic = request.topic.clone();
            tokio::spawn(async move {
                signal.cancelled().await;
                tracing::info!(%topic, "report cancelled");
            });
            tokio::time::sleep(SLOW_STEP_DURATION).await;
            Ok::<_, StepError>(Report {
                text: format!("Report on {}: all is well", request.topic),
            })
        })
}

/// `slow-report`: one slow step, to cancel or observe.
pub fn slow_report() -> Result<Workflow, WorkflowBuildError> {
    Workflow::builder(SLOW_WORKFLOW_ID)
        .description("A slow report, to cancel or observe")
        .then(compile_report())
        .commit()
}
