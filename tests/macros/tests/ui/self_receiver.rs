use mastra_runtime::prelude::*;

struct Items;

impl Items {
    #[api_route("/items", method = "GET")]
    async fn list(&self) -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {}
