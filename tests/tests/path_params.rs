//! A handler whose `Path<..>` does not fit its route's path parameters is refused when the
//! server is built, naming where the route was declared (as dropshot does at registration),
//! instead of answering every request with an error.

use mastra_runtime::{prelude::*, MastraError, RouteProblem};

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct ThingPath {
    thing_id: String,
}

mod annotated {
    use super::*;

    /// Reads `thing_id`, but the path names its parameter `thingId`.
    #[api_route("/things/:thingId", method = "GET", requires_auth = false)]
    async fn thing(Path(path): Path<ThingPath>) -> Json<String> {
        Json(path.thing_id)
    }
}

async fn two(Path((a, b)): Path<(String, u32)>) -> Json<String> {
    Json(format!("{a}{b}"))
}

async fn fits(Path(path): Path<ThingPath>) -> Json<String> {
    Json(path.thing_id)
}

fn problems(built: Result<Mastra, MastraError>) -> Vec<RouteProblem> {
    match built {
        Ok(_) => panic!("the build should have been refused"),
        Err(error) => error.route_problems().to_vec(),
    }
}

#[test]
fn an_annotated_route_whose_path_struct_names_another_parameter_is_refused_with_its_location() {
    let found = problems(Mastra::builder().routes_from_module(module_path!()).build());
    assert_eq!(found.len(), 1, "{found:?}");
    let text = found[0].to_string();
    assert!(
        matches!(found[0], RouteProblem::PathParams { .. }),
        "{text}"
    );
    assert!(text.contains("GET /things/:thingId"), "{text}");
    assert!(
        text.contains("annotated::thing at tests/tests/path_params.rs:"),
        "{text}"
    );
    assert!(text.contains("`thing_id`"), "{text}");
}

#[test]
fn a_route_whose_positional_path_has_another_arity_is_refused() {
    let found = problems(
        Mastra::builder()
            .without_annotated_routes()
            .route(ApiRoute::get("/pairs/:a").inferred_handler(two))
            .build(),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].to_string(),
        "route GET /pairs/:a (ApiRoute): its Path<..> reads 2 parameter(s) but the path has 1"
    );
}

#[test]
fn routes_whose_paths_fit_are_served() {
    let built = Mastra::builder()
        .without_annotated_routes()
        .route(ApiRoute::get("/pairs/:a/:b").inferred_handler(two))
        .route(ApiRoute::get("/things/{thing_id}").inferred_handler(fits))
        .build();
    assert!(built.is_ok(), "{:?}", built.err().map(|e| e.to_string()));
}
