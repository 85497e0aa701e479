//! One fact, one place, for the docs too: the configuration reference and the endpoint table of
//! the manual are rendered from tables in the code (`bridge::reference`), and these tests fail
//! when the code reads a setting the table does not name, the table names one nothing reads,
//! the template's variables and parameters differ from it, or the docs differ from what it
//! renders. `UPDATE_DOCS=1 cargo test -p bridge --test reference` writes the docs' tables.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bridge::reference::{endpoints_markdown, settings_markdown, SETTINGS};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn named_variables() -> BTreeSet<&'static str> {
    SETTINGS
        .iter()
        .flat_map(|s| s.variables.iter().copied())
        .collect()
}

/// Every variable the configuration and the secrets read.
fn read_variables() -> BTreeSet<String> {
    let read = RefCell::new(BTreeSet::new());
    let get = |k: &str| {
        read.borrow_mut().insert(k.to_string());
        None
    };
    let _ = bridge::config::Config::from_lookup(get);
    let _ = bridge::secrets::Secrets::from_lookup(get);
    read.into_inner()
        .into_iter()
        // Lambda's own reserved variables tell where the code runs; they are not settings.
        .filter(|k| !k.starts_with("AWS_LAMBDA_") && k != "AWS_EXECUTION_ENV")
        .collect()
}

#[test]
fn every_variable_the_code_reads_is_in_the_reference() {
    let named = named_variables();
    let missing: Vec<String> = read_variables()
        .into_iter()
        .filter(|v| !named.contains(v.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "read, but not in bridge::reference::SETTINGS: {missing:?}"
    );
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_variable_in_the_reference_is_read_somewhere() {
    let mut files = Vec::new();
    for dir in ["shared/src", "tools/operator/src", "tools/local/src"] {
        sources(&repo().join(dir), &mut files);
    }
    let text: String = files
        .iter()
        .filter(|f| !f.ends_with("reference.rs"))
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect();
    let unread: Vec<&str> = named_variables()
        .into_iter()
        .filter(|v| !text.contains(&format!("\"{v}\"")))
        .collect();
    assert!(
        unread.is_empty(),
        "in the reference, but no code reads them: {unread:?}"
    );
}

/// The template's `Globals` variables, each with the parameter it is set from (if any).
fn template() -> (Vec<(String, Option<String>)>, Vec<String>) {
    let text = std::fs::read_to_string(repo().join("template.yaml")).unwrap();
    let globals = &text[text.find("\nGlobals:").unwrap()..text.find("\nResources:").unwrap()];
    let variables = globals
        .lines()
        .filter_map(|l| {
            let (name, value) = l.trim().split_once(": ")?;
            let is_var = name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            let param = value.strip_prefix("!Ref ").map(str::to_string);
            (is_var && name.len() > 2).then(|| (name.to_string(), param))
        })
        .collect();
    let params_text = &text[..text.find("\nConditions:").unwrap()];
    let params = params_text
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':'))
        .map(|l| l.trim().trim_end_matches(':').to_string())
        .collect();
    (variables, params)
}

#[test]
fn the_template_sets_what_the_reference_says_from_the_parameters_it_names() {
    let (variables, params) = template();
    for (variable, param) in &variables {
        let row = SETTINGS
            .iter()
            .find(|s| s.variables.contains(&variable.as_str()))
            .unwrap_or_else(|| panic!("template.yaml sets {variable}, not in the reference"));
        if let Some(param) = param.as_deref().filter(|p| params.iter().any(|x| x == p)) {
            assert!(
                row.parameters.contains(&param),
                "{variable} comes from {param} in template.yaml; the reference says {:?}",
                row.parameters
            );
        }
    }
    let named: BTreeSet<&str> = SETTINGS
        .iter()
        .flat_map(|s| s.parameters.iter().copied())
        .collect();
    for param in &params {
        assert!(
            named.contains(param.as_str()),
            "parameter {param} is not in the reference"
        );
    }
    for param in named {
        assert!(
            params.iter().any(|p| p == param),
            "the reference names {param}, not a parameter of template.yaml"
        );
    }
}

/// The text between `<!-- <name>:begin -->` and `<!-- <name>:end -->` in the manual, and the
/// file holding it.
fn section(name: &str) -> (PathBuf, String, (usize, usize)) {
    let begin = format!("<!-- {name}:begin -->\n");
    let end = format!("<!-- {name}:end -->");
    let mut files = Vec::new();
    markdown(&repo().join("docs"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if let (Some(b), Some(e)) = (text.find(&begin), text.find(&end)) {
            return (file, text.clone(), (b + begin.len(), e));
        }
    }
    panic!("no chapter of docs/ holds the {name} section");
}

fn markdown(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            markdown(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// The docs' section `name` is `rendered` (rewritten so with `UPDATE_DOCS=1`).
fn docs_say(name: &str, rendered: &str) {
    let (file, text, (b, e)) = section(name);
    if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
        let updated = format!("{}{rendered}{}", &text[..b], &text[e..]);
        std::fs::write(&file, updated).unwrap();
        return;
    }
    assert_eq!(
        &text[b..e],
        rendered,
        "{} differs from the code's table (UPDATE_DOCS=1 cargo test -p bridge --test reference writes it)",
        file.display()
    );
}

#[test]
fn the_manual_s_configuration_table_is_the_code_s() {
    docs_say("config-table", &settings_markdown());
}

#[test]
fn the_manual_s_endpoint_table_is_the_registry_s() {
    docs_say("endpoint-table", &endpoints_markdown());
}

#[test]
fn every_route_has_its_row() {
    for route in bridge::registry::routes()
        .iter()
        .filter(|r| r.method == "GET")
    {
        assert!(
            bridge::reference::OTHER_ROUTES
                .iter()
                .any(|(r, _, _)| *r == route.route),
            "GET {} has no row in bridge::reference::OTHER_ROUTES",
            route.route
        );
    }
    let rendered = endpoints_markdown();
    for entry in bridge::registry::REGISTRY.iter() {
        assert!(
            rendered.contains(&format!("`POST {}`", entry.route)),
            "{}",
            entry.name
        );
    }
}
