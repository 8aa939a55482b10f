//! The agent, tool or workflow a built-in route's path names, looked up before the body is read.
//!
//! actix-web runs a handler's extractors in argument order and stops at the first that fails,
//! so [`Found`] placed before `Json`/`OptionalJson` answers 404 for an unknown id without the
//! body being read, parsed or validated: a large body sent to an agent that does not exist
//! costs nothing but the lookup.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpRequest};

#[cfg(feature = "mcp")]
use crate::mcp::ServedMcp;
#[cfg(feature = "workflows")]
use crate::workflow::Workflow;
use crate::{
    agent::Agent,
    describe::{DescribeInput, Inference},
    error::{ApiError, NotFound},
    extract::Path,
    mastra::Mastra,
    tool::Tool,
};

/// What the application registers by id and a path names.
pub(crate) trait Registered: Sized + 'static {
    /// The registered item with id `id`, or what was not found.
    fn find(mastra: &Mastra, id: &str) -> Result<Self, NotFound>;
}

impl Registered for Agent {
    fn find(mastra: &Mastra, id: &str) -> Result<Self, NotFound> {
        mastra.agent(id)
    }
}

impl Registered for Tool {
    fn find(mastra: &Mastra, id: &str) -> Result<Self, NotFound> {
        mastra.tool(id)
    }
}

#[cfg(feature = "workflows")]
impl Registered for Workflow {
    fn find(mastra: &Mastra, id: &str) -> Result<Self, NotFound> {
        mastra.workflow(id)
    }
}

#[cfg(feature = "mcp")]
impl Registered for ServedMcp {
    fn find(mastra: &Mastra, id: &str) -> Result<Self, NotFound> {
        mastra.mcp_server(id)
    }
}

/// The agent, tool or workflow named by the route's only path parameter (404 `{"error": "Agent with
/// id x not found"}` otherwise). It is the path parameter's extractor too: the document shows
/// the parameter as a `Path<String>` would.
pub(crate) struct Found<T>(pub T);

impl<T: Registered> FromRequest for Found<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(find(req, payload))
    }
}

fn find<T: Registered>(
    req: &HttpRequest,
    payload: &mut Payload,
) -> Result<Found<T>, actix_web::Error> {
    let mastra = Mastra::serving(req)?;
    // The id read exactly as `Path<String>` reads it (percent-decoded).
    let Path(id) = Path::<String>::from_request(req, payload).into_inner()?;
    T::find(mastra, &id)
        .map(Found)
        .map_err(|missing| ApiError::from(missing).into())
}

impl<T> DescribeInput for Found<T> {
    fn describe_input(inference: &mut Inference) {
        inference.path_params::<String>();
    }
}
