//! The quickstart binary as the README starts it: it serves on the port `PORT` names, with its
//! OpenAPI document and Swagger UI, stops cleanly on SIGTERM, and refuses a `PORT` it cannot
//! read instead of falling back to another port.

mod support;

use std::process::Command;

use support::Example;

const BIN: &str = env!("CARGO_BIN_EXE_quickstart");

#[test]
fn serves_its_routes_document_and_swagger_ui_on_port_and_stops_on_sigterm() {
    let mut server = Example::start(BIN);

    let (status, body) = server.get("/items/1").expect("GET /items/1");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Sample Item"), "{body}");
    let (status, body) = server.get("/items/7").expect("GET /items/7");
    assert_eq!(status, 404, "{body}");
    let (status, document) = server.get("/api/openapi.json").expect("the document");
    assert_eq!(status, 200);
    assert!(document.contains("/items/{itemId}"), "{document}");
    let (status, page) = server.get("/swagger-ui/").expect("Swagger UI");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("swagger-ui"), "{page}");

    let exit = server.terminate();
    assert!(exit.success(), "{exit}");
}

#[test]
fn an_unreadable_port_is_refused_at_startup_naming_it() {
    let output = Command::new(BIN)
        .current_dir(std::env::temp_dir())
        .env("PORT", "forty-one-eleven")
        .output()
        .expect("run the quickstart binary");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("forty-one-eleven"), "{stderr}");
}
