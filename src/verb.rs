//! The step language's verbs, in one table: each verb's key, the modifiers
//! it takes, how its value names task definitions, whether it is a loop,
//! and whether it may run in a done callback. Validation reads keys and modifiers from here, `Step::verb`
//! names each step's verb (an exhaustive match: a new step must be given
//! one), and tests hold the JSON Schema and the language reference's step
//! table to it.

/// A verb: the key that starts a step's inline table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verb {
    Sleep,
    Block,
    Log,
    Fail,
    Raise,
    Return,
    Spawn,
    Call,
    Await,
    Gather,
    Wait,
    AsCompleted,
    WaitFor,
    Timeout,
    TimeoutAt,
    Cancel,
    Uncancel,
    Try,
    TaskGroup,
    With,
    Acquire,
    Release,
    Put,
    Get,
    PutNowait,
    GetNowait,
    TaskDone,
    Join,
    Shutdown,
    Consume,
    SetResult,
    SetException,
    Set,
    Clear,
    Abort,
    Reset,
    Notify,
    NotifyAll,
    CallSoon,
    CallLater,
    CallAt,
    ToThread,
    RunInExecutor,
    Repeat,
    Forever,
    For,
    Each,
    Check,
    Break,
    Pass,
}

/// How a verb's value names task definitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Names {
    /// It names none.
    Nothing,
    /// It names the definition it starts (`spawn`, `call`).
    Starts,
    /// It names what it waits for: a handle, a future, an event or a
    /// barrier, or else
    /// a definition that it starts there (`await = "fetch"`).
    Targets,
}

/// What the table says of one verb.
pub(crate) struct About {
    /// Its key in a step's table.
    pub(crate) key: &'static str,
    /// The other keys it takes.
    pub(crate) modifiers: &'static [&'static str],
    /// Whether a future's `on_done` may hold it: it never waits, and what
    /// it does makes sense at once, in a callback.
    pub(crate) in_callback: bool,
    /// How its value names task definitions.
    pub(crate) names: Names,
    /// Whether it is a loop (a `break` inside ends it).
    pub(crate) is_loop: bool,
}

const fn about(key: &'static str, modifiers: &'static [&'static str], in_callback: bool) -> About {
    About {
        key,
        modifiers,
        in_callback,
        names: Names::Nothing,
        is_loop: false,
    }
}

impl About {
    const fn names(self, names: Names) -> About {
        About { names, ..self }
    }

    const fn looping(self) -> About {
        About {
            is_loop: true,
            ..self
        }
    }
}

impl Verb {
    /// Every verb, in the order the language reference lists them.
    pub(crate) const ALL: [Verb; 50] = [
        Verb::Sleep,
        Verb::Block,
        Verb::Log,
        Verb::Fail,
        Verb::Raise,
        Verb::Return,
        Verb::Spawn,
        Verb::Call,
        Verb::Await,
        Verb::Gather,
        Verb::Wait,
        Verb::AsCompleted,
        Verb::WaitFor,
        Verb::Timeout,
        Verb::TimeoutAt,
        Verb::Cancel,
        Verb::Uncancel,
        Verb::Try,
        Verb::TaskGroup,
        Verb::With,
        Verb::Acquire,
        Verb::Release,
        Verb::Put,
        Verb::Get,
        Verb::PutNowait,
        Verb::GetNowait,
        Verb::TaskDone,
        Verb::Join,
        Verb::Shutdown,
        Verb::Consume,
        Verb::SetResult,
        Verb::SetException,
        Verb::Set,
        Verb::Clear,
        Verb::Abort,
        Verb::Reset,
        Verb::Notify,
        Verb::NotifyAll,
        Verb::CallSoon,
        Verb::CallLater,
        Verb::CallAt,
        Verb::ToThread,
        Verb::RunInExecutor,
        Verb::Repeat,
        Verb::Forever,
        Verb::For,
        Verb::Each,
        Verb::Check,
        Verb::Break,
        Verb::Pass,
    ];

    /// What the table says of this verb.
    pub(crate) const fn about(self) -> About {
        match self {
            Verb::Sleep => about("sleep", &[], false),
            Verb::Block => about("block", &[], false),
            Verb::Log => about("log", &[], true),
            Verb::Fail => about("fail", &["chance", "type", "from"], false),
            Verb::Raise => about("raise", &[], false),
            Verb::Return => about("return", &[], false),
            Verb::Spawn => {
                about("spawn", &["as", "into", "count", "args"], true).names(Names::Starts)
            }
            Verb::Call => about("call", &["args"], false).names(Names::Starts),
            Verb::Await => about("await", &["until"], false).names(Names::Targets),
            Verb::Gather => about("gather", &["return_exceptions"], false).names(Names::Targets),
            Verb::Wait => about("wait", &["return_when", "timeout", "cancel_pending"], false)
                .names(Names::Targets),
            Verb::AsCompleted => about("as_completed", &["timeout", "do"], false)
                .names(Names::Targets)
                .looping(),
            Verb::WaitFor => about("wait_for", &["timeout", "shield"], false).names(Names::Targets),
            Verb::Timeout => about("timeout", &["do"], false),
            Verb::TimeoutAt => about("timeout_at", &["do"], false),
            Verb::Cancel => about("cancel", &["msg"], true),
            Verb::Uncancel => about("uncancel", &[], false),
            Verb::Try => about("try", &["except", "except_star", "finally", "catch"], false),
            Verb::TaskGroup => about("task_group", &["do"], false),
            Verb::With => about("with", &["do", "priority"], false),
            Verb::Acquire => about("acquire", &["priority"], false),
            Verb::Release => about("release", &[], false),
            Verb::Put => about("put", &["item", "priority"], false),
            Verb::Get => about("get", &[], false),
            Verb::PutNowait => about("put_nowait", &["item", "priority"], true),
            Verb::GetNowait => about("get_nowait", &[], true),
            Verb::TaskDone => about("task_done", &[], true),
            Verb::Join => about("join", &[], false),
            Verb::Shutdown => about("shutdown", &["immediate"], true),
            Verb::Consume => about("consume", &["until", "do"], false).looping(),
            Verb::SetResult => about("set_result", &["value"], true),
            Verb::SetException => about("set_exception", &["error", "type"], true),
            Verb::Set => about("set", &[], true),
            Verb::Clear => about("clear", &[], true),
            // Coroutines: a callback could not await them.
            Verb::Abort => about("abort", &[], false),
            Verb::Reset => about("reset", &[], false),
            Verb::Notify => about("notify", &["n"], false),
            Verb::NotifyAll => about("notify_all", &[], false),
            Verb::CallSoon => about("call_soon", &["as"], true),
            Verb::CallLater => about("call_later", &["do", "as"], true),
            Verb::CallAt => about("call_at", &["do", "as"], true),
            Verb::ToThread => about("to_thread", &["value", "error", "type"], false),
            Verb::RunInExecutor => about(
                "run_in_executor",
                &["executor", "value", "error", "type"],
                false,
            ),
            Verb::Repeat => about("repeat", &["do"], false).looping(),
            Verb::Forever => about("forever", &[], false).looping(),
            Verb::For => about("for", &["in", "do"], false).looping(),
            Verb::Each => about("each", &["as", "do"], false).looping(),
            Verb::Check => about("check", &["state"], true),
            Verb::Break => about("break", &[], false),
            Verb::Pass => about("pass", &[], false),
        }
    }

    /// Its key in a step's table.
    pub(crate) const fn key(self) -> &'static str {
        self.about().key
    }

    /// The verb a key names, if it names one.
    pub(crate) fn from_key(key: &str) -> Option<Verb> {
        Verb::ALL.into_iter().find(|v| v.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verb_is_listed_once_under_its_own_key() {
        for (i, v) in Verb::ALL.iter().enumerate() {
            assert_eq!(Verb::from_key(v.key()), Some(*v));
            assert!(!Verb::ALL[..i].contains(v), "{v:?} twice");
        }
    }

    /// The language reference's step table has a row for each verb, and no
    /// row for a verb that does not exist.
    #[test]
    fn the_language_reference_lists_every_verb() {
        every_verb_in(
            include_str!("../docs/language.md"),
            "## Steps",
            "docs/language.md",
        );
    }

    /// So does the README's table of the language at a glance.
    #[test]
    fn the_readme_lists_every_verb() {
        let readme = include_str!("../README.md");
        every_verb_in(readme, "## The language at a glance", "README.md");
    }

    /// `benches/linear.sh` runs every verb in a loop: each one's cost is
    /// checked to grow linearly.
    #[test]
    fn the_linear_benchmark_runs_every_verb() {
        let script = include_str!("../benches/linear.sh");
        for v in Verb::ALL {
            let key = v.key();
            assert!(
                script.contains(&format!("{{ {key} = ")),
                "benches/linear.sh has no case with `{key}`"
            );
        }
    }

    fn every_verb_in(text: &str, section: &str, file: &str) {
        let table = text
            .split(section)
            .nth(1)
            .and_then(|t| t.split("\n## ").next())
            .unwrap_or_else(|| panic!("{file} has a section {section}"));
        let mut named = Vec::new();
        for row in table.lines().filter(|l| l.starts_with("| `{ ")) {
            let first = row.split(" | ").next().unwrap_or_default();
            for cell in first.split("`{ ").skip(1) {
                let key = cell.split([' ', '=']).next().unwrap_or_default();
                named.push(key.to_owned());
            }
        }
        let keys: Vec<String> = Verb::ALL.iter().map(|v| v.key().to_owned()).collect();
        for key in &named {
            assert!(keys.contains(key), "{file} names `{key}`, no verb");
        }
        for key in &keys {
            assert!(named.contains(key), "{file} has no row for `{key}`");
        }
    }
}
