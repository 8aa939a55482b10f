//! The runs this process is driving right now, per workflow: each one's event log (what
//! `observe` follows) and cancel signal (what `runs/:runId/cancel` fires).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use tokio_util::sync::CancellationToken;

use super::EventLog;

/// One run being driven here: the log of its current segment (from its start or its latest
/// resume) and the signal that cancels it.
#[derive(Clone)]
pub(crate) struct LiveRun {
    pub(crate) log: Arc<EventLog>,
    pub(crate) cancel: CancellationToken,
}

/// The live runs of one workflow, by run id. An entry is added before a run is claimed or
/// resumed and removed when its driver ends (or the claim fails), so it holds only runs that
/// execute in this process.
#[derive(Default)]
pub(crate) struct LiveRuns {
    runs: Mutex<HashMap<String, LiveRun>>,
}

impl LiveRuns {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, LiveRun>> {
        self.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `run` under `run_id`, unless a run with this id is live already (then `false`).
    pub(crate) fn insert(&self, run_id: &str, run: LiveRun) -> bool {
        let mut runs = self.lock();
        if runs.contains_key(run_id) {
            return false;
        }
        runs.insert(run_id.to_owned(), run);
        true
    }

    /// The live run `run_id`, if it executes here.
    pub(crate) fn get(&self, run_id: &str) -> Option<LiveRun> {
        self.lock().get(run_id).cloned()
    }

    /// Removes `run_id` if its entry is still the one with `log` (a later segment of the same
    /// run keeps its own entry).
    pub(crate) fn remove(&self, run_id: &str, log: &Arc<EventLog>) {
        let mut runs = self.lock();
        if runs
            .get(run_id)
            .is_some_and(|live| Arc::ptr_eq(&live.log, log))
        {
            runs.remove(run_id);
        }
    }
}
