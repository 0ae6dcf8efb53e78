//! ARCHITECTURE.md's code map names exactly the crates in the workspace.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

#[test]
fn codemap_headings_match_the_crates() {
    let root = common::repo_root();
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let in_doc: BTreeSet<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("### `crates/"))
        .map(|l| l.trim_end_matches('`').to_string())
        .collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(in_doc, on_disk, "ARCHITECTURE.md code map vs crates/");
    assert!(doc.matches("**Architecture Invariant:**").count() >= 4);
}
