//! Assembles the actix-web `App` from the route table and runs the server.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use actix_cors::Cors;
use actix_web::{
    body::MessageBody,
    dev::{ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse},
    guard,
    http::{header, Method},
    middleware::Condition,
    web, App, HttpResponse, HttpServer,
};

use super::{
    config::{AllowedOrigins, CorsConfig},
    core::{not_found, Core, RouteGuard},
};
use tokio_util::sync::CancellationToken;

use crate::{
    background::BackgroundTasks,
    disconnect,
    error::MastraError,
    mastra::Mastra,
    route::{middleware::wrap_in_order, table::MountedRoute, RouteMethod, Segment},
};

/// Builds the application for one worker.
pub(crate) fn build_app(
    mastra: Mastra,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let config = mastra.config();
    let limit = config.body_limit;
    let core = Core {
        body_limit: limit,
        head_limits: config.head_limits,
    };
    let cors = cors_middleware(&config.cors, mastra.is_auth_configured());
    let routes = mastra.routes_arc();
    let guard = RouteGuard {
        timeout: config.timeout,
    };
    App::new()
        .app_data(mastra.clone())
        .app_data(web::PayloadConfig::new(limit))
        .app_data(web::JsonConfig::default().limit(limit))
        .app_data(web::FormConfig::default().limit(limit))
        .configure(move |cfg| mount(cfg, &routes, &guard))
        .default_service(web::to(not_found))
        .wrap(Condition::new(config.cors.enabled, cors))
        .wrap(core)
}

fn cors_middleware(config: &CorsConfig, auth_configured: bool) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(
            config
                .allow_methods
                .iter()
                .filter_map(|m| Method::from_bytes(m.as_bytes()).ok()),
        )
        .allowed_headers(
            config
                .allow_headers
                .iter()
                .filter_map(|h| header::HeaderName::from_bytes(h.as_bytes()).ok()),
        )
        .expose_headers(
            config
                .expose_headers
                .iter()
                .filter_map(|h| header::HeaderName::from_bytes(h.as_bytes()).ok()),
        )
        .max_age(config.max_age);
    match &config.origins {
        AllowedOrigins::Auto if auth_configured => {
            cors = cors.allow_any_origin().supports_credentials()
        }
        AllowedOrigins::Auto | AllowedOrigins::Any => {
            cors = cors.allow_any_origin().send_wildcard()
        }
        AllowedOrigins::Reflect => cors = cors.allow_any_origin().supports_credentials(),
        AllowedOrigins::List(origins) => {
            for origin in origins {
                cors = cors.allowed_origin(origin);
            }
            cors = cors.supports_credentials();
        }
    }
    cors
}

fn method_guard(method: RouteMethod) -> Option<guard::AnyGuard> {
    let single = |m: Method| guard::Any(guard::Method(m));
    Some(match method {
        RouteMethod::Get => single(Method::GET).or(guard::Head()),
        RouteMethod::Post => single(Method::POST),
        RouteMethod::Put => single(Method::PUT),
        RouteMethod::Patch => single(Method::PATCH),
        RouteMethod::Delete => single(Method::DELETE),
        RouteMethod::All => return None,
    })
}

/// Registers one resource per route, guarded by its method, then one catch-all per path shape
/// that answers 405 with `Allow`.
///
/// Resource guards make actix-web's router try the next resource when the method does not
/// match, so routes with the same shape but different parameter names (`/items/:id` GET and
/// `/items/:itemId` POST) each keep their own names, and a literal route (`/items/new` GET)
/// does not hide a parameter route (`/items/:id` POST) for other methods.
///
/// actix-web tries resources one by one, and each parameterised one is a regex match. When no
/// route starts with a parameter, resources are grouped in one scope per first segment
/// (`/api`, `/items`, ...): a request then pays a prefix comparison per group and regex
/// matches only within its own group, so custom routes do not pay for the built-in ones.
fn mount(cfg: &mut web::ServiceConfig, routes: &[MountedRoute], guard: &RouteGuard) {
    let mut order: Vec<&MountedRoute> = routes.iter().collect();
    order.sort_by(|a, b| {
        a.pattern
            .specificity_key()
            .cmp(&b.pattern.specificity_key())
    });
    let scoped = !order
        .iter()
        .any(|r| matches!(r.pattern.segments().first(), Some(Segment::Param(_))));
    let mut mounts = Mounts::new(scoped);

    for route in &order {
        let handler = wrap_in_order((route.factory)(), &route.stack).wrap(guard.clone());
        let (group, pattern) = mounts.place(route);
        let mut resource = web::resource(pattern);
        if let Some(guard) = method_guard(route.method) {
            resource = resource.guard(guard);
        }
        if let Some(validator) = &route.validator {
            // The extractors find the route's compiled schemas here.
            resource = resource.app_data(Arc::clone(validator));
        }
        mounts.add(group, resource.route(handler));
    }

    // One 405 catcher per shape, most specific first. A shape's Allow lists the methods of
    // every route whose pattern also matches requests of that shape.
    let mut shapes: BTreeMap<Vec<(u8, &str)>, &MountedRoute> = BTreeMap::new();
    for route in &order {
        shapes
            .entry(route.pattern.specificity_key())
            .or_insert(route);
    }
    for (_, representative) in shapes {
        let covering: Vec<&MountedRoute> = order
            .iter()
            .copied()
            .filter(|r| covers(r.pattern.segments(), representative.pattern.segments()))
            .collect();
        if covering.iter().any(|r| r.method == RouteMethod::All) {
            continue;
        }
        let mut allowed: Vec<&str> = covering
            .iter()
            .flat_map(|r| r.method.http_methods().unwrap_or(&[]))
            .map(Method::as_str)
            .collect();
        allowed.sort_unstable();
        allowed.dedup();
        let allow: Arc<str> = allowed.join(", ").into();
        let (group, pattern) = mounts.place(representative);
        mounts.add(
            group,
            web::resource(pattern).default_service(web::to(move || {
                let allow = Arc::clone(&allow);
                async move {
                    HttpResponse::MethodNotAllowed()
                        .insert_header((header::ALLOW, allow.as_ref()))
                        .json(serde_json::json!({ "error": "Method Not Allowed" }))
                }
            })),
        );
    }
    mounts.register(cfg);
}

/// Resources on their way into the app: at the root, or grouped by first path segment.
struct Mounts {
    scoped: bool,
    root: Vec<actix_web::Resource>,
    groups: BTreeMap<String, Vec<actix_web::Resource>>,
}

impl Mounts {
    fn new(scoped: bool) -> Self {
        Self {
            scoped,
            root: Vec::new(),
            groups: BTreeMap::new(),
        }
    }

    /// The group a route goes in, and its pattern relative to that group.
    fn place(&self, route: &MountedRoute) -> (Option<String>, String) {
        let full = route.pattern.actix();
        match route.pattern.segments().first() {
            Some(Segment::Static(first)) if self.scoped => {
                let prefix = format!("/{first}");
                let rest = full.strip_prefix(&prefix).unwrap_or(&full).to_owned();
                (Some(prefix), rest)
            }
            _ => (None, full),
        }
    }

    fn add(&mut self, group: Option<String>, resource: actix_web::Resource) {
        match group {
            Some(prefix) => self.groups.entry(prefix).or_default().push(resource),
            None => self.root.push(resource),
        }
    }

    fn register(self, cfg: &mut web::ServiceConfig) {
        for resource in self.root {
            cfg.service(resource);
        }
        for (prefix, resources) in self.groups {
            // A request that enters a scope and matches nothing there gets the app's JSON 404.
            let mut scope = web::scope(&prefix);
            for resource in resources {
                scope = scope.service(resource);
            }
            cfg.service(scope);
        }
    }
}

/// Whether every request matching `target` also matches `general`.
fn covers(general: &[Segment], target: &[Segment]) -> bool {
    general.len() == target.len()
        && general.iter().zip(target).all(|(g, t)| match (g, t) {
            (Segment::Param(_), _) => true,
            (Segment::Static(a), Segment::Static(b)) => a == b,
            (Segment::Static(_), Segment::Param(_)) => false,
        })
}

/// A server that is accepting connections.
///
/// Dropping it does not stop the server; call [`RunningServer::stop`] or wait on it.
pub struct RunningServer {
    addr: SocketAddr,
    handle: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    background: BackgroundTasks,
    drain_timeout: Duration,
    /// When a stop signal (SIGINT, SIGTERM) started the shutdown.
    signalled: Arc<OnceLock<Instant>>,
    /// Fires on a second stop signal: stop waiting, exit now.
    force: CancellationToken,
}

impl RunningServer {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port` of the server.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections. With `graceful`, waits (up to the drain timeout, counted
    /// from this call) for in-flight requests and then for tracked background work
    /// ([`Mastra::background`]), and logs what did not finish; otherwise drops both at once.
    pub async fn stop(self, graceful: bool) {
        let started = Instant::now();
        self.handle.stop(graceful).await;
        let _ = self.task.await;
        if graceful {
            self.background
                .drain(started + self.drain_timeout, self.force.cancelled())
                .await;
        } else {
            log_abandoned(&self.background);
        }
    }

    /// Runs until the server stops (SIGINT/SIGTERM or [`RunningServer::stop`] elsewhere), then
    /// waits for tracked background work for what is left of the drain timeout.
    ///
    /// The first SIGINT or SIGTERM starts a graceful shutdown: no new connections, in-flight
    /// requests and background work get the drain timeout to finish. A second one stops at once.
    pub async fn wait(self) -> Result<(), MastraError> {
        let result = match self.task.await {
            Ok(result) => result.map_err(MastraError::Io),
            Err(join) => Err(MastraError::Io(std::io::Error::other(join))),
        };
        let started = self.signalled.get().copied().unwrap_or_else(Instant::now);
        self.background
            .drain(started + self.drain_timeout, self.force.cancelled())
            .await;
        result
    }

    /// A handle that can stop the server from elsewhere.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }
}

fn log_abandoned(background: &BackgroundTasks) {
    for task in background.running() {
        tracing::warn!(
            task = %task.label,
            running_for_ms = task.running_for.as_millis() as u64,
            "background task abandoned by a forced stop"
        );
    }
}

/// Resolves on the first SIGINT or SIGTERM; then a second one fires `force` and stops the
/// server at once.
async fn stop_signal(
    signalled: Arc<OnceLock<Instant>>,
    force: CancellationToken,
    handle: Arc<OnceLock<ServerHandle>>,
) {
    let which = next_signal().await;
    let _ = signalled.set(Instant::now());
    tracing::info!(
        target: "mastra::server",
        "{which} received: finishing in-flight requests and background work (again to stop now)"
    );
    tokio::spawn(async move {
        let which = next_signal().await;
        tracing::warn!(target: "mastra::server", "{which} received again: stopping now");
        force.cancel();
        if let Some(handle) = handle.get() {
            handle.stop(false).await;
        }
    });
}

async fn next_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only SIGINT stops the server");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// Starts serving `mastra` on an already bound listener.
pub(crate) fn start_on(
    mastra: &Mastra,
    listener: std::net::TcpListener,
) -> Result<RunningServer, MastraError> {
    let addr = listener.local_addr()?;
    let config = mastra.config();
    let app_mastra = mastra.clone();
    // Background work runs here, on the runtime that serves, not on a worker's.
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        mastra.background().use_runtime(runtime);
    }
    let signalled = Arc::new(OnceLock::new());
    let force = CancellationToken::new();
    let handle_slot = Arc::new(OnceLock::new());
    let mut server = HttpServer::new(move || build_app(app_mastra.clone()))
        .on_connect(disconnect::on_connect)
        // actix-web counts its drain in whole seconds: round up, so requests get at least the
        // configured time. Background work is drained after it, to the same deadline.
        .shutdown_timeout(config.drain_timeout.as_secs_f64().ceil().max(1.0) as u64)
        .client_request_timeout(config.client_request_timeout)
        .shutdown_signal(stop_signal(
            Arc::clone(&signalled),
            force.clone(),
            Arc::clone(&handle_slot),
        ));
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    let server = server
        .listen(listener)
        .map_err(|source| MastraError::Bind {
            addr: addr.to_string(),
            source,
        })?
        .run();
    let handle = server.handle();
    let _ = handle_slot.set(handle.clone());
    let task = tokio::spawn(server);
    tracing::info!(
        target: "mastra::server",
        "Mastra server listening on http://{addr} ({} routes)",
        mastra.routes().len()
    );
    Ok(RunningServer {
        addr,
        handle,
        task,
        background: mastra.background().clone(),
        drain_timeout: config.drain_timeout,
        signalled,
        force,
    })
}
