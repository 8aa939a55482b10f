use mastra_runtime::prelude::*;

// `()` is not a responder: a route must answer with something.
#[api_route("/ping", method = "GET")]
async fn ping() {}

fn main() {}
