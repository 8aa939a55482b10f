//! `mcp(name = "...", description = "...")`: the route's opt-in to become an MCP tool, read
//! into [`McpArgs`].
//!
//! The tool-name rule is not written here: it is the runtime's own `route/tool_name.rs`,
//! included as a module of this crate (plain `std`), so a name refused here is exactly one the
//! runtime would refuse when the server is built.

use proc_macro2::Span;
use syn::LitStr;

use crate::{
    errors::Errors,
    meta::{self, Entry},
};

// Shared with `mastra-runtime` (see the file's header). The macro checks names; the limit
// constant is the runtime's to export.
#[allow(dead_code)]
#[path = "../../mastra-runtime/src/route/tool_name.rs"]
mod tool_name;

/// What `mcp(...)` asks for.
pub(crate) struct McpArgs {
    /// The tool's name, already checked against MCP's rule.
    pub(crate) name: LitStr,
    /// The tool's own description, when given.
    pub(crate) description: Option<LitStr>,
}

const KEYS: &[&str] = &["name", "description"];
const EXAMPLE: &str = "mcp(name = \"get_item\", description = \"...\")";

/// Reads `mcp(...)`; every problem is recorded in `errors`, and the result is `None` when the
/// name is missing, unreadable or refused.
pub(crate) fn parse(entry: &Entry, errors: &mut Errors) -> Option<McpArgs> {
    let list = entry.list(errors, EXAMPLE)?;
    let mut name = None;
    let mut description = None;
    meta::read_keys(
        meta::parse_entries(list, errors),
        errors,
        "`mcp`",
        KEYS,
        |key, entry, errors| match key {
            "name" => {
                name = Some(entry.value::<LitStr>(errors, "a string literal, e.g. \"get_item\""))
            }
            "description" => description = entry.value::<LitStr>(errors, "a string literal"),
            _ => unreachable!("`{key}` is in KEYS"),
        },
    );
    let Some(name) = name else {
        let span = entry.key().map_or_else(Span::call_site, |key| key.span());
        errors.at(
            span,
            format_args!("`mcp` is missing the tool's `name`, e.g. {EXAMPLE}"),
        );
        return None;
    };
    // A `name` that is not a string is reported already.
    let name = name?;
    if let Err(problem) = tool_name::check_tool_name(&name.value()) {
        errors.spanned(
            &name,
            format_args!("MCP tool name \"{}\" is refused: {problem}", name.value()),
        );
        return None;
    }
    Some(McpArgs { name, description })
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use super::{parse, tool_name, McpArgs};
    use crate::{errors::Errors, meta};

    fn read(tokens: TokenStream) -> (Option<McpArgs>, String) {
        let mut errors = Errors::default();
        let entry = meta::parse_entries(tokens, &mut errors)
            .into_iter()
            .next()
            .expect("one entry");
        let args = parse(&entry, &mut errors);
        (args, errors.to_compile_errors().to_string())
    }

    /// `mcp(name = ...)`'s check against the table shared with the runtime: accepted names
    /// read, refused ones reported with the runtime's own wording.
    #[test]
    fn the_macro_agrees_with_the_shared_table() {
        for &(name, expected) in tool_name::CASES {
            let (args, reported) = read(quote!(mcp(name = #name)));
            match expected {
                Ok(()) => {
                    assert!(reported.is_empty(), "{name:?} refused: {reported}");
                    assert_eq!(args.map(|a| a.name.value()).as_deref(), Some(name));
                }
                Err(problem) => {
                    assert!(args.is_none(), "{name:?} accepted");
                    assert_eq!(reported.matches("compile_error").count(), 1, "{reported}");
                    let text = format!("{:?}", problem.to_string());
                    let text = &text[1..text.len() - 1];
                    assert!(
                        reported.contains(text),
                        "{name:?}: {text} not in {reported}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_mistake_in_one_list_is_reported() {
        let (args, reported) = read(quote!(mcp(title = "x", description = 3, description = "y")));
        assert!(args.is_none());
        for expected in [
            "unknown `mcp` key `title`",
            "`description` expects a string literal",
            "duplicate `description`",
            "`mcp` is missing the tool's `name`",
        ] {
            assert!(reported.contains(expected), "{expected} not in {reported}");
        }
    }

    #[test]
    fn a_description_is_kept_as_written() {
        let (args, reported) = read(quote!(mcp(description = "Gets one item.", name = "get")));
        assert!(reported.is_empty(), "{reported}");
        let args = args.expect("read");
        assert_eq!(args.name.value(), "get");
        assert_eq!(
            args.description.map(|d| d.value()).as_deref(),
            Some("Gets one item.")
        );
    }
}
