//! Route path checks: Mastra's `:name` syntax and `{name}`, refused at compile time when the
//! runtime would refuse them at startup.

use std::fmt;

use syn::LitStr;

use crate::errors::Errors;

/// Something wrong with a route path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathProblem {
    /// The path does not begin with `/`.
    NoLeadingSlash,
    /// `//` somewhere, or a trailing `/` after a segment.
    EmptySegment,
    /// A segment with braces that is not exactly `{name}`.
    UnbalancedBraces(String),
    /// `:` or `{}` with no name.
    MissingParamName(String),
    /// A parameter name that is not an ASCII identifier.
    BadParamName(String),
    /// A parameter name used a second time.
    DuplicateParam(String),
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoLeadingSlash => {
                f.write_str("route path must start with `/`, e.g. \"/items/:itemId\"")
            }
            Self::EmptySegment => f.write_str(
                "route path has an empty segment (`//` or a trailing `/`); \
                 only the root path may end with `/`",
            ),
            Self::UnbalancedBraces(segment) => write!(
                f,
                "unbalanced braces in path segment `{segment}`: \
                 a `{{name}}` parameter must be the whole segment"
            ),
            Self::MissingParamName(segment) => write!(
                f,
                "path parameter `{segment}` has no name: write `:name` or `{{name}}`"
            ),
            Self::BadParamName(name) => write!(
                f,
                "path parameter name `{name}` is not an identifier: \
                 use ASCII letters, digits and `_`, not starting with a digit"
            ),
            Self::DuplicateParam(name) => write!(
                f,
                "path parameter `{name}` appears more than once; each name must be unique"
            ),
        }
    }
}

/// What checking a path found: its parameter names (those that could be read) and problems.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct CheckedPath {
    /// Parameter names, in order of appearance, without repeats.
    pub(crate) params: Vec<String>,
    /// Every problem, in order of appearance.
    pub(crate) problems: Vec<PathProblem>,
}

/// Checks a route path such as `/items/:itemId` or `/items/{itemId}`.
///
/// `:` introduces a parameter only at the start of a segment; elsewhere it is literal text.
pub(crate) fn check(path: &str) -> CheckedPath {
    let mut checked = CheckedPath::default();
    let rest = match path.strip_prefix('/') {
        Some(rest) => rest,
        None => {
            checked.problems.push(PathProblem::NoLeadingSlash);
            path
        }
    };
    if rest.is_empty() {
        return checked;
    }
    let mut empty_reported = false;
    for segment in rest.split('/') {
        if segment.is_empty() {
            if !empty_reported {
                checked.problems.push(PathProblem::EmptySegment);
                empty_reported = true;
            }
            continue;
        }
        match param_name(segment) {
            Ok(Some(name)) if checked.params.iter().any(|seen| seen == name) => {
                checked
                    .problems
                    .push(PathProblem::DuplicateParam(name.to_owned()));
            }
            Ok(Some(name)) => checked.params.push(name.to_owned()),
            Ok(None) => {}
            Err(problem) => checked.problems.push(problem),
        }
    }
    checked
}

/// The parameter a segment binds, `None` for a literal segment.
fn param_name(segment: &str) -> Result<Option<&str>, PathProblem> {
    let name = if let Some(name) = segment.strip_prefix(':') {
        name
    } else if segment.contains(['{', '}']) {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) if !name.contains(['{', '}']) => name,
            _ => return Err(PathProblem::UnbalancedBraces(segment.to_owned())),
        }
    } else {
        return Ok(None);
    };
    if name.is_empty() {
        Err(PathProblem::MissingParamName(segment.to_owned()))
    } else if is_identifier(name) {
        Ok(Some(name))
    } else {
        Err(PathProblem::BadParamName(name.to_owned()))
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks the path literal, reporting each problem at it; returns the parameter names.
pub(crate) fn check_literal(literal: &LitStr, errors: &mut Errors) -> Vec<String> {
    let checked = check(&literal.value());
    for problem in &checked.problems {
        errors.spanned(literal, problem);
    }
    checked.params
}

#[cfg(test)]
mod tests {
    use super::{check, PathProblem::*};

    fn params(path: &str) -> Vec<String> {
        let checked = check(path);
        assert_eq!(checked.problems, [], "{path} should be accepted");
        checked.params
    }

    #[test]
    fn root_and_static_paths_have_no_params() {
        assert!(params("/").is_empty());
        assert!(params("/health/live").is_empty());
    }

    #[test]
    fn colon_and_brace_params_are_read_in_order() {
        assert_eq!(params("/items/:itemId"), ["itemId"]);
        assert_eq!(params("/a/{a_1}/b/:_b"), ["a_1", "_b"]);
    }

    #[test]
    fn colon_inside_a_segment_is_literal_text() {
        assert!(params("/v1/items:batch").is_empty());
    }

    #[test]
    fn path_without_leading_slash_is_refused() {
        assert_eq!(check("items").problems, [NoLeadingSlash]);
        assert_eq!(check("").problems, [NoLeadingSlash]);
    }

    #[test]
    fn empty_segments_are_refused_once() {
        assert_eq!(check("/a//b").problems, [EmptySegment]);
        assert_eq!(check("/a/").problems, [EmptySegment]);
        assert_eq!(check("//a//").problems, [EmptySegment]);
    }

    #[test]
    fn unbalanced_or_partial_braces_are_refused() {
        for (path, segment) in [
            ("/items/{id", "{id"),
            ("/items/id}", "id}"),
            ("/items/x{id}", "x{id}"),
            ("/items/{{id}}", "{{id}}"),
        ] {
            assert_eq!(
                check(path).problems,
                [UnbalancedBraces(segment.into())],
                "{path}"
            );
        }
    }

    #[test]
    fn parameter_names_must_be_identifiers() {
        assert_eq!(check("/a/:1id").problems, [BadParamName("1id".into())]);
        assert_eq!(
            check("/a/{item-id}").problems,
            [BadParamName("item-id".into())]
        );
        assert_eq!(check("/a/:").problems, [MissingParamName(":".into())]);
        assert_eq!(check("/a/{}").problems, [MissingParamName("{}".into())]);
    }

    #[test]
    fn a_repeated_parameter_is_refused_whatever_the_syntax() {
        let checked = check("/a/:id/b/{id}");
        assert_eq!(checked.problems, [DuplicateParam("id".into())]);
        assert_eq!(checked.params, ["id"]);
    }

    #[test]
    fn every_problem_is_reported() {
        assert_eq!(
            check("a//:1/{b/:c/:c").problems,
            [
                NoLeadingSlash,
                EmptySegment,
                BadParamName("1".into()),
                UnbalancedBraces("{b".into()),
                DuplicateParam("c".into()),
            ]
        );
    }
}
