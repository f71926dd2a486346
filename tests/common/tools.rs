//! Finding the outside tools the format tests open outputs with, the way
//! `.ci/run` does (`command -v`): the first of the names found on `PATH`.
//! `.ci/run` installs them and sets `SCENARIO_RUN_REQUIRE_TOOLS`; there a
//! missing tool is a failure, elsewhere a skip the test run reports.

use std::path::{Path, PathBuf};

/// The first of `names` that is an executable file on `PATH`.
pub fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| is_executable(candidate))
    })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Whether missing tools must fail the tests (`.ci/run` sets it once they
/// are installed).
pub fn required() -> bool {
    std::env::var_os("SCENARIO_RUN_REQUIRE_TOOLS").is_some()
}

/// Chromium, as Debian or Ubuntu name it.
pub fn chromium() -> Option<PathBuf> {
    find(&["chromium", "chromium-browser"])
}

/// Graphviz's `dot`.
pub fn dot() -> Option<PathBuf> {
    find(&["dot"])
}

/// Node, with Mermaid installed in `tests/mermaid` (`npm ci` there).
pub fn mermaid() -> Option<PathBuf> {
    let checker = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mermaid");
    let node = find(&["node"])?;
    checker
        .join("node_modules/mermaid")
        .is_dir()
        .then_some(node)
}
