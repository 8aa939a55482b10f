//! OpenAPI: typed operation fragments from `openapi(...)`, inference from handler types, the
//! document built from the route table, request validation from the same schemas, and Swagger UI.
//!
//! Flow: each route carries an [`OperationFragment`] and an inference function (from
//! `#[api_route]` or [`ApiRoute::infer`](crate::ApiRoute::infer)). When the server is built,
//! [`RequestValidator::compile`] turns the inferred schemas into validators (one per route, kept in
//! the route's data), and [`OpenApiDocument::build`] walks every mounted route into one OpenAPI
//! 3.1 document, served from memory at `/api/openapi.json` and shown by [`SwaggerUi`].

pub mod document;
pub mod fragment;
pub mod infer;
mod operation;
pub mod schema;
pub mod swagger;
pub mod validate;

pub use document::{DocumentSettings, OpenApiDocument};
pub use fragment::{
    OperationFragment, ParamLocation, ParameterFragment, RequestBodyFragment, ResponseFragment,
    SchemaFn, SchemaType,
};
pub use infer::{DescribeInput, DescribeOutput, Inference};
pub use operation::{BEARER_AUTH, CUSTOM_TAG, DEFAULT_RESPONSE_DESCRIPTION};
pub use swagger::SwaggerUi;
pub use validate::RequestValidator;
