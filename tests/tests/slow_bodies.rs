//! Slow request bodies: a body that trickles (or never ends: an endless chunk extension or
//! trailer section) is answered `408 {"error":"Request body timed out"}` after the body read
//! timeout and its connection closed, a body the route never reads cannot hold its connection,
//! and a flood of slow bodies against a server with a small open-file limit does not lock other
//! clients out.

use std::time::Duration;

use mastra_runtime::{ServerConfig, SqliteStorage};
use mastra_tests::{
    binary::BinaryServer,
    test_config,
    trickle::{trickle, Pace, Trickled},
    TestServer,
};

/// The body read timeout of these tests (the default is 30 s).
const BODY_TIMEOUT: Duration = Duration::from_secs(2);
/// How late after its deadline a cut may come on a loaded machine.
const SLACK: Duration = Duration::from_secs(8);
/// A timer never fires early, but the client's clock starts a little after the server's.
const EARLY: Duration = Duration::from_millis(100);

async fn quickstart(config: ServerConfig) -> TestServer {
    TestServer::start(
        quickstart::app()
            .storage(SqliteStorage::in_memory())
            .server(config),
    )
    .await
}

/// `POST /items` with a JSON content type and the given framing header.
fn post_items_head(framing: &str) -> Vec<u8> {
    format!(
        "POST /items HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n{framing}\r\n\r\n"
    )
    .into_bytes()
}

/// Asserts the cut: a JSON 408 between `deadline` and `deadline + SLACK` after the first body
/// byte, then the connection closed.
#[track_caller]
fn assert_cut(what: &str, trickled: &Trickled, deadline: Duration) {
    let reply = trickled
        .reply
        .as_ref()
        .unwrap_or_else(|| panic!("{what}: no answer in {:?}: {trickled:?}", trickled.elapsed));
    assert_eq!(
        reply.assert_json_error(408),
        "Request body timed out",
        "{what}"
    );
    assert!(
        trickled.elapsed + EARLY >= deadline && trickled.elapsed < deadline + SLACK,
        "{what}: cut after {:?}, expected about {deadline:?}",
        trickled.elapsed
    );
    assert!(trickled.closed, "{what}: the connection stayed open");
}

#[tokio::test]
async fn trickled_and_endless_bodies_get_a_json_408_after_the_body_read_timeout() {
    let server = quickstart(test_config().body_read_timeout(BODY_TIMEOUT)).await;
    let base = server.base();
    let give_up = BODY_TIMEOUT + SLACK;
    let drip = Pace::byte_every(Duration::from_millis(200));
    let flood = Pace {
        bytes: 16 * 1024,
        every: Duration::from_millis(20),
    };
    let declared_head = post_items_head("content-length: 100");
    let chunked_head = post_items_head("transfer-encoding: chunked");
    let extension_head = [chunked_head.clone(), b"1;".to_vec()].concat();
    let trailers_head = [chunked_head.clone(), b"2\r\n{}\r\n0\r\n".to_vec()].concat();
    let (declared, chunked, extension, trailers) = tokio::join!(
        trickle(
            base,
            &declared_head,
            b"{\"name\":\"Lamp\",\"price\":1}                    ",
            drip,
            give_up,
        ),
        // One space per chunk: valid framing and valid JSON whitespace, forever.
        trickle(base, &chunked_head, b"1\r\n \r\n", drip, give_up,),
        // A chunk whose extension never ends: actix-http discards extension bytes as it parses
        // them, so they never count toward the body limit; only the time bounds them.
        trickle(base, &extension_head, b"a", flood, give_up,),
        // A trailer section that never ends, after a complete last chunk.
        trickle(
            base,
            &trailers_head,
            b"x-trailer: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
            flood,
            give_up,
        ),
    );
    for (what, trickled) in [
        ("declared length, a byte every 200 ms", &declared),
        ("chunked, a chunk every 200 ms", &chunked),
        ("endless chunk extension", &extension),
        ("endless trailers", &trailers),
    ] {
        assert_cut(what, trickled, BODY_TIMEOUT);
        eprintln!(
            "{what}: 408 after {:?} ({} bytes sent; body read timeout {BODY_TIMEOUT:?})",
            trickled.elapsed, trickled.sent
        );
    }
    server.get("/health").await.assert_status(200);
}

#[tokio::test]
async fn with_the_defaults_a_body_dripping_a_byte_a_second_is_cut_after_the_grace() {
    use mastra_runtime::server::limits::{BODY_MIN_RATE_GRACE, DEFAULT_BODY_READ_TIMEOUT};
    let server = quickstart(test_config()).await;
    let trickled = trickle(
        server.base(),
        &post_items_head("content-length: 100"),
        b"{\"name\":\"Lamp\",\"price\":1}",
        Pace::byte_every(Duration::from_secs(1)),
        DEFAULT_BODY_READ_TIMEOUT + SLACK,
    )
    .await;
    // A byte a second is far below the minimum rate, so the grace is all it gets.
    assert_cut("a byte a second", &trickled, BODY_MIN_RATE_GRACE);
    eprintln!(
        "defaults: a body dripping a byte a second got its 408 after {:?} ({} bytes sent)",
        trickled.elapsed, trickled.sent
    );
}

#[tokio::test]
async fn a_body_arriving_steadily_within_the_timeout_is_served() {
    let server = quickstart(test_config().body_read_timeout(BODY_TIMEOUT)).await;
    let body = br#"{"name":"Lamp","price":1}"#;
    let head = post_items_head(&format!("content-length: {}", body.len()));
    // Five bytes every 100 ms: the whole body in about half a second.
    let trickled = trickle(
        server.base(),
        &head,
        body,
        Pace {
            bytes: 5,
            every: Duration::from_millis(100),
        },
        BODY_TIMEOUT + SLACK,
    )
    .await;
    let reply = trickled.reply.expect("an answer");
    assert_eq!(reply.status, 201, "{}", reply.text());
}

#[tokio::test]
async fn a_trickled_body_the_route_never_reads_cannot_hold_its_connection() {
    let server = quickstart(test_config().body_read_timeout(BODY_TIMEOUT)).await;
    // `/health` answers without reading the body; the chunks keep coming, one a second.
    let trickled = trickle(
        server.base(),
        b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\n\r\n",
        b"1\r\na\r\n",
        Pace::byte_every(Duration::from_millis(200)),
        BODY_TIMEOUT + SLACK,
    )
    .await;
    let reply = trickled.reply.as_ref().expect("an answer");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(
        trickled.closed,
        "the connection stayed open while its unread body trickled: {trickled:?}"
    );
}

/// The open-file limit of the flooded server, as in a small container.
const OPEN_FILES: u64 = 256;
/// Slow-body connections in the flood: more than the server can hold open.
const FLOOD: usize = 400;
/// How long the ordinary client may wait: a few body timeouts, as the flood is cut a cap's worth
/// at a time.
const OTHERS_WITHIN: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_flood_under_a_small_open_file_limit_does_not_lock_out_other_clients() {
    let timeout_ms = BODY_TIMEOUT.as_millis().to_string();
    let server = BinaryServer::start_with_open_files(
        "limited_server",
        &[
            ("MASTRA_TEST_WORKERS", "1"),
            ("MASTRA_TEST_BODY_READ_TIMEOUT_MS", &timeout_ms),
        ],
        OPEN_FILES,
    )
    .await;
    let base = server.base().to_owned();

    let flood: Vec<_> = (0..FLOOD)
        .map(|_| {
            let base = base.clone();
            tokio::spawn(async move {
                trickle(
                    &base,
                    &post_items_head("content-length: 1000"),
                    b" ",
                    Pace::byte_every(Duration::from_millis(500)),
                    OTHERS_WITHIN + SLACK,
                )
                .await
            })
        })
        .collect();
    // Let the flood connect and start dripping before the ordinary client arrives.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = std::time::Instant::now();
    let answered = tokio::time::timeout(
        OTHERS_WITHIN,
        mastra_tests::client().get(format!("{base}/health")).send(),
    )
    .await;
    let waited = started.elapsed();
    let status = match answered {
        Ok(Ok(res)) => res.status().as_u16(),
        Ok(Err(error)) => panic!("the ordinary client failed after {waited:?}: {error}"),
        Err(_) => panic!(
            "the ordinary client got no answer within {OTHERS_WITHIN:?} while {FLOOD} slow \
             bodies held the server; log:\n{}",
            server.log()
        ),
    };
    assert_eq!(status, 200);

    let mut cut = Vec::new();
    for task in flood {
        let trickled = task.await.expect("flood client");
        if let Some(reply) = &trickled.reply {
            assert_eq!(reply.assert_json_error(408), "Request body timed out");
            cut.push(trickled.elapsed);
        }
    }
    cut.sort();
    assert!(!cut.is_empty(), "no slow body was cut");
    let log = server.log();
    assert!(
        !log.contains("Too many open files"),
        "the server ran out of file descriptors:\n{log}"
    );
    eprintln!(
        "flood: {FLOOD} slow bodies against {OPEN_FILES} open files; the ordinary client was \
         answered after {waited:?}; {} bodies cut with a 408, after {:?} to {:?} of dripping",
        cut.len(),
        cut[0],
        cut[cut.len() - 1]
    );
}
