//! Running the application: [`Mastra::serve`], [`Mastra::start`] and [`Mastra::start_on`].

use super::RunningServer;
use crate::{
    config::ConfigError,
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
        self.log_agents();
        if self.agents().values().any(|a| a.memory().is_some()) || !self.workflows().is_empty() {
            // Create or migrate the schema now, so a bad database fails the start, not a request.
            self.storage().init().await.map_err(ConfigError::from)?;
            tracing::info!(storage = %self.storage().describe(), "storage ready");
        }
        self.start()?.wait().await
    }

    /// Says plainly which model each agent uses.
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
    pub fn start(&self) -> Result<RunningServer, MastraError> {
        let host = self.config().resolved_host();
        let port = self.config().resolved_port()?;
        let listener = std::net::TcpListener::bind((host.as_str(), port)).map_err(|source| {
            MastraError::Bind {
                addr: format!("{host}:{port}"),
                source,
            }
        })?;
        self.start_on(listener)
    }

    /// Starts serving on an already bound listener (tests bind `127.0.0.1:0`).
    pub fn start_on(&self, listener: std::net::TcpListener) -> Result<RunningServer, MastraError> {
        super::app::start_on(self, listener)
    }
}
