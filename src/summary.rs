//! What a run reports at its end: counts, peaks, what was left waiting and
//! why, and the `[expect]` verdicts. Every format writes it.

/// What the run reports at its end.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub makespan: u64,
    pub done: usize,
    pub failed: usize,
    pub cancelled: usize,
    pub skipped: usize,
    pub pending: usize,
    pub semaphores: Vec<SemaphoreUse>,
    pub queues: Vec<QueueUse>,
    /// (task, what it waits on) for tasks left unfinished.
    pub waiting: Vec<(String, String)>,
    pub checks_failed: u32,
    /// Why a limit stopped the run.
    pub stopped: Option<String>,
    /// Why the tasks that should finish cannot.
    pub deadlock: Option<String>,
    /// Per blocking task: how long it held the loop, whom it delayed.
    pub blocking: Vec<String>,
    /// `--compare sequential`: the makespan with every sleep blocking
    /// (`Err`: which limit stopped that run, and how to raise it).
    pub sequential: Option<Result<u64, String>>,
    /// `--clock real`: (speed, measured wall time in nanoseconds).
    pub real: Option<(f64, u64)>,
    /// `[expect]`, checked.
    pub expectations: Vec<Verdict>,
    /// How many `[expect.sweep]` thresholds a single run leaves to `--runs`.
    pub sweep_only: usize,
}

impl Summary {
    /// How many of the tasks left waiting are listed one by one.
    pub(crate) const WAITING_SHOWN: usize = 20;
}

/// One expectation, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub what: String,
    pub expected: String,
    pub actual: String,
    pub ok: bool,
    /// The duration behind `actual`, when it is one: the text trace shows
    /// it at its precision (`actual` is exact, for JSON Lines).
    pub actual_ns: Option<u64>,
}

impl Verdict {
    pub(crate) fn new(what: String, expected: String, actual: String, ok: bool) -> Verdict {
        Verdict {
            what,
            expected,
            actual,
            ok,
            actual_ns: None,
        }
    }

    pub(crate) fn of_duration(mut self, ns: u64) -> Verdict {
        self.actual_ns = Some(ns);
        self
    }
}

/// A semaphore over the run: its peak, and its time-weighted use.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct SemaphoreUse {
    pub name: String,
    pub peak: u32,
    pub permits: u32,
    /// Mean permits in use over the makespan (time-weighted).
    pub mean_in_use: f64,
    /// Mean acquirers waiting over the makespan (time-weighted).
    pub mean_waiting: f64,
    /// How many times a permit was taken.
    pub acquisitions: u64,
    /// How long an acquisition waited for its permit: mean and p95 (ns).
    pub wait_mean: u64,
    pub wait_p95: u64,
}

impl SemaphoreUse {
    /// Mean permits in use over the permits: the share of time busy.
    pub(crate) fn utilisation(&self) -> f64 {
        self.mean_in_use / f64::from(self.permits.max(1))
    }
}

/// A queue over the run: its peak, and its time-weighted use.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct QueueUse {
    pub name: String,
    pub peak: usize,
    /// `None`: unbounded.
    pub capacity: Option<u32>,
    /// Mean depth over the makespan (time-weighted).
    pub mean_depth: f64,
    /// Items put and taken.
    pub puts: u64,
    pub gets: u64,
    /// The time getters spent waiting, per item taken, and putters per item
    /// put (ns): the area under the count of waiters over the items.
    pub get_wait_mean: u64,
    pub put_wait_mean: u64,
}
