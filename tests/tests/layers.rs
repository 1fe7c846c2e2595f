//! The common crate's layers, read from its source: every `crate::...` path names a module, and
//! the modules must import in one direction, with no circle. A domain module that reached for the
//! store, a flow that reached for HTTP, or two modules importing each other fail here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers from the bottom: a module may import its own layer and those before it.
const LAYERS: &[&[&str]] = &[
    &["domain"],
    &["config"],
    &["store", "mail", "password", "aws", "notices", "telemetry"],
    &["app"],
    &["flows"],
    &["http"],
    &["lambda"],
];

fn layer_of(module: &str) -> usize {
    let top = module.split("::").next().unwrap_or_default();
    LAYERS
        .iter()
        .position(|layer| layer.contains(&top))
        .unwrap_or_else(|| panic!("{module} is in no layer: add its top module to LAYERS"))
}

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/src")
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// `domain/user.rs` is `domain::user`; `store/mod.rs` is `store`; `lib.rs` is the root, "".
fn module_of(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap().with_extension("");
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| p != "mod" && p != "lib")
        .collect();
    parts.join("::")
}

/// The `pub mod` names a `mod.rs` declares: the modules the crate root re-exports.
fn declared(root: &Path, file: &str) -> Vec<String> {
    std::fs::read_to_string(root.join(file))
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';').to_owned())
        .collect()
}

/// Every `crate::a::b::c` path in the text before its tests.
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut paths = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        // `crate::{a, b::C}`: each item of the group.
        if let Some(group) = rest.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or_default();
            for item in group.split(',') {
                let item: Vec<String> = item
                    .trim()
                    .split("::")
                    .map(|s| s.trim_matches(|c: char| !c.is_alphanumeric() && c != '_'))
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                if !item.is_empty() {
                    paths.push(item);
                }
            }
            continue;
        }
        let path: Vec<String> = rest
            .split("::")
            .map_while(|segment| {
                let name: String = segment
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                (!name.is_empty() && name.len() == segment.len()).then_some(name)
            })
            .collect();
        // The last segment is cut where the path ends (`crate::clock::UnixTime;`): keep it too.
        let last: String = rest
            .split("::")
            .nth(path.len())
            .unwrap_or_default()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let mut path = path;
        if !last.is_empty() {
            path.push(last);
        }
        paths.push(path);
    }
    paths
}

/// Module -> the modules it imports (never its own parent or children).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let root = source_root();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&root, f)).collect();
    let domain = declared(&root, "domain/mod.rs");
    let flows = declared(&root, "flows/mod.rs");
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(&root, file);
        if module.is_empty() {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        let mut targets = BTreeSet::new();
        for mut path in crate_paths(&text) {
            match path.first() {
                Some(first) if domain.contains(first) => path.insert(0, "domain".into()),
                Some(first) if flows.contains(first) => path.insert(0, "flows".into()),
                _ => {}
            }
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].join("::"))
                .find(|candidate| modules.contains(candidate));
            if let Some(target) = target {
                let related = target == module
                    || target.starts_with(&format!("{module}::"))
                    || module.starts_with(&format!("{target}::"));
                if !related {
                    targets.insert(target);
                }
            }
        }
        graph.insert(module, targets);
    }
    graph
}

#[test]
fn each_module_imports_only_its_own_layer_and_those_below() {
    let graph = imports();
    assert!(graph.len() > 50, "the source was not found: {graph:?}");
    let mut wrong = Vec::new();
    for (module, targets) in &graph {
        for target in targets {
            if layer_of(target) > layer_of(module) {
                wrong.push(format!("{module} -> {target}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers: {wrong:#?}");
}

#[test]
fn no_modules_import_each_other_in_a_circle() {
    let graph = imports();
    // Depth-first search for a back edge; the path to it is the circle.
    fn visit<'a>(
        module: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| *m == module) {
            let mut circle: Vec<String> = path[at..].iter().map(|m| m.to_string()).collect();
            circle.push(module.to_owned());
            return Some(circle);
        }
        if !done.insert(module) {
            return None;
        }
        path.push(module);
        for target in graph.get(module).into_iter().flatten() {
            if let Some(circle) = visit(target, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        if let Some(circle) = visit(module, &graph, &mut Vec::new(), &mut done) {
            panic!(
                "modules import each other in a circle: {}",
                circle.join(" -> ")
            );
        }
    }
}

#[test]
fn the_reader_sees_what_a_file_imports() {
    let paths = crate_paths(
        "use crate::clock::UnixTime;\nlet x = crate::store::Store::f();\nuse crate::{me, a::B};",
    );
    assert_eq!(
        paths,
        vec![
            vec!["clock", "UnixTime"],
            vec!["store", "Store", "f"],
            vec!["me"],
            vec!["a", "B"]
        ]
    );
    let graph = imports();
    assert!(graph["flows::login"].contains("domain::lockout"));
    assert!(graph["http::routes::login"].contains("flows::login"));
}
