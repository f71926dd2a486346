//! The HTML pages of a `--runs` sweep and of a `--grid`: the text report,
//! a table per task, and SVG charts drawn from the sweep's histograms (the
//! makespans, a latency CDF per task; a metric against the grid's values).

use std::fmt::Write;

use crate::grid::{Axis, Point};
use crate::histogram::Histogram;
use crate::montecarlo::Sweep;
use crate::render::svg::escape;

/// Chart size, in pixels, and the margins for the axes' labels.
const W: f64 = 720.0;
const H: f64 = 260.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 40.0;

/// Line colours, one per series (colour-blind safe, after Okabe and Ito).
const COLOURS: [&str; 8] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442", "#000000",
];

/// A duration to four significant digits, for axes and tables.
fn dur(ns: u64) -> String {
    crate::duration::approx(ns)
}

fn page(title: &str, body: &str) -> String {
    let title = escape(title);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>\nbody {{ font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #212121; }}\npre {{ background: #f5f5f5; padding: 12px; overflow-x: auto; font-size: 12px; }}\ntable {{ border-collapse: collapse; font-size: 13px; }}\nth, td {{ border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: right; }}\nth:first-child, td:first-child {{ text-align: left; }}\nsvg text {{ font-size: 11px; fill: #424242; }}\n</style>\n</head>\n<body>\n<h1>{title}</h1>\n{body}</body>\n</html>\n"
    )
}

/// The page of a sweep: its makespan histogram, the latency CDF of each
/// task, the per-task table and the text report.
pub(crate) fn sweep_page(s: &Sweep, report: &str) -> String {
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<p>{} runs, seeds {} to {}.</p>",
        s.runs.len(),
        s.first_seed,
        s.first_seed + s.seeds.saturating_sub(1)
    );
    body.push_str("<h2>Makespan</h2>\n");
    body.push_str(&histogram_chart(&s.makespan, "makespan"));
    let tasks: Vec<_> = s.tasks.iter().filter(|t| t.durations.count > 0).collect();
    if !tasks.is_empty() {
        body.push_str("<h2>Task latency, cumulative</h2>\n");
        let series: Vec<(&str, &Histogram)> = tasks
            .iter()
            .map(|t| (t.name.as_str(), &t.durations))
            .collect();
        body.push_str(&cdf_chart(&series));
    }
    body.push_str("<h2>Tasks</h2>\n");
    body.push_str(&task_table(s));
    let _ = write!(body, "<h2>Report</h2>\n<pre>{}</pre>\n", escape(report));
    page(&format!("{}: {} runs", s.scenario, s.runs.len()), &body)
}

fn task_table(s: &Sweep) -> String {
    let mut t = String::from(
        "<table>\n<tr><th>task</th><th>instances</th><th>done</th><th>failed</th><th>cancelled</th><th>skipped</th><th>left waiting</th><th>p50</th><th>p90</th><th>p99</th><th>max</th><th>on the critical path</th><th>its share then</th></tr>\n",
    );
    let runs = s.runs.len().max(1) as f64;
    for task in &s.tasks {
        let all: u64 = task.states.iter().sum();
        let share = |n: u64| match all {
            0 => "-".to_owned(),
            all => format!("{:.1}%", 100.0 * n as f64 / all as f64),
        };
        let on = 100.0 * task.critical_runs as f64 / runs;
        let d = &task.durations;
        let p = |q: f64| match d.count {
            0 => "-".to_owned(),
            _ => dur(d.percentile(q)),
        };
        let _ = writeln!(
            t,
            "<tr><td>{}</td><td>{all}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{on:.1}% of runs</td><td>{}</td></tr>",
            escape(&task.name),
            share(task.states[0]),
            share(task.states[1]),
            share(task.states[2]),
            share(task.states[3]),
            share(task.states[4]),
            p(50.0),
            p(90.0),
            p(99.0),
            if d.count == 0 {
                "-".to_owned()
            } else {
                dur(d.max)
            },
            match task.critical_runs {
                0 => "-".to_owned(),
                n => format!(
                    "{:.1}% of the makespan",
                    task.critical_ppm as f64 / n as f64 / 1e4
                ),
            },
        );
    }
    t.push_str("</table>\n");
    t
}

/// The plotting area: x and y ranges mapped to pixels.
struct Frame {
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        let (lo, hi) = self.x;
        let span = if hi > lo { hi - lo } else { 1.0 };
        LEFT + (x - lo) / span * (W - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        let (lo, hi) = self.y;
        let span = if hi > lo { hi - lo } else { 1.0 };
        H - BOTTOM - (y - lo) / span * (H - TOP - BOTTOM)
    }

    /// The axes, with `ticks` labels on each: (value, label).
    fn axes(&self, out: &mut String, xs: &[(f64, String)], ys: &[(f64, String)], xlabel: &str) {
        let (x0, y0) = (LEFT, H - BOTTOM);
        let _ = writeln!(
            out,
            "<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{}\" y2=\"{y0}\" stroke=\"#9e9e9e\"/>",
            W - RIGHT
        );
        let _ = writeln!(
            out,
            "<line x1=\"{x0}\" y1=\"{TOP}\" x2=\"{x0}\" y2=\"{y0}\" stroke=\"#9e9e9e\"/>"
        );
        for (v, label) in xs {
            let x = self.px(*v);
            let _ = writeln!(
                out,
                "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                y0 + 14.0,
                escape(label)
            );
        }
        for (v, label) in ys {
            let y = self.py(*v);
            let _ = writeln!(
                out,
                "<line x1=\"{x0}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"#eeeeee\"/>",
                W - RIGHT
            );
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                x0 - 6.0,
                y + 4.0,
                escape(label)
            );
        }
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            (LEFT + W - RIGHT) / 2.0,
            H - 6.0,
            escape(xlabel)
        );
    }
}

fn svg_open(out: &mut String, what: &str) {
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\">",
        escape(what)
    );
}

/// Evenly spaced ticks over `0..=max`, labelled by `label`.
fn ticks(max: f64, n: usize, label: impl Fn(f64) -> String) -> Vec<(f64, String)> {
    (0..=n)
        .map(|k| {
            let v = max * k as f64 / n as f64;
            (v, label(v))
        })
        .collect()
}

/// Bars: how many runs fell in each of 20 equal bins between the least
/// and the greatest value.
fn histogram_chart(h: &Histogram, what: &str) -> String {
    let mut out = String::new();
    svg_open(&mut out, &format!("histogram of the {what}"));
    if h.count == 0 {
        out.push_str("</svg>\n");
        return out;
    }
    const BINS: usize = 20;
    let (lo, hi) = (h.min as f64, h.max as f64);
    let width = ((hi - lo) / BINS as f64).max(1.0);
    let mut bins = [0u64; BINS];
    for (value, n) in h.values() {
        let b = (((value as f64).clamp(lo, hi) - lo) / width) as usize;
        bins[b.min(BINS - 1)] += n;
    }
    let top = *bins.iter().max().unwrap_or(&1) as f64;
    let span = width * BINS as f64;
    let frame = Frame {
        x: (lo, lo + span),
        y: (0.0, top),
    };
    let xs: Vec<(f64, String)> = ticks(span, 4, |v| dur((lo + v) as u64))
        .into_iter()
        .map(|(v, label)| (lo + v, label))
        .collect();
    let ys = ticks(top, 4, |v| format!("{v:.0}"));
    frame.axes(&mut out, &xs, &ys, &format!("{what} (runs per bin)"));
    for (b, n) in bins.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let x = frame.px(lo + b as f64 * width);
        let x2 = frame.px(lo + (b + 1) as f64 * width);
        let y = frame.py(*n as f64);
        let _ = writeln!(
            out,
            "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} .. {}: {n}</title></rect>",
            x + 0.5,
            (x2 - x - 1.0).max(1.0),
            (H - BOTTOM - y).max(0.0),
            COLOURS[0],
            dur((lo + b as f64 * width) as u64),
            dur((lo + (b + 1) as f64 * width) as u64)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// A cumulative distribution per series: the share of instances that took
/// at most x.
fn cdf_chart(series: &[(&str, &Histogram)]) -> String {
    let mut out = String::new();
    let mut legends = String::from("<p>");
    svg_open(&mut out, "latency distribution of each task");
    let max = series.iter().map(|(_, h)| h.max).max().unwrap_or(0).max(1) as f64;
    let frame = Frame {
        x: (0.0, max),
        y: (0.0, 1.0),
    };
    let xs = ticks(max, 4, |v| dur(v as u64));
    let ys = ticks(1.0, 4, |v| format!("{:.0}%", v * 100.0));
    frame.axes(
        &mut out,
        &xs,
        &ys,
        "latency (share of instances at most this long)",
    );
    for (k, (name, h)) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let mut points = vec![format!("{:.1},{:.1}", frame.px(0.0), frame.py(0.0))];
        let mut seen = 0u64;
        for (value, n) in h.values() {
            seen += n;
            let x = frame.px((value.min(h.max)) as f64);
            points.push(format!(
                "{x:.1},{:.1}",
                frame.py(seen as f64 / h.count as f64)
            ));
        }
        let _ = writeln!(
            out,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>",
            points.join(" "),
            escape(name)
        );
        legend(&mut legends, name, colour);
    }
    out.push_str("</svg>\n");
    legends.push_str("</p>\n");
    legends + &out
}

/// A legend entry, as HTML above a chart: a swatch of the series' colour
/// and its name.
fn legend(out: &mut String, name: &str, colour: &str) {
    let _ = write!(
        out,
        "<span style=\"margin-right: 16px\"><span style=\"display: inline-block; width: 10px; height: 10px; background: {colour}\"></span> {}</span>",
        escape(name)
    );
}

/// How a metric is read from a sweep (`None` when it has no value).
type Reading<'a> = Box<dyn Fn(&Sweep) -> Option<f64> + 'a>;

/// One metric of the grid's points: its name, how to read it from a
/// sweep, and whether it is a share (else a duration).
struct Metric<'a> {
    name: String,
    read: Reading<'a>,
    share: bool,
}

fn metrics(points: &[Point]) -> Vec<Metric<'static>> {
    let mut out = vec![
        Metric {
            name: "runs that ended well".into(),
            read: Box::new(|s: &Sweep| {
                let n = s.runs.len();
                (n > 0)
                    .then(|| s.runs.iter().filter(|r| r.ending == "ok").count() as f64 / n as f64)
            }),
            share: true,
        },
        Metric {
            name: "makespan p99".into(),
            read: Box::new(|s: &Sweep| {
                (s.makespan.count > 0).then(|| s.makespan.percentile(99.0) as f64)
            }),
            share: false,
        },
    ];
    let mut names: Vec<String> = Vec::new();
    for p in points {
        for t in &p.sweep.tasks {
            if t.durations.count > 0 && !names.contains(&t.name) {
                names.push(t.name.clone());
            }
        }
    }
    for name in names {
        let label = format!("{name} latency p99");
        out.push(Metric {
            name: label,
            read: Box::new(move |s: &Sweep| {
                let t = s.tasks.iter().find(|t| t.name == name)?;
                (t.durations.count > 0).then(|| t.durations.percentile(99.0) as f64)
            }),
            share: false,
        });
    }
    out
}

/// The charts of a grid: each metric against the first axis's values, one
/// line per value of the second axis (if any).
pub(crate) fn grid_charts(axes: &[Axis], points: &[Point]) -> String {
    let mut out = String::new();
    let Some(first) = axes.first() else {
        return out;
    };
    let xs: Vec<&str> = first.shown().collect();
    let lines: Vec<Option<&str>> = match axes.get(1) {
        Some(second) => second.shown().map(Some).collect(),
        None => vec![None],
    };
    for metric in metrics(points) {
        let _ = writeln!(
            out,
            "<h2>{} against {}</h2>",
            escape(&metric.name),
            escape(first.path())
        );
        // Per line: the metric at each x, in order.
        let series: Vec<Vec<Option<f64>>> = lines
            .iter()
            .map(|line| {
                xs.iter()
                    .map(|x| {
                        let p = points.iter().find(|p| {
                            p.values[0] == *x
                                && line
                                    .is_none_or(|l| p.values.get(1).map(String::as_str) == Some(l))
                        })?;
                        (metric.read)(&p.sweep)
                    })
                    .collect()
            })
            .collect();
        let top = series
            .iter()
            .flatten()
            .flatten()
            .fold(0.0f64, |m, v| m.max(*v));
        let top = if metric.share { 1.0 } else { top.max(1.0) };
        let mut legends = String::new();
        let mut chart = String::new();
        svg_open(
            &mut chart,
            &format!("{} against {}", metric.name, first.path()),
        );
        let frame = Frame {
            x: (0.0, (xs.len().max(2) - 1) as f64),
            y: (0.0, top),
        };
        let xticks: Vec<(f64, String)> = xs
            .iter()
            .enumerate()
            .map(|(i, x)| (i as f64, (*x).to_owned()))
            .collect();
        let yticks = if metric.share {
            ticks(1.0, 4, |v| format!("{:.0}%", v * 100.0))
        } else {
            ticks(top, 4, |v| dur(v as u64))
        };
        frame.axes(&mut chart, &xticks, &yticks, first.path());
        for (k, (line, values)) in lines.iter().zip(&series).enumerate() {
            let colour = COLOURS[k % COLOURS.len()];
            let points: Vec<String> = values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    Some(format!("{:.1},{:.1}", frame.px(i as f64), frame.py((*v)?)))
                })
                .collect();
            let _ = writeln!(
                chart,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
                points.join(" ")
            );
            for (i, v) in values.iter().enumerate() {
                let Some(v) = v else { continue };
                let shown = if metric.share {
                    format!("{:.1}%", v * 100.0)
                } else {
                    dur(*v as u64)
                };
                let _ = writeln!(
                    chart,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"><title>{} = {}: {}</title></circle>",
                    frame.px(i as f64),
                    frame.py(*v),
                    escape(first.path()),
                    escape(xs[i]),
                    escape(&shown)
                );
            }
            if let (Some(line), Some(second)) = (line, axes.get(1)) {
                legend(&mut legends, &format!("{} = {line}", second.path()), colour);
            }
        }
        chart.push_str("</svg>\n");
        if !legends.is_empty() {
            let _ = writeln!(out, "<p>{legends}</p>");
        }
        out.push_str(&chart);
    }
    out
}

/// The page of a grid: its charts and its table.
pub(crate) fn grid_page(scenario: &str, axes: &[Axis], points: &[Point], table: &str) -> String {
    let mut body = grid_charts(axes, points);
    let _ = write!(body, "<h2>Table</h2>\n<pre>{}</pre>\n", escape(table));
    let over: Vec<&str> = axes.iter().map(Axis::path).collect();
    page(
        &format!("{scenario}: grid over {}", over.join(" and ")),
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_chart_draws_every_run() {
        let mut h = Histogram::default();
        for v in 1..=100u64 {
            h.record(v * 1_000_000);
        }
        let svg = histogram_chart(&h, "makespan");
        let drawn: u64 = svg
            .split("</title></rect>")
            .filter_map(|part| part.rsplit(": ").next()?.parse::<u64>().ok())
            .sum();
        assert_eq!(drawn, 100);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }

    #[test]
    fn a_cdf_ends_at_every_instance() {
        let mut h = Histogram::default();
        h.record(10);
        h.record(1_000);
        let svg = cdf_chart(&[("w<1>", &h)]);
        // The last point is at 100% (the top of the plotting area).
        assert!(svg.contains(&format!(",{TOP:.1}\"")), "{svg}");
        assert!(svg.contains("w&lt;1&gt;"));
    }
}
