use mastra_runtime::prelude::*;

// Every mistake is reported in one build, each at its own token.
#[api_route(
    "/items//{id",
    method = "FETCH",
    requires_auth = "yes",
    middleware(42),
    colour = "blue",
    openapi(
        sumary = "typo",
        parameters((name = "limit", in = "body", schema = "int")),
        responses((status = 99)),
    )
)]
fn list_items() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    // The function is still emitted unchanged: no "cannot find function" here.
    let _ = list_items();
}
