//! [`JwtAuth`]: the built-in provider, verifying JSON Web Tokens with pinned algorithms.

mod backend;
pub(crate) mod jwks;

use std::{collections::HashSet, fmt, path::Path, sync::Arc, time::Duration};

use actix_web::HttpRequest;
use jsonwebtoken::{decode, decode_header, Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde_json::Value;

use jwks::{JwksCache, JwksSource, KeyTable};
pub use jwks::{
    DEFAULT_JWKS_CACHE_TTL, DEFAULT_JWKS_REFRESH_INTERVAL, JWKS_FETCH_TIMEOUT, JWKS_MAX_BYTES,
};

use super::{AuthConfigError, AuthProvider};

/// The environment variable [`JwtAuth::from_env`] reads the HMAC secret from (Mastra's name).
pub const SECRET_ENV_VAR: &str = "MASTRA_JWT_SECRET";
/// Clock skew allowed on `exp` and `nbf`: 60 seconds, jsonwebtoken's default and within the
/// "few minutes" RFC 7519 (section 4.1.4) suggests.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// The largest leeway [`JwtAuth::leeway`] accepts; larger values are lowered to it. An hour
/// already accepts tokens an hour past their expiry.
pub const MAX_LEEWAY: Duration = Duration::from_secs(3600);

enum Keys {
    /// One key (an HMAC secret or a PEM public key); every pinned algorithm is of its family.
    Single(DecodingKey),
    /// A key set, searched by `kid`.
    Set(Arc<JwksCache>),
}

/// Verifies JSON Web Tokens: Mastra's `MastraJwtAuth`, with its weaknesses fixed.
///
/// - The algorithms are pinned when it is built: a token whose header names another one
///   (`none`, `HS256` against an RSA key, `HS512` against an `HS256` secret) is refused.
/// - `exp` is required, `nbf` is checked, `iss` and `aud` are checked when configured, with a
///   configurable leeway ([`DEFAULT_LEEWAY`]).
/// - Keys: an HMAC secret (at least as long as the hash, RFC 7518 section 3.2), a PEM public key
///   (RSA, RSA-PSS, ECDSA, Ed25519), or a JSON Web Key Set from a file or an HTTP URL, cached and
///   reloaded when a token names an unknown `kid` (at most once per
///   [`JwtAuth::jwks_refresh_interval`]).
///
/// The verified claims (a JSON object) become the user.
///
/// ```
/// use std::time::Duration;
/// use mastra_runtime::{auth::JwtAuth, ServerConfig};
///
/// let auth = JwtAuth::hs256("a secret of at least thirty-two bytes!")?
///     .issuer("https://auth.example.com")
///     .audience("my-api")
///     .leeway(Duration::from_secs(30));
/// let config = ServerConfig::default().auth(auth);
/// # Ok::<(), mastra_runtime::auth::AuthConfigError>(())
/// ```
pub struct JwtAuth {
    keys: Keys,
    algorithms: Vec<Algorithm>,
    issuers: Option<Vec<String>>,
    audiences: Option<Vec<String>>,
    leeway: Duration,
    /// Every pinned algorithm (used with a single key, whose family they all share).
    validation: Validation,
    /// One validation per pinned algorithm (used with a key set, whose keys may differ in
    /// family), built once so verifying allocates none.
    per_algorithm: Vec<(Algorithm, Validation)>,
}

impl fmt::Debug for JwtAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuth")
            .field(
                "keys",
                &match &self.keys {
                    Keys::Single(_) => "single key",
                    Keys::Set(_) => "key set",
                },
            )
            .field("algorithms", &self.algorithms)
            .field("issuers", &self.issuers)
            .field("audiences", &self.audiences)
            .field("leeway", &self.leeway)
            .finish()
    }
}

fn family_name(family: AlgorithmFamily) -> &'static str {
    match family {
        AlgorithmFamily::Hmac => "an HMAC secret",
        AlgorithmFamily::Rsa => "an RSA key",
        AlgorithmFamily::Ec => "an ECDSA key",
        AlgorithmFamily::Ed => "an Ed25519 key",
    }
}

/// The smallest secret for an HMAC algorithm: the size of its hash.
fn min_secret_len(algorithm: Algorithm) -> usize {
    match algorithm {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

fn pinned(algorithms: &[Algorithm]) -> Result<Vec<Algorithm>, AuthConfigError> {
    let mut list = Vec::with_capacity(algorithms.len());
    for alg in algorithms {
        if !list.contains(alg) {
            list.push(*alg);
        }
    }
    if list.is_empty() {
        return Err(AuthConfigError::NoAlgorithm);
    }
    Ok(list)
}

fn same_family(algorithms: &[Algorithm], family: AlgorithmFamily) -> Result<(), AuthConfigError> {
    match algorithms.iter().find(|a| a.family() != family) {
        Some(other) => Err(AuthConfigError::AlgorithmMismatch {
            algorithm: *other,
            key: family_name(family),
        }),
        None => Ok(()),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, AuthConfigError> {
    std::fs::read(path).map_err(|source| AuthConfigError::ReadFile {
        path: path.to_owned(),
        source,
    })
}

impl JwtAuth {
    fn with_keys(keys: Keys, algorithms: Vec<Algorithm>) -> Self {
        let mut auth = Self {
            keys,
            algorithms,
            issuers: None,
            audiences: None,
            leeway: DEFAULT_LEEWAY,
            validation: Validation::default(),
            per_algorithm: Vec::new(),
        };
        auth.rebuild();
        auth
    }

    fn rebuild(&mut self) {
        self.validation = self.build_validation(self.algorithms.clone());
        self.per_algorithm = self
            .algorithms
            .iter()
            .map(|alg| (*alg, self.build_validation(vec![*alg])))
            .collect();
    }

    fn build_validation(&self, algorithms: Vec<Algorithm>) -> Validation {
        let mut v = Validation::new(algorithms[0]);
        v.algorithms = algorithms;
        v.leeway = self.leeway.as_secs();
        v.validate_exp = true;
        v.validate_nbf = true;
        let mut required = HashSet::from(["exp".to_owned()]);
        match &self.issuers {
            Some(issuers) => {
                v.set_issuer(issuers);
                required.insert("iss".to_owned());
            }
            None => v.iss = None,
        }
        match &self.audiences {
            Some(audiences) => {
                v.set_audience(audiences);
                v.validate_aud = true;
                required.insert("aud".to_owned());
            }
            // No audience configured: an `aud` claim is the issuer's business, not ours.
            None => v.validate_aud = false,
        }
        v.required_spec_claims = required;
        v
    }

    /// HS256 with this secret (at least 32 bytes).
    pub fn hs256(secret: impl AsRef<[u8]>) -> Result<Self, AuthConfigError> {
        Self::hmac(secret, &[Algorithm::HS256])
    }

    /// HS256 with the secret in `MASTRA_JWT_SECRET` ([`SECRET_ENV_VAR`]).
    pub fn from_env() -> Result<Self, AuthConfigError> {
        Self::hs256_from_env(SECRET_ENV_VAR)
    }

    /// HS256 with the secret in the environment variable `var`; a clear error when it is
    /// missing, empty or too short.
    pub fn hs256_from_env(var: &str) -> Result<Self, AuthConfigError> {
        let secret = std::env::var_os(var).ok_or_else(|| AuthConfigError::MissingSecret {
            var: var.to_owned(),
        })?;
        if secret.is_empty() {
            return Err(AuthConfigError::EmptySecret {
                origin: var.to_owned(),
            });
        }
        Self::hmac(secret.as_encoded_bytes(), &[Algorithm::HS256])
    }

    /// An HMAC secret with the given algorithms pinned (`HS256`, `HS384`, `HS512`).
    pub fn hmac(
        secret: impl AsRef<[u8]>,
        algorithms: &[Algorithm],
    ) -> Result<Self, AuthConfigError> {
        backend::ensure_usable()?;
        let secret = secret.as_ref();
        let algorithms = pinned(algorithms)?;
        same_family(&algorithms, AlgorithmFamily::Hmac)?;
        if secret.is_empty() {
            return Err(AuthConfigError::EmptySecret {
                origin: "the configuration".to_owned(),
            });
        }
        for alg in &algorithms {
            let min = min_secret_len(*alg);
            if secret.len() < min {
                return Err(AuthConfigError::WeakSecret {
                    algorithm: *alg,
                    len: secret.len(),
                    min,
                });
            }
        }
        let key = DecodingKey::from_secret(secret).map_err(|e| AuthConfigError::InvalidKey {
            what: "HMAC secret".to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self::with_keys(Keys::Single(key), algorithms))
    }

    /// A PEM public key with the given algorithms pinned, all of the key's family:
    /// `RS256`/`RS384`/`RS512`/`PS256`/`PS384`/`PS512` for an RSA key, `ES256`/`ES384` for an
    /// ECDSA key, `EdDSA` for an Ed25519 key.
    pub fn public_key_pem(
        pem: impl AsRef<[u8]>,
        algorithms: &[Algorithm],
    ) -> Result<Self, AuthConfigError> {
        backend::ensure_usable()?;
        let algorithms = pinned(algorithms)?;
        let family = algorithms[0].family();
        same_family(&algorithms, family)?;
        let pem = pem.as_ref();
        let (what, parsed) = match family {
            AlgorithmFamily::Rsa => ("RSA public key PEM", DecodingKey::from_rsa_pem(pem)),
            AlgorithmFamily::Ec => ("ECDSA public key PEM", DecodingKey::from_ec_pem(pem)),
            AlgorithmFamily::Ed => ("Ed25519 public key PEM", DecodingKey::from_ed_pem(pem)),
            AlgorithmFamily::Hmac => {
                return Err(AuthConfigError::AlgorithmMismatch {
                    algorithm: algorithms[0],
                    key: "a PEM public key",
                })
            }
        };
        let key = parsed.map_err(|e| AuthConfigError::InvalidKey {
            what: what.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self::with_keys(Keys::Single(key), algorithms))
    }

    /// [`JwtAuth::public_key_pem`] with the PEM read from a file.
    pub fn public_key_pem_file(
        path: impl AsRef<Path>,
        algorithms: &[Algorithm],
    ) -> Result<Self, AuthConfigError> {
        Self::public_key_pem(read(path.as_ref())?, algorithms)
    }

    /// A JSON Web Key Set given as text; never reloaded.
    pub fn jwks_json(json: &str, algorithms: &[Algorithm]) -> Result<Self, AuthConfigError> {
        backend::ensure_usable()?;
        let algorithms = pinned(algorithms)?;
        let table = KeyTable::parse(json.as_bytes(), &algorithms, "the configured JWKS")?;
        let cache = JwksCache::new(JwksSource::Fixed, algorithms.clone(), Some(table));
        Ok(Self::with_keys(Keys::Set(Arc::new(cache)), algorithms))
    }

    /// A JSON Web Key Set in a local file: read now (a missing or invalid file fails startup),
    /// read again when a token names an unknown `kid` or the set is past its time to live.
    pub fn jwks_file(
        path: impl AsRef<Path>,
        algorithms: &[Algorithm],
    ) -> Result<Self, AuthConfigError> {
        backend::ensure_usable()?;
        let algorithms = pinned(algorithms)?;
        let path = path.as_ref().to_owned();
        let table = KeyTable::parse(&read(&path)?, &algorithms, &path.display().to_string())?;
        let cache = JwksCache::new(JwksSource::File(path), algorithms.clone(), Some(table));
        Ok(Self::with_keys(Keys::Set(Arc::new(cache)), algorithms))
    }

    #[cfg(feature = "jwks-url")]
    /// A JSON Web Key Set served over HTTP(S): fetched at the first request that needs it,
    /// cached, and fetched again when a token names an unknown `kid` or the set is past its
    /// time to live. Fetches are bounded by [`JWKS_FETCH_TIMEOUT`] and [`JWKS_MAX_BYTES`].
    pub fn jwks_url(url: &str, algorithms: &[Algorithm]) -> Result<Self, AuthConfigError> {
        Self::jwks_url_with_client(url, algorithms, jwks::default_client()?)
    }

    #[cfg(feature = "jwks-url")]
    /// [`JwtAuth::jwks_url`] with your own HTTP client (proxy, TLS roots, timeouts).
    pub fn jwks_url_with_client(
        url: &str,
        algorithms: &[Algorithm],
        client: reqwest::Client,
    ) -> Result<Self, AuthConfigError> {
        backend::ensure_usable()?;
        let algorithms = pinned(algorithms)?;
        let invalid = |reason: &str| AuthConfigError::InvalidJwksUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid("only http and https URLs are fetched"));
        }
        let source = JwksSource::Url {
            url: parsed,
            client,
        };
        let cache = JwksCache::new(source, algorithms.clone(), None);
        Ok(Self::with_keys(Keys::Set(Arc::new(cache)), algorithms))
    }

    /// Accepts only tokens whose `iss` is `issuer` (and requires `iss`).
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        self.issuers([issuer.into()])
    }

    /// Accepts only tokens whose `iss` is one of `issuers` (and requires `iss`).
    pub fn issuers<I: IntoIterator<Item = S>, S: Into<String>>(mut self, issuers: I) -> Self {
        self.issuers = Some(issuers.into_iter().map(Into::into).collect());
        self.rebuild();
        self
    }

    /// Accepts only tokens whose `aud` names `audience` (and requires `aud`).
    pub fn audience(self, audience: impl Into<String>) -> Self {
        self.audiences([audience.into()])
    }

    /// Accepts only tokens whose `aud` names one of `audiences` (and requires `aud`).
    pub fn audiences<I: IntoIterator<Item = S>, S: Into<String>>(mut self, audiences: I) -> Self {
        self.audiences = Some(audiences.into_iter().map(Into::into).collect());
        self.rebuild();
        self
    }

    /// Clock skew allowed on `exp` and `nbf` (default [`DEFAULT_LEEWAY`], at most
    /// [`MAX_LEEWAY`]; whole seconds).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        if leeway > MAX_LEEWAY {
            tracing::warn!(target: "mastra::auth", ?leeway, max = ?MAX_LEEWAY, "JWT leeway lowered to the maximum");
        }
        self.leeway = leeway.min(MAX_LEEWAY);
        self.rebuild();
        self
    }

    /// The shortest time between two reloads of a JWKS file or URL (default
    /// [`DEFAULT_JWKS_REFRESH_INTERVAL`]). No effect on other keys.
    pub fn jwks_refresh_interval(mut self, interval: Duration) -> Self {
        if let Keys::Set(cache) = &mut self.keys {
            if let Some(cache) = Arc::get_mut(cache) {
                cache.min_refresh_interval = interval;
            }
        }
        self
    }

    /// How long a loaded JWKS is used before it is reloaded (default
    /// [`DEFAULT_JWKS_CACHE_TTL`]). No effect on other keys.
    pub fn jwks_cache_ttl(mut self, ttl: Duration) -> Self {
        if let Keys::Set(cache) = &mut self.keys {
            if let Some(cache) = Arc::get_mut(cache) {
                cache.ttl = ttl;
            }
        }
        self
    }

    /// The pinned algorithms.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// Verifies `token` and returns its claims, or why it was refused.
    pub async fn verify(&self, token: &str) -> Result<Value, JwtRejection> {
        let claims = match &self.keys {
            Keys::Single(key) => decode::<Value>(token, key, &self.validation)?.claims,
            Keys::Set(cache) => {
                let header = decode_header(token)?;
                // jsonwebtoken wants every listed algorithm of the key's family, so a set
                // that mixes families is verified with the one validation for this algorithm.
                let Some((_, validation)) = self
                    .per_algorithm
                    .iter()
                    .find(|(alg, _)| *alg == header.alg)
                else {
                    return Err(JwtRejection::Algorithm(header.alg));
                };
                let decoded = cache
                    .with_key(header.kid.as_deref(), header.alg, |key| {
                        decode::<Value>(token, key, validation)
                    })
                    .await
                    .map_err(|lookup| match lookup {
                        jwks::Lookup::UnknownKid => JwtRejection::UnknownKey(header.kid.clone()),
                        jwks::Lookup::Ambiguous => JwtRejection::UnknownKey(None),
                    })?;
                decoded?.claims
            }
        };
        if claims.is_object() {
            Ok(claims)
        } else {
            Err(JwtRejection::NotAnObject)
        }
    }
}

/// Why [`JwtAuth::verify`] refused a token. Logged at debug level; never sent to the client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtRejection {
    /// Malformed, bad signature, expired, not yet valid, wrong issuer or audience, algorithm
    /// not pinned: jsonwebtoken's reason.
    #[error(transparent)]
    Invalid(#[from] jsonwebtoken::errors::Error),
    /// The header names an algorithm that is not pinned.
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(Algorithm),
    /// No key in the set for the token's `kid` (or, without `kid`, no single key).
    #[error("no key for kid {0:?}")]
    UnknownKey(Option<String>),
    /// The claims are not a JSON object.
    #[error("the claims are not a JSON object")]
    NotAnObject,
}

impl AuthProvider for JwtAuth {
    async fn authenticate_token(&self, token: &str, request: &HttpRequest) -> Option<Value> {
        match self.verify(token).await {
            Ok(claims) => Some(claims),
            Err(reason) => {
                tracing::debug!(target: "mastra::auth", path = request.path(), %reason, "token refused");
                None
            }
        }
    }
}
