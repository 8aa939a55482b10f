use mastra_runtime::prelude::*;

#[api_route("/items")]
async fn list_items() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {}
