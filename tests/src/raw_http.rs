//! A hand-driven HTTP/1.1 client on a plain TCP socket, for tests that must decide exactly when
//! the connection closes (disconnects) or that stop reading (stalled clients). It writes one
//! request and reads raw bytes (head and chunked body as they come on the wire).

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// One connection with a request written on it.
pub struct RawHttp {
    stream: TcpStream,
    seen: Vec<u8>,
}

fn authority(base: &str) -> &str {
    base.strip_prefix("http://").unwrap_or(base)
}

impl RawHttp {
    /// Connects to `base` (`http://127.0.0.1:PORT`) and writes `request` as it is.
    pub async fn send(base: &str, request: &[u8]) -> RawHttp {
        let mut stream = TcpStream::connect(authority(base))
            .await
            .unwrap_or_else(|e| panic!("connect to {base}: {e}"));
        stream.set_nodelay(true).expect("nodelay");
        stream.write_all(request).await.expect("write request");
        RawHttp {
            stream,
            seen: Vec::new(),
        }
    }

    /// The bytes of `POST path` with a JSON body.
    pub fn post_json_request(base: &str, path: &str, body: &Value) -> Vec<u8> {
        let body = body.to_string();
        format!(
            "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            authority(base),
            body.len()
        )
        .into_bytes()
    }

    /// The bytes of `GET path`.
    pub fn get_request(base: &str, path: &str) -> Vec<u8> {
        format!("GET {path} HTTP/1.1\r\nhost: {}\r\n\r\n", authority(base)).into_bytes()
    }

    /// Connects and sends `POST path` with a JSON body.
    pub async fn post_json(base: &str, path: &str, body: &Value) -> RawHttp {
        Self::send(base, &Self::post_json_request(base, path, body)).await
    }

    /// Connects and sends `GET path`.
    pub async fn get(base: &str, path: &str) -> RawHttp {
        Self::send(base, &Self::get_request(base, path)).await
    }

    /// Everything read so far, as text.
    pub fn seen(&self) -> String {
        String::from_utf8_lossy(&self.seen).into_owned()
    }

    /// The body read so far, without the head, de-chunked when the response is chunked (a
    /// trailing partial chunk is left out).
    pub fn body(&self) -> String {
        let seen = &self.seen[..];
        let Some(head_end) = seen.windows(4).position(|w| w == b"\r\n\r\n") else {
            return String::new();
        };
        let head = String::from_utf8_lossy(&seen[..head_end]).to_ascii_lowercase();
        let mut rest = &seen[head_end + 4..];
        if !head.contains("transfer-encoding: chunked") {
            return String::from_utf8_lossy(rest).into_owned();
        }
        let mut body = Vec::new();
        while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = std::str::from_utf8(&rest[..line_end])
                .ok()
                .and_then(|l| {
                    usize::from_str_radix(l.split(';').next().unwrap_or("").trim(), 16).ok()
                })
                .unwrap_or_else(|| panic!("bad chunk size line in {:?}", self.seen()));
            let start = line_end + 2;
            if size == 0 || rest.len() < start + size + 2 {
                break;
            }
            body.extend_from_slice(&rest[start..start + size]);
            rest = &rest[start + size + 2..];
        }
        String::from_utf8_lossy(&body).into_owned()
    }

    /// How many bytes were read so far.
    pub fn bytes_read(&self) -> usize {
        self.seen.len()
    }

    /// Reads until `needle` has been seen (in everything read so far) and returns all of it;
    /// panics after `within` or when the server closes first.
    pub async fn read_until(&mut self, needle: &str, within: Duration) -> String {
        self.read_until_count(needle, 1, within).await
    }

    /// Reads until `needle` has been seen `count` times; panics after `within` or when the
    /// server closes first.
    pub async fn read_until_count(
        &mut self,
        needle: &str,
        count: usize,
        within: Duration,
    ) -> String {
        let deadline = tokio::time::Instant::now() + within;
        let mut buf = vec![0u8; 16 * 1024];
        while self.seen().matches(needle).count() < count {
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await;
            match read {
                Err(_) => panic!(
                    "{needle:?} did not arrive within {within:?}; read so far: {}",
                    self.seen()
                ),
                Ok(Ok(0)) => panic!(
                    "the server closed before {needle:?}; read so far: {}",
                    self.seen()
                ),
                Ok(Ok(n)) => self.seen.extend_from_slice(&buf[..n]),
                Ok(Err(e)) => panic!("read failed before {needle:?}: {e}"),
            }
        }
        self.seen()
    }

    /// Reads whatever arrives within `within` (at most `limit` bytes), returning how many bytes
    /// that was. Stops early at end of stream.
    pub async fn read_for(&mut self, within: Duration, limit: usize) -> usize {
        let deadline = tokio::time::Instant::now() + within;
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0;
        while total < limit {
            let want = buf.len().min(limit - total);
            match tokio::time::timeout_at(deadline, self.stream.read(&mut buf[..want])).await {
                Ok(Ok(0)) | Err(_) => break,
                Ok(Ok(n)) => {
                    total += n;
                    self.seen.extend_from_slice(&buf[..n]);
                }
                Ok(Err(e)) => panic!("read failed: {e}"),
            }
        }
        total
    }

    /// Closes the connection (the client goes away) and returns the moment just before.
    pub fn close(self) -> Instant {
        let at = Instant::now();
        drop(self.stream);
        at
    }
}
