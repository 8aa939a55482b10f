use mastra_runtime::prelude::*;

#[api_route("/items/:1st", method = "GET")]
async fn get_item(Path(id): Path<String>) -> String {
    id
}

fn main() {}
