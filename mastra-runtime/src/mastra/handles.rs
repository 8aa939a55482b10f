//! The typed side of the application handle the layers below carry opaque (see `app`): where
//! their types hand user code a [`Mastra`] or take one, and where route constructors that run
//! when the server is built receive it.

use std::{convert::Infallible, fmt, sync::Arc};

use actix_web::{FromRequest, Handler, Responder};

use super::Mastra;
#[cfg(feature = "workflows")]
use crate::workflow::StepContext;
#[cfg(feature = "agents")]
use crate::{
    agent::{AgentError, AgentResult, GenerateOptions, ModelOutput},
    app::AppHandle,
    tool::ToolContext,
};
use crate::{
    app::AppRef,
    describe::DescribeHandler,
    route::{ApiRoute, ConstructorError, Middleware, MiddlewareSlot, RouteFactory},
};

/// The application a constructor received, or [`ConstructorError::NoApplication`].
fn mastra_in(app: AppRef<'_>) -> Result<&Mastra, ConstructorError> {
    app.downcast_ref::<Mastra>()
        .ok_or(ConstructorError::NoApplication)
}

impl ApiRoute {
    /// Sets a handler built once, when the server is built, with access to the [`Mastra`]
    /// instance (Mastra's `createHandler`).
    pub fn create_handler<C, F, Args>(self, create: C) -> Self
    where
        C: FnOnce(&Mastra) -> F + Send + 'static,
        F: Handler<Args> + Send + Sync,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.try_create_handler(move |mastra: &Mastra| Ok::<_, Infallible>(create(mastra)))
    }

    /// Like [`ApiRoute::create_handler`], inferring the operation from the built handler's
    /// types as [`ApiRoute::inferred_handler`] does.
    pub fn create_inferred_handler<C, F, Args>(self, create: C) -> Self
    where
        C: FnOnce(&Mastra) -> F + Send + 'static,
        F: Handler<Args> + DescribeHandler<Args> + Send + Sync,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.infer(F::describe).create_handler(create)
    }

    /// Like [`ApiRoute::create_handler`], for a factory that can fail: an `Err` is reported
    /// as a startup problem (with every other one) instead of serving the route.
    pub fn try_create_handler<C, F, Args, E>(self, create: C) -> Self
    where
        C: FnOnce(&Mastra) -> Result<F, E> + Send + 'static,
        E: fmt::Display,
        F: Handler<Args> + Send + Sync,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.deferred_handler(Box::new(move |app: AppRef<'_>| {
            let handler = create(mastra_in(app)?).map_err(ConstructorError::failed)?;
            Ok(Arc::new(move || actix_web::web::route().to(handler.clone())) as RouteFactory)
        }))
    }

    /// Adds a middleware constructed when the server is built; an `Err` is reported as a
    /// startup problem instead of serving a route without it.
    pub fn try_middleware<C, E>(self, construct: C) -> Self
    where
        C: FnOnce(&Mastra) -> Result<Middleware, E> + Send + Sync + 'static,
        E: fmt::Display,
    {
        self.deferred_middleware(MiddlewareSlot::Deferred(Box::new(
            move |app: AppRef<'_>| construct(mastra_in(app)?).map_err(ConstructorError::failed),
        )))
    }
}

#[cfg(feature = "agents")]
impl ToolContext {
    /// Sets the application.
    pub fn with_mastra(self, mastra: Option<Mastra>) -> Self {
        self.with_app(mastra.map(AppHandle::new))
    }

    /// The application, when the tool runs inside one.
    pub fn mastra(&self) -> Option<&Mastra> {
        self.app.as_ref().and_then(AppHandle::get)
    }
}

#[cfg(feature = "workflows")]
impl StepContext {
    /// The application, when the workflow is registered with one.
    pub fn mastra(&self) -> Option<&Mastra> {
        self.core.app.as_ref().and_then(AppHandle::get)
    }
}

#[cfg(feature = "agents")]
impl GenerateOptions {
    /// Sets the application tools see through their context.
    pub fn mastra(self, mastra: Mastra) -> Self {
        self.app(Some(AppHandle::new(mastra)))
    }
}

#[cfg(feature = "agents")]
impl ModelOutput {
    /// Keeps the run going to its end whoever reads it, as tracked background work of `mastra`
    /// ([`Mastra::background`]): the client may leave, the run still finishes and saves its
    /// messages to memory, and graceful shutdown waits for it. Mastra's
    /// `stream.consumeStream()` without an abort signal.
    ///
    /// Call it before returning the response (before anything reads the run): the run is then
    /// driven by that background task, not by the response, so it does not stop with the HTTP
    /// worker that served the request. Every reader still sees every chunk. Called later, it
    /// still waits for the run and logs its outcome, but the run stays where it started.
    ///
    /// ```no_run
    /// use mastra_runtime::prelude::*;
    ///
    /// async fn persist(c: Context) -> Result<HttpResponse, ApiError> {
    ///     let agent = c.mastra().agent("my-agent")?;
    ///     // No abort signal: a client leaving does not stop the run.
    ///     let output = agent
    ///         .stream("Write a long answer", GenerateOptions::new().memory("thread-1", "user-1"))
    ///         .await?;
    ///     output.consume_stream_in_background(c.mastra());
    ///     Ok(output.to_ui_message_stream_response())
    /// }
    /// # let _ = ApiRoute::post("/chat/persist").handler(persist);
    /// ```
    pub fn consume_stream_in_background(
        &self,
        mastra: &Mastra,
    ) -> tokio::task::JoinHandle<Result<AgentResult, AgentError>> {
        self.consume_stream_on(mastra.background())
    }
}
