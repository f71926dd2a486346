//! Every file under `scenarios/` has its trace (or, for an invalid file, its
//! diagnostics) snapshotted under `snapshots/`. Review changes with
//! `cargo insta review`; `CI=true` fails on any difference.

use scenario_run::{ExitCode, Format, Options, load, render_to_string};

fn options(format: Format) -> Options {
    Options {
        format,
        ..Options::default()
    }
}

#[test]
fn traces() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::glob!("../scenarios", "**/*.toml", |path| {
            let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
            let shown = path.display().to_string().replace(root, "");
            let (out, code) = match load(path) {
                Ok(text) => render_to_string(&shown, &text, &options(Format::Text)),
                Err(why) => (
                    format!("error: {}\n", why.replace(root, "")),
                    ExitCode::Invalid,
                ),
            };
            insta::assert_snapshot!(format!("exit code: {}\n\n{out}", code as i32));
        });
    });
}

/// Same file, same seed: byte-identical output, in every format.
#[test]
fn runs_are_byte_identical() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut checked = 0;
    for entry in walk(std::path::Path::new(dir)) {
        let Ok(text) = load(&entry) else { continue };
        for format in [Format::Text, Format::Jsonl] {
            let a = render_to_string("s", &text, &options(format));
            let b = render_to_string("s", &text, &options(format));
            assert_eq!(a, b, "{} is not deterministic", entry.display());
        }
        checked += 1;
    }
    assert!(checked >= 9);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Like `cargo insta test --unreferenced=reject`: a snapshot whose scenario
/// was deleted or renamed fails, so `snapshots/` holds only live ones.
#[test]
fn every_snapshot_belongs_to_a_scenario() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenarios = root.join("scenarios");
    let wanted: std::collections::BTreeSet<String> = walk(&scenarios)
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(&scenarios).unwrap().to_str().unwrap();
            format!("traces@{}.snap", rel.replace('/', "__"))
        })
        .collect();
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(root.join("snapshots")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".snap") && !wanted.contains(&name) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "snapshots whose scenario is gone (delete them): {stale:?}"
    );
    assert_eq!(wanted.len(), walk(&scenarios).len());
}
