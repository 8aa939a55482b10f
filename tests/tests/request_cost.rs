//! What one hostile request costs (issue 14): bodies at the body limit, built so that every
//! item fails its schema, sent to the quickstart running as its own process, whose peak
//! resident memory (`VmHWM`, reset through `/proc/PID/clear_refs` before each measurement) and
//! answers are checked. Each request must cost at most [`MAX_PEAK_ONE`] above the RSS it
//! started from, four at once at most [`MAX_PEAK_FOUR`] in all, `/health` must keep answering
//! while they run, and the RSS must come back down afterwards (the examples' allocator returns
//! memory). Error bodies list at most [`MAX_LISTED_ISSUES`] issues and never echo the input.
//!
//! The figures (peak per shape, time per request, `/health` latency) are printed:
//! `cargo test -p mastra-tests --test request_cost -- --nocapture --test-threads 1`.

use std::time::{Duration, Instant};

use mastra_runtime::{
    config::DEFAULT_BODY_LIMIT,
    schema::{MAX_JSON_DEPTH, MAX_JSON_ITEMS},
};
use mastra_tests::binary::BinaryServer;
use serde_json::Value;

const MIB: u64 = 1 << 20;
/// Most one request at the body limit may add to the peak RSS (issue 14: about ten times the
/// body, 64 MB for 4.5 MB).
const MAX_PEAK_ONE: u64 = 64 * MIB;
/// Most the whole process may hold at its peak while four such requests run at once.
const MAX_PEAK_FOUR: u64 = 256 * MIB;
/// Most issues an error body lists (`schema::MAX_ISSUES`), before the one counting the rest.
const MAX_LISTED_ISSUES: usize = 20;
/// Largest error body accepted: twenty issues with short excerpts fit many times over.
const MAX_ERROR_BODY: usize = 16 * 1024;
/// How close to the RSS before the spike the process must come back, once the spike is over.
const MAX_RSS_KEPT: u64 = 32 * MIB;
/// How long the RSS may take to come back down.
const RSS_RETURN_DEADLINE: Duration = Duration::from_secs(20);

/// A hostile request and the status it must get.
struct Hostile {
    name: &'static str,
    path: &'static str,
    body: Vec<u8>,
    status: u16,
}

/// `prefix` + `item` repeated (comma-separated) + `suffix`, as large as the body limit allows.
fn at_the_limit(prefix: &str, item: &str, suffix: &str) -> Vec<u8> {
    let room = DEFAULT_BODY_LIMIT - prefix.len() - suffix.len();
    let count = (room + 1) / (item.len() + 1);
    repeated(prefix, item, count, suffix)
}

/// As many copies of `item` (which holds `items_each` array elements and object members, and
/// `PAD` where filler goes) as the item limit allows, padded to fill the body limit: the most
/// invalid items a body the server parses can hold, at its largest.
fn most_items_at_the_limit(prefix: &str, item: &str, items_each: usize, suffix: &str) -> Vec<u8> {
    let count = (MAX_JSON_ITEMS - 10) / items_each;
    let room = DEFAULT_BODY_LIMIT - prefix.len() - suffix.len();
    let pad = (room / count).saturating_sub(item.len() - "PAD".len() + 1);
    repeated(
        prefix,
        &item.replace("PAD", &"x".repeat(pad)),
        count,
        suffix,
    )
}

fn repeated(prefix: &str, item: &str, count: usize, suffix: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(DEFAULT_BODY_LIMIT);
    body.extend_from_slice(prefix.as_bytes());
    for i in 0..count {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item.as_bytes());
    }
    body.extend_from_slice(suffix.as_bytes());
    assert!(body.len() <= DEFAULT_BODY_LIMIT, "{} bytes", body.len());
    body
}

fn hostile_bodies() -> Vec<Hostile> {
    let invalid_messages = most_items_at_the_limit(
        r#"{"messages":["#,
        r#"{"role":"nobody","content":"PAD"}"#,
        3,
        "]}",
    );
    let invalid_tool_input =
        most_items_at_the_limit(r#"{"data":["#, r#"{"celsius":"PAD"}"#, 2, "]}");
    let invalid_trips =
        most_items_at_the_limit(r#"{"inputData":["#, r#"{"city":"","note":"PAD"}"#, 3, "]}");
    vec![
        Hostile {
            name: "agent generate, messages [{},{},...] (past the item limit)",
            path: "/api/agents/my-agent/generate",
            body: at_the_limit(r#"{"messages":["#, "{}", "]}"),
            status: 400,
        },
        Hostile {
            name: "agent generate, messages [{invalid role},...]",
            path: "/api/agents/my-agent/generate",
            body: invalid_messages.clone(),
            status: 400,
        },
        Hostile {
            name: "unknown agent, same body",
            path: "/api/agents/no-such-agent/generate",
            body: invalid_messages,
            status: 404,
        },
        Hostile {
            name: "#[api_route] POST /items, [{invalid item},...]",
            path: "/items",
            body: most_items_at_the_limit("[", r#"{"name":"","price":0,"note":"PAD"}"#, 4, "]"),
            status: 400,
        },
        Hostile {
            name: "#[api_route] POST /items, name: [[],[],...] (past the item limit)",
            path: "/items",
            body: at_the_limit(r#"{"price":-1,"name":["#, "[]", "]}"),
            status: 400,
        },
        Hostile {
            name: "tool execute, data [{invalid input},...]",
            path: "/api/tools/celsius-to-fahrenheit/execute",
            body: invalid_tool_input.clone(),
            status: 400,
        },
        Hostile {
            name: "unknown tool, same body",
            path: "/api/tools/no-such-tool/execute",
            body: invalid_tool_input,
            status: 404,
        },
        Hostile {
            name: "workflow start-async, inputData [{invalid input},...]",
            path: "/api/workflows/trip-planner/start-async",
            body: invalid_trips.clone(),
            status: 400,
        },
        Hostile {
            name: "unknown workflow, same body",
            path: "/api/workflows/no-such-workflow/start-async",
            body: invalid_trips,
            status: 404,
        },
    ]
}

/// A client that waits as long as the slowest hostile request took before the fix.
fn patient_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("reqwest client")
}

/// A `/proc/PID/status` field, in bytes.
fn status_field(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or_else(|| panic!("no {field} for {pid}"))
}

fn rss(pid: u32) -> u64 {
    status_field(pid, "VmRSS:")
}

fn peak(pid: u32) -> u64 {
    status_field(pid, "VmHWM:")
}

/// Resets the process's peak RSS to its current RSS (Linux: `5` to `clear_refs`).
fn reset_peak(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
        .unwrap_or_else(|e| panic!("reset the peak RSS of {pid}: {e}"));
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}

/// Sends one hostile request; returns its status and body.
async fn send(http: &reqwest::Client, base: &str, hostile: &Hostile) -> (u16, String) {
    let res = http
        .post(format!("{base}{}", hostile.path))
        .header("content-type", "application/json")
        .body(hostile.body.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", hostile.name));
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (status, text)
}

/// What is wrong with an answer to a hostile request, if anything.
fn answer_problems(hostile: &Hostile, status: u16, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if status != hostile.status {
        problems.push(format!(
            "status {status}, expected {}; body starts {:?}",
            hostile.status,
            text.chars().take(300).collect::<String>()
        ));
    }
    if text.len() > MAX_ERROR_BODY {
        problems.push(format!(
            "error body of {} bytes (echoes the input?)",
            text.len()
        ));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(body) => {
            if let Some(issues) = body["issues"].as_array() {
                if issues.len() > MAX_LISTED_ISSUES + 1 {
                    problems.push(format!("{} issues listed", issues.len()));
                }
            }
        }
        Err(_) => problems.push("the error body is not JSON".to_owned()),
    }
    problems
}

#[tokio::test]
async fn each_hostile_body_at_the_limit_costs_a_bounded_peak_and_a_short_answer() {
    let http = patient_client();
    let mut failures = Vec::new();
    for hostile in hostile_bodies() {
        // A fresh process for each, so one's spike cannot hide the next one's.
        let server = BinaryServer::start("quickstart", &[]).await;
        let pid = server.pid();
        let before = rss(pid);
        reset_peak(pid);
        let sent = Instant::now();
        let (status, text) = send(&http, server.base(), &hostile).await;
        let took = sent.elapsed();
        let grew = peak(pid).saturating_sub(before);
        eprintln!(
            "{}: {} bytes -> {status} ({} bytes) in {took:?}; peak {:.1} MiB above {:.1} MiB",
            hostile.name,
            hostile.body.len(),
            text.len(),
            mib(grew),
            mib(before),
        );
        let mut problems = answer_problems(&hostile, status, &text);
        if grew > MAX_PEAK_ONE {
            problems.push(format!(
                "peak RSS grew {:.1} MiB (at most {:.0})",
                mib(grew),
                mib(MAX_PEAK_ONE)
            ));
        }
        failures.extend(
            problems
                .into_iter()
                .map(|p| format!("{}: {p}", hostile.name)),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn the_first_issues_are_listed_and_the_rest_counted() {
    let server = BinaryServer::start("quickstart", &[]).await;
    let hostile = &hostile_bodies()[1];
    let (status, text) = send(&patient_client(), server.base(), hostile).await;
    assert_eq!(status, 400, "{}", &text[..text.len().min(500)]);
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(body["error"], "Invalid request body", "{body}");
    let issues = body["issues"].as_array().expect("issues");
    assert_eq!(issues.len(), MAX_LISTED_ISSUES + 1, "{body}");
    assert!(
        issues[0]["field"]
            .as_str()
            .is_some_and(|f| f.starts_with("messages.0.")),
        "the first item's own issues come first: {body}"
    );
    // The last one counts the values past the limit: every other item of the body.
    let rest = &issues[MAX_LISTED_ISSUES];
    assert_eq!(rest["field"], "", "{body}");
    let counted: u64 = rest["message"]
        .as_str()
        .and_then(|m| m.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count first: {rest}"));
    assert!(counted > 30_000, "{body}");
    assert!(
        rest["message"]
            .as_str()
            .is_some_and(|m| m.contains("more invalid values not listed")),
        "{body}"
    );
}

#[tokio::test]
async fn a_body_nested_deeper_than_the_limit_is_refused_naming_it() {
    let server = BinaryServer::start("quickstart", &[]).await;
    let http = patient_client();
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    for path in ["/items", "/api/agents/my-agent/generate"] {
        let res = http
            .post(format!("{}{path}", server.base()))
            .header("content-type", "application/json")
            .body(nested(MAX_JSON_DEPTH + 1))
            .send()
            .await
            .expect("send");
        assert_eq!(res.status().as_u16(), 400, "{path}");
        let body: Value = res.json().await.expect("JSON");
        assert_eq!(
            body,
            serde_json::json!({
                "error": format!("JSON nested deeper than {MAX_JSON_DEPTH} levels of arrays and objects"),
                "limit": MAX_JSON_DEPTH,
            }),
            "{path}"
        );
        // At the limit the body is read and checked against its schema as usual.
        let res = http
            .post(format!("{}{path}", server.base()))
            .header("content-type", "application/json")
            .body(nested(MAX_JSON_DEPTH))
            .send()
            .await
            .expect("send");
        let body: Value = res.json().await.expect("JSON");
        assert_eq!(body["error"], "Invalid request body", "{path}: {body}");
    }
}

#[tokio::test]
async fn four_at_once_stay_bounded_health_answers_and_memory_comes_back() {
    let server = BinaryServer::start("quickstart", &[]).await;
    let pid = server.pid();
    let base = server.base().to_owned();
    let hostile = hostile_bodies().swap_remove(1);
    let idle = rss(pid);
    reset_peak(pid);
    let started = Instant::now();
    let hostile = std::sync::Arc::new(hostile);
    let requests: Vec<_> = (0..4)
        .map(|_| {
            let hostile = std::sync::Arc::clone(&hostile);
            let base = base.clone();
            tokio::spawn(async move { send(&patient_client(), &base, &hostile).await })
        })
        .collect();
    // A new connection for each, as a client arriving during the spike would open.
    let health = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("reqwest client");
    let mut latencies = Vec::new();
    while requests.iter().any(|r| !r.is_finished()) {
        let sent = Instant::now();
        let res = health
            .get(format!("{base}/health"))
            .send()
            .await
            .expect("/health during the hostile requests");
        assert!(res.status().is_success(), "/health: {}", res.status());
        latencies.push(sent.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut failures = Vec::new();
    for request in requests {
        let (status, text) = request.await.expect("request task");
        failures.extend(answer_problems(&hostile, status, &text));
    }
    let took = started.elapsed();
    let top = peak(pid);
    latencies.sort();
    let slowest = latencies.last().copied().unwrap_or_default();
    let median = latencies
        .get(latencies.len() / 2)
        .copied()
        .unwrap_or_default();
    eprintln!(
        "four at once: {took:?}; peak {:.1} MiB (idle {:.1} MiB); /health answered {} times \
         during them, median {median:?}, slowest {slowest:?}",
        mib(top),
        mib(idle),
        latencies.len(),
    );
    if top > MAX_PEAK_FOUR {
        failures.push(format!(
            "peak RSS {:.1} MiB (at most {:.0})",
            mib(top),
            mib(MAX_PEAK_FOUR)
        ));
    }

    // The allocator gives the spike back: RSS returns near where it was.
    let deadline = Instant::now() + RSS_RETURN_DEADLINE;
    let mut now = rss(pid);
    while now > idle + MAX_RSS_KEPT && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        now = rss(pid);
    }
    eprintln!(
        "RSS {:.1} MiB idle, {:.1} MiB at the peak, {:.1} MiB after",
        mib(idle),
        mib(top),
        mib(now)
    );
    if now > idle + MAX_RSS_KEPT {
        failures.push(format!(
            "RSS stayed at {:.1} MiB after the spike ({:.1} MiB before it)",
            mib(now),
            mib(idle)
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_body_with_more_items_than_the_limit_is_refused_naming_it() {
    let server = BinaryServer::start("quickstart", &[]).await;
    let http = patient_client();
    let items = |count: usize| format!("[{}]", vec!["0"; count].join(","));
    let res = http
        .post(format!("{}/items", server.base()))
        .header("content-type", "application/json")
        .body(items(MAX_JSON_ITEMS + 1))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 400);
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(
        body,
        serde_json::json!({
            "error": format!(
                "JSON with more than {MAX_JSON_ITEMS} items (array elements and object members, \
                 at any depth)"
            ),
            "limit": MAX_JSON_ITEMS,
        })
    );
    // At the limit the body is parsed and checked against its schema.
    let res = http
        .post(format!("{}/items", server.base()))
        .header("content-type", "application/json")
        .body(items(MAX_JSON_ITEMS))
        .send()
        .await
        .expect("send");
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(body["error"], "Invalid request body", "{body}");
}
