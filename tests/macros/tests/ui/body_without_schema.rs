use mastra_runtime::prelude::*;

struct Plain;

#[api_route("/items", method = "POST", openapi(request_body(body = Plain)))]
async fn create_item() -> HttpResponse {
    HttpResponse::Created().finish()
}

fn main() {}
