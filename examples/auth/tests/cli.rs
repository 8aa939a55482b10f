//! The example binary: a clear startup error without a usable secret, and `--mint`.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_auth-example");
const SECRET: &str = "an example secret that is long enough for HS256";

fn run(secret: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("MASTRA_JWT_SECRET")
        .env("PORT", "0");
    if let Some(secret) = secret {
        cmd.env("MASTRA_JWT_SECRET", secret);
    }
    cmd.output().expect("run auth-example")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn serving_without_the_secret_fails_at_startup_naming_the_variable() {
    let output = run(None, &[]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("MASTRA_JWT_SECRET"), "{err}");
    assert!(err.contains("missing"), "{err}");
}

#[test]
fn serving_with_an_empty_or_short_secret_fails_at_startup() {
    let output = run(Some(""), &[]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("empty"), "{}", stderr(&output));
    let output = run(Some("short"), &[]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("at least 32"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn mint_prints_a_token_the_configured_secret_verifies() {
    let output = run(
        Some(SECRET),
        &["--mint", r#"{"sub":"user-9","role":"admin"}"#],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let token = String::from_utf8(output.stdout).expect("utf-8");
    let token = token.trim();
    assert_eq!(token.split('.').count(), 3, "{token}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let auth = mastra_runtime::auth::JwtAuth::hs256(SECRET).expect("secret");
    let claims = runtime.block_on(auth.verify(token)).expect("valid token");
    assert_eq!(claims["sub"], "user-9");
    assert_eq!(claims["role"], "admin");
    assert!(claims["exp"].as_u64().is_some());

    let output = run(Some(SECRET), &["--mint", "[1,2]"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("object"), "{}", stderr(&output));
}
