//! Agents: named model configurations reachable from handlers through [`crate::Mastra`].

use std::sync::Arc;

#[derive(Debug)]
struct AgentInner {
    id: String,
    name: String,
    description: Option<String>,
    instructions: String,
    model: String,
}

/// A registered agent. Cloning is cheap.
///
/// ```
/// use mastra_runtime::Agent;
/// let agent = Agent::builder("my-agent").instructions("You help.").model("openai/gpt-4o-mini").build();
/// assert_eq!(agent.id(), "my-agent");
/// assert_eq!(agent.model(), "openai/gpt-4o-mini");
/// ```
#[derive(Debug, Clone)]
pub struct Agent {
    inner: Arc<AgentInner>,
}

impl Agent {
    /// Starts describing an agent with the given id.
    pub fn builder(id: impl Into<String>) -> AgentBuilder {
        let id = id.into();
        AgentBuilder {
            name: id.clone(),
            id,
            description: None,
            instructions: String::new(),
            model: String::new(),
        }
    }

    /// The id the agent is registered under.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The display name (the id unless set).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The description, if any.
    pub fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }

    /// The system instructions.
    pub fn instructions(&self) -> &str {
        &self.inner.instructions
    }

    /// The model, as Mastra's `provider/model` string.
    pub fn model(&self) -> &str {
        &self.inner.model
    }
}

/// Builder for [`Agent`].
#[derive(Debug, Clone)]
pub struct AgentBuilder {
    id: String,
    name: String,
    description: Option<String>,
    instructions: String,
    model: String,
}

impl AgentBuilder {
    /// Sets the display name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the system instructions.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = instructions.into();
        self
    }

    /// Sets the model as `provider/model` (for example `openai/gpt-4o-mini`).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Finishes the agent.
    pub fn build(self) -> Agent {
        Agent {
            inner: Arc::new(AgentInner {
                id: self.id,
                name: self.name,
                description: self.description,
                instructions: self.instructions,
                model: self.model,
            }),
        }
    }
}

impl From<AgentBuilder> for Agent {
    fn from(builder: AgentBuilder) -> Self {
        builder.build()
    }
}
