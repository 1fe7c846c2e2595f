//! The OpenAPI document (hardening, "Faults and fuzzing"): it is current, it names exactly the
//! routes of docs/api.md's overview, and the server serves it. Whether the server keeps to it is
//! schemathesis' part (`scripts/schemathesis`).

use std::collections::BTreeSet;

use portcullis_tests::{Backend, Server};
use reqwest::StatusCode;
use serde_json::Value;

fn repository_file(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn docs_openapi_json_is_what_the_code_says() {
    let generated = portcullis::http::routes::openapi::json();
    let committed = repository_file("docs/openapi.json");
    assert!(
        generated == committed,
        "docs/openapi.json is out of date: run \
         `cargo run -p portcullis-cli -- openapi > docs/openapi.json`"
    );
}

/// `METHOD /path` of every operation in the document.
fn documented() -> BTreeSet<String> {
    let document: Value = serde_json::from_str(&portcullis::http::routes::openapi::json()).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    operations
}

/// `METHOD /path` of every row of docs/api.md's route overview under `/v1/` or `/.well-known/`.
fn overview() -> BTreeSet<String> {
    let api = repository_file("docs/api.md");
    let section = api
        .split("## 2. Route overview")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/api.md has a route overview");
    let mut operations = BTreeSet::new();
    for row in section.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let path = cells[2].trim_matches('`');
        if !(path.starts_with("/v1/") || path.starts_with("/.well-known/")) {
            continue;
        }
        for method in cells[1].split(", ") {
            operations.insert(format!("{method} {path}"));
        }
    }
    operations
}

#[test]
fn the_document_names_exactly_the_routes_of_the_overview() {
    let (documented, overview) = (documented(), overview());
    assert!(overview.len() > 30, "{overview:?}");
    let missing: Vec<_> = overview.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&overview).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "in docs/api.md only: {missing:?}; in the document only: {extra:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_discovery_function_serves_it() {
    let server = Server::start(Backend::Sqlite).await;
    let reply = server.get("/v1/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let served = reply.body;
    let generated: Value =
        serde_json::from_str(&portcullis::http::routes::openapi::json()).unwrap();
    assert_eq!(served, generated);
}
