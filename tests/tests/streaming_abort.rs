//! The request's abort signal over real connections on 127.0.0.1: it fires within 100 ms of the
//! client closing, both while the handler is still awaiting and while its body streams; it never
//! fires for a request that was answered; and the built-in agent routes pass it on, so the
//! upstream model request is closed and nothing is saved.

use std::{
    convert::Infallible,
    time::{Duration, Instant},
};

use bytes::Bytes;
use mastra_runtime::prelude::*;
use mastra_tests::{
    eventually,
    leaving::{assert_fast, assert_never_saved, leave_after_first_text_delta},
    raw_http::RawHttp,
    slow_provider::SlowProvider,
    test_config, TestServer,
};
use serde_json::json;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

#[derive(Debug)]
enum Seen {
    Entered,
    Fired(Instant),
    NotFired,
}

async fn next(rx: &mut UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the handler reported nothing within 10 s")
        .expect("channel open")
}

/// Asserts that the next thing the handler reports is the signal firing, within
/// `MAX_ABORT_LATENCY` of the client leaving at `left` (the figure printed under `what`).
async fn assert_fired_fast(rx: &mut UnboundedReceiver<Seen>, left: Instant, what: &str) {
    match next(rx).await {
        Seen::Fired(at) => assert_fast(what, at - left),
        other => panic!("expected the signal to fire, got {other:?}"),
    }
}

/// `GET /wait`: asks for the signal, then awaits it (or 10 s).
fn awaiting(tx: UnboundedSender<Seen>) -> ApiRoute {
    ApiRoute::get("/wait").handler(move |c: Context| {
        let tx = tx.clone();
        async move {
            let signal = c.abort_signal();
            let _ = tx.send(Seen::Entered);
            tokio::select! {
                () = signal.cancelled() => {
                    let _ = tx.send(Seen::Fired(Instant::now()));
                    HttpResponse::NoContent().finish()
                }
                () = tokio::time::sleep(Duration::from_secs(10)) => HttpResponse::Ok().body("nobody left"),
            }
        }
    })
}

/// `GET /ticks`: a streamed body, one line at once and then one every 10 s, so only the
/// connection watcher (not a failed write) can notice the client leaving in time.
fn streaming(tx: UnboundedSender<Seen>) -> ApiRoute {
    ApiRoute::get("/ticks").handler(move |c: Context| {
        let tx = tx.clone();
        let signal = c.abort_signal();
        tokio::spawn(async move {
            tokio::select! {
                () = signal.cancelled() => { let _ = tx.send(Seen::Fired(Instant::now())); }
                () = tokio::time::sleep(Duration::from_secs(15)) => {}
            }
        });
        let ticks = futures_util::stream::unfold(0u32, |n| async move {
            if n > 0 {
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
            Some((
                Ok::<_, Infallible>(Bytes::from(format!("tick {n}\n"))),
                n + 1,
            ))
        });
        async move {
            HttpResponse::Ok()
                .content_type("text/plain")
                .streaming(ticks)
        }
    })
}

/// `GET /answered`: asks for the signal, waits 50 ms, answers; reports whether the signal
/// fired within the next second.
fn answered(tx: UnboundedSender<Seen>) -> ApiRoute {
    ApiRoute::get("/answered").handler(move |c: Context| {
        let tx = tx.clone();
        async move {
            let signal = c.abort_signal();
            tokio::spawn(async move {
                tokio::select! {
                    () = signal.cancelled() => { let _ = tx.send(Seen::Fired(Instant::now())); }
                    () = tokio::time::sleep(Duration::from_secs(1)) => { let _ = tx.send(Seen::NotFired); }
                }
            });
            tokio::time::sleep(Duration::from_millis(50)).await;
            HttpResponse::Ok().body("done")
        }
    })
}

async fn signal_server() -> (TestServer, UnboundedReceiver<Seen>) {
    let (tx, rx) = unbounded_channel();
    let server = TestServer::start(
        Mastra::builder()
            .route(awaiting(tx.clone()))
            .route(streaming(tx.clone()))
            .route(answered(tx))
            .server(test_config())
            .without_annotated_routes(),
    )
    .await;
    (server, rx)
}

#[tokio::test]
async fn the_abort_signal_fires_promptly_when_the_client_leaves_while_the_handler_awaits() {
    let (server, mut rx) = signal_server().await;
    let client = RawHttp::get(server.base(), "/wait").await;
    assert!(matches!(next(&mut rx).await, Seen::Entered));
    let left = client.close();
    assert_fired_fast(&mut rx, left, "close -> signal (awaiting handler)").await;
}

#[tokio::test]
async fn the_abort_signal_fires_promptly_when_the_client_leaves_while_the_body_streams() {
    let (server, mut rx) = signal_server().await;
    let mut client = RawHttp::get(server.base(), "/ticks").await;
    client.read_until("tick 0", Duration::from_secs(5)).await;
    let left = client.close();
    assert_fired_fast(&mut rx, left, "close -> signal (streaming body)").await;
}

#[tokio::test]
async fn the_abort_signal_never_fires_for_a_request_that_was_answered() {
    let (server, mut rx) = signal_server().await;
    // Answered, then the kept-alive connection is closed: not an abort.
    let mut client = RawHttp::get(server.base(), "/answered").await;
    client.read_until("done", Duration::from_secs(5)).await;
    client.close();
    assert!(matches!(next(&mut rx).await, Seen::NotFired));
}

#[tokio::test]
async fn a_pipelined_request_waiting_on_the_connection_is_not_taken_for_a_disconnect() {
    let (server, mut rx) = signal_server().await;
    // Two requests in one write: while the first is handled, the second waits unread in the
    // socket. The watcher must see readable data there, not a close.
    let mut both = RawHttp::get_request(server.base(), "/answered");
    both.extend(RawHttp::get_request(server.base(), "/answered"));
    let mut client = RawHttp::send(server.base(), &both).await;
    let seen = client
        .read_until_count("done", 2, Duration::from_secs(5))
        .await;
    assert_eq!(seen.matches("HTTP/1.1 200 OK").count(), 2, "{seen}");
    for _ in 0..2 {
        assert!(matches!(next(&mut rx).await, Seen::NotFired));
    }
}

/// An agent on the slow provider, with memory in an in-memory SQLite.
async fn agent_server(slow: &SlowProvider) -> TestServer {
    TestServer::start(slow.app().server(test_config())).await
}

#[tokio::test]
async fn a_client_leaving_the_builtin_stream_closes_the_upstream_model_request_and_saves_nothing() {
    let (words, delay) = (60, Duration::from_millis(50));
    let slow = SlowProvider::start(words, delay).await;
    let server = agent_server(&slow).await;
    let started = Instant::now();
    let (_, left) = leave_after_first_text_delta(
        server.base(),
        "/api/agents/slow/stream",
        &json!({ "messages": "hello", "memory": { "thread": "left-stream", "resource": "r" } }),
    )
    .await;
    let upstream_closed = slow.wait_closed().await;
    assert_fast(
        "client close -> upstream model connection closed (stream)",
        upstream_closed - left,
    );
    assert_eq!(
        slow.finished(),
        0,
        "the provider finished its answer anyway"
    );
    assert!(slow.words_sent() < words);
    assert_never_saved(&server, "left-stream", started, delay * words as u32).await;
}

#[tokio::test]
async fn a_client_leaving_generate_closes_the_upstream_model_request_and_saves_nothing() {
    let (words, delay) = (60, Duration::from_millis(50));
    let slow = SlowProvider::start(words, delay).await;
    let server = agent_server(&slow).await;
    let started = Instant::now();
    let client = RawHttp::post_json(
        server.base(),
        "/api/agents/slow/generate",
        &json!({ "messages": "hello", "memory": { "thread": "left-generate", "resource": "r" } }),
    )
    .await;
    // The handler is awaiting the whole answer; leave once the model is half-way.
    eventually(Duration::from_secs(5), "the model streaming", || async {
        slow.words_sent() >= 2
    })
    .await;
    let left = client.close();
    let upstream_closed = slow.wait_closed().await;
    assert_fast(
        "client close -> upstream model connection closed (generate)",
        upstream_closed - left,
    );
    assert_eq!(
        slow.finished(),
        0,
        "the provider finished its answer anyway"
    );
    assert_never_saved(&server, "left-generate", started, delay * words as u32).await;
}

#[tokio::test]
async fn a_client_that_stays_gets_the_whole_answer_saved() {
    let slow = SlowProvider::start(5, Duration::from_millis(10)).await;
    let server = agent_server(&slow).await;
    let reply = server
        .post_json(
            "/api/agents/slow/generate",
            &json!({ "messages": "hello", "memory": { "thread": "stayed", "resource": "r" } }),
        )
        .await;
    reply.assert_status(200);
    assert_eq!(reply.json()["text"], SlowProvider::full_text(5));
    assert_eq!(slow.closed_early(), 0);
    let messages = server
        .get("/api/memory/threads/stayed/messages")
        .await
        .json();
    assert_eq!(messages["total"], 2, "{messages}");
}
