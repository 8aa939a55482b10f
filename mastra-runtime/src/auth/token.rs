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
            return bearer(first.as_bytes());
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
///
/// Works on the header's bytes: the `b64token` check admits only ASCII, so a separate
/// visible-ASCII pass over the value (`HeaderValue::to_str`) would check every byte twice.
fn bearer(value: &[u8]) -> Presented<'_> {
    let Some(space) = value.iter().position(|&b| b == b' ') else {
        return Presented::Malformed("Authorization is not `Bearer <token>`");
    };
    let (scheme, rest) = (&value[..space], &value[space + 1..]);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Presented::Malformed("Authorization scheme is not Bearer");
    }
    let token = &rest[rest.iter().take_while(|&&b| b == b' ').count()..];
    let body = &token[..token.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1)];
    if body.is_empty() || !body.iter().all(|&b| B64TOKEN[usize::from(b)]) {
        return Presented::Malformed("Bearer credential is not a b64token");
    }
    // A b64token is visible ASCII by construction, so only the length is left to check.
    if token.len() > MAX_TOKEN_BYTES {
        return Presented::Malformed("token longer than the limit");
    }
    match std::str::from_utf8(token) {
        Ok(token) => Presented::Token(Cow::Borrowed(token)),
        Err(_) => Presented::Malformed("Bearer credential is not a b64token"),
    }
}

/// The bytes of a `b64token` (RFC 6750 2.1) before its trailing `=`: letters, digits and
/// `-._~+/`. A table, because every protected request checks each byte of its token.
const B64TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] =
            byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        b += 1;
    }
    table
};

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

/// Fuzz target: token extraction from the header, the query and cookies (see
/// `crate::fuzzing`).
#[cfg(test)]
mod props {
    use actix_web::{http::header::HeaderValue, test::TestRequest};
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    use proptest::{collection::vec, prelude::*};

    use super::*;

    fn sources() -> TokenSources {
        TokenSources {
            api_key_param: Some("apiKey".into()),
            cookie: Some("session".into()),
        }
    }

    /// What any token the extractor hands on must be.
    fn assert_sane(presented: &Presented<'_>) {
        if let Presented::Token(token) = presented {
            assert!(!token.is_empty());
            assert!(token.len() <= MAX_TOKEN_BYTES);
            assert!(token.bytes().all(|b| b.is_ascii_graphic()), "{token:?}");
        }
    }

    fn b64token() -> impl Strategy<Value = String> {
        "[A-Za-z0-9._~+/-]{1,300}={0,2}"
    }

    fn visible_token() -> impl Strategy<Value = String> {
        "[!-~]{1,200}"
    }

    proptest! {
        #![proptest_config(crate::fuzzing::config())]

        /// Arbitrary header bytes, query text and cookies: never a panic, and anything handed
        /// on as a token is a bounded run of visible ASCII.
        #[test]
        fn arbitrary_requests_never_yield_an_unsafe_token(
            authorization in proptest::option::of(vec(any::<u8>(), 0..400)),
            query in any::<String>(),
            cookies in vec(vec(any::<u8>(), 0..200), 0..3),
        ) {
            let target = format!("/x?{}", utf8_percent_encode(&query, NON_ALPHANUMERIC))
                .replace("%3D", "=")
                .replace("%26", "&");
            let mut req = TestRequest::with_uri(&target);
            if let Some(value) = authorization.and_then(|v| HeaderValue::from_bytes(&v).ok()) {
                req = req.append_header((header::AUTHORIZATION, value));
            }
            for cookie in cookies {
                if let Ok(value) = HeaderValue::from_bytes(&cookie) {
                    req = req.append_header((header::COOKIE, value));
                }
            }
            let req = req.to_http_request();
            assert_sane(&sources().extract(&req));
        }

        /// `Bearer <b64token>`, the scheme in any case and any number of spaces, reads exactly
        /// the token; a query or cookie token never replaces it.
        #[test]
        fn a_bearer_token_is_read_exactly_and_wins(
            token in b64token(),
            scheme in "[Bb][Ee][Aa][Rr][Ee][Rr]",
            spaces in 1usize..4,
            other in visible_token(),
        ) {
            let value = format!("{scheme}{}{token}", " ".repeat(spaces));
            let target = format!("/x?apiKey={}", utf8_percent_encode(&other, NON_ALPHANUMERIC));
            let req = TestRequest::with_uri(&target)
                .insert_header((header::AUTHORIZATION, value))
                .insert_header((header::COOKIE, format!("session={other}")))
                .to_http_request();
            let presented = sources().extract(&req);
            assert_sane(&presented);
            prop_assert_eq!(presented, Presented::Token(Cow::Borrowed(token.as_str())));
        }

        /// An `Authorization` header that is not one Bearer credential is refused, never
        /// passed over for the query or a cookie.
        #[test]
        fn a_malformed_header_is_never_passed_over(
            value in "[ -~]{0,80}",
            other in visible_token(),
        ) {
            let is_bearer = value
                .split_once(' ')
                .is_some_and(|(s, rest)| s.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty());
            prop_assume!(!is_bearer);
            let Ok(value) = HeaderValue::from_str(&value) else { return Ok(()) };
            let target = format!("/x?apiKey={}", utf8_percent_encode(&other, NON_ALPHANUMERIC));
            let req = TestRequest::with_uri(&target)
                .insert_header((header::AUTHORIZATION, value))
                .to_http_request();
            prop_assert!(matches!(sources().extract(&req), Presented::Malformed(_)));
        }

        /// `?apiKey=` among other parameters, percent-encoded any way: decoded exactly; given
        /// twice: refused.
        #[test]
        fn the_api_key_parameter_is_decoded_exactly(
            token in visible_token(),
            before in vec("[a-z]{1,6}=[a-z0-9%]{0,6}", 0..4),
            after in vec("[a-z]{1,6}=[a-z0-9]{0,6}", 0..4),
        ) {
            prop_assume!(before.iter().chain(&after).all(|p| !p.starts_with("apiKey=")));
            let encoded = utf8_percent_encode(&token, NON_ALPHANUMERIC).to_string();
            let mut pairs = before.clone();
            pairs.push(format!("apiKey={encoded}"));
            pairs.extend(after.iter().cloned());
            let req = TestRequest::with_uri(&format!("/x?{}", pairs.join("&"))).to_http_request();
            let presented = sources().extract(&req);
            assert_sane(&presented);
            prop_assert_eq!(presented, Presented::Token(Cow::Borrowed(token.as_str())));

            pairs.push(format!("apiKey={encoded}"));
            let req = TestRequest::with_uri(&format!("/x?{}", pairs.join("&"))).to_http_request();
            prop_assert!(matches!(sources().extract(&req), Presented::Malformed(_)));
        }

        /// The named cookie is found among others, quoted or not, in any position.
        #[test]
        fn the_session_cookie_is_found_among_others(
            token in "[A-Za-z0-9._~+/=-]{1,200}",
            others in vec(("[a-z]{1,8}", "[A-Za-z0-9]{0,12}"), 0..5),
            position in any::<prop::sample::Index>(),
            quoted in any::<bool>(),
        ) {
            prop_assume!(others.iter().all(|(name, _)| name != "session"));
            let mut pairs: Vec<String> = others.iter().map(|(n, v)| format!("{n}={v}")).collect();
            let value = if quoted { format!("\"{token}\"") } else { token.clone() };
            let at = position.index(pairs.len() + 1);
            pairs.insert(at, format!("session={value}"));
            let req = TestRequest::default()
                .insert_header((header::COOKIE, pairs.join("; ")))
                .to_http_request();
            let presented = sources().extract(&req);
            assert_sane(&presented);
            prop_assert_eq!(presented, Presented::Token(Cow::Borrowed(token.as_str())));
        }
    }
}
