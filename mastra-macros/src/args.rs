//! The attribute grammar, read into [`RouteArgs`]:
//!
//! ```text
//! #[api_route(PATH, method = "GET", requires_auth = false, middleware(a, b), openapi(...),
//!            mcp(name = "...", description = "..."))]
//! ```

use proc_macro2::{Span, TokenStream};
use syn::{Lit, LitStr};

use crate::{
    errors::Errors,
    mcp::{self, McpArgs},
    meta::{self, Entry},
    openapi::{self, Operation},
    path,
};

/// What the attribute asks for.
pub(crate) struct RouteArgs {
    /// The path as written (`:name` or `{name}` parameters), already checked.
    pub(crate) path: LitStr,
    pub(crate) method: Method,
    /// `requires_auth`, `true` when absent.
    pub(crate) requires_auth: bool,
    /// Middleware functions, outermost first.
    pub(crate) middleware: Vec<syn::Path>,
    /// The hand-written operation, when `openapi(...)` was given.
    pub(crate) openapi: Option<Operation>,
    /// The MCP tool the route becomes, when `mcp(...)` was given.
    pub(crate) mcp: Option<McpArgs>,
}

/// `method = "..."`. Variants are named as `RouteMethod`'s; the expansion relies on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    All,
}

impl Method {
    const CHOICES: [(&'static str, Self); 6] = [
        ("GET", Self::Get),
        ("POST", Self::Post),
        ("PUT", Self::Put),
        ("PATCH", Self::Patch),
        ("DELETE", Self::Delete),
        ("ALL", Self::All),
    ];
}

const KEYS: &[&str] = &["method", "requires_auth", "middleware", "openapi", "mcp"];
const USAGE: &str = "#[api_route(\"/items/:itemId\", method = \"GET\")]";

/// Reads the attribute's tokens. Every problem is recorded in `errors`; the result is `None`
/// only when the path or the method could not be read.
pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Option<RouteArgs> {
    let mut entries = meta::parse_entries(tokens, errors).into_iter().peekable();
    let path = match entries.peek() {
        Some(Entry::Lit(Lit::Str(path))) => {
            let path = path.clone();
            entries.next();
            Some(path)
        }
        Some(Entry::Lit(other)) => {
            errors.spanned(
                other,
                "the route path must be a string literal, e.g. \"/items/:itemId\"",
            );
            entries.next();
            None
        }
        _ => {
            errors.at(
                Span::call_site(),
                format_args!("missing the route path: it comes first, e.g. {USAGE}"),
            );
            None
        }
    };
    let path_params = path
        .as_ref()
        .map(|path| path::check_literal(path, errors))
        .unwrap_or_default();

    let mut method = None;
    let mut requires_auth = None;
    let mut middleware = Vec::new();
    let mut openapi = None;
    let mut mcp = None;
    meta::read_keys(
        entries,
        errors,
        "`api_route`",
        KEYS,
        |key, entry, errors| match key {
            "method" => method = Some(entry.one_of(errors, &Method::CHOICES, true)),
            "requires_auth" => {
                requires_auth = entry.value::<syn::LitBool>(errors, "`true` or `false`");
            }
            "middleware" => middleware = parse_middleware(entry, errors),
            "openapi" => {
                openapi = entry
                    .list(errors, "openapi(summary = \"...\", tags(\"Items\"))")
                    .map(|list| openapi::parse(list, &path_params, errors));
            }
            "mcp" => mcp = mcp::parse(entry, errors),
            _ => unreachable!("`{key}` is in KEYS"),
        },
    );
    if method.is_none() {
        errors.at(
            Span::call_site(),
            "missing `method = \"...\"`: one of \"GET\", \"POST\", \"PUT\", \"PATCH\", \
             \"DELETE\", \"ALL\"",
        );
    }
    Some(RouteArgs {
        path: path?,
        method: method.flatten()?,
        requires_auth: requires_auth.is_none_or(|lit| lit.value),
        middleware,
        openapi,
        mcp,
    })
}

fn parse_middleware(entry: &Entry, errors: &mut Errors) -> Vec<syn::Path> {
    let example = "middleware(log_request, auth::check)";
    let Some(list) = entry.list(errors, example) else {
        return Vec::new();
    };
    meta::split_list(list, errors)
        .into_iter()
        .filter_map(|item| match syn::parse2::<syn::Path>(item.clone()) {
            Ok(path) => Some(path),
            Err(_) => {
                errors.spanned(
                    item,
                    format_args!(
                        "middleware must be a path to a function of actix-web's \
                         `middleware::from_fn` shape, e.g. {example}"
                    ),
                );
                None
            }
        })
        .collect()
}
