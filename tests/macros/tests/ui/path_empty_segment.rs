use mastra_runtime::prelude::*;

#[api_route("/items//parts", method = "GET")]
async fn list_items() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {}
