//! Tokens for the auth tests: minted with the runtime's own jsonwebtoken, forged by hand for
//! the attacks, and the test keys under `tests/fixtures/keys`.

use std::path::PathBuf;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use mastra_runtime::auth::jsonwebtoken::{
    encode, get_current_timestamp, jwk::Jwk, Algorithm, EncodingKey, Header,
};
use serde_json::{json, Value};

/// The HMAC secret of the HS256 test servers (longer than the 32-byte minimum).
pub const SECRET: &str = "a test secret that is long enough for HS256 and HS384";

/// Seconds since the epoch.
pub fn now() -> u64 {
    get_current_timestamp()
}

/// Claims for `sub` valid for an hour.
pub fn claims(sub: &str) -> Value {
    json!({ "sub": sub, "exp": now() + 3600 })
}

/// A test key file.
pub fn key_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/keys")
        .join(name)
}

/// The bytes of a test key file.
pub fn key_bytes(name: &str) -> Vec<u8> {
    std::fs::read(key_path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

/// The private key `name` (`rsa1`, `rsa2`, `ec`, `ed`) for `alg`.
pub fn private_key(name: &str, alg: Algorithm) -> EncodingKey {
    let pem = key_bytes(&format!("{name}-private.pem"));
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem),
        _ => EncodingKey::from_rsa_pem(&pem),
    }
    .unwrap_or_else(|e| panic!("private key {name}: {e}"))
}

/// Signs `claims` with `key` under `alg`, naming `kid` when given.
pub fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, key).expect("sign")
}

/// Signs `claims` with HS256 and [`SECRET`].
pub fn hs256(claims: &Value) -> String {
    hmac(Algorithm::HS256, SECRET.as_bytes(), claims)
}

/// Signs `claims` with an HMAC algorithm and any secret (the key-confusion attack signs with
/// an RSA public key's bytes).
pub fn hmac(alg: Algorithm, secret: &[u8], claims: &Value) -> String {
    sign(
        alg,
        &EncodingKey::from_secret(secret).expect("secret"),
        None,
        claims,
    )
}

/// Base64url without padding, as JWT segments are.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with this header and payload and a signature of `signature` (unsigned for
/// `alg: none` attacks).
pub fn forge(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    )
}

/// `token` with its payload replaced by `payload`, the signature kept.
pub fn with_payload(token: &str, payload: &Value) -> String {
    let mut parts = token.split('.');
    let header = parts.next().expect("header");
    let _ = parts.next();
    let signature = parts.next().expect("signature");
    format!(
        "{header}.{}.{signature}",
        b64(payload.to_string().as_bytes())
    )
}

/// The public JWK of private key `name` for `alg`, with `kid`.
pub fn jwk(name: &str, alg: Algorithm, kid: &str) -> Value {
    let mut jwk = Jwk::from_encoding_key(&private_key(name, alg), alg).expect("jwk");
    jwk.common.key_id = Some(kid.to_owned());
    serde_json::to_value(jwk).expect("jwk json")
}

/// A JWKS document of these keys.
pub fn jwks(keys: &[Value]) -> Value {
    json!({ "keys": keys })
}
