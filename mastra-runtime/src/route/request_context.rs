//! The per-request context: a map that middleware writes and handlers read.

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    fmt,
    future::{ready, Ready},
    sync::{Arc, PoisonError, RwLock},
};

use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};

/// The request-context key the verified user is stored under (Mastra's `user`; clients can never
/// set it).
pub const USER_KEY: &str = "user";

/// The verified user of a request, as the auth layer or the `AuthUser` extractor left it.
#[derive(Clone)]
struct VerifiedUser(Arc<Value>);

/// The request's verified user, if any.
pub(crate) fn user_of(req: &HttpRequest) -> Option<Arc<Value>> {
    req.extensions()
        .get::<VerifiedUser>()
        .map(|user| Arc::clone(&user.0))
}

/// Makes `user` the request's user: in the request context under [`USER_KEY`] and for
/// `AuthUser` / `Context::user`.
///
/// The context is only written here when it already exists (a middleware before auth asked
/// for it); otherwise [`RequestContext::of`] seeds it from the verified user when it is first
/// asked for, so a request whose handler never reads the context does not pay for building
/// one and copying the claims into it.
pub(crate) fn store_user(req: &HttpRequest, user: Value) -> Arc<Value> {
    if let Some(ctx) = RequestContext::existing(req) {
        ctx.set(USER_KEY, user.clone());
    }
    let user = Arc::new(user);
    req.extensions_mut().insert(VerifiedUser(Arc::clone(&user)));
    user
}

/// Keys the runtime owns. Client input never sets them.
pub const RESERVED_KEYS: &[&str] = &[
    "mastra__resourceId",
    "mastra__threadId",
    "mastra__user",
    "user",
];

#[derive(Default)]
struct Inner {
    values: Map<String, Value>,
    typed: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

/// A per-request map shared by middleware, auth and the handler (Mastra's `RequestContext`).
///
/// String keys hold JSON values (what clients may send and what workflows persist); typed slots
/// hold any Rust value, one per type. Cloning is cheap and every clone sees the same map.
///
/// ```
/// use mastra_runtime::RequestContext;
/// let ctx = RequestContext::new();
/// ctx.set("tenant", "acme");
/// assert_eq!(ctx.get_as::<String>("tenant").as_deref(), Some("acme"));
/// ctx.insert(42_u32);
/// assert_eq!(ctx.get_typed::<u32>(), Some(42));
/// ```
#[derive(Clone, Default)]
pub struct RequestContext {
    inner: Arc<RwLock<Inner>>,
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.read(|i| i.values.clone()))
            .finish()
    }
}

impl RequestContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// The context of `req`, created on first use. Middleware and handlers of one request share it.
    pub fn of(req: &HttpRequest) -> Self {
        if let Some(ctx) = req.extensions().get::<RequestContext>() {
            return ctx.clone();
        }
        let ctx = RequestContext::new();
        // The auth layer verified the user before anyone asked for the context: it is the
        // context's `user` from the start (see `auth::layer::store_user`).
        if let Some(user) = user_of(req) {
            ctx.set(USER_KEY, Value::clone(&user));
        }
        req.extensions_mut().insert(ctx.clone());
        ctx
    }

    /// The context of `req` if something already asked for it.
    pub(crate) fn existing(req: &HttpRequest) -> Option<Self> {
        req.extensions().get::<RequestContext>().cloned()
    }

    // A poisoned lock only means another holder panicked mid-update of a plain map; the map is
    // still structurally sound, so keep serving instead of propagating the panic.
    fn read<R>(&self, f: impl FnOnce(&Inner) -> R) -> R {
        f(&self.inner.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn write<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.inner.write().unwrap_or_else(PoisonError::into_inner))
    }

    /// Sets `key` to a JSON value.
    pub fn set(&self, key: impl Into<String>, value: impl Into<Value>) {
        let (key, value) = (key.into(), value.into());
        self.write(|i| i.values.insert(key, value));
    }

    /// Sets `key` to any serializable value.
    pub fn set_serialized<T: Serialize + ?Sized>(
        &self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(value)?;
        self.set(key, value);
        Ok(())
    }

    /// The JSON value under `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.read(|i| i.values.get(key).cloned())
    }

    /// The value under `key`, deserialized into `T`; `None` if absent or of another shape.
    pub fn get_as<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.get(key).and_then(|v| serde_json::from_value(v).ok())
    }

    /// Whether `key` is set.
    pub fn has(&self, key: &str) -> bool {
        self.read(|i| i.values.contains_key(key))
    }

    /// Removes `key`, returning its value.
    pub fn delete(&self, key: &str) -> Option<Value> {
        self.write(|i| i.values.remove(key))
    }

    /// The keys, in insertion-independent (sorted) order.
    pub fn keys(&self) -> Vec<String> {
        self.read(|i| i.values.keys().cloned().collect())
    }

    /// Every JSON entry as one object.
    pub fn to_json(&self) -> Value {
        Value::Object(self.read(|i| i.values.clone()))
    }

    /// Takes entries sent by a client (`requestContext` in a body or query). Reserved keys are
    /// dropped and keys already set (by middleware or auth) are kept as they are.
    pub fn merge_from_client(&self, entries: Map<String, Value>) {
        self.write(|i| {
            for (key, value) in entries {
                if RESERVED_KEYS.contains(&key.as_str()) || i.values.contains_key(&key) {
                    continue;
                }
                i.values.insert(key, value);
            }
        });
    }

    /// Stores a typed value, replacing any earlier value of the same type.
    pub fn insert<T: Send + Sync + 'static>(&self, value: T) {
        self.write(|i| i.typed.insert(TypeId::of::<T>(), Box::new(value)));
    }

    /// A clone of the typed value of type `T`.
    pub fn get_typed<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.read(|i| {
            i.typed
                .get(&TypeId::of::<T>())
                .and_then(|b| b.downcast_ref::<T>())
                .cloned()
        })
    }
}

impl FromRequest for RequestContext {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(RequestContext::of(req)))
    }
}

/// Middleware and the runtime fill it, not the client directly: it adds nothing to the
/// operation.
impl crate::describe::DescribeInput for RequestContext {
    fn describe_input(_: &mut crate::describe::Inference) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_entries_never_override_middleware_or_reserved_keys() {
        let ctx = RequestContext::new();
        ctx.set("tenant", "from-middleware");
        let mut client = Map::new();
        client.insert("tenant".into(), "from-client".into());
        client.insert("mastra__resourceId".into(), "evil".into());
        client.insert("locale".into(), "fr".into());
        ctx.merge_from_client(client);
        assert_eq!(ctx.get("tenant"), Some("from-middleware".into()));
        assert_eq!(ctx.get("mastra__resourceId"), None);
        assert_eq!(ctx.get("locale"), Some("fr".into()));
    }
}
