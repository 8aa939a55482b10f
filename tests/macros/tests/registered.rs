//! What `#[api_route]` registers: each annotated function appears in the route inventory with
//! the method, path, auth flag, handler name, docs and OpenAPI fragment it was declared with,
//! and stays an ordinary function that can be called directly.

use mastra_runtime::{
    actix_web::{
        self,
        dev::{ServiceRequest, ServiceResponse},
        middleware::Next,
    },
    openapi::{ParamLocation, SchemaType},
    prelude::*,
    route::RouteDef,
    MountedRoute,
};

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(crate = "mastra_runtime::serde")]
#[schemars(crate = "mastra_runtime::schemars")]
struct Item {
    id: String,
    name: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(crate = "mastra_runtime::serde")]
#[schemars(crate = "mastra_runtime::schemars")]
struct CreateItem {
    name: String,
}

async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    next.call(req).await
}

mod auth {
    use super::*;

    pub async fn check(
        req: ServiceRequest,
        next: Next<impl MessageBody>,
    ) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
        next.call(req).await
    }
}

/// Get item by ID
///
/// Retrieves a single item
/// by its identifier.
#[api_route(
    "/items/:itemId",
    method = "GET",
    requires_auth = false,
    middleware(log_request, auth::check),
    openapi(tags("Items"), responses((status = 404, description = "Item not found")))
)]
async fn get_item(Path(item_id): Path<String>) -> Result<Json<Item>, ApiError> {
    Ok(Json(Item {
        name: format!("Item {item_id}"),
        id: item_id,
    }))
}

/// Create an item in a collection
#[api_route(
    "/collections/{collection}/items",
    method = "post",
    openapi(
        summary = "Create item",
        description = "Adds an item to the collection.",
        tags("Items", "Write"),
        operation_id = "createItem",
        deprecated,
        hidden = false,
        parameters(
            (name = "collection", description = "Collection id", schema = "string"),
            (name = "dryRun", in = "query", required = false, schema = "boolean"),
            (name = "X-Trace", in = "header", description = "Trace id"),
            (name = "session", in = "cookie", required = true, schema = "integer"),
        ),
        request_body(
            content_type = "application/json",
            body = CreateItem,
            required = true,
            description = "The new item",
        ),
        responses(
            (status = 201, description = "Created", body = Item, content_type = "application/json"),
            (status = 409, description = "Already exists"),
        ),
    )
)]
async fn create_item(
    Path(collection): Path<String>,
    Json(body): Json<CreateItem>,
) -> Result<Created<Json<Item>>, ApiError> {
    Ok(Created(Json(Item {
        id: collection,
        name: body.name,
    })))
}

#[api_route("/echo", method = "ALL", requires_auth = true)]
async fn echo(req: HttpRequest) -> HttpResponse {
    HttpResponse::Ok().body(req.method().to_string())
}

#[api_route("/pairs/:left/:right", method = "Patch", openapi(hidden))]
async fn patch_pair(Path((left, right)): Path<(String, u32)>) -> impl Responder {
    format!("{left}/{right}")
}

#[api_route("/", method = "put", openapi(deprecated = false))]
async fn put_root() -> &'static str {
    "root"
}

#[api_route("/things/{kind}", method = "DELETE")]
async fn r#delete(Path(kind): Path<String>) -> String {
    kind
}

/// The route registered by the function called `name` in this test crate.
fn registered(name: &str) -> ApiRoute {
    let defs: Vec<&RouteDef> = RouteDef::all()
        .filter(|def| def.is_in_module(module_path!()) && def.name() == name)
        .collect();
    assert_eq!(defs.len(), 1, "`{name}` should be registered exactly once");
    defs[0].route()
}

/// A `Mastra` mounting this test crate's routes.
fn mastra() -> Mastra {
    Mastra::builder()
        .routes_from_module(module_path!())
        .build()
        .expect("the annotated routes mount")
}

/// The mounted route whose handler is called `name`.
fn mounted<'a>(mastra: &'a Mastra, name: &str) -> &'a MountedRoute {
    let mut routes = mastra
        .routes()
        .iter()
        .filter(|route| route.handler_name() == Some(name));
    let route = routes.next().expect("route is mounted");
    assert!(routes.next().is_none(), "`{name}` is mounted once");
    route
}

#[test]
fn every_annotated_function_is_registered() {
    let mut names: Vec<&str> = RouteDef::all()
        .filter(|def| def.is_in_module(module_path!()))
        .map(RouteDef::name)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "create_item",
            "delete",
            "echo",
            "get_item",
            "patch_pair",
            "put_root"
        ]
    );
}

#[test]
fn method_path_and_auth_are_as_declared() {
    for (name, method, path, auth) in [
        ("get_item", RouteMethod::Get, "/items/:itemId", false),
        (
            "create_item",
            RouteMethod::Post,
            "/collections/{collection}/items",
            true,
        ),
        ("echo", RouteMethod::All, "/echo", true),
        (
            "patch_pair",
            RouteMethod::Patch,
            "/pairs/:left/:right",
            true,
        ),
        ("put_root", RouteMethod::Put, "/", true),
        ("delete", RouteMethod::Delete, "/things/{kind}", true),
    ] {
        let route = registered(name);
        assert_eq!(route.method(), method, "{name}");
        assert_eq!(route.path(), path, "{name}");
        assert_eq!(route.is_auth_required(), auth, "{name}");
    }
}

#[test]
fn handler_names_are_the_function_names_without_raw_prefix() {
    let mastra = mastra();
    for name in [
        "get_item",
        "create_item",
        "echo",
        "patch_pair",
        "put_root",
        "delete",
    ] {
        assert_eq!(mounted(&mastra, name).handler_name(), Some(name));
    }
}

#[test]
fn doc_comment_gives_summary_and_description() {
    let mastra = mastra();
    let get = mounted(&mastra, "get_item");
    assert_eq!(get.doc_summary(), Some("Get item by ID"));
    assert_eq!(
        get.doc_description(),
        Some("Retrieves a single item\nby its identifier.")
    );
    let create = mounted(&mastra, "create_item");
    assert_eq!(create.doc_summary(), Some("Create an item in a collection"));
    assert_eq!(create.doc_description(), None);
    let echo = mounted(&mastra, "echo");
    assert_eq!((echo.doc_summary(), echo.doc_description()), (None, None));
}

#[test]
fn middleware_are_attached_in_declaration_order() {
    let mastra = mastra();
    assert_eq!(mounted(&mastra, "get_item").middleware_count(), 2);
    assert_eq!(mounted(&mastra, "echo").middleware_count(), 0);
}

#[test]
fn short_openapi_fragment_has_only_what_was_written() {
    let route = registered("get_item");
    let op = route.operation();
    assert_eq!(op.tags, ["Items"]);
    assert_eq!(op.responses.len(), 1);
    assert_eq!(op.responses[0].status, 404);
    assert_eq!(
        op.responses[0].description.as_deref(),
        Some("Item not found")
    );
    assert!(op.responses[0].body.is_none());
    assert_eq!(
        (
            &op.summary,
            &op.description,
            &op.operation_id,
            op.deprecated,
            op.hidden
        ),
        (&None, &None, &None, None, false)
    );
    assert!(op.parameters.is_empty() && op.request_body.is_none());
}

#[test]
fn every_openapi_key_reaches_the_fragment() {
    let route = registered("create_item");
    let op = route.operation();
    assert_eq!(op.summary.as_deref(), Some("Create item"));
    assert_eq!(
        op.description.as_deref(),
        Some("Adds an item to the collection.")
    );
    assert_eq!(op.tags, ["Items", "Write"]);
    assert_eq!(op.operation_id.as_deref(), Some("createItem"));
    assert_eq!(op.deprecated, Some(true));
    assert!(!op.hidden);

    let params: Vec<_> = op
        .parameters
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.location,
                p.required,
                p.description.as_deref(),
                p.schema,
            )
        })
        .collect();
    assert_eq!(
        params,
        [
            (
                "collection",
                ParamLocation::Path,
                None,
                Some("Collection id"),
                Some(SchemaType::String)
            ),
            (
                "dryRun",
                ParamLocation::Query,
                Some(false),
                None,
                Some(SchemaType::Boolean)
            ),
            (
                "X-Trace",
                ParamLocation::Header,
                None,
                Some("Trace id"),
                None
            ),
            (
                "session",
                ParamLocation::Cookie,
                Some(true),
                None,
                Some(SchemaType::Integer)
            ),
        ]
    );

    let body = op.request_body.as_ref().expect("request body");
    assert_eq!(body.content_type.as_deref(), Some("application/json"));
    assert!(body.body.is_some());
    assert_eq!(body.required, Some(true));
    assert_eq!(body.description.as_deref(), Some("The new item"));

    let responses: Vec<_> = op
        .responses
        .iter()
        .map(|r| {
            (
                r.status,
                r.description.as_deref(),
                r.body.is_some(),
                r.content_type.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        responses,
        [
            (201, Some("Created"), true, Some("application/json")),
            (409, Some("Already exists"), false, None),
        ]
    );
}

#[test]
fn hidden_and_deprecated_accept_flag_and_bool_forms() {
    assert!(registered("patch_pair").operation().hidden);
    assert_eq!(registered("put_root").operation().deprecated, Some(false));
}

#[test]
fn argument_and_return_types_are_probed_for_inference() {
    let mastra = mastra();
    let get = mounted(&mastra, "get_item").inference();
    assert!(get.path.is_some(), "Path<String> describes the path");
    assert!(get.error_responses, "Result<_, ApiError> describes errors");
    assert_eq!(
        get.responses.iter().map(|r| r.status).collect::<Vec<_>>(),
        [200]
    );

    let create = mounted(&mastra, "create_item").inference();
    assert!(create.path.is_some());
    assert_eq!(
        create.body.as_ref().map(|b| b.content_type.as_str()),
        Some("application/json")
    );
    assert_eq!(
        create
            .responses
            .iter()
            .map(|r| r.status)
            .collect::<Vec<_>>(),
        [201]
    );

    // `HttpRequest` and `HttpResponse` do not describe themselves; `impl Responder` is skipped.
    let echo = mounted(&mastra, "echo").inference();
    assert!(echo.path.is_none() && echo.body.is_none() && echo.responses.is_empty());
    assert!(mounted(&mastra, "patch_pair")
        .inference()
        .responses
        .is_empty());
}

#[actix_web::test]
async fn annotated_functions_stay_directly_callable() {
    let Json(item) = get_item(Path("7".into())).await.expect("found");
    assert_eq!(
        item,
        Item {
            id: "7".into(),
            name: "Item 7".into()
        }
    );
    let Created(Json(created)) = create_item(
        Path("books".into()),
        Json(CreateItem {
            name: "Dune".into(),
        }),
    )
    .await
    .expect("created");
    assert_eq!(created.name, "Dune");
    assert_eq!(put_root().await, "root");
    assert_eq!(r#delete(Path("x".into())).await, "x");
}
