//! The crypto backend check: jsonwebtoken panics at the first signature when it has no backend
//! (neither or both of its backend features), so startup proves one works first.

use std::{
    panic::{catch_unwind, UnwindSafe},
    sync::OnceLock,
};

use jsonwebtoken::{
    crypto::CryptoProvider, decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde_json::{json, Value};

use crate::auth::AuthConfigError;

/// Proves once per process that jsonwebtoken can sign and verify; every [`JwtAuth`]
/// constructor calls it, so a build without a usable backend fails at startup with
/// [`AuthConfigError::NoCryptoBackend`] instead of panicking on the first request.
///
/// [`JwtAuth`]: super::JwtAuth
pub(crate) fn ensure_usable() -> Result<(), AuthConfigError> {
    static VERDICT: OnceLock<Result<(), String>> = OnceLock::new();
    VERDICT
        .get_or_init(|| run_guarded(self_check))
        .clone()
        .map_err(AuthConfigError::NoCryptoBackend)
}

/// Runs `check`, turning a panic into an error message.
pub(crate) fn run_guarded<F>(check: F) -> Result<(), String>
where
    F: FnOnce() -> Result<(), String> + UnwindSafe,
{
    match catch_unwind(check) {
        Ok(result) => result,
        Err(panic) => Err(panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .map(|s| format!("jsonwebtoken panicked: {}", s.trim()))
            .unwrap_or_else(|| "jsonwebtoken panicked".to_owned())),
    }
}

/// Signs and verifies one HS256 token.
fn self_check() -> Result<(), String> {
    if CryptoProvider::try_get_default().is_none() {
        return Err("jsonwebtoken found no process-level CryptoProvider".to_owned());
    }
    let secret = b"mastra self-check secret of 32 bytes!";
    let claims = json!({ "sub": "self-check", "exp": jsonwebtoken::get_current_timestamp() + 60 });
    let encoding = EncodingKey::from_secret(secret).map_err(|e| format!("bad key: {e}"))?;
    let token = encode(&Header::new(Algorithm::HS256), &claims, &encoding)
        .map_err(|e| format!("signing failed: {e}"))?;
    let decoding = DecodingKey::from_secret(secret).map_err(|e| format!("bad key: {e}"))?;
    let data = decode::<Value>(&token, &decoding, &Validation::new(Algorithm::HS256))
        .map_err(|e| format!("verifying failed: {e}"))?;
    if data.claims["sub"] == "self-check" {
        Ok(())
    } else {
        Err("verification returned other claims".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_enabled_backend_signs_and_verifies() {
        assert!(ensure_usable().is_ok(), "{:?}", ensure_usable());
    }

    #[test]
    fn a_backend_that_panics_is_reported_as_a_startup_error() {
        // What jsonwebtoken does when it has no backend: panic at the first use.
        let verdict = run_guarded(|| {
            panic!("Could not automatically determine the process-level CryptoProvider")
        });
        let message = verdict.expect_err("a panic must become an error");
        assert!(message.contains("CryptoProvider"), "{message}");
        let error = AuthConfigError::NoCryptoBackend(message).to_string();
        assert!(error.contains("enable exactly one"), "{error}");
    }

    #[test]
    fn a_failing_check_is_reported_as_is() {
        assert_eq!(
            run_guarded(|| Err("no provider".to_owned())),
            Err("no provider".to_owned())
        );
    }
}
