//! The hostile-input matrix, over raw TCP where a client library would refuse or normalize the
//! request: every malformed, oversized or odd request gets its own status and a JSON
//! `{"error": ...}` body, never a 5xx, and the server keeps serving.

use mastra_runtime::{
    auth::JwtAuth,
    server::limits::{DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_URL_BYTES},
    ServerConfig, SqliteStorage,
};
use mastra_tests::{
    jwt::SECRET,
    test_config,
    wire::{self, exchange, request, WireReply},
    TestServer,
};
use tokio::io::AsyncWriteExt;

/// The quickstart (custom routes, an agent, memory in memory) on a loopback port.
async fn quickstart() -> TestServer {
    TestServer::start(
        quickstart::app()
            .storage(SqliteStorage::in_memory())
            .server(test_config()),
    )
    .await
}

async fn send(server: &TestServer, method: &str, target: &str, headers: &[&str]) -> WireReply {
    exchange(
        server.base(),
        &request(server.base(), method, target, headers, b""),
    )
    .await
}

async fn post_items(server: &TestServer, headers: &[&str], body: &[u8]) -> WireReply {
    exchange(
        server.base(),
        &request(server.base(), "POST", "/items", headers, body),
    )
    .await
}

/// The server still answers normally.
async fn assert_healthy(server: &TestServer) {
    server.get("/health").await.assert_status(200);
}

#[tokio::test]
async fn malformed_json_bodies_get_a_json_400() {
    let server = quickstart().await;
    let deep = "[".repeat(100_000);
    let bodies: Vec<&[u8]> = vec![
        b"{",
        b"{\"name\":",
        b"not json",
        b"{\"name\":\"Lamp\",\"price\":1}trailing",
        b"{\"name\":\"Lamp\",\"price\":1,}",
        b"{'name':'Lamp','price':1}",
        b"{\"name\":\"\xff\xfe\",\"price\":1}",
        b"{\"name\":\"\\ud800\",\"price\":1}",
        b"\xef\xbb\xbf{\"name\":\"Lamp\",\"price\":1}",
        b"null",
        b"[]",
        b"{\"name\":\"Lamp\",\"price\":1e999999}",
        deep.as_bytes(),
    ];
    for body in bodies {
        let reply = post_items(&server, &["content-type: application/json"], body).await;
        let shown = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
        assert_eq!(reply.status, 400, "{shown}: {}", reply.text());
        reply.assert_json_error(400);
    }
    assert_healthy(&server).await;
}

#[tokio::test]
async fn a_truncated_body_gets_a_json_400() {
    let server = quickstart().await;
    // Declares 60 bytes, sends 24 and half-closes: the body can never be complete.
    let mut stream = wire::connect(server.base()).await;
    let head = request(
        server.base(),
        "POST",
        "/items",
        &["content-type: application/json", "content-length: 60"],
        b"",
    );
    stream.write_all(&head).await.unwrap();
    stream
        .write_all(b"{\"name\":\"Lamp\",\"price\":")
        .await
        .unwrap();
    stream.shutdown().await.unwrap();
    let reply = wire::read_reply(&mut stream).await;
    reply.assert_not_5xx();
    reply.assert_json_error(400);

    // Complete but cut mid-value (the length matches what was sent).
    let reply = post_items(
        &server,
        &["content-type: application/json"],
        b"{\"name\":\"Lamp\",\"pri",
    )
    .await;
    reply.assert_json_error(400);
    assert_healthy(&server).await;
}

#[tokio::test]
async fn a_wrong_or_missing_content_type_gets_a_json_415() {
    let server = quickstart().await;
    let body = br#"{"name":"Lamp","price":1}"#;
    for headers in [
        &[][..],
        &["content-type: text/plain"][..],
        &["content-type: application/jsonx"][..],
        &["content-type: multipart/form-data; boundary=x"][..],
        &["content-type: application/x-www-form-urlencoded"][..],
        &["content-type: ;;;"][..],
        &["content-type: application/json/extra"][..],
    ] {
        let reply = post_items(&server, headers, body).await;
        assert_eq!(reply.status, 415, "{headers:?}: {}", reply.text());
        reply.assert_json_error(415);
    }
    // The right type, with parameters, is accepted.
    let reply = post_items(
        &server,
        &["content-type: application/json; charset=utf-8"],
        body,
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
}

#[tokio::test]
async fn a_ten_megabyte_body_gets_a_json_413() {
    let server = quickstart().await;
    let ten_mb = 10 * 1024 * 1024;
    // Declared: refused from the head, before the body is read.
    let mut stream = wire::connect(server.base()).await;
    let head = request(
        server.base(),
        "POST",
        "/items",
        &[
            "content-type: application/json",
            &format!("content-length: {ten_mb}"),
        ],
        b"",
    );
    stream.write_all(&head).await.unwrap();
    let _ = stream.write_all(&vec![b' '; 64 * 1024]).await;
    let reply = wire::read_reply(&mut stream).await;
    assert_eq!(reply.assert_json_error(413), "Request body too large");

    // Chunked: counted as it arrives.
    let mut stream = wire::connect(server.base()).await;
    let head = request(
        server.base(),
        "POST",
        "/items",
        &[
            "content-type: application/json",
            "transfer-encoding: chunked",
        ],
        b"",
    );
    stream.write_all(&head).await.unwrap();
    let chunk = vec![b' '; 1024 * 1024];
    for _ in 0..10 {
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(&chunk);
        framed.extend_from_slice(b"\r\n");
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let reply = wire::read_reply(&mut stream).await;
    assert_eq!(reply.assert_json_error(413), "Request body too large");
    assert_healthy(&server).await;
}

#[tokio::test]
async fn sixty_four_kilobytes_of_headers_get_a_json_431() {
    let server = quickstart().await;
    // One huge field.
    let big = format!("x-big: {}", "a".repeat(64 * 1024));
    let reply = send(&server, "GET", "/items/1", &[&big]).await;
    let message = reply.assert_json_error(431);
    assert_eq!(message, "Request header fields too large");
    assert_eq!(reply.json()["limit"], DEFAULT_MAX_HEADER_BYTES);

    // Many ordinary fields adding up to 64 KiB.
    let fields: Vec<String> = (0..60)
        .map(|i| format!("x-field-{i}: {}", "b".repeat(1100)))
        .collect();
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    send(&server, "GET", "/items/1", &fields)
        .await
        .assert_json_error(431);

    // On an unknown path, and with a body, it is the same refusal.
    send(&server, "POST", "/nowhere", &[&big])
        .await
        .assert_json_error(431);

    // Just under the limit is served.
    let fits = format!("x-big: {}", "a".repeat(DEFAULT_MAX_HEADER_BYTES - 200));
    let reply = send(&server, "GET", "/items/1", &[&fits]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[tokio::test]
async fn a_sixteen_kilobyte_url_gets_a_json_414() {
    let server = quickstart().await;
    let long_path = format!("/items/{}", "a".repeat(16 * 1024));
    let reply = send(&server, "GET", &long_path, &[]).await;
    assert_eq!(reply.assert_json_error(414), "Request URI too long");
    assert_eq!(reply.json()["limit"], DEFAULT_MAX_URL_BYTES);

    let long_query = format!("/api/memory/threads?resourceId={}", "r".repeat(16 * 1024));
    send(&server, "GET", &long_query, &[])
        .await
        .assert_json_error(414);
    send(
        &server,
        "GET",
        &format!("/nowhere/{}", "a".repeat(16 * 1024)),
        &[],
    )
    .await
    .assert_json_error(414);

    // Just under the limit reaches the route.
    let fits = format!("/items/{}", "a".repeat(DEFAULT_MAX_URL_BYTES - 100));
    send(&server, "GET", &fits, &[])
        .await
        .assert_json_error(404);
}

#[tokio::test]
async fn invalid_utf8_and_bad_percent_encoding_in_paths_get_json_errors() {
    let server = quickstart().await;
    for target in [
        "/items/%FF%FE",
        "/items/%C0%AF",
        "/items/%ED%A0%80",
        "/items/%zz",
        "/items/%",
        "/items/%4",
        "/items/%00",
        "/items/a%2Fb",
        "/api/agents/%FF",
        "/api/agents/%FF/generate",
        "/api/memory/threads/%E0%80/messages",
        "/%FF%FF",
        "/my-custom-route%",
    ] {
        let reply = send(&server, "GET", target, &[]).await;
        reply.assert_not_5xx();
        assert!(
            (400..500).contains(&reply.status),
            "{target}: {} {}",
            reply.status,
            reply.text()
        );
        reply.assert_json_error(reply.status);
    }
    // A POST with a body to an undecodable agent id.
    let reply = exchange(
        server.base(),
        &request(
            server.base(),
            "POST",
            "/api/agents/%FF%FE/generate",
            &["content-type: application/json"],
            br#"{"messages":"hi"}"#,
        ),
    )
    .await;
    reply.assert_json_error(404);

    // Raw bytes that make no valid request line or header: the HTTP parser refuses them before
    // the application (a bodiless 400, see docs/reliability.md), the connection closes, and
    // the server goes on serving.
    for raw in [
        &b"GET /items/\xff\xfe HTTP/1.1\r\nhost: x\r\n\r\n"[..],
        &b"GET /items/\xc3\xa9 HTTP/1.1\r\nhost: x\r\n\r\n"[..],
        &b"POST /items HTTP/1.1\r\nhost: x\r\ncontent-type: \x01\r\n\r\n"[..],
    ] {
        let reply = exchange(server.base(), raw).await;
        assert_eq!(reply.status, 400, "{}", reply.text());
    }
    assert_healthy(&server).await;
}

#[tokio::test]
async fn dot_dot_segments_never_escape_a_route() {
    let server = quickstart().await;
    for target in [
        "/items/../health",
        "/items/..",
        "/items/%2e%2e",
        "/api/agents/../../health",
        "/api/agents/..%2f..%2fhealth",
        "/swagger-ui/../../../../etc/passwd",
        "/swagger-ui/..%2f..%2f..%2fetc%2fpasswd",
        "/swagger-ui/%2e%2e/%2e%2e/etc/passwd",
        "/swagger-ui/....//....//etc/passwd",
        "/../../etc/passwd",
        "/./health/.",
    ] {
        let reply = send(&server, "GET", target, &[]).await;
        assert!(
            matches!(reply.status, 400 | 404),
            "{target}: {} {}",
            reply.status,
            reply.text()
        );
        reply.assert_json_error(reply.status);
        assert!(!reply.text().contains("root:"), "{target} leaked a file");
    }
}

#[tokio::test]
async fn duplicate_query_keys_get_a_json_400() {
    let server = quickstart().await;
    for target in [
        "/api/memory/threads?resourceId=a&resourceId=b",
        "/api/memory/threads?perPage=1&perPage=2",
        "/api/memory/threads?page=0&page=0",
    ] {
        let reply = send(&server, "GET", target, &[]).await;
        let message = reply.assert_json_error(400);
        assert!(!message.is_empty(), "{target}");
    }
    // One of each is fine.
    let reply = send(
        &server,
        "GET",
        "/api/memory/threads?resourceId=a&perPage=2",
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[tokio::test]
async fn a_repeated_api_key_is_refused_as_unauthenticated() {
    let auth = JwtAuth::hs256(SECRET).expect("secret");
    let server = TestServer::start(auth_example::app(
        ServerConfig::default()
            .host("127.0.0.1")
            .workers(1)
            .install_logger(false),
        auth,
    ))
    .await;
    let token = mastra_tests::jwt::hs256(&mastra_tests::jwt::claims("user-1"));
    let ok = send(
        &server,
        "GET",
        &format!("/protected-data?apiKey={token}"),
        &[],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let twice = send(
        &server,
        "GET",
        &format!("/protected-data?apiKey={token}&apiKey={token}"),
        &[],
    )
    .await;
    twice.assert_json_error(401);
}

#[tokio::test]
async fn unknown_and_odd_methods_get_405_with_allow_or_404_never_501() {
    let server = quickstart().await;
    let long_token = "X".repeat(2000);
    for method in [
        "TRACE",
        "TRACK",
        "PROPFIND",
        "M-SEARCH",
        "FOO",
        "get",
        "BREW",
        "QUERY",
        "PURGE",
        "LINK",
        long_token.as_str(),
    ] {
        // A route that exists: 405 naming what it answers.
        let reply = send(&server, method, "/items/1", &[]).await;
        assert_eq!(reply.status, 405, "{method} /items/1: {}", reply.text());
        reply.assert_json_error(405);
        assert_eq!(reply.header("allow"), Some("GET, HEAD"), "{method}");

        // A path that does not: 404.
        let reply = send(&server, method, "/nowhere", &[]).await;
        assert_eq!(reply.status, 404, "{method} /nowhere: {}", reply.text());
        reply.assert_json_error(404);
    }
    // The other standard methods on a POST-only route.
    for method in ["GET", "PUT", "PATCH", "DELETE", "HEAD"] {
        let reply = send(&server, method, "/items", &[]).await;
        assert_eq!(reply.status, 405, "{method} /items");
        assert_eq!(reply.header("allow"), Some("POST"), "{method}");
        if method != "HEAD" {
            reply.assert_json_error(405);
        }
    }
    // CONNECT carries an authority, not a path.
    let reply = send(&server, "CONNECT", "127.0.0.1:443", &[]).await;
    reply.assert_not_5xx();
    assert_healthy(&server).await;
}

#[tokio::test]
async fn a_cors_preflight_is_answered_and_a_refused_one_is_json() {
    let server = quickstart().await;
    let reply = send(
        &server,
        "OPTIONS",
        "/items",
        &[
            "origin: https://app.example",
            "access-control-request-method: POST",
            "access-control-request-headers: content-type",
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    let methods = reply
        .header("access-control-allow-methods")
        .unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");

    // A method, then a header, the policy does not allow.
    let refused: [&[&str]; 2] = [
        &[
            "origin: https://app.example",
            "access-control-request-method: TRACE",
        ],
        &[
            "origin: https://app.example",
            "access-control-request-method: POST",
            "access-control-request-headers: x-not-allowed",
        ],
    ];
    for headers in refused {
        let reply = send(&server, "OPTIONS", "/items", headers).await;
        reply.assert_not_5xx();
        reply.assert_json_error(reply.status);
    }

    // OPTIONS that is not a preflight is an ordinary unsupported method.
    let reply = send(&server, "OPTIONS", "/items", &[]).await;
    assert_eq!(reply.status, 405, "{}", reply.text());
    reply.assert_json_error(405);

    // An actual cross-origin request carries the CORS headers.
    let reply = send(&server, "GET", "/items/1", &["origin: https://app.example"]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
}

/// What a body read that fails may never show: Rust's debug formatting of errors.
const DEBUG_TEXT: [&str; 5] = ["Some(", "None", "Custom {", "kind:", "Error {"];

/// A gzip member header with no compressed data after it.
const GZIP_HEADER_ONLY: &[u8] = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff";

#[tokio::test]
async fn bodies_that_cannot_be_read_get_plain_words_never_rust_debug_text() {
    let server =
        TestServer::start(
            quickstart::app()
                .storage(SqliteStorage::in_memory())
                .server(test_config())
                .route(
                    // A handler on actix-web's own body extractor: its errors are answered by the
                    // app-wide layer, not by `Json`.
                    mastra_runtime::ApiRoute::post("/raw").handler(
                        |body: mastra_runtime::actix_web::web::Bytes| async move {
                            body.len().to_string()
                        },
                    ),
                ),
        )
        .await;
    let garbage_gzip = [GZIP_HEADER_ONLY, b"\xff\xff\xff\xff"].concat();
    let mut replies = Vec::new();
    for target in [
        "/items",
        "/raw",
        "/api/agents/my-agent/generate",
        "/api/workflows/trip-planner/start-async",
    ] {
        for (encoding, body) in [
            ("gzip", GZIP_HEADER_ONLY),
            ("gzip", &garbage_gzip[..]),
            ("gzip", b"not gzip at all"),
            ("deflate", b"not deflate at all"),
        ] {
            let reply = exchange(
                server.base(),
                &request(
                    server.base(),
                    "POST",
                    target,
                    &[
                        "content-type: application/json",
                        &format!("content-encoding: {encoding}"),
                    ],
                    body,
                ),
            )
            .await;
            replies.push((format!("{target}, {encoding} {:?}", lossy(body)), reply));
        }
        // Declared 60 bytes, 24 sent, then the client half-closes.
        let mut stream = wire::connect(server.base()).await;
        let head = request(
            server.base(),
            "POST",
            target,
            &["content-type: application/json", "content-length: 60"],
            b"",
        );
        stream.write_all(&head).await.unwrap();
        stream
            .write_all(b"{\"messages\":\"hi\",\"x\":")
            .await
            .unwrap();
        stream.shutdown().await.unwrap();
        replies.push((
            format!("{target}, cut short"),
            wire::read_reply(&mut stream).await,
        ));
        // Chunked framing broken mid-body.
        let reply = exchange(
            server.base(),
            &[
                request(
                    server.base(),
                    "POST",
                    target,
                    &[
                        "content-type: application/json",
                        "transfer-encoding: chunked",
                    ],
                    b"",
                ),
                b"5\r\n{\"mes\r\nzz\r\n".to_vec(),
            ]
            .concat(),
        )
        .await;
        replies.push((format!("{target}, broken chunks"), reply));
    }
    for (what, reply) in &replies {
        reply.assert_not_5xx();
        let message = reply.assert_json_error(reply.status);
        for debug in DEBUG_TEXT {
            assert!(!reply.text().contains(debug), "{what}: {}", reply.text());
        }
        assert!(
            message.starts_with("Failed to read request body: ") || reply.status == 404,
            "{what}: {message}"
        );
    }
    assert_healthy(&server).await;
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes `request` on a new connection and reads everything until the server closes it
/// (within [`wire::EXCHANGE_TIMEOUT`]); returns what was read without the `date` line, and
/// whether it closed.
async fn raw_answer(base: &str, request: &[u8]) -> (String, bool) {
    use tokio::io::AsyncReadExt;
    let mut stream = wire::connect(base).await;
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wire::EXCHANGE_TIMEOUT;
    let closed = loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => break false,
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
        }
    };
    let text = lossy(&answer)
        .split("\r\n")
        .filter(|line| !line.starts_with("date: "))
        .collect::<Vec<_>>()
        .join("\r\n");
    (text, closed)
}

/// actix-http's own answer to a head it refuses before any application code runs: no body, and
/// the connection closed. It offers no hook to give these a JSON body.
const PARSER_431: &str =
    "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
/// See [`PARSER_431`].
const PARSER_400: &str =
    "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
/// actix-http's answer to a head not complete within the client request timeout.
const PARSER_408: &str =
    "HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

#[tokio::test]
async fn parser_level_refusals_are_bodiless_and_close_the_connection() {
    use mastra_runtime::server::limits::{HTTP_PARSER_HEAD_BUFFER, HTTP_PARSER_MAX_HEADERS};
    let server = quickstart().await;
    // `host` and 96 more: one field past the parser's bound.
    let fields: String = (0..HTTP_PARSER_MAX_HEADERS)
        .map(|i| format!("x-field-{i}: v\r\n"))
        .collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "97 header fields",
            format!("GET /health HTTP/1.1\r\nhost: x\r\n{fields}\r\n").into_bytes(),
            PARSER_431,
        ),
        (
            "a head past 128 KiB",
            format!(
                "GET /health HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
                "a".repeat(HTTP_PARSER_HEAD_BUFFER)
            )
            .into_bytes(),
            PARSER_431,
        ),
        (
            "a raw byte that is not ASCII in the request line",
            b"GET /items/\xff HTTP/1.1\r\nhost: x\r\n\r\n".to_vec(),
            PARSER_400,
        ),
        (
            "a control byte in a header value",
            b"GET /health HTTP/1.1\r\nhost: x\r\nx-a: \x01\r\n\r\n".to_vec(),
            PARSER_400,
        ),
        (
            "a Content-Length that is not a number",
            b"POST /items HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n".to_vec(),
            PARSER_400,
        ),
        (
            "Content-Length and Transfer-Encoding together",
            b"POST /items HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n{}"
                .to_vec(),
            PARSER_400,
        ),
        (
            "a Transfer-Encoding that does not end in chunked",
            b"POST /items HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip\r\n\r\n".to_vec(),
            PARSER_400,
        ),
    ];
    for (what, request, expected) in cases {
        let (answer, closed) = raw_answer(server.base(), &request).await;
        assert_eq!(answer, expected, "{what}");
        assert!(closed, "{what}: the connection stayed open");
    }
    // 96 fields in all is still the application's, and answered.
    let fits: String = (1..HTTP_PARSER_MAX_HEADERS)
        .map(|i| format!("x-field-{i}: v\r\n"))
        .collect();
    let reply = exchange(
        server.base(),
        format!("GET /health HTTP/1.1\r\nhost: x\r\n{fits}\r\n").as_bytes(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());

    // A head still incomplete after the client request timeout.
    let slow =
        quickstart_with(test_config().client_request_timeout(std::time::Duration::from_secs(1)))
            .await;
    let (answer, closed) = raw_answer(slow.base(), b"GET /health HTTP/1.1\r\nhost: x\r\n").await;
    assert_eq!(answer, PARSER_408);
    assert!(closed, "the slow head's connection stayed open");
    assert_healthy(&server).await;
}

async fn quickstart_with(config: ServerConfig) -> TestServer {
    TestServer::start(
        quickstart::app()
            .storage(SqliteStorage::in_memory())
            .server(config),
    )
    .await
}
