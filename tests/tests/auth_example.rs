//! examples/auth over HTTP: the protected routes with and without a token, the public webhook,
//! and the typed profile.

use mastra_runtime::auth::JwtAuth;
use mastra_tests::{
    jwt::{now, SECRET},
    TestServer,
};
use reqwest::Method;
use serde_json::json;

async fn example() -> TestServer {
    let auth = JwtAuth::hs256(SECRET).expect("secret");
    TestServer::start(auth_example::app(mastra_tests::test_config(), auth)).await
}

fn token(claims: serde_json::Value) -> String {
    auth_example::mint(SECRET.as_bytes(), &claims.to_string()).expect("mint")
}

#[tokio::test]
async fn the_example_mounts_its_three_routes_with_the_webhook_public() {
    let server = example().await;
    let mut routes: Vec<(String, bool)> = server
        .mastra()
        .routes()
        .iter()
        .filter(|r| !r.is_builtin())
        .map(|r| (r.path().to_owned(), r.is_protected()))
        .collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            ("/protected-data".to_owned(), true),
            ("/user-profile".to_owned(), true),
            ("/webhooks/github".to_owned(), false),
        ]
    );
}

#[tokio::test]
async fn protected_data_returns_the_verified_user_and_needs_a_token() {
    let server = example().await;
    server
        .get("/protected-data")
        .await
        .assert_error(401, "Invalid or expired token");
    let t = token(json!({ "sub": "user-1", "role": "admin" }));
    let reply = server
        .send(
            server
                .request(Method::GET, "/protected-data")
                .bearer_auth(&t),
        )
        .await;
    reply.assert_status(200);
    assert_eq!(reply.json()["message"], "This is protected data");
    assert_eq!(reply.json()["user"]["sub"], "user-1");
    assert_eq!(reply.json()["user"]["role"], "admin");
}

#[tokio::test]
async fn the_github_webhook_is_public() {
    let server = example().await;
    let reply = server
        .send(
            server
                .request(Method::POST, "/webhooks/github")
                .header("x-github-event", "push")
                .json(&json!({ "action": "opened" })),
        )
        .await;
    reply.assert_status(200);
    assert_eq!(
        reply.json(),
        json!({ "received": true, "event": "push", "action": "opened" })
    );
}

#[tokio::test]
async fn user_profile_reads_typed_claims() {
    let server = example().await;
    let t = token(json!({ "sub": "u-2", "name": "Ada", "exp": now() + 60 }));
    let reply = server
        .send(server.request(Method::GET, "/user-profile").bearer_auth(&t))
        .await;
    reply.assert_status(200);
    assert_eq!(
        reply.json(),
        json!({ "id": "u-2", "name": "Ada", "role": null })
    );
    let expired = token(json!({ "sub": "u-2", "exp": now() - 3600 }));
    server
        .send(
            server
                .request(Method::GET, "/user-profile")
                .bearer_auth(&expired),
        )
        .await
        .assert_error(401, "Invalid or expired token");
}
