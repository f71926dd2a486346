//! The indices and interned names that the model, its expressions and the
//! run share: plain numbers, so every module can name them.

/// Index of a task definition in `Model::tasks`.
pub(crate) type DefId = u32;
/// Index of a semaphore, queue, future, event, barrier or condition in its table.
pub(crate) type SemId = u32;
pub(crate) type QueueId = u32;
pub(crate) type FutId = u32;
pub(crate) type EventId = u32;
pub(crate) type BarrierId = u32;
pub(crate) type CondId = u32;
/// An interned variable or handle name (index into `Model::symbols`).
pub(crate) type Sym = u32;

/// The builtin variables, interned first so their symbols are fixed.
pub(crate) mod sym {
    use super::Sym;
    pub(crate) const NAME: Sym = 0;
    pub(crate) const I: Sym = 1;
    pub(crate) const ATTEMPT: Sym = 2;
    pub(crate) const ITEM: Sym = 3;
    pub(crate) const RESULT: Sym = 4;
    pub(crate) const ERROR: Sym = 5;
    pub(crate) const DONE: Sym = 6;
    pub(crate) const PENDING: Sym = 7;
    /// After `now` (8) and `elapsed` (9), which are no variables.
    pub(crate) const PRIORITY: Sym = 10;
}
