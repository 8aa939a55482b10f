//! A trailing slash makes a distinct path for `#[api_route]` too: the macro accepts `/slash/`
//! (the grammar it shares with the runtime, see `mastra-runtime/src/route/grammar.rs`), and a
//! server answers `/slash` and `/slash/` from their own handlers. Checked over HTTP against a
//! real server on 127.0.0.1.

mod support;

use mastra_runtime::prelude::*;
use support::{get, serve};

#[api_route("/slash", method = "GET", requires_auth = false)]
async fn without_slash() -> &'static str {
    "without"
}

#[api_route("/slash/", method = "GET", requires_auth = false)]
async fn with_slash() -> &'static str {
    "with"
}

#[api_route("/slash/:name/", method = "GET", requires_auth = false)]
async fn param_with_slash(Path(name): Path<String>) -> String {
    format!("named {name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_and_without_the_trailing_slash_are_two_routes() {
    let server = serve(module_path!());
    let addr = server.local_addr();
    let responses = [
        get(addr, "/slash").await,
        get(addr, "/slash/").await,
        get(addr, "/slash/x/").await,
        get(addr, "/slash/x").await,
    ];
    server.stop(false).await;
    for (response, body) in responses[..3].iter().zip(["without", "with", "named x"]) {
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with(&format!("\r\n\r\n{body}")), "{response}");
    }
    assert!(responses[3].starts_with("HTTP/1.1 404"), "{}", responses[3]);
}
