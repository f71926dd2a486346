//! Trace events: what happened, when, to whom; each is written out as it
//! happens by a renderer (see [`crate::render`]), never collected.

/// One line of the trace.
/// Every kind of event a trace can hold (`--events` takes these).
pub(crate) const KINDS: [&str; 37] = [
    "created",
    "started",
    "log",
    "sleep",
    "block",
    "put",
    "get",
    "wait",
    "acquired",
    "released",
    "join",
    "shutdown",
    "cancel",
    "uncancel",
    "cancelled",
    "caught",
    "timeout",
    "resolve",
    "set",
    "clear",
    "passed",
    "abort",
    "reset",
    "notify",
    "check",
    "failed",
    "done",
    "skipped",
    "retry",
    "attempt",
    "group",
    "delayed",
    "callback",
    "thread_queued",
    "thread_started",
    "thread_done",
    "unretrieved",
];

pub(crate) struct Event {
    pub(crate) time: u64,
    pub(crate) actor: String,
    pub(crate) kind: &'static str,
    pub(crate) detail: String,
    /// Shown only with `--verbose`.
    pub(crate) verbose: bool,
    /// A level this event changed: permits in use, or a queue's depth.
    pub(crate) gauge: Option<Gauge>,
}

/// A value over time, for the renderers that plot it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Gauge {
    /// `permits` or `depth`.
    pub(crate) kind: &'static str,
    /// The semaphore or queue.
    pub(crate) name: String,
    pub(crate) value: u64,
    /// Permits, or the queue's capacity.
    pub(crate) bound: Option<u64>,
}

impl Event {
    /// An event of `actor` at `time` (nanoseconds).
    pub(crate) fn new(time: u64, actor: String, kind: &'static str, detail: String) -> Event {
        Event {
            time,
            actor: visible(actor),
            kind,
            detail: visible(detail),
            verbose: false,
            gauge: None,
        }
    }

    pub(crate) fn verbose(mut self) -> Event {
        self.verbose = true;
        self
    }

    pub(crate) fn with_gauge(mut self, gauge: Gauge) -> Event {
        self.gauge = Some(gauge);
        self
    }
}

/// The text with every control character but line breaks and tabs written
/// as a visible escape (`\u{1b}`): a log's ESC or BEL never reaches a
/// terminal raw, and every format stays well-formed (XML 1.0 forbids most
/// control characters even escaped).
pub(crate) fn visible(text: String) -> String {
    let hidden = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.contains(hidden) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}
