//! The storage benchmark's smoke run (`bench/storage.sh --smoke`) as a test, on SQLite: appends,
//! thread reads and workflow runs answer with one server instance and with two on one file,
//! with the debug binaries `cargo test` has just built. No timing is asserted.
//!
//! SQLite only: the PostgreSQL half would either start a cluster of its own (which a plain
//! `cargo test` must not need) or write into the database `tests/run.sh` shares with the other
//! tests; `bench/storage.sh --smoke` runs it by hand.

use std::path::Path;
use std::process::Command;

#[test]
fn storage_scenarios_answer_on_sqlite_with_one_instance_and_two() {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_storage_server"))
        .parent()
        .expect("the binaries' directory");
    let output = Command::new(env!("CARGO_BIN_EXE_storage"))
        .args(["--smoke", "--only", "sqlite", "--bin-dir"])
        .arg(bin_dir)
        .output()
        .expect("run the storage benchmark driver");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("| SQLite | 1 |"), "{stdout}");
    assert!(stdout.contains("| SQLite | 2 |"), "{stdout}");
}
