//! OpenAPI: typed operation fragments from `openapi(...)`, inference from handler types, the
//! document built from the route table, request validation from the same schemas, and Swagger UI.
//!
//! Flow: each route carries an [`OperationFragment`] and an inference function (from
//! `#[api_route]` or [`ApiRoute::infer`](crate::ApiRoute::infer)). When the server is built,
//! [`RequestValidator::compile`] turns the inferred schemas into validators (one per route, kept in
//! the route's data), and [`OpenApiDocument::build`] walks every mounted route into one OpenAPI
//! 3.1 document, served from memory at `/api/openapi.json` and shown by [`SwaggerUi`].

#[cfg(feature = "openapi")]
pub mod document;
pub mod event_stream;
#[cfg(feature = "openapi")]
mod operation;
#[cfg(feature = "swagger-ui")]
pub mod swagger;

/// `info.title` unless configured (Mastra's).
pub const DEFAULT_TITLE: &str = "Mastra API";

/// `info.version` unless configured (Mastra's).
pub const DEFAULT_VERSION: &str = "1.0.0";

/// The Swagger UI page's `<title>` unless configured.
pub const DEFAULT_SWAGGER_UI_TITLE: &str = "Mastra API";

pub use crate::describe::{fragment, infer};
pub use crate::schema::generator as schema;

pub use crate::describe::{
    fragment::{
        OperationFragment, ParamLocation, ParameterFragment, RequestBodyFragment, ResponseFragment,
        SchemaFn, SchemaType,
    },
    infer::{DescribeInput, DescribeOutput, Inference},
};
pub use crate::schema::RequestValidator;
#[cfg(feature = "openapi")]
pub use document::{DocumentSettings, OpenApiDocument};
pub use event_stream::SseEvent;
#[cfg(feature = "openapi")]
pub use operation::{BEARER_AUTH, CUSTOM_TAG, DEFAULT_RESPONSE_DESCRIPTION};
#[cfg(feature = "swagger-ui")]
pub use swagger::SwaggerUi;
