//! Keeps the top-level modules of `mastra-runtime/src` in one-way layers.
//!
//! docs/architecture.md describes the runtime as a stack of layers: foundations at the bottom,
//! then the route model, the features, the application, the server assembly and the facade. A
//! module may use the modules below it, never those beside or above it. Prose alone cannot stop
//! that from decaying one convenient `use` at a time, so this test reads every source file of
//! the runtime with `syn` and fails, naming file, line and path, when a module imports one of
//! equal or higher rank, or when the modules on disk and the table below disagree.
//!
//! The table is [`LAYERS`]: layers bottom to top, each with its modules in an allowed order.
//! A module's rank is its position in the flattened table, and `A` may refer to `B` only when
//! `B` comes earlier. To add, rename or move a module, edit that table (and
//! docs/architecture.md) in the same change.
//!
//! What counts as a reference: every `use` leaf (grouped trees and globs included) and every
//! path in types, expressions, patterns and macro paths that starts with `crate::`,
//! `mastra_runtime::`, `self::` or `super::` (resolved against the file's module, so
//! `super::super::x` counts where it lands), plus `crate::a::b` token sequences inside macro
//! invocations. A name the crate root re-exports (`crate::MastraError`) counts as its module.
//! Test code is skipped: items under `#[cfg(test)]` or `#[test]`, and files only compiled as
//! test modules (`#[cfg(test)] mod tests;`). `pub(in crate::x)` visibility is not an import.
//!
//! `cargo test -p mastra-tests --test module_layers -- --nocapture` prints the module graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, ImplItem, Item, ItemMod, ItemUse, Meta, TraitItem, UseTree};

/// The layers of `mastra-runtime/src`, bottom to top, each with its modules in an allowed
/// order. A module may refer only to modules listed before it (lower rank).
#[rustfmt::skip]
const LAYERS: &[(&str, &[&str])] = &[
    ("foundations", &["error", "app", "schema", "sse", "disconnect", "background", "logging", "fuzzing"]),
    ("route model", &["describe", "route", "extract"]),
    ("features", &["model", "memory", "auth", "openapi", "tool", "agent", "workflow", "mcp"]),
    ("application", &["config", "mastra"]),
    ("server assembly", &["server", "chat"]),
    ("facade", &["builder", "prelude"]),
];

/// Layers as the checker takes them (the real table, or a small one in the unit tests).
type Layers<'a> = &'a [(&'a str, &'a [&'a str])];

// ---------------------------------------------------------------------------------------------
// Collecting references from one file
// ---------------------------------------------------------------------------------------------

/// Where a crate-relative path lands, seen from the crate root.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    /// The first segment below the crate root: a top-level module or a name lib.rs defines.
    Root(String),
    /// A glob of the crate root itself (`use crate::*`, `use super::*` in a top-level module).
    RootGlob,
}

/// One reference to a crate path in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    line: usize,
    /// The path as written, flattened for `use` trees (`use crate::server::config::X`).
    text: String,
    target: Target,
}

/// A `#[cfg(test)] mod name;` (or `mod name { .. }`) found in a file: its file or directory is
/// only compiled for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TestMod {
    /// Inline modules around the declaration, within the file.
    inline: Vec<String>,
    name: String,
    /// A `#[path = ".."]` attribute on the declaration.
    path_attr: Option<String>,
}

/// Walks one file and collects its crate references and test-only module declarations.
struct Collector {
    /// Module path of the file from the crate root (`route/table.rs` -> `["route", "table"]`).
    file_module: Vec<String>,
    /// Inline modules entered so far within the file.
    inline: Vec<String>,
    refs: Vec<Reference>,
    test_mods: Vec<TestMod>,
}

impl Collector {
    fn new(file_module: Vec<String>) -> Self {
        Collector {
            file_module,
            inline: Vec::new(),
            refs: Vec::new(),
            test_mods: Vec::new(),
        }
    }

    /// Module path of the current position.
    fn module(&self) -> Vec<String> {
        self.file_module
            .iter()
            .chain(&self.inline)
            .cloned()
            .collect()
    }

    fn record(&mut self, segments: &[(String, Span)], glob: bool, text: String) {
        let Some((absolute, span)) = resolve(&self.module(), segments) else {
            return;
        };
        let target = match absolute.first() {
            Some(first) => Target::Root(first.clone()),
            None if glob => Target::RootGlob,
            None => return,
        };
        self.refs.push(Reference {
            line: span.start().line,
            text,
            target,
        });
    }

    /// Finds `crate::a::b` (also `$crate::`, `super::`, `self::`, `mastra_runtime::`) token
    /// sequences in a macro invocation's tokens.
    fn scan_tokens(&mut self, tokens: TokenStream, mac: &str) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut k = 0;
        while k < tokens.len() {
            match &tokens[k] {
                TokenTree::Group(group) => self.scan_tokens(group.stream(), mac),
                TokenTree::Ident(ident)
                    if is_path_start(&ident.to_string())
                        && !path_sep_at(&tokens, k.wrapping_sub(2)) =>
                {
                    let mut segments = vec![(ident.to_string(), ident.span())];
                    let mut j = k + 1;
                    while path_sep_at(&tokens, j) {
                        let Some(TokenTree::Ident(next)) = tokens.get(j + 2) else {
                            break;
                        };
                        segments.push((next.to_string(), next.span()));
                        j += 3;
                    }
                    if segments.len() > 1 {
                        let text = format!("{} (in {mac}!)", render(false, &segments));
                        self.record(&segments, false, text);
                        k = j;
                        continue;
                    }
                }
                _ => {}
            }
            k += 1;
        }
    }
}

fn is_path_start(ident: &str) -> bool {
    matches!(ident, "crate" | "self" | "super" | "mastra_runtime")
}

/// Whether `tokens[at]` and `tokens[at + 1]` are the two colons of a `::`.
fn path_sep_at(tokens: &[TokenTree], at: usize) -> bool {
    let colon = |t: Option<&TokenTree>, joint: bool| match t {
        Some(TokenTree::Punct(p)) => {
            p.as_char() == ':' && (!joint || p.spacing() == proc_macro2::Spacing::Joint)
        }
        _ => false,
    };
    colon(tokens.get(at), true) && colon(tokens.get(at.wrapping_add(1)), false)
}

/// Resolves a path against the module it is written in. Returns the absolute path from the
/// crate root and the span naming its first segment below the root, or `None` when the path
/// is not crate-relative (a local name, an external crate, a prelude item).
fn resolve(module: &[String], segments: &[(String, Span)]) -> Option<(Vec<String>, Span)> {
    let (first, first_span) = segments.first()?;
    let (mut base, mut i) = match first.as_str() {
        "crate" | "mastra_runtime" => (Vec::new(), 1),
        "self" => (module.to_vec(), 1),
        "super" => (module.to_vec(), 0),
        _ => return None,
    };
    let mut span = *first_span;
    while let Some((segment, segment_span)) = segments.get(i) {
        if segment != "super" {
            break;
        }
        // `super` above the crate root does not compile; nothing to check.
        base.pop()?;
        span = *segment_span;
        i += 1;
    }
    if let Some((_, next)) = segments.get(i) {
        span = *next;
    }
    // A trailing `self` (`use crate::route::{self}`) names its parent.
    let rest = segments[i..]
        .iter()
        .map(|(s, _)| s.clone())
        .filter(|s| s != "self");
    base.extend(rest);
    Some((base, span))
}

/// `crate::a::b` from segments.
fn render(leading_colon: bool, segments: &[(String, Span)]) -> String {
    let joined = segments
        .iter()
        .map(|(s, _)| s.as_str())
        .collect::<Vec<_>>()
        .join("::");
    if leading_colon {
        format!("::{joined}")
    } else {
        joined
    }
}

/// One leaf of a `use` tree.
struct UseLeaf {
    segments: Vec<(String, Span)>,
    glob: bool,
    /// The name the leaf binds (`X` in `a::X`, `Y` in `a::X as Y`); `None` for globs.
    binds: Option<String>,
}

/// Flattens a `use` tree into its leaves (`crate::{a::X, b::{Y, Z}}` -> three leaves).
fn flatten_use(tree: &UseTree, prefix: &mut Vec<(String, Span)>, out: &mut Vec<UseLeaf>) {
    let mut leaf = |prefix: &Vec<(String, Span)>, ident: &syn::Ident, binds: &syn::Ident| {
        let mut segments = prefix.clone();
        segments.push((ident.to_string(), ident.span()));
        let binds = if binds == "self" {
            prefix.last().map(|(s, _)| s.clone())
        } else {
            Some(binds.to_string())
        };
        out.push(UseLeaf {
            segments,
            glob: false,
            binds,
        });
    };
    match tree {
        UseTree::Path(p) => {
            prefix.push((p.ident.to_string(), p.ident.span()));
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) => leaf(prefix, &n.ident, &n.ident),
        UseTree::Rename(r) => leaf(prefix, &r.ident, &r.rename),
        UseTree::Glob(_) => {
            out.push(UseLeaf {
                segments: prefix.clone(),
                glob: true,
                binds: None,
            });
        }
        UseTree::Group(g) => {
            for item in &g.items {
                flatten_use(item, prefix, out);
            }
        }
    }
}

/// Text of a `use` leaf as written: `use crate::server::config::X`, `use crate::route::*`.
fn render_use(leading_colon: bool, leaf: &UseLeaf) -> String {
    let mut segments = leaf.segments.clone();
    if segments.last().is_some_and(|(s, _)| s == "self") && segments.len() > 1 {
        segments.pop();
    }
    let glob = if leaf.glob { "::*" } else { "" };
    format!("use {}{glob}", render(leading_colon, &segments))
}

/// Whether a `cfg` predicate can only hold when compiling tests.
fn cfg_requires_test(meta: &Meta) -> bool {
    match meta {
        Meta::Path(path) => path.is_ident("test"),
        Meta::List(list) => {
            let Ok(nested) =
                list.parse_args_with(Punctuated::<Meta, syn::Token![,]>::parse_terminated)
            else {
                return false;
            };
            if list.path.is_ident("all") {
                nested.iter().any(cfg_requires_test)
            } else if list.path.is_ident("any") {
                !nested.is_empty() && nested.iter().all(cfg_requires_test)
            } else {
                false
            }
        }
        Meta::NameValue(_) => false,
    }
}

/// `#[cfg(test)]`-like or `#[test]`-like (`#[tokio::test]`, `#[actix_web::test]`) attributes.
fn is_test_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let path = attr.path();
        if path.is_ident("cfg") {
            attr.parse_args::<Meta>()
                .is_ok_and(|meta| cfg_requires_test(&meta))
        } else {
            path.segments.last().is_some_and(|s| s.ident == "test")
        }
    })
}

fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| match &attr.meta {
        Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item(&mut self, item: &'ast Item) {
        if is_test_only(item_attrs(item)) {
            if let Item::Mod(m) = item {
                self.test_mods.push(TestMod {
                    inline: self.inline.clone(),
                    name: m.ident.to_string(),
                    path_attr: path_attr(&m.attrs),
                });
            }
            return;
        }
        visit::visit_item(self, item);
    }

    fn visit_item_mod(&mut self, m: &'ast ItemMod) {
        if let Some((_, items)) = &m.content {
            self.inline.push(m.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.inline.pop();
        }
    }

    fn visit_impl_item(&mut self, item: &'ast ImplItem) {
        let attrs = match item {
            ImplItem::Const(i) => &i.attrs,
            ImplItem::Fn(i) => &i.attrs,
            ImplItem::Type(i) => &i.attrs,
            ImplItem::Macro(i) => &i.attrs,
            _ => return visit::visit_impl_item(self, item),
        };
        if !is_test_only(attrs) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_trait_item(&mut self, item: &'ast TraitItem) {
        let attrs = match item {
            TraitItem::Const(i) => &i.attrs,
            TraitItem::Fn(i) => &i.attrs,
            TraitItem::Type(i) => &i.attrs,
            TraitItem::Macro(i) => &i.attrs,
            _ => return visit::visit_trait_item(self, item),
        };
        if !is_test_only(attrs) {
            visit::visit_trait_item(self, item);
        }
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if !is_test_only(&local.attrs) {
            visit::visit_local(self, local);
        }
    }

    fn visit_stmt_macro(&mut self, stmt: &'ast syn::StmtMacro) {
        if !is_test_only(&stmt.attrs) {
            visit::visit_stmt_macro(self, stmt);
        }
    }

    fn visit_item_use(&mut self, item: &'ast ItemUse) {
        let mut leaves = Vec::new();
        flatten_use(&item.tree, &mut Vec::new(), &mut leaves);
        let leading_colon = item.leading_colon.is_some();
        for leaf in &leaves {
            if leading_colon
                && leaf
                    .segments
                    .first()
                    .is_none_or(|(s, _)| s != "mastra_runtime")
            {
                continue;
            }
            let text = render_use(leading_colon, leaf);
            self.record(&leaf.segments, leaf.glob, text);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<(String, Span)> = path
            .segments
            .iter()
            .map(|s| (s.ident.to_string(), s.ident.span()))
            .collect();
        let external = path.leading_colon.is_some()
            && segments.first().is_none_or(|(s, _)| s != "mastra_runtime");
        if !external {
            let text = render(path.leading_colon.is_some(), &segments);
            self.record(&segments, false, text);
        }
        visit::visit_path(self, path);
    }

    /// `pub(in crate::x)` restricts visibility; it imports nothing.
    fn visit_vis_restricted(&mut self, _: &'ast syn::VisRestricted) {}

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit::visit_macro(self, mac);
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        // Tokens that generate code for another crate are not references of this one.
        if !matches!(
            name.as_str(),
            "quote" | "quote_spanned" | "parse_quote" | "parse_quote_spanned"
        ) {
            self.scan_tokens(mac.tokens.clone(), &name);
        }
    }
}

/// Collects the references and test-module declarations of one parsed file.
fn collect(file: &syn::File, file_module: Vec<String>) -> Collector {
    let mut collector = Collector::new(file_module);
    for item in &file.items {
        collector.visit_item(item);
    }
    collector
}

// ---------------------------------------------------------------------------------------------
// Reading a source tree
// ---------------------------------------------------------------------------------------------

/// A top-level module found on disk.
#[derive(Debug)]
struct ModuleInfo {
    /// `mastra-runtime/src/route/` or `mastra-runtime/src/error.rs`, for messages.
    shown: String,
    /// Whether lib.rs declares it under `#[cfg(test)]` (its files are skipped).
    test_only: bool,
}

/// One reference from a top-level module to another.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edge {
    from: String,
    to: String,
    file: String,
    line: usize,
    text: String,
}

/// What the checker knows about a source tree.
#[derive(Debug)]
struct Analysis {
    modules: BTreeMap<String, ModuleInfo>,
    edges: Vec<Edge>,
    /// Globs of the crate root, which hide which modules they use: (file, line, text, module).
    root_globs: Vec<(String, usize, String, String)>,
}

fn rust_files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn parse(path: &Path, shown: &str) -> syn::File {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {shown}: {e}"));
    syn::parse_file(&text).unwrap_or_else(|e| {
        let at = e.span().start();
        panic!("{shown}:{}:{}: does not parse: {e}", at.line, at.column + 1)
    })
}

/// Module path of a file below `src`: `route/table.rs` -> `[route, table]`,
/// `route/mod.rs` -> `[route]`.
fn module_path_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    if last != "mod.rs" && last != "lib.rs" {
        parts.push(last.trim_end_matches(".rs").to_owned());
    }
    parts
}

/// The directory of a file's child modules: `route/mod.rs` -> `route/`, `route/table.rs` ->
/// `route/table/`.
fn child_dir(file: &Path) -> PathBuf {
    let parent = file.parent().expect("a file in a directory");
    match file.file_name().and_then(|n| n.to_str()) {
        Some("mod.rs" | "lib.rs") => parent.to_path_buf(),
        _ => parent.join(file.file_stem().expect("a file stem")),
    }
}

/// Files and directories a `#[cfg(test)] mod` declaration in `file` makes test-only.
fn test_only_paths(file: &Path, decl: &TestMod) -> (Vec<PathBuf>, Vec<PathBuf>) {
    if let Some(path) = &decl.path_attr {
        let mut base = if decl.inline.is_empty() {
            file.parent().expect("a file in a directory").to_path_buf()
        } else {
            child_dir(file)
        };
        base.extend(&decl.inline);
        let target = base.join(path);
        let dir = child_dir(&target);
        return (vec![target], vec![dir]);
    }
    let mut dir = child_dir(file);
    dir.extend(&decl.inline);
    let dir = dir.join(&decl.name);
    (
        vec![dir.with_extension("rs"), dir.join("mod.rs")],
        vec![dir],
    )
}

/// Reads every file of the tree at `src` (shown as `shown_root` in messages).
fn analyze(src: &Path, shown_root: &str) -> Analysis {
    let show = |path: &Path| {
        let relative = path.strip_prefix(src).expect("a file below src");
        let parts: Vec<_> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        format!("{shown_root}/{}", parts.join("/"))
    };

    // Top-level modules: `<name>.rs` (not lib.rs) and `<name>/`.
    let mut names = BTreeSet::new();
    let entries = std::fs::read_dir(src).unwrap_or_else(|e| panic!("read {shown_root}: {e}"));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let name = path
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        if path.is_dir() || (path.extension().is_some_and(|e| e == "rs") && name != "lib") {
            names.insert(name);
        }
    }

    let lib_path = src.join("lib.rs");
    let lib = parse(&lib_path, &show(&lib_path));

    // Every file of every module, parsed once.
    let mut files = Vec::new();
    for name in &names {
        let mut paths = Vec::new();
        let single = src.join(format!("{name}.rs"));
        if single.is_file() {
            paths.push(single);
        }
        if src.join(name).is_dir() {
            rust_files_under(&src.join(name), &mut paths);
        }
        paths.sort();
        for path in paths {
            let shown = show(&path);
            let ast = parse(&path, &shown);
            let module = module_path_of(path.strip_prefix(src).expect("below src"));
            let collector = collect(&ast, module);
            files.push((name.clone(), path, shown, ast, collector));
        }
    }

    // Test-only files: declared under `#[cfg(test)]` by their parent (lib.rs included).
    let mut test_files = BTreeSet::new();
    let mut test_dirs = BTreeSet::new();
    let lib_collector = collect(&lib, Vec::new());
    let declarations = std::iter::once((&lib_path, &lib_collector.test_mods))
        .chain(files.iter().map(|(_, path, _, _, c)| (path, &c.test_mods)));
    for (path, test_mods) in declarations {
        for decl in test_mods {
            let (f, d) = test_only_paths(path, decl);
            test_files.extend(f);
            test_dirs.extend(d);
        }
    }
    let is_test_file = |path: &Path, ast: &syn::File| {
        test_files.contains(path)
            || test_dirs.iter().any(|d| path.starts_with(d))
            || is_test_only(&ast.attrs)
    };

    let root_names = root_names(&lib, &names);
    let mut modules = BTreeMap::new();
    for name in &names {
        let dir = src.join(name);
        let shown = if dir.is_dir() {
            format!("{}/", show(&dir))
        } else {
            show(&src.join(format!("{name}.rs")))
        };
        let single = src.join(format!("{name}.rs"));
        let test_only = test_files.contains(&single)
            || test_files.contains(&dir.join("mod.rs"))
            || test_dirs.contains(&dir);
        modules.insert(name.clone(), ModuleInfo { shown, test_only });
    }

    let mut edges = Vec::new();
    let mut root_globs = Vec::new();
    for (from, path, shown, ast, collector) in &files {
        if is_test_file(path, ast) {
            continue;
        }
        for reference in &collector.refs {
            let targets: Vec<(&String, String)> = match &reference.target {
                Target::RootGlob => {
                    root_globs.push((
                        shown.clone(),
                        reference.line,
                        reference.text.clone(),
                        from.clone(),
                    ));
                    continue;
                }
                Target::Root(name) if names.contains(name) => {
                    vec![(name, reference.text.clone())]
                }
                Target::Root(name) => match root_names.get(name) {
                    Some(modules) => modules
                        .iter()
                        .map(|m| {
                            (
                                m,
                                format!("{} (lib.rs re-exports it from {m})", reference.text),
                            )
                        })
                        .collect(),
                    None => Vec::new(),
                },
            };
            for (to, text) in targets {
                if to != from {
                    edges.push(Edge {
                        from: from.clone(),
                        to: to.clone(),
                        file: shown.clone(),
                        line: reference.line,
                        text,
                    });
                }
            }
        }
    }
    Analysis {
        modules,
        edges,
        root_globs,
    }
}

/// Names lib.rs defines at the crate root from modules: `pub use agent::Agent` -> `Agent ->
/// {agent}`; an inline module (`__private`) -> every module it refers to.
fn root_names(lib: &syn::File, modules: &BTreeSet<String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for item in &lib.items {
        if is_test_only(item_attrs(item)) {
            continue;
        }
        match item {
            Item::Use(u) => {
                let mut leaves = Vec::new();
                flatten_use(&u.tree, &mut Vec::new(), &mut leaves);
                for leaf in leaves {
                    let names: Vec<&str> = leaf.segments.iter().map(|(s, _)| s.as_str()).collect();
                    let names = match names.first() {
                        Some(&"crate" | &"self") => &names[1..],
                        _ => &names[..],
                    };
                    if let (Some(first), Some(binds)) = (names.first(), &leaf.binds) {
                        if modules.contains(*first) {
                            map.entry(binds.clone())
                                .or_default()
                                .insert((*first).to_owned());
                        }
                    }
                }
            }
            Item::Mod(m) if m.content.is_some() => {
                let mut collector = Collector::new(Vec::new());
                collector.visit_item_mod(m);
                for reference in collector.refs {
                    if let Target::Root(name) = reference.target {
                        if modules.contains(&name) {
                            map.entry(m.ident.to_string()).or_default().insert(name);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    map
}

// ---------------------------------------------------------------------------------------------
// Checking against the layers
// ---------------------------------------------------------------------------------------------

/// Rank and layer of every module in the table, and the names listed more than once.
fn ranks<'a>(layers: Layers<'a>) -> (BTreeMap<&'a str, (usize, &'a str)>, Vec<&'a str>) {
    let mut ranks = BTreeMap::new();
    let mut duplicates = Vec::new();
    let flat = layers
        .iter()
        .flat_map(|(layer, modules)| modules.iter().map(move |m| (*m, *layer)));
    for (rank, (module, layer)) in flat.enumerate() {
        if ranks.insert(module, (rank, layer)).is_some() {
            duplicates.push(module);
        }
    }
    (ranks, duplicates)
}

/// Every way the tree breaks the layers, table problems first, then violations sorted by file
/// and line. Empty when the layering holds.
fn check(layers: Layers<'_>, analysis: &Analysis) -> Vec<String> {
    let (ranks, duplicates) = ranks(layers);
    let mut problems = Vec::new();
    for module in duplicates {
        problems.push(format!("LAYERS lists `{module}` more than once"));
    }
    let missing: Vec<String> = analysis
        .modules
        .iter()
        .filter(|(name, _)| !ranks.contains_key(name.as_str()))
        .map(|(name, info)| format!("{name} ({})", info.shown))
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "modules in the source tree but not in LAYERS: {}",
            missing.join(", ")
        ));
    }
    let ghosts: Vec<&str> = ranks
        .keys()
        .copied()
        .filter(|name| !analysis.modules.contains_key(*name))
        .collect();
    if !ghosts.is_empty() {
        problems.push(format!(
            "LAYERS names modules that do not exist in the source tree: {}",
            ghosts.join(", ")
        ));
    }

    // Leaves of one `use` on one line are reported together.
    type Key<'e> = (&'e str, usize, &'e str, &'e str);
    let mut forbidden: BTreeMap<Key<'_>, (Vec<&str>, &str, &str)> = BTreeMap::new();
    for edge in &analysis.edges {
        let (Some((from_rank, from_layer)), Some((to_rank, to_layer))) =
            (ranks.get(edge.from.as_str()), ranks.get(edge.to.as_str()))
        else {
            continue; // reported above as a module missing from the table
        };
        if to_rank >= from_rank {
            let key = (
                edge.file.as_str(),
                edge.line,
                edge.from.as_str(),
                edge.to.as_str(),
            );
            let entry = forbidden
                .entry(key)
                .or_insert((Vec::new(), from_layer, to_layer));
            if !entry.0.contains(&edge.text.as_str()) {
                entry.0.push(&edge.text);
            }
        }
    }
    let mut violations: Vec<(&str, usize, String)> = Vec::new();
    for ((file, line, from, to), (texts, from_layer, to_layer)) in forbidden {
        let text = merge_paths(&texts);
        violations.push((
            file,
            line,
            format!("{file}:{line}: {text} -> {from} ({from_layer}) imports {to} ({to_layer})"),
        ));
    }
    for (file, line, text, module) in &analysis.root_globs {
        violations.push((
            file,
            *line,
            format!(
                "{file}:{line}: {text} -> a glob of the crate root hides which modules {module} \
                 imports; name them"
            ),
        ));
    }
    violations.sort();
    violations.dedup();
    problems.extend(violations.into_iter().map(|(_, _, line)| line));
    problems
}

/// Paths written on one line as one: `use crate::a::X` and `use crate::a::Y` ->
/// `use crate::a::{X, Y}`.
fn merge_paths(texts: &[&str]) -> String {
    if let [only] = texts {
        return (*only).to_owned();
    }
    let split: Vec<Vec<&str>> = texts.iter().map(|t| t.split("::").collect()).collect();
    let mut common = 0;
    while split
        .iter()
        .all(|s| s.len() > common && s[common] == split[0][common])
    {
        common += 1;
    }
    let rest: Vec<String> = split
        .iter()
        .map(|s| match s[common..].join("::") {
            empty if empty.is_empty() => "self".to_owned(),
            rest => rest,
        })
        .collect();
    format!("{}::{{{}}}", split[0][..common].join("::"), rest.join(", "))
}

/// The module graph: each module, its layer, and the modules it refers to (`*` marks the
/// references the layers forbid, the count is the number of references).
fn graph(layers: Layers<'_>, analysis: &Analysis) -> String {
    let (ranks, _) = ranks(layers);
    let mut imports: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for edge in &analysis.edges {
        *imports
            .entry(&edge.from)
            .or_default()
            .entry(&edge.to)
            .or_default() += 1;
    }
    let mut order: Vec<&str> = layers
        .iter()
        .flat_map(|(_, modules)| modules.iter().copied())
        .filter(|m| analysis.modules.contains_key(*m))
        .collect();
    order.extend(
        analysis
            .modules
            .keys()
            .map(String::as_str)
            .filter(|m| !ranks.contains_key(m)),
    );
    let mut out = String::from(
        "module graph (module [layer] -> modules it refers to (references); `*` = forbidden by the layers):\n",
    );
    for module in order {
        let rank = ranks.get(module);
        let layer = rank.map_or("not in LAYERS", |(_, layer)| layer);
        let test_only = if analysis.modules[module].test_only {
            ", test-only"
        } else {
            ""
        };
        let targets: Vec<String> = imports
            .get(module)
            .into_iter()
            .flatten()
            .map(|(to, count)| {
                let forbidden = match (rank, ranks.get(to)) {
                    (Some((from, _)), Some((to, _))) => to >= from,
                    _ => false,
                };
                format!("{to}{} ({count})", if forbidden { "*" } else { "" })
            })
            .collect();
        let targets = if targets.is_empty() {
            "(nothing)".to_owned()
        } else {
            targets.join(", ")
        };
        out.push_str(&format!("  {module} [{layer}{test_only}] -> {targets}\n"));
    }
    out
}

fn report(problems: &[String]) -> String {
    format!(
        "mastra-runtime/src breaks its module layers (docs/architecture.md; the table is LAYERS \
         in tests/tests/module_layers.rs), {} problem(s):\n{}\n",
        problems.len(),
        problems
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

#[test]
fn runtime_modules_respect_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mastra-runtime/src");
    let analysis = analyze(&src, "mastra-runtime/src");
    eprintln!("{}", graph(LAYERS, &analysis));
    // A reader that silently found nothing would pass any table.
    assert!(
        analysis.edges.len() > 20,
        "only {} cross-module references found in mastra-runtime/src; the reader is broken",
        analysis.edges.len()
    );
    let problems = check(LAYERS, &analysis);
    assert!(problems.is_empty(), "{}", report(&problems));
}

// ---------------------------------------------------------------------------------------------
// The checker's own parts
// ---------------------------------------------------------------------------------------------

/// (line, text, target) of every reference in `source`, read as the file of `module`.
fn refs_of(source: &str, module: &[&str]) -> Vec<(usize, String, Target)> {
    let file = syn::parse_file(source).expect("test source parses");
    let module = module.iter().map(|s| s.to_string()).collect();
    collect(&file, module)
        .refs
        .into_iter()
        .map(|r| (r.line, r.text, r.target))
        .collect()
}

fn root(name: &str) -> Target {
    Target::Root(name.to_owned())
}

#[test]
fn grouped_use_trees_give_one_reference_per_leaf() {
    let source = "\
use crate::{
    a::X,
    b::{Y, inner::Z as W},
    c::*,
    d::{self},
};
use crate::*;
use std::collections::HashMap;
use ::mastra_runtime::e::V;
";
    assert_eq!(
        refs_of(source, &["m"]),
        vec![
            (2, "use crate::a::X".to_owned(), root("a")),
            (3, "use crate::b::Y".to_owned(), root("b")),
            (3, "use crate::b::inner::Z".to_owned(), root("b")),
            (4, "use crate::c::*".to_owned(), root("c")),
            (5, "use crate::d".to_owned(), root("d")),
            (7, "use crate::*".to_owned(), Target::RootGlob),
            (9, "use ::mastra_runtime::e::V".to_owned(), root("e")),
        ]
    );
}

#[test]
fn paths_in_types_expressions_and_macros_count() {
    let source = "\
fn f(x: crate::a::T) -> Vec<crate::b::U> {
    crate::c::go();
    crate::d::mac!();
    let v = vec![crate::e::K];
    let s = \"crate::f::InAString\";
    pub(in crate::g) struct Hidden;
    quote! { crate::h::Generated }
    std::mem::drop(x);
    todo!()
}
";
    let targets: Vec<(usize, Target)> = refs_of(source, &["m"])
        .into_iter()
        .map(|(line, _, target)| (line, target))
        .collect();
    assert_eq!(
        targets,
        vec![
            (1, root("a")),
            (1, root("b")),
            (2, root("c")),
            (3, root("d")),
            (4, root("e")),
        ]
    );
    let texts: Vec<String> = refs_of(source, &["m"]).into_iter().map(|r| r.1).collect();
    assert_eq!(texts[4], "crate::e::K (in vec!)");
}

#[test]
fn test_only_code_is_skipped() {
    let source = "\
use crate::kept::A;
#[cfg(test)]
mod tests { use crate::skipped::B; }
#[cfg(test)]
mod props;
#[cfg(all(test, feature = \"x\"))]
fn only_in_tests() { crate::skipped::c(); }
#[test]
fn a_test() { crate::skipped::d(); }
#[tokio::test(flavor = \"current_thread\")]
async fn an_async_test() { crate::skipped::e(); }
#[cfg(not(test))]
fn not_in_tests() { crate::kept::f(); }
#[cfg(any(test, feature = \"y\"))]
fn sometimes() { crate::kept::g(); }
struct S;
impl S {
    #[cfg(test)]
    fn helper() { crate::skipped::h(); }
    fn real() { crate::kept::i(); }
}
";
    let file = syn::parse_file(source).unwrap();
    let collector = collect(&file, vec!["m".to_owned()]);
    let lines: Vec<usize> = collector.refs.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![1, 13, 15, 20]);
    assert!(collector.refs.iter().all(|r| r.target == root("kept")));
    let declared: Vec<&str> = collector
        .test_mods
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(declared, vec!["tests", "props"]);
}

#[test]
fn super_and_self_resolve_against_the_file_module() {
    let source = "\
use super::super::server::Config;
use super::context::Context;
use self::inner::Thing;
mod nested { use super::super::super::error::E; }
fn f() { super::super::Agent::new(); }
";
    assert_eq!(
        refs_of(source, &["route", "table"]),
        vec![
            (
                1,
                "use super::super::server::Config".to_owned(),
                root("server")
            ),
            (2, "use super::context::Context".to_owned(), root("route")),
            (3, "use self::inner::Thing".to_owned(), root("route")),
            (
                4,
                "use super::super::super::error::E".to_owned(),
                root("error")
            ),
            (5, "super::super::Agent::new".to_owned(), root("Agent")),
        ]
    );
    // `use super::*` in a top-level module globs the crate root; above the root is no path.
    assert_eq!(
        refs_of("use super::*;\nuse super::super::x::Y;", &["route"]),
        vec![(1, "use super::*".to_owned(), Target::RootGlob)]
    );
}

#[test]
fn references_on_one_line_are_reported_as_one_path() {
    assert_eq!(merge_paths(&["use crate::a::X"]), "use crate::a::X");
    assert_eq!(
        merge_paths(&["use crate::a", "use crate::a::X", "use crate::a::b::Y"]),
        "use crate::a::{self, X, b::Y}"
    );
}

fn edge(from: &str, to: &str, line: usize) -> Edge {
    Edge {
        from: from.to_owned(),
        to: to.to_owned(),
        file: format!("src/{from}.rs"),
        line,
        text: format!("use crate::{to}::X"),
    }
}

fn modules(names: &[&str]) -> BTreeMap<String, ModuleInfo> {
    names
        .iter()
        .map(|n| {
            let info = ModuleInfo {
                shown: format!("src/{n}.rs"),
                test_only: false,
            };
            (n.to_string(), info)
        })
        .collect()
}

#[test]
fn ranks_reject_sideways_and_upward_edges_only() {
    const TABLE: &[(&str, &[&str])] = &[("low", &["a", "b"]), ("high", &["c"])];
    let analysis = Analysis {
        modules: modules(&["a", "b", "c"]),
        edges: vec![
            edge("c", "a", 3),  // down a layer: fine
            edge("b", "a", 1),  // earlier in the same layer: fine
            edge("a", "b", 9),  // later in the same layer: forbidden
            edge("a", "c", 2),  // up a layer: forbidden
            edge("b", "c", 12), // up a layer: forbidden
        ],
        root_globs: Vec::new(),
    };
    assert_eq!(
        check(TABLE, &analysis),
        vec![
            "src/a.rs:2: use crate::c::X -> a (low) imports c (high)",
            "src/a.rs:9: use crate::b::X -> a (low) imports b (low)",
            "src/b.rs:12: use crate::c::X -> b (low) imports c (high)",
        ]
    );
    let downward = Analysis {
        edges: vec![edge("c", "a", 3), edge("c", "b", 4), edge("b", "a", 1)],
        ..analysis
    };
    assert_eq!(check(TABLE, &downward), Vec::<String>::new());
    assert!(graph(TABLE, &downward).contains("  c [high] -> a (1), b (1)\n"));
}

#[test]
fn the_table_and_the_tree_must_name_the_same_modules() {
    const TABLE: &[(&str, &[&str])] = &[("low", &["a", "ghost"]), ("high", &["c", "a"])];
    let analysis = Analysis {
        modules: modules(&["a", "c", "extra"]),
        edges: vec![edge("extra", "c", 1)],
        root_globs: Vec::new(),
    };
    assert_eq!(
        check(TABLE, &analysis),
        vec![
            "LAYERS lists `a` more than once",
            "modules in the source tree but not in LAYERS: extra (src/extra.rs)",
            "LAYERS names modules that do not exist in the source tree: ghost",
        ]
    );
}

/// The whole pipeline on a small tree written to disk: discovery, test-only files, lib.rs
/// re-exports, and the report.
#[test]
fn a_small_tree_on_disk_is_checked_end_to_end() {
    let src = Path::new(env!("CARGO_TARGET_TMPDIR")).join("module_layers_tree/src");
    let _ = std::fs::remove_dir_all(&src);
    let write = |relative: &str, text: &str| {
        let path = src.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "lib.rs",
        "pub mod low; pub mod high; pub mod extra;\n#[cfg(test)] mod fuzz;\npub use high::Top;\n",
    );
    write("fuzz.rs", "use crate::high::Top;\n");
    write(
        "low.rs",
        "//! Low.\nuse crate::error_free::Nothing;\n\nfn f() -> crate::Top { todo!() }\n",
    );
    write(
        "high/mod.rs",
        "mod part;\n#[cfg(test)]\nmod tests;\npub struct Top;\n",
    );
    write("high/part.rs", "use crate::{low::Thing, high::Top};\n");
    write("high/tests.rs", "use crate::extra::Anything;\n");
    write("extra.rs", "");

    const TABLE: &[(&str, &[&str])] = &[("bottom", &["fuzz", "low"]), ("top", &["high"])];
    let analysis = analyze(&src, "src");
    assert!(analysis.modules["fuzz"].test_only);
    assert!(!analysis.modules["high"].test_only);
    assert_eq!(
        check(TABLE, &analysis),
        vec![
            "modules in the source tree but not in LAYERS: extra (src/extra.rs)".to_owned(),
            "src/low.rs:4: crate::Top (lib.rs re-exports it from high) -> low (bottom) imports \
             high (top)"
                .to_owned(),
        ]
    );
    assert_eq!(
        graph(TABLE, &analysis),
        "module graph (module [layer] -> modules it refers to (references); `*` = forbidden by \
         the layers):\n  fuzz [bottom, test-only] -> (nothing)\n  low [bottom] -> high* (1)\n  \
         high [top] -> low (1)\n  extra [not in LAYERS] -> (nothing)\n"
    );
}
