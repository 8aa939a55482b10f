//! The route table: every route resolved (handlers built, middleware constructed) and checked
//! together, so all problems are reported at once.

use std::{fmt, sync::Arc};

use super::{
    middleware::Middleware, ApiRoute, HandlerSlot, PathPattern, RouteFactory, RouteMethod,
    RouteOrigin,
};
use crate::{
    error::{RouteProblem, RouteProblems},
    mastra::Mastra,
    openapi::{Inference, OperationFragment, RequestValidator},
    server::config::GlobalMiddleware,
};

/// A route as served: checked, with its handler and middleware built.
pub struct MountedRoute {
    pub(crate) method: RouteMethod,
    pub(crate) pattern: PathPattern,
    pub(crate) requires_auth: bool,
    pub(crate) factory: RouteFactory,
    /// Global middleware in scope, then the route's own; first is outermost.
    pub(crate) stack: Vec<Middleware>,
    pub(crate) operation: OperationFragment,
    pub(crate) doc_summary: Option<String>,
    pub(crate) doc_description: Option<String>,
    pub(crate) handler_name: Option<String>,
    pub(crate) infer: Option<fn(&mut Inference)>,
    pub(crate) origin: RouteOrigin,
    /// The inferred schemas, compiled once; `None` when no request could break them.
    pub(crate) validator: Option<Arc<RequestValidator>>,
}

impl fmt::Debug for MountedRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MountedRoute")
            .field("method", &self.method)
            .field("path", &self.pattern.as_str())
            .field("requires_auth", &self.requires_auth)
            .field("middleware", &self.stack.len())
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl MountedRoute {
    /// The method answered.
    pub fn method(&self) -> RouteMethod {
        self.method
    }

    /// The checked path.
    pub fn pattern(&self) -> &PathPattern {
        &self.pattern
    }

    /// The path as declared.
    pub fn path(&self) -> &str {
        self.pattern.as_str()
    }

    /// Whether a valid token is needed once auth is configured.
    pub fn is_auth_required(&self) -> bool {
        self.requires_auth
    }

    /// The hand-written OpenAPI fragment.
    pub fn operation(&self) -> &OperationFragment {
        &self.operation
    }

    /// Summary from doc comments.
    pub fn doc_summary(&self) -> Option<&str> {
        self.doc_summary.as_deref()
    }

    /// Description from doc comments.
    pub fn doc_description(&self) -> Option<&str> {
        self.doc_description.as_deref()
    }

    /// The handler's name, when known.
    pub fn handler_name(&self) -> Option<&str> {
        self.handler_name.as_deref()
    }

    /// What the handler's types say about the operation.
    pub fn inference(&self) -> Inference {
        let mut inference = Inference::default();
        if let Some(infer) = self.infer {
            infer(&mut inference);
        }
        inference
    }

    /// Where the route was declared.
    pub fn origin(&self) -> &RouteOrigin {
        &self.origin
    }

    /// Whether the runtime provides this route.
    pub fn is_builtin(&self) -> bool {
        matches!(self.origin, RouteOrigin::BuiltIn)
    }

    /// Whether requests are checked against the route's inferred schemas before the handler runs.
    pub fn validates_requests(&self) -> bool {
        self.validator.is_some()
    }

    /// How many middleware layers wrap the handler.
    pub fn middleware_count(&self) -> usize {
        self.stack.len()
    }
}

/// Resolves and checks every route. `builtins` may live under `prefix`; `custom` may not.
pub(crate) fn build(
    mastra: &Mastra,
    prefix: &str,
    global: Vec<GlobalMiddleware>,
    builtins: Vec<ApiRoute>,
    custom: Vec<ApiRoute>,
) -> Result<Vec<MountedRoute>, RouteProblems> {
    let mut problems = Vec::new();

    let mut scoped_global = Vec::with_capacity(global.len());
    for (index, entry) in global.into_iter().enumerate() {
        match entry.slot.build(mastra) {
            Ok(mw) => scoped_global.push((entry.scope, mw)),
            Err(reason) => problems.push(RouteProblem::Middleware {
                route: "global middleware".to_owned(),
                index: index + 1,
                reason,
            }),
        }
    }

    let mut mounted: Vec<MountedRoute> = Vec::new();
    let tagged = builtins
        .into_iter()
        .map(|r| (true, r))
        .chain(custom.into_iter().map(|r| (false, r)));
    for (builtin, route) in tagged {
        let label = route.label();
        let pattern = match PathPattern::parse(&route.path) {
            Ok(pattern) => Some(pattern),
            Err(error) => {
                problems.push(RouteProblem::BadPath {
                    route: label.clone(),
                    error,
                });
                None
            }
        };
        if let Some(pattern) = &pattern {
            if !builtin && pattern.is_under(prefix) {
                let rest = pattern.as_str()[prefix.len()..].trim_start_matches('/');
                problems.push(RouteProblem::UnderApiPrefix {
                    path: pattern.as_str().to_owned(),
                    prefix: prefix.to_owned(),
                    suggestion: format!("/custom/{rest}").trim_end_matches('/').to_owned(),
                });
            }
        }
        let factory = match route.handler {
            HandlerSlot::Ready(factory) => Some(factory),
            HandlerSlot::Deferred(create) => Some(create(mastra)),
            HandlerSlot::Missing => {
                problems.push(RouteProblem::MissingHandler {
                    route: label.clone(),
                });
                None
            }
            HandlerSlot::Conflicting => {
                problems.push(RouteProblem::ConflictingHandlers {
                    route: label.clone(),
                });
                None
            }
        };
        let mut own = Vec::with_capacity(route.middleware.len());
        for (index, slot) in route.middleware.into_iter().enumerate() {
            match slot.build(mastra) {
                Ok(mw) => own.push(mw),
                Err(reason) => problems.push(RouteProblem::Middleware {
                    route: label.clone(),
                    index: index + 1,
                    reason,
                }),
            }
        }
        let validator = match route.infer.map(|infer| {
            let mut inference = Inference::default();
            infer(&mut inference);
            RequestValidator::compile(&inference)
        }) {
            Some(Ok(validator)) => validator.map(Arc::new),
            Some(Err(error)) => {
                problems.push(RouteProblem::Schema {
                    route: label.clone(),
                    reason: error.to_string(),
                });
                None
            }
            None => None,
        };
        let (Some(pattern), Some(factory)) = (pattern, factory) else {
            continue;
        };
        let stack = scoped_global
            .iter()
            .filter(|(scope, _)| scope.as_ref().is_none_or(|s| s.covers(&pattern)))
            .map(|(_, mw)| mw.clone())
            .chain(own)
            .collect();
        mounted.push(MountedRoute {
            method: route.method,
            pattern,
            requires_auth: route.requires_auth,
            factory,
            stack,
            operation: route.operation,
            doc_summary: route.doc_summary,
            doc_description: route.doc_description,
            handler_name: route.handler_name,
            infer: route.infer,
            origin: route.origin,
            validator,
        });
    }

    problems.extend(find_duplicates(&mounted));
    if problems.is_empty() {
        Ok(mounted)
    } else {
        Err(RouteProblems(problems))
    }
}

fn find_duplicates(routes: &[MountedRoute]) -> Vec<RouteProblem> {
    let label = |r: &MountedRoute| {
        let base = format!("{} {}", r.method, r.pattern);
        match &r.origin {
            RouteOrigin::Macro {
                module_path, name, ..
            } => format!("{base} ({module_path}::{name})"),
            RouteOrigin::Explicit => format!("{base} (ApiRoute)"),
            RouteOrigin::BuiltIn => format!("{base} (built-in)"),
        }
    };
    let mut by_shape: std::collections::BTreeMap<String, Vec<&MountedRoute>> = Default::default();
    for route in routes {
        by_shape
            .entry(route.pattern.shape())
            .or_default()
            .push(route);
    }
    let mut problems = Vec::new();
    for (shape, group) in by_shape {
        for (i, first) in group.iter().enumerate() {
            for second in &group[i + 1..] {
                if first.method.overlaps(second.method) {
                    let method = if first.method == RouteMethod::All {
                        second.method
                    } else {
                        first.method
                    };
                    problems.push(RouteProblem::Duplicate {
                        method: method.as_str().to_owned(),
                        shape: shape.clone(),
                        first: label(first),
                        second: label(second),
                    });
                }
            }
        }
    }
    problems
}
