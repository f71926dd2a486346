//! Virtual time: the current instant and the timers waiting for later ones.
//!
//! Time is integer nanoseconds from 0. Timers due at the same instant fire in
//! the order they were set (FIFO), like asyncio's `call_at` ties under the
//! oracle. A timer that is removed before it is due never moves the clock.

use std::collections::BTreeMap;

/// Identifies a timer: its deadline and its place among timers set before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerKey {
    pub deadline: u64,
    seq: u64,
}

/// The clock and its timers, each carrying what to do when it fires.
pub(crate) struct Clock<A> {
    now: u64,
    seq: u64,
    timers: BTreeMap<TimerKey, A>,
}

impl<A> Clock<A> {
    pub(crate) fn new() -> Clock<A> {
        Clock {
            now: 0,
            seq: 0,
            timers: BTreeMap::new(),
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.now
    }

    /// Moves the clock forward by `d` without firing anything (a blocking call).
    pub(crate) fn block(&mut self, d: u64) {
        self.now = self.now.saturating_add(d);
    }

    /// Sets a timer `delay` from now.
    pub(crate) fn set(&mut self, delay: u64, action: A) -> TimerKey {
        let key = TimerKey {
            deadline: self.now.saturating_add(delay),
            seq: self.seq,
        };
        self.seq += 1;
        self.timers.insert(key, action);
        key
    }

    /// Removes a timer; false when it already fired (or never existed).
    pub(crate) fn cancel(&mut self, key: TimerKey) -> bool {
        self.timers.remove(&key).is_some()
    }

    pub(crate) fn is_pending(&self, key: TimerKey) -> bool {
        self.timers.contains_key(&key)
    }

    /// The earliest deadline, if any timer is set.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.timers.first_key_value().map(|(k, _)| k.deadline)
    }

    /// Advances to the earliest deadline (never backwards) and takes every
    /// timer due by then, with its deadline, in (deadline, order set) order.
    pub(crate) fn advance(&mut self, out: &mut Vec<(u64, A)>) {
        let Some(first) = self.next_deadline() else {
            return;
        };
        self.now = self.now.max(first);
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().deadline > self.now {
                break;
            }
            let deadline = entry.key().deadline;
            out.push((deadline, entry.remove()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_deadline_then_fifo_order() {
        let mut c = Clock::new();
        c.set(20, "b");
        c.set(10, "a1");
        c.set(10, "a2");
        let mut out = Vec::new();
        c.advance(&mut out);
        assert_eq!(
            (c.now(), out.as_slice()),
            (10, [(10, "a1"), (10, "a2")].as_slice())
        );
        out.clear();
        c.advance(&mut out);
        assert_eq!((c.now(), out.as_slice()), (20, [(20, "b")].as_slice()));
    }

    #[test]
    fn cancelled_timer_never_moves_the_clock() {
        let mut c = Clock::new();
        let k = c.set(50, ());
        assert!(c.cancel(k));
        assert!(!c.cancel(k));
        let mut out = Vec::new();
        c.advance(&mut out);
        assert_eq!((c.now(), out.len()), (0, 0));
    }

    #[test]
    fn overdue_timers_fire_together_after_a_block() {
        let mut c = Clock::new();
        c.set(10, 1);
        c.set(30, 2);
        c.set(60, 3);
        c.block(40);
        let mut out = Vec::new();
        c.advance(&mut out);
        assert_eq!((c.now(), out), (40, vec![(10, 1), (30, 2)]));
    }

    #[test]
    fn time_never_goes_back() {
        let mut c = Clock::new();
        c.block(100);
        c.set(0, ());
        let mut out = Vec::new();
        c.advance(&mut out);
        assert_eq!(c.now(), 100);
    }
}
