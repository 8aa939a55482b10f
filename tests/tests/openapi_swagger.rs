//! Swagger UI over HTTP: the page at `/swagger-ui` and `/swagger-ui/`, its configurable title,
//! and every file it loads served by the server itself. (The browser test drives it in
//! Chromium.)

use mastra_tests::{test_config, TestServer};

fn quickstart() -> mastra_runtime::MastraBuilder {
    quickstart::app().server(test_config())
}

/// The `src`/`href` values of the page.
fn references(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for (i, _) in page.match_indices(attr) {
            let rest = &page[i + attr.len()..];
            out.push(rest[..rest.find('"').unwrap()].to_owned());
        }
    }
    out
}

#[tokio::test]
async fn the_page_is_served_at_both_paths_with_its_title() {
    let server = TestServer::start(quickstart()).await;
    for path in ["/swagger-ui", "/swagger-ui/"] {
        let page = server.get(path).await;
        page.assert_status(200);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(
            page.text.contains("<title>Mastra API</title>"),
            "{}",
            page.text
        );
        assert!(page.text.contains("<div id=\"swagger-ui\"></div>"));
    }

    let titled = TestServer::start(
        quickstart::app().server(test_config().swagger_ui_title("Shop & Co <docs>")),
    )
    .await;
    let page = titled.get("/swagger-ui").await;
    assert!(
        page.text
            .contains("<title>Shop &amp; Co &lt;docs&gt;</title>"),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn every_file_the_page_loads_comes_from_this_server() {
    let server = TestServer::start(quickstart()).await;
    let page = server.get("/swagger-ui").await;
    let refs = references(&page.text);
    assert!(refs.len() >= 4, "{refs:?}");
    for reference in &refs {
        assert!(
            reference.starts_with("/swagger-ui/"),
            "{reference} is not served by this server"
        );
        let file = server.get(reference).await;
        file.assert_status(200);
        let expected = match reference.rsplit('.').next() {
            Some("js") => "javascript",
            Some("css") => "text/css",
            Some("png") => "image/png",
            other => panic!("unexpected file type {other:?}"),
        };
        let content_type = file.header("content-type").unwrap_or_default();
        assert!(
            content_type.contains(expected),
            "{reference}: {content_type}"
        );
    }
    let init = server.get("/swagger-ui/swagger-initializer.js").await;
    assert!(
        init.text.contains("\"url\":\"/api/openapi.json\""),
        "{}",
        init.text
    );
    for text in [&page.text, &init.text] {
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{text}"
        );
    }
    let bundle = server.get("/swagger-ui/swagger-ui-bundle.js").await;
    assert!(bundle.text.len() > 500_000, "the real Swagger UI bundle");
    assert!(bundle.text.contains("SwaggerUIBundle"));
}

#[tokio::test]
async fn an_unknown_swagger_ui_file_is_a_json_404() {
    let server = TestServer::start(quickstart()).await;
    server
        .get("/swagger-ui/nope.js")
        .await
        .assert_error(404, "Not Found");
}

/// The directives of a `Content-Security-Policy` header, by name.
fn directives(policy: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    policy
        .split(';')
        .filter_map(|directive| {
            let mut words = directive.split_whitespace().map(str::to_owned);
            Some((words.next()?, words.collect()))
        })
        .collect()
}

#[tokio::test]
async fn docs_responses_forbid_sniffing_framing_and_anything_but_their_own_files() {
    let server = TestServer::start(quickstart()).await;
    let etag = server
        .get("/api/openapi.json")
        .await
        .header("etag")
        .expect("an ETag")
        .to_owned();
    let not_modified = server
        .get_with_header("/api/openapi.json", "if-none-match", &etag)
        .await;
    assert_eq!(not_modified.status, 304);
    let mut replies = vec![("/api/openapi.json (304)".to_owned(), not_modified)];
    for path in [
        "/swagger-ui",
        "/swagger-ui/",
        "/swagger-ui/swagger-initializer.js",
        "/swagger-ui/swagger-ui-bundle.js",
        "/swagger-ui/swagger-ui.css",
        "/swagger-ui/index.css",
        "/swagger-ui/favicon-32x32.png",
        "/swagger-ui/nope.js",
        "/api/openapi.json",
    ] {
        replies.push((path.to_owned(), server.get(path).await));
    }
    for (path, reply) in &replies {
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{path}");
        let policy = directives(reply.header("content-security-policy").unwrap_or_default());
        assert_eq!(
            policy.get("frame-ancestors").map(Vec::as_slice),
            Some(&["'none'".to_owned()][..]),
            "{path}: {policy:?}"
        );
        assert_eq!(
            policy.get("default-src").map(Vec::as_slice),
            Some(&["'none'".to_owned()][..]),
            "{path}: {policy:?}"
        );
        // Nothing may run or load from anywhere but this server: no inline code, no eval.
        for (directive, sources) in &policy {
            for source in sources {
                assert!(
                    ["'none'", "'self'", "data:"].contains(&source.as_str()),
                    "{path}: {directive} allows {source}"
                );
            }
        }
    }

    // The page itself has no inline script or style for the policy to refuse.
    let page = &replies[1].1.text;
    assert!(!page.contains("<style"), "{page}");
    for script in page.split("<script").skip(1) {
        let tag = &script[..script.find('>').expect("a whole tag")];
        assert!(
            tag.contains("src=\"/swagger-ui/"),
            "an inline script: {script}"
        );
        assert!(
            script[tag.len() + 1..]
                .trim_start()
                .starts_with("</script>"),
            "a script with inline code: {script}"
        );
    }
}
