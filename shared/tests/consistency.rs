//! Every endpoint in `bridge::ENDPOINTS` has its Lambda binary, template function and route,
//! watch route, sample events and README row, and nothing exists that has no endpoint.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every Lambda: one per endpoint, plus the retry worker.
fn functions() -> BTreeSet<&'static str> {
    let mut all: BTreeSet<&'static str> = bridge::registry::routes()
        .into_iter()
        .map(|e| e.function)
        .collect();
    all.insert(bridge::worker::FUNCTION);
    all
}

#[test]
fn every_function_is_a_binary() {
    let cargo = read("functions/Cargo.toml");
    for f in functions() {
        assert!(
            cargo.contains(&format!("name = \"{f}\"")),
            "functions/Cargo.toml has no [[bin]] {f}"
        );
        assert!(
            repo().join(format!("functions/src/bin/{f}.rs")).is_file(),
            "functions/src/bin/{f}.rs is missing"
        );
    }
    let bins = std::fs::read_dir(repo().join("functions/src/bin"))
        .unwrap()
        .count();
    assert_eq!(
        bins,
        functions().len(),
        "functions/src/bin holds a binary that is not an endpoint"
    );
}

#[test]
fn every_endpoint_is_in_the_template() {
    let template = read("template.yaml");
    for f in functions() {
        assert!(
            template.contains(&format!("Binary: {f}\n")),
            "template.yaml builds no function for {f}"
        );
        assert!(
            template.contains(&format!("FunctionName: !Sub \"${{AWS::StackName}}-{f}\"")),
            "template.yaml names no function {f}"
        );
    }
    for e in bridge::registry::routes() {
        let route = format!("Path: {}\n", e.route);
        let at = template
            .find(&route)
            .unwrap_or_else(|| panic!("template.yaml has no route {}", e.route));
        let method = template[..at]
            .trim_end()
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
        assert_eq!(
            method,
            format!("Method: {}", e.method),
            "route {} has the wrong method",
            e.route
        );
    }
    let built = template.matches("BuildMethod: rust-cargolambda").count();
    assert_eq!(
        built,
        functions().len(),
        "template.yaml builds a function that is not an endpoint"
    );
    // Tables reach the functions by !Ref, so tools can create them and pass their names.
    for line in template
        .lines()
        .filter(|l| l.contains("CONTACT_MAP_TABLE:"))
    {
        assert!(line.trim().ends_with("!Ref ContactMapTable"), "{line}");
    }
}

#[test]
fn every_route_is_served_by_cargo_lambda_watch() {
    let cargo = read("Cargo.toml");
    for e in bridge::registry::routes() {
        let entry = format!(
            "\"{}\" = [{{ method = \"{}\", function = \"{}\" }}]",
            e.route, e.method, e.function
        );
        assert!(
            cargo.contains(&entry),
            "Cargo.toml watch router lacks {entry}"
        );
    }
    let env_tables = cargo
        .lines()
        .filter(|l| {
            l.trim_start().starts_with('[') && l.contains("metadata.lambda") && l.contains("env")
        })
        .count();
    assert_eq!(
        env_tables, 0,
        "settings must come from the shell, not Cargo metadata"
    );
}

#[test]
fn every_endpoint_has_events_and_a_readme_row() {
    let readme = read("README.md");
    for f in functions() {
        assert!(
            repo().join("events").join(f).is_dir(),
            "events/{f} is missing"
        );
        assert!(
            readme.contains(&format!("`{f}`")),
            "README.md never names {f}"
        );
    }
    for e in bridge::registry::routes() {
        assert!(
            readme
                .lines()
                .any(|l| l.starts_with('|') && l.contains(e.route) && l.contains(e.function)),
            "README.md has no table row with {} and {}",
            e.route,
            e.function
        );
    }
}
