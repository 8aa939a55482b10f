//! Route path templates: Mastra's `:name` syntax and the `{name}` syntax, checked once and
//! rendered for actix-web's router and for OpenAPI.
//!
//! The grammar itself lives in `grammar.rs` next to this file, shared with `#[api_route]`
//! (which includes the same file), so a path refused here is refused at compile time too.

use std::fmt;

#[path = "grammar.rs"]
mod grammar;

pub use self::grammar::is_param_name;
use self::grammar::{Piece, Problem};

/// One segment of a [`PathPattern`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A segment matched literally.
    Static(String),
    /// A segment bound to a named parameter.
    Param(String),
}

/// A checked route path such as `/items/:itemId` or `/items/{itemId}`.
///
/// ```
/// use mastra_runtime::route::PathPattern;
/// let p = PathPattern::parse("/items/:itemId").unwrap();
/// assert_eq!(p.actix(), "/items/{itemId}");
/// assert_eq!(p.openapi(), "/items/{itemId}");
/// assert_eq!(p.params().collect::<Vec<_>>(), ["itemId"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathPattern {
    original: String,
    segments: Vec<Segment>,
}

/// Why a path template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path does not begin with `/`.
    #[error("path `{0}` must start with `/`")]
    NoLeadingSlash(String),
    /// Two slashes in a row.
    #[error("path `{0}` has an empty segment (`//`)")]
    EmptySegment(String),
    /// A `{` without its `}` or the reverse.
    #[error("path `{path}` has unbalanced braces in segment `{segment}`")]
    UnbalancedBraces {
        /// The whole path.
        path: String,
        /// The offending segment.
        segment: String,
    },
    /// A parameter with no name: `:` or `{}`.
    #[error("path `{path}`: parameter `{segment}` has no name (write `:name` or `{{name}}`)")]
    MissingParamName {
        /// The whole path.
        path: String,
        /// The offending segment.
        segment: String,
    },
    /// A parameter whose name is not an identifier.
    #[error("path `{path}`: parameter name `{name}` is not an identifier (letters, digits, `_`; not starting with a digit)")]
    BadParamName {
        /// The whole path.
        path: String,
        /// The offending name.
        name: String,
    },
    /// The same parameter name used twice.
    #[error("path `{path}`: parameter `{name}` appears more than once")]
    DuplicateParam {
        /// The whole path.
        path: String,
        /// The repeated name.
        name: String,
    },
}

impl PathError {
    /// The error for the grammar's `problem` in `path`.
    fn new(path: &str, problem: Problem<'_>) -> Self {
        let path = path.to_owned();
        match problem {
            Problem::NoLeadingSlash => Self::NoLeadingSlash(path),
            Problem::EmptySegment => Self::EmptySegment(path),
            Problem::UnbalancedBraces(segment) => Self::UnbalancedBraces {
                path,
                segment: segment.to_owned(),
            },
            Problem::MissingParamName(segment) => Self::MissingParamName {
                path,
                segment: segment.to_owned(),
            },
            Problem::BadParamName(name) => Self::BadParamName {
                path,
                name: name.to_owned(),
            },
            Problem::DuplicateParam(name) => Self::DuplicateParam {
                path,
                name: name.to_owned(),
            },
        }
    }
}

impl PathPattern {
    /// Parses and checks a path template.
    ///
    /// The root path `/` is allowed; otherwise every segment is non-empty, parameters are
    /// identifiers and appear once, and braces balance. A trailing slash (`/swagger-ui/`) makes
    /// a distinct path, as in actix-web's router and Hono's default strict routing; it is kept
    /// as a final empty literal segment. `#[api_route]` applies the same grammar at compile
    /// time. When several things are wrong, the first in the path is reported.
    pub fn parse(path: &str) -> Result<Self, PathError> {
        let parsed = grammar::parse(path);
        if let Some(&problem) = parsed.problems.first() {
            return Err(PathError::new(path, problem));
        }
        let segments = parsed
            .segments
            .iter()
            .map(|piece| match *piece {
                Piece::Static(text) => Segment::Static(text.to_owned()),
                Piece::Param(name) => Segment::Param(name.to_owned()),
            })
            .collect();
        Ok(Self {
            original: path.to_owned(),
            segments,
        })
    }

    /// The path exactly as written.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The segments, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Parameter names, in order of appearance.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param(name) => Some(name.as_str()),
            Segment::Static(_) => None,
        })
    }

    /// The form actix-web's router takes: `{name}` for every parameter.
    pub fn actix(&self) -> String {
        self.render(|name| format!("{{{name}}}"))
    }

    /// The form OpenAPI uses, which is the same brace syntax.
    pub fn openapi(&self) -> String {
        self.actix()
    }

    /// The path with every parameter name erased: two patterns with the same shape match the
    /// same requests, whatever their parameters are called.
    pub fn shape(&self) -> String {
        self.render(|_| "{}".to_owned())
    }

    /// Whether the pattern is exactly `prefix` or lies below it (`prefix/...`).
    pub fn is_under(&self, prefix: &str) -> bool {
        let prefix = prefix.trim_end_matches('/');
        if prefix.is_empty() {
            return true;
        }
        let rendered = self.actix();
        rendered == prefix
            || rendered
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    }

    /// Orders patterns so that, at each position, a literal segment is tried before a parameter:
    /// `/items/new` must win over `/items/:id` whatever order they were declared in.
    pub fn specificity_key(&self) -> Vec<(u8, &str)> {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Static(text) => (0, text.as_str()),
                Segment::Param(_) => (1, ""),
            })
            .collect()
    }

    fn render(&self, param: impl Fn(&str) -> String) -> String {
        if self.segments.is_empty() {
            return "/".to_owned();
        }
        let mut out = String::with_capacity(self.original.len() + 4);
        for segment in &self.segments {
            out.push('/');
            match segment {
                Segment::Static(text) => out.push_str(text),
                Segment::Param(name) => out.push_str(&param(name)),
            }
        }
        out
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colon_and_brace_syntax_render_the_same() {
        let a = PathPattern::parse("/items/:itemId/parts/{partId}").unwrap();
        assert_eq!(a.actix(), "/items/{itemId}/parts/{partId}");
        assert_eq!(a.shape(), "/items/{}/parts/{}");
        assert_eq!(a.params().collect::<Vec<_>>(), ["itemId", "partId"]);
    }

    #[test]
    fn a_trailing_slash_is_a_distinct_path() {
        let slash = PathPattern::parse("/swagger-ui/").unwrap();
        assert_eq!(slash.actix(), "/swagger-ui/");
        assert_eq!(slash.openapi(), "/swagger-ui/");
        assert_ne!(
            slash.shape(),
            PathPattern::parse("/swagger-ui").unwrap().shape()
        );
    }

    #[test]
    fn root_is_allowed() {
        let root = PathPattern::parse("/").unwrap();
        assert_eq!(root.actix(), "/");
        assert!(root.segments().is_empty());
    }

    /// `PathPattern::parse` against the table shared with `#[api_route]`: the same parameters
    /// for an accepted path, the first of the table's problems for a refused one.
    #[test]
    fn parse_agrees_with_the_shared_table() {
        for &(path, expected) in grammar::CASES {
            match (PathPattern::parse(path), expected) {
                (Ok(pattern), Ok(params)) => {
                    assert_eq!(pattern.params().collect::<Vec<_>>(), params, "{path:?}");
                    assert_eq!(pattern.as_str(), path);
                }
                (Err(error), Err(problems)) => {
                    assert_eq!(error, PathError::new(path, problems[0]), "{path:?}");
                    let text = error.to_string();
                    assert!(text.contains(&format!("`{path}`")), "{path:?}: {text}");
                }
                (got, expected) => panic!("{path:?}: got {got:?}, the table says {expected:?}"),
            }
        }
    }

    /// Building a server with the path as a custom route: an accepted path mounts with its
    /// parameters, a refused one is the single `RouteProblem::BadPath` of the build.
    #[test]
    fn the_route_table_agrees_with_the_shared_table() {
        async fn ok() -> &'static str {
            "ok"
        }
        for &(path, expected) in grammar::CASES {
            let built = crate::Mastra::builder()
                .without_annotated_routes()
                // The built-in `/swagger-ui/` would collide with the table's own.
                .server(crate::ServerConfig::default().swagger_ui(false))
                .route(crate::route::ApiRoute::get(path).handler(ok))
                .build();
            match (built, expected) {
                (Ok(mastra), Ok(params)) => {
                    let route = mastra
                        .routes()
                        .iter()
                        .find(|route| route.path() == path)
                        .unwrap_or_else(|| panic!("{path:?} is not mounted"));
                    assert_eq!(route.pattern().params().collect::<Vec<_>>(), params);
                }
                (Err(error), Err(problems)) => {
                    let want = PathError::new(path, problems[0]);
                    assert!(
                        matches!(
                            error.route_problems(),
                            [crate::route::RouteProblem::BadPath { error, .. }] if *error == want
                        ),
                        "{path:?}: {error}"
                    );
                }
                (Ok(_), Err(problems)) => panic!("{path:?} built despite {problems:?}"),
                (Err(error), Ok(_)) => panic!("{path:?} should build: {error}"),
            }
        }
    }

    #[test]
    fn every_message_says_what_is_wrong() {
        let cases = [
            ("items", "path `items` must start with `/`"),
            ("/items//x", "empty segment (`//`)"),
            ("/items/a{id}", "unbalanced braces in segment `a{id}`"),
            (
                "/items/:",
                "parameter `:` has no name (write `:name` or `{name}`)",
            ),
            ("/items/{}", "parameter `{}` has no name"),
            ("/items/:id-x", "parameter name `id-x` is not an identifier"),
            ("/a/:id/b/{id}", "parameter `id` appears more than once"),
        ];
        for (path, needle) in cases {
            let err = PathPattern::parse(path).expect_err(path).to_string();
            assert!(err.contains(needle), "{path}: {err}");
        }
    }

    #[test]
    fn prefix_containment_is_by_segment() {
        let p = PathPattern::parse("/api/x").unwrap();
        assert!(p.is_under("/api"));
        assert!(PathPattern::parse("/api").unwrap().is_under("/api"));
        assert!(!PathPattern::parse("/apis").unwrap().is_under("/api"));
    }
}

/// Fuzz target: the path-pattern parser (see `crate::fuzzing`).
#[cfg(test)]
mod props {
    use proptest::{collection::vec, prelude::*};

    use super::*;

    /// Checks every invariant of a parsed pattern.
    fn check_parsed(path: &str, pattern: &PathPattern) {
        assert_eq!(pattern.as_str(), path);
        let mut names: Vec<&str> = pattern.params().collect();
        let total = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), total, "duplicate parameter in {path:?}");
        for segment in pattern.segments() {
            match segment {
                Segment::Param(name) => assert!(is_param_name(name), "{path:?}: {name:?}"),
                Segment::Static(text) => {
                    assert!(!text.contains(['/', '{', '}']), "{path:?}: {text:?}")
                }
            }
        }
        // The rendered form parses to the same segments: what the router and the document
        // see is what was declared.
        let rendered = pattern.actix();
        let again = PathPattern::parse(&rendered)
            .unwrap_or_else(|e| panic!("{path:?} renders as {rendered:?}, which fails: {e}"));
        assert_eq!(again.segments(), pattern.segments(), "{path:?}");
        assert_eq!(again.shape(), pattern.shape());
        assert_eq!(pattern.specificity_key().len(), pattern.segments().len());
        assert!(pattern.is_under("/"));
        assert!(pattern.is_under(&rendered));
    }

    fn literal() -> impl Strategy<Value = String> {
        "[A-Za-z0-9._~-][A-Za-z0-9._~:-]{0,11}"
    }

    fn name() -> impl Strategy<Value = String> {
        "[A-Za-z_][A-Za-z0-9_]{0,10}"
    }

    /// A segment of a valid template: a literal, `:name` or `{name}`.
    fn segment() -> impl Strategy<Value = (Option<String>, String)> {
        prop_oneof![
            literal().prop_map(|l| (None, l)),
            name().prop_map(|n| (Some(n.clone()), format!(":{n}"))),
            name().prop_map(|n| (Some(n.clone()), format!("{{{n}}}"))),
        ]
    }

    proptest! {
        #![proptest_config(crate::fuzzing::config())]

        /// Any text: refused with a reason, or accepted with every invariant holding.
        #[test]
        fn any_text_is_refused_or_consistent(path in any::<String>()) {
            if let Ok(pattern) = PathPattern::parse(&path) {
                check_parsed(&path, &pattern);
            }
        }

        /// Text over the parser's own alphabet, where the near misses are.
        #[test]
        fn near_misses_are_refused_or_consistent(path in "[/:{}a_1.-]{0,24}") {
            match PathPattern::parse(&path) {
                Ok(pattern) => check_parsed(&path, &pattern),
                Err(error) => prop_assert!(!error.to_string().is_empty()),
            }
        }

        /// Every well-formed template is accepted, keeping its parameters in order.
        #[test]
        fn well_formed_templates_round_trip(
            segments in vec(segment(), 0..8),
            trailing_slash in any::<bool>(),
        ) {
            let mut seen = Vec::new();
            let segments: Vec<_> = segments
                .into_iter()
                .filter(|(name, _)| match name {
                    Some(n) if seen.contains(n) => false,
                    Some(n) => { seen.push(n.clone()); true }
                    None => true,
                })
                .collect();
            let mut path: String = segments.iter().map(|(_, s)| format!("/{s}")).collect();
            if path.is_empty() || trailing_slash {
                path.push('/');
            }
            let pattern = PathPattern::parse(&path)
                .unwrap_or_else(|e| panic!("{path:?} refused: {e}"));
            check_parsed(&path, &pattern);
            let expected: Vec<&str> = segments.iter().filter_map(|(n, _)| n.as_deref()).collect();
            prop_assert_eq!(pattern.params().collect::<Vec<_>>(), expected);
        }
    }
}
