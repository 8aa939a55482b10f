//! The application as the layers below the [`Mastra`](crate::Mastra) facade hold it.
//!
//! Tools, agent runs, workflow steps and the constructors a route runs when the server is built
//! all hand "the application" to user code, which knows it as `&Mastra`. The modules that carry
//! it sit below the facade and do not name that type, so they hold it opaque: an [`AppHandle`]
//! to keep, an [`AppRef`] to borrow. Only the facade (`mastra`) puts a `Mastra` in and takes it
//! out; the typed accessors (`ToolContext::mastra`, `StepContext::mastra`,
//! `ApiRoute::create_handler`, ...) are written there. What a lower module needs to *call* on the
//! application is a trait it defines itself (`workflow::WorkflowHost`), which the facade
//! implements.

use std::any::Any;
#[cfg(feature = "agents")]
use std::{fmt, sync::Arc};

/// The application, borrowed: what the constructors run when the server is built receive.
pub(crate) type AppRef<'a> = &'a (dyn Any + Send + Sync);

/// The application, owned: cheap to clone, opaque below the facade (what tools, agent runs and
/// workflow steps carry).
#[cfg(feature = "agents")]
#[derive(Clone)]
pub(crate) struct AppHandle(Arc<dyn Any + Send + Sync>);

#[cfg(feature = "agents")]
impl AppHandle {
    /// Holds `app`.
    pub(crate) fn new<A: Any + Send + Sync>(app: A) -> Self {
        Self(Arc::new(app))
    }

    /// The application, if it is an `A`.
    pub(crate) fn get<A: Any>(&self) -> Option<&A> {
        self.0.downcast_ref()
    }
}

#[cfg(feature = "agents")]
impl fmt::Debug for AppHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppHandle")
    }
}
