//! [`WorkflowBuilder`]: composes steps with `then`, `parallel`, `branch` and `map`, and checks
//! at [`WorkflowBuilder::commit`] that each step can take what comes before it.

use std::{any::type_name, collections::BTreeSet, fmt, sync::Arc};

use schemars::JsonSchema;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Map, Value};

use super::{
    context::StepContext,
    step::{erase, Step, StepKind},
    Workflow, WorkflowInner,
};
use crate::schema::{inline_refs, mismatches, schema_of, SchemaValidator};

/// Step ids that would clash with the run snapshot's own keys.
const RESERVED_STEP_IDS: &[&str] = &["input"];

/// The erased test of a [`Condition`]: `Err` when the value is not of the condition's type.
type TestFn = dyn Fn(&Value) -> Result<bool, String> + Send + Sync;

/// The condition of one arm of [`WorkflowBuilder::branch`]: a test on the previous step's
/// output, read as `T`. Build one with [`when`].
#[derive(Clone)]
pub struct Condition {
    pub(crate) label: String,
    pub(crate) input_inlined: Value,
    pub(crate) test: Arc<TestFn>,
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl Condition {
    /// Says what the condition tests (shown in the step graph).
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub(crate) fn test(&self, value: &Value) -> Result<bool, String> {
        (self.test)(value)
    }
}

/// A branch condition: `test` reads the previous step's output as `T`. `T`'s schema is
/// checked against that output when the workflow is committed.
///
/// ```
/// use mastra_runtime::prelude::*;
/// use mastra_runtime::workflow::when;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Forecast { rain_chance: f64 }
///
/// let rainy = when(|f: &Forecast| f.rain_chance > 0.5).label("rain is likely");
/// # let _ = rainy;
/// ```
pub fn when<T, F>(test: F) -> Condition
where
    T: DeserializeOwned + JsonSchema + 'static,
    F: Fn(&T) -> bool + Send + Sync + 'static,
{
    Condition {
        label: format!("when {}", short_type_name::<T>()),
        input_inlined: inline_refs(&schema_of::<T>()),
        test: Arc::new(move |value: &Value| {
            T::deserialize(value)
                .map(|typed| test(&typed))
                .map_err(|e| e.to_string())
        }),
    }
}

fn short_type_name<T>() -> String {
    // `alloc::vec::Vec<my_app::Day>` -> `Vec<Day>`
    let full = type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            segment.push(c);
        } else {
            out.push_str(segment.rsplit("::").next().unwrap_or(&segment));
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(segment.rsplit("::").next().unwrap_or(&segment));
    out
}

/// One element of a workflow's graph.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// One step (a function, a mapping or a nested workflow).
    Step(Step),
    /// Steps run at the same time on the same input; the output is keyed by step id.
    Parallel(Vec<Step>),
    /// Each step whose condition holds runs (at the same time); the output is keyed by the
    /// ids of the steps that ran.
    Branch(Vec<(Condition, Step)>),
}

impl Node {
    pub(crate) fn steps(&self) -> Vec<&Step> {
        match self {
            Node::Step(step) => vec![step],
            Node::Parallel(steps) => steps.iter().collect(),
            Node::Branch(arms) => arms.iter().map(|(_, s)| s).collect(),
        }
    }

    fn graph_entry(&self) -> Value {
        match self {
            Node::Step(step) => step.graph_entry(),
            Node::Parallel(steps) => json!({
                "type": "parallel",
                "steps": steps.iter().map(Step::graph_entry).collect::<Vec<_>>(),
            }),
            Node::Branch(arms) => json!({
                "type": "conditional",
                "steps": arms.iter().map(|(_, s)| s.graph_entry()).collect::<Vec<_>>(),
                "serializedConditions": arms
                    .iter()
                    .map(|(c, s)| json!({ "id": format!("{}-condition", s.id()), "fn": c.label }))
                    .collect::<Vec<_>>(),
            }),
        }
    }
}

/// Why a workflow cannot be committed. Every problem is listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("workflow {workflow} cannot be built:\n  - {}", problems.join("\n  - "))]
pub struct WorkflowBuildError {
    /// The workflow's id.
    pub workflow: String,
    /// Each problem, in graph order.
    pub problems: Vec<String>,
}

/// A schema and where it comes from, as the checks name it.
struct Flow {
    schema: Value,
    source: String,
}

/// Composes a workflow (Mastra's `createWorkflow(...).then(...).commit()`).
///
/// ```
/// use mastra_runtime::prelude::*;
/// use mastra_runtime::workflow::{Step, StepContext, StepError, Workflow};
///
/// #[derive(Serialize, Deserialize, JsonSchema)]
/// struct Numbers { a: i64, b: i64 }
/// #[derive(Serialize, Deserialize, JsonSchema)]
/// struct Sum { sum: i64 }
///
/// let add = Step::builder("add").execute(|n: Numbers, _: StepContext| async move {
///     Ok::<_, StepError>(Sum { sum: n.a + n.b })
/// });
/// let workflow = Workflow::builder("adder")
///     .description("Adds two numbers")
///     .input::<Numbers>()
///     .output::<Sum>()
///     .then(add)
///     .commit()
///     .unwrap();
/// assert_eq!(workflow.id(), "adder");
/// ```
pub struct WorkflowBuilder {
    id: String,
    description: Option<String>,
    input: Option<Value>,
    output: Option<Value>,
    nodes: Vec<Node>,
    problems: Vec<String>,
    maps: usize,
}

impl fmt::Debug for WorkflowBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowBuilder")
            .field("id", &self.id)
            .field("nodes", &self.nodes.len())
            .finish_non_exhaustive()
    }
}

impl WorkflowBuilder {
    pub(crate) fn new(id: String) -> Self {
        Self {
            id,
            description: None,
            input: None,
            output: None,
            nodes: Vec::new(),
            problems: Vec::new(),
            maps: 0,
        }
    }

    /// Sets what the workflow does.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Declares the workflow's input type: runs are refused unless their input matches its
    /// schema, and the first step must accept it. Without it, the first step's input is the
    /// workflow's.
    pub fn input<T: JsonSchema>(mut self) -> Self {
        self.input = Some(schema_of::<T>());
        self
    }

    /// Declares the workflow's output type: the last step's output must fit it. Without it,
    /// the last step's output is the workflow's.
    pub fn output<T: JsonSchema>(mut self) -> Self {
        self.output = Some(schema_of::<T>());
        self
    }

    /// Runs `step` (or a nested workflow) on the previous output.
    pub fn then(mut self, step: impl Into<Step>) -> Self {
        self.nodes.push(Node::Step(step.into()));
        self
    }

    /// Runs `steps` at the same time, each on the previous output. The next step receives an
    /// object keyed by step id. If one fails, the others are cancelled and the run fails.
    pub fn parallel<S: Into<Step>>(mut self, steps: impl IntoIterator<Item = S>) -> Self {
        let steps: Vec<Step> = steps.into_iter().map(Into::into).collect();
        if steps.is_empty() {
            self.problems
                .push(format!("parallel #{} has no steps", self.nodes.len() + 1));
        }
        self.nodes.push(Node::Parallel(steps));
        self
    }

    /// Tests each condition on the previous output and runs every step whose condition holds
    /// (at the same time). The next step receives an object keyed by the ids of the steps that
    /// ran, so it must treat each of them as optional.
    pub fn branch<S: Into<Step>>(mut self, arms: impl IntoIterator<Item = (Condition, S)>) -> Self {
        let arms: Vec<(Condition, Step)> = arms.into_iter().map(|(c, s)| (c, s.into())).collect();
        if arms.is_empty() {
            self.problems
                .push(format!("branch #{} has no arms", self.nodes.len() + 1));
        }
        self.nodes.push(Node::Branch(arms));
        self
    }

    /// Reshapes the previous output (read as `I`) into `O` for the next step. The function
    /// can also read the workflow's input and earlier steps' outputs through the context. It
    /// appears in the run as a step named `mapping_<n>`.
    pub fn map<I, O, F>(mut self, map: F) -> Self
    where
        I: DeserializeOwned + JsonSchema + Send + 'static,
        O: Serialize + JsonSchema + 'static,
        F: Fn(I, &StepContext) -> Result<O, super::StepError> + Send + Sync + 'static,
    {
        self.maps += 1;
        let id = format!("mapping_{}", self.maps);
        let map = Arc::new(map);
        let execute = erase(move |input: I, ctx: StepContext| {
            let map = Arc::clone(&map);
            // Run when the step's future is polled (under the run's panic guard), like a step.
            async move { map(input, &ctx) }
        });
        let config = format!(
            "fn({}) -> {}",
            short_type_name::<I>(),
            short_type_name::<O>()
        );
        self.nodes.push(Node::Step(Step::from_parts(
            id,
            None,
            schema_of::<I>(),
            schema_of::<O>(),
            StepKind::Mapping { execute, config },
        )));
        self
    }

    /// Checks the graph and finishes the workflow: every step id is unique, every input schema
    /// (the workflow's, each step's) compiles into a validator, and each step (and branch
    /// condition) can take what comes before it, judged from their schemas. Every problem is
    /// reported at once.
    pub fn commit(self) -> Result<Workflow, WorkflowBuildError> {
        let mut problems = self.problems.clone();
        if self.nodes.is_empty() {
            problems.push("it has no steps: add one with `.then(step)`".to_owned());
        }
        let mut seen = BTreeSet::new();
        for step in self.nodes.iter().flat_map(Node::steps) {
            let id = step.id();
            if id.is_empty() || id.contains('.') {
                problems.push(format!(
                    "step id {id:?} is not allowed: ids are non-empty and have no `.` \
                     (nested steps are named `outer.inner`)"
                ));
            } else if RESERVED_STEP_IDS.contains(&id) {
                problems.push(format!(
                    "step id {id:?} is reserved (the run's input is kept under it)"
                ));
            } else if !seen.insert(id.to_owned()) {
                problems.push(format!(
                    "two steps have the id {id:?}: step ids must be unique in a workflow"
                ));
            }
            // A step whose input schema does not compile would refuse every input it is given.
            if let Some(error) = step.inner.validator.schema_error() {
                problems.push(format!("step `{id}`: {error}"));
            }
            let suspension = &step.inner.suspension;
            for (what, validator) in [
                ("suspend", &suspension.suspend_validator),
                ("resume", &suspension.resume_validator),
            ] {
                if let Some(error) = validator.as_ref().and_then(|v| v.schema_error()) {
                    problems.push(format!("step `{id}`, its {what} schema: {error}"));
                }
            }
        }
        let output = self.check_flow(&mut problems);
        let input_schema = self
            .input
            .clone()
            .or_else(|| self.first_step().map(|s| s.input_schema().clone()))
            .unwrap_or_else(|| json!({}));
        let validator = SchemaValidator::try_new(input_schema.clone());
        // Without a declared input the workflow's is its first step's, already reported above.
        if let (Err(error), Some(_)) = (&validator, &self.input) {
            problems.push(format!("the workflow's input: {error}"));
        }
        let validator = match validator {
            Ok(validator) if problems.is_empty() => validator,
            _ => {
                return Err(WorkflowBuildError {
                    workflow: self.id,
                    problems,
                })
            }
        };
        let output_schema = self.output.clone().unwrap_or(output);
        let step_graph = Value::Array(self.nodes.iter().map(Node::graph_entry).collect());
        let inner = WorkflowInner {
            validator,
            id: self.id,
            description: self.description,
            input_schema,
            output_schema,
            nodes: self.nodes,
            step_graph,
            live: Default::default(),
        };
        Ok(Workflow {
            inner: Arc::new(inner),
            app: None,
        })
    }

    fn first_step(&self) -> Option<&Step> {
        self.nodes
            .first()
            .and_then(|n| n.steps().into_iter().next())
    }

    /// Walks the graph checking each adjacent pair; returns the schema of the last output.
    fn check_flow(&self, problems: &mut Vec<String>) -> Value {
        let mut flow = match (&self.input, self.first_step()) {
            (Some(input), _) => Flow {
                schema: inline_refs(input),
                source: "the workflow's input".to_owned(),
            },
            (None, Some(first)) => Flow {
                schema: first.inner.input_inlined.clone(),
                source: format!("the workflow's input (that of step `{}`)", first.id()),
            },
            (None, None) => return json!({}),
        };
        for node in &self.nodes {
            flow = match node {
                Node::Step(step) => {
                    fits(
                        &flow,
                        &step.inner.input_inlined,
                        &format!("step `{}`", step.id()),
                        problems,
                    );
                    Flow {
                        schema: step.inner.output_inlined.clone(),
                        source: format!("step `{}`", step.id()),
                    }
                }
                Node::Parallel(steps) => {
                    for step in steps {
                        let target = format!("parallel step `{}`", step.id());
                        fits(&flow, &step.inner.input_inlined, &target, problems);
                    }
                    keyed_output(steps.iter(), true, "the parallel steps")
                }
                Node::Branch(arms) => {
                    for (condition, step) in arms {
                        let target = format!("the condition of branch step `{}`", step.id());
                        fits(&flow, &condition.input_inlined, &target, problems);
                        let target = format!("branch step `{}`", step.id());
                        fits(&flow, &step.inner.input_inlined, &target, problems);
                    }
                    keyed_output(arms.iter().map(|(_, s)| s), false, "the branch")
                }
            };
        }
        if let Some(output) = &self.output {
            fits(
                &flow,
                &inline_refs(output),
                "the workflow's output",
                problems,
            );
        }
        flow.schema
    }
}

fn fits(flow: &Flow, consumer: &Value, target: &str, problems: &mut Vec<String>) {
    let found = mismatches(&flow.schema, consumer);
    if !found.is_empty() {
        problems.push(format!(
            "{target} cannot take the output of {}: {}",
            flow.source,
            found.join("; ")
        ));
    }
}

/// The output of a parallel group or a branch: an object keyed by step id.
fn keyed_output<'a>(steps: impl Iterator<Item = &'a Step>, required: bool, source: &str) -> Flow {
    let mut properties = Map::new();
    let mut ids = Vec::new();
    for step in steps {
        properties.insert(step.id().to_owned(), step.inner.output_inlined.clone());
        ids.push(format!("`{}`", step.id()));
    }
    let mut schema = json!({ "type": "object", "properties": properties });
    if required {
        schema["required"] = json!(properties_keys(&schema));
    }
    Flow {
        schema,
        source: format!("{source} ({})", ids.join(", ")),
    }
}

fn properties_keys(schema: &Value) -> Vec<String> {
    schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_map_fails_its_step_not_the_caller() {
        // The map runs inside the step's future, under the run's panic guard (it used to run
        // when the erased function was called, before the guard).
        let workflow = Workflow::builder("mapper")
            .map(
                |n: i64, _: &StepContext| -> Result<i64, crate::workflow::StepError> {
                    if n > 0 {
                        panic!("map exploded");
                    }
                    Ok(n)
                },
            )
            .commit()
            .expect("the workflow fits");
        let run = workflow.create_run(None).await.expect("a run");
        let result = run
            .start(1, crate::workflow::RunOptions::new())
            .await
            .expect("a result");
        assert!(!result.is_success());
        let error = result.error.expect("the step's error");
        assert_eq!(error.message, "step mapping_1 panicked: map exploded");
    }

    #[test]
    fn type_names_are_shortened() {
        assert_eq!(short_type_name::<Vec<String>>(), "Vec<String>");
        assert_eq!(short_type_name::<u32>(), "u32");
    }
}
