//! Typed functions as JSON functions: a tool's or a step's `async fn(I, Ctx) -> Result<O, E>`
//! erased into `Fn(Value, Ctx) -> Result<Value, _>`, so values of different types can be kept
//! side by side and called with whatever JSON a client or the previous step gave.
//!
//! The input is checked against its schema by the caller first ([`SchemaValidator`], which
//! also serves checks with no typed function behind them: a nested workflow, `Tool::validate`);
//! what is left here is reading it as `I` (only a custom `Deserialize` can still refuse it),
//! calling, and writing the output back as JSON. Each caller words [`CallError`] its own way.
//!
//! [`SchemaValidator`]: super::SchemaValidator

use std::{future::Future, sync::Arc};

use futures_util::future::BoxFuture;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use super::{serde_issue, Issue};

/// Why an erased typed function produced no output.
#[derive(Debug)]
pub(crate) enum CallError<E> {
    /// The input does not fit: it broke the schema, or it does not deserialize as the input
    /// type. Nothing ran.
    Input(Vec<Issue>),
    /// The function ran and failed.
    Failed(E),
    /// The function's output could not be serialized as JSON (a non-finite number included:
    /// serde_json would have written it as `null`).
    Output(serde_json::Error),
}

/// A typed function erased to JSON in, JSON out, with a context of type `C`.
pub(crate) type ErasedFn<C, E> =
    dyn Fn(Value, C) -> BoxFuture<'static, Result<Value, CallError<E>>> + Send + Sync;

/// `f` as a JSON function: its input deserialized as `I`, its output serialized.
///
/// Everything, deserializing and calling `f` included, happens when the returned future is
/// first polled, not when the erased function is called: callers run that future under
/// `catch_unwind`, so a panic in `f` (or in a non-`async` closure's body) fails one call
/// instead of unwinding through the caller.
pub(crate) fn erase<I, O, C, E, F, Fut>(f: F) -> Box<ErasedFn<C, E>>
where
    I: DeserializeOwned + Send + 'static,
    O: Serialize + 'static,
    C: Send + 'static,
    E: 'static,
    F: Fn(I, C) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
{
    // Shared with each call's future, which must own what it uses ('static).
    let f = Arc::new(f);
    Box::new(move |input: Value, ctx: C| {
        let f = Arc::clone(&f);
        Box::pin(async move {
            let typed: I = serde_json::from_value(input)
                .map_err(|error| CallError::Input(vec![serde_issue(&error)]))?;
            let output = f(typed, ctx).await.map_err(CallError::Failed)?;
            super::finite::to_value(&output).map_err(CallError::Output)
        })
    })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Deserialize)]
    struct Pair {
        a: i64,
        b: i64,
    }

    fn add() -> Box<ErasedFn<i64, String>> {
        erase(|pair: Pair, offset: i64| async move {
            if pair.b == 0 {
                return Err("b is zero".to_owned());
            }
            Ok::<_, String>(json!({ "sum": pair.a + pair.b + offset }))
        })
    }

    #[tokio::test]
    async fn input_is_read_as_its_type_and_output_written_as_json() {
        let out = add()(json!({ "a": 1, "b": 2 }), 10).await.unwrap();
        assert_eq!(out, json!({ "sum": 13 }));
    }

    #[tokio::test]
    async fn each_failure_is_told_apart() {
        let add = add();
        match add(json!({ "a": "one" }), 0).await {
            Err(CallError::Input(issues)) => assert_eq!(issues.len(), 1),
            other => panic!("expected an input error, got {other:?}"),
        }
        match add(json!({ "a": 1, "b": 0 }), 0).await {
            Err(CallError::Failed(message)) => assert_eq!(message, "b is zero"),
            other => panic!("expected the function's error, got {other:?}"),
        }
    }

    #[test]
    fn nothing_runs_until_polled() {
        // A closure whose body (not its future) panics: calling the erased function only
        // builds the future, and dropping that unpolled never calls the closure.
        let erased: Box<ErasedFn<(), String>> = erase(
            |_: Value, (): ()| -> std::future::Ready<Result<Value, String>> { panic!("called") },
        );
        drop(erased(Value::Null, ()));
    }
}
