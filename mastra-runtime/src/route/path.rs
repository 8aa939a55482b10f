//! Route path templates: Mastra's `:name` syntax and the `{name}` syntax, checked once and
//! rendered for actix-web's router and for OpenAPI.

use std::fmt;

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

/// Whether `name` is usable as a parameter name: an ASCII identifier.
pub fn is_param_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl PathPattern {
    /// Parses and checks a path template.
    ///
    /// The root path `/` is allowed; otherwise every segment is non-empty, parameters are
    /// identifiers and appear once, and braces balance. A trailing slash (`/swagger-ui/`) makes
    /// a distinct path, as in actix-web's router; it is kept as a final empty literal segment.
    pub fn parse(path: &str) -> Result<Self, PathError> {
        let Some(rest) = path.strip_prefix('/') else {
            return Err(PathError::NoLeadingSlash(path.to_owned()));
        };
        let mut segments = Vec::new();
        if !rest.is_empty() {
            let (rest, trailing_slash) = match rest.strip_suffix('/') {
                Some(rest) => (rest, true),
                None => (rest, false),
            };
            for raw in rest.split('/') {
                if raw.is_empty() {
                    return Err(PathError::EmptySegment(path.to_owned()));
                }
                segments.push(Self::parse_segment(path, raw)?);
            }
            if trailing_slash {
                segments.push(Segment::Static(String::new()));
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for segment in &segments {
            if let Segment::Param(name) = segment {
                if seen.contains(&name.as_str()) {
                    return Err(PathError::DuplicateParam {
                        path: path.to_owned(),
                        name: name.clone(),
                    });
                }
                seen.push(name);
            }
        }
        Ok(Self {
            original: path.to_owned(),
            segments,
        })
    }

    fn parse_segment(path: &str, raw: &str) -> Result<Segment, PathError> {
        let name = if let Some(name) = raw.strip_prefix(':') {
            name
        } else if raw.starts_with('{') || raw.ends_with('}') {
            match raw.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                Some(name) if !name.contains(['{', '}']) => name,
                _ => {
                    return Err(PathError::UnbalancedBraces {
                        path: path.to_owned(),
                        segment: raw.to_owned(),
                    })
                }
            }
        } else if raw.contains(['{', '}']) {
            return Err(PathError::UnbalancedBraces {
                path: path.to_owned(),
                segment: raw.to_owned(),
            });
        } else {
            return Ok(Segment::Static(raw.to_owned()));
        };
        if !is_param_name(name) {
            return Err(PathError::BadParamName {
                path: path.to_owned(),
                name: name.to_owned(),
            });
        }
        Ok(Segment::Param(name.to_owned()))
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

    #[test]
    fn every_bad_form_is_refused() {
        let cases = [
            ("items", "must start with `/`"),
            ("/items//x", "empty segment"),
            ("/items//", "empty segment"),
            ("/items/{id", "unbalanced"),
            ("/items/id}", "unbalanced"),
            ("/items/a{id}", "unbalanced"),
            ("/items/:1id", "not an identifier"),
            ("/items/:", "not an identifier"),
            ("/items/{}", "not an identifier"),
            ("/items/:id-x", "not an identifier"),
            ("/a/:id/b/{id}", "more than once"),
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
