use mastra_runtime::prelude::*;

#[api_route("/items", method = "GET")]
struct Items;

fn main() {
    // The item is still emitted.
    let _ = Items;
}
