//! The `scenario-run` binary: everything lives in the library.

fn main() {
    // SAFETY: a tuning call before any thread starts.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_MXFAST, 0);
    }
    std::process::exit(scenario_run::main());
}
