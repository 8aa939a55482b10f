//! The route table: every route resolved (handlers built, middleware constructed) and checked
//! together, so all problems are reported at once.

use std::sync::Arc;

use crate::{
    app::AppRef,
    config::GlobalMiddleware,
    describe::{check_path_params, Inference},
    mastra::Mastra,
    route::{
        mcp_problems, ApiRoute, HandlerSlot, Middleware, MountedRoute, PathPattern, RouteMethod,
        RouteOrigin, RouteProblem, RouteProblems,
    },
    schema::RequestValidator,
};

/// Resolves and checks every route. `builtins` may live under `prefix`; `custom` may not.
pub(crate) fn build(
    mastra: &Mastra,
    prefix: &str,
    global: Vec<GlobalMiddleware>,
    builtins: Vec<ApiRoute>,
    custom: Vec<ApiRoute>,
) -> Result<Vec<MountedRoute>, RouteProblems> {
    let mut problems = Vec::new();

    let app: AppRef<'_> = mastra;
    let auth = mastra.config().auth_config();
    let mut scoped_global = Vec::with_capacity(global.len());
    for (index, entry) in global.into_iter().enumerate() {
        match entry.slot.build(app) {
            Ok(mw) => scoped_global.push((entry.scope, entry.after_auth, mw)),
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
            HandlerSlot::Deferred(create) => match create(app) {
                Ok(factory) => Some(factory),
                Err(reason) => {
                    problems.push(RouteProblem::Handler {
                        route: label.clone(),
                        reason,
                    });
                    None
                }
            },
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
            match slot.build(app) {
                Ok(mw) => own.push(mw),
                Err(reason) => problems.push(RouteProblem::Middleware {
                    route: label.clone(),
                    index: index + 1,
                    reason,
                }),
            }
        }
        // What the handler's types say, asked once: the validator, the path check, the
        // document and the token requirement all read this.
        let inference = (!route.infer.is_empty()).then(|| {
            let mut inference = Inference::default();
            for step in &route.infer {
                step(&mut inference);
            }
            inference
        });
        let validator = match inference
            .as_ref()
            .map(|inference| RequestValidator::compile(&inference.request_schemas()))
        {
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
        // A handler that failed to build is reported already; its description may assume the
        // path it refused.
        if let (Some(pattern), Some(path_schema), true) = (
            &pattern,
            inference.as_ref().and_then(|i| i.path),
            factory.is_some(),
        ) {
            let params: Vec<&str> = pattern.params().collect();
            if let Err(mismatch) = check_path_params(path_schema, &params) {
                problems.push(RouteProblem::PathParams {
                    route: label.clone(),
                    mismatch,
                });
            }
        }
        let inference = inference.unwrap_or_default();
        let (Some(pattern), Some(factory)) = (pattern, factory) else {
            continue;
        };
        let protected = auth.is_some_and(|auth| {
            auth.protects(
                &pattern,
                route.method,
                route.requires_auth,
                route.always_public,
            )
        });
        let in_scope = &pattern;
        let global_in_scope = |after_auth: bool| {
            scoped_global
                .iter()
                .filter(move |(scope, after, _)| {
                    *after == after_auth && scope.as_ref().is_none_or(|s| s.covers(in_scope))
                })
                .map(|(_, _, mw)| mw.clone())
        };
        // Pipeline order: global (before auth) -> auth -> global (after auth) -> route's own.
        let mut stack: Vec<Middleware> = global_in_scope(false).collect();
        if let (true, Some(auth)) = (protected, auth) {
            let (layer, denies_everything) = auth.layer(&pattern, route.method);
            if denies_everything {
                tracing::warn!(
                    target: "mastra::auth",
                    route = %label,
                    "auth rules are configured but none can match this route: every request to it will get 403"
                );
            }
            stack.push(layer);
            stack.extend(global_in_scope(true));
        }
        stack.extend(own);
        let needs_user = auth.is_some() && inference.needs_user;
        mounted.push(MountedRoute {
            method: route.method,
            pattern,
            requires_auth: route.requires_auth,
            protected,
            needs_user,
            factory,
            stack,
            operation: route.operation,
            doc_summary: route.doc_summary,
            doc_description: route.doc_description,
            handler_name: route.handler_name,
            inference,
            origin: route.origin,
            validator,
            mcp: route.mcp,
        });
    }

    problems.extend(find_duplicates(&mounted));
    problems.extend(mcp_problems(&mounted));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{auth::JwtAuth, ServerConfig};

    async fn ok() -> &'static str {
        "ok"
    }

    fn builtin(route: ApiRoute) -> ApiRoute {
        route.handler(ok).origin(RouteOrigin::BuiltIn)
    }

    /// Builds the table the way `MastraBuilder::build` does, with extra built-in routes shaped
    /// like the agent and docs routes.
    fn table(config: ServerConfig) -> Vec<MountedRoute> {
        let protect_docs = config.docs_protected();
        let mastra = Mastra::builder()
            .without_annotated_routes()
            .server(config)
            .build()
            .expect("build");
        let builtins = vec![
            builtin(ApiRoute::get("/health")).always_public(),
            builtin(ApiRoute::get("/api/agents")),
            builtin(ApiRoute::get("/api/openapi.json")).requires_auth(protect_docs),
            builtin(ApiRoute::get("/swagger-ui")).requires_auth(protect_docs),
        ];
        let custom = vec![ApiRoute::get("/mine").handler(ok)];
        build(&mastra, "/api", Vec::new(), builtins, custom).expect("table")
    }

    fn protected(routes: &[MountedRoute]) -> Vec<(&str, bool)> {
        routes
            .iter()
            .map(|r| (r.path(), r.is_protected()))
            .collect()
    }

    fn jwt() -> JwtAuth {
        JwtAuth::hs256("a secret of at least thirty-two bytes!").expect("secret")
    }

    #[test]
    fn builtin_api_routes_are_protected_and_the_docs_follow_the_switch() {
        assert_eq!(
            protected(&table(ServerConfig::default().auth(jwt()))),
            [
                ("/health", false),
                ("/api/agents", true),
                ("/api/openapi.json", false),
                ("/swagger-ui", false),
                ("/mine", true),
            ]
        );
        assert_eq!(
            protected(&table(
                ServerConfig::default().auth(jwt()).protect_docs(true)
            )),
            [
                ("/health", false),
                ("/api/agents", true),
                ("/api/openapi.json", true),
                ("/swagger-ui", true),
                ("/mine", true),
            ]
        );
    }

    #[test]
    fn without_auth_nothing_is_protected_and_no_layer_is_added() {
        let routes = table(ServerConfig::default());
        assert!(routes
            .iter()
            .all(|r| !r.is_protected() && !r.requires_token()));
        assert!(routes.iter().all(|r| r.middleware_count() == 0));
        let with_auth = table(ServerConfig::default().auth(jwt()));
        let layers: Vec<(&str, usize)> = with_auth
            .iter()
            .map(|r| (r.path(), r.middleware_count()))
            .collect();
        assert_eq!(
            layers[0],
            ("/health", 0),
            "a public route carries no auth layer"
        );
        assert_eq!(layers[1], ("/api/agents", 1));
    }
}
