use std::{
    future::{ready, Ready},
    ops::{Deref, DerefMut},
};

use actix_web::{dev::Payload, FromRequest, HttpRequest};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::{
    error::ApiError,
    openapi::{DescribeInput, Inference},
};

macro_rules! wrapper {
    ($name:ident) => {
        impl<T> $name<T> {
            /// The inner value.
            pub fn into_inner(self) -> T {
                self.0
            }
        }

        impl<T> Deref for $name<T> {
            type Target = T;
            fn deref(&self) -> &T {
                &self.0
            }
        }

        impl<T> DerefMut for $name<T> {
            fn deref_mut(&mut self) -> &mut T {
                &mut self.0
            }
        }
    };
}

/// Path parameters: one value (`Path<String>`), a tuple in order, or a struct by name.
///
/// A value that does not fit `T` gets 400 `{"error":"Invalid path: ..."}`.
///
/// ```
/// use mastra_runtime::prelude::*;
/// async fn get_item(Path(item_id): Path<String>) -> String {
///     item_id
/// }
/// # let _ = ApiRoute::get("/items/:itemId").handler(get_item);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path<T>(pub T);
wrapper!(Path);

impl<T: DeserializeOwned> FromRequest for Path<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let inner = actix_web::web::Path::<T>::from_request(req, payload).into_inner();
        ready(
            inner
                .map(|p| Path(p.into_inner()))
                .map_err(|e| ApiError::bad_request(format!("Invalid path: {e}")).into()),
        )
    }
}

impl<T: JsonSchema> DescribeInput for Path<T> {
    fn describe_input(inference: &mut Inference) {
        inference.path_params::<T>();
    }
}

/// The query string, deserialized into `T` (usually a struct whose `Option` fields are
/// optional parameters).
///
/// A query that does not fit `T` gets 400 `{"error":"Invalid query: ..."}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query<T>(pub T);
wrapper!(Query);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            serde_urlencoded::from_str::<T>(req.query_string())
                .map(Query)
                .map_err(|e| ApiError::bad_request(format!("Invalid query: {e}")).into()),
        )
    }
}

impl<T: JsonSchema> DescribeInput for Query<T> {
    fn describe_input(inference: &mut Inference) {
        inference.query::<T>();
    }
}
