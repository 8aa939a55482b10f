//! Soak: the auth example as a real process, at saturation on keep-alive connections with a
//! mix of public GETs, JSON POSTs and token-checked requests. Zero errors, zero non-2xx, and
//! resident memory after the run within 10% of what it was after the warm-up.
//!
//! The test command runs [`DEFAULT_SOAK`]; `MASTRA_SOAK_SECS=60` is the full run whose figures
//! are in docs/reliability.md (`cargo test -p mastra-tests --test soak -- --nocapture`).

use mastra_tests::{
    binary::BinaryServer,
    load::{self, rss_bytes, secs_from_env, Shot},
};
use serde_json::json;

/// Soak length in the test command.
const DEFAULT_SOAK: u64 = 10;
/// Warm-up length: long enough for every connection, worker and allocator arena to be in use.
const DEFAULT_WARMUP: u64 = 3;
/// Keep-alive connections held open for the whole run.
const CONNECTIONS: usize = 32;
/// Most RSS may grow from the end of the warm-up to the end of the run.
const MAX_RSS_GROWTH: f64 = 0.10;
/// The HMAC secret of the soaked server.
const SECRET: &str = "soak test secret, long enough for HS256 signing";

#[tokio::test]
async fn saturation_on_keep_alive_ends_with_no_errors_and_flat_memory() {
    let server = BinaryServer::start("auth-example", &[("MASTRA_JWT_SECRET", SECRET)]).await;
    let token = auth_example::mint(
        SECRET.as_bytes(),
        r#"{"sub":"soak-user","name":"Soak","role":"admin"}"#,
    )
    .expect("mint");
    let mix = [
        Shot::get("GET /health", "/health"),
        Shot::get("GET /protected-data (auth)", "/protected-data").bearer(&token),
        Shot::post(
            "POST /webhooks/github",
            "/webhooks/github",
            json!({ "action": "opened", "number": 7 }),
        ),
        Shot::get("GET /user-profile (auth)", "/user-profile").bearer(&token),
        Shot::get(
            "GET /protected-data?apiKey (auth)",
            &format!("/protected-data?apiKey={token}"),
        ),
    ];

    let warmup = load::run(
        server.base(),
        &mix,
        CONNECTIONS,
        secs_from_env("MASTRA_SOAK_WARMUP_SECS", DEFAULT_WARMUP),
    )
    .await;
    let rss_warm = rss_bytes(server.pid());
    let soak_for = secs_from_env("MASTRA_SOAK_SECS", DEFAULT_SOAK);
    let report = load::run(server.base(), &mix, CONNECTIONS, soak_for).await;
    let rss_after = rss_bytes(server.pid());
    let growth = rss_after as f64 / rss_warm as f64 - 1.0;

    eprintln!(
        "soak: {}s on {CONNECTIONS} connections: {} answered ({:.0}/s), {} 2xx, {} non-2xx, \
         {} errors, slowest {:?}; RSS after warm-up {:.1} MiB, after the run {:.1} MiB \
         ({:+.1}%); warm-up {} answered; per request: {:?}",
        soak_for.as_secs(),
        report.answered,
        report.rate(),
        report.ok,
        report.non_2xx,
        report.errors,
        report.slowest,
        rss_warm as f64 / 1048576.0,
        rss_after as f64 / 1048576.0,
        growth * 100.0,
        warmup.answered,
        report.per_shot,
    );
    assert_eq!(
        warmup.errors + warmup.non_2xx,
        0,
        "warm-up: {:?}",
        warmup.samples
    );
    assert_eq!(report.errors, 0, "errors: {:?}", report.samples);
    assert_eq!(report.non_2xx, 0, "non-2xx: {:?}", report.samples);
    assert!(report.answered > 0, "nothing answered");
    assert!(
        report.per_shot.iter().all(|(_, n)| *n > 0),
        "some request kind never ran: {:?}",
        report.per_shot
    );
    assert!(
        growth <= MAX_RSS_GROWTH,
        "RSS grew {:.1}% (from {rss_warm} to {rss_after} bytes)",
        growth * 100.0
    );
    assert!(
        !server.log().contains("panicked"),
        "the server logged a panic:\n{}",
        server.log()
    );
}
