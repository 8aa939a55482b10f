//! Executing a run: its state and persistence ([`run_state`]: the event log, progress,
//! snapshots saved to storage) and the walk over the workflow's graph that drives it
//! ([`driver`]), and the runs driven in this process ([`live`]: what cancel and observe reach).

mod driver;
mod live;
mod run_state;

pub(crate) use driver::drive;
pub(crate) use live::{LiveRun, LiveRuns};
pub(crate) use run_state::{EventLog, RunCore};
