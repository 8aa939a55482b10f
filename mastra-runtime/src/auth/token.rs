//! Where a token is read from: `Authorization: Bearer`, the `?apiKey=` query parameter, a
//! cookie. Reading borrows from the request and allocates only to percent-decode a query value.

use std::borrow::Cow;

use actix_web::{http::header, HttpRequest};
use percent_encoding::percent_decode_str;

/// The query parameter Mastra reads a token from when there is no `Authorization` header.
pub const DEFAULT_API_KEY_PARAM: &str = "apiKey";
/// The longest token read (16 KiB). A JWT with a generous set of claims is a few kilobytes;
/// anything longer is refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Which request parts a token may come from, tried in this order: the `Authorization`
/// header (always; the `Bearer` scheme is required, matched in any letter case), the
/// `?apiKey=` query parameter (Mastra's fallback; on by default), a named cookie (off by
/// default).
///
/// When an `Authorization` header is present it is the only source read: a header that is not
/// one well-formed `Bearer` credential is refused, never passed over for another source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSources {
    pub(crate) api_key_param: Option<String>,
    pub(crate) cookie: Option<String>,
}

impl Default for TokenSources {
    fn default() -> Self {
        Self {
            api_key_param: Some(DEFAULT_API_KEY_PARAM.to_owned()),
            cookie: None,
        }
    }
}

/// What the request presents.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Presented<'a> {
    /// One token.
    Token(Cow<'a, str>),
    /// No credentials at all.
    Missing,
    /// Credentials that are not a usable token (wrong scheme, empty, two of them, not
    /// visible ASCII, too long).
    Malformed(&'static str),
}

impl TokenSources {
    /// The query parameter read (`apiKey`), if that source is on.
    pub fn api_key_param(&self) -> Option<&str> {
        self.api_key_param.as_deref()
    }

    /// The cookie read, if one is named.
    pub fn cookie(&self) -> Option<&str> {
        self.cookie.as_deref()
    }

    /// Reads the token of `req`.
    pub(crate) fn extract<'a>(&self, req: &'a HttpRequest) -> Presented<'a> {
        let mut authorization = req.headers().get_all(header::AUTHORIZATION);
        if let Some(first) = authorization.next() {
            if authorization.next().is_some() {
                return Presented::Malformed("more than one Authorization header");
            }
            return match first.to_str() {
                Ok(value) => bearer(value),
                Err(_) => Presented::Malformed("Authorization header is not visible ASCII"),
            };
        }
        if let Some(param) = &self.api_key_param {
            match query_value(req.query_string(), param) {
                QueryValue::Absent => {}
                QueryValue::Repeated => return Presented::Malformed("apiKey given more than once"),
                QueryValue::One(raw) => {
                    return match percent_decode_str(raw).decode_utf8() {
                        Ok(token) => checked(token),
                        Err(_) => Presented::Malformed("apiKey is not UTF-8"),
                    }
                }
            }
        }
        if let Some(name) = &self.cookie {
            for value in req.headers().get_all(header::COOKIE) {
                let Ok(value) = value.to_str() else { continue };
                if let Some(token) = cookie_value(value, name) {
                    return checked(Cow::Borrowed(token));
                }
            }
        }
        Presented::Missing
    }
}

/// `Bearer <token>`, the scheme in any case, one or more spaces, a `b64token` (RFC 6750 2.1).
fn bearer(value: &str) -> Presented<'_> {
    let Some((scheme, rest)) = value.split_once(' ') else {
        return Presented::Malformed("Authorization is not `Bearer <token>`");
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Presented::Malformed("Authorization scheme is not Bearer");
    }
    let token = rest.trim_start_matches(' ');
    let body = token.trim_end_matches('=');
    let b64 = |b: u8| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
    if body.is_empty() || !body.bytes().all(b64) {
        return Presented::Malformed("Bearer credential is not a b64token");
    }
    checked(Cow::Borrowed(token))
}

/// A non-empty run of visible ASCII no longer than [`MAX_TOKEN_BYTES`].
fn checked(token: Cow<'_, str>) -> Presented<'_> {
    if token.is_empty() {
        Presented::Malformed("empty token")
    } else if token.len() > MAX_TOKEN_BYTES {
        Presented::Malformed("token longer than the limit")
    } else if !token.bytes().all(|b| b.is_ascii_graphic()) {
        Presented::Malformed("token is not visible ASCII")
    } else {
        Presented::Token(token)
    }
}

enum QueryValue<'a> {
    Absent,
    One(&'a str),
    Repeated,
}

fn query_value<'a>(query: &'a str, name: &str) -> QueryValue<'a> {
    let mut found = QueryValue::Absent;
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == name {
            if !matches!(found, QueryValue::Absent) {
                return QueryValue::Repeated;
            }
            found = QueryValue::One(value);
        }
    }
    found
}

/// The value of cookie `name` in one `Cookie` header (RFC 6265 5.4: `a=1; b=2`), unquoted.
fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then(|| {
            let value = value.trim();
            value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn sources() -> TokenSources {
        TokenSources {
            api_key_param: Some("apiKey".into()),
            cookie: Some("session".into()),
        }
    }

    fn token(p: Presented<'_>) -> Option<String> {
        match p {
            Presented::Token(t) => Some(t.into_owned()),
            _ => None,
        }
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_required() {
        for value in [
            "Bearer abc.def.ghi",
            "bearer abc.def.ghi",
            "BEARER  abc.def.ghi",
        ] {
            let req = TestRequest::default()
                .insert_header(("authorization", value))
                .to_http_request();
            assert_eq!(
                token(sources().extract(&req)).as_deref(),
                Some("abc.def.ghi"),
                "{value}"
            );
        }
        for value in [
            "abc.def.ghi",
            "Basic abc",
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Token abc",
        ] {
            let req = TestRequest::default()
                .insert_header(("authorization", value))
                .to_http_request();
            assert!(
                matches!(sources().extract(&req), Presented::Malformed(_)),
                "{value}"
            );
        }
    }

    #[test]
    fn an_authorization_header_is_never_passed_over_for_the_query() {
        let req = TestRequest::with_uri("/x?apiKey=good")
            .insert_header(("authorization", "Basic abc"))
            .to_http_request();
        assert!(matches!(sources().extract(&req), Presented::Malformed(_)));
    }

    #[test]
    fn api_key_query_and_cookie_are_fallbacks_in_order() {
        let req = TestRequest::with_uri("/x?a=1&apiKey=q%2Etoken").to_http_request();
        assert_eq!(token(sources().extract(&req)).as_deref(), Some("q.token"));
        let req = TestRequest::with_uri("/x?apiKey=a&apiKey=b").to_http_request();
        assert!(matches!(sources().extract(&req), Presented::Malformed(_)));
        let req = TestRequest::with_uri("/x?apiKey=").to_http_request();
        assert!(matches!(sources().extract(&req), Presented::Malformed(_)));
        let req = TestRequest::default()
            .insert_header(("cookie", "theme=dark; session=\"c.token\""))
            .to_http_request();
        assert_eq!(token(sources().extract(&req)).as_deref(), Some("c.token"));
        let off = TokenSources {
            api_key_param: None,
            cookie: None,
        };
        let req = TestRequest::with_uri("/x?apiKey=q").to_http_request();
        assert_eq!(off.extract(&req), Presented::Missing);
    }

    #[test]
    fn oversized_tokens_are_refused_before_parsing() {
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES + 1));
        let req = TestRequest::default()
            .insert_header(("authorization", long))
            .to_http_request();
        assert!(matches!(sources().extract(&req), Presented::Malformed(_)));
    }
}
