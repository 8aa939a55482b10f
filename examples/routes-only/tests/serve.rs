//! The routes-only binary as the README starts it, built with the lean feature set
//! (`cargo test -p routes-only` resolves mastra-runtime's features for this package alone):
//! the item routes, their document and Swagger UI, JWT on the protected routes, and none of the
//! built-in agent, tool, memory, workflow or MCP routes.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_routes-only");
const SECRET: &str = "a routes-only secret that is long enough for HS256";
/// Generous: a loaded CI machine can take seconds to start a debug binary.
const DEADLINE: Duration = Duration::from_secs(60);

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Response {
    status: u16,
    head: String,
    body: String,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

impl Server {
    fn start() -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .expect("a free loopback port");
        let child = Command::new(BIN)
            .env("PORT", port.to_string())
            .env("MASTRA_HOST", "127.0.0.1")
            .env("MASTRA_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start routes-only");
        let server = Server { child, port };
        let started = Instant::now();
        while server.try_send("GET", "/health", &[], "").map(|r| r.status) != Some(200) {
            assert!(
                started.elapsed() < DEADLINE,
                "no /health within {DEADLINE:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn try_send(&self, method: &str, path: &str, headers: &[&str], body: &str) -> Option<Response> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(DEADLINE)).ok()?;
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        for header in headers {
            request.push_str(header);
            request.push_str("\r\n");
        }
        if !body.is_empty() {
            request.push_str("Content-Type: application/json\r\n");
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        let status = head.split(' ').nth(1)?.parse().ok()?;
        Some(Response {
            status,
            head: head.to_owned(),
            body: body.to_owned(),
        })
    }

    fn send(&self, method: &str, path: &str, headers: &[&str], body: &str) -> Response {
        self.try_send(method, path, headers, body)
            .unwrap_or_else(|| panic!("{method} {path}: no answer"))
    }
}

fn token() -> String {
    routes_only::mint(SECRET.as_bytes(), r#"{"sub":"user-7","role":"editor"}"#).expect("mint")
}

#[test]
fn item_routes_answer_and_validate() {
    let server = Server::start();
    let item = server.send("GET", "/items/1", &[], "");
    assert_eq!(item.status, 200, "{}", item.body);
    assert_eq!(item.json()["name"], "Sample Item");

    let missing = server.send("GET", "/items/nope", &[], "");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"], "Item nope not found");

    let created = server.send("POST", "/items", &[], r#"{"name":"Lamp","price":12.5}"#);
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["name"], "Lamp");

    // Checked by the plain checker (this build leaves out the `validation` feature): both
    // broken constraints are listed, each at its field.
    let invalid = server.send("POST", "/items", &[], r#"{"name":"","price":-1}"#);
    assert_eq!(invalid.status, 400, "{}", invalid.body);
    let body = invalid.json();
    assert_eq!(body["error"], "Invalid request body", "{}", invalid.body);
    let issues = body["issues"].as_array().expect("issues listed");
    let at = |field: &str| {
        issues
            .iter()
            .find(|issue| issue["field"] == field)
            .and_then(|issue| issue["message"].as_str())
            .map(str::to_owned)
    };
    assert_eq!(
        at("name").as_deref(),
        Some("\"\" is shorter than 1 character"),
        "{}",
        invalid.body
    );
    assert_eq!(
        at("price").as_deref(),
        Some("-1 is less than or equal to the minimum of 0"),
        "{}",
        invalid.body
    );
    assert_eq!(issues.len(), 2, "{}", invalid.body);
}

#[test]
fn protected_routes_need_a_token_and_see_its_claims() {
    let server = Server::start();
    let refused = server.send("DELETE", "/items/1", &[], "");
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.json()["error"], "Invalid or expired token");
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));

    let bearer = format!("Authorization: Bearer {}", token());
    let me = server.send("GET", "/me", &[&bearer], "");
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["sub"], "user-7");

    let deleted = server.send("DELETE", "/items/1", &[&bearer], "");
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.json()["id"], "1");
    assert_eq!(server.send("GET", "/items/1", &[], "").status, 404);
}

#[test]
fn the_document_and_swagger_ui_show_the_custom_routes_and_no_built_in_capability() {
    let server = Server::start();
    let document = server.send("GET", "/api/openapi.json", &[], "");
    assert_eq!(document.status, 200, "{}", document.body);
    let document = document.json();
    let paths: Vec<&str> = document["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        paths,
        [
            "/api/openapi.json",
            "/health",
            "/items",
            "/items/{itemId}",
            "/me",
            "/ready",
            "/swagger-ui"
        ],
        "only the custom routes, the probes and the docs"
    );
    assert!(document["paths"]["/items/{itemId}"]["delete"]["security"].is_array());
    assert!(document["paths"]["/items/{itemId}"]["get"]["security"]
        .as_array()
        .is_none_or(|s| s
            .iter()
            .any(|r| r.as_object().is_some_and(|o| o.is_empty()))));

    let page = server.send("GET", "/swagger-ui", &[], "");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("swagger"), "{}", page.body);

    // The capabilities left out of the build have no routes at all.
    let bearer = format!("Authorization: Bearer {}", token());
    for path in [
        "/api/agents",
        "/api/tools",
        "/api/memory/threads",
        "/api/workflows",
        "/api/mcp/v0/servers",
    ] {
        let answer = server.send("GET", path, &[&bearer], "");
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
    }
    assert_eq!(server.send("GET", "/ready", &[], "").status, 200);
}
