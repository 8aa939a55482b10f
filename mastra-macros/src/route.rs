//! The whole attribute: parse and check the arguments and the function, then expand, or
//! report every problem found. The function itself is always emitted unchanged, so one mistake
//! does not turn into "cannot find function" errors elsewhere.

use proc_macro2::TokenStream;
use quote::quote;

use crate::{args, errors::Errors, expand, handler, handler::RouteFn};

/// `#[api_route(attr)] item`, on `proc_macro2` tokens.
pub(crate) fn api_route(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = args::parse(attr, &mut errors);
    let handler = match syn::parse2::<RouteFn>(item.clone()) {
        Ok(function) => Some(handler::parse(&function, &mut errors)),
        Err(error) => {
            errors.at(
                error.span(),
                "#[api_route] goes on a free `async fn`, e.g. \
                 `async fn get_item(Path(id): Path<String>) -> HttpResponse`",
            );
            None
        }
    };
    let generated = match (args, handler) {
        (Some(args), Some(handler)) if errors.is_empty() => expand::route(&args, &handler),
        _ => errors.to_compile_errors(),
    };
    quote!(#item #generated)
}
