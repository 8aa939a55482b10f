//! [`McpExposure`]: a custom route's opt-in to become an MCP tool, and the checks run on it when
//! the server is built (a valid tool name, no name used by two routes).

use std::collections::BTreeMap;

#[path = "tool_name.rs"]
mod tool_name;

pub use self::tool_name::{check_tool_name, ToolNameProblem, MAX_TOOL_NAME_CHARS};

use super::{MountedRoute, RouteProblem};

/// How a custom route is offered as an MCP tool: the tool's name and, optionally, its
/// description.
///
/// Without a description, the tool is described by the route's OpenAPI summary and description
/// (see [`MountedRoute::mcp_description`]). The name must follow MCP's tool-name rule (1 to 128
/// ASCII letters, digits, `_`, `-` or `.`) and be used by one route only; both are checked when
/// the server is built.
///
/// ```
/// use mastra_runtime::prelude::*;
///
/// async fn get_item(Path(id): Path<String>) -> HttpResponse {
///     HttpResponse::Ok().json(json!({ "id": id }))
/// }
///
/// // By name only: the route's summary describes the tool.
/// let route = ApiRoute::get("/items/:itemId").handler(get_item).mcp("get_item");
/// assert_eq!(route.mcp_exposure().map(McpExposure::name), Some("get_item"));
///
/// // With a description of its own.
/// let route = ApiRoute::get("/items/:itemId")
///     .handler(get_item)
///     .mcp(McpExposure::new("get_item").description("Looks an item up by id."));
/// let exposure = route.mcp_exposure().unwrap();
/// assert_eq!(exposure.explicit_description(), Some("Looks an item up by id."));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct McpExposure {
    name: String,
    description: Option<String>,
}

impl McpExposure {
    /// Offers the route as the MCP tool `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: None,
        }
    }

    /// Describes the tool with `text` instead of the route's OpenAPI summary and description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The description given with [`McpExposure::description`], if any. What the tool is
    /// finally described with is [`MountedRoute::mcp_description`].
    pub fn explicit_description(&self) -> Option<&str> {
        self.description.as_deref()
    }
}

impl From<&str> for McpExposure {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl From<String> for McpExposure {
    fn from(name: String) -> Self {
        Self::new(name)
    }
}

/// The MCP problems of a route table: names that break the tool-name rule, then names used by
/// more than one route (each pair once, in table order).
pub(crate) fn mcp_problems(routes: &[MountedRoute]) -> Vec<RouteProblem> {
    let mut problems = Vec::new();
    let mut by_name: BTreeMap<&str, Vec<&MountedRoute>> = BTreeMap::new();
    for route in routes {
        let Some(exposure) = route.mcp_exposure() else {
            continue;
        };
        if let Err(problem) = check_tool_name(exposure.name()) {
            problems.push(RouteProblem::McpToolName {
                route: route.label(),
                name: exposure.name().to_owned(),
                problem,
            });
        }
        by_name.entry(exposure.name()).or_default().push(route);
    }
    for (name, group) in by_name {
        for (i, first) in group.iter().enumerate() {
            for second in &group[i + 1..] {
                problems.push(RouteProblem::DuplicateMcpToolName {
                    name: name.to_owned(),
                    first: first.label(),
                    second: second.label(),
                });
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{tool_name::CASES, *};
    use crate::{
        describe::{Inference, OperationFragment},
        route::{PathPattern, RouteMethod, RouteOrigin},
    };

    /// A mounted route as the table would hold it, with only what the MCP checks read.
    fn mounted(path: &str, exposure: Option<McpExposure>) -> MountedRoute {
        MountedRoute {
            method: RouteMethod::Get,
            pattern: PathPattern::parse(path).expect("a valid path"),
            requires_auth: false,
            protected: false,
            needs_user: false,
            factory: Arc::new(actix_web::web::route),
            stack: Vec::new(),
            operation: OperationFragment::default(),
            doc_summary: None,
            doc_description: None,
            handler_name: None,
            inference: Inference::default(),
            origin: RouteOrigin::Explicit,
            validator: None,
            mcp: exposure,
        }
    }

    #[test]
    fn a_table_of_valid_distinct_names_has_no_problems() {
        let routes = [
            mounted("/a", Some("get_a".into())),
            mounted("/b", Some("get_b".into())),
            mounted("/c", None),
        ];
        assert_eq!(mcp_problems(&routes), []);
    }

    #[test]
    fn a_name_against_the_rule_names_the_route_and_the_problem() {
        let routes = [mounted("/items/:id", Some("get item".into()))];
        let problems = mcp_problems(&routes);
        assert_eq!(
            problems,
            [RouteProblem::McpToolName {
                route: "GET /items/:id (ApiRoute)".to_owned(),
                name: "get item".to_owned(),
                problem: ToolNameProblem::Disallowed(' '),
            }]
        );
        assert_eq!(
            problems[0].to_string(),
            "route GET /items/:id (ApiRoute): MCP tool name \"get item\" is refused: the name \
             contains ' '; an MCP tool name is 1 to 128 ASCII letters, digits, `_`, `-` or `.`"
        );
    }

    #[test]
    fn a_name_used_twice_names_both_routes() {
        let routes = [
            mounted("/a", Some("get".into())),
            mounted("/b", Some(McpExposure::new("get").description("other"))),
        ];
        let problems = mcp_problems(&routes);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].to_string(),
            "routes GET /a (ApiRoute) and GET /b (ApiRoute) are both offered as MCP tool \"get\"; \
             give each route its own name"
        );
    }

    #[test]
    fn the_tool_is_described_by_its_own_text_or_by_the_operation() {
        let mut route = mounted("/a", Some("a".into()));
        assert_eq!(route.mcp_description(), None);
        route.doc_summary = Some("From docs".into());
        assert_eq!(route.mcp_description().as_deref(), Some("From docs"));
        route.doc_description = Some("Longer.".into());
        assert_eq!(
            route.mcp_description().as_deref(),
            Some("From docs\n\nLonger.")
        );
        // `openapi(...)` overrides the doc comment, as in the document.
        route.operation = OperationFragment::new().summary("From openapi");
        assert_eq!(
            route.mcp_description().as_deref(),
            Some("From openapi\n\nLonger.")
        );
        route.mcp = Some(McpExposure::new("a").description("Own text."));
        assert_eq!(route.mcp_description().as_deref(), Some("Own text."));
        route.mcp = None;
        assert_eq!(route.mcp_description(), None);
    }

    #[test]
    fn the_builder_keeps_the_last_exposure() {
        let route = crate::route::ApiRoute::get("/a")
            .mcp("first")
            .mcp(McpExposure::new("second").description("Second."));
        assert_eq!(
            route.mcp_exposure(),
            Some(&McpExposure::new("second").description("Second."))
        );
        assert_eq!(crate::route::ApiRoute::get("/a").mcp_exposure(), None);
    }

    #[test]
    fn the_runtime_agrees_with_the_shared_table() {
        for &(name, expected) in CASES {
            assert_eq!(check_tool_name(name), expected, "{name:?}");
        }
    }

    #[test]
    fn the_longest_accepted_name_has_exactly_the_limit() {
        let longest = CASES
            .iter()
            .filter(|(_, expected)| expected.is_ok())
            .map(|(name, _)| name.len())
            .max();
        assert_eq!(longest, Some(MAX_TOOL_NAME_CHARS));
        assert!(CASES
            .iter()
            .any(|&(_, e)| e == Err(ToolNameProblem::TooLong(MAX_TOOL_NAME_CHARS + 2))));
    }

    #[test]
    fn problems_say_what_is_wrong_and_what_is_allowed() {
        let rule = "an MCP tool name is 1 to 128 ASCII letters, digits, `_`, `-` or `.`";
        assert_eq!(
            ToolNameProblem::Empty.to_string(),
            format!("the name is empty; {rule}")
        );
        assert_eq!(
            ToolNameProblem::TooLong(130).to_string(),
            format!("the name has 130 characters; {rule}")
        );
        assert_eq!(
            ToolNameProblem::Disallowed(' ').to_string(),
            format!("the name contains ' '; {rule}")
        );
    }

    #[test]
    fn a_name_converts_into_an_exposure_without_a_description() {
        let exposure = McpExposure::from("get_item");
        assert_eq!(exposure.name(), "get_item");
        assert_eq!(exposure.explicit_description(), None);
        assert_eq!(McpExposure::from(String::from("get_item")), exposure);
        let described = exposure.description("Gets one item.");
        assert_eq!(described.explicit_description(), Some("Gets one item."));
    }
}
