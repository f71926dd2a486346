//! asyncio's `Barrier`, modelled in the single-threaded simulation: how
//! many parties it waits for, its state (filling, draining, resetting,
//! broken), how many tasks are in it, and the line of its condition's
//! waiters.
//!
//! CPython builds it on a `Condition` (`asyncio/locks.py`); its lock is
//! never held across a suspension, so it never makes anyone wait and is not
//! modelled. What is, measured on 3.11 to 3.13:
//! - `wait()` on a draining or resetting barrier waits (at the back of the
//!   condition's line) until it fills again; on a broken one it raises
//!   `BrokenBarrierError("Barrier aborted")` at once. Otherwise it takes the
//!   next index (how many tasks are in the barrier, so a cancelled waiter's
//!   index is given again); the task that fills the barrier starts its
//!   draining, notifies every waiter and returns its index without
//!   yielding; the others wait to be notified.
//! - a notified task looks at the state again on its own turn: still
//!   filling, it waits again (at the back of the line); draining, it
//!   leaves with its index; broken or resetting, it leaves with
//!   `BrokenBarrierError("Abort or reset of barrier")`. The last task to
//!   leave a draining or resetting barrier fills it again, and every task
//!   leaving last notifies the line.
//! - `abort()` breaks it and `reset()` resets it (or fills it when no task
//!   is in it, which mends a broken one); both notify the line and neither
//!   yields.
//! - a cancelled waiter leaves the line (and, past its index, the barrier);
//!   3.13's `Condition.wait` then notifies the first waiter of the line
//!   that is not notified yet, which looks again and, still filling, goes
//!   to the back of the line.
//!
//! A notification empties the line (every waiter then done); a cancelled
//! waiter stays in it, done, until a notification passes it or the line
//! has doubled since the last sweep, so a wait and a cancel cost O(1)
//! amortised.

use std::collections::VecDeque;
use std::rc::Rc;

use crate::task::{TaskId, Waiter};

/// What the barrier is doing (CPython's `_BarrierState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Filling,
    Draining,
    Resetting,
    Broken,
}

/// Where a waiting task is in `wait()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Not in yet: the barrier drains or resets (`_block`).
    Outside,
    /// In, with its index: waiting for the barrier to fill (`_wait`).
    Inside(u32),
}

/// What a `wait()` (or a notified waiter looking again) comes to.
pub(crate) enum Passage {
    /// Through, with its index.
    Through(u32),
    /// `BrokenBarrierError` with this message.
    Broken(&'static str),
    /// It waits to be notified, at this stage.
    Waits(Rc<Waiter>, Stage),
}

/// The message of `BrokenBarrierError` raised by `wait()` on a broken barrier.
pub(crate) const ABORTED: &str = "Barrier aborted";
/// The message of `BrokenBarrierError` raised in a waiter the barrier broke
/// or reset under.
pub(crate) const ABORT_OR_RESET: &str = "Abort or reset of barrier";

pub(crate) struct Barrier {
    parties: u32,
    phase: Phase,
    /// Tasks in the barrier (`_count`): those with an index, not yet gone.
    count: u32,
    /// The condition's waiters, in the order they began to wait; some may
    /// be done (cancelled) and not yet swept out.
    line: VecDeque<Rc<Waiter>>,
    /// The line's length after the last sweep.
    swept: usize,
}

impl Barrier {
    pub(crate) fn new(parties: u32) -> Barrier {
        Barrier {
            parties,
            phase: Phase::Filling,
            count: 0,
            line: VecDeque::new(),
            swept: 0,
        }
    }

    /// `parties`.
    pub(crate) fn parties(&self) -> u32 {
        self.parties
    }

    /// `n_waiting`: the tasks in it while it fills, else 0.
    pub(crate) fn n_waiting(&self) -> u32 {
        match self.phase {
            Phase::Filling => self.count,
            _ => 0,
        }
    }

    /// Its state as CPython names it (`filling`, `draining`...).
    pub(crate) fn state(&self) -> &'static str {
        match self.phase {
            Phase::Filling => "filling",
            Phase::Draining => "draining",
            Phase::Resetting => "resetting",
            Phase::Broken => "broken",
        }
    }

    /// `broken`.
    pub(crate) fn broken(&self) -> bool {
        self.phase == Phase::Broken
    }

    /// `task` calls `wait()`; `woken` gets the tasks it notifies.
    pub(crate) fn wait(&mut self, task: TaskId, woken: &mut Vec<TaskId>) -> Passage {
        match self.phase {
            Phase::Draining | Phase::Resetting => self.queue(task, Stage::Outside),
            Phase::Broken => Passage::Broken(ABORTED),
            Phase::Filling => {
                let index = self.count;
                self.count += 1;
                if self.count < self.parties {
                    return self.queue(task, Stage::Inside(index));
                }
                self.phase = Phase::Draining;
                self.notify_all(woken);
                self.leave(woken);
                Passage::Through(index)
            }
        }
    }

    /// A notified waiter of `task`, at `stage`, looks at the state again.
    pub(crate) fn look_again(
        &mut self,
        task: TaskId,
        stage: Stage,
        woken: &mut Vec<TaskId>,
    ) -> Passage {
        let Stage::Inside(index) = stage else {
            return self.wait(task, woken);
        };
        match self.phase {
            Phase::Filling => self.queue(task, stage),
            Phase::Draining => {
                self.leave(woken);
                Passage::Through(index)
            }
            Phase::Broken | Phase::Resetting => {
                self.leave(woken);
                Passage::Broken(ABORT_OR_RESET)
            }
        }
    }

    /// The waiter of a task at `stage` is cancelled (it may have been
    /// notified already): it leaves the line, and the barrier if it was in;
    /// `notify_one` (3.13) notifies the next waiter first.
    pub(crate) fn cancelled(
        &mut self,
        waiter: &Waiter,
        stage: Stage,
        notify_one: bool,
        woken: &mut Vec<TaskId>,
    ) {
        waiter.done.set(true);
        if notify_one {
            while let Some(w) = self.line.pop_front() {
                if !w.done.replace(true) {
                    woken.push(w.task);
                    break;
                }
            }
        }
        if let Stage::Inside(_) = stage {
            self.leave(woken);
        }
    }

    /// `abort()`.
    pub(crate) fn abort(&mut self, woken: &mut Vec<TaskId>) {
        self.phase = Phase::Broken;
        self.notify_all(woken);
    }

    /// `reset()`.
    pub(crate) fn reset(&mut self, woken: &mut Vec<TaskId>) {
        self.phase = match self.count {
            0 => Phase::Filling,
            _ => Phase::Resetting,
        };
        self.notify_all(woken);
    }

    /// A task with an index leaves (`_exit`): the last one fills it again
    /// and notifies the line.
    fn leave(&mut self, woken: &mut Vec<TaskId>) {
        self.count -= 1;
        if self.count == 0 {
            if matches!(self.phase, Phase::Draining | Phase::Resetting) {
                self.phase = Phase::Filling;
            }
            self.notify_all(woken);
        }
    }

    /// `task` waits at the back of the line.
    fn queue(&mut self, task: TaskId, stage: Stage) -> Passage {
        if self.line.len() >= 2 * self.swept + 16 {
            self.line.retain(|w| !w.done.get());
            self.swept = self.line.len();
        }
        let waiter = Waiter::new(task);
        self.line.push_back(waiter.clone());
        Passage::Waits(waiter, stage)
    }

    /// `notify_all()`: every waiter not yet done, in line order.
    fn notify_all(&mut self, woken: &mut Vec<TaskId>) {
        self.swept = 0;
        woken.extend(
            self.line
                .drain(..)
                .filter(|w| !w.done.replace(true))
                .map(|w| w.task),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waits(p: Passage) -> (Rc<Waiter>, Stage) {
        match p {
            Passage::Waits(w, s) => (w, s),
            _ => panic!("expected a wait"),
        }
    }

    fn through(p: Passage) -> u32 {
        match p {
            Passage::Through(i) => i,
            _ => panic!("expected an index"),
        }
    }

    #[test]
    fn the_last_party_passes_at_once_and_the_others_after_it() {
        let mut b = Barrier::new(3);
        let mut woken = Vec::new();
        let (_, s0) = waits(b.wait(0, &mut woken));
        let (_, s1) = waits(b.wait(1, &mut woken));
        assert_eq!(b.n_waiting(), 2);
        assert_eq!(through(b.wait(2, &mut woken)), 2);
        assert_eq!(woken, vec![0, 1]);
        assert_eq!(b.n_waiting(), 0);
        // A task back while it drains waits outside.
        let (_, outside) = waits(b.wait(2, &mut woken));
        assert_eq!(outside, Stage::Outside);
        woken.clear();
        assert_eq!(through(b.look_again(0, s0, &mut woken)), 0);
        assert_eq!(through(b.look_again(1, s1, &mut woken)), 1);
        // The last to leave fills it again, and notifies the one outside.
        assert_eq!(woken, vec![2]);
        let (_, inside) = waits(b.look_again(2, outside, &mut woken));
        assert_eq!(inside, Stage::Inside(0));
    }

    #[test]
    fn a_cancelled_party_gives_its_place_back() {
        let mut b = Barrier::new(3);
        let mut woken = Vec::new();
        let (w0, s0) = waits(b.wait(0, &mut woken));
        let (_, s1) = waits(b.wait(1, &mut woken));
        assert_eq!(s1, Stage::Inside(1));
        b.cancelled(&w0, s0, false, &mut woken);
        assert_eq!(b.n_waiting(), 1);
        let (_, s2) = waits(b.wait(2, &mut woken));
        assert_eq!(s2, Stage::Inside(1));
        assert!(woken.is_empty());
    }

    #[test]
    fn on_3_13_a_cancelled_waiter_notifies_the_next() {
        let mut b = Barrier::new(4);
        let mut woken = Vec::new();
        let (w0, s0) = waits(b.wait(0, &mut woken));
        let (_, s1) = waits(b.wait(1, &mut woken));
        let _ = waits(b.wait(2, &mut woken));
        b.cancelled(&w0, s0, true, &mut woken);
        assert_eq!(woken, vec![1]);
        // Still filling: it waits again, at the back.
        let _ = waits(b.look_again(1, s1, &mut woken));
        woken.clear();
        // The next comer gets the cancelled one's place: index 2 again.
        let (_, s3) = waits(b.wait(3, &mut woken));
        assert_eq!(s3, Stage::Inside(2));
        assert_eq!(through(b.wait(4, &mut woken)), 3);
        assert_eq!(woken, vec![2, 1, 3]);
    }

    #[test]
    fn abort_breaks_waiters_and_later_waits_and_reset_mends_it() {
        let mut b = Barrier::new(2);
        let mut woken = Vec::new();
        let (_, s0) = waits(b.wait(0, &mut woken));
        b.abort(&mut woken);
        assert_eq!(woken, vec![0]);
        assert!(b.broken());
        assert!(matches!(
            b.look_again(0, s0, &mut woken),
            Passage::Broken(ABORT_OR_RESET)
        ));
        assert!(matches!(b.wait(1, &mut woken), Passage::Broken(ABORTED)));
        b.reset(&mut woken);
        assert!(!b.broken());
        let _ = waits(b.wait(1, &mut woken));
        assert_eq!(b.n_waiting(), 1);
    }

    #[test]
    fn cancelled_waiters_do_not_pile_up() {
        let mut b = Barrier::new(2);
        let mut woken = Vec::new();
        for t in 0..10_000 {
            let (w, s) = waits(b.wait(t, &mut woken));
            b.cancelled(&w, s, false, &mut woken);
        }
        assert!(b.line.len() < 64, "{}", b.line.len());
        assert!(woken.is_empty());
    }
}
