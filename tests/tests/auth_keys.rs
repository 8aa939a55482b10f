//! Public-key JWT verification (RS256, PS256, ES256, EdDSA from PEM) and JSON Web Key Sets from
//! a file and from an HTTP server started by the test on 127.0.0.1: caching, refresh on an
//! unknown `kid`, rotation, the refresh rate limit, an unreachable key server.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use mastra_runtime::{
    auth::{Algorithm, JwtAuth},
    prelude::*,
};
use mastra_tests::{
    jwt::{b64, claims, jwk, jwks, key_bytes, private_key, sign},
    test_config, Reply, TestServer,
};

async fn ok() -> &'static str {
    "ok"
}

async fn protected(auth: JwtAuth) -> TestServer {
    TestServer::start(
        Mastra::builder()
            .without_annotated_routes()
            .server(test_config().auth(auth))
            .route(ApiRoute::get("/x").handler(ok)),
    )
    .await
}

async fn call(server: &TestServer, token: &str) -> Reply {
    server
        .get_with_header("/x", "authorization", &format!("Bearer {token}"))
        .await
}

#[tokio::test]
async fn pem_public_keys_verify_their_own_algorithms_only() {
    // (key, pinned algorithm, another algorithm the same key can sign with)
    let cases = [
        ("rsa1", Algorithm::RS256, Some(Algorithm::RS384)),
        ("rsa1", Algorithm::PS256, Some(Algorithm::RS256)),
        ("ec", Algorithm::ES256, None),
        ("ed", Algorithm::EdDSA, None),
    ];
    for (name, alg, other) in cases {
        let auth = JwtAuth::public_key_pem(key_bytes(&format!("{name}-public.pem")), &[alg])
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        let server = protected(auth).await;
        let token = sign(alg, &private_key(name, alg), None, &claims("u"));
        call(&server, &token).await.assert_status(200);
        // Signed by another key of the same kind: refused.
        if alg == Algorithm::RS256 {
            let stranger = sign(alg, &private_key("rsa2", alg), None, &claims("u"));
            call(&server, &stranger).await.assert_status(401);
        }
        // Another algorithm the key could even verify: refused, it is not pinned.
        if let Some(other) = other {
            let token = sign(other, &private_key(name, other), None, &claims("u"));
            call(&server, &token).await.assert_status(401);
        }
        // The token's own signature under a header naming another algorithm: refused.
        let mut parts = token.splitn(2, '.');
        let _ = parts.next();
        let rest = parts.next().expect("payload and signature");
        let relabelled = format!("{}.{rest}", b64(br#"{"alg":"HS256","typ":"JWT"}"#));
        call(&server, &relabelled).await.assert_status(401);
    }
}

/// A JWKS server on 127.0.0.1 whose document the test changes, counting fetches.
struct KeyServer {
    server: TestServer,
    document: Arc<Mutex<serde_json::Value>>,
    fetches: Arc<AtomicUsize>,
}

impl KeyServer {
    async fn start(document: serde_json::Value) -> Self {
        let document = Arc::new(Mutex::new(document));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (doc, count) = (Arc::clone(&document), Arc::clone(&fetches));
        let route = ApiRoute::get("/.well-known/jwks.json")
            .requires_auth(false)
            .create_handler(move |_: &Mastra| {
                move || {
                    let (doc, count) = (Arc::clone(&doc), Arc::clone(&count));
                    async move {
                        count.fetch_add(1, Ordering::SeqCst);
                        let body = doc.lock().expect("lock").clone();
                        HttpResponse::Ok().json(body)
                    }
                }
            });
        let server = TestServer::start(
            Mastra::builder()
                .without_annotated_routes()
                .server(test_config())
                .route(route),
        )
        .await;
        KeyServer {
            server,
            document,
            fetches,
        }
    }

    fn url(&self) -> String {
        self.server.url("/.well-known/jwks.json")
    }

    fn serve(&self, document: serde_json::Value) {
        *self.document.lock().expect("lock") = document;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

fn rs256(key: &str, kid: &str) -> String {
    sign(
        Algorithm::RS256,
        &private_key(key, Algorithm::RS256),
        Some(kid),
        &claims("u"),
    )
}

#[tokio::test]
async fn a_jwks_url_is_fetched_once_cached_and_refetched_on_key_rotation() {
    let keys = KeyServer::start(jwks(&[jwk("rsa1", Algorithm::RS256, "k1")])).await;
    let auth = JwtAuth::jwks_url(&keys.url(), &[Algorithm::RS256])
        .expect("url")
        .jwks_refresh_interval(Duration::ZERO);
    let server = protected(auth).await;
    assert_eq!(keys.fetches(), 0, "fetched lazily, at the first token");

    call(&server, &rs256("rsa1", "k1")).await.assert_status(200);
    call(&server, &rs256("rsa1", "k1")).await.assert_status(200);
    assert_eq!(keys.fetches(), 1, "the set is cached");

    // Rotation: the identity provider now signs with k2 and has dropped k1.
    keys.serve(jwks(&[jwk("rsa2", Algorithm::RS256, "k2")]));
    call(&server, &rs256("rsa2", "k2")).await.assert_status(200);
    assert_eq!(keys.fetches(), 2, "an unknown kid refreshes the set");
    call(&server, &rs256("rsa1", "k1")).await.assert_status(401);
    // A kid that claims k2 but is signed by the old key: the signature decides.
    call(&server, &rs256("rsa1", "k2")).await.assert_status(401);
}

#[tokio::test]
async fn random_kids_cannot_make_the_server_hammer_the_key_server() {
    let keys = KeyServer::start(jwks(&[jwk("rsa1", Algorithm::RS256, "k1")])).await;
    let auth = JwtAuth::jwks_url(&keys.url(), &[Algorithm::RS256])
        .expect("url")
        .jwks_refresh_interval(Duration::from_secs(60));
    let server = protected(auth).await;
    call(&server, &rs256("rsa1", "k1")).await.assert_status(200);
    assert_eq!(keys.fetches(), 1);
    let attempts = (0..25).map(|i| {
        let token = rs256("rsa2", &format!("random-{i}"));
        let server = &server;
        async move { call(server, &token).await.status.as_u16() }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(keys.fetches(), 1, "refreshes are rate limited");
    call(&server, &rs256("rsa1", "k1")).await.assert_status(200);
}

#[tokio::test]
async fn a_cached_set_expires_after_its_time_to_live() {
    let keys = KeyServer::start(jwks(&[jwk("rsa1", Algorithm::RS256, "k1")])).await;
    let auth = JwtAuth::jwks_url(&keys.url(), &[Algorithm::RS256])
        .expect("url")
        .jwks_refresh_interval(Duration::ZERO)
        .jwks_cache_ttl(Duration::from_millis(300));
    let server = protected(auth).await;
    call(&server, &rs256("rsa1", "k1")).await.assert_status(200);
    // k1 is revoked: once the cached set is stale it is reloaded and k1 stops working.
    keys.serve(jwks(&[jwk("rsa2", Algorithm::RS256, "k2")]));
    tokio::time::sleep(Duration::from_millis(400)).await;
    call(&server, &rs256("rsa1", "k1")).await.assert_status(401);
    assert_eq!(keys.fetches(), 2);
}

#[tokio::test]
async fn an_unreachable_or_broken_key_server_gives_401_not_500() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
    drop(listener);
    let server = protected(JwtAuth::jwks_url(&dead, &[Algorithm::RS256]).expect("url")).await;
    call(&server, &rs256("rsa1", "k1"))
        .await
        .assert_error(401, "Invalid or expired token");

    let keys = KeyServer::start(serde_json::json!({ "not": "a jwks" })).await;
    let server = protected(JwtAuth::jwks_url(&keys.url(), &[Algorithm::RS256]).expect("url")).await;
    call(&server, &rs256("rsa1", "k1"))
        .await
        .assert_error(401, "Invalid or expired token");
}

#[tokio::test]
async fn a_jwks_file_is_read_at_startup_and_reread_on_an_unknown_kid() {
    let dir = std::env::temp_dir().join(format!("mastra-jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("jwks.json");
    let write = |doc: serde_json::Value| std::fs::write(&path, doc.to_string()).expect("write");
    write(jwks(&[
        jwk("rsa1", Algorithm::RS256, "r1"),
        jwk("ec", Algorithm::ES256, "e1"),
    ]));
    let auth = JwtAuth::jwks_file(&path, &[Algorithm::RS256, Algorithm::ES256])
        .expect("file")
        .jwks_refresh_interval(Duration::ZERO);
    let server = protected(auth).await;
    call(&server, &rs256("rsa1", "r1")).await.assert_status(200);
    let es = sign(
        Algorithm::ES256,
        &private_key("ec", Algorithm::ES256),
        Some("e1"),
        &claims("u"),
    );
    call(&server, &es).await.assert_status(200);
    // An RS256 token naming the EC key's kid: no RSA key under that kid.
    call(&server, &rs256("rsa1", "e1")).await.assert_status(401);

    write(jwks(&[jwk("rsa2", Algorithm::RS256, "r2")]));
    call(&server, &rs256("rsa2", "r2")).await.assert_status(200);
    let _ = std::fs::remove_dir_all(&dir);

    let missing =
        JwtAuth::jwks_file(dir.join("absent.json"), &[Algorithm::RS256]).expect_err("missing file");
    assert!(missing.to_string().contains("absent.json"), "{missing}");
    let bad_url =
        JwtAuth::jwks_url("ftp://127.0.0.1/jwks", &[Algorithm::RS256]).expect_err("scheme");
    assert!(bad_url.to_string().contains("http"), "{bad_url}");
}
