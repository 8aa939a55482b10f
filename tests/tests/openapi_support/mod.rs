//! Helpers shared by the OpenAPI test files: fetch the document, list its operations, and judge
//! it with `openapi-spec-validator` (which `tests/run.sh` installs from PyPI when missing).

#![allow(dead_code)] // Each test file uses its own subset.

use std::{
    path::PathBuf,
    process::Command,
    sync::atomic::{AtomicUsize, Ordering},
};

use mastra_tests::TestServer;
use serde_json::Value;

/// The HTTP methods an OpenAPI path item can hold operations under.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// `GET /api/openapi.json`, asserting 200 and JSON.
pub async fn document(server: &TestServer) -> Value {
    let reply = server.get("/api/openapi.json").await;
    reply.assert_status(200);
    reply.json()
}

/// Every `(path, method)` the document lists, in document order.
pub fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths").iter() {
        for method in METHODS {
            if item.get(method).is_some() {
                out.push((path.clone(), method.to_owned()));
            }
        }
    }
    out
}

/// Where tests leave files worth looking at (ignored by git).
pub fn artifacts_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&dir).expect("create tests/artifacts");
    dir
}

/// Runs `openapi-spec-validator` (as `python3 -m openapi_spec_validator`, so no PATH or shim
/// matters) on `doc` and fails with its report unless it is valid.
pub fn assert_valid_openapi(doc: &Value, name: &str) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let file = artifacts_dir().join(format!(
        "openapi-{name}-{}-{}.json",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).expect("write the document");
    let output = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .args([
            "--validation-errors",
            "all",
            "--subschema-errors",
            "best-match",
        ])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "openapi-spec-validator could not run ({e}); tests/run.sh installs it \
                 (pip install openapi-spec-validator)"
            )
        });
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "openapi-spec-validator rejects {}:\n{report}",
        file.display()
    );
    assert!(
        report.contains("OK"),
        "unexpected validator output: {report}"
    );
    let _ = std::fs::remove_file(&file);
}
