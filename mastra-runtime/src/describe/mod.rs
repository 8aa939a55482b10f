//! What a route says about itself: the hand-written OpenAPI fragments of `openapi(...)`, and
//! what its handler's argument and return types infer ([`Inference`], through [`DescribeInput`]
//! and [`DescribeOutput`]). The document builder reads both; the request validators compile the
//! inferred schemas.

pub mod fragment;
mod handler;
pub mod infer;
mod path_params;

pub use fragment::{
    OperationFragment, ParamLocation, ParameterFragment, RequestBodyFragment, ResponseFragment,
    SchemaType,
};
pub use handler::DescribeHandler;
pub use infer::{DescribeInput, DescribeOutput, Inference};
pub use path_params::{check_path_params, PathParamsMismatch};
