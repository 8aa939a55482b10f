//! `#[api_route]` functions end to end: registered through inventory, selected per module, and
//! served like any other route.

use mastra_runtime::prelude::*;
use mastra_tests::{test_config, TestServer};
// Nothing else here names the quickstart crate; this is what keeps its routes linked.
use quickstart as _;
use reqwest::Method;

mod alpha {
    use mastra_runtime::{
        middleware::{Error, Next, ServiceRequest, ServiceResponse},
        prelude::*,
    };

    #[derive(Serialize, Deserialize, JsonSchema)]
    pub struct Note {
        pub text: String,
    }

    async fn first(
        req: ServiceRequest,
        next: Next<impl MessageBody>,
    ) -> Result<ServiceResponse<impl MessageBody>, Error> {
        RequestContext::of(req.request()).set("order", json!(["first"]));
        next.call(req).await
    }

    async fn second(
        req: ServiceRequest,
        next: Next<impl MessageBody>,
    ) -> Result<ServiceResponse<impl MessageBody>, Error> {
        let ctx = RequestContext::of(req.request());
        let mut order: Vec<String> = ctx.get_as("order").unwrap_or_default();
        order.push("second".into());
        ctx.set("order", json!(order));
        next.call(req).await
    }

    /// Read a note
    #[api_route("/alpha/notes/:noteId", method = "GET", requires_auth = false)]
    pub async fn read_note(Path(note_id): Path<String>) -> Json<Note> {
        Json(Note {
            text: format!("note {note_id}"),
        })
    }

    #[api_route("/alpha/notes/{noteId}", method = "PUT")]
    pub async fn write_note(
        Path(note_id): Path<String>,
        Json(note): Json<Note>,
    ) -> Result<Json<Note>, ApiError> {
        if note.text.is_empty() {
            return Err(ApiError::unprocessable("empty note"));
        }
        Ok(Json(Note {
            text: format!("{note_id}: {}", note.text),
        }))
    }

    #[api_route("/alpha/any", method = "ALL")]
    pub async fn any(req: HttpRequest) -> String {
        req.method().to_string()
    }

    #[api_route("/alpha/ordered", method = "GET", middleware(first, second))]
    pub async fn ordered(c: Context) -> HttpResponse {
        c.json(c.request_context().get("order"))
    }
}

mod beta {
    use mastra_runtime::prelude::*;

    #[api_route("/beta/only", method = "GET")]
    pub async fn only() -> &'static str {
        "beta"
    }
}

fn app(module: &str) -> mastra_runtime::MastraBuilder {
    Mastra::builder()
        .server(test_config())
        .routes_from_module(format!("{}::{module}", module_path!()))
}

#[tokio::test]
async fn annotated_routes_are_served_with_their_extractors() {
    let server = TestServer::start(app("alpha")).await;
    assert_eq!(
        server.get("/alpha/notes/7").await.json(),
        json!({ "text": "note 7" })
    );
    let reply = server
        .send(
            server
                .request(Method::PUT, "/alpha/notes/7")
                .json(&json!({ "text": "hi" })),
        )
        .await;
    assert_eq!(reply.json(), json!({ "text": "7: hi" }));
    server
        .send(
            server
                .request(Method::PUT, "/alpha/notes/7")
                .json(&json!({ "text": "" })),
        )
        .await
        .assert_error(422, "empty note");
    for method in [Method::GET, Method::POST, Method::DELETE] {
        let reply = server
            .send(server.request(method.clone(), "/alpha/any"))
            .await;
        assert_eq!(reply.text, method.as_str());
    }
    let ordered = server.get("/alpha/ordered").await;
    assert_eq!(ordered.json(), json!(["first", "second"]));
}

#[tokio::test]
async fn two_apps_in_one_binary_do_not_see_each_others_routes() {
    let alpha = TestServer::start(app("alpha")).await;
    let beta = TestServer::start(app("beta")).await;
    alpha.get("/beta/only").await.assert_status(404);
    beta.get("/alpha/notes/1").await.assert_status(404);
    assert_eq!(beta.get("/beta/only").await.text, "beta");
    let paths = |s: &TestServer| {
        s.mastra()
            .routes()
            .iter()
            .filter(|r| !r.is_builtin())
            .map(|r| format!("{} {}", r.method(), r.path()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        paths(&alpha),
        [
            "ALL /alpha/any",
            "GET /alpha/notes/:noteId",
            "GET /alpha/ordered",
            "PUT /alpha/notes/{noteId}"
        ]
    );
    assert_eq!(paths(&beta), ["GET /beta/only"]);
}

#[tokio::test]
async fn the_mounted_route_carries_the_macro_arguments() {
    let server = TestServer::start(app("alpha")).await;
    let route = |path: &str| {
        server
            .mastra()
            .routes()
            .iter()
            .find(|r| r.path() == path)
            .unwrap_or_else(|| panic!("{path} missing"))
    };
    let read = route("/alpha/notes/:noteId");
    assert!(!read.is_auth_required());
    assert_eq!(read.handler_name(), Some("read_note"));
    assert_eq!(read.doc_summary(), Some("Read a note"));
    assert!(route("/alpha/notes/{noteId}").is_auth_required());
    assert_eq!(route("/alpha/ordered").middleware_count(), 2);
}

#[tokio::test]
async fn selecting_no_annotated_routes_mounts_only_builtins() {
    let server = TestServer::start(
        Mastra::builder()
            .server(test_config())
            .without_annotated_routes(),
    )
    .await;
    assert!(server.mastra().routes().iter().all(|r| r.is_builtin()));
}

#[tokio::test]
async fn every_annotated_route_linked_into_the_binary_is_counted() {
    // inventory only sees crates the linker kept; count them so a dropped crate is noticed.
    let defs: Vec<_> = mastra_runtime::route::RouteDef::all()
        .filter(|d| d.is_in_module(module_path!()))
        .collect();
    assert_eq!(defs.len(), 5, "{defs:?}");
    let quickstart: Vec<_> = mastra_runtime::route::RouteDef::all()
        .filter(|d| d.is_in_module("quickstart"))
        .collect();
    assert_eq!(quickstart.len(), 3, "{quickstart:?}");
}
