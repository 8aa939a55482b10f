use mastra_runtime::prelude::*;

#[api_route("/items", method = "GET", requires_auth = false, method = "POST")]
async fn list_items() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {}
