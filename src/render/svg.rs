//! A Gantt timeline drawn by the tool: one lane per task coloured by its
//! final state (waits shown lighter, retries as attempt segments split by
//! their dashed backoff gaps), the critical path outlined over the lanes,
//! the permits in use of each semaphore and the depth of each queue plotted
//! underneath on the same time axis, and the summary. `--format svg` writes
//! the picture; `--format html` a self-contained page with the picture, the
//! summary and the text trace.

use std::io::Write;

use super::timeline::{Lane, Series, Timeline};
use super::{Renderer, Text};
use crate::duration;
use crate::summary::{CriticalPath, Summary};
use crate::trace::Event;

const WIDTH: f64 = 1100.0;
const LABELS: f64 = 210.0;
const PLOT: f64 = WIDTH - LABELS - 30.0;
const SERIES_H: f64 = 56.0;

/// The colour of a final state, and its name in the legend.
const STATES: [(&str, &str); 5] = [
    ("done", "#43a047"),
    ("failed", "#e53935"),
    ("cancelled", "#fb8c00"),
    ("skipped", "#9e9e9e"),
    ("pending", "#1e88e5"),
];

fn color(state: &str) -> &'static str {
    STATES
        .iter()
        .find(|(s, _)| *s == state)
        .map_or("#757575", |(_, c)| c)
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Ticks at 1, 2 or 5 times a power of ten nanoseconds: about eight of them.
fn ticks(end: u64) -> Vec<u64> {
    let end = end.max(1);
    let raw = end as f64 / 8.0;
    let pow = 10f64.powi(raw.log10().floor() as i32);
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * pow)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * pow)
        .max(1.0) as u64;
    (0..=end / step).map(|i| i * step).collect()
}

/// The whole picture of a finished run.
pub(crate) fn draw(t: &Timeline, s: &Summary) -> String {
    let n = t.lanes.len();
    let row = if n == 0 {
        18.0
    } else {
        (640.0 / n as f64).clamp(3.0, 18.0)
    };
    let top = 76.0;
    let lanes_h = row * n as f64;
    let series_top = top + lanes_h + 30.0;
    let summary_top = series_top + SERIES_H * t.series.len() as f64 + 24.0;
    let lines = summary_lines(s);
    let height = summary_top + 18.0 * lines.len() as f64 + 16.0;
    let end = t.end.max(1);
    let x = |ns: u64| LABELS + PLOT * ns as f64 / end as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height:.0}\" viewBox=\"0 0 {WIDTH} {height:.0}\" font-family=\"Helvetica, Arial, DejaVu Sans, sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n<text x=\"12\" y=\"22\" font-size=\"16\" font-weight=\"bold\">{}</text>\n",
        escape(&t.title)
    );
    svg.push_str(&legend());
    // Time axis: grid lines and labels.
    for tick in ticks(end) {
        let tx = x(tick);
        svg.push_str(&format!(
            "<line x1=\"{tx:.1}\" y1=\"{:.1}\" x2=\"{tx:.1}\" y2=\"{:.1}\" stroke=\"#e0e0e0\"/>\n<text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#616161\">{}</text>\n",
            top - 6.0,
            series_top + SERIES_H * t.series.len() as f64,
            top - 10.0,
            duration::format(tick)
        ));
    }
    // Blocking calls: a band across every lane while the loop was held.
    for (who, from, to) in &t.blocks {
        let (b0, b1) = (x(*from), x(*to));
        svg.push_str(&format!(
            "<rect x=\"{b0:.2}\" y=\"{:.1}\" width=\"{:.2}\" height=\"{lanes_h:.1}\" fill=\"#fdd835\" fill-opacity=\"0.25\"><title>the loop was blocked by {}</title></rect>\n<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#8d6e00\" font-size=\"11\">blocked by {}</text>\n",
            top,
            (b1 - b0).max(1.0),
            escape(who),
            b0 + 3.0,
            top + lanes_h + 14.0,
            escape(who)
        ));
    }
    let label_each = row >= 11.0;
    let mut last_group: Option<&str> = None;
    for (i, lane) in t.lanes.iter().enumerate() {
        let y = top + row * i as f64;
        if label_each {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
                LABELS - 8.0,
                y + row * 0.72,
                escape(&lane.name)
            ));
        } else if last_group != Some(&lane.group) {
            let count = t.lanes.iter().filter(|l| l.group == lane.group).count();
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{} ({count})</text>\n<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#bdbdbd\"/>\n",
                LABELS - 8.0,
                y + 10.0,
                escape(&lane.group),
                LABELS - 4.0,
                WIDTH - 20.0
            ));
        }
        last_group = Some(&lane.group);
        svg.push_str(&bar(lane, y, row, &x));
    }
    if let Some(Ok(path)) = &s.critical {
        svg.push_str(&critical_path(t, path, s.makespan, top, row, &x));
    }
    for (k, series) in t.series.iter().enumerate() {
        svg.push_str(&plot(series, series_top + SERIES_H * k as f64, end, &x));
    }
    for (k, line) in lines.iter().enumerate() {
        svg.push_str(&format!(
            "<text x=\"12\" y=\"{:.1}\" fill=\"#212121\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" xml:space=\"preserve\">{}</text>\n",
            summary_top + 18.0 * k as f64,
            escape(line)
        ));
    }
    svg.push_str("</svg>\n");
    svg
}

/// The critical path over the lanes: each link outlined on its task's lane
/// (an arrival's wait dashed before the task existed), and a line down or
/// up where one task made the next ready.
fn critical_path(
    t: &Timeline,
    path: &CriticalPath,
    makespan: u64,
    top: f64,
    row: f64,
    x: &dyn Fn(u64) -> f64,
) -> String {
    let lane_of: std::collections::BTreeMap<&str, usize> = t
        .lanes
        .iter()
        .enumerate()
        .map(|(i, l)| (l.name.as_str(), i))
        .collect();
    let h = (row - if row > 6.0 { 3.0 } else { 1.0 }).max(1.0);
    let mut out = String::new();
    let mut last: Option<(f64, u64)> = None;
    for link in &path.links {
        let Some(&i) = lane_of.get(link.task.as_str()) else {
            last = None;
            continue;
        };
        let y = top + row * i as f64;
        let mid = y + h / 2.0;
        if let Some((prev_mid, at)) = last
            && (prev_mid - mid).abs() > 0.1
        {
            let cx = x(at);
            out.push_str(&format!(
                "<line x1=\"{cx:.2}\" y1=\"{prev_mid:.2}\" x2=\"{cx:.2}\" y2=\"{mid:.2}\" stroke=\"{CRITICAL}\" stroke-width=\"1.5\"/>\n"
            ));
        }
        last = Some((mid, link.to));
        if link.to == link.from {
            continue;
        }
        let share = match makespan {
            0 => 0.0,
            m => 100.0 * (link.to - link.from) as f64 / m as f64,
        };
        let title = format!(
            "critical path: {} {}{} from {} to {} ({share:.1}% of the makespan)",
            link.task,
            link.what,
            link.after
                .as_ref()
                .map_or(String::new(), |a| format!(" ({a})")),
            duration::format(link.from),
            duration::format(link.to)
        );
        let (x0, x1) = (x(link.from), x(link.to));
        if link.what == "arrival" {
            out.push_str(&format!(
                "<line x1=\"{x0:.2}\" y1=\"{mid:.2}\" x2=\"{x1:.2}\" y2=\"{mid:.2}\" stroke=\"{CRITICAL}\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"><title>{}</title></line>\n",
                escape(&title)
            ));
        } else {
            out.push_str(&format!(
                "<rect x=\"{x0:.2}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{h:.2}\" fill=\"none\" stroke=\"{CRITICAL}\" stroke-width=\"2\"><title>{}</title></rect>\n",
                (x1 - x0).max(1.0),
                escape(&title)
            ));
        }
    }
    out
}

/// The critical path's colour.
const CRITICAL: &str = "#212121";

fn legend() -> String {
    let mut out = String::new();
    for (k, (state, c)) in STATES.iter().enumerate() {
        let lx = LABELS + 110.0 * k as f64;
        let name = if *state == "pending" {
            "left waiting"
        } else {
            state
        };
        out.push_str(&format!(
            "<rect x=\"{lx}\" y=\"32\" width=\"12\" height=\"12\" fill=\"{c}\"/><text x=\"{}\" y=\"42\">{name}</text>\n",
            lx + 16.0
        ));
    }
    let lx = LABELS + 110.0 * STATES.len() as f64;
    out.push_str(&format!(
        "<rect x=\"{lx}\" y=\"33\" width=\"11\" height=\"11\" fill=\"none\" stroke=\"{CRITICAL}\" stroke-width=\"2\"/><text x=\"{}\" y=\"42\">critical path</text>\n",
        lx + 16.0
    ));
    out
}

/// A task's bar: its life in its state's colour, waits lighter on top.
fn bar(lane: &Lane, y: f64, row: f64, x: &dyn Fn(u64) -> f64) -> String {
    // Drawn from creation: the time before it started is a wait. A task
    // that never started is a thin mark where it ended.
    let end = lane.end.unwrap_or(lane.created);
    let start = if lane.start.is_some() {
        lane.created
    } else {
        end
    };
    let h = (row - if row > 6.0 { 3.0 } else { 1.0 }).max(1.0);
    let min_width = if lane.start.is_some() { 1.5 } else { 4.0 };
    let (x0, x1) = (x(start), x(end).max(x(start) + min_width));
    let mut out = format!(
        "<rect x=\"{x0:.2}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{h:.2}\" fill=\"{}\"><title>{} {}: {} to {}</title></rect>\n",
        x1 - x0,
        color(lane.state),
        escape(&lane.name),
        lane.state,
        duration::format(start),
        duration::format(end)
    );
    for (from, to) in &lane.waits {
        let (w0, w1) = (x(*from), x(*to));
        if w1 > w0 {
            out.push_str(&format!(
                "<rect x=\"{w0:.2}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{h:.2}\" fill=\"#ffffff\" fill-opacity=\"0.55\"/>\n",
                w1 - w0
            ));
        }
    }
    // Retries: each backoff is a gap with a thin line through it, so each
    // attempt is a segment of its own.
    for (from, to) in &lane.backoffs {
        let (b0, b1) = (x(*from), x(*to));
        let mid = y + h / 2.0;
        out.push_str(&format!(
            "<rect x=\"{b0:.2}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{h:.2}\" fill=\"#ffffff\"><title>{}: backoff {} to {}</title></rect>\n<line x1=\"{b0:.2}\" y1=\"{mid:.2}\" x2=\"{b1:.2}\" y2=\"{mid:.2}\" stroke=\"{}\" stroke-width=\"1\" stroke-dasharray=\"3 2\"/>\n",
            (b1 - b0).max(1.0),
            escape(&lane.name),
            duration::format(*from),
            duration::format(*to),
            color(lane.state)
        ));
    }
    out
}

/// A step plot of a level over time, scaled to its bound (or its peak).
fn plot(series: &Series, y: f64, end: u64, x: &dyn Fn(u64) -> f64) -> String {
    let h = SERIES_H - 22.0;
    let peak = series.points.iter().map(|p| p.1).max().unwrap_or(0);
    let top = series.bound.unwrap_or(peak).max(peak).max(1);
    let level = |v: u64| y + 16.0 + h - h * v as f64 / top as f64;
    let what = match series.kind {
        "permits" => format!("permits in use: {}", series.name),
        _ => format!("queue depth: {}", series.name),
    };
    let bound = series
        .bound
        .map_or("unbounded".to_owned(), |b| format!("of {b}"));
    let mut path = format!("M{:.2},{:.2}", x(0), level(0));
    let mut last = 0;
    for (t, v) in &series.points {
        path.push_str(&format!(" H{:.2} V{:.2}", x(*t), level(*v)));
        last = *v;
    }
    path.push_str(&format!(" H{:.2}", x(end)));
    let _ = last;
    format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#757575\">peak {peak} {bound}</text>\n<line x1=\"{LABELS}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#9e9e9e\"/>\n<path d=\"{path}\" fill=\"none\" stroke=\"#5e35b1\" stroke-width=\"1.5\"/>\n",
        LABELS - 8.0,
        y + 24.0,
        escape(&what),
        LABELS - 8.0,
        y + 38.0,
        level(0),
        x(end),
        level(0)
    )
}

/// The summary, as lines of text (the text renderer's, without the header).
fn summary_lines(s: &Summary) -> Vec<String> {
    let mut buf = Vec::new();
    Text::new(0).summary(&mut buf, s);
    String::from_utf8_lossy(&buf)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// `--format svg`.
#[derive(Default)]
pub(crate) struct Svg {
    timeline: Timeline,
}

impl Renderer for Svg {
    fn header(
        &mut self,
        _: &mut dyn Write,
        scenario: &str,
        seed: u64,
        python: crate::python::Python,
    ) {
        self.timeline.header(scenario, seed, python);
    }

    fn event(&mut self, _: &mut dyn Write, event: &Event) {
        self.timeline.event(event);
    }

    fn summary(&mut self, out: &mut dyn Write, s: &Summary) {
        self.timeline.finish(s);
        let _ = out.write_all(draw(&self.timeline, s).as_bytes());
    }

    fn wants_all(&self) -> bool {
        true
    }
}

/// `--format html`: the picture, the summary and the text trace in one page.
pub(crate) struct Html {
    timeline: Timeline,
    text: Text,
    trace: Vec<u8>,
    /// `--verbose`: the text trace shows sleeps too.
    verbose: bool,
}

impl Html {
    pub(crate) fn new(width: usize, verbose: bool) -> Html {
        Html {
            timeline: Timeline::default(),
            text: Text::new(width),
            trace: Vec::new(),
            verbose,
        }
    }
}

impl Renderer for Html {
    fn header(
        &mut self,
        _: &mut dyn Write,
        scenario: &str,
        seed: u64,
        python: crate::python::Python,
    ) {
        self.timeline.header(scenario, seed, python);
        self.text.header(&mut self.trace, scenario, seed, python);
    }

    fn event(&mut self, _: &mut dyn Write, event: &Event) {
        self.timeline.event(event);
        if !event.verbose || self.verbose {
            self.text.event(&mut self.trace, event);
        }
    }

    fn wants_all(&self) -> bool {
        true
    }

    fn summary(&mut self, out: &mut dyn Write, s: &Summary) {
        self.timeline.finish(s);
        let picture = draw(&self.timeline, s);
        let mut summary = Vec::new();
        self.text.summary(&mut summary, s);
        let title = escape(&self.timeline.title);
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>\nbody {{ font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #212121; }}\npre {{ background: #f5f5f5; padding: 12px; overflow-x: auto; font-size: 12px; }}\n.picture {{ overflow-x: auto; }}\n</style>\n</head>\n<body>\n<h1>{title}</h1>\n<div class=\"picture\">\n{picture}</div>\n<h2>Summary</h2>\n<pre>{}</pre>\n<details>\n<summary>Trace</summary>\n<pre>{}</pre>\n</details>\n</body>\n</html>\n",
            escape(String::from_utf8_lossy(&summary).trim()),
            escape(&String::from_utf8_lossy(&self.trace))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_run() {
        assert_eq!(ticks(3_000_000_000).len(), 7); // 0, 0.5s, ... 3s
        assert_eq!(ticks(3_000_000_000)[1], 500_000_000);
        assert!(!ticks(1).is_empty());
    }
}
