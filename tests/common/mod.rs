//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod cpython;
pub mod levels;
pub mod picture;
pub mod tools;

/// Every `*.toml` under `dir`, sorted.
pub fn scenarios(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(scenarios(&path));
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    out.sort();
    out
}
