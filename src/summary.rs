//! What a run reports at its end: counts, peaks, what was left waiting and
//! why, the throughput and latency per task definition, and the `[expect]`
//! verdicts. Every format writes it.

use crate::model::Stat;

/// What the run reports at its end.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub(crate) makespan: u64,
    pub(crate) done: usize,
    pub(crate) failed: usize,
    pub(crate) cancelled: usize,
    pub(crate) skipped: usize,
    pub(crate) pending: usize,
    pub(crate) semaphores: Vec<SemaphoreUse>,
    pub(crate) queues: Vec<QueueUse>,
    /// Per task definition with at least two finished instances, in the
    /// file's order: throughput and latency.
    pub(crate) tasks_by_definition: Vec<TaskLatency>,
    /// (task, what it waits on) for tasks left unfinished.
    pub(crate) waiting: Vec<(String, String)>,
    pub(crate) checks_failed: u32,
    /// Why a limit stopped the run.
    pub(crate) stopped: Option<String>,
    /// Why the tasks that should finish cannot.
    pub(crate) deadlock: Option<String>,
    /// Per blocking task: how long it held the loop, whom it delayed.
    pub(crate) blocking: Vec<String>,
    /// `--compare sequential`: the makespan with every sleep blocking
    /// (`Err`: which limit stopped that run, and how to raise it).
    pub(crate) sequential: Option<Result<u64, String>>,
    /// `--clock real`: (speed, measured wall time in nanoseconds).
    pub(crate) real: Option<(f64, u64)>,
    /// `[expect]`, checked.
    pub(crate) expectations: Vec<Verdict>,
    /// How many `[expect.sweep]` thresholds a single run leaves to `--runs`.
    pub(crate) sweep_only: usize,
    /// What `asyncio.run(main())` raises: `main`'s exception, as `repr()`
    /// shows it (none without a `main`, or when it returned).
    pub(crate) main_raises: Option<String>,
    /// The failures nobody retrieved, reported at the normal end of the
    /// run: the first [`Summary::UNRETRIEVED_SHOWN`], and how many in all.
    pub(crate) unretrieved: Vec<crate::retrieval::Unretrieved>,
    pub(crate) unretrieved_total: usize,
    /// What decided the makespan; `None` when no task finished; `Err`:
    /// why it was not followed.
    pub(crate) critical: Option<Result<CriticalPath, String>>,
}

impl Summary {
    /// How many of the tasks left waiting are listed one by one.
    pub(crate) const WAITING_SHOWN: usize = 20;
    /// How many unretrieved failures are listed one by one.
    pub(crate) const UNRETRIEVED_SHOWN: usize = 20;
}

/// One expectation, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) what: String,
    pub(crate) expected: String,
    pub(crate) actual: String,
    pub(crate) ok: bool,
    /// The duration behind `actual`, when it is one: the text trace shows
    /// it at its precision (`actual` is exact, for JSON Lines).
    pub(crate) actual_ns: Option<u64>,
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
    pub(crate) name: String,
    pub(crate) peak: u32,
    pub(crate) permits: u32,
    /// Mean permits in use over the makespan (time-weighted).
    pub(crate) mean_in_use: f64,
    /// Mean acquirers waiting over the makespan (time-weighted).
    pub(crate) mean_waiting: f64,
    /// How many times a permit was taken.
    pub(crate) acquisitions: u64,
    /// How long an acquisition waited for its permit: mean and p95 (ns).
    pub(crate) wait_mean: u64,
    pub(crate) wait_p95: u64,
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
    pub(crate) name: String,
    pub(crate) peak: usize,
    /// `None`: unbounded.
    pub(crate) capacity: Option<u32>,
    /// Mean depth over the makespan (time-weighted).
    pub(crate) mean_depth: f64,
    /// Items put and taken.
    pub(crate) puts: u64,
    pub(crate) gets: u64,
    /// The time getters spent waiting, per item taken, and putters per item
    /// put (ns): the area under the count of waiters over the items.
    pub(crate) get_wait_mean: u64,
    pub(crate) put_wait_mean: u64,
}

/// The finished instances of one task definition: how many, and the
/// percentiles of their start-to-end durations (as `[expect] durations`
/// computes them: nearest rank over the exact values).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TaskLatency {
    pub(crate) name: String,
    /// Instances that started and ended (done, failed or cancelled).
    pub(crate) finished: usize,
    /// Latency percentiles (ns).
    pub(crate) p50: u64,
    pub(crate) p90: u64,
    pub(crate) p99: u64,
    pub(crate) max: u64,
}

impl TaskLatency {
    /// Fewer finished instances than this say nothing a trace does not: one
    /// instance's latency is just its duration.
    pub(crate) const MIN_FINISHED: usize = 2;

    /// The latency of `name` out of its instances' durations, sorted;
    /// `None` below [`TaskLatency::MIN_FINISHED`] of them.
    pub(crate) fn of(name: &str, sorted: &[u64]) -> Option<TaskLatency> {
        if sorted.len() < Self::MIN_FINISHED {
            return None;
        }
        let stat = |s: Stat| s.of(sorted);
        Some(TaskLatency {
            name: name.to_owned(),
            finished: sorted.len(),
            p50: stat(Stat::Percentile(50))?,
            p90: stat(Stat::Percentile(90))?,
            p99: stat(Stat::Percentile(99))?,
            max: stat(Stat::Max)?,
        })
    }

    /// Finished instances per second of the makespan; `None` when the run
    /// took no time.
    pub(crate) fn throughput(&self, makespan: u64) -> Option<f64> {
        (makespan > 0).then(|| self.finished as f64 * 1e9 / makespan as f64)
    }
}

/// The critical path of a run: the chain of work and waits that ended
/// last, from the run's start to the last task's end.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct CriticalPath {
    /// Its links in time order (at most [`CriticalPath::KEPT`]: the first
    /// and the last halves).
    pub(crate) links: Vec<PathLink>,
    /// Links left out between the two halves, and their time.
    pub(crate) omitted: usize,
    pub(crate) omitted_ns: u64,
    /// Per task definition on the path: its time on it (ns), most first.
    pub(crate) by_definition: Vec<(String, u64)>,
}

impl CriticalPath {
    /// Links kept at most.
    pub(crate) const KEPT: usize = 10_000;
    /// Links a text summary shows at most: the first and last halves.
    pub(crate) const SHOWN: usize = 20;
}

/// One link of the critical path: a task's own time, begun when another
/// task (or its own timer) made it ready.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PathLink {
    pub(crate) task: String,
    pub(crate) from: u64,
    pub(crate) to: u64,
    /// What the time went to: `sleep`, `block`, `timeout`, `backoff`...
    /// (a link of no time: what made the task ready).
    pub(crate) what: String,
    /// How the link began: `started by main`, `a permit of pool from
    /// fetch[2]`; `None` for the path's first link or the task's own timer.
    pub(crate) after: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_nearest_rank_over_the_finished_instances() {
        // 1..=100 ms: the nearest rank of p is the p-th value.
        let ms: Vec<u64> = (1..=100).map(|k| k * 1_000_000).collect();
        let t = TaskLatency::of("request", &ms).unwrap();
        assert_eq!(t.finished, 100);
        assert_eq!(
            (t.p50, t.p90, t.p99, t.max),
            (50_000_000, 90_000_000, 99_000_000, 100_000_000)
        );
        // 100 in 5 s: 20 a second.
        assert_eq!(t.throughput(5_000_000_000), Some(20.0));
        assert_eq!(t.throughput(0), None);
    }

    #[test]
    fn few_instances_round_up_to_a_rank() {
        // Two values: p50 is the first (rank ceil(0.5 * 2) = 1), the rest the last.
        let t = TaskLatency::of("pair", &[3, 700]).unwrap();
        assert_eq!((t.p50, t.p90, t.p99, t.max), (3, 700, 700, 700));
        assert_eq!(t.throughput(4), Some(0.5e9));
        // One instance, or none, is no distribution.
        assert_eq!(TaskLatency::of("one", &[5]), None);
        assert_eq!(TaskLatency::of("none", &[]), None);
    }
}
