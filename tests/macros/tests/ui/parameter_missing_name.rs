use mastra_runtime::prelude::*;

#[api_route("/items", method = "GET", openapi(parameters((in = "query", schema = "integer"))))]
async fn list_items() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {}
