//! The streaming example binary as the README starts it: it serves its streaming routes on the
//! port `PORT` names, documents them, and stops cleanly on SIGTERM.

#[path = "../../quickstart/tests/support/mod.rs"]
mod support;

use support::Example;

const BIN: &str = env!("CARGO_BIN_EXE_streaming-example");

#[test]
fn serves_its_streaming_routes_on_port_and_stops_on_sigterm() {
    let mut server = Example::start(BIN);

    let (status, document) = server.get("/api/openapi.json").expect("the document");
    assert_eq!(status, 200);
    for path in ["/stream", "/chat/persist/{agentId}", "/chat/{agentId}"] {
        assert!(
            document.contains(&format!("\"{path}\"")),
            "{path}: {document}"
        );
    }
    // A streaming route refuses a GET with Mastra's JSON 405, not a stream.
    let (status, body) = server.get("/stream").expect("GET /stream");
    assert_eq!(status, 405, "{body}");

    let exit = server.terminate();
    assert!(exit.success(), "{exit}");
}
