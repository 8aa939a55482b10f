//! Typed operation fragments: what `openapi(...)` on a route says, carried as data until the
//! document is assembled.

use schemars::JsonSchema;

pub use crate::schema::{schema_fn, SchemaFn};

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamLocation {
    /// A path segment.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
}

impl ParamLocation {
    /// Reads the OpenAPI spelling (`path`, `query`, `header`, `cookie`).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "path" => Self::Path,
            "query" => Self::Query,
            "header" => Self::Header,
            "cookie" => Self::Cookie,
            _ => return None,
        })
    }

    /// The OpenAPI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
            Self::Header => "header",
            Self::Cookie => "cookie",
        }
    }
}

/// A JSON Schema primitive type, for parameters declared by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaType {
    /// `string`
    String,
    /// `integer`
    Integer,
    /// `number`
    Number,
    /// `boolean`
    Boolean,
    /// `array`
    Array,
    /// `object`
    Object,
}

impl SchemaType {
    /// Reads the JSON Schema spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "string" => Self::String,
            "integer" => Self::Integer,
            "number" => Self::Number,
            "boolean" => Self::Boolean,
            "array" => Self::Array,
            "object" => Self::Object,
            _ => return None,
        })
    }

    /// The JSON Schema spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Array => "array",
            Self::Object => "object",
        }
    }
}

/// A parameter declared in `openapi(parameters(...))`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterFragment {
    /// The parameter's name.
    pub name: String,
    /// Where it travels.
    pub location: ParamLocation,
    /// Whether it must be present; path parameters always are.
    pub required: Option<bool>,
    /// Free text for readers.
    pub description: Option<String>,
    /// Its primitive type, when declared.
    pub schema: Option<SchemaType>,
}

impl ParameterFragment {
    /// A parameter with only its name and location.
    pub fn new(name: impl Into<String>, location: ParamLocation) -> Self {
        Self {
            name: name.into(),
            location,
            required: None,
            description: None,
            schema: None,
        }
    }

    /// Sets whether the parameter is required.
    pub fn required(mut self, required: bool) -> Self {
        self.required = Some(required);
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Sets the primitive schema type.
    pub fn schema(mut self, schema: SchemaType) -> Self {
        self.schema = Some(schema);
        self
    }
}

/// The request body declared in `openapi(request_body(...))`.
#[derive(Debug, Clone, Default)]
pub struct RequestBodyFragment {
    /// Media type; `application/json` when absent.
    pub content_type: Option<String>,
    /// The body's schema.
    pub body: Option<SchemaFn>,
    /// Whether the body must be sent.
    pub required: Option<bool>,
    /// Free text for readers.
    pub description: Option<String>,
}

impl RequestBodyFragment {
    /// An empty declaration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the media type.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Uses `T`'s schema for the body.
    pub fn body<T: JsonSchema>(mut self) -> Self {
        self.body = Some(schema_fn::<T>());
        self
    }

    /// Sets whether the body is required.
    pub fn required(mut self, required: bool) -> Self {
        self.required = Some(required);
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
}

/// One response declared in `openapi(responses(...))`.
#[derive(Debug, Clone)]
pub struct ResponseFragment {
    /// HTTP status code (100..=599).
    pub status: u16,
    /// Free text; the status's reason phrase when absent.
    pub description: Option<String>,
    /// The body's schema, if it has one.
    pub body: Option<SchemaFn>,
    /// Media type; `application/json` when a body is given and this is absent.
    pub content_type: Option<String>,
}

impl ResponseFragment {
    /// A response with a status only.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            description: None,
            body: None,
            content_type: None,
        }
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Uses `T`'s schema for the body.
    pub fn body<T: JsonSchema>(mut self) -> Self {
        self.body = Some(schema_fn::<T>());
        self
    }

    /// Sets the media type.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }
}

/// Everything `openapi(...)` can say about one operation. Absent values are inferred from the
/// handler's signature when the document is assembled.
#[derive(Debug, Clone, Default)]
pub struct OperationFragment {
    /// One-line summary.
    pub summary: Option<String>,
    /// Longer description (CommonMark).
    pub description: Option<String>,
    /// Tags that group operations in Swagger UI.
    pub tags: Vec<String>,
    /// The operation id; the handler's name when absent.
    pub operation_id: Option<String>,
    /// Marks the operation deprecated.
    pub deprecated: Option<bool>,
    /// Keeps the route out of the document (it is still served).
    pub hidden: bool,
    /// Parameters declared by hand.
    pub parameters: Vec<ParameterFragment>,
    /// The request body declared by hand.
    pub request_body: Option<RequestBodyFragment>,
    /// Responses declared by hand.
    pub responses: Vec<ResponseFragment>,
}

impl OperationFragment {
    /// An empty fragment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the summary.
    pub fn summary(mut self, text: impl Into<String>) -> Self {
        self.summary = Some(text.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Adds a tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Sets the operation id.
    pub fn operation_id(mut self, id: impl Into<String>) -> Self {
        self.operation_id = Some(id.into());
        self
    }

    /// Marks the operation deprecated (or not).
    pub fn deprecated(mut self, deprecated: bool) -> Self {
        self.deprecated = Some(deprecated);
        self
    }

    /// Hides the route from the document (or not).
    pub fn hidden(mut self, hidden: bool) -> Self {
        self.hidden = hidden;
        self
    }

    /// Adds a parameter.
    pub fn parameter(mut self, parameter: ParameterFragment) -> Self {
        self.parameters.push(parameter);
        self
    }

    /// Sets the request body.
    pub fn request_body(mut self, body: RequestBodyFragment) -> Self {
        self.request_body = Some(body);
        self
    }

    /// Adds a response.
    pub fn response(mut self, response: ResponseFragment) -> Self {
        self.responses.push(response);
        self
    }
}
