//! Making `block` visible: which tasks a blocking call delayed, and by how
//! much. Used only by scenarios that have a `block` step.
//!
//! A task's waker is wrapped so that waking it records the instant it became
//! ready. When the task next runs later than that, a blocking call held the
//! loop in between: the delay is traced and blamed on the blocks that
//! overlapped it.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use crate::duration;
use crate::task::TaskId;

const NOT_READY: u64 = u64::MAX;

/// The instant a task became ready, shared with its waker.
pub(crate) struct Ready {
    due: AtomicU64,
    /// The clock's current instant, mirrored for wakers (which must be `Sync`).
    now: Arc<AtomicU64>,
    inner: Mutex<Option<Waker>>,
}

impl Ready {
    pub(crate) fn new(now: Arc<AtomicU64>) -> Arc<Ready> {
        let at = now.load(Ordering::Relaxed);
        Arc::new(Ready {
            due: AtomicU64::new(at),
            now,
            inner: Mutex::new(None),
        })
    }

    /// The instant it became ready, if it did, and not ready from now.
    pub(crate) fn take_due(&self) -> u64 {
        self.due.swap(NOT_READY, Ordering::Relaxed)
    }

    /// Marks the task ready since `at` (a timer that fired late says when it was due).
    pub(crate) fn ready_since(&self, at: u64) {
        self.due.fetch_min(at, Ordering::Relaxed);
    }
}

impl Wake for Ready {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.ready_since(self.now.load(Ordering::Relaxed));
        if let Some(w) = self.inner.lock().expect("never poisoned").as_ref() {
            w.wake_by_ref();
        }
    }
}

/// Told, at each poll of a task, the instant it became ready (`u64::MAX`
/// when it was not woken): the loop compares it with the current instant.
pub(crate) type OnPoll = Rc<dyn Fn(TaskId, u64)>;

/// A task's future, polled through its [`Ready`] waker.
pub(crate) struct Watched {
    fut: Pin<Box<dyn Future<Output = ()>>>,
    ready: Arc<Ready>,
    on_poll: OnPoll,
    id: TaskId,
}

impl Watched {
    pub(crate) fn new(
        fut: impl Future<Output = ()> + 'static,
        ready: Arc<Ready>,
        on_poll: OnPoll,
        id: TaskId,
    ) -> Watched {
        Watched {
            fut: Box::pin(fut),
            ready,
            on_poll,
            id,
        }
    }
}

impl Future for Watched {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        *self.ready.inner.lock().expect("never poisoned") = Some(cx.waker().clone());
        let due = self.ready.take_due();
        (self.on_poll)(self.id, due);
        let waker = Waker::from(self.ready.clone());
        let mut inner = Context::from_waker(&waker);
        self.fut.as_mut().poll(&mut inner)
    }
}

/// Every block so far, and the delays they caused.
#[derive(Default)]
pub(crate) struct Blocks {
    /// (blocker, from, to)
    spans: Vec<(TaskId, u64, u64)>,
    /// Per blocker: (time it held the loop, delay it caused to others, tasks delayed).
    pub totals: Vec<(TaskId, u64, u64, u64)>,
}

impl Blocks {
    pub(crate) fn record(&mut self, blocker: TaskId, from: u64, to: u64) {
        self.spans.push((blocker, from, to));
        match self.totals.iter_mut().find(|t| t.0 == blocker) {
            Some(t) => t.1 += to - from,
            None => self.totals.push((blocker, to - from, 0, 0)),
        }
    }

    /// A task ready since `due` ran only at `now`: blames the blocks that
    /// overlapped the wait, and returns them, oldest first.
    pub(crate) fn delayed(&mut self, task: TaskId, due: u64, now: u64) -> Vec<TaskId> {
        let mut by = Vec::new();
        for (blocker, from, to) in self.spans.iter().rev() {
            if *to <= due {
                break;
            }
            if *from < now && *blocker != task && !by.contains(blocker) {
                by.push(*blocker);
            }
        }
        by.reverse();
        let late = now - due;
        for blocker in &by {
            if let Some(t) = self.totals.iter_mut().find(|t| t.0 == *blocker) {
                t.2 += late;
                t.3 += 1;
            }
        }
        by
    }
}

/// The summary's line on blocking, if anything blocked.
pub(crate) fn summary(name: &dyn Fn(TaskId) -> String, blocks: &RefCell<Blocks>) -> Vec<String> {
    blocks
        .borrow()
        .totals
        .iter()
        .map(|(blocker, held, caused, tasks)| {
            let who = name(*blocker);
            let held = duration::format(*held);
            match tasks {
                0 => format!("{who} held the loop {held}; no other task was ready meanwhile"),
                n => format!(
                    "{who} held the loop {held}, delaying {n} task{} by {} in all",
                    if *n == 1 { "" } else { "s" },
                    duration::format(*caused)
                ),
            }
        })
        .collect()
}
