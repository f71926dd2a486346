//! Thread pools (`asyncio.to_thread`, `loop.run_in_executor`): work that
//! holds a worker thread for a while, blocking neither the loop nor other
//! tasks.
//!
//! A pool has N workers and a FIFO queue: work submitted while a worker is
//! free starts at once; otherwise it waits its turn and starts the instant a
//! worker frees. The worker's end is a timer, fired in order with the
//! loop's timers (the virtual clock releases a parked worker so); its result
//! wakes the awaiting task as a sleep's timer would (asyncio's
//! `call_soon_threadsafe` of the future's result, then the task's wakeup).
//! Cancelling the awaiting task does not stop work under way: the worker
//! stays busy until the end. Work still queued is skipped when its turn
//! comes, as a cancelled `concurrent.futures.Future` is.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use crate::model::Model;
use crate::task::{Raise, TaskId};
use crate::value::Value;

/// One piece of work sent to a pool.
pub(crate) struct Work {
    /// The task that awaits it.
    pub(crate) task: TaskId,
    /// Its pool: 0 is the loop's default executor, then `[executors]`.
    pub(crate) pool: u32,
    /// How long it holds its worker.
    pub(crate) ns: u64,
    /// What the thread returns or raises (decided when it is sent).
    pub(crate) outcome: RefCell<Option<Result<Value, Raise>>>,
    /// Its result is back, or its awaiter was cancelled: nothing more
    /// wakes the task.
    pub(crate) done: Cell<bool>,
    /// A worker took it.
    pub(crate) started: Cell<bool>,
    /// Its future was cancelled before a worker took it: it never runs.
    pub(crate) cancelled: Cell<bool>,
}

impl Work {
    pub(crate) fn new(task: TaskId, pool: u32, ns: u64, outcome: Result<Value, Raise>) -> Rc<Work> {
        Rc::new(Work {
            task,
            pool,
            ns,
            outcome: RefCell::new(Some(outcome)),
            done: Cell::new(false),
            started: Cell::new(false),
            cancelled: Cell::new(false),
        })
    }
}

/// One pool: its workers, how many are busy, and the work waiting.
struct Pool {
    workers: u32,
    busy: u32,
    queue: VecDeque<Rc<Work>>,
    /// The queue's work not cancelled.
    waiting: usize,
}

/// Every pool of a run: the default executor first, then `[executors]`.
pub(crate) struct Pools {
    pools: Vec<Pool>,
}

impl Pools {
    pub(crate) fn new(model: &Model) -> Pools {
        let sizes =
            std::iter::once(model.workers(None)).chain(model.executors.iter().map(|e| e.workers));
        Pools {
            pools: sizes
                .map(|workers| Pool {
                    workers,
                    busy: 0,
                    queue: VecDeque::new(),
                    waiting: 0,
                })
                .collect(),
        }
    }

    /// The pool an `executor` (`None`: the default one) names.
    pub(crate) fn index(executor: Option<u32>) -> u32 {
        executor.map_or(0, |e| e + 1)
    }

    /// Sends work: true when a worker takes it at once, false when it
    /// waits in the queue.
    pub(crate) fn submit(&mut self, work: &Rc<Work>) -> bool {
        let pool = &mut self.pools[work.pool as usize];
        if pool.busy < pool.workers {
            pool.busy += 1;
            work.started.set(true);
            true
        } else {
            pool.queue.push_back(work.clone());
            pool.waiting += 1;
            false
        }
    }

    /// A worker of `pool` finished its work: the next work it takes (its
    /// cancelled ones skipped), if any waits; else it is idle.
    pub(crate) fn finished(&mut self, pool: u32) -> Option<Rc<Work>> {
        let pool = &mut self.pools[pool as usize];
        while let Some(next) = pool.queue.pop_front() {
            if !next.cancelled.get() {
                pool.waiting -= 1;
                next.started.set(true);
                return Some(next);
            }
        }
        pool.busy -= 1;
        None
    }

    /// The future of `work` was cancelled: if no worker has taken it, it
    /// never runs (it stays in the queue, skipped when its turn comes).
    pub(crate) fn cancel(&mut self, work: &Work) {
        if !work.started.get() && !work.cancelled.replace(true) {
            self.pools[work.pool as usize].waiting -= 1;
        }
    }

    /// How many workers of the `[executors]` pools are busy (each has its
    /// work's end set as a timer).
    pub(crate) fn named_busy(&self) -> usize {
        self.pools[1..].iter().map(|p| p.busy as usize).sum()
    }

    /// (busy workers, work waiting) of a pool.
    pub(crate) fn load(&self, pool: u32) -> (u32, usize) {
        let p = &self.pools[pool as usize];
        (p.busy, p.waiting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pools(workers: u32) -> Pools {
        Pools {
            pools: vec![Pool {
                workers,
                busy: 0,
                queue: VecDeque::new(),
                waiting: 0,
            }],
        }
    }

    fn work(task: TaskId) -> Rc<Work> {
        Work::new(task, 0, 1, Ok(Value::None))
    }

    #[test]
    fn work_waits_when_every_worker_is_busy_and_starts_first_come_first_served() {
        let mut p = pools(2);
        let (a, b, c, d) = (work(0), work(1), work(2), work(3));
        assert!(p.submit(&a));
        assert!(p.submit(&b));
        assert!(!p.submit(&c));
        assert!(!p.submit(&d));
        assert_eq!(p.load(0), (2, 2));
        assert_eq!(p.finished(0).map(|w| w.task), Some(2));
        assert_eq!(p.finished(0).map(|w| w.task), Some(3));
        assert!(p.finished(0).is_none());
        assert!(p.finished(0).is_none());
        assert_eq!(p.load(0), (0, 0));
    }

    #[test]
    fn cancelled_work_is_skipped_when_its_turn_comes() {
        let mut p = pools(1);
        let (a, b, c) = (work(0), work(1), work(2));
        p.submit(&a);
        p.submit(&b);
        p.submit(&c);
        p.cancel(&b);
        assert_eq!(p.load(0), (1, 1));
        assert_eq!(p.finished(0).map(|w| w.task), Some(2));
        assert!(!b.started.get());
    }
}
