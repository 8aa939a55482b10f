//! OpenAPI: typed operation fragments from `openapi(...)` and inference from handler types.

pub mod fragment;
pub mod infer;

pub use fragment::{
    OperationFragment, ParamLocation, ParameterFragment, RequestBodyFragment, ResponseFragment,
    SchemaFn, SchemaType,
};
pub use infer::{DescribeInput, DescribeOutput, Inference};
