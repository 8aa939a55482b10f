//! Building workflows: adjacent step schemas are checked at `commit` (and so at
//! `MastraBuilder::build`), every problem is reported at once in words that name the steps and
//! fields, and the ids are checked.

mod workflows_support;

use mastra_runtime::{
    prelude::*,
    workflow::{when, Step, StepContext, StepError, Workflow},
};
use workflows_support::{add, arithmetic, describe, double, Label, Pair, Total};

#[derive(Default, Serialize, Deserialize, JsonSchema)]
struct City {
    name: String,
}

#[derive(Default, Serialize, Deserialize, JsonSchema)]
struct MaybeTotal {
    total: Option<i64>,
}

fn step<I, O>(id: &str) -> Step
where
    I: serde::de::DeserializeOwned + JsonSchema + Send + 'static,
    O: Serialize + JsonSchema + Default + 'static,
{
    Step::builder(id)
        .execute(|_: I, _: StepContext| async move { Ok::<O, StepError>(O::default()) })
}

#[derive(Default, Serialize, Deserialize, JsonSchema)]
struct Empty {}

#[derive(Default, Serialize, Deserialize, JsonSchema)]
struct Strict {
    #[serde(default)]
    total: i64,
}

#[track_caller]
fn problems(builder: mastra_runtime::workflow::WorkflowBuilder) -> Vec<String> {
    builder
        .commit()
        .expect_err("the workflow should be refused")
        .problems
}

#[test]
fn a_step_that_cannot_take_the_previous_output_is_refused_naming_both_and_the_field() {
    let found = problems(
        Workflow::builder("mismatch")
            .then(add())
            .then(step::<City, Empty>("greet")),
    );
    assert_eq!(
        found,
        ["step `greet` cannot take the output of step `add`: at field `name`: required, but never given"]
    );
}

#[test]
fn type_and_nullability_mismatches_are_refused() {
    let found = problems(
        Workflow::builder("types")
            .then(step::<Pair, MaybeTotal>("maybe"))
            .then(double()),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("step `double` cannot take the output of step `maybe`"),
        "{found:?}"
    );
    assert!(found[0].contains("field `total`"), "{found:?}");

    let found = problems(
        Workflow::builder("types")
            .then(add())
            .then(step::<Label, Empty>("label")),
    );
    assert!(
        found[0].contains("at field `label`: required, but never given"),
        "{found:?}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let err = Workflow::builder("many")
        .then(add())
        .then(step::<City, Empty>("a"))
        .then(step::<Pair, Empty>("b"))
        .then(add())
        .commit()
        .unwrap_err();
    assert_eq!(err.problems.len(), 4, "{:?}", err.problems);
    assert!(err
        .problems
        .iter()
        .any(|p| p.contains("two steps have the id \"add\"")));
    let text = err.to_string();
    assert!(
        text.starts_with("workflow many cannot be built:\n  - "),
        "{text}"
    );
}

#[test]
fn the_workflow_input_and_output_types_are_checked_against_the_first_and_last_steps() {
    let found = problems(Workflow::builder("io").input::<City>().then(add()));
    assert_eq!(
        found,
        [
            "step `add` cannot take the output of the workflow's input: at field `a`: required, but never given; at field `b`: required, but never given"
        ]
    );
    let found = problems(Workflow::builder("io").then(add()).output::<Label>());
    assert!(
        found[0].starts_with("the workflow's output cannot take the output of step `add`"),
        "{found:?}"
    );
    assert!(Workflow::builder("io")
        .input::<Pair>()
        .output::<Label>()
        .then(add())
        .then(describe())
        .commit()
        .is_ok());
}

#[test]
fn parallel_outputs_are_an_object_keyed_by_step_id() {
    #[derive(Deserialize, JsonSchema)]
    struct Both {
        #[allow(dead_code)]
        double: Total,
        #[allow(dead_code)]
        describe: Label,
    }
    let ok = Workflow::builder("fan")
        .then(add())
        .parallel([double(), describe()])
        .then(step::<Both, Empty>("join"))
        .commit();
    assert!(ok.is_ok(), "{:?}", ok.err());

    #[derive(Deserialize, JsonSchema)]
    struct Wrong {
        #[allow(dead_code)]
        triple: Total,
    }
    let found = problems(
        Workflow::builder("fan")
            .then(add())
            .parallel([double(), describe()])
            .then(step::<Wrong, Empty>("join")),
    );
    assert_eq!(
        found,
        ["step `join` cannot take the output of the parallel steps (`double`, `describe`): at field `triple`: required, but never given"]
    );
}

#[test]
fn a_step_after_a_branch_must_treat_each_arm_as_optional() {
    #[derive(Deserialize, JsonSchema)]
    struct Required {
        #[allow(dead_code)]
        double: Total,
    }
    #[derive(Deserialize, JsonSchema)]
    struct Optional {
        #[allow(dead_code)]
        double: Option<Total>,
        #[allow(dead_code)]
        describe: Option<Label>,
    }
    let arms = || {
        [
            (when(|t: &Total| t.total > 0), double()),
            (when(|t: &Total| t.total <= 0), describe()),
        ]
    };
    let found = problems(
        Workflow::builder("b")
            .then(add())
            .branch(arms())
            .then(step::<Required, Empty>("next")),
    );
    assert_eq!(
        found,
        ["step `next` cannot take the output of the branch (`double`, `describe`): at field `double`: required, but it is optional in what is given"]
    );
    assert!(Workflow::builder("b")
        .then(add())
        .branch(arms())
        .then(step::<Optional, Empty>("next"))
        .commit()
        .is_ok());
}

#[test]
fn branch_conditions_and_map_functions_are_checked_too() {
    let found = problems(Workflow::builder("c").then(add()).branch([(
        when(|c: &City| c.name.is_empty()),
        step::<Total, Empty>("x"),
    )]));
    assert_eq!(
        found,
        ["the condition of branch step `x` cannot take the output of step `add`: at field `name`: required, but never given"]
    );
    let found = problems(
        Workflow::builder("m")
            .then(add())
            .map(|c: City, _: &StepContext| Ok(Label { label: c.name }))
            .then(describe()),
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("step `mapping_1` cannot take the output of step `add`"),
        "{found:?}"
    );
    assert!(
        found[1].starts_with("step `describe` cannot take the output of step `mapping_1`"),
        "{found:?}"
    );
}

#[test]
fn closed_inputs_refuse_extra_fields() {
    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct OnlyA {
        #[allow(dead_code)]
        a: i64,
    }
    let found = problems(
        Workflow::builder("closed")
            .then(step::<Pair, Pair>("p"))
            .then(step::<OnlyA, Empty>("only-a")),
    );
    assert!(
        found[0].contains("at field `b`: given, but unknown fields are refused"),
        "{found:?}"
    );
}

#[test]
fn nested_workflows_are_checked_by_their_own_schemas() {
    let found = problems(
        Workflow::builder("outer")
            .then(step::<City, City>("c"))
            .then(arithmetic()),
    );
    assert!(
        found[0].starts_with("step `arithmetic` cannot take the output of step `c`"),
        "{found:?}"
    );
    let ok = Workflow::builder("outer")
        .then(step::<Pair, Pair>("p"))
        .then(arithmetic())
        .then(describe_label());
    assert!(ok.commit().is_ok());
}

fn describe_label() -> Step {
    step::<Label, Strict>("after")
}

#[test]
fn ids_are_checked() {
    assert_eq!(
        problems(Workflow::builder("empty")),
        ["it has no steps: add one with `.then(step)`"]
    );
    assert_eq!(
        problems(Workflow::builder("ids").then(step::<Pair, Pair>("input"))),
        ["step id \"input\" is reserved (the run's input is kept under it)"]
    );
    assert!(
        problems(Workflow::builder("ids").then(step::<Pair, Pair>("a.b")))[0]
            .contains("have no `.`")
    );
    assert_eq!(
        problems(
            Workflow::builder("ids")
                .then(add())
                .parallel(Vec::<Step>::new())
        ),
        ["parallel #2 has no steps"]
    );
}

#[test]
fn a_workflow_that_does_not_fit_fails_the_application_build() {
    let error = Mastra::builder()
        .workflow(
            Workflow::builder("broken")
                .then(add())
                .then(step::<City, Empty>("greet")),
        )
        .without_annotated_routes()
        .build()
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("workflow broken cannot be built"), "{text}");
    assert!(
        text.contains("step `greet` cannot take the output of step `add`"),
        "{text}"
    );

    let duplicate = Mastra::builder()
        .workflow(arithmetic())
        .workflow(arithmetic())
        .without_annotated_routes()
        .build()
        .unwrap_err();
    assert_eq!(
        duplicate.to_string(),
        "two workflows are registered with id `arithmetic`"
    );
}
