//! [`RouteScope`]: a path pattern naming a set of routes, decided at startup.

use super::{PathError, PathPattern};

/// A path pattern naming routes (for scoped global middleware and auth patterns): an exact route
/// path, or `prefix/*` for the prefix and everything below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RouteScope {
    shape: String,
    subtree: bool,
}

impl RouteScope {
    pub(crate) fn parse(pattern: &str) -> Result<Self, PathError> {
        let (base, subtree) = match pattern.strip_suffix("/*") {
            Some(base) => (if base.is_empty() { "/" } else { base }, true),
            None => (pattern, false),
        };
        let parsed = PathPattern::parse(base)?;
        Ok(Self {
            shape: parsed.shape(),
            subtree,
        })
    }

    /// Whether a route with this path is in scope. Matching is by shape, so `/items/:id/*`
    /// covers `/items/{itemId}/parts`.
    pub(crate) fn covers(&self, route: &PathPattern) -> bool {
        let shape = route.shape();
        if shape == self.shape {
            return true;
        }
        self.subtree
            && (self.shape == "/"
                || shape
                    .strip_prefix(&self.shape)
                    .is_some_and(|rest| rest.starts_with('/')))
    }
}
