//! Custom routes that opt in to become MCP tools, from both front doors (`mcp(...)` in
//! `#[api_route]`, `ApiRoute::mcp`): the exposure travels to the mounted route table, and a
//! refused or shared tool name fails the build naming the routes.

use mastra_runtime::{prelude::*, MastraBuilder, MountedRoute, RouteProblem};
use mastra_tests::test_config;

mod exposed {
    use mastra_runtime::prelude::*;

    /// Get item by ID
    ///
    /// Retrieves a single item by its unique identifier.
    #[api_route(
        "/items/:itemId",
        method = "GET",
        requires_auth = false,
        mcp(name = "get_item")
    )]
    pub async fn get_item(Path(item_id): Path<String>) -> HttpResponse {
        HttpResponse::Ok().json(json!({ "id": item_id }))
    }

    /// Delete an item
    #[api_route(
        "/items/:itemId",
        method = "DELETE",
        mcp(name = "delete_item", description = "Deletes the item for good.")
    )]
    pub async fn delete_item(Path(item_id): Path<String>) -> HttpResponse {
        HttpResponse::Ok().json(json!({ "deleted": item_id }))
    }

    /// Not offered over MCP.
    #[api_route("/items", method = "GET")]
    pub async fn list_items() -> HttpResponse {
        HttpResponse::Ok().json(json!([]))
    }
}

mod clash {
    use mastra_runtime::prelude::*;

    #[api_route("/clash/a", method = "GET", mcp(name = "lookup"))]
    pub async fn first() -> &'static str {
        "a"
    }

    #[api_route("/clash/b", method = "GET", mcp(name = "lookup"))]
    pub async fn second() -> &'static str {
        "b"
    }
}

async fn create_item() -> HttpResponse {
    HttpResponse::Created().json(json!({ "id": "1" }))
}

fn app(module: &str) -> MastraBuilder {
    Mastra::builder()
        .server(test_config())
        .routes_from_module(format!("{}::{module}", module_path!()))
}

fn route<'a>(mastra: &'a Mastra, method: RouteMethod, path: &str) -> &'a MountedRoute {
    mastra
        .routes()
        .iter()
        .find(|r| r.method() == method && r.path() == path)
        .unwrap_or_else(|| panic!("{method} {path} is not mounted"))
}

fn problems(builder: MastraBuilder) -> (Vec<RouteProblem>, String) {
    match builder.build() {
        Ok(_) => panic!("build should have failed"),
        Err(error) => (error.route_problems().to_vec(), error.to_string()),
    }
}

#[test]
fn annotated_and_builder_routes_carry_their_mcp_exposure_to_the_mounted_table() {
    let mastra = app("exposed")
        .route(
            ApiRoute::post("/items")
                .handler(create_item)
                .mcp("create_item"),
        )
        .route(
            ApiRoute::put("/items/:itemId")
                .handler(create_item)
                .mcp(McpExposure::new("replace_item").description("Replaces the item.")),
        )
        .build()
        .expect("the app builds");

    let get = route(&mastra, RouteMethod::Get, "/items/:itemId");
    assert_eq!(get.mcp_exposure(), Some(&McpExposure::new("get_item")));
    assert_eq!(
        get.mcp_description().as_deref(),
        Some("Get item by ID\n\nRetrieves a single item by its unique identifier.")
    );

    let delete = route(&mastra, RouteMethod::Delete, "/items/:itemId");
    assert_eq!(
        delete.mcp_exposure(),
        Some(&McpExposure::new("delete_item").description("Deletes the item for good."))
    );
    assert_eq!(
        delete.mcp_description().as_deref(),
        Some("Deletes the item for good.")
    );

    let create = route(&mastra, RouteMethod::Post, "/items");
    assert_eq!(
        create.mcp_exposure().map(McpExposure::name),
        Some("create_item")
    );
    assert_eq!(create.mcp_description(), None, "nothing describes it");

    let replace = route(&mastra, RouteMethod::Put, "/items/:itemId");
    assert_eq!(
        replace
            .mcp_exposure()
            .and_then(McpExposure::explicit_description),
        Some("Replaces the item.")
    );

    assert_eq!(
        route(&mastra, RouteMethod::Get, "/items").mcp_exposure(),
        None
    );
    let exposed: Vec<&str> = mastra
        .routes()
        .iter()
        .filter_map(|r| r.mcp_exposure().map(McpExposure::name))
        .collect();
    assert_eq!(exposed.len(), 4, "{exposed:?}");
}

#[test]
fn two_annotated_routes_with_one_mcp_name_fail_the_build_naming_both() {
    let (found, text) = problems(app("clash"));
    assert_eq!(found.len(), 1, "{text}");
    let RouteProblem::DuplicateMcpToolName {
        name,
        first,
        second,
    } = &found[0]
    else {
        panic!("unexpected problem: {text}");
    };
    assert_eq!(name, "lookup");
    assert!(
        first.starts_with("GET /clash/a (mcp_routes::clash::first at "),
        "{text}"
    );
    assert!(
        second.starts_with("GET /clash/b (mcp_routes::clash::second at "),
        "{text}"
    );
    assert!(
        text.contains("are both offered as MCP tool \"lookup\"; give each route its own name"),
        "{text}"
    );
}

#[test]
fn an_annotated_and_a_builder_route_may_not_share_a_name_either() {
    let builder = app("exposed").route(
        ApiRoute::post("/items")
            .handler(create_item)
            .mcp("get_item"),
    );
    let (found, text) = problems(builder);
    assert_eq!(found.len(), 1, "{text}");
    assert!(
        text.contains("GET /items/:itemId (mcp_routes::exposed::get_item at ")
            && text.contains("POST /items (ApiRoute)")
            && text.contains("both offered as MCP tool \"get_item\""),
        "{text}"
    );
}

#[test]
fn a_builder_route_with_a_name_against_the_rule_fails_the_build() {
    let too_long = "x".repeat(129);
    let builder = Mastra::builder()
        .without_annotated_routes()
        .route(ApiRoute::get("/a").handler(create_item).mcp("get item"))
        .route(ApiRoute::get("/b").handler(create_item).mcp(""))
        .route(
            ApiRoute::get("/c")
                .handler(create_item)
                .mcp(too_long.as_str()),
        );
    let (found, text) = problems(builder);
    let rule = "an MCP tool name is 1 to 128 ASCII letters, digits, `_`, `-` or `.`";
    assert_eq!(
        found.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            format!(
                "route GET /a (ApiRoute): MCP tool name \"get item\" is refused: the name \
                 contains ' '; {rule}"
            ),
            format!(
                "route GET /b (ApiRoute): MCP tool name \"\" is refused: the name is empty; {rule}"
            ),
            format!(
                "route GET /c (ApiRoute): MCP tool name \"{too_long}\" is refused: the name has \
                 129 characters; {rule}"
            ),
        ],
        "{text}"
    );
}
