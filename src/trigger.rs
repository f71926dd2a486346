//! Trigger rules: given how the upstream tasks of `after` have ended so far,
//! may the task start, must it be skipped, or must it wait?
//!
//! A rule is decided as soon as the outcome can no longer change (Airflow's
//! behaviour): `all_success` skips at the first upstream failure,
//! `one_success` starts at the first success.

use crate::model::Trigger;
use crate::task::State;

/// Why a task is skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Why {
    /// The upstream (by position) whose ending decided it, if one did.
    pub(crate) culprit: Option<usize>,
    /// How the culprit ended.
    pub(crate) state: State,
}

impl Why {
    pub(crate) fn describe(self, culprit: Option<String>, trigger: Trigger) -> String {
        match (culprit, trigger) {
            (Some(name), _) => format!("{name} {} ({})", self.state.name(), trigger.name()),
            (None, Trigger::OneSuccess) => "no upstream task succeeded (one_success)".into(),
            (None, Trigger::OneFailed) => "no upstream task failed (one_failed)".into(),
            (None, t) => format!("upstream tasks ended badly ({})", t.name()),
        }
    }
}

/// `None`: not decided yet. `Some(Ok)`: start. `Some(Err)`: skip.
pub(crate) fn decide(trigger: Trigger, upstream: &[State]) -> Option<Result<(), Why>> {
    let finished = upstream.iter().all(|s| *s != State::Pending);
    let first = |pred: &dyn Fn(State) -> bool| upstream.iter().position(|s| pred(*s));
    match trigger {
        Trigger::AllSuccess => match first(&|s| s != State::Pending && s != State::Done) {
            Some(i) => Some(Err(Why {
                culprit: Some(i),
                state: upstream[i],
            })),
            None => finished.then_some(Ok(())),
        },
        Trigger::AllDone => finished.then_some(Ok(())),
        Trigger::OneSuccess => match first(&|s| s == State::Done) {
            Some(_) => Some(Ok(())),
            None => finished.then_some(Err(Why {
                culprit: None,
                state: State::Failed,
            })),
        },
        Trigger::OneFailed => match first(&|s| s == State::Failed) {
            Some(_) => Some(Ok(())),
            None => finished.then_some(Err(Why {
                culprit: None,
                state: State::Done,
            })),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::{Cancelled, Done, Failed, Pending, Skipped};

    fn starts(t: Trigger, s: &[State]) -> Option<bool> {
        decide(t, s).map(|r| r.is_ok())
    }

    #[test]
    fn all_success_waits_for_all_and_skips_at_the_first_bad_end() {
        let t = Trigger::AllSuccess;
        assert_eq!(starts(t, &[Done, Pending]), None);
        assert_eq!(starts(t, &[Done, Done]), Some(true));
        assert_eq!(starts(t, &[Pending, Failed]), Some(false));
        assert_eq!(
            starts(t, &[Skipped, Done]),
            Some(false),
            "a skip propagates"
        );
        assert_eq!(starts(t, &[Cancelled, Done]), Some(false));
        let why = decide(t, &[Done, Failed]).unwrap().unwrap_err();
        assert_eq!((why.culprit, why.state), (Some(1), Failed));
    }

    #[test]
    fn all_done_runs_whatever_happened() {
        let t = Trigger::AllDone;
        assert_eq!(starts(t, &[Failed, Pending]), None);
        assert_eq!(starts(t, &[Failed, Cancelled, Skipped]), Some(true));
    }

    #[test]
    fn one_success_starts_at_the_first_success() {
        let t = Trigger::OneSuccess;
        assert_eq!(starts(t, &[Pending, Done]), Some(true));
        assert_eq!(starts(t, &[Failed, Pending]), None);
        assert_eq!(starts(t, &[Failed, Cancelled]), Some(false));
    }

    #[test]
    fn one_failed_starts_at_the_first_failure() {
        let t = Trigger::OneFailed;
        assert_eq!(starts(t, &[Pending, Failed]), Some(true));
        assert_eq!(starts(t, &[Done, Pending]), None);
        assert_eq!(starts(t, &[Done, Done]), Some(false));
    }

    #[test]
    fn no_upstream_means_the_trigger_is_met() {
        assert_eq!(starts(Trigger::AllSuccess, &[]), Some(true));
    }
}
