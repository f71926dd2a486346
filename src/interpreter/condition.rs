//! What a task does with an `asyncio.Condition`: `notify`, `notify_all`,
//! and `wait()` / `wait_for(predicate)` in CPython's order (the predicate
//! first, then the lock released, a wait for a notify, the lock again, and
//! the predicate again); the waits themselves end in the step machine.

use super::Ctx;
use crate::exception::RUNTIME_ERROR;
use crate::model::{CondId, Predicate, SemId, sym};
use crate::program::Suspension;
use crate::runtime::{Raise, Waiting};
use crate::value::Value;

/// Python's truth value of a value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::None => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::List(items) => !items.is_empty(),
        Value::Map(items) => !items.is_empty(),
        Value::Error(_) => true,
    }
}

impl Ctx {
    fn cond_lock(&self, cond: CondId) -> SemId {
        self.sim.model().conditions[cond as usize].lock
    }

    fn cond_name(&self, cond: CondId) -> &str {
        &self.sim.model().conditions[cond as usize].name
    }

    /// The predicate's value: `until`'s placeholder, negated by `not`.
    fn predicate(&self, p: &Predicate) -> Value {
        let v = self.lookup(&p.what);
        match p.not {
            true => Value::Bool(!truthy(&v)),
            false => v,
        }
    }

    /// `await cv.wait()`, or `await cv.wait_for(predicate)` (its predicate
    /// first: true, it returns its value at once, lock or not). The lock
    /// must be locked (by anyone, as CPython checks); it is released and
    /// the task waits for a notify.
    pub(super) fn wait_condition(
        &mut self,
        cond: CondId,
        until: Option<&Predicate>,
    ) -> Result<Option<Suspension>, Raise> {
        if let Some(p) = until {
            let v = self.predicate(p);
            if truthy(&v) {
                self.set_var(sym::RESULT, v);
                return Ok(None);
            }
        }
        let lock = self.cond_lock(cond);
        if !self.sim.lock_locked(lock) {
            return Err(self.raise(RUNTIME_ERROR, "cannot wait on un-acquired lock"));
        }
        if self.sim.tracing() {
            let name = self.cond_name(cond);
            self.emit("wait", format!("for a notify of {name}"));
        }
        self.release(lock)?;
        let waiter = self.sim.wait_condition(cond, self.id);
        self.sim
            .set_waiting(self.id, Waiting::Condition(cond, waiter.clone()));
        Ok(Some(Suspension::Condition {
            cond,
            waiter,
            until: until.is_some(),
        }))
    }

    /// After its wait (notified, or `cancelled`), the task takes the lock
    /// again: at once if it is free, else in the lock's line (`Some`).
    pub(super) fn lock_again(
        &self,
        cond: CondId,
        cancelled: Option<Raise>,
        until: bool,
    ) -> Option<Suspension> {
        let lock = self.cond_lock(cond);
        if self.sim.try_acquire(lock, self.id, None) {
            self.permit_event("acquired", lock);
            return None;
        }
        self.sim.enqueue(lock, self.id, None);
        self.permit_wait_event(lock, None);
        self.sim.set_waiting(self.id, Waiting::Semaphore(lock));
        Some(Suspension::Reacquire {
            cond,
            cancelled: cancelled.map(Box::new),
            until,
        })
    }

    /// The lock held again: a cancellation on the way raises now (3.13
    /// first notifies the next waiter in its place).
    pub(super) fn lock_regained(
        &self,
        cond: CondId,
        cancelled: Option<Raise>,
    ) -> Result<(), Raise> {
        let Some(raise) = cancelled else {
            return Ok(());
        };
        if self.sim.model().python.condition_passes_notify_on() {
            let woken = self.sim.notify(cond, Some(1));
            if woken > 0 && self.sim.tracing() {
                let name = self.cond_name(cond);
                self.emit(
                    "notify",
                    format!("{name}, waking 1 waiter in place of this cancelled one"),
                );
            }
        }
        Err(raise)
    }

    /// `cv.notify(n)` (`None`: `cv.notify_all()`): the lock must be locked.
    pub(super) fn notify(&self, cond: CondId, n: Option<u32>) -> Result<(), Raise> {
        if !self.sim.lock_locked(self.cond_lock(cond)) {
            return Err(self.raise(RUNTIME_ERROR, "cannot notify on un-acquired lock"));
        }
        let woken = self.sim.notify(cond, n);
        if self.sim.tracing() {
            let name = self.cond_name(cond);
            let detail = match woken {
                0 => format!("{name}, waking none"),
                1 => format!("{name}, waking 1 waiter"),
                n => format!("{name}, waking {n} waiters"),
            };
            self.emit("notify", detail);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_is_pythons() {
        assert!(!truthy(&Value::None) && !truthy(&Value::Int(0)) && !truthy(&Value::str("")));
        assert!(
            truthy(&Value::Bool(true)) && truthy(&Value::Float(0.5)) && truthy(&Value::str("x"))
        );
        assert!(!truthy(&Value::List(std::rc::Rc::from([]))));
    }
}
