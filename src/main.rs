//! The `scenario-run` binary: everything lives in the library.

fn main() {
    std::process::exit(scenario_run::main());
}
