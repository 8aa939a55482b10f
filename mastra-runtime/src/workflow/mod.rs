//! Workflows: named step graphs.

use std::sync::Arc;

/// A registered workflow. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct Workflow {
    inner: Arc<WorkflowInner>,
}

#[derive(Debug)]
struct WorkflowInner {
    id: String,
    description: Option<String>,
}

impl Workflow {
    /// A workflow with the given id.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(WorkflowInner {
                id: id.into(),
                description: None,
            }),
        }
    }

    /// The id the workflow is registered under.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The description, if any.
    pub fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }
}
