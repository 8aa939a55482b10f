//! Limits on what a client may send and hold: the request head (target length, header size),
//! the time to send the head and the body, and the connections one worker keeps open. The head
//! limits are checked before any routing so an oversized request gets its own status and a JSON
//! body; the body's time is enforced where every body read goes through (the app-wide layer
//! wraps the request's payload).
//!
//! actix-http parses the head first and has bounds of its own that sit far above these
//! ([`HTTP_PARSER_HEAD_BUFFER`], [`HTTP_PARSER_MAX_HEADERS`]): a head past them is refused by
//! the HTTP parser itself, before any application code runs, with a bodiless `431` and the
//! connection closed (a head it cannot parse at all gets a bodiless `400`). actix-http offers no
//! hook to give those answers a body. Everything below those bounds reaches the app-wide layer's
//! head check, which answers `414` or `431` with `{"error": "..."}` like every other refusal.

use std::time::Duration;

use actix_web::{dev::ServiceRequest, http::StatusCode};
use serde_json::Value;

use crate::error::ApiError;

/// Longest request target (path and query, as sent) accepted: 8 KiB. RFC 9110 section 4.1
/// recommends supporting at least 8000 octets, and 8 KiB is the common proxy default (nginx's
/// `large_client_header_buffers`); longer targets get `414 URI Too Long`.
pub const DEFAULT_MAX_URL_BYTES: usize = 8 * 1024;

/// Largest total size of the request's header fields (each counted as `name: value` plus its
/// line end): 32 KiB. Node.js, which serves Mastra, answers 431 past 16 KiB of head; this is
/// twice that, so the longest token the auth layer reads
/// ([`MAX_TOKEN_BYTES`](crate::auth::MAX_TOKEN_BYTES), 16 KiB) fits with room for cookies.
/// Larger heads get `431 Request Header Fields Too Large`.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 32 * 1024;

/// How long a client may take to send a complete request head (actix-web's default, 5 s). A
/// client slower than that (one byte a second, a stalled proxy) is answered `408` and
/// disconnected; it never holds up other connections, which are served by the same workers
/// in the meantime.
pub const DEFAULT_CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// actix-http's buffer for one request head (128 KiB): a head still incomplete past it is
/// refused by the HTTP parser with a bodiless `431` before the application sees it. Stated
/// here so the limits above are known to sit below it.
pub const HTTP_PARSER_HEAD_BUFFER: usize = 131_072;

/// actix-http's most header fields in one request (96): more is refused by the HTTP parser
/// with a bodiless `431 Request Header Fields Too Large` and the connection closed.
pub const HTTP_PARSER_MAX_HEADERS: usize = 96;

/// The longest a request body may take to arrive, counted from the application's first read of
/// it: 30 s. A 4.5 MB body at the limit needs 150 KiB/s to make it; a client slower than that,
/// or one that trickles a few bytes at a time to hold a connection open, is answered
/// `408 {"error":"Request body timed out"}` and disconnected. Separate from the handler's
/// [`DEFAULT_TIMEOUT`](super::DEFAULT_TIMEOUT), which would otherwise let a trickling body hold
/// its connection (and a file descriptor) for three minutes.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The slowest average rate, in bytes per second, at which a body may arrive once
/// [`BODY_MIN_RATE_GRACE`] has passed: 1 KiB/s, about what Apache's `mod_reqtimeout` asks
/// (`MinRate=500`) doubled. A body that falls below it is cut like one past the read timeout, so
/// a client dripping a byte a second holds its connection for the grace, not the whole timeout.
/// `0` turns the rate check off.
pub const DEFAULT_BODY_MIN_RATE: u64 = 1024;

/// How long a body may arrive at any rate before [`DEFAULT_BODY_MIN_RATE`] (or the configured
/// rate) applies: 5 s, as long as a client has for its whole head
/// ([`DEFAULT_CLIENT_REQUEST_TIMEOUT`]), so a first round trip or a paused sender is not cut.
pub const BODY_MIN_RATE_GRACE: Duration = Duration::from_secs(5);

/// actix-web's own ceiling of concurrent connections per worker (25 600): the most the default
/// cap ever allows.
pub const ACTIX_MAX_CONNECTIONS_PER_WORKER: usize = 25_600;

/// The listen backlog of a server that binds its own socket
/// ([`Mastra::start`](crate::Mastra::start), [`Mastra::serve`](crate::Mastra::serve)):
/// actix-web's default, 1 024, where the standard library's `bind` leaves 128. Connections past
/// the connection cap wait here in the order they came; past the backlog the kernel drops new
/// connection attempts, which clients retry only after a second or more.
pub const LISTEN_BACKLOG: i32 = 1024;

/// The share of the process's open-file limit the default connection cap spends on client
/// connections: one half. The other half is left for the listener, the storage, log files and
/// the outgoing connections handlers open (a model call is one), so a flood of clients cannot
/// leave the server without a descriptor for its own work.
const CLIENT_SHARE_OF_OPEN_FILES: u64 = 2;

/// The request-head limits the app-wide layer enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeadLimits {
    pub(crate) max_url_bytes: usize,
    pub(crate) max_header_bytes: usize,
}

impl HeadLimits {
    /// The refusal for a request whose target or headers are over the limits, if any. The
    /// target is checked first: a request over both limits is a 414.
    pub(crate) fn check(&self, req: &ServiceRequest) -> Option<ApiError> {
        let target = req
            .uri()
            .path_and_query()
            .map_or(0, |target| target.as_str().len());
        if target > self.max_url_bytes {
            return Some(
                ApiError::new(StatusCode::URI_TOO_LONG, "Request URI too long")
                    .with_field("limit", Value::from(self.max_url_bytes)),
            );
        }
        let mut total = 0usize;
        for (name, value) in req.headers() {
            // `name: value\r\n`
            total += name.as_str().len() + value.len() + 4;
            if total > self.max_header_bytes {
                return Some(
                    ApiError::new(
                        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                        "Request header fields too large",
                    )
                    .with_field("limit", Value::from(self.max_header_bytes)),
                );
            }
        }
        None
    }
}

/// How long a request body may take and how slowly it may arrive; see
/// [`DEFAULT_BODY_READ_TIMEOUT`] and [`DEFAULT_BODY_MIN_RATE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyLimits {
    /// Largest body, in bytes.
    pub(crate) max_bytes: usize,
    /// The longest the whole body may take, from the first read.
    pub(crate) read_timeout: Duration,
    /// The slowest average rate after [`BODY_MIN_RATE_GRACE`], in bytes per second; `0` for none.
    pub(crate) min_rate: u64,
}

impl BodyLimits {
    /// How long, from the first read, a body that has delivered `received` bytes so far may
    /// still take: the read timeout, or sooner when it has fallen below the minimum rate (at
    /// `min_rate`, `received` bytes buy `received / min_rate` seconds, never less than the
    /// grace).
    pub(crate) fn allowed(&self, received: u64) -> Duration {
        if self.min_rate == 0 {
            return self.read_timeout;
        }
        let earned = Duration::from_secs(received / self.min_rate)
            + Duration::from_nanos((received % self.min_rate) * 1_000_000_000 / self.min_rate);
        earned.max(BODY_MIN_RATE_GRACE).min(self.read_timeout)
    }
}

/// The default cap of concurrent connections per worker: half the process's open-file limit
/// (`RLIMIT_NOFILE`, soft) shared between `workers`, at least one and at most
/// [`ACTIX_MAX_CONNECTIONS_PER_WORKER`]; that ceiling where the limit cannot be read or is
/// unlimited.
pub(crate) fn default_max_connections(workers: usize) -> usize {
    let Some(open_files) = open_file_limit() else {
        return ACTIX_MAX_CONNECTIONS_PER_WORKER;
    };
    let per_worker = open_files / CLIENT_SHARE_OF_OPEN_FILES / workers.max(1) as u64;
    usize::try_from(per_worker)
        .unwrap_or(usize::MAX)
        .clamp(1, ACTIX_MAX_CONNECTIONS_PER_WORKER)
}

/// The soft `RLIMIT_NOFILE` of this process, `None` when unlimited or unknown.
#[cfg(unix)]
fn open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` through the pointer, which points at a live,
    // properly aligned local of that type.
    #[allow(unsafe_code)]
    let status = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    // `rlim_t` is narrower than `u64` on some targets.
    #[allow(clippy::unnecessary_cast)]
    let soft = limit.rlim_cur as u64;
    (status == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(soft)
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn a_body_earns_time_at_the_minimum_rate_between_the_grace_and_the_timeout() {
        let limits = BodyLimits {
            max_bytes: 1 << 20,
            read_timeout: Duration::from_secs(30),
            min_rate: 1000,
        };
        assert_eq!(limits.allowed(0), BODY_MIN_RATE_GRACE);
        assert_eq!(limits.allowed(4_999), BODY_MIN_RATE_GRACE);
        assert_eq!(limits.allowed(12_500), Duration::from_millis(12_500));
        assert_eq!(limits.allowed(1 << 20), Duration::from_secs(30));
        let no_rate = BodyLimits {
            min_rate: 0,
            ..limits
        };
        assert_eq!(no_rate.allowed(0), Duration::from_secs(30));
        let short = BodyLimits {
            read_timeout: Duration::from_secs(2),
            ..limits
        };
        assert_eq!(short.allowed(0), Duration::from_secs(2));
    }

    #[test]
    fn the_default_connection_cap_leaves_half_the_open_files_to_the_server() {
        let cap = default_max_connections(1);
        assert!((1..=ACTIX_MAX_CONNECTIONS_PER_WORKER).contains(&cap));
        if let Some(open_files) = open_file_limit() {
            assert!(
                cap as u64 <= open_files / 2 || cap == 1,
                "{cap} of {open_files}"
            );
        }
        assert!(default_max_connections(4) <= cap);
    }

    const _LIMITS_SIT_BELOW_THE_PARSER: () = assert!(
        DEFAULT_MAX_URL_BYTES + DEFAULT_MAX_HEADER_BYTES < HTTP_PARSER_HEAD_BUFFER
            && crate::auth::MAX_TOKEN_BYTES < DEFAULT_MAX_HEADER_BYTES
    );

    #[test]
    fn a_long_target_is_414_and_large_headers_are_431() {
        let limits = HeadLimits {
            max_url_bytes: 16,
            max_header_bytes: 64,
        };
        let ok = TestRequest::with_uri("/a?b=c")
            .insert_header(("x-a", "b"))
            .to_srv_request();
        assert!(limits.check(&ok).is_none());

        let long = TestRequest::with_uri("/aaaaaaaaaaaaaaaaaaaa").to_srv_request();
        assert_eq!(limits.check(&long).map(|e| e.status().as_u16()), Some(414));

        let large = TestRequest::with_uri("/")
            .insert_header(("x-big", "v".repeat(64)))
            .to_srv_request();
        let error = limits.check(&large).expect("refused");
        assert_eq!(error.status().as_u16(), 431);
        assert_eq!(error.body()["limit"], 64);
    }
}
