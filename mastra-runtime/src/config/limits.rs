//! Limits on the request head (target length, header size) and on slow clients, checked before
//! any routing so an oversized request gets its own status and a JSON body.
//!
//! actix-http parses the head first and has bounds of its own that sit far above these
//! ([`HTTP_PARSER_HEAD_BUFFER`], [`HTTP_PARSER_MAX_HEADERS`]): a head past them is refused by
//! the HTTP parser itself, before any application code runs, with a bodiless 431 or 400 and the
//! connection closed. Everything below those bounds reaches the app-wide layer's head check,
//! which answers `414` or `431` with `{"error": "..."}` like every other refusal.

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
/// with a bodiless `400`.
pub const HTTP_PARSER_MAX_HEADERS: usize = 96;

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

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

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
