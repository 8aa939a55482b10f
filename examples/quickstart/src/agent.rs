//! The quickstart's agent: the offline model unless a provider key is set, two tools (one
//! waits for approval), memory.

use mastra_runtime::{agent::ModelChoice, model::ECHO_MODEL, prelude::*};

/// The agent's id.
pub const AGENT_ID: &str = "my-agent";

/// The temperature tool's id.
pub const TEMPERATURE_TOOL_ID: &str = "celsius-to-fahrenheit";

/// The model used when `OPENAI_API_KEY` is set.
pub const OPENAI_MODEL: &str = "openai/gpt-4o-mini";

/// The model used when only `ANTHROPIC_API_KEY` is set.
pub const ANTHROPIC_MODEL: &str = "anthropic/claude-3-5-haiku-latest";

/// Which model the quickstart's agent uses: a real provider when its key is set, else the
/// offline `mastra/echo`.
pub fn model_name() -> &'static str {
    let set = |var: &str| std::env::var(var).is_ok_and(|v| !v.trim().is_empty());
    if set("OPENAI_API_KEY") {
        OPENAI_MODEL
    } else if set("ANTHROPIC_API_KEY") {
        ANTHROPIC_MODEL
    } else {
        ECHO_MODEL
    }
}

/// Input of the temperature tool.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CelsiusInput {
    /// Degrees Celsius, no colder than absolute zero, and no hotter than what degrees
    /// Fahrenheit can still hold as a finite number.
    #[schemars(range(min = -273.15, max = 1.0e307))]
    pub celsius: f64,
}

/// Output of the temperature tool.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FahrenheitOutput {
    /// Degrees Fahrenheit.
    pub fahrenheit: f64,
}

/// A deterministic tool: converts Celsius to Fahrenheit.
pub fn temperature_tool() -> Tool {
    Tool::builder(TEMPERATURE_TOOL_ID)
        .description("Converts a temperature from degrees Celsius to degrees Fahrenheit")
        .execute(|input: CelsiusInput, _ctx: ToolContext| async move {
            Ok::<_, ToolError>(FahrenheitOutput {
                fahrenheit: input.celsius * 9.0 / 5.0 + 32.0,
            })
        })
}

/// The agent, with the tool and memory, on [`model_name`]'s model.
pub fn agent() -> Agent {
    agent_with_model(model_name())
}

/// The same agent on another model (the benchmarks use an offline model without token delay).
pub fn agent_with_model(model: impl Into<ModelChoice>) -> Agent {
    Agent::builder(AGENT_ID)
        .name("My Agent")
        .description("A helpful assistant that can convert temperatures")
        .instructions(
            "You are a helpful assistant. Use the celsius-to-fahrenheit tool to convert \
             temperatures.",
        )
        .model(model)
        .tool(temperature_tool())
        .tool(crate::delete_tool::delete_item_tool())
        .memory(Memory::new())
        .build()
}
