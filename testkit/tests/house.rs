//! The house rules, checked on the workspace's own source with Rust's parser (`syn`):
//! - no module uses a module that uses it back, directly or through others (in any crate: a
//!   circle of imports is one module cut in pieces);
//! - no function is longer than 80 lines, anywhere: sources, tests and benchmarks of every
//!   crate.
//!
//! `shared/tests/layers.rs` checks the library's layers at the top level; this checks every
//! file of every crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The crates' source folders, from the workspace root.
const CRATES: &[&str] = &[
    "shared/src",
    "functions/src",
    "tools/operator/src",
    "tools/local/src",
    "tools/bench/src",
    "testkit/src",
    "contracts/src",
];

/// The crates' folders, whole: no function in them may be longer than [`MAX_FUNCTION_LINES`].
const FOLDERS: &[&str] = &["shared", "functions", "tools", "testkit", "contracts"];
const MAX_FUNCTION_LINES: usize = 80;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn parse(path: &Path) -> syn::File {
    let text = std::fs::read_to_string(path).unwrap();
    syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// --- Import circles ---------------------------------------------------------------------------

type Module = Vec<String>;

/// The module a file holds (`a/b.rs` and `a/b/mod.rs` are `a::b`); none for a binary's own
/// crate root under `bin/`.
fn module_of(src: &Path, file: &Path) -> Option<Module> {
    let rel = file.strip_prefix(src).ok()?.with_extension("");
    let mut parts: Module = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if parts.first().is_some_and(|p| p == "bin") {
        return None;
    }
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    Some(parts)
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

/// Every `crate::…`, `super::…` and `self::…` path a file's code names (test modules aside),
/// inside macros too.
#[derive(Default)]
struct Paths(Vec<Vec<String>>);

impl Paths {
    fn use_tree(&mut self, prefix: &[String], tree: &syn::UseTree) {
        let mut path = prefix.to_vec();
        match tree {
            syn::UseTree::Path(p) => {
                path.push(p.ident.to_string());
                self.use_tree(&path, &p.tree);
            }
            syn::UseTree::Name(n) => {
                path.push(n.ident.to_string());
                self.0.push(path);
            }
            syn::UseTree::Rename(r) => {
                path.push(r.ident.to_string());
                self.0.push(path);
            }
            syn::UseTree::Glob(_) => self.0.push(path),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| self.use_tree(&path, t)),
        }
    }

    fn tokens(&mut self, tokens: proc_macro2::TokenStream) {
        let mut current: Vec<String> = Vec::new();
        let mut colons = 0;
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Ident(ident) => {
                    let name = ident.to_string();
                    if !current.is_empty() && colons == 2 {
                        current.push(name);
                    } else {
                        self.flush(&mut current);
                        if matches!(name.as_str(), "crate" | "super" | "self") {
                            current.push(name);
                        }
                    }
                    colons = 0;
                }
                proc_macro2::TokenTree::Punct(p) if p.as_char() == ':' => colons += 1,
                proc_macro2::TokenTree::Group(g) => {
                    self.flush(&mut current);
                    self.tokens(g.stream());
                }
                _ => {
                    self.flush(&mut current);
                    colons = 0;
                }
            }
        }
        self.flush(&mut current);
    }

    fn flush(&mut self, current: &mut Vec<String>) {
        if current.len() > 1 {
            self.0.push(std::mem::take(current));
        }
        current.clear();
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if !is_test_only(&item.attrs) {
            syn::visit::visit_item_mod(self, item);
        }
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if !is_test_only(&item.attrs) {
            syn::visit::visit_item_fn(self, item);
        }
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if !is_test_only(&item.attrs) {
            syn::visit::visit_item_impl(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if !is_test_only(&item.attrs) {
            self.use_tree(&[], &item.tree);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1 && matches!(segments[0].as_str(), "crate" | "super" | "self") {
            self.0.push(segments);
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

/// The module a path names, from module `me`: the longest prefix that is a module.
fn resolve(me: &Module, path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    let mut base: Module = Vec::new();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => rest = &path[1..],
        Some("self") => {
            base = me.clone();
            rest = &path[1..];
        }
        Some("super") => {
            base = me.clone();
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    let full: Module = base.into_iter().chain(rest.iter().cloned()).collect();
    (1..=full.len())
        .rev()
        .map(|k| full[..k].to_vec())
        .find(|m| modules.contains(m))
}

/// Each module of a crate and the modules it uses, a module's own ancestors and descendants
/// aside (a parent declares its children; a child may use what its parent gives it).
fn imports(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let files: Vec<(Module, PathBuf)> = files
        .into_iter()
        .filter_map(|f| Some((module_of(src, &f)?, f)))
        .collect();
    let modules: BTreeSet<Module> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut graph = BTreeMap::new();
    for (me, file) in &files {
        let mut paths = Paths::default();
        paths.visit_file(&parse(file));
        let used: BTreeSet<Module> = paths
            .0
            .iter()
            .filter_map(|p| resolve(me, p, &modules))
            .filter(|m| !m.starts_with(me) && !me.starts_with(m))
            .collect();
        graph.insert(me.clone(), used);
    }
    graph
}

fn reachable(graph: &BTreeMap<Module, BTreeSet<Module>>, from: &Module) -> BTreeSet<Module> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&Module> = graph.get(from).into_iter().flatten().collect();
    while let Some(m) = stack.pop() {
        if seen.insert(m.clone()) {
            stack.extend(graph.get(m).into_iter().flatten());
        }
    }
    seen
}

/// The import circles of a crate: each a set of modules that reach one another.
fn circles(src: &Path) -> Vec<BTreeSet<String>> {
    let graph = imports(src);
    let reach: BTreeMap<&Module, BTreeSet<Module>> =
        graph.keys().map(|m| (m, reachable(&graph, m))).collect();
    let mut found: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    for (m, from_m) in &reach {
        if !from_m.contains(*m) {
            continue;
        }
        let circle: BTreeSet<String> = from_m
            .iter()
            .filter(|other| reach.get(other).is_some_and(|r| r.contains(*m)))
            .map(|other| other.join("::"))
            .collect();
        found.insert(circle);
    }
    found.into_iter().collect()
}

#[test]
fn no_crate_has_an_import_circle() {
    let root = root();
    let mut seen_modules = 0;
    let mut all = Vec::new();
    for krate in CRATES {
        let src = root.join(krate);
        seen_modules += imports(&src).len();
        for circle in circles(&src) {
            all.push(format!("{krate}: {circle:?}"));
        }
    }
    assert!(seen_modules > 100, "the crates' modules were read");
    assert!(all.is_empty(), "import circles:\n{}", all.join("\n"));
}

#[test]
fn a_circle_is_found() {
    let dir = std::env::temp_dir().join(format!("house-circle-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("b")).unwrap();
    std::fs::write(dir.join("lib.rs"), "mod a; mod b; mod c;").unwrap();
    std::fs::write(dir.join("a.rs"), "use crate::b::x::Thing;").unwrap();
    std::fs::write(dir.join("b/mod.rs"), "pub mod x;").unwrap();
    std::fs::write(
        dir.join("b/x.rs"),
        "fn f() { tracing::info!(n = crate::c::N); }",
    )
    .unwrap();
    std::fs::write(
        dir.join("c.rs"),
        "pub const N: u8 = 1; fn g() { super::a::h() }",
    )
    .unwrap();
    let found = circles(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let expected: BTreeSet<String> = ["a", "b::x", "c"].iter().map(|s| s.to_string()).collect();
    assert_eq!(found, vec![expected]);
}

// --- Function length --------------------------------------------------------------------------

/// Every function with a body, and its length in lines from `fn` to its closing brace.
#[derive(Default)]
struct Lengths(Vec<(String, usize, usize)>);

impl Lengths {
    fn add(&mut self, name: &syn::Ident, start: proc_macro2::Span, block: &syn::Block) {
        let first = start.start().line;
        let last = block.brace_token.span.close().end().line;
        self.0.push((name.to_string(), first, last + 1 - first));
    }
}

impl<'ast> Visit<'ast> for Lengths {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.add(&item.sig.ident, item.sig.fn_token.span, &item.block);
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.add(&item.sig.ident, item.sig.fn_token.span, &item.block);
        syn::visit::visit_impl_item_fn(self, item);
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if let Some(block) = &item.default {
            self.add(&item.sig.ident, item.sig.fn_token.span, block);
        }
        syn::visit::visit_trait_item_fn(self, item);
    }
}

fn lengths(file: &Path) -> Vec<(String, usize, usize)> {
    let mut lengths = Lengths::default();
    lengths.visit_file(&parse(file));
    lengths.0
}

#[test]
fn no_function_is_longer_than_80_lines() {
    let root = root();
    let mut functions = 0;
    let mut long = Vec::new();
    let mut files = Vec::new();
    for dir in FOLDERS {
        rust_files(&root.join(dir), &mut files);
    }
    let files: BTreeSet<PathBuf> = files.into_iter().collect();
    for file in &files {
        for (name, line, length) in lengths(file) {
            functions += 1;
            if length > MAX_FUNCTION_LINES {
                let at = file.strip_prefix(&root).unwrap_or(file).display();
                long.push(format!("{at}:{line} {name}: {length} lines"));
            }
        }
    }
    assert!(functions > 2500, "the functions were read ({functions})");
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn a_function_is_measured_from_fn_to_its_closing_brace() {
    let file = std::env::temp_dir().join(format!("house-length-{}.rs", std::process::id()));
    let body = "    let x = \"}\";\n".repeat(3);
    std::fs::write(
        &file,
        format!(
            "/// doc\n#[inline]\npub async fn f() {{\n{body}}}\nimpl S {{ fn g(&self) {{}} }}\n"
        ),
    )
    .unwrap();
    let found = lengths(&file);
    std::fs::remove_file(&file).unwrap();
    assert_eq!(
        found,
        vec![("f".to_string(), 3, 5), ("g".to_string(), 8, 1)]
    );
}
