//! An asyncio-style queue: an async-channel plus the count of unfinished
//! items that `task_done` and `join` need, and its peak depth.
//!
//! async-channel wakes blocked receivers and senders one per item, in the
//! order they began to wait, as asyncio's `Queue` does.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use async_channel::{Receiver, Sender};

use crate::runtime::Waiter;
use crate::value::Value;

pub(crate) struct Queue {
    pub tx: Sender<Value>,
    pub rx: Receiver<Value>,
    pub capacity: Option<u32>,
    unfinished: Cell<u64>,
    joiners: RefCell<Vec<Rc<Waiter>>>,
    pub peak: Cell<usize>,
}

impl Queue {
    pub(crate) fn new(capacity: Option<u32>) -> Queue {
        let (tx, rx) = match capacity {
            Some(c) => async_channel::bounded(c as usize),
            None => async_channel::unbounded(),
        };
        Queue {
            tx,
            rx,
            capacity,
            unfinished: Cell::new(0),
            joiners: RefCell::default(),
            peak: Cell::new(0),
        }
    }

    pub(crate) fn depth(&self) -> usize {
        self.rx.len()
    }

    /// Called after an item went in.
    pub(crate) fn put_done(&self) {
        self.unfinished.set(self.unfinished.get() + 1);
        self.peak.set(self.peak.get().max(self.depth()));
    }

    pub(crate) fn unfinished(&self) -> u64 {
        self.unfinished.get()
    }

    /// `task_done()`: the waiters of `join` to release when all work is done;
    /// an error when called more times than items were put.
    pub(crate) fn task_done(&self) -> Result<Vec<Rc<Waiter>>, ()> {
        let n = self.unfinished.get();
        if n == 0 {
            return Err(());
        }
        self.unfinished.set(n - 1);
        Ok(if n == 1 {
            std::mem::take(&mut *self.joiners.borrow_mut())
        } else {
            Vec::new()
        })
    }

    pub(crate) fn add_joiner(&self, w: Rc<Waiter>) {
        self.joiners.borrow_mut().push(w);
    }

    pub(crate) fn remove_joiner(&self, w: &Rc<Waiter>) {
        self.joiners.borrow_mut().retain(|j| !Rc::ptr_eq(j, w));
    }
}
