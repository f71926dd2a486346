//! asyncio's `Queue`, modelled in the single-threaded simulation: the items,
//! the getters and putters waiting in the order they began to wait, the
//! count of unfinished items that `task_done` and `join` need, and the peak
//! depth.
//!
//! The rules are CPython's (`asyncio/queues.py`, the same in 3.11 to 3.13):
//! - `get` takes an item whenever the queue is not empty, even while others
//!   wait (a woken getter may find its item taken and waits again, at the
//!   back); `put` likewise whenever it is not full.
//! - each put wakes the first getter still waiting, each get the first
//!   putter (`_wakeup_next`): one waiter per item or free slot, never more;
//! - a waiter that was woken but is cancelled before it runs passes its
//!   wakeup on to the next one, if the queue still has an item (or room).
//!
//! A waiter whose task has a cancellation pending is skipped, as asyncio
//! skips a cancelled waiter future.
//!
//! `shutdown` (3.13): every later put fails, and a get once the queue is
//! empty (at once when `immediate`, which drops the items and counts each
//! as done); the joiners (when nothing is left unfinished), getters and
//! putters waiting are woken, in that order, to look again.
//!
//! `LifoQueue` and `PriorityQueue` differ from `Queue` only in `_put` and
//! `_get` (the lines of waiters are the same deques): [`items`] keeps each
//! kind's order.

mod items;

use std::collections::VecDeque;
use std::rc::Rc;

use items::Items;
pub(crate) use items::{Entry, Rank};

use crate::model::QueueKind;
use crate::task::{TaskId, Waiter};

/// Which side of the queue a task waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Get,
    Put,
}

pub(crate) struct Queue {
    items: Items,
    capacity: Option<u32>,
    getters: VecDeque<Rc<Waiter>>,
    putters: VecDeque<Rc<Waiter>>,
    unfinished: u64,
    joiners: Vec<Rc<Waiter>>,
    peak: usize,
    /// The number the next put to a priority queue draws.
    next_seq: u64,
    /// `shutdown()` was called.
    shut_down: bool,
    pub(crate) usage: Usage,
}

/// What `shutdown()` did: the items it dropped and the waiters it woke.
#[derive(Default)]
pub(crate) struct ShutDown {
    /// Items dropped (`immediate` only).
    pub(crate) dropped: usize,
    /// The joiners released (`immediate` only, when no item is left
    /// unfinished); their waiters are not set yet.
    pub(crate) joiners: Vec<Rc<Waiter>>,
    /// The getters, then the putters, woken (their waiters are set).
    pub(crate) getters: Vec<TaskId>,
    pub(crate) putters: Vec<TaskId>,
}

/// Time-weighted use since the run began, brought up to date by
/// [`Queue::at`] before every change. The area under a count of waiters is
/// the sum of their waits, so a mean wait per item is an area over a count.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    /// The instant the integrals reach.
    pub(crate) since: u64,
    /// The integrals over time of the depth, of the getters waiting and of
    /// the putters waiting (item-nanoseconds).
    pub(crate) depth_area: u128,
    pub(crate) getters_area: u128,
    pub(crate) putters_area: u128,
    /// Items put and taken.
    pub(crate) puts: u64,
    pub(crate) gets: u64,
}

impl Queue {
    pub(crate) fn new(capacity: Option<u32>, kind: QueueKind) -> Queue {
        Queue {
            items: Items::new(kind),
            capacity,
            getters: VecDeque::new(),
            putters: VecDeque::new(),
            unfinished: 0,
            joiners: Vec::new(),
            peak: 0,
            next_seq: 0,
            shut_down: false,
            usage: Usage::default(),
        }
    }

    /// Brings the time-weighted use up to `now`, before a change at `now`.
    pub(crate) fn at(&mut self, now: u64) -> &mut Queue {
        let dt = u128::from(now.saturating_sub(self.usage.since));
        if dt > 0 {
            self.usage.depth_area += self.items.len() as u128 * dt;
            self.usage.getters_area += self.getters.len() as u128 * dt;
            self.usage.putters_area += self.putters.len() as u128 * dt;
            self.usage.since = now;
        }
        self
    }

    pub(crate) fn depth(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn capacity(&self) -> Option<u32> {
        self.capacity
    }

    pub(crate) fn peak(&self) -> usize {
        self.peak
    }

    /// The number a put to a priority queue draws as it begins (the `seq`
    /// of `(priority, seq, item)`), which orders equal priorities: a put
    /// that waited for room keeps the number it drew.
    pub(crate) fn ticket(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Whether `shutdown()` was called: a put fails, and so does a get
    /// when the queue is empty.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down
    }

    /// `shutdown(immediate)`: from now on puts fail, and gets once the queue
    /// is empty. `immediate` drops the items, each counted done (never
    /// below 0), releasing the joiners when none is left unfinished. Every
    /// waiter not cancelled is woken to look again.
    pub(crate) fn shut_down(
        &mut self,
        immediate: bool,
        cancelled: impl Fn(TaskId) -> bool,
    ) -> ShutDown {
        self.shut_down = true;
        let mut done = ShutDown::default();
        if immediate {
            while self.items.pop().is_some() {
                done.dropped += 1;
                self.unfinished = self.unfinished.saturating_sub(1);
            }
            if self.unfinished == 0 {
                done.joiners = std::mem::take(&mut self.joiners);
            }
        }
        let wake = |line: &mut VecDeque<Rc<Waiter>>| -> Vec<TaskId> {
            line.drain(..)
                .filter(|w| !w.done.get() && !cancelled(w.task))
                .map(|w| {
                    w.done.set(true);
                    w.task
                })
                .collect()
        };
        done.getters = wake(&mut self.getters);
        done.putters = wake(&mut self.putters);
        done
    }

    fn full(&self) -> bool {
        self.capacity
            .is_some_and(|c| c > 0 && self.items.len() >= c as usize)
    }

    /// `put_nowait`: the item goes in when there is room, and the first
    /// getter still waiting is woken (returned). When full, the item comes
    /// back.
    pub(crate) fn try_put(
        &mut self,
        entry: Entry,
        cancelled: impl Fn(TaskId) -> bool,
    ) -> Result<Option<TaskId>, Entry> {
        if self.full() {
            return Err(entry);
        }
        self.items.push(entry);
        self.usage.puts += 1;
        self.unfinished += 1;
        self.peak = self.peak.max(self.items.len());
        Ok(wakeup_next(&mut self.getters, cancelled))
    }

    /// `get_nowait`: the next item by the queue's kind when there is one,
    /// and the first putter still waiting is woken (returned).
    pub(crate) fn try_get(
        &mut self,
        cancelled: impl Fn(TaskId) -> bool,
    ) -> Option<(Entry, Option<TaskId>)> {
        let item = self.items.pop()?;
        self.usage.gets += 1;
        Some((item, wakeup_next(&mut self.putters, cancelled)))
    }

    /// `task` begins to wait on one side; the waiter is set when it is woken.
    pub(crate) fn wait(&mut self, side: Side, task: TaskId) -> Rc<Waiter> {
        let waiter = Waiter::new(task);
        match side {
            Side::Get => self.getters.push_back(waiter.clone()),
            Side::Put => self.putters.push_back(waiter.clone()),
        }
        waiter
    }

    /// A waiter's task was cancelled: it leaves the line; when it had been
    /// woken and the queue still has an item (for a getter) or room (for a
    /// putter), the wakeup passes to the next waiter (returned).
    pub(crate) fn abandon(
        &mut self,
        side: Side,
        waiter: &Rc<Waiter>,
        cancelled: impl Fn(TaskId) -> bool,
    ) -> Option<TaskId> {
        let line = match side {
            Side::Get => &mut self.getters,
            Side::Put => &mut self.putters,
        };
        if let Some(i) = line.iter().position(|w| Rc::ptr_eq(w, waiter)) {
            line.remove(i);
        }
        let can = match side {
            Side::Get => !self.items.is_empty(),
            Side::Put => !self.full(),
        };
        if waiter.done.get() && can {
            let line = match side {
                Side::Get => &mut self.getters,
                Side::Put => &mut self.putters,
            };
            wakeup_next(line, cancelled)
        } else {
            None
        }
    }

    pub(crate) fn unfinished(&self) -> u64 {
        self.unfinished
    }

    /// `task_done()`: the waiters of `join` to release when all work is done;
    /// an error when called more times than items were put.
    pub(crate) fn task_done(&mut self) -> Result<Vec<Rc<Waiter>>, ()> {
        if self.unfinished == 0 {
            return Err(());
        }
        self.unfinished -= 1;
        Ok(if self.unfinished == 0 {
            std::mem::take(&mut self.joiners)
        } else {
            Vec::new()
        })
    }

    pub(crate) fn add_joiner(&mut self, w: Rc<Waiter>) {
        self.joiners.push(w);
    }

    pub(crate) fn remove_joiner(&mut self, w: &Rc<Waiter>) {
        self.joiners.retain(|j| !Rc::ptr_eq(j, w));
    }
}

/// asyncio's `_wakeup_next`: the first waiter not cancelled leaves the line
/// and is set; cancelled ones met on the way leave too.
fn wakeup_next(
    line: &mut VecDeque<Rc<Waiter>>,
    cancelled: impl Fn(TaskId) -> bool,
) -> Option<TaskId> {
    while let Some(w) = line.pop_front() {
        if !w.done.get() && !cancelled(w.task) {
            w.done.set(true);
            return Some(w.task);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::priority::Priority;
    use crate::value::Value;

    fn plain(item: Value) -> Entry {
        Entry { item, rank: None }
    }

    fn none(_: TaskId) -> bool {
        false
    }

    #[test]
    fn use_is_weighted_by_time() {
        let mut q = Queue::new(Some(1), QueueKind::Fifo);
        // A getter waits from 0 until a put wakes it at 10 (it leaves the
        // line); the item stays until a get at 30.
        q.at(0).wait(Side::Get, 1);
        assert!(q.at(10).try_put(plain(Value::Int(1)), none).is_ok());
        assert!(q.at(30).try_get(none).is_some());
        q.at(40);
        let u = &q.usage;
        assert_eq!((u.getters_area, u.depth_area, u.putters_area), (10, 20, 0));
        assert_eq!((u.puts, u.gets, u.since), (1, 1, 40));
    }

    #[test]
    fn getters_are_woken_in_the_order_they_began_to_wait() {
        let mut q = Queue::new(None, QueueKind::Fifo);
        let waiters: Vec<_> = (0..5).map(|t| q.wait(Side::Get, t)).collect();
        for t in 0..5 {
            assert_eq!(q.try_put(plain(Value::None), none), Ok(Some(t)));
            assert!(waiters[t as usize].done.get());
            assert!(q.try_get(none).is_some());
        }
    }

    #[test]
    fn a_newcomer_may_take_the_item_of_a_woken_getter() {
        let mut q = Queue::new(None, QueueKind::Fifo);
        let a = q.wait(Side::Get, 0);
        assert_eq!(q.try_put(plain(Value::None), none), Ok(Some(0)));
        // Task 1 arrives before task 0 runs: the queue is not empty.
        assert!(q.try_get(none).is_some());
        assert!(a.done.get() && q.depth() == 0);
    }

    #[test]
    fn a_woken_getter_cancelled_before_it_runs_passes_the_item_on() {
        let mut q = Queue::new(None, QueueKind::Fifo);
        let a = q.wait(Side::Get, 0);
        let _b = q.wait(Side::Get, 1);
        assert_eq!(q.try_put(plain(Value::None), none), Ok(Some(0)));
        assert_eq!(q.abandon(Side::Get, &a, none), Some(1));
    }

    #[test]
    fn cancelled_waiters_are_skipped() {
        let mut q = Queue::new(Some(1), QueueKind::Fifo);
        assert_eq!(q.try_put(plain(Value::None), none), Ok(None));
        let _a = q.wait(Side::Put, 0);
        let _b = q.wait(Side::Put, 1);
        let (_, woken) = q.try_get(|t| t == 0).unwrap();
        assert_eq!(woken, Some(1));
    }

    /// The kinds differ in `_get` only: putters are let in, and getters
    /// woken, in the order they began to wait, whatever the priorities.
    #[test]
    fn every_kind_serves_its_waiters_in_the_order_they_began_to_wait() {
        for kind in [QueueKind::Fifo, QueueKind::Lifo, QueueKind::Priority] {
            let mut q = Queue::new(Some(1), kind);
            let entry = |q: &mut Queue, n: i64| Entry {
                item: Value::Int(n),
                rank: Some(Rank {
                    priority: Priority::Int(-n),
                    seq: q.ticket(),
                }),
            };
            let first = entry(&mut q, 0);
            assert_eq!(q.try_put(first, none), Ok(None));
            for t in 1..4 {
                let e = entry(&mut q, i64::from(t));
                assert!(q.try_put(e, none).is_err());
                q.wait(Side::Put, t);
            }
            for t in 1..4 {
                let (_, woken) = q.try_get(none).unwrap();
                assert_eq!(woken, Some(t), "{kind:?}");
                let e = entry(&mut q, i64::from(t));
                assert!(q.try_put(e, none).is_ok());
            }
            let getters: Vec<_> = (10..13).map(|t| q.wait(Side::Get, t)).collect();
            assert!(q.try_get(none).is_some());
            for (t, w) in (10..13).zip(&getters) {
                let e = entry(&mut q, 0);
                assert_eq!(q.try_put(e, none), Ok(Some(t)), "{kind:?}");
                assert!(w.done.get());
                assert!(q.try_get(none).is_some());
            }
        }
    }

    #[test]
    fn shutdown_wakes_every_waiter_not_cancelled_and_keeps_the_items() {
        let mut q = Queue::new(Some(1), QueueKind::Fifo);
        let getters: Vec<_> = (0..3).map(|t| q.wait(Side::Get, t)).collect();
        let done = q.shut_down(false, |t| t == 1);
        assert_eq!((done.getters, done.dropped), (vec![0, 2], 0));
        assert!(getters[0].done.get() && !getters[1].done.get());
        // A later put fails (the caller checks); a get takes what is left.
        assert!(q.is_shut_down());
    }

    #[test]
    fn an_immediate_shutdown_drops_the_items_and_releases_the_joiners() {
        let mut q = Queue::new(Some(2), QueueKind::Lifo);
        for n in 0..2 {
            assert!(q.try_put(plain(Value::Int(n)), none).is_ok());
        }
        // One item was taken and not marked done: it stays unfinished.
        assert!(q.try_get(none).is_some());
        q.add_joiner(Waiter::new(9));
        let done = q.shut_down(true, none);
        assert_eq!(
            (done.dropped, done.joiners.len(), q.unfinished()),
            (1, 0, 1)
        );
        assert_eq!(q.task_done().map(|j| j.len()), Ok(1));
        assert_eq!(q.depth(), 0);
    }

    #[test]
    fn a_full_queue_gives_the_item_back() {
        let mut q = Queue::new(Some(1), QueueKind::Fifo);
        assert!(q.try_put(plain(Value::None), none).is_ok());
        assert!(q.try_put(plain(Value::None), none).is_err());
        assert_eq!((q.depth(), q.peak(), q.unfinished()), (1, 1, 1));
    }
}
