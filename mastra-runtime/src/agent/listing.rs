//! [`AgentSummary`]: an agent as `GET /api/agents` lists it, in Mastra's shape.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Agent, DefaultOptions};
use crate::tool::ToolSummary;

/// An agent as Mastra's server lists it. The fields Mastra has and this runtime has no feature
/// for (sub-agents, workflows, skills, processors, browser) are present and empty, so clients
/// that read them work unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentSummary {
    /// The id it is registered under.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// System instructions.
    pub instructions: String,
    /// Its tools, by the key they were registered under; each holds its own `id`.
    pub tools: BTreeMap<String, ToolSummary>,
    /// Sub-agents (none).
    pub agents: Map<String, Value>,
    /// Workflows it can run (none).
    pub workflows: Map<String, Value>,
    /// Skills (none).
    pub skills: Vec<Value>,
    /// Workspace tools (none).
    pub workspace_tools: Vec<String>,
    /// Browser tools (none).
    pub browser_tools: Vec<String>,
    /// Whether it drives a browser (never).
    pub has_browser: bool,
    /// Input processors (none).
    pub input_processors: Vec<Value>,
    /// Output processors (none).
    pub output_processors: Vec<Value>,
    /// The model's provider (`openai`, `anthropic`, `mastra`).
    pub provider: String,
    /// The model's id at the provider.
    pub model_id: String,
    /// The model interface version Mastra reports (`v2`).
    pub model_version: String,
    /// Whether it has memory.
    pub supports_memory: bool,
    /// Defaults applied to every run.
    pub default_options: DefaultOptions,
    /// Where it was defined (`code`).
    pub source: String,
}

impl AgentSummary {
    pub(crate) fn of(agent: &Agent) -> Self {
        let (provider, model_id) = match agent.language_model() {
            Ok(model) => (model.provider().to_owned(), model.model_id().to_owned()),
            Err(_) => {
                let (p, m) = agent.model().split_once('/').unwrap_or(("", ""));
                (p.to_owned(), m.to_owned())
            }
        };
        Self {
            id: agent.id().to_owned(),
            name: agent.name().to_owned(),
            description: agent.description().map(str::to_owned),
            instructions: agent.instructions().to_owned(),
            tools: agent
                .tools()
                .iter()
                .map(|(key, tool)| (key.clone(), tool.summary()))
                .collect(),
            agents: Map::new(),
            workflows: Map::new(),
            skills: Vec::new(),
            workspace_tools: Vec::new(),
            browser_tools: Vec::new(),
            has_browser: false,
            input_processors: Vec::new(),
            output_processors: Vec::new(),
            provider,
            model_id,
            model_version: "v2".to_owned(),
            supports_memory: agent.memory().is_some(),
            default_options: agent.default_options().clone(),
            source: "code".to_owned(),
        }
    }
}
