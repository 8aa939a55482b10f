use mastra_runtime::prelude::*;

#[api_route("/items", method = "GET")]
fn list_items() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    // The function is still emitted, so callers type-check.
    let _ = list_items();
}
