//! What a client is told when its request body could not be read: `413` past the size limit,
//! `408` past the body read timeout, otherwise `400`, always in plain words. actix-http's own
//! messages for these failures show Rust debug text (`payload reached EOF before completing:
//! Some(Custom { kind: UnexpectedEof, .. })` for a truncated gzip body), so none of them is
//! passed on.

use std::io;

use actix_web::{
    error::{JsonPayloadError, PayloadError, UrlencodedError},
    http::StatusCode,
};

use crate::error::ApiError;

/// The message of the `408` answered to a body that took too long.
pub(crate) const BODY_TIMED_OUT: &str = "Request body timed out";

/// Marks the error the app-wide layer ends a too-slow body with, so a body read timeout is
/// told apart from a socket's own `ETIMEDOUT`.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within the body read timeout")]
pub(crate) struct BodyTimedOut;

/// The payload error a body past its read timeout ends with.
pub(crate) fn body_timed_out() -> PayloadError {
    PayloadError::Io(io::Error::new(io::ErrorKind::TimedOut, BodyTimedOut))
}

/// The payload error behind `error`, from actix-web's body extractors (`Bytes`, `String`,
/// `web::Json`, `web::Form`) or a stream read by hand.
pub(crate) fn payload_error(error: &actix_web::Error) -> Option<&PayloadError> {
    if let Some(payload) = error.as_error::<PayloadError>() {
        return Some(payload);
    }
    match error.as_error::<JsonPayloadError>() {
        Some(JsonPayloadError::Payload(payload)) => return Some(payload),
        Some(_) => return None,
        None => {}
    }
    match error.as_error::<UrlencodedError>() {
        Some(UrlencodedError::Payload(payload)) => Some(payload),
        _ => None,
    }
}

/// The answer to a body that could not be read because of `error`.
pub(crate) fn body_read_refusal(error: &PayloadError) -> ApiError {
    let reason = match error {
        PayloadError::Overflow => {
            return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
        }
        PayloadError::Io(io) if is_body_timeout(io) => {
            return ApiError::new(StatusCode::REQUEST_TIMEOUT, BODY_TIMED_OUT)
        }
        // actix-http's decoders report a corrupt or truncated gzip/deflate body this way.
        PayloadError::Incomplete(Some(_)) | PayloadError::EncodingCorrupted => {
            "its Content-Encoding could not be decoded"
        }
        PayloadError::Incomplete(None) => "it ended before it was complete",
        PayloadError::UnknownLength => "its length is unknown",
        PayloadError::Io(io) => match io.kind() {
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput => {
                "its Content-Encoding could not be decoded"
            }
            _ => "the connection failed while it arrived",
        },
        _ => "it could not be read",
    };
    ApiError::bad_request(format!("Failed to read request body: {reason}"))
}

fn is_body_timeout(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<BodyTimedOut>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_payload_error_reads_as_plain_words() {
        let decoder = io::Error::new(io::ErrorKind::UnexpectedEof, "incomplete deflate stream");
        let cases = [
            (PayloadError::Incomplete(Some(decoder)), 400),
            (PayloadError::Incomplete(None), 400),
            (PayloadError::EncodingCorrupted, 400),
            (PayloadError::UnknownLength, 400),
            (PayloadError::Overflow, 413),
            (body_timed_out(), 408),
            (
                PayloadError::Io(io::Error::from(io::ErrorKind::TimedOut)),
                400,
            ),
            (
                PayloadError::Io(io::Error::from(io::ErrorKind::ConnectionReset)),
                400,
            ),
        ];
        for (error, status) in cases {
            let refusal = body_read_refusal(&error);
            assert_eq!(refusal.status().as_u16(), status, "{error:?}");
            let message = refusal.body()["error"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            for debug in ["Some(", "None", "Custom", "kind:", "{", "("] {
                assert!(!message.contains(debug), "{message}");
            }
        }
    }

    #[test]
    fn payload_errors_are_found_inside_the_extractors_errors() {
        let json: actix_web::Error = JsonPayloadError::Payload(body_timed_out()).into();
        assert!(payload_error(&json).is_some());
        let form: actix_web::Error = UrlencodedError::Payload(PayloadError::Overflow).into();
        assert!(matches!(payload_error(&form), Some(PayloadError::Overflow)));
        let other: actix_web::Error = JsonPayloadError::ContentType.into();
        assert!(payload_error(&other).is_none());
    }
}
