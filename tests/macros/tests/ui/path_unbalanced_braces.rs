use mastra_runtime::prelude::*;

#[api_route("/items/{id", method = "GET")]
async fn get_item(Path(id): Path<String>) -> String {
    id
}

fn main() {}
