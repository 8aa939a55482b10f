use mastra_runtime::prelude::*;

#[api_route("/items", method = "GET")]
async fn list_items<T: Default>() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {}
