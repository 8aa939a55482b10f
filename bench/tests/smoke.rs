//! The benchmark suite's smoke run (`bench/run.sh --smoke`) as a test: every scenario answers
//! 2xx on both the framework and the raw actix-web baseline, and each cold start is measured,
//! with the debug binaries `cargo test` has just built. No timing is asserted.

use std::path::Path;
use std::process::Command;

#[test]
fn every_scenario_answers_on_the_framework_and_the_baseline() {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_framework"))
        .parent()
        .expect("the binaries' directory");
    assert!(Path::new(env!("CARGO_BIN_EXE_baseline")).starts_with(bin_dir));
    let output = Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("--smoke")
        .arg("--bin-dir")
        .arg(bin_dir)
        .output()
        .expect("run the benchmark driver");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for binary in ["framework", "baseline"] {
        assert!(
            stdout.contains(&format!("({binary})")),
            "no scenario ran on {binary}:\n{stdout}"
        );
        assert!(
            stdout.contains(&format!("smoke ok: cold start ({binary})")),
            "{stdout}"
        );
    }
}
