//! Without the `validation` feature (this example's lean set), request schemas are checked by
//! the plain checker: the schemas schemars writes for ordinary types are taken, and a schema
//! with a keyword only jsonschema checks fails the build naming the route, the keyword and the
//! feature, rather than being left unchecked.

use mastra_runtime::{openapi::Inference, prelude::*, MastraError, RouteProblem, ServerConfig};

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Patterned {
    #[schemars(pattern("^[a-z]+$"))]
    code: String,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
enum Shape {
    Dot,
    Circle { radius: f64 },
    Square(#[schemars(range(min = 1))] u32),
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Drawing {
    #[schemars(length(min = 1))]
    title: String,
    shapes: Vec<Shape>,
    parent: Option<Box<Drawing>>,
}

async fn accept() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn build(route: ApiRoute) -> Result<Mastra, MastraError> {
    Mastra::builder()
        .server(ServerConfig::default())
        .without_annotated_routes()
        .route(route)
        .build()
}

#[test]
fn a_keyword_only_the_validation_feature_checks_fails_the_build_naming_it() {
    let route = ApiRoute::post("/codes")
        .handler(accept)
        .infer(|inference: &mut Inference| inference.json_body::<Patterned>());
    let error = build(route).expect_err("`pattern` needs the validation feature");
    assert!(
        matches!(error.route_problems(), [RouteProblem::Schema { route, reason }]
            if route.contains("POST /codes")
                && reason.contains("`pattern`")
                && reason.contains("`validation` feature")),
        "{error}"
    );
}

#[test]
fn the_schemas_schemars_writes_for_ordinary_types_are_taken() {
    let route = ApiRoute::post("/drawings")
        .handler(accept)
        .infer(|inference: &mut Inference| inference.json_body::<Drawing>());
    let mastra = build(route).expect("enums, options and recursion are plain keywords");
    assert!(mastra
        .routes()
        .iter()
        .any(|route| route.path() == "/drawings"));
}
