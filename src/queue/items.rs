//! The items a queue holds, kept in the order its kind hands them out:
//! oldest first (`asyncio.Queue`), newest first (`asyncio.LifoQueue`), or
//! lowest priority first, equal priorities in the order they were put
//! (`asyncio.PriorityQueue` of `(priority, seq, item)` tuples, on a binary
//! heap as `heapq` keeps them).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use crate::model::QueueKind;
use crate::priority::Priority;
use crate::value::Value;

/// Where an item of a priority queue sorts: its priority, then the number
/// its put drew when it began (ties leave in the order they were put).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Rank {
    pub(crate) priority: Priority,
    pub(crate) seq: u64,
}

/// An item on its way into or out of a queue, with its rank on a priority
/// queue (`None` on the others).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    pub(crate) item: Value,
    pub(crate) rank: Option<Rank>,
}

/// An item in a priority queue's heap; the heap's greatest is the lowest rank.
struct Ranked {
    rank: Rank,
    item: Value,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Ranked) -> Ordering {
        other.rank.cmp(&self.rank)
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Ranked) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Ranked) -> bool {
        self.rank == other.rank
    }
}

impl Eq for Ranked {}

/// A queue's items. A plain or LIFO queue keeps them in the deque, a
/// priority queue in the heap, so the count is the sum of both (one is
/// always empty) and reading it never branches on the kind: it is read on
/// every put and get.
pub(crate) struct Items {
    deque: VecDeque<Value>,
    heap: BinaryHeap<Ranked>,
    kind: QueueKind,
}

impl Items {
    pub(crate) fn new(kind: QueueKind) -> Items {
        Items {
            deque: VecDeque::new(),
            heap: BinaryHeap::new(),
            kind,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.deque.len() + self.heap.len()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `_put`. A priority queue's entry has its rank (validation requires
    /// a priority on every put to one); the other kinds ignore a rank.
    #[inline]
    pub(crate) fn push(&mut self, entry: Entry) {
        match self.kind {
            QueueKind::Fifo | QueueKind::Lifo => self.deque.push_back(entry.item),
            QueueKind::Priority => self.heap.push(Ranked {
                rank: entry
                    .rank
                    .expect("a put to a priority queue carries a priority"),
                item: entry.item,
            }),
        }
    }

    /// `_get`: the next item out, by the queue's kind.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Entry> {
        match self.kind {
            QueueKind::Fifo => self
                .deque
                .pop_front()
                .map(|item| Entry { item, rank: None }),
            QueueKind::Lifo => self.deque.pop_back().map(|item| Entry { item, rank: None }),
            QueueKind::Priority => self.heap.pop().map(|r| Entry {
                item: r.item,
                rank: Some(r.rank),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(n: i64) -> Entry {
        Entry {
            item: Value::Int(n),
            rank: None,
        }
    }

    fn ranked(n: i64, priority: Priority, seq: u64) -> Entry {
        Entry {
            item: Value::Int(n),
            rank: Some(Rank { priority, seq }),
        }
    }

    fn drain(mut items: Items) -> Vec<Value> {
        std::iter::from_fn(|| items.pop().map(|e| e.item)).collect()
    }

    #[test]
    fn each_kind_hands_items_out_in_its_order() {
        let mut fifo = Items::new(QueueKind::Fifo);
        let mut lifo = Items::new(QueueKind::Lifo);
        for n in 0..3 {
            fifo.push(plain(n));
            lifo.push(plain(n));
        }
        assert_eq!(drain(fifo), [0, 1, 2].map(Value::Int));
        assert_eq!(drain(lifo), [2, 1, 0].map(Value::Int));
    }

    #[test]
    fn lowest_priority_first_and_ties_in_the_order_put() {
        let mut heap = Items::new(QueueKind::Priority);
        let order = [
            (10, Priority::Int(2)),
            (11, Priority::Float(1.0)),
            (12, Priority::Int(2)),
            (13, Priority::Int(1)),
            (14, Priority::Float(-0.5)),
            (15, Priority::Float(2.0)),
        ];
        for (seq, (n, p)) in order.into_iter().enumerate() {
            heap.push(ranked(n, p, seq as u64));
        }
        assert_eq!(heap.len(), 6);
        assert_eq!(drain(heap), [14, 11, 13, 10, 12, 15].map(Value::Int));
    }

    #[test]
    fn the_seq_drawn_at_the_put_decides_a_tie_not_the_insertion() {
        let mut heap = Items::new(QueueKind::Priority);
        heap.push(ranked(1, Priority::Int(0), 7));
        heap.push(ranked(2, Priority::Int(0), 3));
        assert_eq!(drain(heap), [2, 1].map(Value::Int));
    }
}
