use mastra_runtime::prelude::*;

#[api_route("/items", method = "GET", openapi(responses((description = "Not found"))))]
async fn list_items() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {}
