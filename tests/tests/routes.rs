//! Mounting: custom routes at the root, methods, 405 with Allow, ALL, parameters, Context,
//! middleware order, create_handler.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use mastra_runtime::{
    middleware::{Error, Next, ServiceRequest, ServiceResponse},
    prelude::*,
    RequestContext,
};
use mastra_tests::{test_config, TestServer};
use reqwest::Method;

fn app() -> mastra_runtime::MastraBuilder {
    Mastra::builder()
        .without_annotated_routes()
        .server(test_config())
}

async fn hello() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "hello": "world" }))
}

#[tokio::test]
async fn explicit_route_is_served_at_the_root() {
    let server = TestServer::start(app().route(ApiRoute::get("/hello").handler(hello))).await;
    let reply = server.get("/hello").await;
    reply.assert_status(200);
    assert_eq!(reply.json(), json!({ "hello": "world" }));
    server
        .get("/api/hello")
        .await
        .assert_error(404, "Not Found");
}

#[tokio::test]
async fn colon_and_brace_parameters_reach_the_handler() {
    async fn one(Path(id): Path<String>) -> String {
        format!("one:{id}")
    }
    async fn two(Path((a, b)): Path<(String, u32)>) -> String {
        format!("two:{a}:{b}")
    }
    async fn by_context(c: Context) -> String {
        format!("ctx:{}", c.param("itemId").unwrap_or("?"))
    }
    let server = TestServer::start(
        app()
            .route(ApiRoute::get("/one/:id").handler(one))
            .route(ApiRoute::get("/two/{a}/n/:b").handler(two))
            .route(ApiRoute::get("/ctx/{itemId}").handler(by_context)),
    )
    .await;
    assert_eq!(server.get("/one/x%20y").await.text, "one:x y");
    assert_eq!(server.get("/two/a/n/42").await.text, "two:a:42");
    assert_eq!(server.get("/ctx/abc").await.text, "ctx:abc");
    server
        .get("/two/a/n/not-a-number")
        .await
        .assert_error_contains(400, "Invalid path");
}

#[tokio::test]
async fn two_methods_on_one_path_both_answer_and_others_get_405_with_allow() {
    async fn read() -> &'static str {
        "read"
    }
    async fn write() -> &'static str {
        "write"
    }
    let server = TestServer::start(
        app()
            .route(ApiRoute::get("/things/:id").handler(read))
            .route(ApiRoute::post("/things/{thingId}").handler(write)),
    )
    .await;
    assert_eq!(server.get("/things/1").await.text, "read");
    let posted = server.send(server.request(Method::POST, "/things/1")).await;
    assert_eq!(posted.text, "write");
    let head = server.send(server.request(Method::HEAD, "/things/1")).await;
    head.assert_status(200);

    let reply = server
        .send(server.request(Method::DELETE, "/things/1"))
        .await;
    reply.assert_error(405, "Method Not Allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD, POST"));
    let trace = server
        .send(server.request(Method::TRACE, "/things/1"))
        .await;
    trace.assert_status(405);
}

#[tokio::test]
async fn all_answers_every_method() {
    async fn any(req: HttpRequest) -> String {
        req.method().to_string()
    }
    let server = TestServer::start(app().route(ApiRoute::all("/any").handler(any))).await;
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let reply = server.send(server.request(m, "/any")).await;
        reply.assert_status(200);
        assert_eq!(reply.text, method);
    }
}

#[tokio::test]
async fn a_literal_route_wins_over_a_parameter_route_whatever_the_order() {
    async fn by_id(Path(id): Path<String>) -> String {
        format!("id:{id}")
    }
    async fn newest() -> &'static str {
        "newest"
    }
    async fn create(Path(id): Path<String>) -> String {
        format!("post:{id}")
    }
    let server = TestServer::start(
        app()
            .route(ApiRoute::get("/items/:id").handler(by_id))
            .route(ApiRoute::post("/items/:id").handler(create))
            .route(ApiRoute::get("/items/newest").handler(newest)),
    )
    .await;
    assert_eq!(server.get("/items/newest").await.text, "newest");
    assert_eq!(server.get("/items/7").await.text, "id:7");
    // The literal GET route does not hide the parameter route's POST.
    let posted = server
        .send(server.request(Method::POST, "/items/newest"))
        .await;
    assert_eq!(posted.text, "post:newest");
    let deleted = server
        .send(server.request(Method::DELETE, "/items/newest"))
        .await;
    deleted.assert_status(405);
    assert_eq!(deleted.header("allow"), Some("GET, HEAD, POST"));
}

#[tokio::test]
async fn any_responder_is_a_valid_return() {
    async fn text() -> String {
        "plain".into()
    }
    async fn json_value() -> Json<serde_json::Value> {
        Json(json!({ "ok": true }))
    }
    async fn created() -> Created<Json<serde_json::Value>> {
        Created(Json(json!({ "id": "n" })))
    }
    async fn result_err() -> Result<Json<u8>, ApiError> {
        Err(ApiError::conflict("already exists"))
    }
    let server = TestServer::start(
        app()
            .route(ApiRoute::get("/text").handler(text))
            .route(ApiRoute::get("/json").handler(json_value))
            .route(ApiRoute::post("/created").handler(created))
            .route(ApiRoute::get("/err").handler(result_err)),
    )
    .await;
    assert_eq!(server.get("/text").await.text, "plain");
    assert_eq!(server.get("/json").await.json(), json!({ "ok": true }));
    let reply = server.send(server.request(Method::POST, "/created")).await;
    reply.assert_status(201);
    assert_eq!(reply.json(), json!({ "id": "n" }));
    server.get("/err").await.assert_error(409, "already exists");
}

#[tokio::test]
async fn context_reads_params_queries_headers_and_answers_json() {
    async fn inspect(c: Context) -> HttpResponse {
        c.request_context().set("seen", true);
        c.json_with_status(
            json!({
                "param": c.param("name"),
                "q": c.query("q"),
                "all": c.queries("tag"),
                "missing": c.query("nope"),
                "header": c.header("x-test"),
                "ctx": c.request_context().get("seen"),
                "agent": c.mastra().agent("helper").map(|a| a.id().to_owned()).ok(),
            }),
            StatusCode::ACCEPTED,
        )
    }
    let server = TestServer::start(
        app()
            .agent(Agent::builder("helper").instructions("help"))
            .route(ApiRoute::get("/inspect/:name").handler(inspect)),
    )
    .await;
    let reply = server
        .get_with_header("/inspect/bob?q=a+b%26c&tag=x&tag=y", "x-test", "yes")
        .await;
    reply.assert_status(202);
    assert_eq!(
        reply.json(),
        json!({
            "param": "bob", "q": "a b&c", "all": ["x", "y"], "missing": null,
            "header": "yes", "ctx": true, "agent": "helper"
        })
    );
}

#[tokio::test]
async fn unknown_agent_from_a_handler_is_a_json_404() {
    async fn lookup(c: Context) -> Result<HttpResponse, ApiError> {
        let agent = c.mastra().agent("ghost")?;
        Ok(c.json(json!({ "id": agent.id() })))
    }
    let server = TestServer::start(app().route(ApiRoute::get("/ghost").handler(lookup))).await;
    server
        .get("/ghost")
        .await
        .assert_error(404, "Agent with id ghost not found");
}

fn trail(ctx: &RequestContext, name: &str) {
    let mut seen: Vec<String> = ctx.get_as("trail").unwrap_or_default();
    seen.push(name.to_owned());
    ctx.set("trail", json!(seen));
}

async fn outer(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    trail(&RequestContext::of(req.request()), "outer");
    next.call(req).await
}

async fn inner(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    trail(&RequestContext::of(req.request()), "inner");
    next.call(req).await
}

async fn global(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    trail(&RequestContext::of(req.request()), "global");
    next.call(req).await
}

async fn scoped(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    trail(&RequestContext::of(req.request()), "scoped");
    next.call(req).await
}

async fn show_trail(ctx: RequestContext) -> Json<serde_json::Value> {
    Json(ctx.get("trail").unwrap_or(json!([])))
}

#[tokio::test]
async fn middleware_runs_global_first_then_route_middleware_in_declared_order() {
    let server = TestServer::start(
        Mastra::builder()
            .without_annotated_routes()
            .server(
                test_config()
                    .middleware(global)
                    .middleware_on("/scoped/*", scoped),
            )
            .route(
                ApiRoute::get("/mw")
                    .middleware(outer)
                    .middleware(inner)
                    .handler(show_trail),
            )
            .route(ApiRoute::get("/scoped/:id").handler(show_trail)),
    )
    .await;
    assert_eq!(
        server.get("/mw").await.json(),
        json!(["global", "outer", "inner"])
    );
    assert_eq!(
        server.get("/scoped/1").await.json(),
        json!(["global", "scoped"])
    );
}

#[tokio::test]
async fn middleware_can_answer_without_calling_the_handler() {
    async fn gate(
        req: ServiceRequest,
        next: Next<mastra_runtime::actix_web::body::BoxBody>,
    ) -> Result<ServiceResponse, Error> {
        if req.headers().contains_key("x-block") {
            let res = HttpResponse::Forbidden().json(json!({ "error": "blocked" }));
            return Ok(req.into_response(res));
        }
        next.call(req).await
    }
    let server =
        TestServer::start(app().route(ApiRoute::get("/gated").middleware(gate).handler(hello)))
            .await;
    server.get("/gated").await.assert_status(200);
    server
        .get_with_header("/gated", "x-block", "1")
        .await
        .assert_error(403, "blocked");
}

#[tokio::test]
async fn create_handler_is_built_once_with_the_mastra_instance() {
    static BUILT: AtomicUsize = AtomicUsize::new(0);
    let route = ApiRoute::get("/agent-name").create_handler(|mastra: &Mastra| {
        BUILT.fetch_add(1, Ordering::SeqCst);
        let name: Arc<str> = mastra
            .agent("writer")
            .map(|a| a.name().to_owned())
            .unwrap_or_default()
            .into();
        move || {
            let name = Arc::clone(&name);
            async move { name.to_string() }
        }
    });
    let server = TestServer::start(
        app()
            .agent(Agent::builder("writer").name("The Writer"))
            .route(route),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(server.get("/agent-name").await.text, "The Writer");
    }
    assert_eq!(BUILT.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn requires_auth_is_carried_onto_the_mounted_route() {
    let server = TestServer::start(
        app()
            .route(ApiRoute::get("/open").handler(hello).requires_auth(false))
            .route(ApiRoute::get("/closed").handler(hello)),
    )
    .await;
    let find = |path: &str| {
        server
            .mastra()
            .routes()
            .iter()
            .find(|r| r.path() == path)
            .unwrap_or_else(|| panic!("{path} not mounted"))
            .is_auth_required()
    };
    assert!(!find("/open"));
    assert!(find("/closed"));
    assert!(!find("/health"));
    // No auth is configured, so a route that requires auth is still public, as in Mastra.
    server.get("/closed").await.assert_status(200);
}

#[tokio::test]
async fn routes_grouped_by_first_segment_keep_exact_matches_405s_and_json_404s() {
    async fn list() -> &'static str {
        "list"
    }
    async fn one(Path(id): Path<String>) -> String {
        format!("one:{id}")
    }
    let server = TestServer::start(
        app()
            .route(ApiRoute::get("/items").handler(list))
            .route(ApiRoute::get("/items/:id").handler(one))
            .route(ApiRoute::get("/").handler(list)),
    )
    .await;
    assert_eq!(server.get("/items").await.text, "list");
    assert_eq!(server.get("/items/7").await.text, "one:7");
    assert_eq!(server.get("/").await.text, "list");
    for miss in ["/itemsx", "/items/7/more", "/items/", "/api/nope"] {
        server.get(miss).await.assert_error(404, "Not Found");
    }
    let refused = server.send(server.request(Method::POST, "/items/7")).await;
    refused.assert_error(405, "Method Not Allowed");
    assert_eq!(refused.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn a_route_starting_with_a_parameter_still_sees_every_path() {
    async fn by_slug(Path(slug): Path<String>) -> String {
        format!("slug:{slug}")
    }
    async fn about() -> &'static str {
        "about"
    }
    let server = TestServer::start(
        app()
            .route(ApiRoute::get("/about").handler(about))
            .route(ApiRoute::get("/:slug").handler(by_slug)),
    )
    .await;
    assert_eq!(server.get("/about").await.text, "about");
    assert_eq!(server.get("/health-check").await.text, "slug:health-check");
    assert_eq!(server.get("/health").await.json()["success"], true);
}
