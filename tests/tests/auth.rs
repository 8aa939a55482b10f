//! Auth semantics over HTTP: which routes need a token, the 401/403/500 answers, the user in
//! the request, AuthUser, rules, middleware after auth, token sources, CORS.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use mastra_runtime::{
    auth::{Access, AuthConfig, AuthProvider, AuthorizeError, JwtAuth, Rule},
    middleware::{Error, Next, ServiceRequest, ServiceResponse},
    prelude::*,
    server::{AllowedOrigins, CorsConfig},
    MastraBuilder, MastraError,
};
use mastra_tests::{
    jwt::{claims, hs256, SECRET},
    test_config, Reply, TestServer,
};
use reqwest::Method;

const INVALID: &str = "Invalid or expired token";

fn jwt() -> JwtAuth {
    JwtAuth::hs256(SECRET).expect("valid secret")
}

fn app(config: ServerConfig) -> MastraBuilder {
    Mastra::builder().without_annotated_routes().server(config)
}

async fn ok() -> &'static str {
    "ok"
}

async fn whoami(c: Context) -> HttpResponse {
    c.json(json!({
        "user": c.user().as_deref(),
        "fromContext": c.request_context().get("user"),
    }))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn get_with(server: &TestServer, path: &str, token: &str) -> Reply {
    server
        .get_with_header(path, "authorization", &bearer(token))
        .await
}

fn assert_unauthorized(reply: &Reply, challenge: &str) {
    reply.assert_error(401, INVALID);
    assert_eq!(
        reply.header("www-authenticate"),
        Some(challenge),
        "{reply:?}"
    );
}

#[tokio::test]
async fn without_auth_every_route_is_public() {
    let server = TestServer::start(app(test_config()).route(ApiRoute::get("/x").handler(ok))).await;
    server.get("/x").await.assert_status(200);
    assert!(!server.mastra().is_auth_configured());
    assert!(server.mastra().routes().iter().all(|r| !r.is_protected()));
}

#[tokio::test]
async fn with_auth_routes_need_a_valid_bearer_token() {
    let server =
        TestServer::start(app(test_config().auth(jwt())).route(ApiRoute::get("/x").handler(ok)))
            .await;
    assert!(server.mastra().is_auth_configured());
    let missing = server.get("/x").await;
    assert_unauthorized(&missing, "Bearer");
    assert_eq!(missing.text, r#"{"error":"Invalid or expired token"}"#);
    let bad = get_with(&server, "/x", "not.a.token").await;
    assert_unauthorized(&bad, r#"Bearer error="invalid_token""#);
    let good = get_with(&server, "/x", &hs256(&claims("u1"))).await;
    good.assert_status(200);
    assert_eq!(good.text, "ok");
}

#[tokio::test]
async fn requires_auth_false_opts_a_route_out_and_health_is_always_public() {
    let server = TestServer::start(
        app(test_config().auth(
            AuthConfig::new(jwt())
                .protected("/health")
                .protected("/hooks/*"),
        ))
        .route(
            ApiRoute::post("/webhooks/github")
                .handler(ok)
                .requires_auth(false),
        )
        .route(ApiRoute::post("/hooks/in").handler(ok).requires_auth(false))
        .route(ApiRoute::get("/x").handler(ok)),
    )
    .await;
    server
        .send(server.request(Method::POST, "/webhooks/github"))
        .await
        .assert_status(200);
    server.get("/health").await.assert_status(200);
    // A protected pattern overrides the route's own opt-out, but never /health.
    assert_unauthorized(
        &server.send(server.request(Method::POST, "/hooks/in")).await,
        "Bearer",
    );
    let protected: Vec<(String, bool)> = server
        .mastra()
        .routes()
        .iter()
        .map(|r| (r.path().to_owned(), r.is_protected()))
        .collect();
    assert!(
        protected.contains(&("/health".into(), false)),
        "{protected:?}"
    );
    assert!(
        protected.contains(&("/webhooks/github".into(), false)),
        "{protected:?}"
    );
    assert!(
        protected.contains(&("/hooks/in".into(), true)),
        "{protected:?}"
    );
    assert!(protected.contains(&("/x".into(), true)), "{protected:?}");
}

#[tokio::test]
async fn public_patterns_open_routes_for_the_methods_they_name() {
    let server = TestServer::start(
        app(test_config().auth(
            AuthConfig::new(jwt())
                .public("/status/*")
                .public_methods("/items/:id", vec![RouteMethod::Get]),
        ))
        .route(ApiRoute::get("/status/live").handler(ok))
        .route(ApiRoute::get("/items/{itemId}").handler(ok))
        .route(ApiRoute::delete("/items/:id").handler(ok)),
    )
    .await;
    server.get("/status/live").await.assert_status(200);
    server.get("/items/7").await.assert_status(200);
    assert_unauthorized(
        &server
            .send(server.request(Method::DELETE, "/items/7"))
            .await,
        "Bearer",
    );
}

#[tokio::test]
async fn the_verified_claims_become_the_user_in_context_and_request_context() {
    async fn client_context(
        ctx: RequestContext,
        Json(body): Json<serde_json::Value>,
    ) -> HttpResponse {
        // What built-in routes do with a client's `requestContext`: reserved keys are dropped.
        if let Some(entries) = body["requestContext"].as_object() {
            ctx.merge_from_client(entries.clone());
        }
        HttpResponse::Ok().json(json!({ "user": ctx.get("user"), "tenant": ctx.get("tenant") }))
    }
    let server = TestServer::start(
        app(test_config().auth(jwt()))
            .route(ApiRoute::get("/protected-data").handler(whoami))
            .route(ApiRoute::post("/ctx").handler(client_context)),
    )
    .await;
    let mut user = claims("user-42");
    user["role"] = "admin".into();
    let token = hs256(&user);
    let reply = get_with(&server, "/protected-data", &token).await;
    reply.assert_status(200);
    assert_eq!(reply.json()["user"], user);
    assert_eq!(reply.json()["fromContext"], user);

    let reply = server
        .send(
            server
                .request(Method::POST, "/ctx")
                .header("authorization", bearer(&token))
                .json(
                    &json!({ "requestContext": { "user": { "sub": "forged" }, "tenant": "acme" } }),
                ),
        )
        .await;
    reply.assert_status(200);
    assert_eq!(reply.json()["user"]["sub"], "user-42", "{}", reply.text);
    assert_eq!(reply.json()["tenant"], "acme");
}

#[derive(Deserialize)]
struct Profile {
    sub: String,
    role: String,
}

async fn profile(AuthUser(p): AuthUser<Profile>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "id": p.sub, "role": p.role }))
}

#[tokio::test]
async fn auth_user_deserializes_the_claims_and_refuses_claims_that_do_not_fit() {
    let server = TestServer::start(
        app(test_config().auth(jwt())).route(ApiRoute::get("/user-profile").handler(profile)),
    )
    .await;
    let mut user = claims("u7");
    user["role"] = "reader".into();
    let reply = get_with(&server, "/user-profile", &hs256(&user)).await;
    reply.assert_status(200);
    assert_eq!(reply.json(), json!({ "id": "u7", "role": "reader" }));
    // Valid token, but no `role`: the route cannot use it.
    let reply = get_with(&server, "/user-profile", &hs256(&claims("u7"))).await;
    assert_unauthorized(&reply, r#"Bearer error="invalid_token""#);
}

mod annotated_public {
    use super::{profile as typed_profile, AuthUser, Profile};
    use mastra_runtime::prelude::*;

    /// A public route that still wants the user.
    #[api_route("/public-profile", method = "GET", requires_auth = false)]
    pub async fn public_profile(user: AuthUser<Profile>) -> HttpResponse {
        typed_profile(user).await
    }
}

#[tokio::test]
async fn a_public_route_taking_auth_user_verifies_the_token_itself() {
    async fn maybe(user: Option<AuthUser>) -> HttpResponse {
        HttpResponse::Ok().json(json!({ "user": user.map(AuthUser::into_inner) }))
    }
    let server = TestServer::start(
        app(test_config().auth(jwt()))
            .routes_from_module(format!("{}::annotated_public", module_path!()))
            .route(ApiRoute::get("/maybe").handler(maybe).requires_auth(false))
            .route(ApiRoute::get("/plain").handler(ok).requires_auth(false)),
    )
    .await;
    assert_unauthorized(&server.get("/public-profile").await, "Bearer");
    assert_unauthorized(
        &get_with(&server, "/public-profile", "garbage").await,
        r#"Bearer error="invalid_token""#,
    );
    let mut user = claims("u8");
    user["role"] = "reader".into();
    get_with(&server, "/public-profile", &hs256(&user))
        .await
        .assert_status(200);
    // Optional user: absent without a token, present with one.
    assert_eq!(server.get("/maybe").await.json()["user"], json!(null));
    assert_eq!(
        get_with(&server, "/maybe", &hs256(&user)).await.json()["user"]["sub"],
        "u8"
    );
    let routes = server.mastra().routes();
    let route = |path: &str| routes.iter().find(|r| r.path() == path).expect("route");
    // Public (no auth layer), yet a token is required: the OpenAPI security follows this.
    assert!(!route("/public-profile").is_protected());
    assert!(route("/public-profile").requires_token());
    assert!(!route("/plain").requires_token());
}

struct Gatekeeper;

impl AuthProvider for Gatekeeper {
    async fn authenticate_token(
        &self,
        token: &str,
        _req: &HttpRequest,
    ) -> Option<serde_json::Value> {
        match token {
            "alice" | "bob" | "carol" => Some(json!({ "sub": token })),
            _ => None,
        }
    }

    async fn authorize_user(
        &self,
        user: &serde_json::Value,
        _req: &HttpRequest,
    ) -> Result<Access, AuthorizeError> {
        match user["sub"].as_str() {
            Some("alice") => Ok(Access::Allow),
            Some("bob") => Ok(Access::Deny),
            _ => Err(AuthorizeError::new("user store unreachable")),
        }
    }
}

#[tokio::test]
async fn a_custom_provider_decides_401_403_and_500() {
    let server = TestServer::start(
        app(test_config().auth(Gatekeeper)).route(ApiRoute::get("/x").handler(ok)),
    )
    .await;
    get_with(&server, "/x", "alice").await.assert_status(200);
    get_with(&server, "/x", "bob")
        .await
        .assert_error(403, "Access denied");
    get_with(&server, "/x", "carol")
        .await
        .assert_error(500, "Authorization error");
    assert_unauthorized(
        &get_with(&server, "/x", "mallory").await,
        r#"Bearer error="invalid_token""#,
    );
}

#[tokio::test]
async fn ordered_rules_first_match_wins_and_the_default_is_deny() {
    let auth = AuthConfig::new(jwt())
        .rule(Rule::allow("/admin/*").when(|u| u["role"] == "admin"))
        .rule(Rule::deny("/admin/*"))
        .rule(Rule::allow("/items").methods([RouteMethod::Get]));
    let server = TestServer::start(
        app(test_config().auth(auth))
            .route(ApiRoute::get("/admin/stats").handler(ok))
            .route(ApiRoute::get("/items").handler(ok))
            .route(ApiRoute::post("/items").handler(ok)),
    )
    .await;
    let mut admin = claims("a");
    admin["role"] = "admin".into();
    let user = claims("u");
    get_with(&server, "/admin/stats", &hs256(&admin))
        .await
        .assert_status(200);
    get_with(&server, "/admin/stats", &hs256(&user))
        .await
        .assert_error(403, "Access denied");
    get_with(&server, "/items", &hs256(&user))
        .await
        .assert_status(200);
    server
        .send(
            server
                .request(Method::POST, "/items")
                .header("authorization", bearer(&hs256(&admin))),
        )
        .await
        .assert_error(403, "Access denied");
}

async fn before_auth(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut res = next.call(req).await?;
    res.headers_mut().insert(
        mastra_runtime::actix_web::http::header::HeaderName::from_static("x-before"),
        mastra_runtime::actix_web::http::header::HeaderValue::from_static("ran"),
    );
    Ok(res)
}

#[tokio::test]
async fn global_middleware_after_auth_sees_the_user_and_skips_public_routes() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let after_auth =
        move |req: ServiceRequest, next: Next<mastra_runtime::actix_web::body::BoxBody>| {
            let counter = Arc::clone(&counter);
            async move {
                let sub = RequestContext::of(req.request())
                    .get("user")
                    .and_then(|u| u["sub"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                counter.fetch_add(1, Ordering::SeqCst);
                let mut res = next.call(req).await?;
                res.headers_mut().insert(
                    mastra_runtime::actix_web::http::header::HeaderName::from_static(
                        "x-after-user",
                    ),
                    mastra_runtime::actix_web::http::header::HeaderValue::from_str(&sub)
                        .expect("header"),
                );
                Ok::<_, Error>(res)
            }
        };
    let server = TestServer::start(
        app(test_config()
            .auth(jwt())
            .middleware(before_auth)
            .middleware_after_auth(after_auth))
        .route(ApiRoute::get("/private").handler(ok))
        .route(ApiRoute::get("/open").handler(ok).requires_auth(false)),
    )
    .await;
    let reply = get_with(&server, "/private", &hs256(&claims("mw-user"))).await;
    reply.assert_status(200);
    assert_eq!(reply.header("x-after-user"), Some("mw-user"));
    assert_eq!(reply.header("x-before"), Some("ran"));

    // Refused by auth: the before-auth middleware ran, the after-auth one did not.
    let refused = server.get("/private").await;
    refused.assert_status(401);
    assert_eq!(refused.header("x-before"), Some("ran"));
    assert_eq!(refused.header("x-after-user"), None);

    let open = server.get("/open").await;
    open.assert_status(200);
    assert_eq!(open.header("x-before"), Some("ran"));
    assert_eq!(open.header("x-after-user"), None);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "after-auth middleware runs only once authenticated"
    );
}

#[tokio::test]
async fn tokens_come_from_the_query_unless_turned_off_and_from_a_named_cookie() {
    let token = hs256(&claims("q"));
    let default =
        TestServer::start(app(test_config().auth(jwt())).route(ApiRoute::get("/x").handler(ok)))
            .await;
    default
        .get(&format!("/x?apiKey={token}"))
        .await
        .assert_status(200);

    let strict = TestServer::start(
        app(test_config()
            .cors(
                CorsConfig::default().origins(AllowedOrigins::List(vec!["http://app.test".into()])),
            )
            .auth(
                AuthConfig::new(jwt())
                    .api_key_query(false)
                    .cookie("mastra_token"),
            ))
        .route(ApiRoute::get("/x").handler(ok)),
    )
    .await;
    assert_unauthorized(&strict.get(&format!("/x?apiKey={token}")).await, "Bearer");
    strict
        .get_with_header("/x", "cookie", &format!("theme=dark; mastra_token={token}"))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn cors_reflects_the_origin_with_credentials_once_auth_is_on_even_on_401() {
    let server =
        TestServer::start(app(test_config().auth(jwt())).route(ApiRoute::get("/x").handler(ok)))
            .await;
    let preflight = server
        .send(
            server
                .request(Method::OPTIONS, "/x")
                .header("origin", "http://app.test")
                .header("access-control-request-method", "GET")
                .header("access-control-request-headers", "authorization"),
        )
        .await;
    preflight.assert_status(200);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://app.test")
    );
    assert_eq!(
        preflight.header("access-control-allow-credentials"),
        Some("true")
    );

    let refused = server
        .get_with_header("/x", "origin", "http://app.test")
        .await;
    refused.assert_status(401);
    assert_eq!(
        refused.header("access-control-allow-origin"),
        Some("http://app.test")
    );

    // Configurable: an explicit policy wins.
    let listed = TestServer::start(
        app(test_config().auth(jwt()).cors(
            CorsConfig::default().origins(AllowedOrigins::List(vec!["http://ok.test".into()])),
        ))
        .route(ApiRoute::get("/x").handler(ok)),
    )
    .await;
    let reply = listed
        .get_with_header("/x", "origin", "http://evil.test")
        .await;
    assert_ne!(
        reply.header("access-control-allow-origin"),
        Some("http://evil.test")
    );
    let any = TestServer::start(
        app(test_config()
            .auth(jwt())
            .cors(CorsConfig::default().origins(AllowedOrigins::Any)))
        .route(ApiRoute::get("/x").handler(ok)),
    )
    .await;
    let reply = any.get_with_header("/x", "origin", "http://app.test").await;
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
}

fn build_error(builder: MastraBuilder) -> MastraError {
    builder.build().expect_err("build must fail")
}

#[tokio::test]
async fn unusable_auth_configurations_fail_at_startup_with_clear_errors() {
    let cookie_open_cors =
        build_error(app(test_config().auth(AuthConfig::new(jwt()).cookie("sid"))));
    assert!(
        cookie_open_cors
            .to_string()
            .contains("AllowedOrigins::List"),
        "{cookie_open_cors}"
    );
    let bad_pattern = build_error(app(
        test_config().auth(AuthConfig::new(jwt()).public("no-slash"))
    ));
    assert!(
        bad_pattern.to_string().contains("no-slash"),
        "{bad_pattern}"
    );

    let missing =
        JwtAuth::hs256_from_env("MASTRA_TEST_SECRET_THAT_IS_NEVER_SET").expect_err("missing");
    assert!(
        missing
            .to_string()
            .contains("MASTRA_TEST_SECRET_THAT_IS_NEVER_SET"),
        "{missing}"
    );
    let empty = JwtAuth::hs256("").expect_err("empty");
    assert!(empty.to_string().contains("empty"), "{empty}");
    let weak = JwtAuth::hs256("short").expect_err("weak");
    assert!(weak.to_string().contains("at least 32"), "{weak}");
    let mismatch =
        JwtAuth::hmac(SECRET, &[Algorithm::HS256, Algorithm::RS256]).expect_err("mismatch");
    assert!(mismatch.to_string().contains("RS256"), "{mismatch}");
    let not_a_key =
        JwtAuth::public_key_pem(b"not a pem", &[Algorithm::RS256]).expect_err("bad pem");
    assert!(
        not_a_key.to_string().contains("RSA public key"),
        "{not_a_key}"
    );
    let into_mastra: MastraError = empty.into();
    assert!(
        into_mastra
            .to_string()
            .starts_with("invalid auth configuration"),
        "{into_mastra}"
    );
}

use mastra_runtime::auth::Algorithm;

#[tokio::test]
async fn the_leeway_absorbs_clock_skew_and_is_configurable() {
    use mastra_tests::jwt::now;
    let just_expired = hs256(&json!({ "sub": "u", "exp": now() - 20 }));
    let almost_valid = hs256(&json!({ "sub": "u", "exp": now() + 3600, "nbf": now() + 20 }));
    let lenient =
        TestServer::start(app(test_config().auth(jwt())).route(ApiRoute::get("/x").handler(ok)))
            .await;
    get_with(&lenient, "/x", &just_expired)
        .await
        .assert_status(200);
    get_with(&lenient, "/x", &almost_valid)
        .await
        .assert_status(200);
    let strict = TestServer::start(
        app(test_config().auth(jwt().leeway(std::time::Duration::ZERO)))
            .route(ApiRoute::get("/x").handler(ok)),
    )
    .await;
    assert_unauthorized(
        &get_with(&strict, "/x", &just_expired).await,
        r#"Bearer error="invalid_token""#,
    );
    assert_unauthorized(
        &get_with(&strict, "/x", &almost_valid).await,
        r#"Bearer error="invalid_token""#,
    );
}
