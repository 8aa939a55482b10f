//! Request validation from the schemas the document shows: a JSON body, query or path value
//! that breaks its type's declared constraints gets 400 with every issue and never reaches the
//! handler.

mod openapi_support;

use std::sync::atomic::{AtomicUsize, Ordering};

use mastra_runtime::{openapi::Inference, prelude::*, MastraBuilder, MastraError, RouteProblem};
use mastra_tests::{test_config, TestServer};
use openapi_support::document;
use serde_json::{json, Value};

static CREATED: AtomicUsize = AtomicUsize::new(0);
static LISTED: AtomicUsize = AtomicUsize::new(0);
static FETCHED: AtomicUsize = AtomicUsize::new(0);

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Color {
    Red,
    Blue,
}

#[derive(Deserialize, JsonSchema)]
struct NewWidget {
    #[schemars(length(min = 1, max = 20))]
    name: String,
    #[schemars(pattern("^[A-Z]{3}-[0-9]+$"))]
    code: String,
    color: Color,
    #[schemars(range(min = 1))]
    count: u32,
    tags: Option<Vec<String>>,
}

#[derive(Serialize, JsonSchema)]
struct Widget {
    name: String,
}

#[api_route("/widgets", method = "POST", requires_auth = false)]
async fn create_widget(Json(new): Json<NewWidget>) -> Created<Json<Widget>> {
    CREATED.fetch_add(1, Ordering::SeqCst);
    let _ = (new.code, new.color, new.count, new.tags);
    Created(Json(Widget { name: new.name }))
}

#[derive(Deserialize, JsonSchema)]
struct Listing {
    #[schemars(range(min = 1, max = 50))]
    limit: Option<u32>,
    color: Option<Color>,
    #[schemars(length(min = 2))]
    search: String,
}

#[api_route("/widgets", method = "GET", requires_auth = false)]
async fn list_widgets(Query(listing): Query<Listing>) -> Json<Vec<Widget>> {
    LISTED.fetch_add(1, Ordering::SeqCst);
    let _ = (listing.limit, listing.color);
    Json(vec![Widget {
        name: listing.search,
    }])
}

#[api_route("/widgets/:id", method = "GET", requires_auth = false)]
async fn get_widget(Path(id): Path<u16>) -> Json<Widget> {
    FETCHED.fetch_add(1, Ordering::SeqCst);
    Json(Widget {
        name: id.to_string(),
    })
}

async fn untyped(Json(body): Json<Value>) -> Json<Value> {
    Json(body)
}

fn app() -> MastraBuilder {
    Mastra::builder()
        .server(test_config())
        .routes_from_module(module_path!())
        .route(ApiRoute::post("/untyped").handler(untyped))
}

fn fields(reply: &mastra_tests::Reply) -> Vec<String> {
    reply.json()["issues"]
        .as_array()
        .unwrap_or_else(|| panic!("no issues in {}", reply.text))
        .iter()
        .map(|issue| {
            assert!(
                issue["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{issue}"
            );
            issue["field"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn quickstart_refuses_an_empty_name_and_a_price_that_is_not_positive() {
    let server = TestServer::start(quickstart::app().server(test_config())).await;
    let empty = server
        .post_json("/items", &json!({ "name": "", "price": 5 }))
        .await;
    empty.assert_error(400, "Invalid request body");
    assert_eq!(fields(&empty), ["name"]);
    for price in [json!(0), json!(-1.5)] {
        let reply = server
            .post_json("/items", &json!({ "name": "Lamp", "price": price }))
            .await;
        reply.assert_error(400, "Invalid request body");
        assert_eq!(fields(&reply), ["price"], "price {price}");
    }
    let both = server
        .post_json("/items", &json!({ "name": "", "price": 0 }))
        .await;
    assert_eq!(fields(&both), ["name", "price"]);
    let missing = server.post_json("/items", &json!({ "price": 1 })).await;
    missing.assert_error(400, "Invalid request body");
    assert_eq!(fields(&missing), ["name"]);

    server
        .post_json("/items", &json!({ "name": "L", "price": 0.01 }))
        .await
        .assert_status(201);
}

#[tokio::test]
async fn a_body_that_breaks_its_schema_never_reaches_the_handler() {
    let server = TestServer::start(app()).await;
    let before = CREATED.load(Ordering::SeqCst);
    let bad = server
        .post_json(
            "/widgets",
            &json!({ "name": "", "code": "abc", "color": "green", "count": 0, "tags": ["a", 1] }),
        )
        .await;
    bad.assert_error(400, "Invalid request body");
    let mut got = fields(&bad);
    got.sort();
    assert_eq!(
        got,
        ["code", "color", "count", "name", "tags.1"],
        "{}",
        bad.text
    );
    assert_eq!(CREATED.load(Ordering::SeqCst), before, "the handler ran");

    let good = server
        .post_json(
            "/widgets",
            &json!({ "name": "Gear", "code": "ABC-12", "color": "red", "count": 2 }),
        )
        .await;
    good.assert_status(201);
    assert_eq!(CREATED.load(Ordering::SeqCst), before + 1);

    // Malformed JSON keeps its own message, with the line and column.
    server
        .send_raw(
            reqwest::Method::POST,
            "/widgets",
            Some("application/json"),
            "{\"name\":",
        )
        .await
        .assert_error_contains(400, "Malformed JSON body");
}

#[tokio::test]
async fn a_query_that_breaks_its_schema_gets_invalid_query() {
    let server = TestServer::start(app()).await;
    let before = LISTED.load(Ordering::SeqCst);
    let bad = server.get("/widgets?limit=0&color=green&search=a").await;
    bad.assert_error(400, "Invalid query");
    let mut got = fields(&bad);
    got.sort();
    assert_eq!(got, ["color", "limit", "search"]);
    let missing = server.get("/widgets?limit=5").await;
    missing.assert_error(400, "Invalid query");
    assert_eq!(fields(&missing), ["search"]);
    let not_a_number = server.get("/widgets?limit=ten&search=ab").await;
    assert_eq!(fields(&not_a_number), ["limit"]);
    assert_eq!(LISTED.load(Ordering::SeqCst), before, "the handler ran");

    let good = server
        .get("/widgets?limit=50&color=blue&search=g%C3%A9")
        .await;
    good.assert_status(200);
    assert_eq!(good.json()[0]["name"], "gé");
}

#[tokio::test]
async fn a_path_value_that_breaks_its_type_gets_invalid_path() {
    let server = TestServer::start(app()).await;
    let before = FETCHED.load(Ordering::SeqCst);
    for bad in ["/widgets/-1", "/widgets/70000", "/widgets/abc"] {
        let reply = server.get(bad).await;
        reply.assert_error(400, "Invalid path");
        assert_eq!(
            fields(&reply),
            [""],
            "{bad}: the single value is the whole path value"
        );
    }
    assert_eq!(FETCHED.load(Ordering::SeqCst), before, "the handler ran");
    server.get("/widgets/65535").await.assert_status(200);
}

#[tokio::test]
async fn declared_constraints_are_shown_in_the_document() {
    let quickstart = TestServer::start(quickstart::app().server(test_config())).await;
    let doc = document(&quickstart).await;
    let create = &doc["components"]["schemas"]["CreateItem"];
    assert_eq!(create["properties"]["name"]["minLength"], 1);
    assert_eq!(create["properties"]["price"]["exclusiveMinimum"], 0);
    assert_eq!(create["required"], json!(["name", "price"]));

    let server = TestServer::start(app()).await;
    let doc = document(&server).await;
    let widget = &doc["components"]["schemas"]["NewWidget"]["properties"];
    assert_eq!(widget["code"]["pattern"], "^[A-Z]{3}-[0-9]+$");
    assert_eq!(widget["name"]["maxLength"], 20);
    let limit = doc["paths"]["/widgets"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap()
        .clone();
    assert_eq!(limit["schema"]["maximum"], 50);
    let id = &doc["paths"]["/widgets/{id}"]["get"]["parameters"][0]["schema"];
    assert_eq!(id["maximum"], 65535);
}

#[tokio::test]
async fn routes_without_schemas_are_not_validated() {
    let server = TestServer::start(app()).await;
    let untyped = server
        .mastra()
        .routes()
        .iter()
        .find(|r| r.path() == "/untyped")
        .unwrap();
    assert!(!untyped.validates_requests());
    let echoed = server
        .post_json("/untyped", &json!({ "anything": [1] }))
        .await;
    echoed.assert_status(200);
    assert_eq!(echoed.json(), json!({ "anything": [1] }));
    let typed = server
        .mastra()
        .routes()
        .iter()
        .find(|r| r.path() == "/widgets" && r.method() == RouteMethod::Post)
        .unwrap();
    assert!(typed.validates_requests());
}

#[test]
fn a_schema_that_cannot_be_compiled_is_refused_at_startup() {
    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Broken {
        #[schemars(pattern("(unclosed"))]
        code: String,
    }
    async fn handler(Json(_): Json<Broken>) -> HttpResponse {
        HttpResponse::Ok().finish()
    }
    let error = Mastra::builder()
        .server(test_config())
        .without_annotated_routes()
        .route(
            ApiRoute::post("/broken")
                .handler(handler)
                .infer(|inference: &mut Inference| inference.json_body::<Broken>()),
        )
        .build()
        .expect_err("the pattern is not a regular expression");
    let problems = error.route_problems();
    assert!(
        matches!(problems, [RouteProblem::Schema { route, reason }]
            if route.contains("POST /broken") && reason.contains("body")),
        "{error}"
    );
    assert!(matches!(error, MastraError::Routes(_)));
}
