//! The critical path of a run: the chain of work and waits that decided its
//! makespan. While the run goes, the loop notes each time a task is made
//! ready what made it so (its own timer, another task's step, its creation,
//! an arrival); at the end the chain is followed back from the last task to
//! finish, through sleeps, timeouts, backoffs, blocking calls, awaits,
//! gathers, permits handed over and queue items, to the start of the run.

use crate::summary::{CriticalPath, PathLink};
use crate::task::TaskId;

/// What a task waited on when it was made ready, or what its timer was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum What {
    /// A new task's first step.
    Start,
    /// An arrival process's schedule (an open one), from the run's start.
    Arrival,
    /// A virtual user's think time before its next request.
    Think,
    Sleep,
    /// A retry's wait between attempts.
    Backoff,
    /// A deadline: `timeout`, `wait_for`, `wait`'s timeout.
    Timeout,
    /// A blocking call holding the loop.
    Block,
    /// Ready, but the loop was held by a blocking call.
    Delayed,
    /// A permit of semaphore `obj`.
    Permit,
    /// An item of queue `obj`.
    Item,
    /// Room in queue `obj`.
    Room,
    /// Queue `obj` drained (`join`).
    Drained,
    /// A task it awaited.
    Task,
    /// Future `obj`.
    Future,
    /// Event `obj` set.
    Event,
    /// Barrier `obj` filled, drained, broken or reset.
    Barrier,
    /// Condition `obj` notified.
    Notify,
    Gather,
    /// `wait`, `wait_for`, `after`'s upstream tasks.
    Wait,
    /// One turn of the loop.
    Turn,
    /// A cancellation.
    Cancel,
    /// A callback's timer (`call_later`, `call_at`).
    Callback,
}

impl What {
    /// The word a summary shows.
    pub(crate) fn name(self) -> &'static str {
        match self {
            What::Start => "start",
            What::Arrival => "arrival",
            What::Think => "think",
            What::Sleep => "sleep",
            What::Backoff => "backoff",
            What::Timeout => "timeout",
            What::Block => "block",
            What::Delayed => "delayed",
            What::Permit => "permit",
            What::Item => "item",
            What::Room => "room",
            What::Drained => "drained",
            What::Task => "await",
            What::Future => "future",
            What::Event => "event",
            What::Barrier => "barrier",
            What::Notify => "notify",
            What::Gather => "gather",
            What::Wait => "wait",
            What::Turn => "turn",
            What::Cancel => "cancel",
            What::Callback => "callback",
        }
    }
}

/// What the loop is running now: whatever it makes ready was made ready by this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// The run's start: the root tasks.
    Root,
    /// An open arrival process's timer.
    Arrival,
    /// The step of the task whose latest record is this one.
    Step(u32),
    /// A timer that the task of this record armed, of this kind.
    Timer(u32, What),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Root,
    Arrival,
    /// Started by a step (the record's `from`).
    Spawned,
    /// Woken by a step (`from`), waiting on `what`.
    Step,
    /// Woken by a timer that the task of `from` armed.
    Timer,
    /// The same task, once its blocking call let go of the loop.
    Block,
}

/// One instant a task was made ready.
#[derive(Clone, Copy, Debug)]
struct Rec {
    time: u64,
    task: TaskId,
    /// The record this one came from (see [`Kind`]); [`NONE`] for none.
    from: u32,
    /// The semaphore, queue or future of `what`.
    obj: u32,
    kind: Kind,
    what: What,
}

const NONE: u32 = u32::MAX;
/// Set in a task's head while it is ready and has not run: a second
/// wake-up before it runs changes nothing.
const QUEUED: u32 = 1 << 31;
/// Records kept at most, whatever the limit says: indices fit in 31 bits.
const MAX_RECORDS: u64 = (QUEUED - 1) as u64;

/// Records room is made for at once (96 KiB): a small run never grows its
/// vectors, and a sweep's runs each allocate once.
const START: u64 = 4096;

/// The notes of one run.
pub(crate) struct Recorder {
    recs: Vec<Rec>,
    /// Per task: its latest record ([`NONE`] before its first), maybe [`QUEUED`].
    heads: Vec<u32>,
    current: Cause,
    /// The record of the last task to finish, and when it finished.
    last_finish: Option<(u32, u64)>,
    /// The record of the last step to run, and when it ran (a run whose
    /// last event is a step of a task that never finishes ends there).
    last_step: Option<(u32, u64)>,
    /// Records kept at most (`--max-path-records`).
    cap: usize,
    /// Past `cap`: the notes are dropped and nothing more is noted.
    full: bool,
}

impl Default for Recorder {
    fn default() -> Recorder {
        Recorder::new(MAX_RECORDS)
    }
}

impl Recorder {
    /// A recorder keeping at most `cap` records.
    pub(crate) fn new(cap: u64) -> Recorder {
        Recorder {
            recs: Vec::with_capacity(cap.min(START) as usize),
            heads: Vec::with_capacity(cap.min(START) as usize / 4),
            current: Cause::Root,
            last_finish: None,
            last_step: None,
            cap: cap.min(MAX_RECORDS) as usize,
            full: false,
        }
    }

    /// Whether the notes were dropped: more records than allowed.
    pub(crate) fn is_full(&self) -> bool {
        self.full
    }

    pub(crate) fn current(&self) -> Cause {
        self.current
    }

    /// What runs now (a callback runs as what scheduled it).
    pub(crate) fn set_current(&mut self, cause: Cause) {
        self.current = cause;
    }

    /// The latest record of `task`, if it has one.
    fn head(&self, task: TaskId) -> Option<u32> {
        match self.heads.get(task as usize) {
            Some(&h) if h != NONE => Some(h & !QUEUED),
            _ => None,
        }
    }

    /// The cause of a timer that `owner` armed.
    pub(crate) fn timer_of(&self, owner: TaskId, what: What) -> Cause {
        match self.head(owner) {
            Some(rec) => Cause::Timer(rec, what),
            None => Cause::Root,
        }
    }

    fn push(&mut self, task: TaskId, time: u64, kind: Kind, from: u32, what: What, obj: u32) {
        if self.full {
            return;
        }
        if self.recs.len() >= self.cap {
            // The memory goes back; the run goes on without a path.
            self.full = true;
            self.recs = Vec::new();
            self.heads = Vec::new();
            self.last_finish = None;
            self.last_step = None;
            return;
        }
        self.recs.push(Rec {
            time,
            task,
            from,
            obj,
            kind,
            what,
        });
        self.heads[task as usize] = (self.recs.len() - 1) as u32 | QUEUED;
    }

    /// Task `task` was created now (ids come in order): by the step that
    /// runs, at the run's start, or by an arrival.
    pub(crate) fn created(&mut self, task: TaskId, now: u64) {
        if self.full {
            return;
        }
        debug_assert_eq!(task as usize, self.heads.len());
        self.heads.push(NONE);
        let (kind, from) = match self.current {
            Cause::Root => (Kind::Root, NONE),
            Cause::Arrival => (Kind::Arrival, NONE),
            Cause::Step(rec) => (Kind::Spawned, rec),
            // A virtual user's next request: after its think time.
            Cause::Timer(rec, _) => (Kind::Timer, rec),
        };
        let what = match self.current {
            Cause::Timer(_, what) => what,
            _ => What::Start,
        };
        self.push(task, now, kind, from, what, 0);
    }

    /// Task `task` is made ready now, waiting on `what` (`obj`): noted
    /// unless it is ready already.
    pub(crate) fn woken(&mut self, task: TaskId, now: u64, what: What, obj: u32) {
        if self.full {
            return;
        }
        let head = self.heads[task as usize];
        if head & QUEUED != 0 && head != NONE {
            return;
        }
        let (kind, from, what) = match self.current {
            Cause::Step(rec) => (Kind::Step, rec, what),
            Cause::Timer(rec, timer) => (Kind::Timer, rec, timer),
            Cause::Root => (Kind::Root, NONE, what),
            Cause::Arrival => (Kind::Arrival, NONE, what),
        };
        self.push(task, now, kind, from, what, obj);
    }

    /// Task `task` runs a step now: what it makes ready, it made ready.
    pub(crate) fn running(&mut self, task: TaskId, now: u64) {
        match self.heads.get_mut(task as usize) {
            Some(h) if *h != NONE => {
                *h &= !QUEUED;
                self.current = Cause::Step(*h);
                self.last_step = Some((*h, now));
            }
            _ => self.current = Cause::Root,
        }
    }

    /// What `task` does now is its doing (asyncio.run cancelling what
    /// `main` left, once `main` ended).
    pub(crate) fn acting(&mut self, task: TaskId) {
        self.current = match self.head(task) {
            Some(rec) => Cause::Step(rec),
            None => Cause::Root,
        };
    }

    /// The running task's blocking call held the loop until `now`.
    pub(crate) fn blocked(&mut self, task: TaskId, now: u64) {
        let Some(from) = self.head(task) else {
            return;
        };
        self.push(task, now, Kind::Block, from, What::Block, 0);
        if let Some(h) = self.heads.get_mut(task as usize) {
            *h &= !QUEUED;
            self.current = Cause::Step(*h);
            self.last_step = Some((*h, now));
        }
    }

    /// Task `task` finished now, in the step that runs.
    pub(crate) fn finished(&mut self, task: TaskId, now: u64) {
        if let Some(rec) = self.head(task) {
            self.last_finish = Some((rec, now));
        }
    }

    /// The chain that ended with the last task to finish (or, when a task
    /// that never finishes ran later, with that last step), from the run's
    /// start to `makespan`, in time order; `None` when the notes were cut
    /// short or no task ran.
    pub(crate) fn path(&self, makespan: u64) -> Option<Vec<Link>> {
        if self.full {
            return None;
        }
        let (mut rec, mut until) = match (self.last_finish, self.last_step) {
            (Some(f), Some(s)) if s.1 > f.1 => s,
            (Some(f), _) => f,
            (None, s) => s?,
        };
        let mut back: Vec<Link> = Vec::new();
        // The path ends where the last task finished (a run stopped by a
        // limit may go on a little longer; that time is on no path).
        until = until.min(makespan);
        loop {
            let r = self.recs[rec as usize];
            if r.time < until {
                // Made ready at r.time but ran later: the loop was held.
                back.push(Link::span(r.task, r.time, until, What::Delayed, 0));
            }
            match r.kind {
                Kind::Root => break,
                Kind::Arrival => {
                    back.push(Link::span(r.task, 0, r.time, What::Arrival, 0));
                    break;
                }
                Kind::Spawned | Kind::Step => {
                    let from = self.recs[r.from as usize];
                    if from.task != r.task {
                        let what = if r.kind == Kind::Spawned {
                            What::Start
                        } else {
                            r.what
                        };
                        back.push(Link {
                            task: r.task,
                            from: r.time,
                            to: r.time,
                            what,
                            obj: r.obj,
                            by: Some(from.task),
                        });
                    }
                    rec = r.from;
                    until = r.time;
                }
                Kind::Timer | Kind::Block => {
                    let from = self.recs[r.from as usize];
                    if from.task != r.task {
                        // Another task's timer (a timeout cancelling what
                        // it awaits; a user's think time before a request).
                        back.push(Link {
                            task: r.task,
                            from: r.time,
                            to: r.time,
                            what: r.what,
                            obj: r.obj,
                            by: Some(from.task),
                        });
                    }
                    back.push(Link::span(from.task, from.time, r.time, r.what, r.obj));
                    rec = r.from;
                    until = from.time;
                }
            }
        }
        back.reverse();
        Some(back)
    }
}

/// One link of the path: a span of a task's own time (`by` is `None`), or
/// the instant another task (`by`) made it ready (`from == to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Link {
    pub(crate) task: TaskId,
    pub(crate) from: u64,
    pub(crate) to: u64,
    pub(crate) what: What,
    /// The semaphore, queue or future `what` names.
    pub(crate) obj: u32,
    pub(crate) by: Option<TaskId>,
}

impl Link {
    fn span(task: TaskId, from: u64, to: u64, what: What, obj: u32) -> Link {
        Link {
            task,
            from,
            to,
            what,
            obj,
            by: None,
        }
    }
}

/// The time each task definition spent on the path (its instances'
/// links; an arrival's wait is the schedule's, not the task's), indexed by
/// definition as `def_of` gives it.
pub(crate) fn time_per_definition(
    links: &[Link],
    def_of: &dyn Fn(TaskId) -> usize,
    definitions: usize,
) -> Vec<u64> {
    let mut ns = vec![0u64; definitions];
    for link in links {
        if link.by.is_none()
            && link.what != What::Arrival
            && let Some(total) = ns.get_mut(def_of(link.task))
        {
            *total += link.to - link.from;
        }
    }
    ns
}

/// How the path's tasks and objects are named.
pub(crate) struct Names<'a> {
    /// A task's trace name (`worker[3]`).
    pub(crate) task: &'a dyn Fn(TaskId) -> String,
    /// A task's definition (`worker`).
    pub(crate) definition: &'a dyn Fn(TaskId) -> String,
    /// The semaphore, queue or future a [`What`] with its `obj` names.
    pub(crate) object: &'a dyn Fn(What, u32) -> String,
}

/// The path as a summary shows it: consecutive spans of one task merged
/// into a link, each begun by what made the task ready; links of no time
/// are left out but for the last (how the last task was made ready).
pub(crate) fn present(links: &[Link], names: &Names<'_>) -> CriticalPath {
    struct Open {
        task: TaskId,
        from: u64,
        to: u64,
        whats: Vec<What>,
        /// The hand-off that began it.
        handoff: Option<What>,
        after: Option<String>,
    }
    let mut out: Vec<PathLink> = Vec::new();
    let mut by_def: Vec<(String, u64)> = Vec::new();
    let mut open: Option<Open> = None;
    let close = |open: Option<Open>, out: &mut Vec<PathLink>| {
        if let Some(o) = open {
            let what = match (o.whats.is_empty(), o.handoff) {
                (true, Some(h)) => h.name().to_owned(),
                _ => {
                    let words: Vec<&str> = o.whats.iter().map(|w| w.name()).collect();
                    words.join(", ")
                }
            };
            out.push(PathLink {
                task: (names.task)(o.task),
                from: o.from,
                to: o.to,
                what,
                after: o.after,
            });
        }
    };
    for link in links {
        match link.by {
            Some(by) => {
                close(open.take(), &mut out);
                let object = || (names.object)(link.what, link.obj);
                let by = (names.task)(by);
                let after = match link.what {
                    What::Start => format!("started by {by}"),
                    What::Permit => format!("a permit of {} from {by}", object()),
                    What::Item => format!("an item of {} from {by}", object()),
                    What::Room => format!("room in {} from {by}", object()),
                    What::Drained => format!("{} drained by {by}", object()),
                    What::Task => format!("{by} finished"),
                    What::Future => format!("{} resolved by {by}", object()),
                    What::Event => format!("{} set by {by}", object()),
                    What::Barrier => format!("barrier {} passed by {by}", object()),
                    What::Notify => format!("{} notified by {by}", object()),
                    What::Gather => format!("a gather ended by {by}"),
                    What::Wait => format!("a wait ended by {by}"),
                    What::Timeout => format!("a timeout of {by}"),
                    What::Think => format!("{by} ended, then a think time"),
                    What::Cancel => format!("cancelled by {by}"),
                    _ => format!("woken by {by}"),
                };
                open = Some(Open {
                    task: link.task,
                    from: link.from,
                    to: link.to,
                    whats: Vec::new(),
                    handoff: Some(link.what),
                    after: Some(after),
                });
            }
            None if link.to == link.from => {}
            None => {
                let def = match link.what {
                    // The schedule's time, not the task's.
                    What::Arrival => format!("{} arrivals", (names.definition)(link.task)),
                    _ => (names.definition)(link.task),
                };
                match by_def.iter_mut().find(|(d, _)| *d == def) {
                    Some((_, ns)) => *ns += link.to - link.from,
                    None => by_def.push((def, link.to - link.from)),
                }
                match &mut open {
                    // An arrival's wait is the schedule's, not the task's work.
                    Some(o)
                        if o.task == link.task
                            && o.to == link.from
                            && link.what != What::Arrival
                            && !o.whats.contains(&What::Arrival) =>
                    {
                        o.to = link.to;
                        if !o.whats.contains(&link.what) {
                            o.whats.push(link.what);
                        }
                    }
                    _ => {
                        close(open.take(), &mut out);
                        open = Some(Open {
                            task: link.task,
                            from: link.from,
                            to: link.to,
                            whats: vec![link.what],
                            handoff: None,
                            after: None,
                        });
                    }
                }
            }
        }
    }
    close(open.take(), &mut out);
    // Hand-offs at one instant (a permit passed on, then a task started)
    // take no time: only the one that ends the path is kept as a link.
    let last = out.len().saturating_sub(1);
    let mut k = 0;
    out.retain(|l| {
        k += 1;
        l.to > l.from || k - 1 == last
    });
    by_def.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let (mut omitted, mut omitted_ns) = (0, 0);
    if out.len() > CriticalPath::KEPT {
        let half = CriticalPath::KEPT / 2;
        let cut: Vec<PathLink> = out.drain(half..out.len() - half).collect();
        omitted = cut.len();
        omitted_ns = cut.iter().map(|l| l.to - l.from).sum();
    }
    CriticalPath {
        links: out,
        omitted,
        omitted_ns,
        by_definition: by_def,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    /// main (0) starts a (1) and b (2) at 0; a sleeps 1 s and releases a
    /// permit to b, which sleeps 2 s; main, gathering them, ends at 3 s.
    fn handover() -> Recorder {
        let mut r = Recorder::default();
        r.created(0, 0);
        r.running(0, 0);
        r.created(1, 0);
        r.created(2, 0);
        r.running(1, 0);
        r.running(2, 0);
        // a's sleep ends.
        r.set_current(r.timer_of(1, What::Sleep));
        r.woken(1, S, What::Turn, 0);
        r.running(1, S);
        r.woken(2, S, What::Permit, 7);
        r.finished(1, S);
        r.running(2, S);
        // b's sleep ends.
        r.set_current(r.timer_of(2, What::Sleep));
        r.woken(2, 3 * S, What::Turn, 0);
        r.running(2, 3 * S);
        r.woken(0, 3 * S, What::Gather, 0);
        r.finished(2, 3 * S);
        r.running(0, 3 * S);
        r.finished(0, 3 * S);
        r
    }

    #[test]
    fn the_path_follows_timers_and_hand_offs_back_to_the_start() {
        let path = handover().path(3 * S).unwrap();
        let span = |task, from, to, what| Link::span(task, from, to, what, 0);
        let by = |task, at, what, obj, by| Link {
            task,
            from: at,
            to: at,
            what,
            obj,
            by: Some(by),
        };
        assert_eq!(
            path,
            vec![
                by(1, 0, What::Start, 0, 0),
                span(1, 0, S, What::Sleep),
                by(2, S, What::Permit, 7, 1),
                span(2, S, 3 * S, What::Sleep),
                by(0, 3 * S, What::Gather, 0, 2),
            ]
        );
    }

    #[test]
    fn a_second_wake_up_before_the_task_runs_changes_nothing() {
        let mut r = Recorder::default();
        r.created(0, 0);
        r.created(1, 0);
        r.running(0, 0);
        r.running(1, 0);
        r.set_current(Cause::Step(0));
        r.woken(1, 5, What::Item, 0);
        r.set_current(r.timer_of(1, What::Timeout));
        r.woken(1, 5, What::Turn, 0);
        r.running(1, 5);
        r.finished(1, 5);
        let path = r.path(5).unwrap();
        assert_eq!(path.last().unwrap().what, What::Item);
        assert_eq!(path.last().unwrap().by, Some(0));
    }

    #[test]
    fn a_blocking_call_is_its_task_own_time() {
        let mut r = Recorder::default();
        r.created(0, 0);
        r.running(0, 0);
        r.blocked(0, 2 * S);
        r.finished(0, 2 * S);
        let path = r.path(2 * S).unwrap();
        assert_eq!(path, vec![Link::span(0, 0, 2 * S, What::Block, 0)]);
    }

    #[test]
    fn an_arrival_waits_for_the_schedule_from_the_start() {
        let mut r = Recorder::default();
        r.set_current(Cause::Arrival);
        r.created(0, 4 * S);
        r.running(0, 4 * S);
        r.set_current(r.timer_of(0, What::Sleep));
        r.woken(0, 5 * S, What::Turn, 0);
        r.running(0, 5 * S);
        r.finished(0, 5 * S);
        let path = r.path(5 * S).unwrap();
        assert_eq!(
            path,
            vec![
                Link::span(0, 0, 4 * S, What::Arrival, 0),
                Link::span(0, 4 * S, 5 * S, What::Sleep, 0),
            ]
        );
        // The schedule's time is no task's.
        assert_eq!(time_per_definition(&path, &|_| 0, 1), vec![S]);
    }

    #[test]
    fn nothing_ran_no_path() {
        let mut r = Recorder::default();
        r.created(0, 0);
        assert_eq!(r.path(9), None);
    }

    #[test]
    fn a_step_after_the_last_finish_ends_the_path() {
        // main (0) finishes at 1 s; the daemon (1) it left runs a step at
        // 3 s, after its sleep, and never finishes.
        let mut r = Recorder::default();
        r.created(0, 0);
        r.created(1, 0);
        r.running(0, 0);
        r.running(1, 0);
        r.set_current(r.timer_of(0, What::Sleep));
        r.woken(0, S, What::Turn, 0);
        r.running(0, S);
        r.finished(0, S);
        r.set_current(r.timer_of(1, What::Sleep));
        r.woken(1, 3 * S, What::Turn, 0);
        r.running(1, 3 * S);
        assert_eq!(
            r.path(3 * S).unwrap(),
            vec![Link::span(1, 0, 3 * S, What::Sleep, 0)]
        );
    }

    #[test]
    fn presented_links_merge_a_task_spans_and_name_hand_offs() {
        let path = handover().path(3 * S).unwrap();
        let names = Names {
            task: &|t| ["main", "a", "b"][t as usize].to_owned(),
            definition: &|t| ["main", "a", "b"][t as usize].to_owned(),
            object: &|_, obj| format!("pool{obj}"),
        };
        let shown = present(&path, &names);
        let line = |l: &PathLink| {
            (
                l.task.clone(),
                l.from,
                l.to,
                l.what.clone(),
                l.after.clone(),
            )
        };
        let lines: Vec<_> = shown.links.iter().map(line).collect();
        assert_eq!(
            lines,
            vec![
                (
                    "a".into(),
                    0,
                    S,
                    "sleep".into(),
                    Some("started by main".into())
                ),
                (
                    "b".into(),
                    S,
                    3 * S,
                    "sleep".into(),
                    Some("a permit of pool7 from a".into())
                ),
                (
                    "main".into(),
                    3 * S,
                    3 * S,
                    "gather".into(),
                    Some("a gather ended by b".into())
                ),
            ]
        );
        assert_eq!(
            shown.by_definition,
            vec![("b".into(), 2 * S), ("a".into(), S)]
        );
    }
}
