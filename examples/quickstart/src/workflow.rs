//! The quickstart's workflow, `trip-planner`: a forecast for a city, then (at the same time) the
//! temperature in Fahrenheit through the agent's tool and a packing list, then a plan that asks
//! the agent for a suggestion (indoors if rain is likely, outdoors otherwise), then a summary.
//!
//! ```text
//! fetch-weather -> parallel(to-fahrenheit, pack-list) -> map -> branch(indoor-plan | outdoor-plan) -> summarize
//! ```
//!
//! The forecast is made up (no network): a few known cities, and a stable guess for others.

use mastra_runtime::{
    prelude::*,
    workflow::{when, Step, StepContext, StepError, Workflow, WorkflowBuildError},
};

use crate::agent::{AGENT_ID, TEMPERATURE_TOOL_ID};

/// The workflow's id.
pub const WORKFLOW_ID: &str = "trip-planner";

/// Rain chance from which the plan moves indoors.
pub const RAIN_THRESHOLD: f64 = 0.5;

/// The workflow's input.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TripInput {
    /// The city to plan a day in.
    #[schemars(length(min = 1, max = 100))]
    pub city: String,
}

/// A day's forecast.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Forecast {
    /// The city.
    pub city: String,
    /// Degrees Celsius.
    pub celsius: f64,
    /// Chance of rain, 0 to 1.
    pub rain_chance: f64,
    /// In words.
    pub conditions: String,
}

/// The temperature in Fahrenheit (from the agent's tool).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Fahrenheit {
    /// Degrees Fahrenheit.
    pub fahrenheit: f64,
}

/// What to bring.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PackingList {
    /// The items.
    pub items: Vec<String>,
}

/// The outputs of the parallel steps, keyed by step id.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Prepared {
    /// From `to-fahrenheit`.
    #[serde(rename = "to-fahrenheit")]
    pub to_fahrenheit: Fahrenheit,
    /// From `pack-list`.
    #[serde(rename = "pack-list")]
    pub pack_list: PackingList,
}

/// What the plan steps work from (made by the `map`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PlanInput {
    /// The forecast.
    pub forecast: Forecast,
    /// Degrees Fahrenheit.
    pub fahrenheit: f64,
    /// What to bring.
    pub packing: Vec<String>,
}

/// A plan for the day.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    /// `indoor` or `outdoor`.
    pub setting: String,
    /// The agent's suggestion.
    pub suggestion: String,
}

/// The branch's output: the plan of whichever arm ran.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Planned {
    /// Set when rain is likely.
    #[serde(default, rename = "indoor-plan")]
    pub indoor: Option<Plan>,
    /// Set otherwise.
    #[serde(default, rename = "outdoor-plan")]
    pub outdoor: Option<Plan>,
}

/// The workflow's output.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Itinerary {
    /// The city.
    pub city: String,
    /// `indoor` or `outdoor`.
    pub setting: String,
    /// One line for the day.
    pub summary: String,
    /// The agent's suggestion.
    pub suggestion: String,
    /// What to bring.
    pub packing: Vec<String>,
}

/// The made-up forecast: fixed for a few cities, a stable guess from the name otherwise.
pub fn forecast_for(city: &str) -> Forecast {
    let (celsius, rain_chance) = match city.to_lowercase().as_str() {
        "london" => (12.0, 0.8),
        "lisbon" => (24.0, 0.1),
        "oslo" => (-3.0, 0.3),
        other => {
            let n = other
                .bytes()
                .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
            (f64::from(n % 35), f64::from(n % 10) / 10.0)
        }
    };
    let conditions = if rain_chance >= RAIN_THRESHOLD {
        "rain likely"
    } else if celsius >= 20.0 {
        "warm and dry"
    } else {
        "cool and dry"
    };
    Forecast {
        city: city.to_owned(),
        celsius,
        rain_chance,
        conditions: conditions.to_owned(),
    }
}

fn fetch_weather() -> Step {
    Step::builder("fetch-weather")
        .description("Looks up the day's forecast for the city")
        .execute(|input: TripInput, _ctx: StepContext| async move {
            Ok::<_, StepError>(forecast_for(input.city.trim()))
        })
}

fn to_fahrenheit() -> Step {
    Step::builder("to-fahrenheit")
        .description("Converts the temperature with the agent's celsius-to-fahrenheit tool")
        .execute(|forecast: Forecast, ctx: StepContext| async move {
            let tool = ctx.tool(TEMPERATURE_TOOL_ID)?;
            let output = tool
                .execute(json!({ "celsius": forecast.celsius }), ctx.tool_context())
                .await?;
            Ok::<Fahrenheit, StepError>(serde_json::from_value(output)?)
        })
}

fn pack_list() -> Step {
    Step::builder("pack-list")
        .description("Lists what to bring for the forecast")
        .execute(|forecast: Forecast, _ctx: StepContext| async move {
            let mut items = vec!["water".to_owned()];
            if forecast.rain_chance >= RAIN_THRESHOLD {
                items.push("umbrella".to_owned());
            }
            items.push(
                if forecast.celsius < 10.0 {
                    "coat"
                } else {
                    "sunglasses"
                }
                .to_owned(),
            );
            Ok::<_, StepError>(PackingList { items })
        })
}

/// A plan step: asks the agent for a suggestion for the setting.
fn plan(id: &str, setting: &'static str) -> Step {
    Step::builder(id)
        .description(format!("Asks the agent for an {setting} plan"))
        .execute(move |input: PlanInput, ctx: StepContext| async move {
            let prompt = format!(
                "Suggest one {setting} activity in {} ({}, {:.0}°C / {:.0}°F).",
                input.forecast.city,
                input.forecast.conditions,
                input.forecast.celsius,
                input.fahrenheit
            );
            let answer = ctx
                .agent(AGENT_ID)?
                .generate(prompt, ctx.generate_options())
                .await?;
            Ok::<_, StepError>(Plan {
                setting: setting.to_owned(),
                suggestion: answer.text,
            })
        })
}

fn summarize() -> Step {
    Step::builder("summarize")
        .description("Puts the day together")
        .execute(|planned: Planned, ctx: StepContext| async move {
            let plan = planned
                .indoor
                .or(planned.outdoor)
                .ok_or_else(|| StepError::new("no plan was made"))?;
            let forecast: Forecast = ctx.step_output("fetch-weather")?;
            let packing: PackingList = ctx.step_output("pack-list")?;
            Ok::<_, StepError>(Itinerary {
                summary: format!(
                    "{} in {}: {} day, {}",
                    capitalize(&plan.setting),
                    forecast.city,
                    plan.setting,
                    forecast.conditions
                ),
                city: forecast.city,
                setting: plan.setting,
                suggestion: plan.suggestion,
                packing: packing.items,
            })
        })
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The workflow: five steps, a parallel pair, a map and a branch.
pub fn trip_planner() -> Result<Workflow, WorkflowBuildError> {
    Workflow::builder(WORKFLOW_ID)
        .description("Plans a day in a city from its forecast, with the agent's help")
        .input::<TripInput>()
        .output::<Itinerary>()
        .then(fetch_weather())
        .parallel([to_fahrenheit(), pack_list()])
        .map(|prepared: Prepared, ctx: &StepContext| {
            Ok(PlanInput {
                forecast: ctx.step_output("fetch-weather")?,
                fahrenheit: prepared.to_fahrenheit.fahrenheit,
                packing: prepared.pack_list.items,
            })
        })
        .branch([
            (
                when(|p: &PlanInput| p.forecast.rain_chance >= RAIN_THRESHOLD)
                    .label("rain is likely"),
                plan("indoor-plan", "indoor"),
            ),
            (
                when(|p: &PlanInput| p.forecast.rain_chance < RAIN_THRESHOLD)
                    .label("rain is unlikely"),
                plan("outdoor-plan", "outdoor"),
            ),
        ])
        .then(summarize())
        .commit()
}
