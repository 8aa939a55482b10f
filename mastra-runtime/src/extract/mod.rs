//! Extractors and responders that answer every failure with the JSON error body and describe
//! themselves to the OpenAPI document: [`Json`], [`OptionalJson`], [`Path`], [`Query`] and
//! [`Created`].

mod json;
mod path_query;
pub(crate) mod payload;

pub(crate) use json::JsonLimits;
pub use json::{Created, Json, OptionalJson};
pub use path_query::{Path, Query};
