//! Broken handlers and hostile clients: a panicking route is one 500 and nothing more, a client
//! that trickles its head is cut off by the client request timeout without slowing anyone
//! else, and a client that stops reading an event stream leaves the server's buffering bounded.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures_util::{stream, StreamExt};
use mastra_runtime::{actix_web::web::Bytes, prelude::*};
use mastra_tests::{
    test_config,
    wire::{self, closed_within},
    TestServer,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn boom() -> &'static str {
    panic!("handler exploded")
}

async fn fine(c: Context) -> HttpResponse {
    c.json(json!({ "ok": true }))
}

/// A stream that panics after its first chunk, once the head has gone out.
async fn boom_midstream() -> HttpResponse {
    let chunks = stream::iter(0..2).map(|i| {
        if i == 1 {
            panic!("stream exploded");
        }
        Ok::<_, std::io::Error>(Bytes::from_static(b"data: first\n\n"))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(chunks)
}

/// Requests that must all be answered 200 after a panic.
const AFTER_PANIC: usize = 1000;

#[tokio::test]
async fn a_panicking_route_is_a_json_500_and_the_next_thousand_requests_are_served() {
    let server = TestServer::start(
        Mastra::builder()
            .without_annotated_routes()
            .server(test_config())
            .route(ApiRoute::get("/boom").handler(boom))
            .route(ApiRoute::get("/boom-midstream").handler(boom_midstream))
            .route(ApiRoute::get("/fine").handler(fine)),
    )
    .await;
    server
        .get("/boom")
        .await
        .assert_error(500, "Internal Server Error");

    // A panic while the body streams cuts that one response short (the head may or may not
    // have been flushed), nothing else.
    for _ in 0..3 {
        match server
            .client()
            .get(server.url("/boom-midstream"))
            .send()
            .await
        {
            Err(_) => {}
            Ok(res) => {
                assert_eq!(res.status(), 200);
                assert!(
                    res.bytes().await.is_err(),
                    "the cut body must not look complete"
                );
            }
        }
    }

    // One worker serves everything that follows, on pooled keep-alive connections, with a
    // panic every hundred requests for good measure.
    let served = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..16)
        .map(|task| {
            let client = server.client().clone();
            let base = server.base().to_owned();
            let served = Arc::clone(&served);
            tokio::spawn(async move {
                for i in (task..AFTER_PANIC).step_by(16) {
                    let path = if i % 100 == 99 { "/boom" } else { "/fine" };
                    let res = client
                        .get(format!("{base}{path}"))
                        .send()
                        .await
                        .expect("send");
                    let status = res.status().as_u16();
                    let body: serde_json::Value = res.json().await.expect("JSON body");
                    if path == "/boom" {
                        assert_eq!(status, 500);
                        assert_eq!(body["error"], "Internal Server Error");
                    } else {
                        assert_eq!(status, 200, "{body}");
                        assert_eq!(body["ok"], true);
                    }
                    served.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("client task");
    }
    assert_eq!(served.load(Ordering::Relaxed), AFTER_PANIC as u64);
}

/// The client request timeout of the slow-client test.
const HEAD_TIMEOUT: Duration = Duration::from_secs(2);

#[tokio::test]
async fn clients_trickling_their_head_are_cut_off_without_delaying_others() {
    let server = TestServer::start(
        Mastra::builder()
            .without_annotated_routes()
            .server(test_config().client_request_timeout(HEAD_TIMEOUT))
            .route(ApiRoute::get("/fine").handler(fine)),
    )
    .await;

    // Twenty connections sending their head at one byte a second, all on the one worker.
    let head = b"GET /fine HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let slow: Vec<_> = (0..20)
        .map(|_| {
            let base = server.base().to_owned();
            tokio::spawn(async move {
                let mut stream = wire::connect(&base).await;
                let started = Instant::now();
                let mut sent = 0;
                for byte in head {
                    if stream.write_all(&[*byte]).await.is_err() {
                        break;
                    }
                    sent += 1;
                    let mut probe = [0u8; 1024];
                    // Wait a second, noticing if the server answered or closed meanwhile.
                    match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut probe))
                        .await
                    {
                        Err(_) => continue,
                        Ok(Ok(n)) => {
                            let answer = String::from_utf8_lossy(&probe[..n]).into_owned();
                            let closed = n == 0 || closed_within(&mut stream, HEAD_TIMEOUT).await;
                            return (started.elapsed(), sent, answer, closed);
                        }
                        Ok(Err(_)) => return (started.elapsed(), sent, String::new(), true),
                    }
                }
                (started.elapsed(), sent, "head completed".to_owned(), false)
            })
        })
        .collect();

    // Meanwhile ordinary requests are served: several complete while every slow client is
    // still holding its connection (none can be cut before its head timeout), which a server
    // stuck on them could not do. Latency is printed, not bounded: the machine may be loaded.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let held_until = Instant::now() + HEAD_TIMEOUT - Duration::from_millis(400);
    let mut slowest = Duration::ZERO;
    let (mut served, mut served_while_held) = (0, 0);
    let until = Instant::now() + HEAD_TIMEOUT + Duration::from_millis(500);
    while Instant::now() < until {
        let started = Instant::now();
        server.get("/fine").await.assert_status(200);
        slowest = slowest.max(started.elapsed());
        served += 1;
        if Instant::now() < held_until {
            served_while_held += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "{served} ordinary requests served, {served_while_held} while the slow clients held \
         their connections; the slowest in {slowest:?}"
    );
    assert!(
        served_while_held >= 5,
        "only {served_while_held} requests served while the slow clients were connected \
         (slowest {slowest:?})"
    );

    let mut cut_after = Vec::new();
    for task in slow {
        let (elapsed, sent, answer, closed) = task.await.expect("slow client");
        cut_after.push((elapsed, sent));
        assert!(
            sent < head.len(),
            "the slow client got its whole head in ({elapsed:?})"
        );
        assert!(
            elapsed >= HEAD_TIMEOUT - Duration::from_millis(200)
                && elapsed < HEAD_TIMEOUT + Duration::from_secs(2),
            "cut off after {elapsed:?} ({sent} bytes sent)"
        );
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "unexpected answer {answer:?}"
        );
        assert!(closed, "the connection stayed open after the timeout");
    }
    let (earliest, latest) = cut_after
        .iter()
        .fold((Duration::MAX, Duration::ZERO), |(a, b), (e, _)| {
            (a.min(*e), b.max(*e))
        });
    let most_bytes = cut_after
        .iter()
        .map(|(_, sent)| *sent)
        .max()
        .unwrap_or_default();
    eprintln!(
        "slow clients: {} cut off after {earliest:?} to {latest:?} (at most {most_bytes} bytes \
         sent; timeout {HEAD_TIMEOUT:?}); meanwhile {served} requests served, slowest {slowest:?}",
        cut_after.len()
    );
}

/// Size of one event of the endless stream.
const EVENT_BYTES: usize = 16 * 1024;
/// The most a stalled reader may leave buffered in the server: socket buffers and the
/// writer's buffer, far below what an unbounded queue would reach in the same time.
const MAX_BUFFERED: u64 = 16 * 1024 * 1024;

#[tokio::test]
async fn a_client_that_stops_reading_an_event_stream_leaves_buffering_bounded() {
    let produced = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&produced);
    let endless = move || {
        let counter = Arc::clone(&counter);
        async move {
            let event = Bytes::from(format!("data: {}\n\n", "x".repeat(EVENT_BYTES - 8)));
            let events = stream::repeat(event).map(move |event| {
                counter.fetch_add(event.len() as u64, Ordering::Relaxed);
                Ok::<_, std::io::Error>(event)
            });
            HttpResponse::Ok()
                .content_type("text/event-stream")
                .streaming(events)
        }
    };
    let server = TestServer::start(
        Mastra::builder()
            .without_annotated_routes()
            .server(test_config())
            .route(ApiRoute::get("/events").handler(endless))
            .route(ApiRoute::get("/fine").handler(fine)),
    )
    .await;

    let mut stream = wire::connect(server.base()).await;
    stream
        .write_all(b"GET /events HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    // Read the first megabyte, then stop reading.
    let mut read = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    while read < 1024 * 1024 {
        read += stream.read(&mut buf).await.expect("read") as u64;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_one = produced.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after_three = produced.load(Ordering::Relaxed);
    let buffered = after_three - read;
    assert!(
        buffered < MAX_BUFFERED,
        "{buffered} bytes produced beyond what the client read"
    );
    assert!(
        after_three - after_one <= EVENT_BYTES as u64 * 2,
        "production went on while nobody read: {after_one} then {after_three}"
    );

    eprintln!(
        "stalled reader: read {read} bytes, then stopped; produced {after_one} bytes after 1 s \
         and {after_three} after 3 s of stall ({buffered} produced but unread)"
    );

    // The server serves others meanwhile, and the stream resumes when the client reads again.
    server.get("/fine").await.assert_status(200);
    // Draining what was buffered (less than MAX_BUFFERED) makes room for new events.
    let resumed = tokio::time::timeout(Duration::from_secs(30), async {
        let mut more = 0u64;
        while produced.load(Ordering::Relaxed) <= after_three {
            more += stream.read(&mut buf).await.expect("read") as u64;
            assert!(
                more < 2 * MAX_BUFFERED,
                "read {more} bytes without new events"
            );
        }
    })
    .await;
    assert!(resumed.is_ok(), "the stream did not resume");
}
