use mastra_runtime::prelude::*;

#[api_route("/items", method = "GET", openapi(parameters((name = "limit", in = "body"))))]
async fn list_items() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {}
