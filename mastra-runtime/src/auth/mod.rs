//! Authentication and authorization: Mastra's auth provider interface, the built-in
//! [`JwtAuth`], token sources, path patterns and rules, the per-route auth layer and the
//! [`AuthUser`] extractor.
//!
//! With no provider configured every route is public. With one:
//!
//! - built-in `/api/*` routes and custom routes need a valid token; a route declared with
//!   `requires_auth = false` does not, and `/health` never does;
//! - a missing or invalid token gets 401 `{"error":"Invalid or expired token"}` with
//!   `WWW-Authenticate: Bearer` (one body for every reason; the reason is logged at debug
//!   level), a denied user 403 `{"error":"Access denied"}`, a failing authorizer 500
//!   `{"error":"Authorization error"}`;
//! - the verified claims become the user: in the request context under `user`, from
//!   [`Context::user`](crate::Context::user), or as an [`AuthUser<T>`] argument.
//!
//! Which routes are protected is decided once, at startup (see [`AuthConfig`]); a public route
//! gets no auth layer at all.
//!
//! ```no_run
//! use mastra_runtime::{auth::JwtAuth, prelude::*};
//!
//! #[api_route("/protected-data", method = "GET")]
//! async fn protected(c: Context) -> HttpResponse {
//!     c.json(json!({ "user": c.user().as_deref() }))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), MastraError> {
//!     Mastra::builder()
//!         .server(ServerConfig::default().auth(JwtAuth::from_env()?))
//!         .build()?
//!         .serve()
//!         .await
//! }
//! ```

mod error;
#[cfg(feature = "jwt")]
mod jwt;
mod layer;
mod provider;
mod rules;
mod token;
mod user;

use std::{fmt, sync::Arc};

use actix_web::HttpRequest;
use serde_json::Value;

pub use crate::route::USER_KEY;
pub use error::AuthConfigError;
#[cfg(feature = "jwt")]
pub use jwt::{
    JwtAuth, JwtRejection, DEFAULT_JWKS_CACHE_TTL, DEFAULT_JWKS_REFRESH_INTERVAL, DEFAULT_LEEWAY,
    JWKS_FETCH_TIMEOUT, JWKS_MAX_BYTES, MAX_LEEWAY, SECRET_ENV_VAR,
};
pub use provider::{Access, AuthProvider, AuthorizeError};
pub use rules::Rule;
pub use token::{TokenSources, DEFAULT_API_KEY_PARAM, MAX_TOKEN_BYTES};
pub use user::AuthUser;

/// The JWT library the runtime verifies with, for minting tokens (tests, tools) and naming
/// algorithms: `auth::jsonwebtoken::{encode, EncodingKey, Header, Algorithm}`.
#[cfg(feature = "jwt")]
pub use jsonwebtoken;
#[cfg(feature = "jwt")]
pub use jsonwebtoken::Algorithm;

pub(crate) use provider::DynProvider;
pub(crate) use rules::{CompiledRule, PathMatch, RouteRules};

use crate::route::{PathPattern, RouteMethod};

/// The auth setting of a server: a provider, where tokens are read from, and which routes
/// are protected and for whom.
///
/// Any [`AuthProvider`] converts into one with the defaults, so
/// `ServerConfig::default().auth(JwtAuth::from_env()?)` is enough; build it to change them.
///
/// Which routes need a token, decided per route at startup:
/// 1. `/health` never does;
/// 2. a route covered by a [`public`](AuthConfig::public) pattern (for every method it
///    answers) does not;
/// 3. a route covered by a [`protected`](AuthConfig::protected) pattern (for some method it
///    answers) does, even if it was declared with `requires_auth = false`;
/// 4. otherwise the route's own `requires_auth` decides (`true` unless declared otherwise;
///    the OpenAPI document and Swagger UI follow [`ServerConfig::protect_docs`]).
///
/// [`ServerConfig::protect_docs`]: crate::ServerConfig::protect_docs
///
/// Then, for a protected route, the provider's [`authorize_user`](AuthProvider::authorize_user)
/// must allow the user, and, when any [`Rule`] is configured, the first rule matching the
/// request must allow it (none matching: denied).
///
/// ```
/// use mastra_runtime::{auth::{AuthConfig, JwtAuth, Rule}, prelude::*};
///
/// let auth = AuthConfig::new(JwtAuth::hs256("a secret of at least thirty-two bytes!")?)
///     .api_key_query(false)                       // only the Authorization header ...
///     .cookie("mastra_token")                     // ... or this cookie
///     .public("/status/*")                        // no token needed here
///     .protected("/webhooks/internal")            // a token needed here, whatever the route says
///     .rule(Rule::deny("/api/*").methods([RouteMethod::Delete]))
///     .rule(Rule::allow("/*"));
/// let config = ServerConfig::default().auth(auth);
/// # let _ = config;
/// # Ok::<(), mastra_runtime::auth::AuthConfigError>(())
/// ```
pub struct AuthConfig {
    pub(crate) provider: Arc<dyn DynProvider>,
    pub(crate) tokens: TokenSources,
    public: Vec<PathMatch>,
    protected: Vec<PathMatch>,
    rules: Vec<CompiledRule>,
    problems: Vec<AuthConfigError>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("tokens", &self.tokens)
            .field("public", &self.public.len())
            .field("protected", &self.protected.len())
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

impl<P: AuthProvider> From<P> for AuthConfig {
    fn from(provider: P) -> Self {
        AuthConfig::new(provider)
    }
}

impl AuthConfig {
    /// `provider` with the default token sources (Bearer header, then `?apiKey=`), no extra
    /// patterns and no rules.
    pub fn new(provider: impl AuthProvider) -> Self {
        Self {
            provider: Arc::new(provider),
            tokens: TokenSources::default(),
            public: Vec::new(),
            protected: Vec::new(),
            rules: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Whether `?apiKey=` is read when there is no `Authorization` header (on by default, as
    /// in Mastra). Tokens in URLs end up in proxy logs and browser history: turn it off when
    /// your clients can send headers.
    pub fn api_key_query(mut self, enabled: bool) -> Self {
        self.tokens.api_key_param = enabled.then(|| DEFAULT_API_KEY_PARAM.to_owned());
        self
    }

    /// Reads the token from the cookie `name` when neither the header nor the query has one.
    /// Not combinable with CORS that reflects every origin (startup refuses it).
    pub fn cookie(mut self, name: impl Into<String>) -> Self {
        self.tokens.cookie = Some(name.into());
        self
    }

    /// Routes under `pattern` (`/x` exactly or `/x/*`) need no token.
    pub fn public(self, pattern: &str) -> Self {
        self.public_methods(pattern, None)
    }

    /// Routes under `pattern` need no token for these methods. A route answering every
    /// method is made public only by a pattern without methods.
    pub fn public_methods(
        mut self,
        pattern: &str,
        methods: impl Into<Option<Vec<RouteMethod>>>,
    ) -> Self {
        match PathMatch::parse(pattern, methods.into()) {
            Ok(m) => self.public.push(m),
            Err(e) => self.problems.push(e),
        }
        self
    }

    /// Routes under `pattern` need a token, even those declared `requires_auth = false`.
    pub fn protected(self, pattern: &str) -> Self {
        self.protected_methods(pattern, None)
    }

    /// Routes under `pattern` answering one of these methods need a token.
    pub fn protected_methods(
        mut self,
        pattern: &str,
        methods: impl Into<Option<Vec<RouteMethod>>>,
    ) -> Self {
        match PathMatch::parse(pattern, methods.into()) {
            Ok(m) => self.protected.push(m),
            Err(e) => self.problems.push(e),
        }
        self
    }

    /// Adds an ordered authorization rule (see [`Rule`]).
    pub fn rule(mut self, rule: Rule) -> Self {
        match PathMatch::parse(&rule.pattern, rule.methods) {
            Ok(target) => self.rules.push(CompiledRule {
                target,
                access: rule.access,
                condition: rule.condition,
            }),
            Err(e) => self.problems.push(e),
        }
        self
    }

    /// Where tokens are read from.
    pub fn token_sources(&self) -> &TokenSources {
        &self.tokens
    }

    /// The first problem met while building this configuration (a bad pattern), if any.
    pub(crate) fn take_problem(&mut self) -> Result<(), AuthConfigError> {
        match self.problems.drain(..).next() {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    /// Whether the route needs a token (see the type's documentation for the order).
    pub(crate) fn protects(
        &self,
        pattern: &PathPattern,
        method: RouteMethod,
        requires_auth: bool,
        always_public: bool,
    ) -> bool {
        if always_public || self.public.iter().any(|p| p.covers_all(pattern, method)) {
            return false;
        }
        requires_auth
            || self
                .protected
                .iter()
                .any(|p| p.covers_some(pattern, method))
    }

    /// The auth layer of one protected route.
    pub(crate) fn layer(
        &self,
        pattern: &PathPattern,
        method: RouteMethod,
    ) -> (crate::route::Middleware, bool) {
        let rules = RouteRules::for_route(&self.rules, pattern, method);
        let denies = rules.denies_everything();
        (
            Arc::clone(&self.provider).layer(self.tokens.clone(), rules),
            denies,
        )
    }
}

// Lets the shared check run on a provider behind a pointer (the extractor's path).
impl AuthProvider for dyn DynProvider {
    async fn authenticate_token(&self, token: &str, request: &HttpRequest) -> Option<Value> {
        self.authenticate(token, request).await
    }

    async fn authorize_user(
        &self,
        user: &Value,
        request: &HttpRequest,
    ) -> Result<Access, AuthorizeError> {
        self.authorize(user, request).await
    }
}
