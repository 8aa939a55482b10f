//! The annotated function, read into a [`Handler`]: its name, argument and return types, and
//! doc comments, after checking it can be a route handler.

use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, FnArg, ReturnType, Signature, Type, Visibility};

use crate::errors::Errors;

/// What the expansion needs to know about the function.
pub(crate) struct Handler {
    pub(crate) ident: Ident,
    /// Argument types, in order (patterns such as `Path(id)` are dropped).
    pub(crate) inputs: Vec<Type>,
    /// The return type; `None` when the function returns `()` implicitly.
    pub(crate) output: Option<Type>,
    pub(crate) docs: Docs,
}

/// Summary and description taken from doc comments.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Docs {
    /// The first paragraph, its lines joined with a space.
    pub(crate) summary: Option<String>,
    /// The other paragraphs: lines joined with `\n`, paragraphs with `\n\n`.
    pub(crate) description: Option<String>,
}

/// The annotated function as far as the expansion reads it: its attributes and signature. The
/// body is checked to be a block and otherwise left as tokens: the function is emitted as
/// written and the compiler parses the body anyway, so parsing it here too (as `syn::ItemFn`
/// does) would only slow every build down, more so the longer the handler.
pub(crate) struct RouteFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) sig: Signature,
}

impl Parse for RouteFn {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        input.parse::<Visibility>()?;
        let sig: Signature = input.parse()?;
        let body: proc_macro2::Group = input.parse()?;
        if body.delimiter() != proc_macro2::Delimiter::Brace {
            return Err(syn::Error::new(body.span(), "expected the function's body"));
        }
        Ok(Self { attrs, sig })
    }
}

/// Checks that `item` is a free, non-generic `async fn` and reads it.
pub(crate) fn parse(item: &RouteFn, errors: &mut Errors) -> Handler {
    let sig = &item.sig;
    if sig.asyncness.is_none() {
        errors.spanned(
            sig.fn_token,
            "#[api_route] needs an `async fn`: write `async fn` here",
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(unsafety, "#[api_route] functions cannot be `unsafe`");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.spanned(
            &sig.generics,
            "#[api_route] functions cannot be generic: a route needs one concrete handler, \
             so remove the type, lifetime and const parameters",
        );
    }
    let mut inputs = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.spanned(
                receiver,
                "#[api_route] goes on a free function, not a method: remove the `self` receiver",
            ),
            FnArg::Typed(typed) => inputs.push((*typed.ty).clone()),
        }
    }
    Handler {
        ident: sig.ident.clone(),
        inputs,
        output: match &sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, ty) => Some((**ty).clone()),
        },
        docs: docs(&item.attrs),
    }
}

/// Whether `ty` mentions `impl Trait` anywhere; such types cannot be named in assertions.
pub(crate) fn has_impl_trait(ty: &Type) -> bool {
    fn scan(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tree| match tree {
            TokenTree::Ident(ident) => ident == "impl",
            TokenTree::Group(group) => scan(group.stream()),
            _ => false,
        })
    }
    scan(ty.to_token_stream())
}

/// Reads `///` comments (and `#[doc = "..."]` string attributes): the first paragraph is the
/// summary, the rest the description.
pub(crate) fn docs(attrs: &[syn::Attribute]) -> Docs {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("doc")) {
        if let syn::Meta::NameValue(syn::MetaNameValue {
            value:
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }),
            ..
        }) = &attr.meta
        {
            // Block comments arrive as one attribute with several lines.
            for line in text.value().split('\n') {
                let line = line.strip_suffix('\r').unwrap_or(line);
                lines.push(line.strip_prefix(' ').unwrap_or(line).to_owned());
            }
        }
    }
    let mut paragraphs: Vec<Vec<String>> = Vec::new();
    let mut current = Vec::new();
    for line in lines {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    let mut paragraphs = paragraphs.into_iter();
    let summary = paragraphs.next().map(|lines| {
        lines
            .iter()
            .map(|line| line.trim())
            .collect::<Vec<_>>()
            .join(" ")
    });
    let description = paragraphs
        .map(|lines| lines.join("\n"))
        .collect::<Vec<_>>()
        .join("\n\n");
    Docs {
        summary,
        description: (!description.is_empty()).then_some(description),
    }
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    fn docs_of(item: RouteFn) -> Docs {
        docs(&item.attrs)
    }

    #[test]
    fn first_paragraph_is_the_summary_and_the_rest_the_description() {
        let docs = docs_of(parse_quote! {
            /// Get item
            /// by ID
            ///
            /// Retrieves a single item
            /// by its identifier.
            ///
            ///
            ///     indented stays indented
            async fn f() {}
        });
        assert_eq!(docs.summary.as_deref(), Some("Get item by ID"));
        assert_eq!(
            docs.description.as_deref(),
            Some("Retrieves a single item\nby its identifier.\n\n    indented stays indented")
        );
    }

    #[test]
    fn no_doc_comment_gives_neither() {
        assert_eq!(
            docs_of(parse_quote! { #[inline] async fn f() {} }),
            Docs::default()
        );
    }

    #[test]
    fn block_doc_comments_and_doc_attributes_count() {
        let docs = docs_of(parse_quote! {
            #[doc = "Summary"]
            /** body line one
            body line two */
            async fn f() {}
        });
        assert_eq!(
            docs.summary.as_deref(),
            Some("Summary body line one body line two")
        );
        assert_eq!(docs.description, None);
    }

    #[test]
    fn impl_trait_is_found_at_any_depth() {
        assert!(has_impl_trait(&parse_quote!(impl Responder)));
        assert!(has_impl_trait(&parse_quote!(
            Result<impl Responder, ApiError>
        )));
        assert!(!has_impl_trait(&parse_quote!(Result<Json<Item>, ApiError>)));
    }

    #[test]
    fn every_signature_problem_is_reported() {
        let mut errors = Errors::default();
        let handler = parse(
            &parse_quote! { unsafe fn f<T>(&self, Path(id): Path<String>) -> T {} },
            &mut errors,
        );
        assert_eq!(
            errors
                .to_compile_errors()
                .to_string()
                .matches("compile_error")
                .count(),
            4
        );
        assert_eq!(handler.inputs.len(), 1);
    }
}
