use mastra_runtime::prelude::*;

#[api_route("/items", method = "FETCH")]
async fn list_items() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {}
