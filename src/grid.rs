//! `--grid PATH=V1,V2,...`: a what-if table. The sweep (`--runs N`) runs
//! once for each value of PATH (each pair of values, with two `--grid`),
//! the value set as `--set` would set it, and each point of the grid gets
//! one line: the share of runs that ended well, the makespan's p50 and
//! p99, and each task's p50 and p99 latency.

use std::fmt::Write as _;

use crate::duration::approx as dur;
use crate::montecarlo::Sweep;
use crate::overrides::Set;

/// The most points a grid may have (the product of its axes' values).
pub(crate) const MAX_POINTS: usize = 1_000;

/// One `--grid`: a path and the values it takes.
#[derive(Clone, Debug)]
pub(crate) struct Axis {
    path: String,
    /// Each value as a `--set` of the path, and as written.
    values: Vec<(Set, String)>,
}

impl Axis {
    /// The path the axis changes.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The values, as written.
    pub(crate) fn shown(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|(_, v)| v.as_str())
    }

    /// Reads `PATH=V1,V2,...` (clap's value parser for `--grid`).
    pub(crate) fn parse(arg: &str) -> Result<Axis, String> {
        let Some((path, values)) = arg.split_once('=') else {
            return Err(format!(
                "`{arg}` has no `=`: write PATH=V1,V2,..., as in semaphores.pool=4,8,16"
            ));
        };
        let path = path.trim();
        let mut parsed = Vec::new();
        for value in values.split(',') {
            let value = value.trim();
            if value.is_empty() {
                return Err(format!(
                    "`{arg}` has an empty value: values are separated by single commas"
                ));
            }
            if parsed.iter().any(|(_, v)| v == value) {
                return Err(format!("`{arg}` gives the value `{value}` twice"));
            }
            let set = Set::parse(&format!("{path}={value}")).map_err(|e| e.to_string())?;
            parsed.push((set, value.to_owned()));
        }
        Ok(Axis {
            path: path.to_owned(),
            values: parsed,
        })
    }
}

/// One point of the grid: its value on each axis, and its sweep.
pub(crate) struct Point {
    pub(crate) values: Vec<String>,
    pub(crate) sweep: Sweep,
}

/// A point of the grid before it runs: its values as written, and the
/// `--set`s that make it.
pub(crate) type Plan = (Vec<String>, Vec<Set>);

/// Every point of the grid, the first axis outermost.
pub(crate) fn points(axes: &[Axis]) -> Result<Vec<Plan>, String> {
    let size: usize = axes.iter().map(|a| a.values.len()).product();
    if size > MAX_POINTS {
        return Err(format!(
            "the grid has {size} points; at most {MAX_POINTS} are run (give fewer values)"
        ));
    }
    let mut points = vec![(Vec::new(), Vec::new())];
    for axis in axes {
        let mut next = Vec::with_capacity(points.len() * axis.values.len());
        for (shown, sets) in &points {
            for (set, value) in &axis.values {
                let mut shown: Vec<String> = shown.clone();
                shown.push(value.clone());
                let mut sets: Vec<Set> = sets.clone();
                sets.push(set.clone());
                next.push((shown, sets));
            }
        }
        points = next;
    }
    Ok(points)
}

/// The table: one line per point.
pub(crate) fn report(scenario: &str, axes: &[Axis], points: &[Point]) -> String {
    let mut out = String::new();
    let Some(first) = points.first() else {
        return out;
    };
    let s = &first.sweep;
    let over: Vec<&str> = axes.iter().map(|a| a.path.as_str()).collect();
    let _ = writeln!(
        out,
        "# {scenario}: grid over {}, {} runs each (seeds {} to {})",
        over.join(" and "),
        s.runs.len(),
        s.first_seed,
        s.first_seed + s.seeds.saturating_sub(1)
    );
    // The tasks that had instances somewhere in the grid.
    let tasks: Vec<&str> = first
        .sweep
        .tasks
        .iter()
        .map(|t| t.name.as_str())
        .filter(|name| {
            points.iter().any(|p| {
                p.sweep
                    .tasks
                    .iter()
                    .any(|t| t.name == *name && t.durations.count > 0)
            })
        })
        .collect();
    let mut head: Vec<String> = over.iter().map(|p| (*p).to_owned()).collect();
    head.extend(["ok".into(), "makespan p50".into(), "p99".into()]);
    for t in &tasks {
        head.push(format!("{t} p50"));
        head.push("p99".into());
    }
    let mut rows = vec![head];
    for p in points {
        let s = &p.sweep;
        let n = s.runs.len().max(1);
        let ok = s.runs.iter().filter(|r| r.ending == "ok").count();
        let mut row = p.values.clone();
        row.push(format!("{:.1}%", 100.0 * ok as f64 / n as f64));
        row.push(dur(s.makespan.percentile(50.0)));
        row.push(dur(s.makespan.percentile(99.0)));
        for name in &tasks {
            match s.tasks.iter().find(|t| t.name == *name) {
                Some(t) if t.durations.count > 0 => {
                    row.push(dur(t.durations.percentile(50.0)));
                    row.push(dur(t.durations.percentile(99.0)));
                }
                _ => row.extend(["-".into(), "-".into()]),
            }
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_axis() {
        let a = Axis::parse("semaphores.pool=4, 8,16").unwrap();
        assert_eq!(a.path, "semaphores.pool");
        let values: Vec<&str> = a.values.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(values, ["4", "8", "16"]);
        assert!(Axis::parse("pool").unwrap_err().contains("no `=`"));
        assert!(Axis::parse("a=1,,2").unwrap_err().contains("empty value"));
        assert!(Axis::parse("a=1,1").unwrap_err().contains("twice"));
    }

    #[test]
    fn points_go_first_axis_outermost() {
        let axes = [
            Axis::parse("a=1,2").unwrap(),
            Axis::parse("b=x,y,z").unwrap(),
        ];
        let shown: Vec<String> = points(&axes)
            .unwrap()
            .into_iter()
            .map(|(values, _)| values.join(" "))
            .collect();
        assert_eq!(shown, ["1 x", "1 y", "1 z", "2 x", "2 y", "2 z"]);
        let big = [
            Axis::parse(&format!(
                "a={}",
                (0..40).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
            ))
            .unwrap(),
            Axis::parse(&format!(
                "b={}",
                (0..30).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
            ))
            .unwrap(),
        ];
        assert!(points(&big).unwrap_err().contains("1200 points"));
    }
}
