//! Procedural macros for `mastra-runtime`. Use them through `mastra_runtime::api_route`.

use proc_macro::TokenStream;

/// Declares an HTTP route. See `mastra_runtime` for the full grammar.
#[proc_macro_attribute]
pub fn api_route(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
