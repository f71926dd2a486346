//! Virtual time: the current instant and the timers waiting for later ones.
//!
//! Time is integer nanoseconds from 0. Timers due at the same instant fire in
//! the order they were set (FIFO), like asyncio's `call_at` ties under the
//! oracle. A timer that is removed before it is due never moves the clock.
//!
//! The timers live in a radix heap: deadlines never fall below the last one
//! taken, so a timer sits in the bucket of the highest bit in which its
//! deadline differs from that last one. Buckets are plain vectors walked in
//! order, which keeps a million timers cheap and cache-friendly, and timers
//! with equal deadlines always share a bucket in the order they were set.
//! A timer's slot holds only a generation, odd while the timer is set:
//! removing a timer bumps it and leaves a stale heap entry, skipped (and,
//! when stale entries pile up, swept) later.

use std::collections::VecDeque;

/// Identifies a timer: its slot, and the slot's generation when it was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    slot: u32,
    generation: u32,
}

/// A heap entry: a timer, when it is due, and what it does.
struct Entry<A> {
    deadline: u64,
    key: TimerKey,
    action: A,
}

/// Buckets: 0 holds deadlines equal to `last`, b holds those whose highest
/// bit differing from `last` is bit b - 1.
const BUCKETS: usize = 65;

/// The clock and its timers, each carrying what to do when it fires.
pub(crate) struct Clock<A> {
    now: u64,
    /// How many times `now` has moved: names an instant in a few bytes.
    moves: u64,
    /// The smallest deadline taken so far: no timer is due before it.
    last: u64,
    buckets: [Vec<Entry<A>>; BUCKETS],
    /// Heap entries, live or stale.
    entries: usize,
    /// Each slot's generation: odd while its timer is set.
    slots: Vec<u32>,
    /// Each slot's deadline, while its timer is set.
    deadlines: Vec<u64>,
    /// Per bucket, when known, the earliest deadline of its live timers:
    /// without it, finding the next instant would walk the far timers'
    /// bucket at every instant (a stream of near timers beside many far
    /// ones would cost their product). Pushing keeps it exact; cancelling
    /// the timer that holds it forgets it until the next walk.
    mins: [Option<u64>; BUCKETS],
    free: Vec<u32>,
    live: usize,
    /// A timer may be due without the clock moving: one was set with no
    /// delay, or a blocking call moved the clock.
    maybe_due: bool,
    /// Timers taken by [`Clock::due_now`], in the order their turns come;
    /// an entry whose slot moved on was cancelled while queued.
    queued: VecDeque<Entry<A>>,
    /// Per slot: whether its timer waits in `queued` rather than the heap.
    in_queue: Vec<bool>,
}

impl<A> Clock<A> {
    pub(crate) fn new() -> Clock<A> {
        Clock {
            now: 0,
            moves: 0,
            last: 0,
            buckets: std::array::from_fn(|_| Vec::new()),
            entries: 0,
            slots: Vec::new(),
            deadlines: Vec::new(),
            mins: [None; BUCKETS],
            free: Vec::new(),
            live: 0,
            maybe_due: false,
            queued: VecDeque::new(),
            in_queue: Vec::new(),
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.now
    }

    /// How many timers are set.
    pub(crate) fn live(&self) -> usize {
        self.live
    }

    /// How many times the clock has moved (each instant has its own count).
    pub(crate) fn moves(&self) -> u64 {
        self.moves
    }

    /// Moves the clock forward by `d` without firing anything (a blocking call).
    pub(crate) fn block(&mut self, d: u64) {
        self.move_to(self.now.saturating_add(d));
        self.maybe_due = true;
    }

    fn move_to(&mut self, t: u64) {
        if t > self.now {
            self.now = t;
            self.moves += 1;
        }
    }

    /// Sets a timer `delay` from now.
    pub(crate) fn set(&mut self, delay: u64, action: A) -> TimerKey {
        let deadline = self.now.saturating_add(delay);
        self.maybe_due |= deadline <= self.now;
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(0);
            self.deadlines.push(0);
            self.in_queue.push(false);
            (self.slots.len() - 1) as u32
        });
        let generation = &mut self.slots[slot as usize];
        *generation = generation.wrapping_add(1);
        let key = TimerKey {
            slot,
            generation: *generation,
        };
        self.live += 1;
        self.entries += 1;
        self.deadlines[slot as usize] = deadline;
        let entry = Entry {
            deadline,
            key,
            action,
        };
        self.push(self.bucket(deadline), entry);
        key
    }

    /// Puts an entry in bucket `b`, keeping the bucket's known earliest
    /// deadline exact.
    #[inline]
    fn push(&mut self, b: usize, entry: Entry<A>) {
        let d = entry.deadline;
        self.mins[b] = match self.mins[b] {
            Some(m) => Some(m.min(d)),
            None if self.buckets[b].is_empty() => Some(d),
            None => None,
        };
        self.buckets[b].push(entry);
    }

    /// The earliest deadline of the live timers in bucket `b` (not 0),
    /// walking the bucket only when it is not known.
    fn bucket_min(&mut self, b: usize) -> Option<u64> {
        if let Some(m) = self.mins[b] {
            return Some(m);
        }
        let min = self.buckets[b].iter().map(|e| e.deadline).min();
        self.mins[b] = min;
        min
    }

    /// Removes a timer; false when it already fired (or never existed).
    pub(crate) fn cancel(&mut self, key: TimerKey) -> bool {
        if self.in_queue[key.slot as usize] {
            // Its stale entry in `queued` is skipped when its turn comes.
            return self.unqueue(key);
        }
        if self.slots[key.slot as usize] == key.generation {
            let d = self.deadlines[key.slot as usize];
            let b = self.bucket(d);
            if self.mins[b] == Some(d) {
                self.mins[b] = None;
            }
        }
        let taken = self.take(key);
        if taken && self.entries > 64 && self.entries > 2 * self.live {
            self.sweep();
        }
        taken
    }

    /// Whether the timer is still to fire (in the heap or queued).
    pub(crate) fn is_pending(&self, key: TimerKey) -> bool {
        self.slots[key.slot as usize] == key.generation
    }

    /// The earliest deadline, if any timer is set.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        match self.lowest()? {
            0 => Some(self.last),
            b => self.bucket_min(b),
        }
    }

    /// Advances to the earliest deadline (never backwards) and takes every
    /// timer due by then, with its deadline, in (deadline, order set) order.
    #[inline]
    pub(crate) fn advance(&mut self, out: &mut Vec<(u64, A)>) {
        self.advance_with(false, |deadline, action, _| out.push((deadline, action)));
    }

    /// [`Clock::advance`], handing each timer to `emit` with its key.
    #[inline(always)]
    /// With `keep`, each timer stays set (queued) instead of ending.
    fn advance_with(&mut self, keep: bool, mut emit: impl FnMut(u64, A, TimerKey)) {
        let Some(first) = self.next_deadline() else {
            return;
        };
        self.move_to(first);
        while let Some(b) = self.lowest() {
            if b > 0 {
                match self.bucket_min(b) {
                    Some(min) if min <= self.now => self.redistribute(b, min),
                    _ => break,
                }
            }
            // Bucket 0 now holds live timers, all due at `last`, in order set.
            let mut due = std::mem::take(&mut self.buckets[0]);
            self.mins[0] = None;
            self.entries -= due.len();
            for entry in due.drain(..) {
                if self.leave_heap(entry.key, keep) {
                    emit(entry.deadline, entry.action, entry.key);
                }
            }
            // Keep the vector's allocation for the next instant.
            self.buckets[0] = due;
        }
    }

    /// Whether [`Clock::due_now`] may find a timer: one was set with no
    /// delay, or the clock moved by a blocking call, since it last looked.
    #[inline]
    pub(crate) fn maybe_due(&self) -> bool {
        self.maybe_due
    }

    /// Takes the timers already due at the current instant (set with no
    /// delay, or passed during a blocking call), without moving the clock:
    /// asyncio moves them to its ready queue at the start of each turn of
    /// the loop. Cheap when none can be due.
    /// Each is queued, like asyncio's timer handle in its ready queue: it
    /// can still be cancelled until [`Clock::claim`] takes it.
    /// The keys go to `out`, in the order their turns come.
    pub(crate) fn due_now(&mut self, out: &mut Vec<TimerKey>) {
        if !std::mem::take(&mut self.maybe_due) {
            return;
        }
        if self.next_deadline().is_some_and(|d| d <= self.now) {
            let mut queued = std::mem::take(&mut self.queued);
            self.advance_with(true, |deadline, action, key| {
                out.push(key);
                queued.push_back(Entry {
                    deadline,
                    key,
                    action,
                });
            });
            self.queued = queued;
        }
    }

    /// A queued timer's turn has come (turns come in the order
    /// [`Clock::due_now`] gave the keys): its deadline and action, or
    /// `None` when it was cancelled while queued.
    pub(crate) fn claim(&mut self, key: TimerKey) -> Option<(u64, A)> {
        let entry = self.queued.pop_front()?;
        debug_assert_eq!(
            entry.key.slot, key.slot,
            "queued timers claimed out of turn"
        );
        (self.slots[key.slot as usize] == key.generation && self.unqueue(key))
            .then_some((entry.deadline, entry.action))
    }

    /// Ends a queued timer (the heap no longer counts it); false when it
    /// is no longer set.
    fn unqueue(&mut self, key: TimerKey) -> bool {
        let generation = &mut self.slots[key.slot as usize];
        if *generation != key.generation {
            return false;
        }
        *generation = generation.wrapping_add(1);
        self.in_queue[key.slot as usize] = false;
        self.free.push(key.slot);
        true
    }

    /// A live timer leaves the heap, due: it ends, or with `keep` it stays
    /// set, queued for its turn. False when it is not live.
    fn leave_heap(&mut self, key: TimerKey, keep: bool) -> bool {
        if !keep {
            return self.take(key);
        }
        if self.slots[key.slot as usize] != key.generation {
            return false;
        }
        self.live -= 1;
        self.in_queue[key.slot as usize] = true;
        true
    }

    /// What the next few timers do, when the next instant's bucket holds at
    /// most `limit` of them (a hint for prefetching: not in firing order).
    /// Walking it also prefetches those timers' own slots.
    pub(crate) fn upcoming(&self, limit: usize) -> impl Iterator<Item = &A> {
        let next = self.buckets.iter().find(|b| !b.is_empty());
        let few = next.filter(|b| b.len() <= limit);
        few.into_iter().flatten().map(|e| {
            crate::prefetch::prefetch(&self.slots[e.key.slot as usize]);
            &e.action
        })
    }

    /// The bucket of a deadline, relative to `last`.
    fn bucket(&self, deadline: u64) -> usize {
        debug_assert!(
            deadline >= self.last,
            "a deadline before the last one taken"
        );
        (u64::BITS - (deadline ^ self.last).leading_zeros()) as usize
    }

    /// Ends a live timer and frees its slot; false when it is not live.
    fn take(&mut self, key: TimerKey) -> bool {
        let generation = &mut self.slots[key.slot as usize];
        if *generation != key.generation {
            return false;
        }
        *generation = generation.wrapping_add(1);
        self.free.push(key.slot);
        self.live -= 1;
        true
    }

    /// The lowest bucket holding a live timer, with its stale entries dropped.
    /// `last` never passes the current instant, so a timer set later can
    /// never be due before it.
    fn lowest(&mut self) -> Option<usize> {
        let stale = self.entries > self.live;
        let slots = &self.slots;
        for (b, bucket) in self.buckets.iter_mut().enumerate() {
            if stale && !bucket.is_empty() {
                let before = bucket.len();
                bucket.retain(|e| slots[e.key.slot as usize] == e.key.generation);
                self.entries -= before - bucket.len();
            }
            if !bucket.is_empty() {
                return Some(b);
            }
        }
        None
    }

    /// Makes `min`, the earliest deadline of bucket `b`, the new `last`:
    /// bucket `b`'s timers move to lower buckets, and those due at `min` to 0.
    #[inline]
    fn redistribute(&mut self, b: usize, min: u64) {
        self.last = min;
        let mut moving = std::mem::take(&mut self.buckets[b]);
        self.mins[b] = None;
        for entry in moving.drain(..) {
            let to = self.bucket(entry.deadline);
            self.push(to, entry);
        }
        // Every timer moved lower: hand the emptied vector back.
        self.buckets[b] = moving;
    }

    /// Drops every stale entry, once they outnumber the live ones.
    fn sweep(&mut self) {
        let slots = &self.slots;
        for bucket in &mut self.buckets {
            bucket.retain(|e| slots[e.key.slot as usize] == e.key.generation);
        }
        self.entries = self.live;
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

    #[test]
    fn a_queued_timer_can_be_cancelled_until_its_turn() {
        let mut c = Clock::new();
        c.set(10, "later");
        let a = c.set(0, "a");
        let b = c.set(0, "b");
        let mut keys = Vec::new();
        c.due_now(&mut keys);
        assert_eq!(keys, [a, b]);
        assert!(c.is_pending(b));
        assert!(c.cancel(b));
        assert!(!c.is_pending(b) && !c.cancel(b));
        // Its slot is reused at once; the stale queued entry is skipped.
        let d = c.set(0, "d");
        assert_eq!(c.claim(a), Some((0, "a")));
        assert_eq!(c.claim(b), None);
        assert!(c.is_pending(d));
        keys.clear();
        c.due_now(&mut keys);
        assert_eq!(keys, [d]);
        assert_eq!(c.claim(d), Some((0, "d")));
        let mut out = Vec::new();
        c.advance(&mut out);
        assert_eq!(out, [(10, "later")]);
    }

    /// Against a plain sorted list: the same timers fire in the same order,
    /// through many sets, cancels and advances.
    #[test]
    fn agrees_with_a_sorted_list() {
        let mut c = Clock::new();
        let mut reference: Vec<(u64, u64, u32)> = Vec::new(); // (deadline, order, id)
        let mut keys = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut order = 0;
        for round in 0..20_000u32 {
            match next() % 5 {
                0 | 1 => {
                    let delay = next() % [5, 1_000, 1 << 40][(round % 3) as usize];
                    let key = c.set(delay, round);
                    reference.push((c.now() + delay, order, round));
                    order += 1;
                    keys.push((key, round));
                }
                2 if !keys.is_empty() => {
                    let (key, id) = keys.swap_remove((next() % keys.len() as u64) as usize);
                    let was = reference.iter().position(|r| r.2 == id);
                    assert_eq!(c.cancel(key), was.is_some());
                    if let Some(i) = was {
                        reference.remove(i);
                    }
                }
                3 => c.block(next() % [3, 2_000, 1 << 38][(round % 3) as usize]),
                _ => {
                    reference.sort();
                    let mut out = Vec::new();
                    c.advance(&mut out);
                    let now = c.now();
                    let due: Vec<(u64, u32)> = reference
                        .iter()
                        .take_while(|r| r.0 <= now)
                        .map(|r| (r.0, r.2))
                        .collect();
                    reference.drain(..due.len());
                    assert_eq!(out, due);
                    assert_eq!(c.next_deadline(), reference.first().map(|r| r.0));
                }
            }
        }
    }
}
