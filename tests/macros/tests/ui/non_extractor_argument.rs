use mastra_runtime::prelude::*;

struct Settings {
    verbose: bool,
}

#[api_route("/items", method = "GET")]
async fn list_items(Path(id): Path<String>, settings: Settings) -> String {
    format!("{id} {}", settings.verbose)
}

fn main() {}
