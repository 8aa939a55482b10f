//! Running the application: [`Mastra::serve`], [`Mastra::start`] and [`Mastra::start_on`], the
//! [`RunningServer`] they return, and the shutdown: stop signals, then a graceful drain of
//! in-flight requests and tracked background work.

use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use actix_web::{dev::ServerHandle, HttpServer};
use tokio_util::sync::CancellationToken;

use super::assemble::build_app;
use crate::{
    background::BackgroundTasks,
    config::limits::LISTEN_BACKLOG,
    disconnect,
    mastra::{Mastra, MastraError},
};

impl Mastra {
    /// Serves on the configured host and port until SIGINT or SIGTERM, then drains in-flight
    /// requests and tracked background work ([`Mastra::background`]) for up to the drain
    /// timeout, logging what did not finish. A second signal stops at once.
    ///
    /// Installs a `tracing` subscriber first unless one is set or
    /// [`ServerConfig::install_logger`](crate::ServerConfig::install_logger) turned that off.
    pub async fn serve(self) -> Result<(), MastraError> {
        if self.config().install_logger {
            crate::logging::install_default_subscriber();
        }
        #[cfg(feature = "agents")]
        self.log_agents();
        #[cfg(feature = "agents")]
        if self.agents().values().any(|a| a.memory().is_some()) || self.has_workflows() {
            // Create or migrate the schema now, so a bad database fails the start, not a request.
            self.storage()
                .init()
                .await
                .map_err(crate::config::ConfigError::from)?;
            tracing::info!(storage = %self.storage().describe(), "storage ready");
        }
        self.start()?.wait().await
    }

    #[cfg(feature = "agents")]
    fn has_workflows(&self) -> bool {
        #[cfg(feature = "workflows")]
        return !self.workflows().is_empty();
        #[cfg(not(feature = "workflows"))]
        false
    }

    /// Says plainly which model each agent uses.
    #[cfg(feature = "agents")]
    fn log_agents(&self) {
        for agent in self.agents().values() {
            match agent.language_model() {
                Ok(model) if model.provider() == "mastra" => tracing::info!(
                    agent = agent.id(),
                    model = agent.model(),
                    "agent uses the built-in offline model (deterministic echo, no network)"
                ),
                Ok(_) => tracing::info!(agent = agent.id(), model = agent.model(), "agent model"),
                Err(error) => tracing::warn!(agent = agent.id(), %error, "agent cannot run"),
            }
        }
    }

    /// Binds the configured host and port and starts serving in the background.
    ///
    /// The listen backlog is [`LISTEN_BACKLOG`](crate::server::limits::LISTEN_BACKLOG): connections past the
    /// [connection cap](crate::ServerConfig::max_connections) wait there, in the order they
    /// came, until a slot frees.
    pub fn start(&self) -> Result<RunningServer, MastraError> {
        let host = self.config().resolved_host();
        let port = self.config().resolved_port()?;
        let bind_error = |source| MastraError::Bind {
            addr: format!("{host}:{port}"),
            source,
        };
        let listener = std::net::TcpListener::bind((host.as_str(), port)).map_err(bind_error)?;
        set_backlog(&listener, LISTEN_BACKLOG).map_err(bind_error)?;
        self.start_on(listener)
    }

    /// Starts serving on an already bound listener (tests bind `127.0.0.1:0`); its backlog is
    /// left as the caller made it.
    pub fn start_on(&self, listener: std::net::TcpListener) -> Result<RunningServer, MastraError> {
        let addr = listener.local_addr()?;
        let config = self.config();
        let workers = config.resolved_workers();
        let max_connections = config.resolved_max_connections();
        let app_mastra = self.clone();
        // Background work runs here, on the runtime that serves, not on a worker's.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            self.background().use_runtime(runtime);
        }
        let signalled = Arc::new(OnceLock::new());
        let force = CancellationToken::new();
        // Taking over other instances' lapsed workflow runs stops when shutting down starts.
        let watching = CancellationToken::new();
        let handle_slot = Arc::new(OnceLock::new());
        let server = HttpServer::new(move || build_app(app_mastra.clone()))
            .on_connect(disconnect::on_connect)
            // actix-web counts its drain in whole seconds: round up, so requests get at least the
            // configured time. Background work is drained after it, to the same deadline.
            .shutdown_timeout(config.drain_timeout.as_secs_f64().ceil().max(1.0) as u64)
            .client_request_timeout(config.client_request_timeout)
            .workers(workers)
            // Past the cap a worker stops taking connections and they wait in the backlog, so
            // a flood of clients cannot run the process out of file descriptors (`EMFILE`);
            // the body read timeout frees the slots slow bodies hold.
            .max_connections(max_connections)
            .shutdown_signal(stop_signal(
                Arc::clone(&signalled),
                force.clone(),
                watching.clone(),
                Arc::clone(&handle_slot),
            ));
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
        #[cfg(feature = "workflows")]
        self.watch_lapsed_runs(watching.clone());
        tracing::info!(
            target: "mastra::server",
            "Mastra server listening on http://{addr} ({} routes)",
            self.routes().len()
        );
        tracing::debug!(
            target: "mastra::server",
            workers,
            max_connections_per_worker = max_connections,
            body_read_timeout_ms = config.body_limits.read_timeout.as_millis() as u64,
            body_min_rate = config.body_limits.min_rate,
            "connection and body limits"
        );
        Ok(RunningServer {
            addr,
            handle,
            task,
            background: self.background().clone(),
            drain_timeout: config.drain_timeout,
            signalled,
            force,
            watching,
        })
    }
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
    /// Stops taking over lapsed workflow runs (see `Mastra::watch_lapsed_runs`).
    watching: CancellationToken,
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
        self.watching.cancel();
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
        self.watching.cancel();
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

/// Sets the backlog of an already listening socket (listening again only changes it).
#[cfg(unix)]
fn set_backlog(listener: &std::net::TcpListener, backlog: i32) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: `listen` only reads its arguments; the descriptor belongs to `listener`, which is
    // borrowed, so it is open for the whole call.
    #[allow(unsafe_code)]
    let status = unsafe { libc::listen(listener.as_raw_fd(), backlog) };
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn set_backlog(_listener: &std::net::TcpListener, _backlog: i32) -> std::io::Result<()> {
    Ok(())
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
    watching: CancellationToken,
    handle: Arc<OnceLock<ServerHandle>>,
) {
    let which = next_signal().await;
    let _ = signalled.set(Instant::now());
    watching.cancel();
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
