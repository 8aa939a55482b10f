//! Executing a run: its state and persistence ([`run_state`]: the event log, progress,
//! snapshots saved to storage) and the walk over the workflow's graph that drives it
//! ([`driver`]), the runs driven in this process ([`live`]: what cancel and observe reach), and
//! the lease that lets another instance take over a run whose executor died ([`lease`]).

mod driver;
mod lease;
mod live;
mod run_state;

pub(crate) use driver::spawn_drive;
pub(crate) use lease::take_over_lapsed_runs;
pub use lease::RunLease;
pub(crate) use live::{LiveRun, LiveRuns};
pub(crate) use run_state::{EventLog, RunCore};
