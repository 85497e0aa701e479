//! The library's modules form layers: no module uses a module that (directly or not) uses it
//! back. Checked on the source text: `crate::<module>` paths outside comments and test modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Each top-level module and the crate modules its code names.
fn uses() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let module = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let named = uses.entry(module.clone()).or_default();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for part in line.split("crate::").skip(1) {
                let used: String = part
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !used.is_empty() && used != module {
                    named.insert(used);
                }
            }
        }
    }
    uses
}

#[test]
fn modules_form_layers_without_cycles() {
    let mut remaining = uses();
    assert!(remaining.len() > 10, "the modules were found");
    let mut layers = Vec::new();
    while !remaining.is_empty() {
        let names: BTreeSet<String> = remaining.keys().cloned().collect();
        let ready: Vec<String> = remaining
            .iter()
            .filter(|(_, used)| used.is_disjoint(&names))
            .map(|(m, _)| m.clone())
            .collect();
        assert!(
            !ready.is_empty(),
            "these modules use each other in a cycle: {remaining:?}"
        );
        for m in &ready {
            remaining.remove(m);
        }
        layers.push(ready);
    }
    // The delivery layer is on top: nothing uses the pipeline but the other two ways events
    // arrive (the retry worker and reconciliation) and lib.rs.
    let uses = uses();
    for (module, used) in &uses {
        if used.contains("pipeline") {
            assert!(
                ["worker", "reconcile"].contains(&module.as_str()),
                "{module} uses the pipeline"
            );
        }
    }
}
