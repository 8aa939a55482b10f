//! [`AuthConfigError`]: what can be wrong with an auth configuration, found at startup.

use std::path::PathBuf;

#[cfg(feature = "jwt")]
use jsonwebtoken::Algorithm;

/// A problem with the auth configuration. Every one is found before the server accepts a
/// request, and each says what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthConfigError {
    /// The environment variable that should hold the HMAC secret is not set.
    #[error("the JWT secret is missing: set the {var} environment variable to a secret of at least 32 bytes")]
    MissingSecret {
        /// The variable read.
        var: String,
    },
    /// The HMAC secret is empty.
    #[error("the JWT secret from {origin} is empty: give a secret of at least 32 bytes")]
    EmptySecret {
        /// Where the secret came from (`MASTRA_JWT_SECRET`, `the configuration`).
        origin: String,
    },
    #[cfg(feature = "jwt")]
    /// The HMAC secret is shorter than the hash of an algorithm it is used with.
    #[error("the JWT secret is {len} bytes, but {algorithm:?} needs at least {min} (RFC 7518, section 3.2)")]
    WeakSecret {
        /// The algorithm whose minimum is not met.
        algorithm: Algorithm,
        /// The secret's length in bytes.
        len: usize,
        /// The minimum for `algorithm`.
        min: usize,
    },
    /// No algorithm was given to pin.
    #[error("no JWT algorithm given: name the algorithm(s) tokens are signed with")]
    NoAlgorithm,
    #[cfg(feature = "jwt")]
    /// An algorithm that the key cannot verify (for example `HS256` with an RSA public key).
    #[error("{algorithm:?} cannot be used with {key}; pin only algorithms of the key's family")]
    AlgorithmMismatch {
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// What the key is.
        key: &'static str,
    },
    /// A key that does not parse.
    #[error("invalid {what}: {reason}")]
    InvalidKey {
        /// What was parsed (`RSA public key PEM`, ...).
        what: String,
        /// The parser's reason.
        reason: String,
    },
    /// A key or JWKS file that cannot be read.
    #[error("could not read {path}: {source}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A JWKS that is not a JSON Web Key Set, or has no key usable with the pinned algorithms.
    #[error("invalid JWKS from {origin}: {reason}")]
    InvalidJwks {
        /// Where the set came from.
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// A JWKS URL that does not parse or is not http(s).
    #[error("invalid JWKS URL {url:?}: {reason}")]
    InvalidJwksUrl {
        /// The URL given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The HTTP client that fetches the JWKS could not be built.
    #[error("the HTTP client for the JWKS could not be built: {0}")]
    HttpClient(String),
    /// jsonwebtoken has no usable crypto backend (neither or both of its backend features).
    #[error("no usable JWT crypto backend ({0}); enable exactly one of jsonwebtoken's `rust_crypto` or `aws_lc_rs` features")]
    NoCryptoBackend(String),
    /// A protected/public pattern or a rule's path that does not parse.
    #[error("bad auth path pattern `{pattern}`: {reason}")]
    BadPattern {
        /// The pattern as written.
        pattern: String,
        /// Why it was refused.
        reason: crate::route::PathError,
    },
    /// A cookie token source while CORS lets every origin send credentials: any web site could
    /// then call the API as the signed-in user.
    #[error("the `{cookie}` cookie token source cannot be combined with CORS that reflects every origin with credentials: list the allowed origins with AllowedOrigins::List")]
    CookieWithOpenCors {
        /// The cookie name.
        cookie: String,
    },
}
