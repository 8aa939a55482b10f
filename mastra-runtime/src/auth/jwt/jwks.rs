//! JSON Web Key Sets: parsed into a [`KeyTable`], kept by a [`JwksCache`] that reloads its
//! source (a file or an HTTP URL) when a token names an unknown `kid` or the set is older than
//! its time to live, never more often than the refresh interval allows.

use std::{
    path::PathBuf,
    sync::{Arc, PoisonError, RwLock},
    time::{Duration, Instant},
};

use jsonwebtoken::{
    jwk::{Jwk, KeyOperations, PublicKeyUse},
    Algorithm, AlgorithmFamily, DecodingKey,
};
use serde_json::Value;

use crate::auth::AuthConfigError;

/// Shortest time between two reloads of a JWKS, so that tokens naming random `kid`s cannot
/// make the server hammer the key server. Five seconds: a rotation is seen within that time,
/// and an attacker gets at most one fetch per interval.
pub const DEFAULT_JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(5);
/// How long a fetched JWKS is trusted before it is reloaded (so a key removed from the set
/// stops being accepted). Ten minutes, the cache lifetime identity providers commonly suggest.
pub const DEFAULT_JWKS_CACHE_TTL: Duration = Duration::from_secs(600);
/// Time allowed for one JWKS download, connection included.
pub const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest JWKS document accepted (1 MiB; real sets are a few kilobytes).
pub const JWKS_MAX_BYTES: usize = 1 << 20;

/// One verification key of a set.
#[derive(Clone)]
pub(crate) struct KeyEntry {
    kid: Option<String>,
    alg: Option<Algorithm>,
    family: AlgorithmFamily,
    key: DecodingKey,
}

/// The keys of one version of a set.
#[derive(Clone, Default)]
pub(crate) struct KeyTable {
    keys: Vec<KeyEntry>,
}

/// Why no key was found for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The token names a `kid` the set does not have.
    UnknownKid,
    /// The token names no `kid` and the set has no single key for its algorithm.
    Ambiguous,
}

impl KeyTable {
    /// Parses a JWKS document, keeping the signature keys usable with `algorithms`. Keys of
    /// other types or uses are skipped (with a debug log), as RFC 7517 asks of unknown keys.
    pub(crate) fn parse(
        bytes: &[u8],
        algorithms: &[Algorithm],
        origin: &str,
    ) -> Result<Self, AuthConfigError> {
        let invalid = |reason: String| AuthConfigError::InvalidJwks {
            origin: origin.to_owned(),
            reason,
        };
        let document: Value = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        let Some(keys) = document.get("keys").and_then(Value::as_array) else {
            return Err(invalid("no `keys` array".to_owned()));
        };
        let mut table = KeyTable::default();
        for (index, raw) in keys.iter().enumerate() {
            match entry(raw, algorithms) {
                Ok(entry) => table.keys.push(entry),
                Err(reason) => {
                    tracing::debug!(target: "mastra::auth", origin, index, reason, "JWKS key skipped")
                }
            }
        }
        if table.keys.is_empty() {
            return Err(invalid(format!(
                "no key usable with {algorithms:?} among {} key(s)",
                keys.len()
            )));
        }
        Ok(table)
    }

    /// The key for a token with this `kid` and (already pinned) `alg`.
    pub(crate) fn find(&self, kid: Option<&str>, alg: Algorithm) -> Result<&DecodingKey, Lookup> {
        let fits = |e: &&KeyEntry| e.family == alg.family() && e.alg.is_none_or(|a| a == alg);
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .filter(fits)
                .find(|e| e.kid.as_deref() == Some(kid))
                .map(|e| &e.key)
                .ok_or(Lookup::UnknownKid),
            None => {
                let mut candidates = self.keys.iter().filter(fits);
                match (candidates.next(), candidates.next()) {
                    (Some(only), None) => Ok(&only.key),
                    _ => Err(Lookup::Ambiguous),
                }
            }
        }
    }

    /// How many keys the table holds.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

fn entry(raw: &Value, algorithms: &[Algorithm]) -> Result<KeyEntry, String> {
    let jwk: Jwk = serde_json::from_value(raw.clone()).map_err(|e| e.to_string())?;
    if let Some(usage) = &jwk.common.public_key_use {
        if *usage != PublicKeyUse::Signature {
            return Err("not a signature key (`use` is not `sig`)".to_owned());
        }
    }
    if let Some(ops) = &jwk.common.key_operations {
        if !ops.contains(&KeyOperations::Verify) {
            return Err("`key_ops` does not include `verify`".to_owned());
        }
    }
    let alg = match jwk.common.key_algorithm {
        Some(alg) => Some(Algorithm::try_from(alg).map_err(|e| e.to_string())?),
        None => None,
    };
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
    let family = key.family();
    let usable = algorithms
        .iter()
        .any(|a| a.family() == family && alg.is_none_or(|k| k == *a));
    if !usable {
        return Err(format!("usable with none of {algorithms:?}"));
    }
    Ok(KeyEntry {
        kid: jwk.common.key_id,
        alg,
        family,
        key,
    })
}

/// Where a set is loaded from.
pub(crate) enum JwksSource {
    /// Given once, never reloaded.
    Fixed,
    /// A local file, read again on refresh (rotation by replacing the file).
    File(PathBuf),
    /// An HTTP(S) URL.
    #[cfg(feature = "jwks-url")]
    Url {
        url: reqwest::Url,
        client: reqwest::Client,
    },
}

impl JwksSource {
    fn describe(&self) -> String {
        match self {
            JwksSource::Fixed => "the configured JWKS".to_owned(),
            JwksSource::File(path) => path.display().to_string(),
            #[cfg(feature = "jwks-url")]
            JwksSource::Url { url, .. } => url.to_string(),
        }
    }
}

struct Loaded {
    table: Arc<KeyTable>,
    generation: u64,
    fetched_at: Option<Instant>,
}

struct RefreshState {
    last_attempt: Option<Instant>,
}

/// A set, as last loaded, and the means to reload it.
pub(crate) struct JwksCache {
    source: JwksSource,
    algorithms: Vec<Algorithm>,
    loaded: RwLock<Loaded>,
    refresh: tokio::sync::Mutex<RefreshState>,
    pub(crate) min_refresh_interval: Duration,
    pub(crate) ttl: Duration,
}

impl JwksCache {
    /// A cache that starts with `table` (loaded at startup) or empty (fetched at first use).
    pub(crate) fn new(
        source: JwksSource,
        algorithms: Vec<Algorithm>,
        table: Option<KeyTable>,
    ) -> Self {
        let fetched_at = table.as_ref().map(|_| Instant::now());
        Self {
            source,
            algorithms,
            loaded: RwLock::new(Loaded {
                table: Arc::new(table.unwrap_or_default()),
                generation: 0,
                fetched_at,
            }),
            refresh: tokio::sync::Mutex::new(RefreshState { last_attempt: None }),
            min_refresh_interval: DEFAULT_JWKS_REFRESH_INTERVAL,
            ttl: DEFAULT_JWKS_CACHE_TTL,
        }
    }

    fn snapshot(&self) -> (Arc<KeyTable>, u64, bool) {
        let loaded = self.loaded.read().unwrap_or_else(PoisonError::into_inner);
        let stale = match (&self.source, loaded.fetched_at) {
            (JwksSource::Fixed, _) => false,
            (_, None) => true,
            (_, Some(at)) => at.elapsed() >= self.ttl,
        };
        (Arc::clone(&loaded.table), loaded.generation, stale)
    }

    /// The current table, reloaded first if it was never loaded or is past its time to live,
    /// and reloaded again (rate limited) when the token names a `kid` it lacks. The closure
    /// gets the table and answers with the key lookup.
    pub(crate) async fn with_key<R>(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        use_key: impl Fn(&DecodingKey) -> R,
    ) -> Result<R, Lookup> {
        let (mut table, mut generation, stale) = self.snapshot();
        let mut reloaded = false;
        if stale {
            // A set that has keys keeps serving while another request reloads it; an empty
            // one (never loaded) waits for the load.
            let wait = table.len() == 0;
            reloaded = self.reload(generation, wait).await;
            (table, generation, _) = self.snapshot();
        }
        match table.find(kid, alg) {
            Ok(key) => return Ok(use_key(key)),
            Err(Lookup::UnknownKid) => {}
            Err(other) => return Err(other),
        }
        // Just reloaded for this request: the kid is unknown to the newest set.
        if reloaded || !self.reload(generation, true).await {
            return Err(Lookup::UnknownKid);
        }
        let (table, _, _) = self.snapshot();
        table.find(kid, alg).map(use_key)
    }

    /// Reloads the set unless another task already did since `seen` or the last attempt was
    /// too recent. Returns whether a newer table than `seen` is now in place. Without `wait`,
    /// gives up at once when another task is reloading.
    async fn reload(&self, seen: u64, wait: bool) -> bool {
        let mut state = if wait {
            self.refresh.lock().await
        } else {
            match self.refresh.try_lock() {
                Ok(state) => state,
                Err(_) => return false,
            }
        };
        if self.snapshot().1 != seen {
            return true;
        }
        if matches!(self.source, JwksSource::Fixed) {
            return false;
        }
        if let Some(last) = state.last_attempt {
            if last.elapsed() < self.min_refresh_interval {
                tracing::debug!(target: "mastra::auth", source = %self.source.describe(), "JWKS reload skipped: refreshed too recently");
                return false;
            }
        }
        state.last_attempt = Some(Instant::now());
        match self.fetch().await {
            Ok(table) => {
                let mut loaded = self.loaded.write().unwrap_or_else(PoisonError::into_inner);
                tracing::debug!(target: "mastra::auth", source = %self.source.describe(), keys = table.len(), "JWKS loaded");
                loaded.table = Arc::new(table);
                loaded.generation += 1;
                loaded.fetched_at = Some(Instant::now());
                true
            }
            Err(error) => {
                tracing::warn!(target: "mastra::auth", %error, "JWKS reload failed; keeping the keys already loaded");
                false
            }
        }
    }

    async fn fetch(&self) -> Result<KeyTable, AuthConfigError> {
        let origin = self.source.describe();
        let bytes = match &self.source {
            JwksSource::Fixed => {
                return Err(AuthConfigError::InvalidJwks {
                    origin,
                    reason: "a fixed set is never reloaded".to_owned(),
                })
            }
            JwksSource::File(path) => {
                std::fs::read(path).map_err(|source| AuthConfigError::ReadFile {
                    path: path.clone(),
                    source,
                })?
            }
            #[cfg(feature = "jwks-url")]
            JwksSource::Url { url, client } => {
                download(client, url)
                    .await
                    .map_err(|reason| AuthConfigError::InvalidJwks {
                        origin: origin.clone(),
                        reason,
                    })?
            }
        };
        KeyTable::parse(&bytes, &self.algorithms, &origin)
    }
}

#[cfg(feature = "jwks-url")]
async fn download(client: &reqwest::Client, url: &reqwest::Url) -> Result<Vec<u8>, String> {
    let mut response = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("HTTP status {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > JWKS_MAX_BYTES {
            return Err(format!("larger than {JWKS_MAX_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(feature = "jwks-url")]
/// The HTTP client used for a JWKS URL unless one is given: bounded time, no idle
/// connections kept (fetches are rare, and a pooled connection would belong to one worker).
pub(crate) fn default_client() -> Result<reqwest::Client, AuthConfigError> {
    reqwest::Client::builder()
        .timeout(JWKS_FETCH_TIMEOUT)
        .connect_timeout(JWKS_FETCH_TIMEOUT)
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| AuthConfigError::HttpClient(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn oct(kid: &str, alg: Option<&str>) -> Value {
        let mut key = json!({ "kty": "oct", "kid": kid, "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA" });
        if let Some(alg) = alg {
            key["alg"] = alg.into();
        }
        key
    }

    #[test]
    fn keys_are_found_by_kid_and_pinned_algorithm() {
        let doc = json!({ "keys": [oct("a", Some("HS256")), oct("b", None)] }).to_string();
        let table = KeyTable::parse(
            doc.as_bytes(),
            &[Algorithm::HS256, Algorithm::HS384],
            "test",
        )
        .expect("valid set");
        assert_eq!(table.len(), 2);
        assert!(table.find(Some("a"), Algorithm::HS256).is_ok());
        // The key says HS256 only.
        assert_eq!(
            table.find(Some("a"), Algorithm::HS384).err(),
            Some(Lookup::UnknownKid)
        );
        assert!(table.find(Some("b"), Algorithm::HS384).is_ok());
        assert_eq!(
            table.find(Some("c"), Algorithm::HS256).err(),
            Some(Lookup::UnknownKid)
        );
        // Two candidates and no kid: refuse rather than guess.
        assert_eq!(
            table.find(None, Algorithm::HS256).err(),
            Some(Lookup::Ambiguous)
        );
    }

    #[test]
    fn keys_for_other_uses_or_algorithms_are_skipped() {
        let mut enc = oct("enc", None);
        enc["use"] = "enc".into();
        let doc =
            json!({ "keys": [enc, oct("rs", Some("RS256")), { "kty": "weird" }, oct("ok", None)] })
                .to_string();
        let table =
            KeyTable::parse(doc.as_bytes(), &[Algorithm::HS256], "test").expect("one usable");
        assert_eq!(table.len(), 1);
        assert!(table.find(None, Algorithm::HS256).is_ok());
    }

    #[test]
    fn a_set_without_usable_keys_is_refused() {
        let err = KeyTable::parse(br#"{"keys":[]}"#, &[Algorithm::RS256], "jwks.json")
            .err()
            .expect("refused");
        assert!(err.to_string().contains("jwks.json"), "{err}");
        assert!(KeyTable::parse(b"[]", &[Algorithm::RS256], "x").is_err());
        assert!(KeyTable::parse(b"not json", &[Algorithm::RS256], "x").is_err());
    }
}
