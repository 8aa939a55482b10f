//! One HTTP/1.1 exchange over a plain TCP socket, with the request written byte for byte as the
//! test gives it: for inputs a client library would refuse or normalize (a raw `..` segment,
//! invalid UTF-8, bad percent-encoding, odd method tokens, oversized heads, truncated bodies).
//! The response is parsed with `httparse`, its body read by `Content-Length`, chunks or EOF.

use std::time::Duration;

use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// How long an exchange may take before the test fails.
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(15);

/// A response read off the wire.
#[derive(Debug)]
pub struct WireReply {
    /// The status code.
    pub status: u16,
    /// Header fields, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl WireReply {
    /// A header value by (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics showing the reply when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {self:?} {:?}", self.text()))
    }

    /// Asserts `status`, a JSON content type and a `{"error": "<non-empty>"}` body; returns the
    /// message.
    #[track_caller]
    pub fn assert_json_error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "status; body: {}", self.text());
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "content type {content_type:?}; body: {}",
            self.text()
        );
        let message = self.json()["error"].as_str().unwrap_or_default().to_owned();
        assert!(!message.is_empty(), "no error message in {}", self.text());
        message
    }

    /// Asserts the status is not a server error.
    #[track_caller]
    pub fn assert_not_5xx(&self) {
        assert!(
            self.status < 500,
            "server error {}: {}",
            self.status,
            self.text()
        );
    }
}

fn authority(base: &str) -> &str {
    base.strip_prefix("http://").unwrap_or(base)
}

/// Opens a connection to `base` (`http://127.0.0.1:PORT`).
pub async fn connect(base: &str) -> TcpStream {
    let stream = TcpStream::connect(authority(base))
        .await
        .unwrap_or_else(|e| panic!("connect to {base}: {e}"));
    stream.set_nodelay(true).expect("nodelay");
    stream
}

/// Writes `request` on a new connection and reads one response.
pub async fn exchange(base: &str, request: &[u8]) -> WireReply {
    let mut stream = connect(base).await;
    // The server may answer and close before taking everything (a refused head or body); the
    // answer is what matters, so a failed write is not an error here.
    let _ = stream.write_all(request).await;
    if request.starts_with(b"HEAD ") {
        read_head_reply(&mut stream).await
    } else {
        read_reply(&mut stream).await
    }
}

/// `METHOD target HTTP/1.1` with a `host` header, the given extra header lines and body.
pub fn request(base: &str, method: &str, target: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "{method} {target} HTTP/1.1\r\nhost: {}\r\n",
        authority(base)
    );
    for header in headers {
        out.push_str(header);
        out.push_str("\r\n");
    }
    if !body.is_empty() {
        out.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Reads one response from `stream`: the head, then the body by `Content-Length`, chunked
/// coding, or to the end of the stream. Panics after [`EXCHANGE_TIMEOUT`].
pub async fn read_reply(stream: &mut TcpStream) -> WireReply {
    tokio::time::timeout(EXCHANGE_TIMEOUT, read_reply_inner(stream, false))
        .await
        .unwrap_or_else(|_| panic!("no complete response within {EXCHANGE_TIMEOUT:?}"))
}

/// Reads the response to a `HEAD` request: a head whose framing headers describe a body that
/// is not sent.
pub async fn read_head_reply(stream: &mut TcpStream) -> WireReply {
    tokio::time::timeout(EXCHANGE_TIMEOUT, read_reply_inner(stream, true))
        .await
        .unwrap_or_else(|_| panic!("no response head within {EXCHANGE_TIMEOUT:?}"))
}

async fn read_reply_inner(stream: &mut TcpStream, head_only: bool) -> WireReply {
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let (status, headers, head_len) = loop {
        let mut parsed = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut parsed);
        if let httparse::Status::Complete(len) = response
            .parse(&seen)
            .unwrap_or_else(|e| panic!("bad response head ({e}): {:?}", lossy(&seen)))
        {
            let headers = response
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_ascii_lowercase(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect::<Vec<_>>();
            break (response.code.unwrap_or_default(), headers, len);
        }
        let n = read_some(stream, &mut buf).await;
        assert!(
            n > 0,
            "connection closed before a response head: {:?}",
            lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    };
    let mut reply = WireReply {
        status,
        headers,
        body: seen.split_off(head_len),
    };
    if head_only {
        return reply;
    }
    let chunked = reply
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if let Some(length) = reply
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        while reply.body.len() < length {
            let n = read_some(stream, &mut buf).await;
            assert!(n > 0, "connection closed mid-body: {reply:?}");
            reply.body.extend_from_slice(&buf[..n]);
        }
        reply.body.truncate(length);
    } else if chunked {
        loop {
            if let Some(body) = dechunk(&reply.body) {
                reply.body = body;
                break;
            }
            let n = read_some(stream, &mut buf).await;
            assert!(n > 0, "connection closed mid-chunks: {reply:?}");
            reply.body.extend_from_slice(&buf[..n]);
        }
    } else if reply.status >= 200 && reply.status != 204 && reply.status != 304 {
        loop {
            let n = read_some(stream, &mut buf).await;
            if n == 0 {
                break;
            }
            reply.body.extend_from_slice(&buf[..n]);
        }
    }
    reply
}

/// Reads what is available; a reset connection counts as its end.
async fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> usize {
    stream.read(buf).await.unwrap_or(0)
}

/// The body of a complete chunked message, or `None` while its last chunk has not arrived.
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&rest[..line_end])
            .ok()
            .and_then(|l| usize::from_str_radix(l.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or_else(|| panic!("bad chunk size line in {:?}", lossy(rest)));
        let start = line_end + 2;
        if size == 0 {
            return Some(body);
        }
        if rest.len() < start + size + 2 {
            return None;
        }
        body.extend_from_slice(&rest[start..start + size]);
        rest = &rest[start + size + 2..];
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether the server has closed `stream` (reads EOF or a reset) within `within`; bytes that
/// arrive first are skipped.
pub async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}
