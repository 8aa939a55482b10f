//! Tools: named functions agents and clients can call.

use std::sync::Arc;

/// A registered tool. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct Tool {
    inner: Arc<ToolInner>,
}

#[derive(Debug)]
struct ToolInner {
    id: String,
    description: String,
}

impl Tool {
    /// A tool with the given id and description.
    pub fn new(id: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(ToolInner {
                id: id.into(),
                description: description.into(),
            }),
        }
    }

    /// The id the tool is registered under.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// What the tool does.
    pub fn description(&self) -> &str {
        &self.inner.description
    }
}
