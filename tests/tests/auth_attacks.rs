//! The attack matrix: every forged, damaged or misplaced credential is refused with a 4xx,
//! never a 5xx, and never reaches the handler. Each test also shows the same server accepting
//! a good token, so a refusal is the token's doing.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use mastra_runtime::{
    auth::{Algorithm, JwtAuth},
    prelude::*,
};
use mastra_tests::{
    jwt::{claims, forge, hmac, hs256, key_bytes, now, private_key, sign, with_payload, SECRET},
    test_config, Reply, TestServer,
};
use reqwest::{header::HeaderValue, Method};

/// A server whose only route counts the requests that reach it.
struct Target {
    server: TestServer,
    reached: Arc<AtomicUsize>,
}

impl Target {
    async fn start(auth: JwtAuth) -> Self {
        let reached = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&reached);
        let route = ApiRoute::get("/secret").create_handler(move |_: &Mastra| {
            move || {
                let counter = Arc::clone(&counter);
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    "the secret"
                }
            }
        });
        let server = TestServer::start(
            Mastra::builder()
                .without_annotated_routes()
                .server(test_config().auth(auth))
                .route(route),
        )
        .await;
        Target { server, reached }
    }

    async fn with_header(&self, value: impl Into<Vec<u8>>) -> Reply {
        self.with_headers([value.into()]).await
    }

    /// A request with one `Authorization` header per value, in order.
    async fn with_headers(&self, values: impl IntoIterator<Item = Vec<u8>>) -> Reply {
        let mut request = self.server.request(Method::GET, "/secret");
        for value in values {
            let value = HeaderValue::from_bytes(&value).expect("header bytes");
            request = request.header("authorization", value);
        }
        self.server.send(request).await
    }

    async fn bearer(&self, token: &str) -> Reply {
        self.with_header(format!("Bearer {token}")).await
    }

    /// The request was refused: a 4xx (401 with the one body, when the server answered it
    /// itself), and the handler never ran.
    #[track_caller]
    fn assert_refused(&self, reply: &Reply, what: &str) {
        let status = reply.status.as_u16();
        assert!(
            (400..500).contains(&status),
            "{what}: expected a 4xx, got {status}: {}",
            reply.text
        );
        if status == 401 {
            assert_eq!(reply.json()["error"], "Invalid or expired token", "{what}");
            assert!(
                reply
                    .header("www-authenticate")
                    .is_some_and(|h| h.starts_with("Bearer")),
                "{what}: {reply:?}"
            );
        }
        assert!(!reply.text.contains("the secret"), "{what}: {}", reply.text);
        assert_eq!(
            self.reached.load(Ordering::SeqCst),
            0,
            "{what}: the handler ran"
        );
    }

    async fn assert_good_token_works(&self, token: &str) {
        let reply = self.bearer(token).await;
        reply.assert_status(200);
        assert_eq!(reply.text, "the secret");
        self.reached.store(0, Ordering::SeqCst);
    }
}

/// An HS256 server, and a good token it has been seen to accept.
async fn hs256_target() -> (Target, String) {
    let target = Target::start(JwtAuth::hs256(SECRET).expect("secret")).await;
    let good = hs256(&claims("user"));
    target.assert_good_token_works(&good).await;
    (target, good)
}

async fn rs256_target() -> Target {
    Target::start(
        JwtAuth::public_key_pem(key_bytes("rsa1-public.pem"), &[Algorithm::RS256]).expect("key"),
    )
    .await
}

#[tokio::test]
async fn alg_none_is_refused() {
    for target in [hs256_target().await.0, rs256_target().await] {
        let payload = claims("attacker");
        for alg in ["none", "None", "NONE", "nOnE"] {
            let token = forge(&json!({ "alg": alg, "typ": "JWT" }), &payload, "");
            target.assert_refused(&target.bearer(&token).await, alg);
            let token = forge(&json!({ "alg": alg }), &payload, "c2ln");
            target.assert_refused(&target.bearer(&token).await, alg);
        }
    }
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_is_refused_by_an_rs256_server() {
    let target = rs256_target().await;
    let rs = sign(
        Algorithm::RS256,
        &private_key("rsa1", Algorithm::RS256),
        None,
        &claims("u"),
    );
    target.assert_good_token_works(&rs).await;
    // The classic key confusion: the public key, known to everyone, used as an HMAC secret.
    let public_pem = key_bytes("rsa1-public.pem");
    let forged = hmac(Algorithm::HS256, &public_pem, &claims("attacker"));
    target.assert_refused(&target.bearer(&forged).await, "HS256 with PEM bytes");
    let trimmed = String::from_utf8(public_pem)
        .expect("pem")
        .trim()
        .to_owned();
    let forged = hmac(Algorithm::HS256, trimmed.as_bytes(), &claims("attacker"));
    target.assert_refused(&target.bearer(&forged).await, "HS256 with trimmed PEM");
}

#[tokio::test]
async fn an_hs512_token_is_refused_by_an_hs256_only_server() {
    let (target, _) = hs256_target().await;
    let hs512 = hmac(Algorithm::HS512, SECRET.as_bytes(), &claims("u"));
    target.assert_refused(&target.bearer(&hs512).await, "HS512");
    let hs384 = hmac(Algorithm::HS384, SECRET.as_bytes(), &claims("u"));
    target.assert_refused(&target.bearer(&hs384).await, "HS384");
}

#[tokio::test]
async fn tampered_and_truncated_tokens_are_refused() {
    let (target, good) = hs256_target().await;
    let mut escalated = claims("user");
    escalated["role"] = "admin".into();
    target.assert_refused(
        &target.bearer(&with_payload(&good, &escalated)).await,
        "tampered payload",
    );
    target.assert_refused(
        &target.bearer(&good[..good.len() - 5]).await,
        "truncated signature",
    );
    let two_parts: String = good.rsplit_once('.').expect("head").0.to_owned();
    target.assert_refused(&target.bearer(&two_parts).await, "signature removed");
    target.assert_refused(
        &target.bearer(&format!("{two_parts}.")).await,
        "empty signature",
    );
    target.assert_refused(&target.bearer(&good[..10]).await, "first ten bytes");
    let mut flipped = good.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    target.assert_refused(
        &target
            .bearer(&String::from_utf8(flipped).expect("ascii"))
            .await,
        "flipped signature",
    );
}

#[tokio::test]
async fn malformed_authorization_headers_are_refused() {
    let (target, good) = hs256_target().await;
    for (what, value) in [
        ("empty Bearer", "Bearer ".to_owned()),
        ("Bearer alone", "Bearer".to_owned()),
        ("no scheme (Mastra accepted this)", good.clone()),
        ("Basic scheme", format!("Basic {good}")),
        ("Token scheme", format!("Token {good}")),
        ("Bearer with two tokens", format!("Bearer {good} {good}")),
        ("empty header", String::new()),
    ] {
        target.assert_refused(&target.with_header(value).await, what);
    }
    let mut non_ascii = b"Bearer ".to_vec();
    non_ascii.extend_from_slice(good.as_bytes());
    non_ascii.extend_from_slice(&[0xC3, 0xA9, 0xFF]);
    target.assert_refused(&target.with_header(non_ascii).await, "non-ASCII bytes");
    target.assert_refused(
        &target
            .with_header(b"Bearer \xE2\x82\xAC.\xE2\x82\xAC.x".to_vec())
            .await,
        "UTF-8 token",
    );
}

#[tokio::test]
async fn two_authorization_headers_are_refused_even_if_both_are_valid() {
    let (target, good) = hs256_target().await;
    let bearer = format!("Bearer {good}").into_bytes();
    let reply = target.with_headers([bearer.clone(), bearer.clone()]).await;
    target.assert_refused(&reply, "two Authorization headers");
    let reply = target.with_headers([b"Bearer junk".to_vec(), bearer]).await;
    target.assert_refused(&reply, "junk then valid");
}

#[tokio::test]
async fn a_64_kib_token_is_refused_without_a_server_error() {
    let (target, _) = hs256_target().await;
    let mut big = claims("user");
    big["padding"] = "x".repeat(64 * 1024).into();
    let token = hs256(&big);
    assert!(token.len() > 64 * 1024);
    // Valid signature, but far past the token limit (and actix-web's header limit).
    let reply = target.bearer(&token).await;
    target.assert_refused(&reply, "64 KiB token");
    // Through the query string too.
    let reply = target
        .server
        .get(&format!("/secret?apiKey={}", &token[..20_000]))
        .await;
    target.assert_refused(&reply, "20 KB apiKey");
}

#[tokio::test]
async fn expired_premature_and_misaddressed_tokens_are_refused() {
    let target = Target::start(
        JwtAuth::hs256(SECRET)
            .expect("secret")
            .issuer("https://issuer.test")
            .audience("mastra-api"),
    )
    .await;
    let base = json!({ "sub": "u", "iss": "https://issuer.test", "aud": "mastra-api", "exp": now() + 3600 });
    target.assert_good_token_works(&hs256(&base)).await;
    let with = |key: &str, value: serde_json::Value| {
        let mut c = base.clone();
        c[key] = value;
        c
    };
    let cases = [
        ("expired", with("exp", json!(now() - 3600))),
        ("expired past the leeway", with("exp", json!(now() - 120))),
        ("nbf in the future", with("nbf", json!(now() + 3600))),
        ("wrong issuer", with("iss", json!("https://evil.test"))),
        ("wrong audience", with("aud", json!("other-api"))),
        ("exp as a string", with("exp", json!("tomorrow"))),
        ("exp negative", with("exp", json!(-1))),
        ("exp huge float", with("exp", json!(1e300))),
    ];
    for (what, claims) in cases {
        target.assert_refused(&target.bearer(&hs256(&claims)).await, what);
    }
    let mut no_exp = base.clone();
    no_exp.as_object_mut().expect("object").remove("exp");
    target.assert_refused(&target.bearer(&hs256(&no_exp)).await, "no exp");
    let mut no_iss = base.clone();
    no_iss.as_object_mut().expect("object").remove("iss");
    target.assert_refused(&target.bearer(&hs256(&no_iss)).await, "no iss");
    let mut no_aud = base;
    no_aud.as_object_mut().expect("object").remove("aud");
    target.assert_refused(&target.bearer(&hs256(&no_aud)).await, "no aud");
    target.assert_refused(
        &target.bearer(&hs256(&json!(["not", "an", "object"]))).await,
        "array claims",
    );
}
