//! Procedural macros for `mastra-runtime`. Use them through `mastra_runtime::api_route`.
//!
//! The crate is laid out the way the attribute is processed: `route` runs the steps; `meta`
//! splits attribute lists into entries; `args`, `openapi` and `mcp` read them into typed models
//! (with `path` checking the route path); `handler` reads the function; `expand` writes the code.
//! Every check records its problems in `errors::Errors`, so one build reports them all.

mod args;
mod errors;
mod expand;
mod handler;
mod mcp;
mod meta;
mod openapi;
mod path;
mod route;

use proc_macro::TokenStream;

/// Declares an HTTP route: the Rust form of Mastra's `registerApiRoute(path, options)`.
///
/// The annotated `async fn` stays as it is (call it directly in tests); next to it the macro
/// registers an `ApiRoute` that `Mastra` mounts at startup.
///
/// # Grammar
///
/// ```text
/// #[api_route(PATH, method = "...", requires_auth = bool, middleware(a, b), openapi(...),
///            mcp(name = "...", description = "..."))]
/// ```
///
/// - **`PATH`** (first, a string literal): `/items/:itemId` or `/items/{itemId}`. It must start
///   with `/`; parameter names are identifiers (ASCII letters, digits, `_`, not starting with a
///   digit) and appear once; a `{name}` parameter is a whole segment; no segment is empty (no
///   `//`, no trailing `/` except the root path `/`). `:` introduces a parameter only at the
///   start of a segment.
/// - **`method`** (required): `"GET"`, `"POST"`, `"PUT"`, `"PATCH"`, `"DELETE"` or `"ALL"`, in
///   any letter case. `GET` routes also answer `HEAD`.
/// - **`requires_auth`**: `true` (the default) or `false`. Only matters once auth is configured.
/// - **`middleware(a, path::to::b)`**: functions of actix-web's `middleware::from_fn` shape,
///   `async fn(ServiceRequest, Next<impl MessageBody>) -> Result<ServiceResponse<impl
///   MessageBody>, actix_web::Error>`. They run in order, `a` outermost.
/// - **`openapi(...)`**: what the OpenAPI document says about the operation, on top of what is
///   inferred from the argument and return types:
///   - `summary = "..."`, `description = "..."` (otherwise taken from the doc comment: its first
///     paragraph is the summary, the rest the description);
///   - `tags("A", "B")`, `operation_id = "..."` (otherwise the function's name);
///   - `deprecated` or `deprecated = bool`, `hidden` or `hidden = bool` (hidden routes are still
///     served, only left out of the document);
///   - `parameters((name = "limit", in = "query", required = false, description = "...",
///     schema = "integer"), ...)`: `name` is required; `in` is `path`, `query`, `header` or
///     `cookie` (default: `path` for a name the route path binds, `query` otherwise); `schema`
///     is `string`, `integer`, `number`, `boolean`, `array` or `object`;
///   - `request_body(content_type = "application/json", body = CreateItem, required = true,
///     description = "...")`: `body` is a Rust type implementing `JsonSchema`;
///   - `responses((status = 404, description = "Not found", body = Item, content_type =
///     "application/json"), ...)`: `status` (100 to 599) is required.
/// - **`mcp(name = "get_item", description = "...")`**: also offers the route as an MCP tool.
///   `name` is required and follows MCP's tool-name rule (1 to 128 ASCII letters, digits, `_`,
///   `-` or `.`); without `description` the tool is described by the operation's summary and
///   description. Two routes with the same name fail the build of the server.
///
/// The function must be a free, non-generic `async fn`. Each argument must be an actix-web
/// extractor and the return type a `Responder`; a wrong type is reported on that argument or
/// return type. Every mistake in the attribute is reported in one build, at the offending
/// token.
///
/// # Example
///
/// ```ignore
/// use mastra_runtime::prelude::*;
///
/// #[derive(Serialize, Deserialize, JsonSchema)]
/// struct Item { id: String, name: String }
///
/// async fn log_request(
///     req: actix_web::dev::ServiceRequest,
///     next: actix_web::middleware::Next<impl MessageBody>,
/// ) -> Result<actix_web::dev::ServiceResponse<impl MessageBody>, actix_web::Error> {
///     next.call(req).await
/// }
///
/// /// Get item by ID
/// ///
/// /// Retrieves a single item by its identifier.
/// #[api_route(
///     "/items/:itemId",
///     method = "GET",
///     requires_auth = false,
///     middleware(log_request),
///     openapi(
///         tags("Items"),
///         parameters((name = "itemId", description = "The item's id", schema = "string")),
///         responses((status = 404, description = "Item not found")),
///     ),
/// )]
/// async fn get_item(Path(item_id): Path<String>) -> Result<Json<Item>, ApiError> {
///     Ok(Json(Item { id: item_id, name: "Sample Item".into() }))
/// }
/// ```
#[proc_macro_attribute]
pub fn api_route(attr: TokenStream, item: TokenStream) -> TokenStream {
    route::api_route(attr.into(), item.into()).into()
}
