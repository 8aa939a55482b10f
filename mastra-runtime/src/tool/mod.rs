//! Tools: typed async functions that agents call and clients can run through
//! `POST /api/tools/:toolId/execute`. Input is validated against its JSON Schema before the
//! function runs.

use std::{fmt, future::Future, sync::Arc};

use schemars::JsonSchema;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::{
    app::AppHandle,
    model::ToolSpec,
    route::RequestContext,
    schema::{
        check_depth, erase, schema_of, CallError, ErasedFn, Issue, SchemaError, SchemaValidator,
        TooDeep, MAX_JSON_DEPTH,
    },
};

/// A tool as `GET /api/tools` lists it. The schemas are superjson strings: the JSON text of
/// `{"json": <JSON Schema>}`, which `@mastra/client-js` parses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolSummary {
    /// The tool's id.
    pub id: String,
    /// What it does.
    pub description: String,
    /// The input's JSON Schema, as superjson text.
    pub input_schema: String,
    /// The output's JSON Schema, as superjson text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<String>,
    /// Whether a person must approve each call an agent makes before it runs
    /// ([`ToolBuilder::require_approval`]).
    pub require_approval: bool,
}

/// What a tool's function receives besides its input.
#[derive(Clone, Default)]
pub struct ToolContext {
    request_context: RequestContext,
    abort: CancellationToken,
    /// The application (`ToolContext::mastra` reads it).
    pub(crate) app: Option<AppHandle>,
}

impl fmt::Debug for ToolContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolContext")
            .field("request_context", &self.request_context)
            .finish_non_exhaustive()
    }
}

impl ToolContext {
    /// A context with this request context.
    pub fn new(request_context: RequestContext) -> Self {
        Self {
            request_context,
            ..Self::default()
        }
    }

    /// Sets the abort signal.
    pub fn with_abort(mut self, abort: CancellationToken) -> Self {
        self.abort = abort;
        self
    }

    /// Sets the application, as the layers below the facade carry it.
    pub(crate) fn with_app(mut self, app: Option<AppHandle>) -> Self {
        self.app = app;
        self
    }

    /// The per-request context (values set by middleware, auth, or the client).
    pub fn request_context(&self) -> &RequestContext {
        &self.request_context
    }

    /// Fires when the run or request is aborted.
    pub fn abort_signal(&self) -> &CancellationToken {
        &self.abort
    }
}

/// A tool's own failure, reported to the model (as an error result) or the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ToolError(pub String);

impl ToolError {
    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        Self(message)
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        Self(message.to_owned())
    }
}

/// Why running a tool did not produce output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolFailure {
    /// The input does not match the tool's schema; nothing ran.
    #[error("invalid input for tool {tool}: {}", issues.iter().map(|i| format!("{} {}", i.field, i.message)).collect::<Vec<_>>().join("; "))]
    InvalidInput {
        /// The tool.
        tool: String,
        /// What is wrong.
        issues: Vec<Issue>,
    },
    /// The input is nested deeper than [`MAX_JSON_DEPTH`]; nothing ran.
    #[error("invalid input for tool {tool}: {error}")]
    InputTooDeep {
        /// The tool.
        tool: String,
        /// The limit it broke.
        error: TooDeep,
    },
    /// The tool ran and failed (its output included: a non-finite number, or nesting deeper
    /// than [`MAX_JSON_DEPTH`], which could not be stored and read back).
    #[error("tool {tool} failed: {error}")]
    Failed {
        /// The tool.
        tool: String,
        /// Its error.
        error: ToolError,
    },
}

/// The tool's function, erased to JSON in, JSON out.
type ExecuteFn = ErasedFn<ToolContext, ToolError>;

struct ToolInner {
    id: String,
    description: String,
    input_schema: Value,
    output_schema: Option<Value>,
    validator: SchemaValidator,
    execute: Box<ExecuteFn>,
    superjson_input: String,
    superjson_output: Option<String>,
    require_approval: bool,
}

/// A registered tool. Cloning is cheap.
///
/// ```
/// use mastra_runtime::prelude::*;
/// use mastra_runtime::tool::{ToolContext, ToolError};
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Input { #[schemars(length(min = 1))] city: String }
/// #[derive(Serialize, JsonSchema)]
/// struct Output { forecast: String }
///
/// let tool = Tool::builder("get-weather")
///     .description("Current weather for a city")
///     .execute(|input: Input, _ctx: ToolContext| async move {
///         Ok::<_, ToolError>(Output { forecast: format!("Sunny in {}", input.city) })
///     });
/// assert_eq!(tool.id(), "get-weather");
/// ```
#[derive(Clone)]
pub struct Tool {
    inner: Arc<ToolInner>,
}

impl fmt::Debug for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tool")
            .field("id", &self.inner.id)
            .field("description", &self.inner.description)
            .field("require_approval", &self.inner.require_approval)
            .finish_non_exhaustive()
    }
}

/// Builder for [`Tool`]: id and description, then [`ToolBuilder::execute`].
#[derive(Debug, Clone)]
pub struct ToolBuilder {
    id: String,
    description: String,
    require_approval: bool,
}

impl ToolBuilder {
    /// Sets what the tool does (the model reads it to decide when to call the tool).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Whether every call an agent makes to this tool waits for a person's approval (Mastra's
    /// `requireApproval`). When the model calls it, the agent's stream sends the call and a
    /// `tool-call-approval` chunk and stops; the run is kept in storage until
    /// `approve-tool-call` runs the tool or `decline-tool-call` refuses it (docs/agents.md).
    /// Direct execution (`POST /api/tools/:toolId/execute`, [`Tool::execute`]) is not gated.
    ///
    /// ```
    /// use mastra_runtime::prelude::*;
    /// use mastra_runtime::tool::{ToolContext, ToolError};
    ///
    /// #[derive(Deserialize, JsonSchema)]
    /// struct Input { item_id: String }
    ///
    /// let tool = Tool::builder("delete-item")
    ///     .require_approval(true)
    ///     .execute(|input: Input, _ctx: ToolContext| async move {
    ///         Ok::<_, ToolError>(format!("deleted {}", input.item_id))
    ///     });
    /// assert!(tool.requires_approval());
    /// assert!(tool.summary().require_approval);
    /// ```
    pub fn require_approval(mut self, required: bool) -> Self {
        self.require_approval = required;
        self
    }

    /// Finishes the tool with its function. `I` and `O` give the input and output schemas.
    pub fn execute<I, O, F, Fut>(self, execute: F) -> Tool
    where
        I: DeserializeOwned + JsonSchema + Send + 'static,
        O: Serialize + JsonSchema + 'static,
        F: Fn(I, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, ToolError>> + Send + 'static,
    {
        let input_schema = schema_of::<I>();
        let output_schema = schema_of::<O>();
        Tool::from_parts(
            self.id,
            self.description,
            input_schema,
            Some(output_schema),
            erase(execute),
            self.require_approval,
        )
    }
}

/// Mastra's listing form of a schema: the JSON text of `{"json": <schema>}` (superjson).
fn superjson(schema: &Value) -> String {
    json!({ "json": schema }).to_string()
}

impl Tool {
    /// Starts describing a tool with this id.
    pub fn builder(id: impl Into<String>) -> ToolBuilder {
        ToolBuilder {
            id: id.into(),
            description: String::new(),
            require_approval: false,
        }
    }

    fn from_parts(
        id: String,
        description: String,
        input_schema: Value,
        output_schema: Option<Value>,
        execute: Box<ExecuteFn>,
        require_approval: bool,
    ) -> Self {
        Self {
            inner: Arc::new(ToolInner {
                superjson_input: superjson(&input_schema),
                superjson_output: output_schema.as_ref().map(superjson),
                validator: SchemaValidator::new(input_schema.clone()),
                id,
                description,
                input_schema,
                output_schema,
                execute,
                require_approval,
            }),
        }
    }

    /// The id the tool is registered under.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// What the tool does.
    pub fn description(&self) -> &str {
        &self.inner.description
    }

    /// JSON Schema of the input.
    pub fn input_schema(&self) -> &Value {
        &self.inner.input_schema
    }

    /// JSON Schema of the output.
    pub fn output_schema(&self) -> Option<&Value> {
        self.inner.output_schema.as_ref()
    }

    /// Whether an agent's calls to this tool wait for approval
    /// ([`ToolBuilder::require_approval`]).
    pub fn requires_approval(&self) -> bool {
        self.inner.require_approval
    }

    /// Whether two handles are the same tool.
    pub fn same_as(&self, other: &Tool) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The tool as Mastra lists it, with superjson-string schemas.
    pub fn summary(&self) -> ToolSummary {
        ToolSummary {
            id: self.inner.id.clone(),
            description: self.inner.description.clone(),
            input_schema: self.inner.superjson_input.clone(),
            output_schema: self.inner.superjson_output.clone(),
            require_approval: self.inner.require_approval,
        }
    }

    /// How the model sees it.
    pub fn spec(&self) -> ToolSpec {
        let mut parameters = self.inner.input_schema.clone();
        if let Some(map) = parameters.as_object_mut() {
            map.remove("$schema");
        }
        ToolSpec {
            name: self.inner.id.clone(),
            description: self.inner.description.clone(),
            parameters,
        }
    }

    /// Why the input schema cannot be used for validation (for example a `pattern` that is not
    /// a regular expression), if it cannot. Such a tool refuses every input, and
    /// [`MastraBuilder::build`](crate::MastraBuilder::build) refuses to register it.
    pub fn schema_error(&self) -> Option<&SchemaError> {
        self.inner.validator.schema_error()
    }

    /// Checks `input` against the input schema without running anything.
    pub fn validate(&self, input: &Value) -> Result<(), Vec<Issue>> {
        self.inner.validator.validate(input)
    }

    /// Validates `input`, then runs the tool. Input and output nested deeper than
    /// [`MAX_JSON_DEPTH`] are refused, so what a tool takes and gives can always be stored.
    pub async fn execute(&self, input: Value, ctx: ToolContext) -> Result<Value, ToolFailure> {
        let tool = || self.inner.id.clone();
        check_depth(&input, MAX_JSON_DEPTH).map_err(|error| ToolFailure::InputTooDeep {
            tool: tool(),
            error,
        })?;
        let result = match self.validate(&input) {
            Ok(()) => (self.inner.execute)(input, ctx).await,
            Err(issues) => Err(CallError::Input(issues)),
        };
        let output = result.map_err(|error| {
            let tool = tool();
            match error {
                // The schema, or serde after it (a custom `Deserialize`), refused the input.
                CallError::Input(issues) => ToolFailure::InvalidInput { tool, issues },
                CallError::Failed(error) => ToolFailure::Failed { tool, error },
                CallError::Output(error) => ToolFailure::Failed {
                    tool,
                    error: ToolError::new(format!("output could not be serialized: {error}")),
                },
            }
        })?;
        check_depth(&output, MAX_JSON_DEPTH).map_err(|error| ToolFailure::Failed {
            tool: tool(),
            error: ToolError::new(format!("output: {error}")),
        })?;
        Ok(output)
    }
}
