//! The MCP tool-name rule, written once: `mastra-runtime` reads it as
//! `route::mcp::tool_name` (behind the `RouteProblem::McpToolName` check at build) and
//! `mastra-macros` includes this same file with `#[path]`, so `mcp(name = "...")` in
//! `#[api_route]` refuses at compile time exactly the names the runtime refuses at startup.
//!
//! Plain `std` only, no crate-relative paths, no `use super::..`: the file must compile as a
//! module of either crate. (Packaging: see `grammar.rs`, which is shared the same way.)
//!
//! The rule is the MCP specification's (revision 2025-11-25, "Tool names"): 1 to 128
//! characters, each an ASCII letter, digit, `_`, `-` or `.`. The specification says SHOULD;
//! a route opts in by name, so refusing a name clients may reject costs nothing here and spares
//! a tool that some clients silently drop.

use std::fmt;

/// The most characters a tool name may have (MCP 2025-11-25, "Tool names").
pub const MAX_TOOL_NAME_CHARS: usize = 128;

/// Why a name is not a valid MCP tool name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolNameProblem {
    /// The name is empty.
    Empty,
    /// The name has more than [`MAX_TOOL_NAME_CHARS`] characters; how many it has.
    TooLong(usize),
    /// The first character outside `[A-Za-z0-9_.-]`.
    Disallowed(char),
}

impl fmt::Display for ToolNameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const RULE: &str = "an MCP tool name is 1 to 128 ASCII letters, digits, `_`, `-` or `.`";
        match self {
            Self::Empty => write!(f, "the name is empty; {RULE}"),
            Self::TooLong(chars) => write!(f, "the name has {chars} characters; {RULE}"),
            Self::Disallowed(c) => write!(f, "the name contains {c:?}; {RULE}"),
        }
    }
}

/// Checks `name` against MCP's tool-name rule.
pub fn check_tool_name(name: &str) -> Result<(), ToolNameProblem> {
    if name.is_empty() {
        return Err(ToolNameProblem::Empty);
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(ToolNameProblem::Disallowed(c));
    }
    // Every character is ASCII by now, so bytes count characters.
    if name.len() > MAX_TOOL_NAME_CHARS {
        return Err(ToolNameProblem::TooLong(name.len()));
    }
    Ok(())
}

/// Names both crates check against: the runtime's build check and the macro's compile-time
/// check are each tested with this table, so the two cannot drift apart.
#[cfg(test)]
pub const CASES: &[(&str, Result<(), ToolNameProblem>)] = {
    use ToolNameProblem::*;
    const LONGEST: &str = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx";
    const TOO_LONG: &str = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";
    &[
        // The specification's examples.
        ("getUser", Ok(())),
        ("DATA_EXPORT_v2", Ok(())),
        ("admin.tools.list", Ok(())),
        ("get_item", Ok(())),
        ("a", Ok(())),
        ("-._", Ok(())),
        ("0", Ok(())),
        (LONGEST, Ok(())),
        ("", Err(Empty)),
        (TOO_LONG, Err(TooLong(130))),
        ("get item", Err(Disallowed(' '))),
        ("user/update", Err(Disallowed('/'))),
        ("a,b", Err(Disallowed(','))),
        ("café", Err(Disallowed('é'))),
        ("tool:x", Err(Disallowed(':'))),
    ]
};
