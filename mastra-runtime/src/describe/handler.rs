//! [`DescribeHandler`]: a handler described by its own type, over the tuple of its argument
//! types (the way actix-web's and axum's `Handler` are implemented), so a route built in code
//! is documented from the same signature the compiler checks, not from a hand-written list
//! that can drift from it.

use std::future::Future;

use super::{DescribeInput, DescribeOutput, Inference};

/// A handler whose arguments and output describe the operation: every argument implements
/// [`DescribeInput`] and the output [`DescribeOutput`]. Implemented for functions and closures
/// of up to twelve arguments; see [`ApiRoute::inferred_handler`](crate::ApiRoute::inferred_handler).
pub trait DescribeHandler<Args> {
    /// Adds what the arguments read and the output answers to `inference`.
    fn describe(inference: &mut Inference);
}

macro_rules! describe_handler ({ $($arg:ident)* } => {
    impl<F, Fut, $($arg,)*> DescribeHandler<($($arg,)*)> for F
    where
        F: Fn($($arg),*) -> Fut,
        Fut: Future,
        Fut::Output: DescribeOutput,
        $($arg: DescribeInput,)*
    {
        fn describe(inference: &mut Inference) {
            $($arg::describe_input(inference);)*
            <Fut::Output as DescribeOutput>::describe_output(inference);
        }
    }
});

describe_handler! {}
describe_handler! { A }
describe_handler! { A B }
describe_handler! { A B C }
describe_handler! { A B C D }
describe_handler! { A B C D E }
describe_handler! { A B C D E G }
describe_handler! { A B C D E G H }
describe_handler! { A B C D E G H I }
describe_handler! { A B C D E G H I J }
describe_handler! { A B C D E G H I J K }
describe_handler! { A B C D E G H I J K L }
describe_handler! { A B C D E G H I J K L M }

/// The request says nothing about the operation through these: they are the request itself,
/// or what the runtime keeps beside it.
macro_rules! describes_nothing {
    ($($ty:ty),* $(,)?) => {$(
        impl DescribeInput for $ty {
            fn describe_input(_: &mut Inference) {}
        }
    )*};
}

describes_nothing!(
    actix_web::HttpRequest,
    actix_web::web::Payload,
    actix_web::web::Bytes,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe::Inference;

    struct Reads;
    impl DescribeInput for Reads {
        fn describe_input(inference: &mut Inference) {
            inference.needs_user();
        }
    }
    struct Answers;
    impl DescribeOutput for Answers {
        fn describe_output(inference: &mut Inference) {
            inference.error_responses();
        }
    }

    /// The description `DescribeHandler` gives `handler`, as a route stores it.
    fn describe_fn<F: DescribeHandler<Args>, Args>(_handler: &F) -> fn(&mut Inference) {
        F::describe
    }

    async fn handler(_: actix_web::HttpRequest, _: Reads) -> Answers {
        Answers
    }

    #[test]
    fn a_handler_is_described_by_its_arguments_and_its_output() {
        let mut inference = Inference::default();
        describe_fn(&handler)(&mut inference);
        assert!(inference.needs_user);
        assert!(inference.error_responses);
        let mut inference = Inference::default();
        describe_fn(&|| async { Answers })(&mut inference);
        assert!(!inference.needs_user);
        assert!(inference.error_responses);
    }
}
