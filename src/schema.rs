//! The JSON Schema of the scenario format, kept in the repository
//! (`schema/scenario.schema.json`) for editors: Taplo and Even Better TOML
//! use it for completion, hover docs and type checks. It checks structure
//! (keys, types, ranges, duration syntax); names, references and cycles are
//! checked by `scenario-run check`.

pub(crate) const SCHEMA: &str = include_str!("../schema/scenario.schema.json");
