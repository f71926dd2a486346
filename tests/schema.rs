//! The JSON Schema in `schema/` accepts every scenario in `scenarios/` and
//! rejects the invalid ones whose mistake is structural (unknown keys, wrong
//! types, out-of-range values, bad durations). Mistakes about names,
//! references and cycles need the validator (`scenario-run check`).

use std::path::{Path, PathBuf};

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/scenario.schema.json"
    ))
    .unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

fn scenarios(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            scenarios(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

/// The file as JSON, or `None` when it is not TOML (or not UTF-8) at all.
fn as_json(path: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(path).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    Some(serde_json::to_value(table).unwrap())
}

#[test]
fn accepts_every_valid_scenario_and_rejects_structural_mistakes() {
    let validator = schema();
    let mut files = Vec::new();
    scenarios(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")),
        &mut files,
    );
    files.sort();
    // Invalid files whose every mistake is about names, references or cycles.
    let semantic_only = [
        "undefined_references.toml",
        "start_cycle.toml",
        "name_clashes.toml",
        // Rules the schema does not express: where `break` may go, the
        // order of two durations, which names can be shown, the longest duration.
        "break_outside_loop.toml",
        "max_backoff_below_backoff.toml",
        "names.toml",
        "durations_too_long.toml",
        "call_chain_too_deep.toml",
        // Where `into` may name a task group, and what `except_star` takes.
        "task_groups.toml",
        // What exists in which CPython version.
        "queue_shutdown_version.toml",
        "eager_tasks_version.toml",
    ];
    let (mut accepted, mut rejected) = (0, 0);
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let invalid = path.parent().unwrap().ends_with("invalid");
        let Some(json) = as_json(path) else {
            assert!(invalid, "{} is not TOML", path.display());
            continue;
        };
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect();
        if !invalid || semantic_only.contains(&name) {
            assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
            accepted += 1;
        } else {
            assert!(!errors.is_empty(), "the schema accepts {}", path.display());
            rejected += 1;
        }
    }
    assert!(
        accepted > 40 && rejected > 10,
        "{accepted} accepted, {rejected} rejected"
    );
}

/// What `scenario-run schema` prints is a working schema: it accepts every
/// spelling of a duration the tool reads and refuses what the tool refuses.
/// (That the schema names exactly the validator's keys and verbs, and that
/// its duration pattern is generated from the parser's table of units, is
/// checked by unit tests in `src/validate/mod.rs` and `src/schema.rs`.)
#[test]
fn the_printed_schema_agrees_with_the_tool_on_durations() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scenario-run"))
        .arg("schema")
        .output()
        .unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for (sleep, ok) in [
        ("\"1 day\"", true),
        ("\"200 milliseconds\"", true),
        ("\"1h30m\"", true),
        ("2", true),
        ("\"500\"", false),
        ("\"1m30\"", false),
        ("\"2 months\"", false),
    ] {
        let text = format!("[tasks.a]\nsleep = {sleep}\n");
        let json = serde_json::to_value(toml::from_str::<toml::Table>(&text).unwrap()).unwrap();
        assert_eq!(validator.is_valid(&json), ok, "{sleep}");
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &text).unwrap();
        let check = std::process::Command::new(env!("CARGO_BIN_EXE_scenario-run"))
            .args(["check", file.path().to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(
            check.status.success(),
            ok,
            "the tool and the schema on {sleep}"
        );
    }
}
