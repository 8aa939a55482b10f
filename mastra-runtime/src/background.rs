//! Work that outlives the request that started it, tracked so graceful shutdown can wait for it.
//!
//! [`BackgroundTasks`] (reached with [`Mastra::background`](crate::Mastra::background)) spawns
//! futures on the runtime that serves the application (not on an HTTP worker, whose runtime
//! stops when the server does), remembers a label for each, and lets shutdown wait for them up
//! to the drain timeout, then name the ones that did not finish.

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, OnceLock, PoisonError,
    },
    time::{Duration, Instant},
};

use tokio::{runtime::Handle, task::JoinHandle};
use tokio_util::task::TaskTracker;

struct Entry {
    label: String,
    started: Instant,
}

#[derive(Default)]
struct Inner {
    tracker: TaskTracker,
    running: Mutex<BTreeMap<u64, Entry>>,
    next_id: AtomicU64,
    runtime: OnceLock<Handle>,
}

impl Inner {
    fn running(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Entry>> {
        // Entries are only inserted or removed whole; a panic elsewhere leaves a usable map.
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One background task still running: its label and how long it has run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningTask {
    /// The label it was spawned with.
    pub label: String,
    /// Time since it was spawned.
    pub running_for: Duration,
}

/// The application's tracked background work. Cheap to clone; every clone is the same set.
///
/// ```
/// use mastra_runtime::Mastra;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mastra = Mastra::builder().without_annotated_routes().build().unwrap();
/// let task = mastra.background().spawn("send the welcome email", async { 42 });
/// assert_eq!(task.await.unwrap(), 42);
/// assert!(mastra.background().running().is_empty());
/// # });
/// ```
#[derive(Clone, Default)]
pub struct BackgroundTasks {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for BackgroundTasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackgroundTasks")
            .field("running", &self.inner.running().len())
            .finish()
    }
}

/// Removes a task's entry when it ends, however it ends (finished, panicked, cancelled).
struct EntryGuard {
    inner: Arc<Inner>,
    id: u64,
}

impl Drop for EntryGuard {
    fn drop(&mut self) {
        self.inner.running().remove(&self.id);
    }
}

impl BackgroundTasks {
    /// Spawns `future` as tracked background work named `label` (the label is what the
    /// shutdown log names if it does not finish in time).
    ///
    /// It runs on the runtime that started the server (or the current one before that), so it
    /// is not cancelled when the request that spawned it ends or when the HTTP workers stop.
    /// Graceful shutdown waits for it, up to the drain timeout.
    pub fn spawn<F>(&self, label: impl Into<String>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let label = label.into();
        tracing::debug!(task = %label, "background task started");
        self.inner.running().insert(
            id,
            Entry {
                label,
                started: Instant::now(),
            },
        );
        let guard = EntryGuard {
            inner: Arc::clone(&self.inner),
            id,
        };
        let tracked = self.inner.tracker.track_future(async move {
            let _guard = guard;
            future.await
        });
        match self.inner.runtime.get() {
            Some(runtime) => runtime.spawn(tracked),
            None => tokio::spawn(tracked),
        }
    }

    /// The tasks still running, oldest first.
    pub fn running(&self) -> Vec<RunningTask> {
        let now = Instant::now();
        self.inner
            .running()
            .values()
            .map(|e| RunningTask {
                label: e.label.clone(),
                running_for: now.saturating_duration_since(e.started),
            })
            .collect()
    }

    /// How many tasks are still running.
    pub fn len(&self) -> usize {
        self.inner.tracker.len()
    }

    /// Whether no task is running.
    pub fn is_empty(&self) -> bool {
        self.inner.tracker.is_empty()
    }

    /// Spawns on `runtime` from now on (the runtime serving the application).
    pub(crate) fn use_runtime(&self, runtime: Handle) {
        let _ = self.inner.runtime.set(runtime);
    }

    /// Waits until every task has finished or `deadline` passed (or `abandon` fired), then logs
    /// each task that is still running. Returns those tasks.
    pub(crate) async fn drain(
        &self,
        deadline: Instant,
        abandon: impl Future<Output = ()>,
    ) -> Vec<RunningTask> {
        if self.is_empty() {
            return Vec::new();
        }
        let waiting = self.running();
        tracing::info!(
            tasks = waiting.len(),
            "waiting for background tasks to finish before exiting"
        );
        self.inner.tracker.close();
        let why = tokio::select! {
            () = self.inner.tracker.wait() => "",
            () = tokio::time::sleep_until(deadline.into()) => "the drain timeout passed",
            () = abandon => "a second stop signal",
        };
        self.inner.tracker.reopen();
        let unfinished = self.running();
        for task in &unfinished {
            tracing::warn!(
                task = %task.label,
                running_for_ms = task.running_for.as_millis() as u64,
                "background task did not finish ({why}); abandoned"
            );
        }
        if unfinished.is_empty() {
            tracing::info!("every background task finished");
        }
        unfinished
    }
}
