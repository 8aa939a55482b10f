//! How the route table becomes actix-web resources: one resource per route (method guard,
//! [`RouteGuard`], the route's validator and middleware stack), grouped in scopes by shared
//! static prefix ([`Mounts`]), then one 405 catcher per path shape that answers with `Allow`.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use actix_web::{
    guard,
    http::{header, Method},
    web, HttpResponse,
};

use super::route_guard::RouteGuard;
use crate::route::{middleware::wrap_in_order, MountedRoute, PathPattern, RouteMethod, Segment};

/// The guard that lets only the route's method through (GET also answers HEAD).
///
/// Not actix-web's `guard::Method`: besides comparing, that one records every method it is
/// asked about in the request's extensions (a `Vec` and a map insert per check) for the `Allow`
/// header of a resource's own 405, which this server answers with its catchers below instead.
/// Comparing the method is all a route needs, and every request passes through one of these
/// per resource it is tried against.
#[derive(Debug, Clone)]
struct MethodIs {
    method: Method,
    or_head: bool,
}

impl MethodIs {
    /// The guard for `method`; `None` for a route that takes every method.
    fn of(method: RouteMethod) -> Option<Self> {
        let only = |method| Self {
            method,
            or_head: false,
        };
        Some(match method {
            RouteMethod::Get => Self {
                method: Method::GET,
                or_head: true,
            },
            RouteMethod::Post => only(Method::POST),
            RouteMethod::Put => only(Method::PUT),
            RouteMethod::Patch => only(Method::PATCH),
            RouteMethod::Delete => only(Method::DELETE),
            RouteMethod::All => return None,
        })
    }
}

impl guard::Guard for MethodIs {
    fn check(&self, ctx: &guard::GuardContext<'_>) -> bool {
        let method = &ctx.head().method;
        *method == self.method || (self.or_head && *method == Method::HEAD)
    }
}

/// Registers one resource per route, guarded by its method, then one catch-all per path shape
/// that answers 405 with `Allow`.
///
/// Resource guards make actix-web's router try the next resource when the method does not
/// match, so routes with the same shape but different parameter names (`/items/:id` GET and
/// `/items/:itemId` POST) each keep their own names, and a literal route (`/items/new` GET)
/// does not hide a parameter route (`/items/:id` POST) for other methods.
///
/// actix-web tries resources one by one, and each parameterised one is a regex match, so
/// routes sharing a long static prefix are grouped in scopes ([`Mounts`]): custom routes do
/// not pay for the built-in ones, nor one built-in group for another.
pub(super) fn mount(cfg: &mut web::ServiceConfig, routes: &[MountedRoute], guard: &RouteGuard) {
    let mut order: Vec<&MountedRoute> = routes.iter().collect();
    order.sort_by(|a, b| {
        a.pattern
            .specificity_key()
            .cmp(&b.pattern.specificity_key())
    });
    let mut mounts = Mounts::new(order.iter().map(|r| &r.pattern));
    tracing::debug!(target: "mastra::server", scopes = ?mounts.scopes, "routes grouped in scopes");

    for route in &order {
        let handler = wrap_in_order((route.factory)(), &route.stack);
        let (group, pattern) = mounts.place(&route.pattern);
        let mut resource = web::resource(pattern);
        if let Some(guard) = MethodIs::of(route.method) {
            resource = resource.guard(guard);
        }
        if let Some(validator) = &route.validator {
            // The extractors find the route's compiled schemas here.
            resource = resource.app_data(Arc::clone(validator));
        }
        // The guard wraps the whole resource rather than its route: `Route::wrap` would add a
        // boxed service and a body-converting future per request.
        let resource = resource.route(handler).wrap(guard.clone());
        mounts.add(group, move |cfg| {
            cfg.service(resource);
        });
    }

    // One 405 catcher per shape, most specific first. A shape's Allow lists the methods of
    // every route whose pattern also matches requests of that shape.
    let mut shapes: BTreeMap<Vec<(u8, &str)>, &MountedRoute> = BTreeMap::new();
    for route in &order {
        shapes
            .entry(route.pattern.specificity_key())
            .or_insert(route);
    }
    for (_, representative) in shapes {
        let covering: Vec<&MountedRoute> = order
            .iter()
            .copied()
            .filter(|r| covers(r.pattern.segments(), representative.pattern.segments()))
            .collect();
        if covering.iter().any(|r| r.method == RouteMethod::All) {
            continue;
        }
        let mut allowed: Vec<&str> = covering
            .iter()
            .flat_map(|r| r.method.http_methods().unwrap_or(&[]))
            .map(Method::as_str)
            .collect();
        allowed.sort_unstable();
        allowed.dedup();
        let allow: Arc<str> = allowed.join(", ").into();
        let (group, pattern) = mounts.place(&representative.pattern);
        let catcher = web::resource(pattern).default_service(web::to(move || {
            let allow = Arc::clone(&allow);
            async move {
                HttpResponse::MethodNotAllowed()
                    .insert_header((header::ALLOW, allow.as_ref()))
                    .json(serde_json::json!({ "error": "Method Not Allowed" }))
            }
        }));
        mounts.add(group, move |cfg| {
            cfg.service(catcher);
        });
    }
    mounts.register(cfg);
}

/// Registers one resource (whose type differs per route once wrapped) into a config.
type Registration = Box<dyn FnOnce(&mut web::ServiceConfig)>;

/// A path prefix shared by at least this many routes gets its own scope. A scope costs its
/// members one more routing layer (a boxed service and a path lookup, ~700 instructions per
/// request in the GET benchmark) and everyone else one prefix comparison, while each route
/// left in the open costs every later request a regex match (~300-500 instructions) when it
/// has parameters: from four routes on, the scope is the cheaper of the two.
const SCOPE_MIN_ROUTES: usize = 4;

/// Resources on their way into the app, in a tree of scopes: a prefix of static segments
/// becomes a scope when many routes share it (`/api`, then `/api/agents` inside it), so a
/// request pays one prefix comparison per group it does not belong to instead of one match
/// per route, while small groups (`/items`) stay where they are and pay no scope layer.
///
/// Grouping reorders routes across groups, which is only sound when no route at that level
/// starts its remainder with a parameter (it could match under any sibling's literal, and
/// must be tried in specificity order with them): such a level is not split.
struct Mounts {
    /// Prefixes (as segment lists) that are scopes.
    scopes: BTreeSet<Vec<String>>,
    root: Group,
}

#[derive(Default)]
struct Group {
    resources: Vec<Registration>,
    scopes: BTreeMap<String, Group>,
}

impl Mounts {
    fn new<'a>(patterns: impl Iterator<Item = &'a PathPattern>) -> Self {
        let mut sharing: BTreeMap<Vec<&str>, usize> = BTreeMap::new();
        let mut param_next: BTreeSet<Vec<&str>> = BTreeSet::new();
        for pattern in patterns {
            let mut prefix = Vec::new();
            for segment in pattern.segments() {
                match segment {
                    Segment::Static(literal) => {
                        prefix.push(literal.as_str());
                        *sharing.entry(prefix.clone()).or_default() += 1;
                    }
                    Segment::Param(_) => {
                        param_next.insert(prefix.clone());
                        break;
                    }
                }
            }
        }
        // Shorter prefixes first, so a prefix is only a scope when its parent is one (or is
        // the root) and the parent level may be split.
        let mut candidates: Vec<(Vec<&str>, usize)> = sharing.into_iter().collect();
        candidates.sort_by_key(|(prefix, _)| prefix.len());
        let mut scopes: BTreeSet<Vec<&str>> = BTreeSet::new();
        for (prefix, count) in candidates {
            let parent = &prefix[..prefix.len() - 1];
            let parent_is_group = parent.is_empty() || scopes.contains(parent);
            if count >= SCOPE_MIN_ROUTES && parent_is_group && !param_next.contains(parent) {
                scopes.insert(prefix);
            }
        }
        Self {
            scopes: scopes
                .into_iter()
                .map(|prefix| prefix.into_iter().map(str::to_owned).collect())
                .collect(),
            root: Group::default(),
        }
    }

    /// The scopes a route goes in (outermost first), and its pattern relative to the innermost.
    fn place(&self, pattern: &PathPattern) -> (Vec<String>, String) {
        let mut chain: Vec<String> = Vec::new();
        for segment in pattern.segments() {
            let Segment::Static(literal) = segment else {
                break;
            };
            chain.push(literal.clone());
            if !self.scopes.contains(&chain) {
                chain.pop();
                break;
            }
        }
        let full = pattern.actix();
        let prefix: String = chain.iter().map(|s| format!("/{s}")).collect();
        let rest = full.strip_prefix(&prefix).unwrap_or(&full).to_owned();
        (chain, rest)
    }

    fn add(
        &mut self,
        chain: Vec<String>,
        register: impl FnOnce(&mut web::ServiceConfig) + 'static,
    ) {
        let mut group = &mut self.root;
        for segment in chain {
            group = group.scopes.entry(segment).or_default();
        }
        group.resources.push(Box::new(register));
    }

    fn register(self, cfg: &mut web::ServiceConfig) {
        self.root.register(cfg);
    }
}

impl Group {
    fn register(self, cfg: &mut web::ServiceConfig) {
        for register in self.resources {
            register(cfg);
        }
        for (segment, group) in self.scopes {
            // A request that enters a scope and matches nothing there gets the app's JSON 404.
            cfg.service(
                web::scope(&format!("/{segment}")).configure(|scope| group.register(scope)),
            );
        }
    }
}

/// Whether every request matching `target` also matches `general`.
fn covers(general: &[Segment], target: &[Segment]) -> bool {
    general.len() == target.len()
        && general.iter().zip(target).all(|(g, t)| match (g, t) {
            (Segment::Param(_), _) => true,
            (Segment::Static(a), Segment::Static(b)) => a == b,
            (Segment::Static(_), Segment::Param(_)) => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounts(paths: &[&str]) -> (Mounts, Vec<PathPattern>) {
        let patterns: Vec<PathPattern> = paths
            .iter()
            .map(|p| PathPattern::parse(p).expect("valid pattern"))
            .collect();
        (Mounts::new(patterns.iter()), patterns)
    }

    #[test]
    fn large_static_groups_nest_in_scopes_and_small_ones_stay_put() {
        let mut paths: Vec<String> = (0..SCOPE_MIN_ROUTES)
            .map(|i| format!("/api/agents/a{i}/:id"))
            .collect();
        paths.extend(["/api", "/api/openapi.json", "/items", "/items/:id"].map(String::from));
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        let (mounts, patterns) = mounts(&paths);
        let place = |path: &str| {
            let pattern = patterns
                .iter()
                .find(|p| p.as_str() == path)
                .expect("listed");
            mounts.place(pattern)
        };
        assert_eq!(
            place("/api/agents/a0/:id"),
            (
                vec!["api".to_owned(), "agents".to_owned()],
                "/a0/{id}".to_owned()
            )
        );
        assert_eq!(
            place("/api/openapi.json"),
            (vec!["api".to_owned()], "/openapi.json".to_owned())
        );
        assert_eq!(place("/api"), (vec!["api".to_owned()], String::new()));
        assert_eq!(place("/items/:id"), (vec![], "/items/{id}".to_owned()));
    }

    #[test]
    fn a_level_where_some_route_continues_with_a_parameter_is_not_split() {
        let mut paths: Vec<String> = (0..SCOPE_MIN_ROUTES)
            .map(|i| format!("/api/agents/a{i}"))
            .collect();
        paths.push("/api/:kind/list".to_owned());
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        let (mounts, patterns) = mounts(&paths);
        // `/api/:kind/list` can match `/api/agents/list`: it must stay in order with the
        // `/api/agents/...` routes, so `/api` is a scope but `/api/agents` is not.
        assert_eq!(
            mounts.place(&patterns[0]),
            (vec!["api".to_owned()], "/agents/a0".to_owned())
        );
    }

    #[test]
    fn a_route_starting_with_a_parameter_keeps_every_route_at_the_root() {
        let mut paths: Vec<String> = (0..SCOPE_MIN_ROUTES)
            .map(|i| format!("/api/r{i}"))
            .collect();
        paths.push("/:tenant/health".to_owned());
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        let (mounts, patterns) = mounts(&paths);
        assert_eq!(mounts.place(&patterns[0]), (vec![], "/api/r0".to_owned()));
    }
}
