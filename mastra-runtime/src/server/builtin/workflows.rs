//! `/api/workflows`: list and describe workflows, create and start runs (awaited, in the
//! background, or streamed as 0x1E-separated JSON records), resume suspended runs (the same
//! three ways), cancel and observe runs, and read runs back from storage.

use std::{collections::BTreeMap, sync::Arc};

use actix_web::{http::header, web::Bytes, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    common::{merge_client_context, PerPage, Precomputed},
    found::Found,
};
use crate::{
    error::ApiError,
    extract::{Json, OptionalJson, Path, Query},
    mastra::Mastra,
    memory::{
        check_id, PageRequest, Timestamp, UnreadableItem, WorkflowRunFilter, WorkflowRunRecord,
        WorkflowRunStatus,
    },
    openapi::{OperationFragment, ResponseFragment},
    route::{ApiRoute, RouteOrigin},
    schema::invalid_body,
    workflow::{
        CreateRunOptions, Run, RunDetails, RunOptions, RunResult, Workflow, WorkflowError,
        WorkflowEvent, WorkflowSummary,
    },
};

/// The error of a run id nobody created (Mastra's wording).
const RUN_NOT_FOUND: &str = "Workflow run not found";

/// The answer of `start` (Mastra's wording).
const RUN_STARTED: &str = "Workflow run started";

/// The answer of `resume` (Mastra's wording).
const RUN_RESUMED: &str = "Workflow run resumed";

/// The answer of `cancel` (Mastra's wording).
const RUN_CANCELLED: &str = "Workflow run cancelled";

/// Tag of the workflow routes in the OpenAPI document.
const TAG: &str = "workflows";

/// `?runId=` when it may be left out.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OptionalRunId {
    /// The run's id (a fresh UUID otherwise).
    #[serde(default)]
    run_id: Option<String>,
}

/// `?runId=` when it is needed.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequiredRunId {
    /// The run's id.
    #[schemars(length(min = 1))]
    run_id: String,
}

/// The body of `create-run`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateRunBody {
    /// Who the run belongs to (a filter of the run listing).
    #[serde(default)]
    resource_id: Option<String>,
    /// Accepted for Mastra's client; there are no scorers to disable.
    #[serde(default)]
    disable_scorers: Option<bool>,
}

/// The body of `start`, `start-async` and `stream` (Mastra's; other fields are ignored).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StartBody {
    /// The workflow's input; checked against its input schema (400 with `issues` otherwise).
    #[serde(default)]
    input_data: Option<Value>,
    /// The run's state when it starts.
    #[serde(default)]
    initial_state: Option<Map<String, Value>>,
    /// Values for the request context (reserved `mastra__*` keys are ignored).
    #[serde(default)]
    request_context: Option<Map<String, Value>>,
    /// Who the run belongs to.
    #[serde(default)]
    resource_id: Option<String>,
}

/// Which suspended step to resume: its id (`outer.inner` inside a nested workflow) or its
/// path (`["outer", "inner"]`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum StepRef {
    /// `"request-approval"`, `"outer.inner"`.
    Id(String),
    /// `["outer", "inner"]`.
    Path(Vec<String>),
}

impl StepRef {
    fn dotted(self) -> String {
        match self {
            StepRef::Id(id) => id,
            StepRef::Path(path) => path.join("."),
        }
    }
}

/// The body of `resume`, `resume-async` and `resume-stream` (Mastra's; other fields, such as
/// `tracingOptions`, are ignored).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResumeBody {
    /// The suspended step to resume; may be left out when only one step is suspended.
    #[serde(default)]
    step: Option<StepRef>,
    /// What the step is resumed with; checked against its resume schema (400 with `issues`
    /// otherwise, and the run stays suspended).
    #[serde(default)]
    resume_data: Option<Value>,
    /// Values for the request context, merged over the one the run started with.
    #[serde(default)]
    request_context: Option<Map<String, Value>>,
}

/// `?runId=&offset=` of `observe`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObserveQuery {
    /// The run's id.
    #[schemars(length(min = 1))]
    run_id: String,
    /// The first event to send (0-based); every event when left out.
    #[serde(default)]
    offset: Option<u32>,
}

/// `{runId}`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunCreated {
    run_id: String,
}

/// `{message}`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Message {
    message: String,
}

/// `GET /workflows/:workflowId/runs` query.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListRunsQuery {
    /// Page, from 0 (with `perPage`).
    #[serde(default)]
    page: Option<u32>,
    /// Runs per page (at least 1); without it every run is returned.
    #[serde(default)]
    per_page: Option<PerPage>,
    /// Mastra's older spelling of `perPage`.
    #[serde(default)]
    limit: Option<PerPage>,
    /// Mastra's older paging: runs to skip (with `limit`).
    #[serde(default)]
    offset: Option<u32>,
    /// Only runs in this status.
    #[serde(default)]
    status: Option<WorkflowRunStatus>,
    /// Only this owner's runs.
    #[serde(default)]
    resource_id: Option<String>,
    /// Only runs created at or after this time (ISO 8601).
    #[serde(default)]
    from_date: Option<Timestamp>,
    /// Only runs created at or before this time (ISO 8601).
    #[serde(default)]
    to_date: Option<Timestamp>,
}

/// One run of the listing (Mastra's shape).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunListItem {
    workflow_name: String,
    run_id: String,
    /// The run's latest snapshot: status, `context` (input and step results), result, error.
    snapshot: Value,
    created_at: Timestamp,
    updated_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_id: Option<String>,
}

impl From<WorkflowRunRecord> for RunListItem {
    fn from(record: WorkflowRunRecord) -> Self {
        Self {
            workflow_name: record.workflow_name,
            run_id: record.run_id,
            snapshot: record.snapshot,
            created_at: record.created_at,
            updated_at: record.updated_at,
            resource_id: record.resource_id,
        }
    }
}

/// `{runs, total}`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RunList {
    runs: Vec<RunListItem>,
    /// Runs on this page whose stored record cannot be decoded, with why (only when there are).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unreadable: Vec<UnreadableItem>,
    total: u64,
}

/// Creates (or reopens) the run and starts it in the background on the body's input.
async fn start_run(
    req: &HttpRequest,
    workflow: &Workflow,
    run_id: Option<String>,
    body: StartBody,
) -> Result<Run, ApiError> {
    let input = body.input_data.unwrap_or(Value::Null);
    let options = RunOptions::new()
        .request_context(merge_client_context(req, body.request_context))
        .initial_state(body.initial_state.unwrap_or_default());
    // Checked before the run is recorded, so a refused start leaves nothing behind.
    workflow
        .check_start(&input, &options)
        .map_err(|error| match error {
            WorkflowError::InvalidInput { issues, .. } => {
                invalid_body(issues.into_iter().map(|i| i.under("inputData")).collect())
            }
            other => other.into(),
        })?;
    let mut create = CreateRunOptions::new();
    if let Some(run_id) = run_id {
        create = create.run_id(run_id);
    }
    if let Some(resource_id) = body.resource_id {
        create = create.resource_id(resource_id);
    }
    let run = workflow.create_run_with(create).await?;
    run.start_background(input, options).await?;
    Ok(run)
}

// `Found<Workflow>` comes before the body in each handler that reads one: an unknown
// workflow is 404 before the body is read.
async fn create_run(
    Found(workflow): Found<Workflow>,
    Query(query): Query<OptionalRunId>,
    OptionalJson(body): OptionalJson<CreateRunBody>,
) -> Result<Json<RunCreated>, ApiError> {
    let mut options = CreateRunOptions::new();
    if let Some(run_id) = query.run_id.filter(|id| !id.is_empty()) {
        options = options.run_id(run_id);
    }
    if let Some(resource_id) = body.resource_id {
        options = options.resource_id(resource_id);
    }
    let _ = body.disable_scorers;
    let run = workflow.create_run_with(options).await?;
    Ok(Json(RunCreated {
        run_id: run.run_id().to_owned(),
    }))
}

async fn start_async(
    req: HttpRequest,
    Found(workflow): Found<Workflow>,
    Query(query): Query<OptionalRunId>,
    OptionalJson(body): OptionalJson<StartBody>,
) -> Result<Json<RunResult>, ApiError> {
    let run_id = query.run_id.filter(|id| !id.is_empty());
    let run = start_run(&req, &workflow, run_id, body).await?;
    Ok(Json(run.result().await?))
}

async fn start(
    req: HttpRequest,
    mastra: Mastra,
    Found(workflow): Found<Workflow>,
    Query(query): Query<RequiredRunId>,
    OptionalJson(body): OptionalJson<StartBody>,
) -> Result<Json<Message>, ApiError> {
    // Present and non-empty: the route's query validator checked `RequiredRunId`'s schema.
    let run_id = query.run_id;
    // An id too long to have been created is refused as such, not looked up and not found.
    check_id("runId", &run_id).map_err(WorkflowError::from)?;
    // As in Mastra, `start` runs a run made by `create-run`.
    mastra
        .storage()
        .get_workflow_run(workflow.id(), &run_id)
        .await?
        .ok_or_else(|| ApiError::not_found(RUN_NOT_FOUND))?;
    start_run(&req, &workflow, Some(run_id), body).await?;
    Ok(Json(Message {
        message: RUN_STARTED.to_owned(),
    }))
}

async fn stream(
    req: HttpRequest,
    Found(workflow): Found<Workflow>,
    Query(query): Query<RequiredRunId>,
    OptionalJson(body): OptionalJson<StartBody>,
) -> Result<HttpResponse, ApiError> {
    // Present and non-empty: the route's query validator checked `RequiredRunId`'s schema.
    let run_id = query.run_id;
    let run = start_run(&req, &workflow, Some(run_id), body).await?;
    // The run goes on if the client leaves; its snapshots keep being saved.
    Ok(event_stream(run.events()))
}

/// The events as the workflow stream sends them: each event's JSON, then 0x1E.
fn event_stream(events: futures_util::stream::BoxStream<'static, WorkflowEvent>) -> HttpResponse {
    let records = events.map(|event: WorkflowEvent| {
        Ok::<_, std::convert::Infallible>(Bytes::from(event.to_record()))
    });
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(records)
}

/// Opens the run of `?runId=` and resumes it in the background with the body.
async fn resume_run(
    req: &HttpRequest,
    workflow: &Workflow,
    run_id: &str,
    body: ResumeBody,
) -> Result<Run, ApiError> {
    let run = workflow.run(run_id).await?;
    let options =
        RunOptions::new().request_context(merge_client_context(req, body.request_context));
    let step = body.step.map(StepRef::dotted);
    run.resume_background(
        step.as_deref(),
        body.resume_data.unwrap_or(Value::Null),
        options,
    )
    .await?;
    Ok(run)
}

async fn resume(
    req: HttpRequest,
    Found(workflow): Found<Workflow>,
    Query(query): Query<RequiredRunId>,
    OptionalJson(body): OptionalJson<ResumeBody>,
) -> Result<Json<Message>, ApiError> {
    resume_run(&req, &workflow, &query.run_id, body).await?;
    Ok(Json(Message {
        message: RUN_RESUMED.to_owned(),
    }))
}

async fn resume_async(
    req: HttpRequest,
    Found(workflow): Found<Workflow>,
    Query(query): Query<RequiredRunId>,
    OptionalJson(body): OptionalJson<ResumeBody>,
) -> Result<Json<RunResult>, ApiError> {
    let run = resume_run(&req, &workflow, &query.run_id, body).await?;
    Ok(Json(run.result().await?))
}

async fn resume_stream(
    req: HttpRequest,
    Found(workflow): Found<Workflow>,
    Query(query): Query<RequiredRunId>,
    OptionalJson(body): OptionalJson<ResumeBody>,
) -> Result<HttpResponse, ApiError> {
    let run = resume_run(&req, &workflow, &query.run_id, body).await?;
    Ok(event_stream(run.events()))
}

async fn observe(
    Found(workflow): Found<Workflow>,
    Query(query): Query<ObserveQuery>,
) -> Result<HttpResponse, ApiError> {
    let run = workflow.run(&query.run_id).await?;
    let offset = query.offset.unwrap_or(0) as usize;
    Ok(event_stream(run.observe(offset).await?))
}

async fn cancel(
    mastra: Mastra,
    Path((workflow_id, run_id)): Path<(String, String)>,
) -> Result<Json<Message>, ApiError> {
    let workflow = mastra.workflow(&workflow_id)?;
    let run = workflow.run(&run_id).await?;
    let outcome = run.cancel().await?;
    tracing::debug!(workflow = %workflow_id, run_id = %run_id, ?outcome, "cancel answered");
    Ok(Json(Message {
        message: RUN_CANCELLED.to_owned(),
    }))
}

/// The page the listing asks for, or a 400 naming the bad parameter.
fn page_of(query: &ListRunsQuery) -> Result<PageRequest, ApiError> {
    let per_page = match query.per_page.or(query.limit) {
        None | Some(PerPage::All) => None,
        Some(PerPage::Count(0)) => {
            return Err(ApiError::bad_request("perPage must be a positive integer"))
        }
        Some(PerPage::Count(n)) => Some(n),
    };
    let page = match (query.page, query.offset, per_page) {
        (Some(page), _, _) => page,
        (None, Some(offset), Some(per_page)) => offset / per_page,
        _ => 0,
    };
    Ok(PageRequest { page, per_page })
}

async fn list_runs(
    mastra: Mastra,
    Path(workflow_id): Path<String>,
    Query(query): Query<ListRunsQuery>,
) -> Result<Json<RunList>, ApiError> {
    let workflow = mastra.workflow(&workflow_id)?;
    let page = page_of(&query)?;
    let filter = WorkflowRunFilter {
        workflow_name: workflow.id().to_owned(),
        status: query.status,
        resource_id: query.resource_id,
        from: query.from_date,
        to: query.to_date,
    };
    let found = mastra.storage().list_workflow_runs(&filter, page).await?;
    Ok(Json(RunList {
        total: found.total,
        runs: found.items.into_iter().map(RunListItem::from).collect(),
        unreadable: found.unreadable,
    }))
}

async fn get_run(
    mastra: Mastra,
    Path((workflow_id, run_id)): Path<(String, String)>,
) -> Result<Json<RunDetails>, ApiError> {
    let workflow = mastra.workflow(&workflow_id)?;
    let record = mastra
        .storage()
        .get_workflow_run(workflow.id(), &run_id)
        .await?
        .ok_or_else(|| ApiError::not_found(RUN_NOT_FOUND))?;
    RunDetails::from_record(&record).map(Json).map_err(|error| {
        tracing::error!(workflow = %workflow_id, run_id = %run_id, %error, "a stored run snapshot is unreadable");
        ApiError::internal("Storage error")
    })
}

fn not_found(what: &str) -> ResponseFragment {
    ResponseFragment::new(404).description(what)
}

pub(super) fn routes(prefix: &str) -> Vec<ApiRoute> {
    let base = format!("{prefix}/workflows");
    vec![
        ApiRoute::get(base.clone())
            .create_inferred_handler(|mastra: &Mastra| {
                let all: BTreeMap<String, WorkflowSummary> = mastra
                    .workflows()
                    .iter()
                    .map(|(id, workflow)| (id.clone(), workflow.summary()))
                    .collect();
                let body = Precomputed::new(&all);
                move || {
                    let body = body.clone();
                    async move { body }
                }
            })
            .handler_name("listWorkflows")
            .openapi(
                OperationFragment::new()
                    .summary("List workflows")
                    .description(
                        "Every workflow, keyed by id, with its steps, step graph and schemas. \
                         `inputSchema` and `outputSchema` are superjson strings: the JSON text \
                         of `{\"json\": <JSON Schema>}`.",
                    )
                    .tag(TAG),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::get(format!("{base}/:workflowId"))
            .create_inferred_handler(|mastra: &Mastra| {
                let each: Arc<BTreeMap<String, Precomputed<WorkflowSummary>>> = Arc::new(
                    mastra
                        .workflows()
                        .iter()
                        .map(|(id, w)| (id.clone(), Precomputed::new(&w.summary())))
                        .collect(),
                );
                move |Path(workflow_id): Path<String>| {
                    let found = each.get(&workflow_id).cloned();
                    async move {
                        found.ok_or_else(|| {
                            ApiError::not_found(format!("Workflow with id {workflow_id} not found"))
                        })
                    }
                }
            })
            .handler_name("getWorkflowById")
            .openapi(
                OperationFragment::new()
                    .summary("Get workflow by ID")
                    .tag(TAG)
                    .response(not_found("Workflow not found")),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::post(format!("{base}/:workflowId/create-run"))
            .inferred_handler(create_run)
            .handler_name("createWorkflowRun")
            .openapi(
                OperationFragment::new()
                    .summary("Create a workflow run")
                    .description(
                        "Records a `pending` run (a fresh UUID unless `runId` is given; a run \
                         that exists is left as it is) and answers `{runId}`. Start it with \
                         `start`, `start-async` or `stream`.",
                    )
                    .tag(TAG)
                    .response(not_found("Workflow not found")),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::post(format!("{base}/:workflowId/start-async"))
            .inferred_handler(start_async)
            .handler_name("startAsyncWorkflow")
            .openapi(
                OperationFragment::new()
                    .summary("Run a workflow and wait for it")
                    .description(
                        "Checks `inputData` against the workflow's input schema (400 with \
                         `issues` otherwise), runs every step, and answers with the finished \
                         run: `status` (`success` or `failed`), `result` or `error`, and each \
                         step's result. 409 if the run was already started.",
                    )
                    .tag(TAG)
                    .response(not_found("Workflow not found"))
                    .response(
                        ResponseFragment::new(409).description("The run was already started"),
                    ),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::post(format!("{base}/:workflowId/start"))
            .inferred_handler(start)
            .handler_name("startWorkflowRun")
            .openapi(
                OperationFragment::new()
                    .summary("Start a created run in the background")
                    .description(
                        "Starts the run made by `create-run` and answers at once with \
                         `{\"message\":\"Workflow run started\"}`; read it back with \
                         `runs/:runId`. 400 on invalid `inputData`, 404 for an unknown run, \
                         409 if it was already started.",
                    )
                    .tag(TAG)
                    .response(not_found("Workflow or run not found"))
                    .response(
                        ResponseFragment::new(409).description("The run was already started"),
                    ),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::post(format!("{base}/:workflowId/stream"))
            .inferred_handler(stream)
            .handler_name("streamWorkflow")
            .openapi(
                OperationFragment::new()
                    .summary("Run a workflow and stream its events")
                    .description(
                        "`text/plain`: one JSON event per record, each followed by the byte \
                         0x1E: `workflow-start`, `workflow-step-start` and \
                         `workflow-step-result` for each step, `workflow-finish` (with \
                         `payload.workflowStatus`). The run goes on if the client leaves.",
                    )
                    .tag(TAG)
                    .response(
                        ResponseFragment::new(200)
                            .description("Workflow events, each followed by 0x1E")
                            .content_type("text/plain")
                            .body::<WorkflowEvent>(),
                    )
                    .response(not_found("Workflow not found"))
                    .response(
                        ResponseFragment::new(409).description("The run was already started"),
                    ),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::post(format!("{base}/:workflowId/resume"))
            .inferred_handler(resume)
            .handler_name("resumeWorkflow")
            .openapi(
                OperationFragment::new()
                    .summary("Resume a suspended run in the background")
                    .description(
                        "Resumes the suspended `step` of run `runId` with `resumeData` and \
                         answers at once with `{\"message\":\"Workflow run resumed\"}`. \
                         `step` may be left out when only one step is suspended. 400 when \
                         `resumeData` breaks the step's resume schema (with `issues`) or the \
                         step is not suspended; 404 for an unknown run; 409 when the run is \
                         not suspended. A refused resume changes nothing.",
                    )
                    .tag(TAG)
                    .response(not_found("Workflow or run not found"))
                    .response(ResponseFragment::new(409).description("The run is not suspended")),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::post(format!("{base}/:workflowId/resume-async"))
            .inferred_handler(resume_async)
            .handler_name("resumeAsyncWorkflow")
            .openapi(
                OperationFragment::new()
                    .summary("Resume a suspended run and wait for it")
                    .description(
                        "As `resume`, answering with the run once it ends or suspends again: \
                         `status`, `result` or `error`, `suspended` and `suspendPayload` when \
                         it suspended, and each step's result.",
                    )
                    .tag(TAG)
                    .response(not_found("Workflow or run not found"))
                    .response(ResponseFragment::new(409).description("The run is not suspended")),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::post(format!("{base}/:workflowId/resume-stream"))
            .inferred_handler(resume_stream)
            .handler_name("resumeStreamWorkflow")
            .openapi(
                OperationFragment::new()
                    .summary("Resume a suspended run and stream its events")
                    .description(
                        "As `resume`, answering with the resumed run's events in the format \
                         of `stream` (each JSON event followed by 0x1E), ending with \
                         `workflow-finish`.",
                    )
                    .tag(TAG)
                    .response(
                        ResponseFragment::new(200)
                            .description("Workflow events, each followed by 0x1E")
                            .content_type("text/plain")
                            .body::<WorkflowEvent>(),
                    )
                    .response(not_found("Workflow or run not found"))
                    .response(ResponseFragment::new(409).description("The run is not suspended")),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::post(format!("{base}/:workflowId/observe"))
            .inferred_handler(observe)
            .handler_name("observeWorkflow")
            .openapi(
                OperationFragment::new()
                    .summary("Follow a run's events")
                    .description(
                        "Attaches to run `runId`, started by anyone: the events it has \
                         produced (from `offset`, 0-based), then the live ones, ending with \
                         `workflow-finish` (also for a suspended or cancelled run). A run \
                         that does not execute on this server is replayed from its stored \
                         snapshot (and, while it runs on another server, followed through \
                         it). Same format as `stream`.",
                    )
                    .tag(TAG)
                    .response(
                        ResponseFragment::new(200)
                            .description("Workflow events, each followed by 0x1E")
                            .content_type("text/plain")
                            .body::<WorkflowEvent>(),
                    )
                    .response(not_found("Workflow or run not found")),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::post(format!("{base}/:workflowId/runs/:runId/cancel"))
            .inferred_handler(cancel)
            .handler_name("cancelWorkflowRun")
            .openapi(
                OperationFragment::new()
                    .summary("Cancel a run")
                    .description(
                        "Fires the abort signal of the run's running steps; the run ends \
                         `canceled` and every stream attached to it receives \
                         `workflow-canceled` and `workflow-finish`, then closes. A pending or \
                         suspended run becomes `canceled` at once; a run executing on \
                         another server sharing the store is written `canceled` and its \
                         executor stops at its next write. A run that has ended is left as it \
                         is. Answers `{\"message\":\"Workflow run cancelled\"}`; 404 for an \
                         unknown run; 409 when a run executing elsewhere kept changing.",
                    )
                    .tag(TAG)
                    .response(not_found("Workflow or run not found"))
                    .response(
                        ResponseFragment::new(409)
                            .description("The run kept changing on another server; try again"),
                    ),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::get(format!("{base}/:workflowId/runs"))
            .inferred_handler(list_runs)
            .handler_name("listWorkflowRuns")
            .openapi(
                OperationFragment::new()
                    .summary("List a workflow's runs")
                    .description(
                        "Stored runs, newest first, with their latest snapshot. Every run \
                         unless `perPage` (or `limit`) is given; filters by `status`, \
                         `resourceId` and creation time (`fromDate`, `toDate`).",
                    )
                    .tag(TAG)
                    .response(not_found("Workflow not found")),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::get(format!("{base}/:workflowId/runs/:runId"))
            .inferred_handler(get_run)
            .handler_name("getWorkflowRunById")
            .openapi(
                OperationFragment::new()
                    .summary("Get a workflow run")
                    .description(
                        "The stored run: status, input (`payload`), each step's result, the \
                         result or error. Saved after every step, so it shows a running run's \
                         progress and survives a restart.",
                    )
                    .tag(TAG)
                    .response(not_found("Workflow or run not found")),
            )
            .origin(RouteOrigin::BuiltIn),
    ]
}
