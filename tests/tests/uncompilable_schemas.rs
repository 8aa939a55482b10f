//! One policy for a JSON Schema that does not compile into a validator (here a `pattern` that
//! is not a regular expression): it is found when the application is built, and the build fails
//! naming what declared it. A route fails the route table (`openapi_validation`); these tests
//! cover tools (`MastraError::ToolSchema`) and workflows and their steps
//! (`WorkflowBuildError`, and so `MastraError::Workflow`). Nothing is silently left unchecked:
//! used on its own, such a tool or validator refuses every input.

use mastra_runtime::{
    prelude::*,
    schema::SchemaValidator,
    tool::{ToolContext, ToolError, ToolFailure},
    workflow::{Step, StepContext, StepError, Workflow},
    MastraBuilder,
};
use mastra_tests::test_config;
use serde_json::json;

/// An input whose schema has a `pattern` no regex engine accepts (an unclosed group).
#[derive(Serialize, Deserialize, JsonSchema)]
struct BadPattern {
    #[schemars(pattern("(unclosed"))]
    code: String,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Code {
    code: String,
}

fn bad_tool() -> Tool {
    Tool::builder("bad-tool").execute(|input: BadPattern, _: ToolContext| async move {
        Ok::<_, ToolError>(Code { code: input.code })
    })
}

fn bad_step() -> Step {
    Step::builder("bad-step").execute(|input: BadPattern, _: StepContext| async move {
        Ok::<_, StepError>(Code { code: input.code })
    })
}

fn echo_step(id: &str) -> Step {
    Step::builder(id)
        .execute(|input: Code, _: StepContext| async move { Ok::<_, StepError>(input) })
}

/// Fails unless `error`'s message says each of `needles`.
fn assert_mentions(error: &impl std::fmt::Display, needles: &[&str]) {
    let text = error.to_string();
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} is not in: {text}");
    }
}

fn builder() -> MastraBuilder {
    Mastra::builder()
        .server(test_config())
        .without_annotated_routes()
}

#[test]
fn a_tool_whose_input_schema_does_not_compile_fails_the_build_naming_it() {
    let tool = bad_tool();
    let error = tool.schema_error().expect("the pattern does not compile");
    assert_eq!(error.part, "input");

    let error = builder().tool(bad_tool()).build().unwrap_err();
    assert!(
        matches!(&error, MastraError::ToolSchema { tool, error } if tool == "bad-tool" && error.part == "input"),
        "{error:?}"
    );
    assert_mentions(
        &error,
        &[
            "tool `bad-tool` cannot be registered",
            "input schema cannot be used for validation",
        ],
    );
}

#[test]
fn an_agents_tool_is_checked_too() {
    let agent = Agent::builder("helper")
        .model("mastra/echo")
        .tool(bad_tool());
    let error = builder().agent(agent).build().unwrap_err();
    assert!(
        matches!(&error, MastraError::ToolSchema { tool, .. } if tool == "bad-tool"),
        "{error:?}"
    );
}

#[tokio::test]
async fn such_a_tool_refuses_every_input_when_run_on_its_own() {
    let failure = bad_tool()
        .execute(json!({ "code": "anything" }), ToolContext::default())
        .await
        .unwrap_err();
    let ToolFailure::InvalidInput { tool, issues } = failure else {
        panic!("expected invalid input, got {failure:?}");
    };
    assert_eq!(tool, "bad-tool");
    assert!(
        issues[0].message.contains("cannot be used for validation"),
        "{issues:?}"
    );
}

#[test]
fn a_step_whose_input_schema_does_not_compile_fails_commit_naming_it() {
    let error = Workflow::builder("flow")
        .then(echo_step("first"))
        .then(bad_step())
        .commit()
        .unwrap_err();
    assert_eq!(error.workflow, "flow");
    assert!(
        error
            .problems
            .iter()
            .any(|p| p.starts_with("step `bad-step`: the input schema cannot be used")),
        "{error}"
    );
}

#[test]
fn a_first_step_that_does_not_compile_is_reported_once() {
    // Without a declared input the workflow's input schema is the step's: one problem, the
    // step's, not a second one for the workflow.
    let error = Workflow::builder("flow")
        .then(bad_step())
        .commit()
        .unwrap_err();
    let schema_problems: Vec<&String> = error
        .problems
        .iter()
        .filter(|p| p.contains("cannot be used for validation"))
        .collect();
    assert_eq!(schema_problems.len(), 1, "{error}");
    assert!(schema_problems[0].starts_with("step `bad-step`"), "{error}");
}

#[test]
fn a_mapping_and_a_declared_workflow_input_are_checked_too() {
    let error = Workflow::builder("flow")
        .input::<BadPattern>()
        .map(|input: BadPattern, _: &StepContext| Ok(Code { code: input.code }))
        .then(echo_step("last"))
        .commit()
        .unwrap_err();
    assert_mentions(
        &error,
        &[
            "step `mapping_1`: the input schema",
            "the workflow's input: the input schema",
        ],
    );
}

#[test]
fn a_workflow_with_such_a_step_fails_the_application_build() {
    let error = builder()
        .workflow(Workflow::builder("flow").then(bad_step()).commit())
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, MastraError::Workflow(e) if e.workflow == "flow"),
        "{error:?}"
    );
    assert!(error.to_string().contains("step `bad-step`"), "{error}");
}

#[test]
fn a_validator_says_so_at_construction_or_refuses_everything() {
    let error = SchemaValidator::try_for_type::<BadPattern>().unwrap_err();
    assert_eq!(error.part, "input");
    let validator = SchemaValidator::for_type::<BadPattern>();
    assert_eq!(validator.schema_error(), Some(&error));
    let issues = validator.validate(&json!({ "code": "x" })).unwrap_err();
    assert_eq!(issues[0].message, error.to_string());
    assert!(SchemaValidator::try_for_type::<Code>().is_ok());
}
