//! Which routes need a token (the `protected` and `public` patterns, decided once per route at
//! startup) and who may use them (the ordered [`Rule`]s, filtered per route at startup and
//! checked per request against the user).

use std::{fmt, sync::Arc};

use actix_web::http::Method;
use serde_json::Value;

use super::{Access, AuthConfigError};
use crate::route::{PathPattern, RouteMethod, RouteScope};

/// A path pattern (`/items/:id` exactly, or `/items/*` for `/items` and everything below it;
/// parameter names do not matter) with the methods it covers (all when none are named).
#[derive(Debug, Clone)]
pub(crate) struct PathMatch {
    scope: RouteScope,
    methods: Option<Vec<RouteMethod>>,
}

impl PathMatch {
    pub(crate) fn parse(
        pattern: &str,
        methods: Option<Vec<RouteMethod>>,
    ) -> Result<Self, AuthConfigError> {
        let scope = RouteScope::parse(pattern).map_err(|reason| AuthConfigError::BadPattern {
            pattern: pattern.to_owned(),
            reason,
        })?;
        Ok(Self { scope, methods })
    }

    fn names(&self, method: RouteMethod) -> bool {
        self.methods
            .as_ref()
            .is_none_or(|ms| ms.contains(&method) || ms.contains(&RouteMethod::All))
    }

    /// Whether every request the route answers is covered.
    pub(crate) fn covers_all(&self, pattern: &PathPattern, method: RouteMethod) -> bool {
        self.scope.covers(pattern)
            && match method {
                RouteMethod::All => self
                    .methods
                    .as_ref()
                    .is_none_or(|ms| ms.contains(&RouteMethod::All)),
                single => self.names(single),
            }
    }

    /// Whether some request the route answers is covered.
    pub(crate) fn covers_some(&self, pattern: &PathPattern, method: RouteMethod) -> bool {
        self.scope.covers(pattern) && (method == RouteMethod::All || self.names(method))
    }
}

type Condition = Arc<dyn Fn(&Value) -> bool + Send + Sync>;

/// One ordered authorization rule: a path pattern, optionally some methods and a condition on
/// the user, and whether a match allows or denies.
///
/// Once any rule is configured, each request to a protected route is decided by the first rule
/// that matches it (path, method, condition); when none matches, it is denied (403).
///
/// ```
/// use mastra_runtime::{auth::{AuthConfig, JwtAuth, Rule}, prelude::*};
///
/// let auth = AuthConfig::new(JwtAuth::hs256("a secret of at least thirty-two bytes!")?)
///     .rule(Rule::allow("/admin/*").when(|user| user["role"] == "admin"))
///     .rule(Rule::deny("/admin/*"))
///     .rule(Rule::allow("/api/*").methods([RouteMethod::Get]))
///     .rule(Rule::allow("/*").when(|user| user["role"] == "writer"));
/// # let _ = auth;
/// # Ok::<(), mastra_runtime::auth::AuthConfigError>(())
/// ```
#[derive(Clone)]
pub struct Rule {
    pub(crate) pattern: String,
    pub(crate) methods: Option<Vec<RouteMethod>>,
    pub(crate) access: Access,
    pub(crate) condition: Option<Condition>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("pattern", &self.pattern)
            .field("methods", &self.methods)
            .field("access", &self.access)
            .field("condition", &self.condition.is_some())
            .finish()
    }
}

impl Rule {
    /// A rule allowing requests under `pattern`.
    pub fn allow(pattern: impl Into<String>) -> Self {
        Self::new(pattern, Access::Allow)
    }

    /// A rule denying requests under `pattern`.
    pub fn deny(pattern: impl Into<String>) -> Self {
        Self::new(pattern, Access::Deny)
    }

    fn new(pattern: impl Into<String>, access: Access) -> Self {
        Self {
            pattern: pattern.into(),
            methods: None,
            access,
            condition: None,
        }
    }

    /// Limits the rule to these methods (`RouteMethod::Get` also covers `HEAD`).
    pub fn methods(mut self, methods: impl IntoIterator<Item = RouteMethod>) -> Self {
        self.methods = Some(methods.into_iter().collect());
        self
    }

    /// Limits the rule to users for whom `condition` holds.
    pub fn when(mut self, condition: impl Fn(&Value) -> bool + Send + Sync + 'static) -> Self {
        self.condition = Some(Arc::new(condition));
        self
    }
}

/// A rule checked and ready to match.
pub(crate) struct CompiledRule {
    pub(crate) target: PathMatch,
    pub(crate) access: Access,
    pub(crate) condition: Option<Condition>,
}

struct RouteRule {
    /// `None` when the route answers one method, already matched at startup.
    methods: Option<Vec<RouteMethod>>,
    access: Access,
    condition: Option<Condition>,
}

/// The rules that can match one route, in order, chosen at startup.
#[derive(Clone)]
pub(crate) struct RouteRules {
    /// Whether any rule is configured at all (then an unmatched request is denied).
    configured: bool,
    rules: Arc<[RouteRule]>,
}

impl RouteRules {
    /// No rules: every authenticated (and provider-authorized) user may go on.
    pub(crate) fn none() -> Self {
        Self {
            configured: false,
            rules: Arc::from(Vec::new()),
        }
    }

    /// The rules of `all` that can match the route at `pattern` answering `method`.
    pub(crate) fn for_route(
        all: &[CompiledRule],
        pattern: &PathPattern,
        method: RouteMethod,
    ) -> Self {
        let rules: Vec<RouteRule> = all
            .iter()
            .filter(|r| r.target.covers_some(pattern, method))
            .map(|r| RouteRule {
                methods: if method == RouteMethod::All {
                    r.target.methods.clone()
                } else {
                    None
                },
                access: r.access,
                condition: r.condition.clone(),
            })
            .collect();
        Self {
            configured: !all.is_empty(),
            rules: Arc::from(rules),
        }
    }

    /// Whether every request to the route will be denied (rules exist, none can match).
    pub(crate) fn denies_everything(&self) -> bool {
        self.configured && self.rules.is_empty()
    }

    /// The first matching rule's decision; deny when rules exist and none matches.
    pub(crate) fn permits(&self, method: &Method, user: &Value) -> bool {
        if !self.configured {
            return true;
        }
        let method = route_method(method);
        for rule in self.rules.iter() {
            if let Some(methods) = &rule.methods {
                if !method
                    .is_some_and(|m| methods.contains(&m) || methods.contains(&RouteMethod::All))
                {
                    continue;
                }
            }
            if rule.condition.as_ref().is_some_and(|holds| !holds(user)) {
                continue;
            }
            return rule.access == Access::Allow;
        }
        false
    }
}

fn route_method(method: &Method) -> Option<RouteMethod> {
    Some(match *method {
        Method::GET | Method::HEAD => RouteMethod::Get,
        Method::POST => RouteMethod::Post,
        Method::PUT => RouteMethod::Put,
        Method::PATCH => RouteMethod::Patch,
        Method::DELETE => RouteMethod::Delete,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compile(rule: Rule) -> CompiledRule {
        CompiledRule {
            target: PathMatch::parse(&rule.pattern, rule.methods).expect("pattern"),
            access: rule.access,
            condition: rule.condition,
        }
    }

    fn pattern(p: &str) -> PathPattern {
        PathPattern::parse(p).expect("path")
    }

    #[test]
    fn first_matching_rule_wins_and_default_is_deny() {
        let all = vec![
            compile(Rule::allow("/admin/*").when(|u| u["role"] == "admin")),
            compile(Rule::deny("/admin/*")),
            compile(Rule::allow("/items/:id").methods([RouteMethod::Get])),
        ];
        let admin = RouteRules::for_route(&all, &pattern("/admin/users"), RouteMethod::Get);
        assert!(admin.permits(&Method::GET, &json!({ "role": "admin" })));
        assert!(!admin.permits(&Method::GET, &json!({ "role": "user" })));

        let get_item = RouteRules::for_route(&all, &pattern("/items/{itemId}"), RouteMethod::Get);
        assert!(get_item.permits(&Method::GET, &json!({})));
        let post_item = RouteRules::for_route(&all, &pattern("/items/:id"), RouteMethod::Post);
        assert!(post_item.denies_everything());
        assert!(!post_item.permits(&Method::POST, &json!({})));

        let any_item = RouteRules::for_route(&all, &pattern("/items/:id"), RouteMethod::All);
        assert!(any_item.permits(&Method::HEAD, &json!({})));
        assert!(!any_item.permits(&Method::DELETE, &json!({})));
    }

    #[test]
    fn without_rules_everyone_authenticated_passes() {
        assert!(RouteRules::none().permits(&Method::DELETE, &json!({})));
        let empty = RouteRules::for_route(&[], &pattern("/x"), RouteMethod::Get);
        assert!(!empty.denies_everything());
    }

    #[test]
    fn method_limited_patterns_cover_all_method_routes_only_partly() {
        let get_only = PathMatch::parse("/x/*", Some(vec![RouteMethod::Get])).expect("pattern");
        assert!(get_only.covers_all(&pattern("/x/y"), RouteMethod::Get));
        assert!(!get_only.covers_all(&pattern("/x/y"), RouteMethod::All));
        assert!(get_only.covers_some(&pattern("/x/y"), RouteMethod::All));
        assert!(!get_only.covers_some(&pattern("/x/y"), RouteMethod::Post));
        assert!(!get_only.covers_some(&pattern("/z"), RouteMethod::Get));
        assert!(PathMatch::parse("no-slash", None).is_err());
    }
}
