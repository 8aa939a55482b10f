use mastra_runtime::prelude::*;

struct Report {
    lines: usize,
}

#[api_route("/report", method = "GET")]
async fn report() -> Report {
    Report { lines: 0 }
}

fn main() {}
