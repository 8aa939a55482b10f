//! Taking over the workflow runs other instances stopped executing: while the application
//! serves, it looks every [`RunLease::renew_every`] for runs of its workflows whose lease has
//! lapsed, and continues them here (see the workflow module's `lease`).

use tokio_util::sync::CancellationToken;

use super::Mastra;
use crate::workflow::{take_over_lapsed_runs, RunLease};

impl Mastra {
    /// Starts looking for lapsed workflow runs to take over, until `stop` is cancelled (the
    /// server begins to shut down). Nothing is started for an application without workflows.
    pub(crate) fn watch_lapsed_runs(&self, stop: CancellationToken) {
        if self.inner.workflows.is_empty() {
            return;
        }
        let lease = self.inner.config.run_lease.unwrap_or_default();
        let mastra = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(lease.renew_every()) => {}
                }
                mastra.take_over_lapsed_runs(lease).await;
            }
        });
    }

    async fn take_over_lapsed_runs(&self, lease: RunLease) {
        for workflow in self.inner.workflows.values() {
            if let Err(error) = take_over_lapsed_runs(workflow, lease).await {
                tracing::warn!(
                    workflow = workflow.id(),
                    %error,
                    "could not look for workflow runs to take over"
                );
            }
        }
    }
}
