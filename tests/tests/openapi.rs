//! The OpenAPI document at `/api/openapi.json`: what it lists, what it infers from handler types,
//! how `openapi(...)` and doc comments refine it, and how it is served.

mod openapi_support;

use mastra_runtime::{
    auth::{AuthConfig, JwtAuth},
    openapi::{DocumentSettings, OpenApiDocument},
    prelude::*,
    MastraBuilder,
};
use mastra_tests::{
    jwt::{claims, hs256, SECRET},
    test_config, TestServer,
};
use openapi_support::{assert_valid_openapi, document, operations};
use reqwest::Method;
use serde_json::{json, Value};

mod shop {
    use mastra_runtime::prelude::*;

    /// An item for sale.
    #[derive(Serialize, Deserialize, JsonSchema)]
    pub struct Item {
        /// Identifier.
        pub id: String,
        /// Display name.
        pub name: String,
    }

    /// What a client sends to add an item.
    #[derive(Deserialize, JsonSchema)]
    pub struct NewItem {
        /// Display name.
        #[schemars(length(min = 1))]
        pub name: String,
    }

    /// Sort order.
    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Order {
        /// Oldest first.
        Asc,
        /// Newest first.
        Desc,
    }

    /// Paging of a list.
    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)] // Read only through its schema.
    pub struct Paging {
        /// How many items, 1 to 100.
        #[schemars(range(min = 1, max = 100))]
        pub limit: Option<u32>,
        /// Sort order.
        pub order: Order,
    }

    /// List items
    ///
    /// Every item, a page at a time.
    ///
    /// Ordered as asked.
    #[api_route("/shop/items", method = "GET", requires_auth = false)]
    pub async fn list_items(Query(_paging): Query<Paging>) -> Json<Vec<Item>> {
        Json(Vec::new())
    }

    /// This summary is replaced by the fragment's.
    #[api_route(
        "/shop/items",
        method = "POST",
        openapi(
            summary = "Add an item",
            tags("Shop", "Catalogue"),
            responses((status = 409, description = "An item with this name exists"))
        )
    )]
    pub async fn create_item(Json(new): Json<NewItem>) -> Result<Created<Json<Item>>, ApiError> {
        Ok(Created(Json(Item {
            id: "1".into(),
            name: new.name,
        })))
    }

    /// A pair of values.
    #[api_route("/pairs/:left/:right", method = "GET", requires_auth = false)]
    pub async fn pair(Path((left, right)): Path<(String, u32)>) -> String {
        format!("{left}{right}")
    }
}

mod warehouse {
    use mastra_runtime::prelude::*;

    /// Stock of one item: the same Rust name as `shop::Item`, another type.
    #[derive(Serialize, Deserialize, JsonSchema)]
    pub struct Item {
        /// Stock keeping unit.
        pub sku: String,
        /// Units in stock.
        pub count: u32,
    }

    #[api_route(
        "/warehouse/:sku",
        method = "GET",
        openapi(parameters(
            (name = "sku", description = "Stock keeping unit"),
            (name = "x-trace", in = "header", required = false, description = "Trace id")
        ))
    )]
    pub async fn get_stock(Path(sku): Path<String>) -> Result<Json<Item>, ApiError> {
        Ok(Json(Item { sku, count: 3 }))
    }

    #[api_route("/anything", method = "ALL", requires_auth = false)]
    pub async fn anything(c: Context) -> HttpResponse {
        c.json(json!({ "method": c.request().method().as_str() }))
    }

    #[api_route("/internal/secret", method = "GET", openapi(hidden))]
    pub async fn secret() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    #[api_route("/ids/one", method = "GET", openapi(operation_id = "same"))]
    pub async fn first_same() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    #[api_route("/ids/two", method = "GET", openapi(operation_id = "same"))]
    pub async fn second_same() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

async fn plain(Path(id): Path<String>) -> String {
    id
}

fn app() -> MastraBuilder {
    Mastra::builder()
        .server(test_config())
        .routes_from_module(module_path!())
        .route(ApiRoute::get("/plain/:id").handler(plain))
}

#[tokio::test]
async fn every_mounted_route_is_documented_under_each_of_its_methods_except_hidden_ones() {
    let server = TestServer::start(app()).await;
    let doc = document(&server).await;
    let mut expected = 0;
    for route in server.mastra().routes() {
        let path = route.pattern().openapi();
        let methods: Vec<RouteMethod> = match route.method() {
            RouteMethod::All => RouteMethod::SINGLE.to_vec(),
            single => vec![single],
        };
        for method in methods {
            let operation = &doc["paths"][&path][method.as_str().to_ascii_lowercase()];
            if route.operation().hidden {
                assert!(operation.is_null(), "hidden {method} {path} is listed");
            } else {
                expected += 1;
                assert!(operation.is_object(), "{method} {path} is missing");
            }
        }
    }
    let listed = operations(&doc);
    assert_eq!(listed.len(), expected, "the document lists {listed:?}");
    // The walk covered built-in, annotated, explicit, ALL and hidden routes.
    for path in [
        "/health",
        "/api/openapi.json",
        "/swagger-ui",
        "/plain/{id}",
        "/anything",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is missing");
    }
    assert!(server
        .mastra()
        .routes()
        .iter()
        .any(|r| r.operation().hidden && r.path() == "/internal/secret"));
    assert!(doc["paths"]["/internal/secret"].is_null());
    assert!(doc["paths"]["/swagger-ui/{file}"].is_null());
    assert!(doc["paths"]["/swagger-ui/"].is_null());
}

#[tokio::test]
async fn the_document_passes_openapi_spec_validator() {
    let server = TestServer::start(app()).await;
    let doc = document(&server).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Mastra API");
    assert_valid_openapi(&doc, "custom-routes");

    let quickstart = TestServer::start(quickstart::app().server(test_config())).await;
    assert_valid_openapi(&document(&quickstart).await, "quickstart");
}

#[tokio::test]
async fn path_query_and_body_types_give_parameters_and_a_referenced_body() {
    let server = TestServer::start(app()).await;
    let doc = document(&server).await;

    let list = &doc["paths"]["/shop/items"]["get"];
    let params = list["parameters"].as_array().expect("query parameters");
    let limit = params.iter().find(|p| p["name"] == "limit").expect("limit");
    assert_eq!(limit["in"], "query");
    assert_eq!(limit["required"], false, "Option<_> is optional");
    assert_eq!(limit["schema"]["minimum"], 1);
    assert_eq!(limit["schema"]["maximum"], 100);
    assert_eq!(limit["description"], "How many items, 1 to 100.");
    let order = params.iter().find(|p| p["name"] == "order").expect("order");
    assert_eq!(order["required"], true);
    let order_schema = &order["schema"]["$ref"];
    assert_eq!(order_schema, "#/components/schemas/Order");
    // Documented variants become `oneOf` constants, each with its description.
    let variants: Vec<&Value> = doc["components"]["schemas"]["Order"]["oneOf"]
        .as_array()
        .expect("one schema per variant")
        .iter()
        .map(|v| &v["const"])
        .collect();
    assert_eq!(variants, [&json!("asc"), &json!("desc")]);
    assert!(
        doc["components"]["schemas"]["Paging"].is_null(),
        "the query struct became parameters, not a component"
    );

    let stock = &doc["paths"]["/warehouse/{sku}"]["get"];
    let sku = &stock["parameters"][0];
    assert_eq!(sku["name"], "sku");
    assert_eq!(sku["in"], "path");
    assert_eq!(sku["required"], true);
    assert_eq!(sku["schema"]["type"], "string");

    let pair = &doc["paths"]["/pairs/{left}/{right}"]["get"]["parameters"];
    assert_eq!(pair[0]["schema"]["type"], "string");
    assert_eq!(
        pair[1]["schema"]["type"], "integer",
        "tuple items are typed in order"
    );

    let plain = &doc["paths"]["/plain/{id}"]["get"]["parameters"][0];
    assert_eq!(
        plain["schema"]["type"], "string",
        "an untyped path parameter is a string"
    );

    let create = &doc["paths"]["/shop/items"]["post"];
    let body = &create["requestBody"];
    assert_eq!(body["required"], true);
    let body_ref = body["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .expect("the body refers to a component");
    let name = body_ref.trim_start_matches("#/components/schemas/");
    assert_eq!(
        doc["components"]["schemas"][name]["properties"]["name"]["minLength"],
        1
    );
}

#[tokio::test]
async fn return_types_give_responses_and_api_error_adds_the_error_body() {
    let server = TestServer::start(app()).await;
    let doc = document(&server).await;

    let list = &doc["paths"]["/shop/items"]["get"]["responses"];
    assert_eq!(list["200"]["description"], "Successful response");
    assert_eq!(
        list["200"]["content"]["application/json"]["schema"]["type"],
        "array"
    );
    assert!(list["default"].is_null(), "no ApiError, no error response");

    let create = &doc["paths"]["/shop/items"]["post"]["responses"];
    assert!(create["200"].is_null());
    assert_eq!(create["201"]["description"], "Created");
    let error_ref = json!("#/components/schemas/ErrorResponse");
    assert_eq!(
        create["default"]["content"]["application/json"]["schema"]["$ref"],
        error_ref
    );
    assert_eq!(
        create["409"]["description"],
        "An item with this name exists"
    );
    assert_eq!(
        create["409"]["content"]["application/json"]["schema"]["$ref"], error_ref,
        "a declared failure of a Result<_, ApiError> handler carries the error body"
    );
    assert_eq!(
        create["400"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ValidationErrorResponse"
    );
    for status in ["413", "415"] {
        assert_eq!(
            create[status]["content"]["application/json"]["schema"]["$ref"], error_ref,
            "{status}: what the runtime answers before parsing a JSON body is documented"
        );
    }
    assert!(list["415"].is_null(), "no body, no 415");
    let error = &doc["components"]["schemas"]["ErrorResponse"];
    assert_eq!(error["required"], json!(["error"]));
}

#[tokio::test]
async fn doc_comments_and_openapi_fragments_refine_what_is_inferred() {
    let server = TestServer::start(app()).await;
    let doc = document(&server).await;

    let list = &doc["paths"]["/shop/items"]["get"];
    assert_eq!(list["summary"], "List items");
    assert_eq!(
        list["description"],
        "Every item, a page at a time.\n\nOrdered as asked."
    );
    assert_eq!(list["tags"], json!(["custom"]));

    let create = &doc["paths"]["/shop/items"]["post"];
    assert_eq!(create["summary"], "Add an item", "openapi(summary) wins");
    assert_eq!(create["tags"], json!(["Shop", "Catalogue"]));

    let stock = &doc["paths"]["/warehouse/{sku}"]["get"]["parameters"];
    assert_eq!(stock[0]["description"], "Stock keeping unit");
    assert_eq!(stock[1]["name"], "x-trace");
    assert_eq!(stock[1]["in"], "header");
    assert_eq!(stock[1]["required"], false);
}

#[tokio::test]
async fn mastra_defaults_fill_what_nothing_says() {
    let server = TestServer::start(app()).await;
    let doc = document(&server).await;
    for method in ["get", "post", "put", "patch", "delete"] {
        let op = &doc["paths"]["/anything"][method];
        assert_eq!(
            op["summary"],
            format!("{} /anything", method.to_ascii_uppercase())
        );
        assert_eq!(op["tags"], json!(["custom"]));
        assert_eq!(op["responses"]["200"]["description"], "Successful response");
        assert_eq!(op["operationId"], format!("anything_{method}"));
    }
    let health = &doc["paths"]["/health"]["get"];
    assert_eq!(health["tags"], json!(["System"]));
}

#[tokio::test]
async fn components_are_one_per_type_and_same_named_types_stay_apart() {
    let server = TestServer::start(app()).await;
    let doc = document(&server).await;
    let schemas = doc["components"]["schemas"].as_object().unwrap();

    let list_ref = doc["paths"]["/shop/items"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"]["items"]["$ref"]
        .as_str()
        .unwrap()
        .to_owned();
    let create_ref = doc["paths"]["/shop/items"]["post"]["responses"]["201"]["content"]
        ["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(list_ref, create_ref, "one component for shop::Item");
    let stock_ref = doc["paths"]["/warehouse/{sku}"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(
        stock_ref, list_ref,
        "warehouse::Item must not overwrite shop::Item"
    );

    let component = |r: &str| &schemas[r.trim_start_matches("#/components/schemas/")];
    assert!(component(&list_ref)["properties"]["name"].is_object());
    assert!(component(&stock_ref)["properties"]["sku"].is_object());
    let items = schemas.keys().filter(|k| k.starts_with("Item")).count();
    assert_eq!(items, 2, "{:?}", schemas.keys().collect::<Vec<_>>());
}

#[tokio::test]
async fn operation_ids_are_function_names_unique_and_stable() {
    let first = document(&TestServer::start(app()).await).await;
    let second = document(&TestServer::start(app()).await).await;
    let id =
        |doc: &Value, path: &str, method: &str| doc["paths"][path][method]["operationId"].clone();
    assert_eq!(id(&first, "/shop/items", "get"), "list_items");
    assert_eq!(id(&first, "/warehouse/{sku}", "get"), "get_stock");
    assert_eq!(id(&first, "/plain/{id}", "get"), "get_plain_id");
    assert_eq!(id(&first, "/ids/one", "get"), "same");
    assert_eq!(id(&first, "/ids/two", "get"), "same_2");

    let mut ids: Vec<String> = operations(&first)
        .iter()
        .map(|(path, method)| id(&first, path, method).as_str().unwrap().to_owned())
        .collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids repeat: {ids:?}");
    assert_eq!(first, second, "two builds give the same document");
}

#[tokio::test]
async fn documented_paths_reach_their_routes_from_the_server_root() {
    let server = TestServer::start(app()).await;
    let doc = document(&server).await;
    assert_eq!(doc["servers"], json!([{ "url": "/" }]));
    for (path, method) in operations(&doc) {
        let url = path
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
        let reply = server.send(server.request(method.clone(), &url)).await;
        let status = reply.status.as_u16();
        // A handler may answer 404 for an id that does not exist ("Agent with id 1 not
        // found"); only the router's own 404 and 405 mean the path missed its route.
        let router_miss = status == 405
            || (status == 404
                && serde_json::from_str::<Value>(&reply.text).ok()
                    == Some(json!({ "error": "Not Found" })));
        assert!(
            !router_miss,
            "{method} {url} (documented as {path}) missed its route: {status} {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn the_document_is_served_from_memory_with_an_etag_that_gives_304() {
    let server = TestServer::start(app()).await;
    let first = server.get("/api/openapi.json").await;
    first.assert_status(200);
    assert_eq!(first.header("content-type"), Some("application/json"));
    let etag = first.header("etag").expect("an ETag").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let again = server.get("/api/openapi.json").await;
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.text, first.text);

    for sent in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
        "*".into(),
    ] {
        let cached = server
            .get_with_header("/api/openapi.json", "if-none-match", &sent)
            .await;
        cached.assert_status(304);
        assert_eq!(cached.header("etag"), Some(etag.as_str()));
        assert!(cached.text.is_empty(), "304 has no body");
    }
    let stale = server
        .get_with_header("/api/openapi.json", "if-none-match", "\"stale\"")
        .await;
    stale.assert_status(200);
    assert_eq!(stale.text, first.text);
}

#[tokio::test]
async fn docs_switches_turn_the_document_and_swagger_ui_off_and_on() {
    // Debug build (tests): on by default.
    let on = TestServer::start(app()).await;
    on.get("/api/openapi.json").await.assert_status(200);
    on.get("/swagger-ui").await.assert_status(200);

    let off = TestServer::start(app().server(test_config().openapi_docs(false))).await;
    off.get("/api/openapi.json")
        .await
        .assert_error(404, "Not Found");
    off.get("/swagger-ui").await.assert_error(404, "Not Found");
    assert!(!off
        .mastra()
        .routes()
        .iter()
        .any(|r| r.path().starts_with("/swagger-ui")));

    let doc_only = TestServer::start(app().server(test_config().swagger_ui(false))).await;
    doc_only.get("/api/openapi.json").await.assert_status(200);
    doc_only
        .get("/swagger-ui")
        .await
        .assert_error(404, "Not Found");

    let ui =
        TestServer::start(app().server(test_config().openapi_docs(false).swagger_ui(true))).await;
    ui.get("/swagger-ui").await.assert_status(200);
    ui.get("/api/openapi.json").await.assert_status(200);

    let prefixed = TestServer::start(app().server(test_config().api_prefix("/v1"))).await;
    prefixed.get("/v1/openapi.json").await.assert_status(200);
    let page = prefixed.get("/swagger-ui/swagger-initializer.js").await;
    assert!(page.text.contains("/v1/openapi.json"), "{}", page.text);
}

#[tokio::test]
async fn without_auth_no_operation_carries_security() {
    let server = TestServer::start(app()).await;
    assert!(!server.mastra().is_auth_configured());
    let doc = document(&server).await;
    assert!(doc["components"]["securitySchemes"].is_null());
    for (path, method) in operations(&doc) {
        assert!(
            doc["paths"][&path][&method]["security"].is_null(),
            "{method} {path}"
        );
    }
}

/// The app with JWT auth: `/warehouse/*` made public by a pattern, `/anything` (declared
/// `requires_auth = false`) protected by one.
fn with_auth(config: ServerConfig) -> MastraBuilder {
    let auth = AuthConfig::new(JwtAuth::hs256(SECRET).expect("valid secret"))
        .public("/warehouse/*")
        .protected("/anything");
    app().server(config.auth(auth))
}

#[test]
fn security_follows_what_the_auth_layer_enforces_route_by_route() {
    let mastra = with_auth(test_config()).build().expect("valid app");
    assert!(mastra.is_auth_configured());
    let doc = mastra.openapi_document().to_value();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"],
        json!({ "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "A JWT sent as `Authorization: Bearer <token>`." })
    );
    let (mut secured, mut public) = (0, 0);
    for route in mastra.routes().iter().filter(|r| !r.operation().hidden) {
        let path = route.pattern().openapi();
        let methods: Vec<RouteMethod> = match route.method() {
            RouteMethod::All => RouteMethod::SINGLE.to_vec(),
            single => vec![single],
        };
        for method in methods {
            let op = &doc["paths"][&path][method.as_str().to_ascii_lowercase()];
            if route.requires_token() {
                secured += 1;
                assert_eq!(
                    op["security"],
                    json!([{ "bearerAuth": [] }]),
                    "{method} {path}"
                );
                assert_eq!(
                    op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorResponse"
                );
                assert!(op["responses"]["403"].is_object(), "{method} {path}");
            } else {
                public += 1;
                assert!(
                    op["security"].is_null(),
                    "public {method} {path} carries security"
                );
                assert!(op["responses"]["401"].is_null(), "{method} {path}");
            }
        }
    }
    assert!(
        secured >= 8 && public >= 5,
        "{secured} secured, {public} public"
    );
    let security = |path: &str, method: &str| doc["paths"][path][method]["security"].clone();
    let bearer = json!([{ "bearerAuth": [] }]);
    assert_eq!(
        security("/shop/items", "post"),
        bearer,
        "requires_auth by default"
    );
    assert!(
        security("/shop/items", "get").is_null(),
        "requires_auth = false"
    );
    assert!(
        security("/warehouse/{sku}", "get").is_null(),
        "made public by a pattern"
    );
    assert_eq!(
        security("/anything", "delete"),
        bearer,
        "protected by a pattern"
    );
    assert!(security("/health", "get").is_null());
    assert!(
        security("/api/openapi.json", "get").is_null(),
        "docs are public by default"
    );
    assert!(security("/swagger-ui", "get").is_null());
    assert_valid_openapi(&doc, "with-auth");

    let protected_docs = with_auth(test_config().protect_docs(true))
        .build()
        .expect("valid app");
    let doc = protected_docs.openapi_document().to_value();
    assert_eq!(doc["paths"]["/api/openapi.json"]["get"]["security"], bearer);
    assert_eq!(doc["paths"]["/swagger-ui"]["get"]["security"], bearer);
}

#[test]
fn the_document_settings_flag_adds_the_scheme_for_any_route_table() {
    let mastra = app().build().expect("valid app");
    let settings = DocumentSettings {
        auth_configured: true,
        ..DocumentSettings::default()
    };
    let doc = OpenApiDocument::build(mastra.routes(), &settings).to_value();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    // Without auth in the table no route needs a token, so none carries security.
    for (path, method) in operations(&doc) {
        assert!(
            doc["paths"][&path][&method]["security"].is_null(),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn protected_docs_need_a_token_and_swagger_ui_files_never_do() {
    let server = TestServer::start(with_auth(test_config().protect_docs(true))).await;
    server
        .get("/api/openapi.json")
        .await
        .assert_error(401, "Invalid or expired token");
    let token = hs256(&claims("docs-reader"));
    let doc = server
        .send(
            server
                .request(Method::GET, "/api/openapi.json")
                .bearer_auth(&token),
        )
        .await;
    doc.assert_status(200);
    assert_eq!(
        doc.json()["paths"]["/shop/items"]["post"]["security"],
        json!([{ "bearerAuth": [] }])
    );
    server.get("/swagger-ui").await.assert_status(401);
    server
        .get("/swagger-ui/swagger-ui-bundle.js")
        .await
        .assert_status(200);

    let open = TestServer::start(with_auth(test_config())).await;
    open.get("/api/openapi.json").await.assert_status(200);
    open.get("/swagger-ui").await.assert_status(200);
}
