//! Swagger UI in a real browser: Debian's headless Chromium, driven over the DevTools protocol,
//! against the running quickstart. It must list every operation of the document, make no
//! request to any host but 127.0.0.1, and "Try it out" -> "Execute" on `GET /items/{itemId}` must
//! show a 200, all under the page's Content-Security-Policy with no violation reported (and an
//! inline script injected at the end must be refused, so the policy is known to be enforced). A
//! screenshot is saved to `tests/artifacts/swagger-ui.png`.
//!
//! `tests/run.sh` installs Chromium (`apt-get install chromium`) when it is missing.

mod openapi_support;

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use chromiumoxide::{
    browser::{Browser, BrowserConfig},
    cdp::{
        browser_protocol::{
            log::EventEntryAdded,
            network::{EnableParams, EventRequestWillBeSent},
        },
        js_protocol::runtime::EventConsoleApiCalled,
    },
    page::ScreenshotParams,
    Page,
};
use futures_util::StreamExt;
use mastra_tests::{test_config, TestServer};
use openapi_support::{artifacts_dir, document, operations};

/// Debian's Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";

/// How long any one step (launch, render, a click's effect) may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Flags that keep Chromium quiet and on loopback: a dead-end proxy (port 9, discard) for every
/// host but loopback, and Chromium's own background traffic switched off.
const FLAGS: &[&str] = &[
    "--disable-gpu",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>;localhost;127.0.0.1/8;[::1]",
    "--disable-quic",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--no-pings",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-features=NetworkTimeServiceQuerying,AutofillServerCommunication,OptimizationHints,MediaRouter,Translate,CertificateTransparencyComponentUpdater",
];

/// A headless Chromium with a profile directory of its own.
struct Chromium {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    profile: PathBuf,
}

impl Chromium {
    /// Launches [`CHROMIUM`] with [`FLAGS`] and a fresh profile under the temp dir, named after
    /// `name` and this process.
    async fn launch(name: &str) -> Chromium {
        assert!(
            Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: tests/run.sh installs it (apt-get install chromium)"
        );
        let profile =
            std::env::temp_dir().join(format!("mastra-{name}-chromium-{}", std::process::id()));
        let config = BrowserConfig::builder()
            .chrome_executable(CHROMIUM)
            .no_sandbox()
            .user_data_dir(&profile)
            .window_size(1280, 1000)
            .viewport(None)
            .launch_timeout(STEP_TIMEOUT)
            .args(FLAGS.iter().copied())
            .build()
            .expect("browser config");
        let (browser, mut handler) = Browser::launch(config)
            .await
            .unwrap_or_else(|e| panic!("could not start {CHROMIUM}: {e}"));
        // The handler drives the DevTools connection; a message it cannot read is not fatal.
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Chromium {
            browser,
            handler,
            profile,
        }
    }

    /// A new tab on `about:blank`.
    async fn new_tab(&self) -> Page {
        self.browser.new_page("about:blank").await.expect("a tab")
    }

    /// Closes the browser, stops its handler and removes its profile.
    async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.handler.abort();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Runs in every document before its own scripts: records each Content-Security-Policy
/// violation the page reports, with the directive and what was blocked.
const CSP_RECORDER: &str = "window.__cspViolations = []; \
    document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(\
      e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') + ' in ' + \
      (e.sourceFile || e.documentURI) + ':' + e.lineNumber));";

/// What the browser's console said, and the page's own record of policy violations.
struct CspWatch {
    console: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl CspWatch {
    /// Starts recording `page`'s console (log entries and console calls) and its policy
    /// violations; call before loading anything.
    async fn start(page: &Page) -> CspWatch {
        page.evaluate_on_new_document(CSP_RECORDER)
            .await
            .expect("install the violation recorder");
        page.enable_log().await.expect("log events");
        let console: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut entries = page
            .event_listener::<EventEntryAdded>()
            .await
            .expect("log entries");
        let mut calls = page
            .event_listener::<EventConsoleApiCalled>()
            .await
            .expect("console calls");
        let seen = Arc::clone(&console);
        let log_task = tokio::spawn(async move {
            while let Some(event) = entries.next().await {
                let entry = &event.entry;
                seen.lock().unwrap().push(format!(
                    "{:?} {:?}: {} ({})",
                    entry.source,
                    entry.level,
                    entry.text,
                    entry.url.as_deref().unwrap_or("")
                ));
            }
        });
        let seen = Arc::clone(&console);
        let call_task = tokio::spawn(async move {
            while let Some(event) = calls.next().await {
                let args: Vec<String> = event
                    .args
                    .iter()
                    .map(|arg| {
                        arg.value.as_ref().map_or_else(
                            || arg.description.clone().unwrap_or_default(),
                            |v| v.to_string(),
                        )
                    })
                    .collect();
                seen.lock().unwrap().push(format!(
                    "console.{:?}: {}",
                    event.r#type,
                    args.join(" ")
                ));
            }
        });
        CspWatch {
            console,
            tasks: vec![log_task, call_task],
        }
    }

    /// The violations the page recorded.
    async fn violations(page: &Page) -> Vec<String> {
        page.evaluate("window.__cspViolations")
            .await
            .expect("read the violations")
            .into_value()
            .expect("a list of strings")
    }

    /// Asserts that neither the page nor the console reported a policy violation.
    async fn assert_no_violation(&self, page: &Page) {
        let violations = Self::violations(page).await;
        let console = self.console.lock().unwrap().clone();
        let reported: Vec<&String> = console
            .iter()
            .filter(|line| line.contains("Content Security Policy") || line.contains("Refused to"))
            .collect();
        assert!(
            violations.is_empty() && reported.is_empty(),
            "the page broke its Content-Security-Policy: {violations:#?}\nconsole: {console:#?}"
        );
    }

    /// Injects an inline script and asserts the policy refused it: the check above is only
    /// worth something while a policy is enforced.
    async fn assert_inline_scripts_are_refused(&self, page: &Page) {
        let before = Self::violations(page).await.len();
        let ran: bool = page
            .evaluate(
                "(() => { window.__inlineRan = false; const s = document.createElement('script'); \
                   s.textContent = 'window.__inlineRan = true'; document.head.appendChild(s); \
                   return window.__inlineRan; })()",
            )
            .await
            .expect("inject an inline script")
            .into_value()
            .expect("a boolean");
        assert!(
            !ran,
            "an injected inline script ran: no Content-Security-Policy is enforced"
        );
        wait_until(
            page,
            &format!("window.__cspViolations.length > {before}"),
            "the refused inline script to be reported",
        )
        .await;
        // The console reports it too, so its silence earlier was not a deaf listener.
        let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
        while !self
            .console
            .lock()
            .unwrap()
            .iter()
            .any(|line| line.contains("Content Security Policy"))
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the console never reported the refused inline script: {:#?}",
                self.console.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Loads `server`'s Swagger UI in `page`, within [`STEP_TIMEOUT`].
async fn open_swagger_ui(page: &Page, server: &TestServer) {
    let url = format!("{}/swagger-ui", server.base());
    tokio::time::timeout(STEP_TIMEOUT, page.goto(url.as_str()))
        .await
        .expect("the page loads in time")
        .expect("the page loads");
}

/// Expands operation `op` (a `#operations-…` selector) and waits for its "Try it out" button.
async fn expand(page: &Page, op: &str) {
    click(page, &format!("{op} .opblock-summary-control")).await;
    wait_until(
        page,
        &format!("!!document.querySelector('{op} .try-out__btn')"),
        "the Try it out button",
    )
    .await;
}

/// The body of `op`'s live response, as Swagger UI shows it.
async fn live_response_body(page: &Page, op: &str) -> String {
    page.evaluate(format!(
        "document.querySelector('{op} .live-responses-table .response-col_description pre')\
           .textContent"
    ))
    .await
    .expect("read the response body")
    .into_value()
    .expect("text")
}

/// Saves a full-page screenshot of `page` as `name` in the artifacts directory; returns its
/// path.
async fn screenshot(page: &Page, name: &str) -> PathBuf {
    let shot = artifacts_dir().join(name);
    page.save_screenshot(ScreenshotParams::builder().full_page(true).build(), &shot)
        .await
        .expect("save the screenshot");
    shot
}

/// Evaluates `expression` until it is truthy; panics with `what` after [`STEP_TIMEOUT`].
async fn wait_until(page: &Page, expression: &str, what: &str) {
    let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
    loop {
        let ok = page
            .evaluate(expression)
            .await
            .ok()
            .and_then(|r| r.into_value::<bool>().ok())
            .unwrap_or(false);
        if ok {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what} ({expression})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn click(page: &Page, selector: &str) {
    page.find_element(selector)
        .await
        .unwrap_or_else(|e| panic!("{selector} not found: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("could not click {selector}: {e}"));
}

/// The scheme and host of a URL, for the loopback check.
fn scheme_and_host(url: &str) -> (&str, &str) {
    let (scheme, rest) = url.split_once(':').unwrap_or(("", url));
    let rest = rest.trim_start_matches("//");
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.split(':').next().unwrap_or(host)
    };
    (scheme, host)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_lists_every_operation_stays_on_loopback_and_try_it_out_gets_200() {
    let server = TestServer::start(quickstart::app().server(test_config())).await;
    let doc = document(&server).await;
    let expected: BTreeSet<String> = operations(&doc)
        .into_iter()
        .map(|(path, method)| format!("{} {path}", method.to_ascii_uppercase()))
        .collect();
    assert!(expected.contains("GET /items/{itemId}"), "{expected:?}");

    let browser = Chromium::launch("swagger").await;

    let page = browser.new_tab().await;
    page.execute(EnableParams::default())
        .await
        .expect("network events");
    let requests: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut events = page
        .event_listener::<EventRequestWillBeSent>()
        .await
        .expect("request events");
    let seen = Arc::clone(&requests);
    let recorder = tokio::spawn(async move {
        while let Some(event) = events.next().await {
            seen.lock().unwrap().push(event.request.url.clone());
        }
    });
    let csp = CspWatch::start(&page).await;

    open_swagger_ui(&page, &server).await;
    wait_until(
        &page,
        &format!(
            "document.querySelectorAll('.opblock').length >= {}",
            expected.len()
        ),
        "every operation to render",
    )
    .await;

    let listed: BTreeSet<String> = page
        .evaluate(
            "Array.from(document.querySelectorAll('.opblock')).map(b => \
               b.querySelector('.opblock-summary-method').textContent.trim() + ' ' + \
               b.querySelector('.opblock-summary-path').getAttribute('data-path'))",
        )
        .await
        .expect("read the operations")
        .into_value()
        .expect("a list of strings");
    assert_eq!(
        listed, expected,
        "Swagger UI lists exactly the document's operations"
    );

    // "Try it out" -> "Execute" on GET /items/{itemId}, as a person would.
    let op = "#operations-Items-get_item";
    expand(&page, op).await;
    click(&page, &format!("{op} .try-out__btn")).await;
    wait_until(
        &page,
        &format!("!!document.querySelector('{op} input[placeholder=\"itemId\"]')"),
        "the itemId field",
    )
    .await;
    page.find_element(format!("{op} input[placeholder=\"itemId\"]"))
        .await
        .expect("the itemId field")
        .click()
        .await
        .expect("focus the field")
        .type_str("1")
        .await
        .expect("type the id");
    execute(&page, op, 200).await;
    let body = live_response_body(&page, op).await;
    assert!(body.contains("Sample Item"), "response body shown: {body}");
    csp.assert_no_violation(&page).await;

    let shot = screenshot(&page, "swagger-ui.png").await;
    assert!(std::fs::metadata(&shot)
        .map(|m| m.len() > 10_000)
        .unwrap_or(false));

    let requests = requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .any(|u| u.ends_with("/swagger-ui/swagger-ui-bundle.js"))
            && requests.iter().any(|u| u.ends_with("/api/openapi.json"))
            && requests.iter().any(|u| u.ends_with("/items/1")),
        "the request log missed the page's own requests: {requests:#?}"
    );
    for url in &requests {
        let (scheme, host) = scheme_and_host(url);
        let local = match scheme {
            "http" | "https" | "ws" | "wss" => host == "127.0.0.1",
            "data" | "blob" | "about" => true,
            _ => false,
        };
        assert!(local, "the page requested {url}, which is not on 127.0.0.1");
    }

    csp.assert_inline_scripts_are_refused(&page).await;
    csp.stop();
    recorder.abort();
    browser.close().await;
}

/// Opens `op`'s "Try it out", executes it, and waits for the live response to show `status`.
async fn try_it_out(page: &Page, op: &str, status: u16) {
    if page
        .find_element(format!("{op} .try-out__btn.cancel"))
        .await
        .is_err()
    {
        if page
            .find_element(format!("{op} .try-out__btn"))
            .await
            .is_err()
        {
            expand(page, op).await;
        }
        click(page, &format!("{op} .try-out__btn")).await;
    }
    wait_until(
        page,
        &format!("!!document.querySelector('{op} .execute')"),
        "the Execute button",
    )
    .await;
    execute(page, op, status).await;
}

/// Clicks `op`'s "Execute" and waits for the live response to show `status`.
async fn execute(page: &Page, op: &str, status: u16) {
    click(page, &format!("{op} .execute")).await;
    wait_until(
        page,
        &format!(
            "Array.from(document.querySelectorAll('{op} .live-responses-table .response-col_status'))\
               .some(c => c.textContent.trim() === '{status}')"
        ),
        &format!("the live response to show {status}"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_authorize_sends_the_bearer_token_to_protected_routes() {
    use mastra_runtime::auth::JwtAuth;
    use mastra_tests::jwt::{now, SECRET};

    let auth = JwtAuth::hs256(SECRET).expect("secret");
    let server = TestServer::start(auth_example::app(test_config(), auth)).await;
    let doc = document(&server).await;
    let operation = &doc["paths"]["/protected-data"]["get"];
    assert_eq!(
        operation["security"],
        serde_json::json!([{ "bearerAuth": [] }])
    );
    // Swagger UI's deep-link ids write spaces as underscores.
    let op = format!(
        "#operations-{}-{}",
        operation["tags"][0]
            .as_str()
            .expect("a tag")
            .replace(' ', "_"),
        operation["operationId"].as_str().expect("an operation id")
    );
    let claims = serde_json::json!({ "sub": "swagger-user", "exp": now() + 600 });
    let token = auth_example::mint(SECRET.as_bytes(), &claims.to_string()).expect("mint");

    let browser = Chromium::launch("swagger-auth").await;
    let page = browser.new_tab().await;
    let csp = CspWatch::start(&page).await;
    open_swagger_ui(&page, &server).await;
    wait_until(
        &page,
        &format!("!!document.querySelector('{op}')"),
        "the protected operation to render",
    )
    .await;

    // Without a token the server refuses, and Swagger shows it.
    try_it_out(&page, &op, 401).await;

    // Authorize -> paste the token -> Authorize -> Close, as a person would.
    click(&page, ".auth-wrapper .authorize").await;
    wait_until(
        &page,
        "!!document.querySelector('.modal-ux .auth-container input')",
        "the Authorize dialog",
    )
    .await;
    page.find_element(".modal-ux .auth-container input")
        .await
        .expect("the token field")
        .click()
        .await
        .expect("focus the field")
        .type_str(&token)
        .await
        .expect("type the token");
    click(&page, ".modal-ux .auth-btn-wrapper .authorize").await;
    wait_until(
        &page,
        "!!document.querySelector('.modal-ux .auth-btn-wrapper .btn-done')",
        "the token to be accepted by the dialog",
    )
    .await;
    click(&page, ".modal-ux .auth-btn-wrapper .btn-done").await;

    try_it_out(&page, &op, 200).await;
    let body = live_response_body(&page, &op).await;
    assert!(body.contains("swagger-user"), "response body shown: {body}");
    csp.assert_no_violation(&page).await;
    csp.stop();

    screenshot(&page, "swagger-ui-authorized.png").await;

    browser.close().await;
}

#[test]
fn hosts_are_read_from_urls() {
    assert_eq!(
        scheme_and_host("http://127.0.0.1:4111/x"),
        ("http", "127.0.0.1")
    );
    assert_eq!(
        scheme_and_host("https://cdn.example/a.js"),
        ("https", "cdn.example")
    );
    assert_eq!(scheme_and_host("http://u@[::1]:80/"), ("http", "[::1]"));
    assert_eq!(scheme_and_host("data:image/png;base64,AA").0, "data");
}
