use std::{
    borrow::Cow,
    future::{ready, Ready},
    ops::{Deref, DerefMut},
    sync::Arc,
};

use actix_web::{dev::Payload, FromRequest, HttpRequest};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::{
    describe::{DescribeInput, Inference},
    error::ApiError,
    schema::RequestValidator,
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
/// A value that does not fit `T` gets 400 `{"error":"Invalid path: ..."}`; on a documented route
/// a value that breaks `T`'s declared constraints gets 400
/// `{"error": "Invalid path", "issues": [...]}` first.
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
        if let Some(validator) = req.app_data::<Arc<RequestValidator>>() {
            if validator.checks_path() {
                let decoded: Vec<(&str, Cow<'_, str>)> = req
                    .match_info()
                    .iter()
                    .map(|(name, value)| {
                        (
                            name,
                            percent_encoding::percent_decode_str(value).decode_utf8_lossy(),
                        )
                    })
                    .collect();
                if let Err(error) =
                    validator.check_path(decoded.iter().map(|(n, v)| (*n, v.as_ref())))
                {
                    return ready(Err(error.into()));
                }
            }
        }
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
/// A query that does not fit `T` gets 400 `{"error":"Invalid query: ..."}`; on a documented route
/// a query that breaks `T`'s declared constraints (a `minimum`, an `enum`, a required
/// parameter, ...) gets 400 `{"error": "Invalid query", "issues": [...]}` first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query<T>(pub T);
wrapper!(Query);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(validator) = req.app_data::<Arc<RequestValidator>>() {
            if validator.checks_query() {
                let checked =
                    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
                        .map_err(|e| ApiError::bad_request(format!("Invalid query: {e}")))
                        .and_then(|pairs| {
                            validator
                                .check_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                        });
                if let Err(error) = checked {
                    return ready(Err(error.into()));
                }
            }
        }
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
