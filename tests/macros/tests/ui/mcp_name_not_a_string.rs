use mastra_runtime::prelude::*;

#[api_route("/items/:itemId", method = "GET", mcp(name = get_item))]
async fn get_item(Path(item_id): Path<String>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "id": item_id }))
}

fn main() {}
