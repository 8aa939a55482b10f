use mastra_runtime::prelude::*;

#[api_route("/items", method = "GET", middleware("log_request", make_auth()))]
async fn list_items() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {}
