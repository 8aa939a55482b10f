use mastra_runtime::prelude::*;

#[api_route(method = "GET")]
async fn list_items() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {}
