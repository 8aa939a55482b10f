use mastra_runtime::prelude::*;

#[api_route("/items", method = "GET", openapi(responses((status = 700, description = "?"))))]
async fn list_items() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {}
