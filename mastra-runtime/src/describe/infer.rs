//! What a handler's signature says about its operation.
//!
//! Each extractor argument and the return type describe themselves through [`DescribeInput`] and
//! [`DescribeOutput`]. The `#[api_route]` macro probes every argument and the return type with
//! [`Probe`]; a type that implements neither trait simply contributes nothing (see the
//! "autoref specialisation" note on [`Probe`]).

use std::marker::PhantomData;

use crate::schema::{is_json, schema_fn, RequestSchemas, SchemaFn};

/// What the parameters and body of a request look like, as inferred from the handler.
#[derive(Debug, Clone, Default)]
pub struct InferredBody {
    /// Media type of the body.
    pub content_type: String,
    /// Its schema, when the type has one.
    pub schema: Option<SchemaFn>,
    /// Whether a body must be sent.
    pub required: bool,
}

/// One response inferred from the return type.
#[derive(Debug, Clone)]
pub struct InferredResponse {
    /// HTTP status code.
    pub status: u16,
    /// Media type; `None` for an empty body.
    pub content_type: Option<String>,
    /// Schema of the body, when it has one.
    pub schema: Option<SchemaFn>,
    /// What the response means.
    pub description: String,
}

/// Collects what the handler's argument and return types say about the operation.
#[derive(Debug, Clone, Default)]
pub struct Inference {
    /// Schema of the path parameters taken by `Path<T>` (a struct, a tuple, or one scalar).
    pub path: Option<SchemaFn>,
    /// Schema of the query string taken by `Query<T>` (an object whose fields are parameters).
    pub query: Option<SchemaFn>,
    /// The request body.
    pub body: Option<InferredBody>,
    /// Responses the return type produces.
    pub responses: Vec<InferredResponse>,
    /// Whether the handler answers with the JSON error body on failure (`Result<_, ApiError>`).
    pub error_responses: bool,
    /// Whether the handler needs an authenticated user to run at all.
    pub needs_user: bool,
}

impl Inference {
    /// The schemas a request to this route is validated against: the body's only when it is
    /// JSON.
    pub fn request_schemas(&self) -> RequestSchemas {
        RequestSchemas {
            json_body: self
                .body
                .as_ref()
                .filter(|body| is_json(&body.content_type))
                .and_then(|body| body.schema),
            query: self.query,
            path: self.path,
        }
    }

    /// Records that `T` is taken from the path.
    pub fn path_params<T: schemars::JsonSchema>(&mut self) {
        self.path = Some(schema_fn::<T>());
    }

    /// Records that `T` is taken from the query string.
    pub fn query<T: schemars::JsonSchema>(&mut self) {
        self.query = Some(schema_fn::<T>());
    }

    /// Records a request body of the given media type.
    pub fn body(
        &mut self,
        content_type: impl Into<String>,
        schema: Option<SchemaFn>,
        required: bool,
    ) {
        self.body = Some(InferredBody {
            content_type: content_type.into(),
            schema,
            required,
        });
    }

    /// Records a JSON request body of type `T`.
    pub fn json_body<T: schemars::JsonSchema>(&mut self) {
        self.body("application/json", Some(schema_fn::<T>()), true);
    }

    /// Records a JSON request body of type `T` that the client may leave out.
    pub fn optional_json_body<T: schemars::JsonSchema>(&mut self) {
        self.body("application/json", Some(schema_fn::<T>()), false);
    }

    /// Records a response.
    pub fn response(
        &mut self,
        status: u16,
        content_type: Option<&str>,
        schema: Option<SchemaFn>,
        description: impl Into<String>,
    ) {
        self.responses.push(InferredResponse {
            status,
            content_type: content_type.map(str::to_owned),
            schema,
            description: description.into(),
        });
    }

    /// Records a JSON response of type `T`.
    pub fn json_response<T: schemars::JsonSchema>(&mut self, status: u16, description: &str) {
        self.response(
            status,
            Some("application/json"),
            Some(schema_fn::<T>()),
            description,
        );
    }

    /// Records that failures answer with the JSON error body.
    pub fn error_responses(&mut self) {
        self.error_responses = true;
    }

    /// Records that the handler cannot run without an authenticated user.
    pub fn needs_user(&mut self) {
        self.needs_user = true;
    }
}

/// An extractor that can say what it takes from the request.
///
/// Implement it for your own `FromRequest` types so routes using them are documented.
pub trait DescribeInput {
    /// Adds what this extractor reads to `inference`.
    fn describe_input(inference: &mut Inference);
}

/// A return type that can say what responses it produces.
pub trait DescribeOutput {
    /// Adds this type's responses to `inference`.
    fn describe_output(inference: &mut Inference);
}

/// A hand-built response says nothing about its body (declare it with `openapi(responses(..))`),
/// so it adds nothing; it is implemented so that `Result<HttpResponse, ApiError>`, the usual
/// return of a streaming handler, still documents its JSON error bodies.
impl DescribeOutput for actix_web::HttpResponse {
    fn describe_output(_: &mut Inference) {}
}

/// A zero-sized stand-in for a type, used to ask whether it describes itself.
///
/// The macro writes `(&&Probe::<T>::new()).input_step()`. Method lookup tries the receiver
/// `&&Probe<T>` first, which only [`InferInput`] (implemented for `&Probe<T>` where
/// `T: DescribeInput`) accepts; failing that it derefs once and finds [`InferInputFallback`],
/// whose step does nothing. That gives stable-Rust specialisation for concrete types.
///
/// Each probe answers with a function pointer rather than describing the type itself, so a
/// route's inference is a list of steps shared by every route naming the same types
/// ([`ApiRoute::infer_steps`](crate::route::ApiRoute::infer_steps)). A closure calling the
/// probes, one per route, cost the compiler 0.25–0.5 ms per route (docs/performance.md).
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    /// Makes the probe.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Default for Probe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The step of a type that says nothing about itself.
fn describe_nothing(_: &mut Inference) {}

/// Chosen when the probed type implements [`DescribeInput`].
pub trait InferInput {
    /// The step describing the probed argument.
    fn input_step(&self) -> fn(&mut Inference);
}

impl<T: DescribeInput> InferInput for &Probe<T> {
    fn input_step(&self) -> fn(&mut Inference) {
        T::describe_input
    }
}

/// Chosen when the probed type does not describe itself.
pub trait InferInputFallback {
    /// A step that does nothing.
    fn input_step(&self) -> fn(&mut Inference) {
        describe_nothing
    }
}

impl<T> InferInputFallback for Probe<T> {}

/// Chosen when the probed type implements [`DescribeOutput`].
pub trait InferOutput {
    /// The step describing the probed return type.
    fn output_step(&self) -> fn(&mut Inference);
}

impl<T: DescribeOutput> InferOutput for &Probe<T> {
    fn output_step(&self) -> fn(&mut Inference) {
        T::describe_output
    }
}

/// Chosen when the probed return type does not describe itself.
pub trait InferOutputFallback {
    /// A step that does nothing.
    fn output_step(&self) -> fn(&mut Inference) {
        describe_nothing
    }
}

impl<T> InferOutputFallback for Probe<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    struct Described;
    impl DescribeInput for Described {
        fn describe_input(inference: &mut Inference) {
            inference.needs_user();
        }
    }
    struct Plain;

    // The double borrow is the mechanism under test, as in the macro's expansion.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn probe_picks_the_trait_when_implemented_and_nothing_otherwise() {
        let mut inference = Inference::default();
        (&&Probe::<Plain>::new()).input_step()(&mut inference);
        assert!(!inference.needs_user);
        (&&Probe::<Described>::new()).input_step()(&mut inference);
        assert!(inference.needs_user);
    }
}
