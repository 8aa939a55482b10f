//! Clients that leave mid-answer: hang up after the first streamed text delta, then check how
//! fast the server noticed and that nothing was saved.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{raw_http::RawHttp, sse_data, TestServer};

/// The bound on the time from a client closing its connection to the server reacting (the
/// abort signal firing, the upstream model request closing). Generous, for a loaded machine:
/// the answers the leaving tests stream last three seconds (60 words, 50 ms apart), so a
/// server that only stopped when the model finished still fails it, and each test asserts
/// the outcome on its own (the provider never finished, nothing was saved). The measured
/// latency is printed; it is a few milliseconds on an idle machine.
pub const MAX_ABORT_LATENCY: Duration = Duration::from_secs(1);

/// Posts `body` to `path` on a raw connection, reads until the first text delta of the
/// streamed answer (5 s at most) and closes the connection, as a client that leaves
/// mid-answer. Returns what was read (response head included) and the moment just before the
/// close.
pub async fn leave_after_first_text_delta(
    base: &str,
    path: &str,
    body: &Value,
) -> (String, Instant) {
    let mut client = RawHttp::post_json(base, path, body).await;
    let seen = client
        .read_until("\"type\":\"text-delta\"", Duration::from_secs(5))
        .await;
    let left = client.close();
    (seen, left)
}

/// The `messageId` of the `start` part in `seen`, a UI message stream read part way (response
/// head included): the id of the run that answers. Panics when there is none.
pub fn start_message_id(seen: &str) -> String {
    seen.find("data: ")
        .map(|at| sse_data(&seen[at..]))
        .unwrap_or_default()
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .find(|p| p["type"] == "start")
        .and_then(|start| start["messageId"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no start part with a messageId in {seen}"))
}

/// Prints `latency` under `what` (the figures show in the test output) and asserts it is
/// within [`MAX_ABORT_LATENCY`].
#[track_caller]
pub fn assert_fast(what: &str, latency: Duration) {
    eprintln!("{what}: {latency:?}");
    assert!(
        latency < MAX_ABORT_LATENCY,
        "{what} took {latency:?} (limit {MAX_ABORT_LATENCY:?})"
    );
}

/// Waits until an answer started at `started` and taking `answer` would have been complete
/// (plus 300 ms), then asserts that memory thread `thread` was never written.
pub async fn assert_never_saved(
    server: &TestServer,
    thread: &str,
    started: Instant,
    answer: Duration,
) {
    let done = started + answer + Duration::from_millis(300);
    tokio::time::sleep_until(done.into()).await;
    server
        .get(&format!("/api/memory/threads/{thread}"))
        .await
        .assert_error(404, &format!("Thread with id {thread} not found"));
}
