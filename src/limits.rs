//! Limits that keep a run finite: virtual time, steps in all, steps at one
//! instant, live tasks, tasks created in all, the size of one value and of all values a run
//! builds, and what the clock can hold. Hitting one stops the run with exit
//! code 3.

use crate::duration;

/// The bounds of one run. Every scenario gets the defaults unless a flag
/// (or `[scenario] time_limit`) says otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Virtual time the run may reach, in nanoseconds.
    pub time: Option<u64>,
    /// Steps executed in all (each `log`, `sleep`, `put`... is one step).
    pub steps: u64,
    /// Steps one task executes at one instant: a loop that never sleeps.
    /// Counted in 32 bits: a bound above `u32::MAX` never stops a run (the
    /// command line refuses one).
    pub steps_per_instant: u64,
    /// Tasks started and not yet finished.
    pub tasks: u64,
    /// Tasks created in all: a finished task keeps its slot for the
    /// summary, so this bounds the memory of a run that keeps starting
    /// short tasks (arrivals, a loop of spawns).
    pub tasks_created: u64,
    /// Bytes one value may weigh ([`crate::footprint`]).
    pub value_bytes: u64,
    /// Bytes of all the values a run builds, together: an upper bound on
    /// what its values can hold.
    pub values_built: u64,
    /// Times tasks are made ready that the critical path notes (24 bytes
    /// each); past this the run goes on, without a critical path.
    pub path_records: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            time: None,
            steps: 100_000_000,
            steps_per_instant: 1_000_000,
            tasks: 2_000_000,
            tasks_created: 12_000_000,
            value_bytes: 1 << 20,
            values_built: 1 << 30,
            path_records: 1_000_000,
        }
    }
}

/// Why a run was stopped before it ended by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The next timer is due after the time limit.
    Time(u64),
    Steps(u64),
    StepsPerInstant(u64),
    Tasks(u64),
    TasksCreated(u64),
    /// A value would weigh more than this many bytes.
    ValueBytes(u64),
    /// A value would nest deeper than [`crate::footprint::MAX_DEPTH`].
    ValueDepth,
    /// The values built in all would weigh more than this many bytes.
    ValuesBuilt(u64),
    /// The next instant is past what the clock can hold.
    Clock,
    /// Tasks created eagerly would run this many first turns inside one
    /// another (`[scenario] eager_tasks`).
    EagerDepth(u32),
}

impl Stop {
    /// What happened and how to raise the limit, in one sentence.
    pub(crate) fn message(self) -> String {
        match self {
            Stop::Time(t) => format!(
                "the time limit of {} was reached (raise it with --time-limit or `[scenario] time_limit`)",
                duration::format(t)
            ),
            Stop::Steps(n) => {
                format!("the run took more than {n} steps (raise the limit with --max-steps)")
            }
            Stop::StepsPerInstant(n) => format!(
                "a task ran more than {n} steps at one instant: a loop that never sleeps? (raise the limit with --max-steps-per-instant)"
            ),
            Stop::Tasks(n) => format!(
                "more than {n} tasks would be alive at once (raise the limit with --max-tasks)"
            ),
            Stop::TasksCreated(n) => format!(
                "the run would create more than {n} tasks in all (raise the limit with --max-tasks-created)"
            ),
            Stop::ValueBytes(n) => format!(
                "a value would weigh more than {n} bytes (raise the limit with --max-value-bytes)"
            ),
            Stop::ValueDepth => format!(
                "a value would nest more than {} levels deep",
                crate::footprint::MAX_DEPTH
            ),
            Stop::ValuesBuilt(n) => format!(
                "the run's values would weigh more than {n} bytes in all (raise the limit with --max-values-built)"
            ),
            Stop::EagerDepth(n) => format!(
                "tasks created eagerly would run more than {n} first turns inside one another (`eager_tasks`: each starts inside the create_task of the one before)"
            ),
            Stop::Clock => format!(
                "the run's time would pass {}, the most the clock can hold",
                duration::format(u64::MAX)
            ),
        }
    }
}

/// Counts what the limits bound, and says when one is crossed.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    pub(crate) steps: u64,
    pub(crate) live: u64,
    /// Tasks created so far.
    pub(crate) created: u64,
    /// Bytes of the values built so far.
    pub(crate) built: u64,
}

/// The steps one task ran at the instant it last ran at. The instant is
/// the clock's count of moves ([`crate::clock::Clock::moves`]), kept to 32
/// bits so that a task slot stays small: two instants 2^32 moves apart
/// look alike, and a run that long has long passed the step limit.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Instant {
    pub(crate) at: u32,
    pub(crate) steps: u32,
}

impl Meter {
    /// Counts one step of a task whose steps at this instant are `instant`.
    pub(crate) fn step(
        &mut self,
        instant: &mut Instant,
        moves: u64,
        limits: &Limits,
    ) -> Result<(), Stop> {
        self.steps += 1;
        if instant.at != moves as u32 {
            *instant = Instant {
                at: moves as u32,
                steps: 0,
            };
        }
        instant.steps = instant.steps.saturating_add(1);
        if self.steps > limits.steps {
            Err(Stop::Steps(limits.steps))
        } else if instant.steps as u64 > limits.steps_per_instant {
            Err(Stop::StepsPerInstant(limits.steps_per_instant))
        } else {
            Ok(())
        }
    }

    /// Counts a value built, of logical size `weight` (`Err` when it was
    /// too big to weigh).
    pub(crate) fn value(
        &mut self,
        weight: Result<u64, crate::footprint::TooBig>,
        limits: &Limits,
    ) -> Result<(), Stop> {
        let bytes = weight.map_err(|too| match too {
            crate::footprint::TooBig::Bytes => Stop::ValueBytes(limits.value_bytes),
            crate::footprint::TooBig::Deep => Stop::ValueDepth,
        })?;
        self.built = self.built.saturating_add(bytes);
        if self.built > limits.values_built {
            Err(Stop::ValuesBuilt(limits.values_built))
        } else {
            Ok(())
        }
    }

    /// Checks that `n` more tasks may start.
    pub(crate) fn spawn(&self, n: u64, limits: &Limits) -> Result<(), Stop> {
        if self.live + n > limits.tasks {
            Err(Stop::Tasks(limits.tasks))
        } else if self.created.saturating_add(n) > limits.tasks_created {
            Err(Stop::TasksCreated(limits.tasks_created))
        } else {
            Ok(())
        }
    }
}

/// The stack a command runs with (see [`crate::stack`]), and each sweep worker's:
/// room for the 100 levels of nested blocks and calls a file may have, even
/// in a debug build (the memory is reserved, not used).
/// How many eager first turns may run inside one another: a chain of
/// tasks each creating the next at its first step, with `[scenario]
/// eager_tasks`. A run that would go deeper stops (exit code 3).
pub(crate) const MAX_EAGER_DEPTH: u32 = 100;

pub(crate) const STACK_BYTES: usize = 64 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_steps_in_all_and_per_task_per_instant() {
        let limits = Limits {
            steps: 5,
            steps_per_instant: 2,
            ..Limits::default()
        };
        let mut m = Meter::default();
        let (mut a, mut b) = (Instant::default(), Instant::default());
        assert_eq!(m.step(&mut a, 0, &limits), Ok(()));
        assert_eq!(m.step(&mut b, 0, &limits), Ok(()));
        assert_eq!(m.step(&mut a, 0, &limits), Ok(()));
        assert_eq!(m.step(&mut a, 0, &limits), Err(Stop::StepsPerInstant(2)));
        assert_eq!(m.step(&mut a, 7, &limits), Ok(()));
        assert_eq!(m.step(&mut a, 8, &limits), Err(Stop::Steps(5)));
    }

    #[test]
    fn live_tasks_are_bounded() {
        let limits = Limits {
            tasks: 3,
            ..Limits::default()
        };
        let m = Meter {
            live: 2,
            ..Meter::default()
        };
        assert_eq!(m.spawn(1, &limits), Ok(()));
        assert_eq!(m.spawn(2, &limits), Err(Stop::Tasks(3)));
    }
}
