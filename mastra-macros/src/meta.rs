//! A forgiving reader for attribute lists: `"lit"`, `key`, `key = value`, `key(...)` and `(...)`,
//! separated by commas.
//!
//! Each comma-separated entry is read on its own, so a mistake in one entry is reported and the
//! rest are still checked. Values stay as tokens until the grammar that knows their type reads
//! them with [`Entry::value`] and friends.

use std::fmt::Display;

use proc_macro2::{Delimiter, Group, Ident, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::Parse;

use crate::errors::Errors;

/// One comma-separated entry of an attribute list.
pub(crate) enum Entry {
    /// A literal on its own, such as the route path.
    Lit(syn::Lit),
    /// `key`
    Flag(Ident),
    /// `key = value`
    Value {
        /// The key.
        key: Ident,
        /// Everything after `=`, possibly empty.
        value: TokenStream,
    },
    /// `key(...)`
    List {
        /// The key.
        key: Ident,
        /// The parenthesised group.
        group: Group,
    },
    /// `(...)`: one element of `parameters(...)` or `responses(...)`.
    Tuple(Group),
    /// Anything else.
    Invalid(TokenStream),
}

impl Entry {
    /// The key of a `key`, `key = value` or `key(...)` entry.
    pub(crate) fn key(&self) -> Option<&Ident> {
        match self {
            Entry::Flag(key) | Entry::Value { key, .. } | Entry::List { key, .. } => Some(key),
            Entry::Lit(_) | Entry::Tuple(_) | Entry::Invalid(_) => None,
        }
    }

    /// The value of `key = value`, read as `T`; `expected` says what is allowed, for example
    /// "`true` or `false`". Other shapes and unreadable values are reported.
    pub(crate) fn value<T: Parse>(&self, errors: &mut Errors, expected: &str) -> Option<T> {
        match self {
            Entry::Value { key, value } if value.is_empty() => {
                errors.spanned(
                    key,
                    format_args!("`{key}` is missing its value: expected {expected}"),
                );
                None
            }
            Entry::Value { key, value } => match syn::parse2::<T>(value.clone()) {
                Ok(parsed) => Some(parsed),
                Err(_) => {
                    errors.spanned(value, format_args!("`{key}` expects {expected}"));
                    None
                }
            },
            _ => {
                self.wrong_shape(errors, format_args!("`key = value` with {expected}"));
                None
            }
        }
    }

    /// The contents of `key(...)`; other shapes are reported with `example` as the fix.
    pub(crate) fn list(&self, errors: &mut Errors, example: &str) -> Option<TokenStream> {
        match self {
            Entry::List { group, .. } => Some(group.stream()),
            _ => {
                self.wrong_shape(errors, format_args!("a list: {example}"));
                None
            }
        }
    }

    /// `key = "..."` where the string is one of `choices` (compared ignoring letter case when
    /// `ignore_case`); anything else is reported with the list of choices.
    pub(crate) fn one_of<T: Copy>(
        &self,
        errors: &mut Errors,
        choices: &[(&str, T)],
        ignore_case: bool,
    ) -> Option<T> {
        let listed = choices
            .iter()
            .map(|(name, _)| format!("\"{name}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let lit = self.value::<syn::LitStr>(errors, &format!("one of {listed}"))?;
        let text = lit.value();
        let found = choices.iter().find(|(name, _)| {
            if ignore_case {
                name.eq_ignore_ascii_case(&text)
            } else {
                *name == text
            }
        });
        if found.is_none() {
            let key = self.key().map(ToString::to_string).unwrap_or_default();
            errors.spanned(
                &lit,
                format_args!("unknown `{key}` value \"{text}\"; expected one of {listed}"),
            );
        }
        found.map(|(_, value)| *value)
    }

    /// `key` (meaning `true`) or `key = true|false`.
    pub(crate) fn flag(&self, errors: &mut Errors) -> Option<bool> {
        match self {
            Entry::Flag(_) => Some(true),
            Entry::Value { .. } => self
                .value::<syn::LitBool>(errors, "`true` or `false`")
                .map(|lit| lit.value),
            _ => {
                self.wrong_shape(errors, "`key` or `key = true|false`");
                None
            }
        }
    }

    fn wrong_shape(&self, errors: &mut Errors, wanted: impl Display) {
        match self.key() {
            Some(key) => errors.spanned(self, format_args!("`{key}` takes {wanted}")),
            None => errors.spanned(self, format_args!("expected {wanted}")),
        }
    }
}

impl ToTokens for Entry {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Entry::Lit(lit) => lit.to_tokens(tokens),
            Entry::Flag(key) => key.to_tokens(tokens),
            Entry::Value { key, value } => {
                key.to_tokens(tokens);
                value.to_tokens(tokens);
            }
            Entry::List { key, group } => {
                key.to_tokens(tokens);
                group.to_tokens(tokens);
            }
            Entry::Tuple(group) => group.to_tokens(tokens),
            Entry::Invalid(rest) => rest.to_tokens(tokens),
        }
    }
}

/// Splits `tokens` at top-level commas (commas inside `<...>` of a type do not split) into
/// non-empty chunks. An empty entry (`a,,b`) is reported; one trailing comma is allowed.
pub(crate) fn split_list(tokens: TokenStream, errors: &mut Errors) -> Vec<TokenStream> {
    let mut chunks = Vec::new();
    let mut current = Vec::new();
    let mut angle_depth = 0usize;
    let mut after_joint_minus = false;
    for tree in tokens {
        if let TokenTree::Punct(punct) = &tree {
            let joint_minus = punct.as_char() == '-' && punct.spacing() == Spacing::Joint;
            match punct.as_char() {
                ',' if angle_depth == 0 => {
                    if current.is_empty() {
                        errors.at(punct.span(), "unexpected `,`: expected an entry before it");
                    } else {
                        chunks.push(current.drain(..).collect());
                    }
                    after_joint_minus = false;
                    continue;
                }
                '<' => angle_depth += 1,
                // `->` in a function type is not a closing angle bracket.
                '>' if !after_joint_minus => angle_depth = angle_depth.saturating_sub(1),
                _ => {}
            }
            after_joint_minus = joint_minus;
        } else {
            after_joint_minus = false;
        }
        current.push(tree);
    }
    if !current.is_empty() {
        chunks.push(current.into_iter().collect());
    }
    chunks
}

/// Splits `tokens` into entries and classifies each.
pub(crate) fn parse_entries(tokens: TokenStream, errors: &mut Errors) -> Vec<Entry> {
    split_list(tokens, errors)
        .into_iter()
        .map(classify)
        .collect()
}

fn classify(chunk: TokenStream) -> Entry {
    let trees: Vec<TokenTree> = chunk.clone().into_iter().collect();
    match trees.as_slice() {
        [TokenTree::Literal(_)] => match syn::parse2::<syn::Lit>(chunk.clone()) {
            Ok(lit) => Entry::Lit(lit),
            Err(_) => Entry::Invalid(chunk),
        },
        [TokenTree::Ident(key)] => Entry::Flag(key.clone()),
        [TokenTree::Ident(key), TokenTree::Group(group)]
            if group.delimiter() == Delimiter::Parenthesis =>
        {
            Entry::List {
                key: key.clone(),
                group: group.clone(),
            }
        }
        [TokenTree::Ident(key), TokenTree::Punct(eq), rest @ ..]
            if eq.as_char() == '=' && eq.spacing() == Spacing::Alone =>
        {
            Entry::Value {
                key: key.clone(),
                value: rest.iter().cloned().collect(),
            }
        }
        [TokenTree::Group(group)] if group.delimiter() == Delimiter::Parenthesis => {
            Entry::Tuple(group.clone())
        }
        _ => Entry::Invalid(chunk),
    }
}

/// Remembers which keys were given in one list, to report repeats.
#[derive(Default)]
struct SeenKeys {
    seen: Vec<String>,
}

impl SeenKeys {
    /// Whether `key` is given for the first time; a repeat is reported at `key`.
    fn first(&mut self, key: &Ident, errors: &mut Errors) -> bool {
        let name = key.to_string();
        if self.seen.contains(&name) {
            errors.spanned(key, format_args!("duplicate `{name}`: give each key once"));
            false
        } else {
            self.seen.push(name);
            true
        }
    }
}

/// Reads the keys of one list: each entry must be `key`, `key = value` or `key(...)` with a
/// key from `allowed`, given once. `read` is called for every such entry; everything else is
/// reported with `context` ("`openapi`", "response") in the message.
pub(crate) fn read_keys(
    entries: impl IntoIterator<Item = Entry>,
    errors: &mut Errors,
    context: &str,
    allowed: &[&str],
    mut read: impl FnMut(&str, &Entry, &mut Errors),
) {
    let mut seen = SeenKeys::default();
    for entry in entries {
        let Some(key) = entry.key() else {
            not_a_key(errors, &entry, context, allowed);
            continue;
        };
        let name = key.to_string();
        if !allowed.contains(&name.as_str()) {
            unknown_key(errors, key, context, allowed);
        } else if seen.first(key, errors) {
            read(&name, &entry, errors);
        }
    }
}

/// Reports an unknown `key` in `context`, listing the allowed keys.
fn unknown_key(errors: &mut Errors, key: &Ident, context: &str, allowed: &[&str]) {
    let allowed = allowed
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    errors.spanned(
        key,
        format_args!("unknown {context} key `{key}`; expected one of: {allowed}"),
    );
}

/// Reports an entry that is not `key`, `key = value` or `key(...)` in `context`.
fn not_a_key(errors: &mut Errors, entry: &Entry, context: &str, allowed: &[&str]) {
    let allowed = allowed.join(", ");
    match entry {
        Entry::Lit(_) => errors.spanned(
            entry,
            format_args!("unexpected literal in {context}; expected one of: {allowed}"),
        ),
        _ => errors.spanned(
            entry,
            format_args!("expected `key = value` in {context}; allowed keys: {allowed}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn kinds(tokens: TokenStream) -> (Vec<&'static str>, Errors) {
        let mut errors = Errors::default();
        let kinds = parse_entries(tokens, &mut errors)
            .iter()
            .map(|entry| match entry {
                Entry::Lit(_) => "lit",
                Entry::Flag(_) => "flag",
                Entry::Value { .. } => "value",
                Entry::List { .. } => "list",
                Entry::Tuple(_) => "tuple",
                Entry::Invalid(_) => "invalid",
            })
            .collect();
        (kinds, errors)
    }

    #[test]
    fn entries_are_classified_by_shape() {
        let (kinds, errors) = kinds(quote!("/x", a, b = 1, c(d), (e = 2), f g,));
        assert_eq!(kinds, ["lit", "flag", "value", "list", "tuple", "invalid"]);
        assert!(errors.is_empty());
    }

    #[test]
    fn commas_inside_generic_arguments_do_not_split() {
        let mut errors = Errors::default();
        let chunks = split_list(
            quote!(body = HashMap<String, Vec<u8>>, f = fn(u8) -> Option<u8>, x = 1),
            &mut errors,
        );
        assert_eq!(chunks.len(), 3, "{chunks:?}");
    }

    #[test]
    fn an_empty_entry_is_reported() {
        let (kinds, errors) = kinds(quote!(a,, b));
        assert_eq!(kinds, ["flag", "flag"]);
        assert!(!errors.is_empty());
    }
}
