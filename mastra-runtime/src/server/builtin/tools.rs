//! `/api/tools`: list and describe tools, and run one with validated input.

use std::collections::BTreeMap;

use actix_web::HttpRequest;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    common::{merge_client_context, Precomputed},
    found::Found,
};
use crate::{
    error::ApiError,
    extract::{Json, Path},
    mastra::Mastra,
    openapi::{OperationFragment, ResponseFragment},
    route::{ApiRoute, RouteOrigin},
    schema::invalid_body,
    tool::{Tool, ToolContext, ToolFailure, ToolSummary},
};

/// The body of `execute`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExecuteBody {
    /// The tool's input; checked against its input schema.
    pub data: Value,
    /// Values for the request context (reserved `mastra__*` keys are ignored).
    #[serde(default)]
    pub request_context: Option<Map<String, Value>>,
}

async fn execute(
    req: HttpRequest,
    mastra: Mastra,
    Found(tool): Found<Tool>,
    Json(body): Json<ExecuteBody>,
) -> Result<Json<Value>, ApiError> {
    let ctx = ToolContext::new(merge_client_context(&req, body.request_context))
        .with_mastra(Some(mastra));
    match tool.execute(body.data, ctx).await {
        Ok(output) => Ok(Json(output)),
        Err(ToolFailure::InvalidInput { issues, .. }) => Err(invalid_body(
            issues.into_iter().map(|i| i.under("data")).collect(),
        )),
        Err(ToolFailure::InputTooDeep { error, .. }) => {
            Err(ApiError::bad_request(format!("data: {error}"))
                .with_field("limit", Value::from(error.limit)))
        }
        Err(failure @ ToolFailure::Failed { .. }) => {
            tracing::warn!(tool = tool.id(), error = %failure, "tool failed");
            Err(ApiError::internal(failure.to_string()))
        }
    }
}

pub(super) fn routes(prefix: &str) -> Vec<ApiRoute> {
    vec![
        ApiRoute::get(format!("{prefix}/tools"))
            .create_inferred_handler(|mastra: &Mastra| {
                let all: BTreeMap<String, ToolSummary> = mastra
                    .tools()
                    .iter()
                    .map(|(id, tool)| (id.clone(), tool.summary()))
                    .collect();
                let body = Precomputed::new(&all);
                move || {
                    let body = body.clone();
                    async move { body }
                }
            })
            .handler_name("listTools")
            .openapi(
                OperationFragment::new()
                    .summary("List tools")
                    .description(
                        "Every tool, keyed by id. `inputSchema` and `outputSchema` are \
                         superjson strings: the JSON text of `{\"json\": <JSON Schema>}`.",
                    )
                    .tag("tools"),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::get(format!("{prefix}/tools/:toolId"))
            .create_inferred_handler(|mastra: &Mastra| {
                let each: BTreeMap<String, Precomputed<ToolSummary>> = mastra
                    .tools()
                    .iter()
                    .map(|(id, tool)| (id.clone(), Precomputed::new(&tool.summary())))
                    .collect();
                move |Path(tool_id): Path<String>| {
                    let found = each.get(&tool_id).cloned();
                    async move {
                        found.ok_or_else(|| {
                            ApiError::not_found(format!("Tool with id {tool_id} not found"))
                        })
                    }
                }
            })
            .handler_name("getToolById")
            .openapi(
                OperationFragment::new()
                    .summary("Get tool by ID")
                    .tag("tools")
                    .response(ResponseFragment::new(404).description("Tool not found")),
            )
            .origin(RouteOrigin::BuiltIn),
        ApiRoute::post(format!("{prefix}/tools/:toolId/execute"))
            .inferred_handler(execute)
            .handler_name("executeTool")
            .openapi(
                OperationFragment::new()
                    .summary("Execute a tool")
                    .description(
                        "Validates `data` against the tool's input schema (400 with `issues` \
                         otherwise; 400 with `limit` when it is nested deeper than that many \
                         arrays and objects), runs the tool and answers with its output.",
                    )
                    .tag("tools")
                    .response(ResponseFragment::new(404).description("Tool not found")),
            )
            .origin(RouteOrigin::BuiltIn),
    ]
}
