//! Built-in workflow routes, spoken to over HTTP: listing with superjson schemas and the step
//! graph, create-run, start-async, start (background), stream (0x1E records), the run listing
//! with its filters and paging, reading a run back, and the 400/404/409 answers.

mod workflows_support;

use mastra_runtime::{
    prelude::*,
    workflow::{when, Step, StepContext, StepError, Workflow},
};
use mastra_tests::{types_of, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use workflows_support::{
    add, app, arithmetic, describe, double, event_names, records, start_async, wait_for_status,
    Label, Total,
};

/// `add -> parallel(double, describe) -> map -> branch(big | small)`, plus `arithmetic` nested.
fn showcase() -> Workflow {
    let big = Step::builder("big").execute(|t: Total, _: StepContext| async move {
        Ok::<_, StepError>(Label {
            label: format!("big {}", t.total),
        })
    });
    let small = Step::builder("small").execute(|t: Total, _: StepContext| async move {
        Ok::<_, StepError>(Label {
            label: format!("small {}", t.total),
        })
    });
    #[derive(Deserialize, JsonSchema)]
    struct Both {
        double: Total,
        describe: Label,
    }
    Workflow::builder("showcase")
        .description("Every kind of node")
        .then(add())
        .parallel([double(), describe()])
        .map(|both: Both, _: &StepContext| {
            Ok(Total {
                total: both.double.total + both.describe.label.len() as i64,
            })
        })
        .branch([
            (when(|t: &Total| t.total >= 100).label("big"), big),
            (when(|t: &Total| t.total < 100).label("small"), small),
        ])
        .commit()
        .expect("showcase fits together")
}

fn failing() -> Workflow {
    let boom = Step::builder("boom").execute(|t: Total, _: StepContext| async move {
        if t.total > 10 {
            Err(StepError::named(
                "RangeError",
                format!("{} is too big", t.total),
            ))
        } else {
            Ok(t)
        }
    });
    Workflow::builder("failing")
        .then(add())
        .then(boom)
        .then(double())
        .commit()
        .expect("failing fits together")
}

fn superjson(value: &Value) -> Value {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a superjson string"));
    serde_json::from_str::<Value>(text).expect("superjson text is JSON")["json"].clone()
}

#[tokio::test]
async fn workflows_are_listed_with_steps_step_graph_and_superjson_schemas() {
    let server = TestServer::start(app([arithmetic(), showcase()])).await;
    let all = server.get("/api/workflows").await;
    all.assert_status(200);
    let all = all.json();
    assert_eq!(
        all.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["arithmetic", "showcase"]
    );
    let one = server.get("/api/workflows/arithmetic").await.json();
    assert_eq!(one, all["arithmetic"]);
    assert_eq!(one["name"], "arithmetic");
    assert_eq!(one["description"], "Adds, doubles, describes");
    assert_eq!(
        superjson(&one["inputSchema"])["required"],
        json!(["a", "b"])
    );
    assert!(superjson(&one["outputSchema"])["properties"]["label"].is_object());
    assert_eq!(one["steps"]["add"]["id"], "add");
    assert_eq!(one["steps"]["add"]["description"], "Adds a and b");
    assert_eq!(
        superjson(&one["steps"]["double"]["inputSchema"])["required"],
        json!(["total"])
    );
    assert_eq!(
        one["stepGraph"],
        json!([
            { "type": "step", "step": { "id": "add", "description": "Adds a and b" } },
            { "type": "step", "step": { "id": "double", "description": "Doubles the total" } },
            { "type": "step", "step": { "id": "describe" } },
        ])
    );

    let graph = &all["showcase"]["stepGraph"];
    assert_eq!(
        types_of(graph.as_array().unwrap()),
        ["step", "parallel", "mapping", "conditional"]
    );
    assert_eq!(graph[1]["steps"][1]["step"]["id"], "describe");
    assert_eq!(graph[2]["id"], "mapping_1");
    assert_eq!(
        graph[3]["serializedConditions"][0],
        json!({ "id": "big-condition", "fn": "big" })
    );
    assert_eq!(
        all["showcase"]["steps"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["add", "big", "describe", "double", "mapping_1", "small"]
    );
    server
        .get("/api/workflows/nope")
        .await
        .assert_error(404, "Workflow with id nope not found");
}

#[tokio::test]
async fn nested_workflows_are_listed_as_workflow_steps_with_all_their_steps() {
    let outer = Workflow::builder("outer")
        .then(arithmetic())
        .then(
            Step::builder("shout").execute(|l: Label, _: StepContext| async move {
                Ok::<_, StepError>(Label {
                    label: l.label.to_uppercase(),
                })
            }),
        )
        .commit()
        .unwrap();
    let server = TestServer::start(app([outer])).await;
    let listed = server.get("/api/workflows/outer").await.json();
    assert_eq!(listed["steps"]["arithmetic"]["component"], "WORKFLOW");
    assert_eq!(listed["steps"]["arithmetic"]["isWorkflow"], true);
    assert!(listed["steps"].get("arithmetic.add").is_none());
    assert_eq!(listed["allSteps"]["arithmetic.add"]["id"], "add");
    assert_eq!(listed["stepGraph"][0]["type"], "workflow");
    assert_eq!(listed["stepGraph"][0]["workflowId"], "arithmetic");
    assert_eq!(
        listed["stepGraph"][0]["serializedStepFlow"][0]["step"]["id"],
        "add"
    );

    let run = start_async(&server, "outer", None, json!({ "a": 1, "b": 2 }))
        .await
        .json();
    assert_eq!(run["status"], "success");
    assert_eq!(run["result"], json!({ "label": "TOTAL IS 6" }));
    assert_eq!(
        run["steps"]["arithmetic"]["output"],
        json!({ "label": "total is 6" })
    );
    assert_eq!(
        run["steps"]["arithmetic.double"]["output"],
        json!({ "total": 6 })
    );
    assert_eq!(
        run["stepExecutionPath"],
        json!([
            "arithmetic",
            "arithmetic.add",
            "arithmetic.double",
            "arithmetic.describe",
            "shout"
        ])
    );
}

#[tokio::test]
async fn start_async_runs_every_step_and_answers_the_finished_run() {
    let server = TestServer::start(app([arithmetic()])).await;
    let reply = start_async(
        &server,
        "arithmetic",
        Some("first"),
        json!({ "a": 2, "b": 3 }),
    )
    .await;
    reply.assert_status(200);
    let run = reply.json();
    assert_eq!(run["runId"], "first");
    assert_eq!(run["status"], "success");
    assert_eq!(run["result"], json!({ "label": "total is 10" }));
    assert_eq!(run["input"], json!({ "a": 2, "b": 3 }));
    assert!(run.get("error").is_none());
    for (id, payload, output) in [
        ("add", json!({ "a": 2, "b": 3 }), json!({ "total": 5 })),
        ("double", json!({ "total": 5 }), json!({ "total": 10 })),
        (
            "describe",
            json!({ "total": 10 }),
            json!({ "label": "total is 10" }),
        ),
    ] {
        let step = &run["steps"][id];
        assert_eq!(step["status"], "success", "{id}: {step}");
        assert_eq!(step["payload"], payload, "{id}");
        assert_eq!(step["output"], output, "{id}");
        assert!(step["endedAt"].as_i64().unwrap() >= step["startedAt"].as_i64().unwrap());
    }
    assert_eq!(
        run["stepExecutionPath"],
        json!(["add", "double", "describe"])
    );

    let stored = server.get("/api/workflows/arithmetic/runs/first").await;
    stored.assert_status(200);
    let stored = stored.json();
    assert_eq!(stored["status"], "success");
    assert_eq!(stored["workflowName"], "arithmetic");
    assert_eq!(stored["payload"], json!({ "a": 2, "b": 3 }));
    assert_eq!(stored["result"], run["result"]);
    assert_eq!(stored["steps"], run["steps"]);
}

#[tokio::test]
async fn invalid_input_is_refused_with_issues_and_no_run_starts() {
    let server = TestServer::start(app([arithmetic()])).await;
    let reply = start_async(&server, "arithmetic", Some("bad"), json!({ "a": "two" })).await;
    reply.assert_error(400, "Invalid request body");
    let issues = reply.json()["issues"].clone();
    let fields: Vec<&str> = issues
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"inputData.a"), "{issues}");
    assert!(fields.contains(&"inputData.b"), "{issues}");
    // Validated before anything ran or was recorded.
    server
        .get("/api/workflows/arithmetic/runs/bad")
        .await
        .assert_error(404, "Workflow run not found");

    let missing = server
        .post_json("/api/workflows/arithmetic/start-async", &json!({}))
        .await;
    missing.assert_error(400, "Invalid request body");
    assert_eq!(missing.json()["issues"][0]["field"], "inputData");

    server
        .send_raw(
            Method::POST,
            "/api/workflows/arithmetic/start-async",
            Some("application/json"),
            "{nope",
        )
        .await
        .assert_error_contains(400, "Malformed JSON body");
    server
        .send_raw(
            Method::POST,
            "/api/workflows/arithmetic/start-async",
            Some("text/plain"),
            "a=1",
        )
        .await
        .assert_status(415);
    let listed = server.get("/api/workflows/arithmetic/runs").await.json();
    assert_eq!(listed, json!({ "runs": [], "total": 0 }));
}

#[tokio::test]
async fn create_run_then_start_runs_in_the_background_and_is_read_back() {
    let server = TestServer::start(app([arithmetic()])).await;
    let created = server
        .post_json(
            "/api/workflows/arithmetic/create-run",
            &json!({ "resourceId": "user-1" }),
        )
        .await;
    created.assert_status(200);
    let run_id = created.json()["runId"].as_str().unwrap().to_owned();
    assert_eq!(run_id.len(), 36, "a UUID: {run_id}");

    let pending = server
        .get(&format!("/api/workflows/arithmetic/runs/{run_id}"))
        .await
        .json();
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["resourceId"], "user-1");

    let started = server
        .post_json(
            &format!("/api/workflows/arithmetic/start?runId={run_id}"),
            &json!({ "inputData": { "a": 20, "b": 1 } }),
        )
        .await;
    started.assert_status(200);
    assert_eq!(started.json(), json!({ "message": "Workflow run started" }));

    let done = wait_for_status(&server, "arithmetic", &run_id, "success").await;
    assert_eq!(done["result"], json!({ "label": "total is 42" }));
    assert_eq!(done["resourceId"], "user-1");
    assert_eq!(done["steps"]["double"]["output"], json!({ "total": 42 }));

    // Without a body, with a chosen id: create-run answers that id, and again for the same id.
    for _ in 0..2 {
        let again = server
            .send_raw(
                Method::POST,
                "/api/workflows/arithmetic/create-run?runId=mine",
                None,
                "",
            )
            .await;
        again.assert_status(200);
        assert_eq!(again.json(), json!({ "runId": "mine" }));
    }
}

/// A missing or empty `?runId=` is the query validator's 400, naming the parameter.
fn assert_run_id_refused(reply: &mastra_tests::Reply) {
    reply.assert_error(400, "Invalid query");
    let issues = reply.json()["issues"].clone();
    assert_eq!(issues[0]["field"], "runId", "{issues}");
}

#[tokio::test]
async fn start_needs_a_created_run_and_a_run_id() {
    let server = TestServer::start(app([arithmetic()])).await;
    let body = json!({ "inputData": { "a": 1, "b": 1 } });
    for url in [
        "/api/workflows/arithmetic/start",
        "/api/workflows/arithmetic/start?runId=",
    ] {
        assert_run_id_refused(&server.post_json(url, &body).await);
    }
    server
        .post_json("/api/workflows/arithmetic/start?runId=never-created", &body)
        .await
        .assert_error(404, "Workflow run not found");
    server
        .post_json("/api/workflows/nope/start?runId=x", &body)
        .await
        .assert_error(404, "Workflow with id nope not found");
}

#[tokio::test]
async fn a_run_starts_only_once() {
    let server = TestServer::start(app([arithmetic()])).await;
    let body = json!({ "inputData": { "a": 1, "b": 1 } });
    server
        .post_json("/api/workflows/arithmetic/start-async?runId=once", &body)
        .await
        .assert_status(200);
    for path in [
        "/api/workflows/arithmetic/start-async?runId=once",
        "/api/workflows/arithmetic/start?runId=once",
        "/api/workflows/arithmetic/stream?runId=once",
    ] {
        server.post_json(path, &body).await.assert_error(
            409,
            "workflow run once was already started (status success)",
        );
    }
}

#[tokio::test]
async fn stream_sends_0x1e_separated_events_from_start_to_finish() {
    let server = TestServer::start(app([arithmetic()])).await;
    let reply = server
        .post_json(
            "/api/workflows/arithmetic/stream?runId=streamed",
            &json!({ "inputData": { "a": 1, "b": 2 } }),
        )
        .await;
    reply.assert_status(200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let events = records(&reply.text);
    assert_eq!(
        event_names(&events),
        [
            "workflow-start",
            "workflow-step-start:add",
            "workflow-step-result:add",
            "workflow-step-start:double",
            "workflow-step-result:double",
            "workflow-step-start:describe",
            "workflow-step-result:describe",
            "workflow-finish",
        ]
    );
    for event in &events {
        assert_eq!(event["runId"], "streamed");
        assert_eq!(event["from"], "WORKFLOW");
    }
    assert_eq!(events[0]["payload"], json!({ "workflowId": "arithmetic" }));
    assert_eq!(events[1]["payload"]["payload"], json!({ "a": 1, "b": 2 }));
    assert_eq!(events[1]["payload"]["status"], "running");
    assert_eq!(events[2]["payload"]["status"], "success");
    assert_eq!(events[2]["payload"]["output"], json!({ "total": 3 }));
    assert_eq!(
        events[1]["payload"]["stepCallId"],
        events[2]["payload"]["stepCallId"]
    );
    let finish = &events[7]["payload"];
    assert_eq!(finish["workflowStatus"], "success");
    assert_eq!(finish["result"], json!({ "label": "total is 6" }));

    let stored = server
        .get("/api/workflows/arithmetic/runs/streamed")
        .await
        .json();
    assert_eq!(stored["status"], "success");

    assert_run_id_refused(
        &server
            .post_json(
                "/api/workflows/arithmetic/stream",
                &json!({ "inputData": { "a": 1, "b": 2 } }),
            )
            .await,
    );
    server
        .post_json(
            "/api/workflows/arithmetic/stream?runId=s2",
            &json!({ "inputData": {} }),
        )
        .await
        .assert_error(400, "Invalid request body");
}

#[tokio::test]
async fn a_failing_step_fails_the_run_with_its_error_and_later_steps_never_run() {
    let server = TestServer::start(app([failing()])).await;
    let run = start_async(&server, "failing", Some("f1"), json!({ "a": 10, "b": 5 })).await;
    run.assert_status(200);
    let run = run.json();
    assert_eq!(run["status"], "failed");
    assert_eq!(
        run["error"],
        json!({ "name": "RangeError", "message": "15 is too big" })
    );
    assert!(run.get("result").is_none());
    assert_eq!(run["steps"]["add"]["status"], "success");
    assert_eq!(run["steps"]["boom"]["status"], "failed");
    assert_eq!(run["steps"]["boom"]["error"]["message"], "15 is too big");
    assert!(run["steps"].get("double").is_none(), "{run}");

    let streamed = server
        .post_json(
            "/api/workflows/failing/stream?runId=f2",
            &json!({ "inputData": { "a": 10, "b": 5 } }),
        )
        .await;
    let events = records(&streamed.text);
    let finish = events.last().unwrap();
    assert_eq!(finish["type"], "workflow-finish");
    assert_eq!(finish["payload"]["workflowStatus"], "failed");
    assert_eq!(finish["payload"]["error"]["name"], "RangeError");
    let stored = server.get("/api/workflows/failing/runs/f2").await.json();
    assert_eq!(stored["status"], "failed");
    assert_eq!(stored["error"]["message"], "15 is too big");
}

#[tokio::test]
async fn runs_are_listed_newest_first_with_filters_and_paging() {
    let server = TestServer::start(app([failing()])).await;
    for (i, (a, owner)) in [(1, "ann"), (50, "ann"), (2, "bob")].iter().enumerate() {
        server
            .post_json(
                &format!("/api/workflows/failing/create-run?runId=r{i}"),
                &json!({ "resourceId": owner }),
            )
            .await
            .assert_status(200);
        start_async(
            &server,
            "failing",
            Some(&format!("r{i}")),
            json!({ "a": a, "b": 0 }),
        )
        .await
        .assert_status(200);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server
        .post_json("/api/workflows/failing/create-run?runId=r3", &json!({}))
        .await
        .assert_status(200);

    let ids = |v: &Value| -> Vec<String> {
        v["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["runId"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = server.get("/api/workflows/failing/runs").await;
    all.assert_status(200);
    let all = all.json();
    assert_eq!(ids(&all), ["r3", "r2", "r1", "r0"]);
    assert_eq!(all["total"], 4);
    let first = &all["runs"][1];
    assert_eq!(first["workflowName"], "failing");
    assert_eq!(first["resourceId"], "bob");
    assert_eq!(first["snapshot"]["status"], "success");
    assert_eq!(
        first["snapshot"]["context"]["input"],
        json!({ "a": 2, "b": 0 })
    );
    assert_eq!(
        first["snapshot"]["context"]["add"]["output"],
        json!({ "total": 2 })
    );
    assert!(first["createdAt"].as_str().unwrap().ends_with('Z'));

    let page = server
        .get("/api/workflows/failing/runs?perPage=2&page=1")
        .await
        .json();
    assert_eq!(ids(&page), ["r1", "r0"]);
    assert_eq!(page["total"], 4);
    let old_style = server
        .get("/api/workflows/failing/runs?limit=1&offset=2")
        .await
        .json();
    assert_eq!(ids(&old_style), ["r1"]);
    let failed = server
        .get("/api/workflows/failing/runs?status=failed")
        .await
        .json();
    assert_eq!(ids(&failed), ["r1"]);
    assert_eq!(failed["total"], 1);
    let pending = server
        .get("/api/workflows/failing/runs?status=pending")
        .await
        .json();
    assert_eq!(ids(&pending), ["r3"]);
    let anns = server
        .get("/api/workflows/failing/runs?resourceId=ann")
        .await
        .json();
    assert_eq!(ids(&anns), ["r1", "r0"]);
    let r1_created = all["runs"][2]["createdAt"].as_str().unwrap().to_owned();
    let since = server
        .get(&format!(
            "/api/workflows/failing/runs?fromDate={r1_created}"
        ))
        .await
        .json();
    assert_eq!(ids(&since), ["r3", "r2", "r1"]);
    let until = server
        .get(&format!("/api/workflows/failing/runs?toDate={r1_created}"))
        .await
        .json();
    assert_eq!(ids(&until), ["r1", "r0"]);
    let future = server
        .get("/api/workflows/failing/runs?fromDate=2999-01-01T00:00:00.000Z")
        .await
        .json();
    assert_eq!(future, json!({ "runs": [], "total": 0 }));
    let past = server
        .get("/api/workflows/failing/runs?toDate=2000-01-01T00:00:00Z")
        .await
        .json();
    assert_eq!(past["total"], 0);

    server
        .get("/api/workflows/failing/runs?perPage=0")
        .await
        .assert_error(400, "perPage must be a positive integer");
    server
        .get("/api/workflows/failing/runs?status=done")
        .await
        .assert_error_contains(400, "Invalid query");
    server
        .get("/api/workflows/failing/runs?fromDate=yesterday")
        .await
        .assert_error_contains(400, "Invalid query");
}

#[tokio::test]
async fn unknown_workflows_and_runs_are_404() {
    let server = TestServer::start(app([arithmetic()])).await;
    let body = json!({ "inputData": { "a": 1, "b": 1 } });
    for (method, path) in [
        (Method::GET, "/api/workflows/nope"),
        (Method::GET, "/api/workflows/nope/runs"),
        (Method::GET, "/api/workflows/nope/runs/x"),
        (Method::POST, "/api/workflows/nope/create-run"),
        (Method::POST, "/api/workflows/nope/start-async"),
        (Method::POST, "/api/workflows/nope/stream?runId=x"),
    ] {
        server
            .send(server.request(method.clone(), path).json(&body))
            .await
            .assert_error(404, "Workflow with id nope not found");
    }
    server
        .get("/api/workflows/arithmetic/runs/never")
        .await
        .assert_error(404, "Workflow run not found");
}

#[tokio::test]
async fn request_context_and_initial_state_reach_the_steps_and_reserved_keys_are_not_saved() {
    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Seen {
        tenant: Option<String>,
        user: Option<Value>,
        visits: i64,
    }
    let look = Step::builder("look").execute(|_: Value, ctx: StepContext| async move {
        let visits = ctx.state().get_as::<i64>("visits").unwrap_or(0) + 1;
        ctx.state().set("visits", visits);
        Ok::<_, StepError>(Seen {
            tenant: ctx.request_context().get_as("tenant"),
            user: ctx.request_context().get("user"),
            visits,
        })
    });
    let server =
        TestServer::start(app([Workflow::builder("ctx").then(look).commit().unwrap()])).await;
    let run = server
        .post_json(
            "/api/workflows/ctx/start-async?runId=c1",
            &json!({
                "inputData": null,
                "requestContext": { "tenant": "acme", "user": { "sub": "forged" } },
                "initialState": { "visits": 41 },
            }),
        )
        .await
        .json();
    assert_eq!(run["status"], "success", "{run}");
    assert_eq!(
        run["result"],
        json!({ "tenant": "acme", "user": null, "visits": 42 })
    );
    assert_eq!(run["state"], json!({ "visits": 42 }));
    let listed = server.get("/api/workflows/ctx/runs").await.json();
    let snapshot = &listed["runs"][0]["snapshot"];
    assert_eq!(snapshot["requestContext"], json!({ "tenant": "acme" }));
    assert_eq!(snapshot["value"], json!({ "visits": 42 }));
}

#[tokio::test]
async fn the_quickstart_workflow_plans_indoors_when_it_rains_and_outdoors_otherwise() {
    let server = TestServer::start(
        quickstart::app()
            .storage(SqliteStorage::in_memory())
            .server(mastra_tests::test_config()),
    )
    .await;
    let listed = server.get("/api/workflows/trip-planner").await.json();
    assert_eq!(
        types_of(listed["stepGraph"].as_array().unwrap()),
        ["step", "parallel", "mapping", "conditional", "step"]
    );

    let london = start_async(&server, "trip-planner", None, json!({ "city": "London" }))
        .await
        .json();
    assert_eq!(london["status"], "success", "{london}");
    let result = &london["result"];
    assert_eq!(result["setting"], "indoor");
    assert_eq!(
        result["packing"],
        json!(["water", "umbrella", "sunglasses"])
    );
    assert_eq!(
        london["steps"]["to-fahrenheit"]["output"],
        json!({ "fahrenheit": 53.6 })
    );
    assert!(london["steps"].get("outdoor-plan").is_none());
    assert_eq!(
        result["summary"],
        "Indoor in London: indoor day, rain likely"
    );
    assert_eq!(
        result["suggestion"],
        "You said: Suggest one indoor activity in London (rain likely, 12°C / 54°F)."
    );

    let lisbon = start_async(&server, "trip-planner", None, json!({ "city": "Lisbon" }))
        .await
        .json();
    assert_eq!(lisbon["result"]["setting"], "outdoor");
    assert!(lisbon["steps"].get("indoor-plan").is_none());
    assert_eq!(lisbon["steps"]["outdoor-plan"]["status"], "success");

    start_async(&server, "trip-planner", None, json!({ "city": "" }))
        .await
        .assert_error(400, "Invalid request body");
}
