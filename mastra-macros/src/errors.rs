//! The error sink: every check writes here, and everything is reported together at the end.

use std::fmt::Display;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;

/// Collects compile errors so one run of the macro reports every mistake it finds.
#[derive(Default)]
pub(crate) struct Errors {
    errors: Vec<syn::Error>,
}

impl Errors {
    /// Records an error covering `tokens`.
    pub(crate) fn spanned<T: ToTokens>(&mut self, tokens: T, message: impl Display) {
        self.errors.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error at `span`.
    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    /// Whether nothing has been recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// All errors as `compile_error!` invocations, one per mistake.
    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        let mut combined: Option<syn::Error> = None;
        for error in &self.errors {
            match &mut combined {
                Some(all) => all.combine(error.clone()),
                None => combined = Some(error.clone()),
            }
        }
        combined
            .map(|error| error.to_compile_error())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recorded_error_becomes_one_compile_error() {
        let mut errors = Errors::default();
        assert!(errors.is_empty());
        assert!(errors.to_compile_errors().is_empty());
        errors.at(Span::call_site(), "first");
        errors.spanned(quote::quote!(a b), "second");
        let text = errors.to_compile_errors().to_string();
        assert_eq!(text.matches("compile_error").count(), 2, "{text}");
        assert!(
            text.contains("\"first\"") && text.contains("\"second\""),
            "{text}"
        );
    }
}
