//! Route path checks: Mastra's `:name` syntax and `{name}`, refused at compile time when the
//! runtime would refuse them at startup.
//!
//! The grammar is not written here: it is the runtime's own `route/grammar.rs`, included as a
//! module of this crate (plain `std`, no dependency on the runtime), so the two cannot disagree.
//! This file only turns its problems into compile errors at the path literal.

use syn::LitStr;

use crate::errors::Errors;

// Shared with `mastra-runtime` (see the file's header, also for `cargo package`). The macro
// reads the parameters and problems, not the literal segments' text.
#[allow(dead_code)]
#[path = "../../mastra-runtime/src/route/grammar.rs"]
mod grammar;

use grammar::Problem;

/// The compile error for a problem of the path.
fn message(problem: Problem<'_>) -> String {
    match problem {
        Problem::NoLeadingSlash => {
            "route path must start with `/`, e.g. \"/items/:itemId\"".to_owned()
        }
        Problem::EmptySegment => "route path has an empty segment (`//`); \
             put exactly one `/` between segments"
            .to_owned(),
        Problem::UnbalancedBraces(segment) => format!(
            "unbalanced braces in path segment `{segment}`: \
             a `{{name}}` parameter must be the whole segment"
        ),
        Problem::MissingParamName(segment) => {
            format!("path parameter `{segment}` has no name: write `:name` or `{{name}}`")
        }
        Problem::BadParamName(name) => format!(
            "path parameter name `{name}` is not an identifier: \
             use ASCII letters, digits and `_`, not starting with a digit"
        ),
        Problem::DuplicateParam(name) => {
            format!("path parameter `{name}` appears more than once; each name must be unique")
        }
    }
}

/// Checks the path literal, reporting each problem at it; returns the parameter names, in
/// order of appearance, without repeats (those that could be read when there are problems).
pub(crate) fn check_literal(literal: &LitStr, errors: &mut Errors) -> Vec<String> {
    let path = literal.value();
    let parsed = grammar::parse(&path);
    for &problem in &parsed.problems {
        errors.spanned(literal, message(problem));
    }
    parsed.params().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use proc_macro2::Span;
    use syn::LitStr;

    use super::{check_literal, grammar, message, Problem::*};
    use crate::errors::Errors;

    /// `#[api_route]`'s check against the table shared with the runtime: the same parameters
    /// for an accepted path, one compile error per problem, in order, for a refused one.
    #[test]
    fn the_macro_agrees_with_the_shared_table() {
        for &(path, expected) in grammar::CASES {
            let mut errors = Errors::default();
            let params = check_literal(&LitStr::new(path, Span::call_site()), &mut errors);
            let reported = errors.to_compile_errors().to_string();
            match expected {
                Ok(expected) => {
                    assert!(errors.is_empty(), "{path:?} refused: {reported}");
                    assert_eq!(params, expected, "{path:?}");
                }
                Err(problems) => {
                    assert_eq!(grammar::parse(path).problems, problems, "{path:?}");
                    assert_eq!(
                        reported.matches("compile_error").count(),
                        problems.len(),
                        "{path:?}: {reported}"
                    );
                    let mut rest = reported.as_str();
                    for &problem in problems {
                        let text = format!("{:?}", message(problem));
                        let at = rest.find(&text).unwrap_or_else(|| {
                            panic!("{path:?}: {text} missing or out of order in {reported}")
                        });
                        rest = &rest[at + text.len()..];
                    }
                }
            }
        }
    }

    #[test]
    fn parameters_read_despite_problems_are_still_returned() {
        let mut errors = Errors::default();
        let literal = LitStr::new("/a/:id/b/{id}/:1x/:c", Span::call_site());
        assert_eq!(check_literal(&literal, &mut errors), ["id", "c"]);
        assert!(!errors.is_empty());
    }

    /// The wording the trybuild fixtures under `tests/ui` pin, for every problem.
    #[test]
    fn messages_name_the_offending_text() {
        assert_eq!(
            message(NoLeadingSlash),
            "route path must start with `/`, e.g. \"/items/:itemId\""
        );
        assert_eq!(
            message(EmptySegment),
            "route path has an empty segment (`//`); put exactly one `/` between segments"
        );
        assert_eq!(
            message(UnbalancedBraces("{id")),
            "unbalanced braces in path segment `{id`: \
             a `{name}` parameter must be the whole segment"
        );
        assert_eq!(
            message(MissingParamName(":")),
            "path parameter `:` has no name: write `:name` or `{name}`"
        );
        assert_eq!(
            message(BadParamName("1st")),
            "path parameter name `1st` is not an identifier: \
             use ASCII letters, digits and `_`, not starting with a digit"
        );
        assert_eq!(
            message(DuplicateParam("id")),
            "path parameter `id` appears more than once; each name must be unique"
        );
    }
}
