//! The JSON Schema of the scenario format, kept in the repository
//! (`schema/scenario.schema.json`) for editors: Taplo and Even Better TOML
//! use it for completion, hover docs and type checks. It checks structure
//! (keys, types, ranges, duration syntax); names, references and cycles are
//! checked by `scenario-run check`.

pub(crate) const SCHEMA: &str = include_str!("../schema/scenario.schema.json");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration;

    /// Every place the schema describes a duration string.
    fn duration_patterns(schema: &serde_json::Value) -> Vec<String> {
        let defs = &schema["$defs"];
        let choice = defs
            .as_object()
            .into_iter()
            .flat_map(|d| d.values())
            .filter_map(|d| d.pointer("/properties/choice/propertyNames/pattern"));
        defs["duration"]["oneOf"][0]["pattern"]
            .as_str()
            .into_iter()
            .chain(choice.filter_map(|p| p.as_str()))
            .map(str::to_owned)
            .collect()
    }

    /// The schema's duration syntax is the parser's grammar, generated from
    /// its table of units: the two cannot drift apart.
    #[test]
    fn the_schema_describes_durations_as_the_parser_reads_them() {
        let schema: serde_json::Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
        let patterns = duration_patterns(&schema);
        assert_eq!(patterns.len(), 2, "{patterns:?}");
        for p in &patterns {
            assert_eq!(
                p,
                &duration::pattern(),
                "regenerate the schema's duration pattern"
            );
        }
        let only_pattern = serde_json::json!({ "type": "string", "pattern": duration::pattern() });
        let validator = jsonschema::validator_for(&only_pattern).expect("a valid pattern");
        for text in [
            "250ms",
            "1.5s",
            "2m 30s",
            "1 day",
            "2days",
            "200 milliseconds",
            "200msecs",
            "1h30m",
            "3µs",
            " 2s ",
            "1m30",
            "500",
            "1M",
            "2 months",
            "soon",
            "1..5s",
            ".5s",
            "5.s",
            "",
            "1 fortnight",
            "-1s",
        ] {
            let json = serde_json::Value::String(text.to_owned());
            assert_eq!(
                validator.is_valid(&json),
                duration::parse(text).is_ok(),
                "the schema and the parser disagree on `{text}`"
            );
        }
    }
}
