use mastra_runtime::prelude::*;

#[api_route("/items/:id/parts/{id}", method = "GET")]
async fn get_part(Path(ids): Path<(String, String)>) -> String {
    ids.0
}

fn main() {}
