//! Settings shared by the property-based fuzz targets (the `props` test modules next to each
//! parser: path patterns, token sources, client request context).
//!
//! Each target runs [`DEFAULT_FUZZ_CASES`] generated inputs in the test command; set
//! `MASTRA_FUZZ_CASES` for a longer run (docs/reliability.md records one). Failing inputs are
//! shrunk and printed, never written into the source tree.

use proptest::test_runner::Config;

/// Inputs each fuzz target tries in the test command: enough to cover every branch of these
/// small parsers many times over, in well under a second each.
pub(crate) const DEFAULT_FUZZ_CASES: u32 = 4096;

/// The environment variable that sets the number of inputs per target.
pub(crate) const FUZZ_CASES_ENV: &str = "MASTRA_FUZZ_CASES";

/// The proptest configuration of every fuzz target.
pub(crate) fn config() -> Config {
    let cases = std::env::var(FUZZ_CASES_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_FUZZ_CASES);
    Config {
        cases,
        failure_persistence: None,
        // Shrinking a failure must not turn a bounded run into an unbounded one.
        max_shrink_iters: 10_000,
        ..Config::default()
    }
}
