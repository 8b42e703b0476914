//! The documentation stays true to the tree: the README's module map lists exactly `src/`, and
//! every relative link in the README and `docs/` points at a file that exists.

use std::collections::BTreeSet;
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The first column of the table between the module-map markers.
fn module_map() -> BTreeSet<String> {
    let readme = read("README.md");
    let table = readme
        .split("<!-- module-map -->")
        .nth(1)
        .and_then(|t| t.split("<!-- /module-map -->").next())
        .expect("README marks the module map");
    table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_module_map_matches_src() {
    let listed = module_map();
    let mut actual = BTreeSet::new();
    for entry in std::fs::read_dir(repo().join("src")).expect("src") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() {
            actual.insert(format!("src/{name}/"));
        } else if name.ends_with(".rs") {
            actual.insert(format!("src/{name}"));
        }
    }
    assert_eq!(listed, actual, "README module map vs src/");
}

#[test]
fn relative_links_in_the_docs_resolve() {
    let mut docs = vec!["README.md".to_owned()];
    for entry in std::fs::read_dir(repo().join("docs")).expect("docs") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".md") {
            docs.push(format!("docs/{name}"));
        }
    }
    let mut broken = Vec::new();
    for doc in &docs {
        let text = read(doc);
        let dir = Path::new(doc).parent().unwrap_or(Path::new(""));
        for link in text.split("](").skip(1).filter_map(|l| l.split(')').next()) {
            let target = link.split('#').next().unwrap_or_default();
            if target.is_empty() || target.contains("://") {
                continue;
            }
            if !repo().join(dir).join(target).exists() {
                broken.push(format!("{doc}: {link}"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links: {broken:#?}");
}
