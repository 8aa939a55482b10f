//! A workflow as `GET /api/workflows` lists it: Mastra's `{name, description, steps, allSteps,
//! stepGraph, inputSchema, outputSchema}`, schemas as superjson strings.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{step::Step, Workflow};

/// Mastra's listing form of a schema: the JSON text of `{"json": <schema>}` (superjson), which
/// `@mastra/client-js` parses.
fn superjson(schema: &Value) -> String {
    json!({ "json": schema }).to_string()
}

/// One step as the workflow listing describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StepSummary {
    /// The step's id.
    pub id: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The input's JSON Schema, as superjson text.
    pub input_schema: String,
    /// The output's JSON Schema, as superjson text.
    pub output_schema: String,
    /// What the step suspends with, as superjson text, when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend_schema: Option<String>,
    /// What the step is resumed with, as superjson text, when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_schema: Option<String>,
    /// `WORKFLOW` for a nested workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// Whether the step is a nested workflow.
    pub is_workflow: bool,
}

impl StepSummary {
    fn of(step: &Step) -> Self {
        Self {
            id: step.id().to_owned(),
            description: step.description().map(str::to_owned),
            input_schema: superjson(step.input_schema()),
            output_schema: superjson(step.output_schema()),
            suspend_schema: step.suspend_schema().map(superjson),
            resume_schema: step.resume_schema().map(superjson),
            component: step.component().map(str::to_owned),
            is_workflow: step.as_workflow().is_some(),
        }
    }
}

/// A workflow as `GET /api/workflows/:workflowId` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowSummary {
    /// The workflow's id (Mastra's `name`).
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its own steps, by id.
    pub steps: BTreeMap<String, StepSummary>,
    /// Its steps and those of nested workflows (keyed `outer.inner`).
    pub all_steps: BTreeMap<String, StepSummary>,
    /// The graph: Mastra's serialized step flow (`step`, `mapping`, `workflow`, `parallel`,
    /// `conditional` entries).
    pub step_graph: Value,
    /// The input's JSON Schema, as superjson text.
    pub input_schema: String,
    /// The output's JSON Schema, as superjson text.
    pub output_schema: String,
}

impl WorkflowSummary {
    pub(crate) fn of(workflow: &Workflow) -> Self {
        let mut steps = BTreeMap::new();
        let mut all_steps = BTreeMap::new();
        collect(workflow, "", &mut steps, &mut all_steps);
        Self {
            name: workflow.id().to_owned(),
            description: workflow.description().map(str::to_owned),
            steps,
            all_steps,
            step_graph: workflow.step_graph().clone(),
            input_schema: superjson(workflow.input_schema()),
            output_schema: superjson(workflow.output_schema()),
        }
    }
}

fn collect(
    workflow: &Workflow,
    prefix: &str,
    own: &mut BTreeMap<String, StepSummary>,
    all: &mut BTreeMap<String, StepSummary>,
) {
    for step in workflow.nodes().iter().flat_map(|n| n.steps()) {
        let key = if prefix.is_empty() {
            step.id().to_owned()
        } else {
            format!("{prefix}.{}", step.id())
        };
        let summary = StepSummary::of(step);
        if prefix.is_empty() {
            own.insert(key.clone(), summary.clone());
        }
        all.insert(key.clone(), summary);
        if let Some(nested) = step.as_workflow() {
            collect(nested, &key, own, all);
        }
    }
}
