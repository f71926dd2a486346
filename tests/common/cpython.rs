//! The CPython interpreters the differential tests compare against.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The versions scenario-run models.
pub const VERSIONS: [&str; 3] = ["3.11", "3.12", "3.13"];

/// The interpreters found, one per version.
pub fn interpreters() -> Vec<(String, PathBuf)> {
    let mut candidates: Vec<PathBuf> = ["python3", "python3.11", "python3.12", "python3.13"]
        .iter()
        .map(PathBuf::from)
        .collect();
    let pyenv_root = Command::new("pyenv")
        .arg("root")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|r| !r.is_empty())
        .or_else(|| std::env::var("HOME").ok().map(|h| format!("{h}/.pyenv")));
    if let Some(root) = pyenv_root
        && let Ok(entries) = std::fs::read_dir(Path::new(&root).join("versions"))
    {
        let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        dirs.sort();
        candidates.extend(dirs.into_iter().map(|d| d.join("bin/python")));
    }
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    for c in candidates {
        let Ok(out) = Command::new(&c)
            .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
            .output()
        else {
            continue;
        };
        let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if VERSIONS.contains(&version.as_str()) && !found.iter().any(|(v, _)| *v == version) {
            found.push((version, c));
        }
    }
    found.sort();
    found
}

/// The line the exported program prints for one event of scenario-run's
/// JSON Lines, when it prints one for it: a failure nobody retrieved
/// (`unretrieved`), and what `asyncio.run` raises (the summary's
/// `main_raises`); the empty string for any other event.
pub fn report_line(event: &serde_json::Value) -> String {
    if event["kind"] == "unretrieved" {
        return format!(
            "[{}] unretrieved {}: {}\n",
            event["time_ns"],
            event["task"].as_str().unwrap_or_default(),
            event["detail"].as_str().unwrap_or_default()
        );
    }
    if event["kind"] == "summary"
        && let Some(raised) = event["main_raises"].as_str()
    {
        return format!("[{}] asyncio.run raises {raised}\n", event["makespan_ns"]);
    }
    String::new()
}
