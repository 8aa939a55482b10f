use mastra_runtime::prelude::*;

#[api_route("/items", method = "GET", openapi(sumary = "List items"))]
async fn list_items() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {}
