//! Runs that outlive the instance executing them. Every instance sharing a store may execute
//! any run, so each running run carries a lease: the instance executing it rewrites its
//! snapshot at least every [`RunLease::renew_every`], and every write is conditional on the
//! version it last wrote. A run whose `updatedAt` is older than [`RunLease::timeout`] has lost
//! its executor (killed, frozen, cut off from the database); any instance may then take it
//! over, from its last persisted step, in one conditional write, so exactly one does. An
//! executor that finds its run taken over stops its steps and writes nothing more.
//!
//! Steps are therefore run at least once: the step that was executing when its instance died
//! runs again on the instance that takes the run over (docs/deploy.md says how to make a step
//! idempotent).

use std::{sync::Arc, time::Duration};

use serde_json::Map;
use tokio_util::sync::CancellationToken;

use super::{spawn_drive, EventLog, LiveRun, RunCore};
use crate::{
    memory::{
        PageRequest, Storage, StorageError, Timestamp, WorkflowRunFilter, WorkflowRunRecord,
        WorkflowRunStatus, MAX_PER_PAGE,
    },
    route::RequestContext,
    workflow::{snapshot::RunSnapshot, Workflow},
};

/// How long a running workflow run may go without its executor renewing it before another
/// instance sharing the store takes it over ([`ServerConfig::workflow_run_lease`]).
///
/// [`ServerConfig::workflow_run_lease`]: crate::ServerConfig::workflow_run_lease
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLease {
    timeout: Duration,
}

impl RunLease {
    /// The default timeout: 30 seconds. It must exceed the clock skew between instances and
    /// the longest pause (a stalled database write) an executor may go through.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

    /// The shortest timeout accepted; shorter ones are raised to it, so renewals cannot flood
    /// the database.
    pub const MIN_TIMEOUT: Duration = Duration::from_millis(300);

    /// A lease of `timeout` (at least [`RunLease::MIN_TIMEOUT`]).
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout: timeout.max(Self::MIN_TIMEOUT),
        }
    }

    /// How long a run may go unrenewed before it is taken over.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How often an executor renews its runs, and how often an instance looks for runs to
    /// take over: a third of the timeout, so two renewals can be late before the run is.
    pub fn renew_every(&self) -> Duration {
        self.timeout / 3
    }
}

impl Default for RunLease {
    fn default() -> Self {
        Self::new(Self::DEFAULT_TIMEOUT)
    }
}

/// Renews `core`'s lease until the returned token is cancelled (when the run stops executing
/// here), or the run turns out to be taken over.
pub(crate) fn keep_lease(core: &Arc<RunCore>) -> CancellationToken {
    let stop = CancellationToken::new();
    if core.storage.is_none() {
        return stop;
    }
    let every = lease_of(core).renew_every();
    let core = Arc::clone(core);
    let stopped = stop.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stopped.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            if let Err(error) = core.persist().await {
                // The next renewal tries again; the lease only lapses if they all fail.
                tracing::warn!(
                    workflow = core.workflow.id(),
                    run_id = %core.run_id,
                    %error,
                    "the lease of a workflow run could not be renewed"
                );
            }
            if core.lost_lease() {
                return;
            }
        }
    });
    stop
}

fn lease_of(core: &RunCore) -> RunLease {
    core.host
        .as_ref()
        .map_or_else(RunLease::default, |host| host.run_lease())
}

/// Takes over every run of `workflow` whose lease has lapsed and drives it here from its last
/// persisted step; returns how many this instance took. A run another instance takes first
/// is left to it.
pub(crate) async fn take_over_lapsed_runs(
    workflow: &Workflow,
    lease: RunLease,
) -> Result<usize, StorageError> {
    let Some(host) = workflow.app() else {
        return Ok(0);
    };
    let storage = host.storage();
    let filter = WorkflowRunFilter {
        status: Some(WorkflowRunStatus::Running),
        ..WorkflowRunFilter::new(workflow.id())
    };
    let lapsed_before = Timestamp::now()
        .millis()
        .saturating_sub(i64::try_from(lease.timeout().as_millis()).unwrap_or(i64::MAX));
    let mut taken = 0;
    let mut page = 0;
    loop {
        let request = PageRequest {
            page,
            per_page: Some(MAX_PER_PAGE),
        };
        let listed = storage.list_workflow_runs(&filter, request).await?;
        for record in &listed.items {
            let lapsed = record.updated_at.millis() < lapsed_before;
            if lapsed
                && workflow.live().get(&record.run_id).is_none()
                && take_over(workflow, &storage, record).await?
            {
                taken += 1;
            }
        }
        if !listed.has_more {
            return Ok(taken);
        }
        page += 1;
    }
}

/// Claims `record` (still as listed: running, at the same version) and drives it here.
async fn take_over(
    workflow: &Workflow,
    storage: &Arc<dyn Storage>,
    record: &WorkflowRunRecord,
) -> Result<bool, StorageError> {
    let snapshot = match RunSnapshot::from_record(record) {
        Ok(snapshot) => snapshot,
        Err(error) => {
            tracing::error!(
                workflow = workflow.id(),
                run_id = %record.run_id,
                %error,
                "a workflow run whose executor stopped cannot be taken over: its snapshot is unreadable"
            );
            return Ok(false);
        }
    };
    let request_context = RequestContext::new();
    for (key, value) in snapshot.request_context.clone() {
        request_context.set(key, value);
    }
    let cancel = CancellationToken::new();
    let log = Arc::new(EventLog::default());
    let core = Arc::new(
        RunCore::new(
            record.run_id.clone(),
            workflow.clone(),
            record.resource_id.clone(),
            record.created_at,
            request_context,
            workflow.app(),
            Some(Arc::clone(storage)),
            Map::new(),
            snapshot.context.input.clone(),
            Arc::clone(&log),
        )
        .with_cancel(cancel.clone())
        .continuing(&snapshot, record.updated_at.millis()),
    );
    let live = LiveRun {
        log: Arc::clone(&log),
        cancel,
    };
    if !workflow.live().insert(&record.run_id, live) {
        return Ok(false);
    }
    let claimed = storage
        .transition_workflow_run(
            &core.record(&core.snapshot()),
            WorkflowRunStatus::Running,
            record.updated_at,
        )
        .await;
    if !matches!(claimed, Ok(true)) {
        workflow.live().remove(&record.run_id, &log);
        return claimed;
    }
    tracing::warn!(
        workflow = workflow.id(),
        run_id = %record.run_id,
        last_renewed = record.updated_at.millis(),
        "took over a workflow run whose executor stopped renewing it; continuing from its last persisted step"
    );
    let label = format!(
        "workflow {} run {} (taken over)",
        workflow.id(),
        record.run_id
    );
    spawn_drive(core, label);
    Ok(true)
}
