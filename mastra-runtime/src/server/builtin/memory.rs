//! `/api/memory/threads`: threads and their messages, with Mastra's paging fields.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{per_page, PerPage};
use crate::{
    error::ApiError,
    extract::{Json, Path, Query},
    mastra::Mastra,
    memory::{
        Message, Page, PageRequest, SortDirection, Storage, StorageError, Thread, ThreadFilter,
        ThreadOrderField, ThreadUpdate, UnreadableItem,
    },
    openapi::{OperationFragment, ResponseFragment},
    route::{ApiRoute, RouteOrigin},
};

/// Threads per page when the client does not say (Mastra's default).
pub const DEFAULT_THREADS_PER_PAGE: u32 = 100;

/// Messages per page when the client does not say (Mastra's default).
pub const DEFAULT_MESSAGES_PER_PAGE: u32 = 40;

/// `GET /memory/threads` query.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListThreadsQuery {
    /// Use this agent's store (404 if there is no such agent).
    #[serde(default)]
    agent_id: Option<String>,
    /// Only this owner's threads.
    #[serde(default)]
    resource_id: Option<String>,
    /// Page, from 0.
    #[serde(default)]
    page: Option<u32>,
    /// Threads per page, or `false` for all.
    #[serde(default)]
    per_page: Option<PerPage>,
    /// JSON object: only threads whose metadata holds these entries.
    #[serde(default)]
    metadata: Option<String>,
    /// Sort field.
    #[serde(default, rename = "orderBy[field]")]
    order_field: Option<ThreadOrderField>,
    /// Sort direction.
    #[serde(default, rename = "orderBy[direction]")]
    order_direction: Option<SortDirection>,
}

/// `agentId` alone.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgentQuery {
    /// Use this agent's store (404 if there is no such agent).
    #[serde(default)]
    agent_id: Option<String>,
}

/// `GET /memory/threads/:threadId/messages` query.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListMessagesQuery {
    /// Use this agent's store (404 if there is no such agent).
    #[serde(default)]
    agent_id: Option<String>,
    /// Page, from 0.
    #[serde(default)]
    page: Option<u32>,
    /// Messages per page, or `false` for all.
    #[serde(default)]
    per_page: Option<PerPage>,
    /// JSON `{"field":"createdAt","direction":"ASC"|"DESC"}`; oldest first by default.
    #[serde(default)]
    order_by: Option<String>,
}

/// `POST /memory/threads` body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateThreadBody {
    /// The owner.
    #[schemars(length(min = 1))]
    resource_id: String,
    /// A title.
    #[serde(default)]
    title: Option<String>,
    /// Free-form data.
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    /// The id (a fresh UUID otherwise).
    #[serde(default)]
    #[schemars(length(min = 1))]
    thread_id: Option<String>,
}

/// `PATCH /memory/threads/:threadId` body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateThreadBody {
    /// A new title.
    #[serde(default)]
    title: Option<String>,
    /// New metadata (replaces the old).
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    /// A new owner.
    #[serde(default)]
    #[schemars(length(min = 1))]
    resource_id: Option<String>,
}

/// A page of threads.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ThreadList {
    threads: Vec<Thread>,
    /// Threads of this page that are stored but cannot be read, with why (only when some).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unreadable: Vec<UnreadableItem>,
    total: u64,
    page: u32,
    per_page: PerPage,
    has_more: bool,
}

/// A page of messages, stored form and AI SDK UI form.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageList {
    messages: Vec<Message>,
    ui_messages: Vec<Value>,
    /// Messages of this page that are stored but cannot be read, with why (only when some).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unreadable: Vec<UnreadableItem>,
    total: u64,
    page: u32,
    per_page: PerPage,
    has_more: bool,
}

/// What a deletion answers.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DeleteResult {
    result: String,
}

fn per_page_out<T>(page: &Page<T>) -> PerPage {
    page.per_page.map_or(PerPage::All, PerPage::Count)
}

/// The store of `agent_id`'s memory, or the application's.
fn storage_for(mastra: &Mastra, agent_id: Option<&str>) -> Result<Arc<dyn Storage>, ApiError> {
    Ok(match agent_id {
        #[cfg(feature = "agents")]
        Some(id) => {
            let agent = mastra.agent(id)?;
            agent
                .storage()
                .unwrap_or_else(|| Arc::clone(mastra.storage()))
        }
        // Built without agents, no agent id names one.
        #[cfg(not(feature = "agents"))]
        Some(id) => {
            return Err(crate::error::NotFound {
                kind: "Agent",
                id: id.to_owned(),
            }
            .into())
        }
        None => Arc::clone(mastra.storage()),
    })
}

fn thread_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Thread with id {id} not found"))
}

async fn list_threads(
    mastra: Mastra,
    Query(q): Query<ListThreadsQuery>,
) -> Result<Json<ThreadList>, ApiError> {
    let storage = storage_for(&mastra, q.agent_id.as_deref())?;
    let metadata = match q.metadata.as_deref() {
        None => None,
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Some(map),
            _ => {
                return Err(ApiError::bad_request(
                    "Invalid query: metadata must be a JSON object",
                ))
            }
        },
    };
    let filter = ThreadFilter {
        resource_id: q.resource_id,
        metadata,
        order_by: q.order_field.unwrap_or_default(),
        direction: q.order_direction.unwrap_or_default(),
    };
    let request = PageRequest {
        page: q.page.unwrap_or(0),
        per_page: per_page(q.per_page, DEFAULT_THREADS_PER_PAGE),
    };
    let page = storage.list_threads(&filter, request).await?;
    Ok(Json(ThreadList {
        per_page: per_page_out(&page),
        total: page.total,
        page: page.page,
        has_more: page.has_more,
        unreadable: page.unreadable,
        threads: page.items,
    }))
}

async fn create_thread(
    mastra: Mastra,
    Query(q): Query<AgentQuery>,
    Json(body): Json<CreateThreadBody>,
) -> Result<Json<Thread>, ApiError> {
    let storage = storage_for(&mastra, q.agent_id.as_deref())?;
    let id = body
        .thread_id
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut thread = Thread::new(id, body.resource_id);
    thread.title = body.title;
    thread.metadata = body.metadata;
    storage.create_thread(&thread).await?;
    Ok(Json(thread))
}

async fn get_thread(
    mastra: Mastra,
    Path(thread_id): Path<String>,
    Query(q): Query<AgentQuery>,
) -> Result<Json<Thread>, ApiError> {
    let storage = storage_for(&mastra, q.agent_id.as_deref())?;
    storage
        .get_thread(&thread_id)
        .await?
        .map(Json)
        .ok_or_else(|| thread_not_found(&thread_id))
}

async fn update_thread(
    mastra: Mastra,
    Path(thread_id): Path<String>,
    Query(q): Query<AgentQuery>,
    Json(body): Json<UpdateThreadBody>,
) -> Result<Json<Thread>, ApiError> {
    let storage = storage_for(&mastra, q.agent_id.as_deref())?;
    let update = ThreadUpdate {
        title: body.title,
        metadata: body.metadata,
        resource_id: body.resource_id,
    };
    storage
        .update_thread(&thread_id, &update)
        .await?
        .map(Json)
        .ok_or_else(|| thread_not_found(&thread_id))
}

async fn delete_thread(
    mastra: Mastra,
    Path(thread_id): Path<String>,
    Query(q): Query<AgentQuery>,
) -> Result<Json<DeleteResult>, ApiError> {
    let storage = storage_for(&mastra, q.agent_id.as_deref())?;
    if storage.delete_thread(&thread_id).await? {
        Ok(Json(DeleteResult {
            result: "Thread deleted".to_owned(),
        }))
    } else {
        Err(thread_not_found(&thread_id))
    }
}

#[derive(Deserialize)]
struct OrderBy {
    #[serde(default)]
    direction: Option<SortDirection>,
}

async fn list_messages(
    mastra: Mastra,
    Path(thread_id): Path<String>,
    Query(q): Query<ListMessagesQuery>,
) -> Result<Json<MessageList>, ApiError> {
    let storage = storage_for(&mastra, q.agent_id.as_deref())?;
    let direction = match q.order_by.as_deref() {
        None => SortDirection::Asc,
        Some(text) => serde_json::from_str::<OrderBy>(text)
            .map_err(|e| ApiError::bad_request(format!("Invalid query: orderBy: {e}")))?
            .direction
            .unwrap_or(SortDirection::Asc),
    };
    match storage.get_thread(&thread_id).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(thread_not_found(&thread_id)),
        // The thread's own fields are unreadable, not its messages: they are still listed.
        Err(StorageError::Unreadable { .. }) => {}
        Err(error) => return Err(error.into()),
    }
    let request = PageRequest {
        page: q.page.unwrap_or(0),
        per_page: per_page(q.per_page, DEFAULT_MESSAGES_PER_PAGE),
    };
    let page = storage
        .list_messages(&thread_id, request, direction)
        .await?;
    Ok(Json(MessageList {
        ui_messages: page.items.iter().map(Message::to_ui_message).collect(),
        per_page: per_page_out(&page),
        total: page.total,
        page: page.page,
        has_more: page.has_more,
        unreadable: page.unreadable,
        messages: page.items,
    }))
}

fn op(summary: &str) -> OperationFragment {
    OperationFragment::new().summary(summary).tag("memory")
}

fn not_found_op(summary: &str) -> OperationFragment {
    op(summary).response(ResponseFragment::new(404).description("Thread or agent not found"))
}

pub(super) fn routes(prefix: &str) -> Vec<ApiRoute> {
    let threads = format!("{prefix}/memory/threads");
    let one = format!("{threads}/:threadId");
    vec![
        ApiRoute::get(&threads)
            .inferred_handler(list_threads)
            .handler_name("listThreads")
            .openapi(op("List memory threads")),
        ApiRoute::post(&threads)
            .inferred_handler(create_thread)
            .handler_name("createThread")
            .openapi(
                op("Create a memory thread").response(
                    ResponseFragment::new(409).description("A thread with this id exists"),
                ),
            ),
        ApiRoute::get(&one)
            .inferred_handler(get_thread)
            .handler_name("getThreadById")
            .openapi(not_found_op("Get a memory thread")),
        ApiRoute::patch(&one)
            .inferred_handler(update_thread)
            .handler_name("updateThread")
            .openapi(not_found_op("Update a memory thread")),
        ApiRoute::delete(&one)
            .inferred_handler(delete_thread)
            .handler_name("deleteThread")
            .openapi(not_found_op("Delete a memory thread and its messages")),
        ApiRoute::get(format!("{one}/messages"))
            .inferred_handler(list_messages)
            .handler_name("listMessages")
            .openapi(not_found_op("List a thread's messages")),
    ]
    .into_iter()
    .map(|route| route.origin(RouteOrigin::BuiltIn))
    .collect()
}
