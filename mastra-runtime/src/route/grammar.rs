//! The route path grammar, written once: `mastra-runtime` reads it as `route::path::grammar`
//! (behind `PathPattern::parse`) and `mastra-macros` includes this
//! same file with `#[path]`, so `#[api_route]` refuses at compile time exactly the paths the
//! runtime refuses at startup, and reads the same parameters from the ones both accept.
//!
//! Plain `std` only, no crate-relative paths, no `use super::..`: the file must compile as a
//! module of either crate. Each crate maps [`Problem`] to its own errors and messages.
//!
//! Packaging: `mastra-macros` reaches this file through `../../mastra-runtime/src/route/`,
//! outside its own package. That works in the workspace and for path dependencies, but
//! `cargo package -p mastra-macros` would not include the file; before publishing, copy it into
//! the macros crate (a build script or a release step) and point the `#[path]` there.
//!
//! The grammar:
//!
//! - a path starts with `/`; `/` alone is the root;
//! - segments are separated by single slashes; an empty segment (`//`) is refused;
//! - a trailing `/` after a segment is allowed and makes a distinct path (`/items/` is not
//!   `/items`), as in Hono's default strict routing and actix-web's router; it is read as a
//!   final empty literal segment;
//! - `:name` as a whole segment, or `{name}` as a whole segment, is a parameter; a `:` elsewhere
//!   is literal text (`/v1/items:batch`); a brace anywhere else is refused;
//! - a parameter name is an ASCII identifier ([`is_param_name`]) and appears once per path.

/// One segment of a path, borrowing its text from the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A segment matched literally (empty only for the trailing slash).
    Static(&'a str),
    /// A segment bound to the named parameter.
    Param(&'a str),
}

/// Something wrong with a route path, borrowing the offending text from the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem<'a> {
    /// The path does not begin with `/`.
    NoLeadingSlash,
    /// `//` somewhere (reported once per path).
    EmptySegment,
    /// A segment with braces that is not exactly `{name}`; the segment.
    UnbalancedBraces(&'a str),
    /// `:` or `{}` with no name; the segment.
    MissingParamName(&'a str),
    /// A parameter name that is not an ASCII identifier; the name.
    BadParamName(&'a str),
    /// A parameter name used a second time; the name.
    DuplicateParam(&'a str),
}

/// What parsing a path found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Parsed<'a> {
    /// The segments that could be read, in order; a segment with a problem is left out.
    pub segments: Vec<Piece<'a>>,
    /// Every problem, in order of appearance; the path is accepted when this is empty.
    pub problems: Vec<Problem<'a>>,
}

impl<'a> Parsed<'a> {
    /// Parameter names, in order of appearance, without repeats.
    pub fn params(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.segments.iter().filter_map(|piece| match *piece {
            Piece::Param(name) => Some(name),
            Piece::Static(_) => None,
        })
    }
}

/// Whether `name` is usable as a parameter name: an ASCII identifier (letters, digits and `_`,
/// not starting with a digit).
pub fn is_param_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses a route path such as `/items/:itemId` or `/items/{itemId}`, reporting every problem.
///
/// A path without its leading `/` is still read segment by segment, so its other problems are
/// reported too.
pub fn parse(path: &str) -> Parsed<'_> {
    let mut parsed = Parsed::default();
    let rest = match path.strip_prefix('/') {
        Some(rest) => rest,
        None => {
            parsed.problems.push(Problem::NoLeadingSlash);
            path
        }
    };
    if rest.is_empty() {
        return parsed;
    }
    let (rest, trailing_slash) = match rest.strip_suffix('/') {
        Some(rest) => (rest, true),
        None => (rest, false),
    };
    let mut empty_reported = false;
    for segment in rest.split('/') {
        if segment.is_empty() {
            if !empty_reported {
                parsed.problems.push(Problem::EmptySegment);
                empty_reported = true;
            }
            continue;
        }
        match piece(segment) {
            Ok(Piece::Param(name)) if parsed.params().any(|seen| seen == name) => {
                parsed.problems.push(Problem::DuplicateParam(name));
            }
            Ok(piece) => parsed.segments.push(piece),
            Err(problem) => parsed.problems.push(problem),
        }
    }
    if trailing_slash {
        parsed.segments.push(Piece::Static(""));
    }
    parsed
}

/// Reads one non-empty segment.
fn piece(segment: &str) -> Result<Piece<'_>, Problem<'_>> {
    let name = if let Some(name) = segment.strip_prefix(':') {
        name
    } else if segment.contains(['{', '}']) {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) if !name.contains(['{', '}']) => name,
            _ => return Err(Problem::UnbalancedBraces(segment)),
        }
    } else {
        return Ok(Piece::Static(segment));
    };
    if name.is_empty() {
        Err(Problem::MissingParamName(segment))
    } else if is_param_name(name) {
        Ok(Piece::Param(name))
    } else {
        Err(Problem::BadParamName(name))
    }
}

/// The expected outcome of parsing a path: its parameter names, or every problem in order.
#[cfg(test)]
pub type Expected = Result<&'static [&'static str], &'static [Problem<'static>]>;

/// The one table of accepted and refused paths. The macro's unit tests check `#[api_route]`'s
/// path check against it and the runtime's check `PathPattern::parse` and `Mastra::build`
/// (`RouteProblem::BadPath` with the first problem), so the two cannot drift apart.
#[cfg(test)]
pub const CASES: &[(&str, Expected)] = {
    use Problem::*;
    &[
        // Accepted: the root, literals, both parameter syntaxes.
        ("/", Ok(&[])),
        ("/health/live", Ok(&[])),
        ("/items/:itemId", Ok(&["itemId"])),
        ("/items/{itemId}", Ok(&["itemId"])),
        ("/items/:itemId/parts/{partId}", Ok(&["itemId", "partId"])),
        ("/a/{a_1}/b/:_b", Ok(&["a_1", "_b"])),
        ("/A/:Z9/{_}", Ok(&["Z9", "_"])),
        // `:` not at the start of a segment is literal text.
        ("/v1/items:batch", Ok(&[])),
        ("/time/12:30", Ok(&[])),
        ("/files/report.v2~draft-1", Ok(&[])),
        // A trailing slash makes a distinct path (the built-in `/swagger-ui/` is one).
        ("/items/", Ok(&[])),
        ("/swagger-ui/", Ok(&[])),
        ("/items/:id/", Ok(&["id"])),
        ("/{id}/", Ok(&["id"])),
        // Refused: no leading slash (the rest is still checked).
        ("", Err(&[NoLeadingSlash])),
        ("items", Err(&[NoLeadingSlash])),
        ("items/:id", Err(&[NoLeadingSlash])),
        ("items/", Err(&[NoLeadingSlash])),
        (":id", Err(&[NoLeadingSlash])),
        // Empty segments, reported once.
        ("//", Err(&[EmptySegment])),
        ("//a", Err(&[EmptySegment])),
        ("/a//b", Err(&[EmptySegment])),
        ("/items//", Err(&[EmptySegment])),
        ("/items//:id", Err(&[EmptySegment])),
        ("//a//", Err(&[EmptySegment])),
        ("///", Err(&[EmptySegment])),
        // Braces that are not exactly `{name}`.
        ("/items/{id", Err(&[UnbalancedBraces("{id")])),
        ("/items/id}", Err(&[UnbalancedBraces("id}")])),
        ("/items/x{id}", Err(&[UnbalancedBraces("x{id}")])),
        ("/items/{id}x", Err(&[UnbalancedBraces("{id}x")])),
        ("/items/{{id}}", Err(&[UnbalancedBraces("{{id}}")])),
        ("/items/a{b", Err(&[UnbalancedBraces("a{b")])),
        // Parameters without a name or with a name that is not an identifier.
        ("/items/:", Err(&[MissingParamName(":")])),
        ("/items/{}", Err(&[MissingParamName("{}")])),
        ("/items/:1id", Err(&[BadParamName("1id")])),
        ("/items/:id-x", Err(&[BadParamName("id-x")])),
        ("/items/{item-id}", Err(&[BadParamName("item-id")])),
        ("/items/:{id}", Err(&[BadParamName("{id}")])),
        ("/items/:é", Err(&[BadParamName("é")])),
        ("/items/: id", Err(&[BadParamName(" id")])),
        // A name used twice, whatever the syntax.
        ("/a/:id/b/{id}", Err(&[DuplicateParam("id")])),
        ("/a/:id/:id/", Err(&[DuplicateParam("id")])),
        // Every problem is reported, in order of appearance.
        (
            "a//:1/{b/:c/:c",
            Err(&[
                NoLeadingSlash,
                EmptySegment,
                BadParamName("1"),
                UnbalancedBraces("{b"),
                DuplicateParam("c"),
            ]),
        ),
        (
            "/a/:c/:c/{x",
            Err(&[DuplicateParam("c"), UnbalancedBraces("{x")]),
        ),
    ]
};
