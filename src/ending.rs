//! How one run ended, from best to worst: the exit code a single run has,
//! and why (a sweep counts its runs by ending).

use crate::ExitCode;
use crate::model::RunOutcome;

/// How one run of a sweep ended, from best to worst: the exit code a
/// single run would have had, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Ending {
    Ok,
    CheckFailed,
    ExpectFailed,
    Deadlock,
    Stopped,
}

impl Ending {
    pub(crate) const ALL: [Ending; 5] = [
        Ending::Ok,
        Ending::CheckFailed,
        Ending::ExpectFailed,
        Ending::Deadlock,
        Ending::Stopped,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Ending::Ok => "ok",
            Ending::CheckFailed => "check failed",
            Ending::ExpectFailed => "expect failed",
            Ending::Deadlock => "deadlock",
            Ending::Stopped => "stopped",
        }
    }

    pub(crate) fn named(name: &str) -> Option<Ending> {
        Ending::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The exit code a single run ending so has.
    pub(crate) fn exit_code(self) -> ExitCode {
        match self {
            Ending::Ok => ExitCode::Ok,
            Ending::CheckFailed | Ending::ExpectFailed => ExitCode::CheckFailed,
            Ending::Deadlock | Ending::Stopped => ExitCode::Stuck,
        }
    }
}

impl From<RunOutcome> for Ending {
    /// The ending of a stuck run (a deadlock, or a limit).
    fn from(outcome: RunOutcome) -> Ending {
        match outcome {
            RunOutcome::Deadlock => Ending::Deadlock,
            _ => Ending::Stopped,
        }
    }
}
