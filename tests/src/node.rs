//! The npm test suites in `tests/js` and `tests/js-ai`: `node --test` run against a server.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

/// `tests/<dir>`, checked to hold npm package `package` (what `npm ci` there installs, which
/// `tests/run.sh` runs); panics naming the command to run when it is missing.
pub fn npm_dir(dir: &str, package: &str) -> PathBuf {
    let js_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    assert!(
        js_dir.join("node_modules").join(package).exists(),
        "{package} is not installed: run `npm ci` in {} (tests/run.sh does)",
        js_dir.display()
    );
    js_dir
}

/// Runs `node --test --test-reporter=spec` in `js_dir` with `MASTRA_URL` set to `base`, for two
/// minutes at most; asserts it succeeded (showing its output, under `what`) and returns its
/// standard output, whose `pass N` / `fail N` summary the caller checks.
pub async fn node_test(js_dir: &Path, base: &str, what: &str) -> String {
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node")
            .arg("--test")
            .arg("--test-reporter=spec")
            .current_dir(js_dir)
            .env("MASTRA_URL", base)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("the {what} test finished within 2 minutes"))
    .expect("node runs (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what} test failed:\n{stdout}\n{stderr}"
    );
    stdout
}
