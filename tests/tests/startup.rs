//! Building the server checks the whole route table and reports every problem at once.

use mastra_runtime::{prelude::*, Middleware, RouteProblem, ServerConfig};

async fn ok() -> &'static str {
    "ok"
}

fn app() -> mastra_runtime::MastraBuilder {
    Mastra::builder().without_annotated_routes()
}

fn problems(builder: mastra_runtime::MastraBuilder) -> (Vec<RouteProblem>, String) {
    match builder.build() {
        Ok(_) => panic!("build should have failed"),
        Err(error) => (error.route_problems().to_vec(), error.to_string()),
    }
}

#[test]
fn custom_route_under_api_prefix_is_refused_with_mastras_message() {
    let (found, text) = problems(app().route(ApiRoute::get("/api/x").handler(ok)));
    assert_eq!(found.len(), 1, "{text}");
    assert_eq!(
        found[0].to_string(),
        "Custom API route \"/api/x\" must not start with \"/api\" — that path is reserved for built-in Mastra routes. Choose a different path (e.g. \"/custom/x\")"
    );
}

#[test]
fn custom_route_equal_to_the_prefix_is_refused() {
    let (found, text) = problems(app().route(ApiRoute::post("/api").handler(ok)));
    assert!(
        matches!(found[..], [RouteProblem::UnderApiPrefix { .. }]),
        "{text}"
    );
}

#[test]
fn the_prefix_is_configurable_and_only_whole_segments_count() {
    let built = app()
        .server(ServerConfig::default().api_prefix("/v1"))
        .route(ApiRoute::get("/api/x").handler(ok))
        .route(ApiRoute::get("/v1x").handler(ok))
        .build();
    assert!(built.is_ok(), "{:?}", built.err().map(|e| e.to_string()));
    let (found, _) = problems(
        app()
            .server(ServerConfig::default().api_prefix("v1/"))
            .route(ApiRoute::get("/v1/things").handler(ok)),
    );
    assert!(matches!(&found[..], [RouteProblem::UnderApiPrefix { prefix, .. }] if prefix == "/v1"));
}

#[test]
fn routes_on_the_same_method_and_path_shape_collide() {
    let (found, text) = problems(
        app()
            .route(ApiRoute::get("/items/:id").handler(ok))
            .route(ApiRoute::get("/items/{itemId}").handler(ok)),
    );
    assert_eq!(found.len(), 1, "{text}");
    assert!(text.contains("both answer GET /items/{}"), "{text}");
}

#[test]
fn all_overlaps_every_method() {
    let (found, text) = problems(
        app()
            .route(ApiRoute::all("/things").handler(ok))
            .route(ApiRoute::delete("/things").handler(ok)),
    );
    assert_eq!(found.len(), 1, "{text}");
    assert!(text.contains("DELETE /things"), "{text}");
}

#[test]
fn a_custom_route_colliding_with_a_builtin_is_refused() {
    let (found, text) = problems(app().route(ApiRoute::get("/health").handler(ok)));
    assert_eq!(found.len(), 1, "{text}");
    assert!(text.contains("(built-in)"), "{text}");
}

#[test]
fn different_methods_or_shapes_do_not_collide() {
    let built = app()
        .route(ApiRoute::get("/items/:id").handler(ok))
        .route(ApiRoute::post("/items/:id").handler(ok))
        .route(ApiRoute::get("/items/:id/parts").handler(ok))
        .route(ApiRoute::get("/items/new").handler(ok))
        .build();
    assert!(built.is_ok(), "{:?}", built.err().map(|e| e.to_string()));
}

#[test]
fn a_middleware_that_fails_to_build_is_reported() {
    let (found, text) = problems(
        app().route(
            ApiRoute::get("/guarded")
                .handler(ok)
                .try_middleware(|_: &Mastra| Err::<Middleware, _>("no signing key configured")),
        ),
    );
    assert_eq!(found.len(), 1, "{text}");
    assert!(
        text.contains("middleware #1 failed to build: no signing key configured"),
        "{text}"
    );
}

#[test]
fn a_bad_global_middleware_pattern_is_reported() {
    async fn noop(
        req: mastra_runtime::middleware::ServiceRequest,
        next: mastra_runtime::middleware::Next<impl MessageBody>,
    ) -> Result<
        mastra_runtime::middleware::ServiceResponse<impl MessageBody>,
        mastra_runtime::middleware::Error,
    > {
        next.call(req).await
    }
    let (found, text) = problems(
        app()
            .server(ServerConfig::default().middleware_on("no-slash/*", noop))
            .route(ApiRoute::get("/x").handler(ok)),
    );
    assert_eq!(found.len(), 1, "{text}");
    assert!(text.contains("global middleware"), "{text}");
}

#[test]
fn missing_or_doubled_handlers_and_bad_paths_are_reported() {
    let (found, text) = problems(
        app()
            .route(ApiRoute::get("/nothing"))
            .route(
                ApiRoute::get("/twice")
                    .handler(ok)
                    .create_handler(|_: &Mastra| ok),
            )
            .route(ApiRoute::get("/bad/:1x").handler(ok)),
    );
    assert_eq!(found.len(), 3, "{text}");
    assert!(text.contains("has no handler"), "{text}");
    assert!(
        text.contains("sets both `handler` and `create_handler`"),
        "{text}"
    );
    assert!(text.contains("not an identifier"), "{text}");
}

#[test]
fn every_problem_is_reported_in_one_error() {
    let (found, text) = problems(
        app()
            .route(ApiRoute::get("/api/one").handler(ok))
            .route(ApiRoute::get("/api/two").handler(ok))
            .route(ApiRoute::get("/dup").handler(ok))
            .route(ApiRoute::get("/dup").handler(ok)),
    );
    assert_eq!(found.len(), 3, "{text}");
    assert!(
        text.starts_with("3 problem(s) in the route table:"),
        "{text}"
    );
}

#[test]
fn duplicate_agent_ids_are_refused() {
    let error = app()
        .agent(Agent::builder("a"))
        .agent(Agent::builder("a"))
        .build()
        .expect_err("duplicate ids");
    assert_eq!(error.to_string(), "two agents are registered with id `a`");
}
