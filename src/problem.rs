//! Every kind of problem a scenario file can have, with the data it is
//! about; one `match` turns each into its message, label and help.

use crate::duration::{self, Invalid, MAX_DURATION};
use crate::model::{StateName, Trigger};
use crate::rate::RateError;
use crate::suggest::Suggestion;
use crate::template::TemplateError;

/// What is wrong. Names are kept as written; `what` names the value a
/// problem is about as the message shows it ("`timeout`", "task `a`").
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Problem {
    // ----- the TOML itself, and values of the wrong type or range -----
    /// The TOML parser's own message.
    Syntax {
        message: String,
    },
    WrongType {
        what: String,
        expected: &'static str,
        found: &'static str,
    },
    UnknownTable {
        key: String,
        known: &'static [&'static str],
        suggestion: Option<Suggestion>,
    },
    UnknownKey {
        key: String,
        what: String,
        known: &'static [&'static str],
        suggestion: Option<Suggestion>,
    },
    IntOutOfRange {
        what: String,
        lo: i64,
        hi: i64,
        written: String,
    },
    NotAProbability {
        what: String,
        value: f64,
    },
    DurationTooLong {
        what: String,
        ns: u64,
    },
    InvalidDuration {
        what: String,
        invalid: Invalid,
    },
    NoNames {
        what: String,
    },

    // ----- names -----
    NoTasks,
    BlankName {
        kind: &'static str,
    },
    ControlInName {
        kind: &'static str,
        name: String,
    },
    BracketInTaskName {
        name: String,
    },
    TaskAndFuture {
        name: String,
    },
    /// An event named like a task or a future (`other`).
    EventNamedLike {
        name: String,
        other: &'static str,
    },
    /// A barrier named like a task, a future or an event (`other`, with
    /// its article: "an event").
    BarrierNamedLike {
        name: String,
        other: &'static str,
    },
    /// An executor declared without `workers`.
    NoWorkers {
        name: String,
    },
    /// A barrier declared without `parties`.
    NoParties {
        name: String,
    },
    /// A condition named like a semaphore, an event, a task or a future
    /// (`other`).
    ConditionNamedLike {
        name: String,
        other: &'static str,
    },
    /// A condition's `lock` names a semaphore of another kind.
    ConditionLockNotALock {
        condition: String,
        lock: String,
        kind: &'static str,
    },
    /// A condition named where only tasks and futures go (`gather`,
    /// `wait`, `wait_for`, `cancel`, `check`, `each`).
    ConditionNotAwaitable {
        name: String,
        verb: &'static str,
    },
    /// `until` on an `await` of something other than a condition.
    UntilWithoutCondition {
        name: String,
    },
    /// `until` other than one placeholder, maybe after `not `.
    UntilNotOnePlaceholder {
        found: String,
    },
    ControlInScenarioName,
    UndefinedTask {
        what: String,
        name: String,
        suggestion: Option<Suggestion>,
    },

    // ----- [scenario] -----
    UnknownPython {
        version: String,
    },
    /// What a step or class names does not exist in the version the run
    /// follows.
    NeedsPython {
        what: &'static str,
        needs: crate::python::Python,
        have: crate::python::Python,
        /// The version came from `--python`, not the file.
        by_flag: bool,
    },
    ZeroTimeLimit,

    // ----- tasks -----
    StartedAndArriving {
        task: String,
    },
    ArrivalsWith {
        task: String,
        key: &'static str,
    },
    StepsAndShorthand {
        task: String,
        key: &'static str,
    },
    ErrorWithoutFail,
    NoBody {
        task: String,
    },
    SemaphoreWithoutPermits {
        semaphore: String,
    },
    UnknownSemaphoreKind {
        name: String,
        suggestion: Option<Suggestion>,
    },
    LockWithPermits {
        lock: String,
    },
    CallbackWaits {
        /// `on_done`, or the `call_*` verb that schedules the callback.
        verb: &'static str,
    },
    /// `cancel` names a callback's handle and something else too, or
    /// another verb names a callback's handle.
    CallbackHandleMisused {
        name: String,
        verb: &'static str,
    },
    DatetimeValue,
    RetryOnWithoutRetry,
    RetryWithoutAttempts,
    FactorOutOfRange {
        factor: f64,
    },
    MaxBackoffBelowBackoff {
        max: u64,
        backoff: u64,
    },
    UnknownRetryOn {
        name: String,
        suggestion: Option<Suggestion>,
    },
    AfterStartedTask {
        name: String,
    },
    AfterAndStarted {
        task: String,
    },
    UnknownTrigger {
        name: String,
        suggestion: Option<Suggestion>,
    },
    TriggerWithoutAfter,

    // ----- the task graph -----
    StartCycle {
        names: Vec<String>,
    },
    AfterCycle {
        names: Vec<String>,
    },
    HandleClash {
        name: String,
        kind: &'static str,
    },
    TooDeep {
        task: String,
        depth: u32,
        max: u32,
        callee: Option<String>,
    },

    // ----- steps -----
    StepsNotArray {
        found: &'static str,
    },
    StepNotTable {
        found: &'static str,
    },
    ModifierElsewhere {
        key: String,
        verb: String,
        allowed: &'static [&'static str],
        suggestion: Option<Suggestion>,
    },
    UnknownStepKey {
        key: String,
        verb: String,
        allowed: &'static [&'static str],
        suggestion: Option<Suggestion>,
    },
    ModifierWithoutVerb {
        key: String,
        verbs: Vec<&'static str>,
    },
    UnknownVerb {
        key: String,
        suggestion: Suggestion,
    },
    /// A step with no verb, nor a key close to one; `verbs` are all of them.
    NoVerb {
        verbs: Vec<&'static str>,
    },
    TwoVerbs {
        first: String,
        second: String,
    },
    /// A step without a key its verb needs; `needs` is how to write it.
    StepNeeds {
        verb: String,
        needs: &'static str,
    },
    BreakOutsideLoop,
    UnknownReturnWhen {
        name: String,
        suggestion: Option<Suggestion>,
    },
    /// A `fail`'s `from` is neither `error` nor `none`.
    UnknownRaiseFrom {
        name: String,
        suggestion: Option<Suggestion>,
    },
    /// `from = "error"` with no exception being handled there.
    RaiseFromOutsideExcept {
        in_finally: bool,
    },
    UnknownQueueKind {
        name: String,
        suggestion: Option<Suggestion>,
    },
    /// A `put` to a priority queue without a `priority`.
    PriorityNeeded {
        queue: String,
    },
    /// A `priority` on a put to a queue of another kind.
    PriorityOnPlainQueue {
        queue: String,
        kind: &'static str,
    },
    /// An `acquire`, a `release` or a `limit` of a preemptive semaphore.
    PreemptiveNeedsWith {
        semaphore: String,
        how: &'static str,
    },
    /// A `priority` on a `with` or `acquire` of a semaphore not of kind
    /// `priority`.
    PriorityOnPlainSemaphore {
        semaphore: String,
        kind: &'static str,
    },
    /// A `priority` that is no number (nor a placeholder that may hold one).
    PriorityNotANumber {
        found: String,
    },
    AmbiguousStartedTask {
        name: String,
    },
    /// A name no step operand has; `event_too`: the step (`await`) takes
    /// events and barriers as well.
    UnknownTarget {
        name: String,
        suggestion: Option<Suggestion>,
        event_too: bool,
    },
    /// An event named where only tasks and futures go (any step but `await`).
    EventNotAwaitable {
        name: String,
        verb: &'static str,
    },
    /// A barrier named where only tasks and futures go (any step but `await`).
    BarrierNotAwaitable {
        name: String,
        verb: &'static str,
    },
    NoTaskToStart {
        name: String,
        suggestion: Option<Suggestion>,
    },
    Undeclared {
        kind: &'static str,
        table: &'static str,
        name: String,
        suggestion: Option<Suggestion>,
    },
    UnknownArgument {
        task: String,
        key: String,
        suggestion: Option<Suggestion>,
    },
    // ----- handle parameters (see validate/handles.rs) -----
    /// `handles = { p = "..." }` names a kind there is not.
    UnknownHandleKind {
        name: String,
        suggestion: Option<Suggestion>,
    },
    /// A start of a task with handle parameters leaves one without a value.
    HandleWithoutValue {
        task: String,
        param: String,
        kind: &'static str,
    },
    /// A task with handle parameters that nothing starts (it would start
    /// by itself, with none).
    HandlesUnpassed {
        task: String,
    },
    /// A handle passed that the caller does not hold.
    UnknownHandle {
        name: String,
        suggestion: Option<Suggestion>,
    },
    /// A handle passed of another kind than the parameter takes.
    HandleKindMismatch {
        task: String,
        param: String,
        want: &'static str,
        name: String,
        found: &'static str,
    },
    /// A `put` with a `priority` into a queue parameter (never a priority
    /// queue).
    PriorityOnQueueParam {
        queue: String,
    },
    /// A name both an argument and a handle parameter of one task.
    ArgAndHandle {
        task: String,
        name: String,
    },
    UnknownExceptionKind {
        name: String,
        suggestion: Option<Suggestion>,
    },
    /// `[exceptions]`: a class name Python could not write.
    ClassNameNotIdentifier {
        name: String,
    },
    /// `[exceptions]`: a class named like a builtin one.
    ClassNameIsBuiltin {
        name: String,
    },
    /// `[exceptions]`, `type`: a class that is not declared or builtin.
    UnknownClass {
        name: String,
        suggestion: Option<Suggestion>,
    },
    /// `[exceptions]`: classes that derive from each other.
    ClassCycle {
        names: Vec<String>,
    },
    /// A class that is no `Exception` where one must be (a `type`, a base).
    NotAnException {
        name: String,
        what: &'static str,
    },
    /// `retry_on` names a cancellation.
    RetryOnCancel {
        name: String,
    },
    /// A bare `raise` with no exception being handled there.
    RaiseOutsideExcept {
        in_finally: bool,
    },
    /// A bare `raise` whose innermost handler is an `except*`.
    RaiseInExceptStar,
    /// `return` or `break` leaving an `except*` handler (a SyntaxError in
    /// Python).
    LeavesExceptStar {
        verb: &'static str,
    },
    /// A `try` with both `except` and `except_star`.
    ExceptAndExceptStar,
    /// Thread work with both `value` and `error`.
    ValueAndError {
        verb: &'static str,
    },
    /// An `except_star` whose `catch` names what `except*` cannot take.
    StarCatch {
        name: String,
    },
    /// A task group's name is a handle's, a variable's or a future's too.
    TaskGroupNameTaken {
        name: String,
    },
    /// A task group inside another of the same name.
    TaskGroupNested {
        name: String,
    },
    /// `into` a task group from outside its block.
    IntoTaskGroupOutside {
        name: String,
    },
    /// A task group's class raised by `fail` or used as a base.
    GroupNotRaised {
        name: String,
        what: &'static str,
    },
    UnknownCheckState {
        name: String,
        suggestion: Option<Suggestion>,
    },
    Template(TemplateError),

    // ----- distributions -----
    OneDistribution {
        what: String,
    },
    DistributionShape {
        kind: String,
        shape: &'static str,
    },
    UniformBackwards,
    LognormalShape {
        sigma: f64,
    },
    ChoiceNotTable,
    ChoiceDuration {
        invalid: Invalid,
    },
    WeightNotPositive {
        weight: f64,
    },
    EmptyChoice,

    // ----- arrivals -----
    NoArrivalProcess,
    TwoArrivalProcesses {
        first: &'static str,
        second: &'static str,
    },
    StagesWithUsers,
    ThinkWithoutUsers,
    StagesWithDuration,
    ZeroRate {
        kind: &'static str,
    },
    ArrivalsNeverEnd,
    NotPositive {
        what: String,
    },
    StagesNotArray,
    NoStages,
    IncompleteStage,
    StagesTooLong {
        total: u64,
    },
    AllStagesZero,
    RateOutOfRange {
        what: String,
        rate: f64,
    },
    InvalidRate {
        error: RateError,
    },
    NotARate {
        what: String,
    },

    // ----- [expect] -----
    NotAPercentage {
        text: String,
    },
    UnknownStatistic {
        name: String,
    },
    InstanceSyntax {
        label: String,
    },
    NoSuchName {
        kind: &'static str,
        name: String,
        suggestion: Option<Suggestion>,
    },
    UnknownState {
        name: String,
        suggestion: Option<Suggestion>,
    },
    UnknownChoice {
        what: &'static str,
        name: String,
        names: &'static [&'static str],
        suggestion: Option<Suggestion>,
    },
    BackwardsRange {
        what: String,
    },
    NotValueOrRange {
        what: String,
    },
}

const NAME_HELP: &str = "use letters, digits, `_`, `-` or `.`";
const CLOCK_HELP: &str =
    "the virtual clock holds about 584 years; a duration may be at most 100 years";
const RATE_HELP: &str =
    "rates look like \"50/s\", \"3000/min\", \"1/250ms\", or a number per second";

/// The suggestion, else `otherwise`.
fn or(suggestion: &Option<Suggestion>, otherwise: impl FnOnce() -> String) -> String {
    suggestion
        .as_ref()
        .map_or_else(otherwise, ToString::to_string)
}

/// A kind of thing with its article: "a task", "an event".
fn a(kind: &str) -> String {
    let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {kind}")
}

fn shown(suggestion: &Option<Suggestion>) -> Option<String> {
    suggestion.as_ref().map(ToString::to_string)
}

/// `{verb} takes: ...`, or that it takes nothing else.
fn takes(verb: &str, allowed: &[&str]) -> String {
    if allowed.is_empty() {
        format!("`{verb}` takes no other keys")
    } else {
        format!("`{verb}` takes: {}", allowed.join(", "))
    }
}

impl Problem {
    /// The message, the label and the help, from one match over every kind.
    pub(crate) fn texts(&self) -> (String, Option<String>, Option<String>) {
        match self {
            Problem::Syntax { message } => (message.clone(), None, None),
            Problem::WrongType {
                what,
                expected,
                found,
            } => (
                format!("{what} must be {expected}, not {found}"),
                Some(format!("expected {expected}")),
                None,
            ),
            Problem::UnknownTable {
                key,
                known,
                suggestion,
            } => (
                format!("unknown table `[{key}]`"),
                None,
                Some(or(suggestion, || {
                    format!("the file takes: {}", known.join(", "))
                })),
            ),
            Problem::UnknownKey {
                key,
                what,
                known,
                suggestion,
            } => (
                format!("unknown key `{key}` in {what}"),
                None,
                Some(or(suggestion, || match known {
                    [] => format!("{what} takes no keys: write `{{}}`"),
                    _ => format!("{what} takes: {}", known.join(", ")),
                })),
            ),
            Problem::IntOutOfRange {
                what,
                lo,
                hi,
                written,
            } => (
                format!("{what} must be between {lo} and {hi}, not {written}"),
                Some("out of range".into()),
                None,
            ),
            Problem::NotAProbability { what, value } => (
                format!("{what} is a probability between 0.0 and 1.0, not {value}"),
                Some("out of range".into()),
                None,
            ),
            Problem::DurationTooLong { what, ns } => (
                format!(
                    "{what}: {} is longer than a run can last (at most {}, 100 years)",
                    duration::format(*ns),
                    duration::format(MAX_DURATION)
                ),
                Some("too long".into()),
                Some(CLOCK_HELP.into()),
            ),
            Problem::InvalidDuration { what, invalid } if invalid.is_too_long() => (
                format!("{what}: {invalid}"),
                Some("too long".into()),
                Some(CLOCK_HELP.into()),
            ),
            Problem::InvalidDuration { what, invalid } => (
                format!("{what}: {invalid}"),
                Some("not a duration".into()),
                Some("durations look like \"250ms\", \"1.5s\", \"2m 30s\", \"1 day\", or an unquoted number of seconds".into()),
            ),
            Problem::NoNames { what } => (format!("{what} needs at least one name"), None, None),
            Problem::NoTasks => (
                "a scenario needs at least one task".into(),
                None,
                Some("add a table like:\n[tasks.main]\nsteps = [{ log = \"hello\" }]".into()),
            ),
            Problem::BlankName { kind } => (
                format!("a {kind} name cannot be empty or blank"),
                None,
                Some(NAME_HELP.into()),
            ),
            Problem::ControlInName { kind, name } => (
                format!(
                    "{kind} name `{}` has a control character; it could not be shown",
                    name.escape_debug()
                ),
                None,
                Some(NAME_HELP.into()),
            ),
            Problem::BracketInTaskName { name } => (
                format!(
                    "task name `{}` has a bracket; replicas are named `w[0]`, `w[1]`... and could clash with it",
                    name.escape_debug()
                ),
                None,
                Some(NAME_HELP.into()),
            ),
            Problem::TaskAndFuture { name } => (
                format!("`{name}` names both a task and a future; a step could not tell them apart"),
                None,
                None,
            ),
            Problem::EventNamedLike { name, other } => (
                format!("`{name}` names both an event and a {other}; a step could not tell them apart"),
                None,
                None,
            ),
            Problem::BarrierNamedLike { name, other } => (
                format!("`{name}` names both a barrier and {other}; a step could not tell them apart"),
                None,
                None,
            ),
            Problem::NoWorkers { name } => (
                format!("executor `{name}` has no `workers`"),
                Some("how many threads may run its work at once?".into()),
                Some(format!(
                    "write `{name} = {{ workers = 4 }}`, as `ThreadPoolExecutor(max_workers=4)`"
                )),
            ),
            Problem::NoParties { name } => (
                format!("barrier `{name}` has no `parties`"),
                Some("how many tasks must wait to pass it?".into()),
                Some(format!("write `{name} = {{ parties = 3 }}`, as `asyncio.Barrier(3)`")),
            ),
            Problem::ConditionNamedLike { name, other } => (
                format!("`{name}` names both a condition and a {other}; a step could not tell them apart"),
                None,
                None,
            ),
            Problem::ConditionLockNotALock {
                condition,
                lock,
                kind,
            } => (
                format!("condition `{condition}` needs a lock, and `{lock}` is a {kind}"),
                Some("not a lock".into()),
                Some(format!(
                    "declare `{lock} = {{ kind = \"lock\" }}`, or leave `lock` out for the \
                     condition's own lock"
                )),
            ),
            Problem::ConditionNotAwaitable { name, verb } => (
                format!("`{verb}` cannot take condition `{name}`: it takes tasks and futures"),
                Some("a condition".into()),
                Some(format!(
                    "wait on a condition alone with `{{ await = \"{name}\" }}` (its lock held), \
                     inside `{{ timeout = \"1s\", do = [...] }}` to bound the wait"
                )),
            ),
            Problem::UntilWithoutCondition { name } => (
                format!("`until` waits on a condition, and `{name}` is none"),
                None,
                Some(
                    "`{ await = \"cv\", until = \"{ready.is_set}\" }` is \
                     `await cv.wait_for(lambda: ready.is_set())`, with `cv` under [conditions]"
                        .into(),
                ),
            ),
            Problem::UntilNotOnePlaceholder { found } => (
                format!("`until` must be one placeholder, maybe after `not `, not `{found}`"),
                Some("a predicate".into()),
                Some(
                    "write `\"{ready.is_set}\"`, `\"not {t.done}\"` or `\"{flag}\"`: its value is \
                     the predicate's"
                        .into(),
                ),
            ),
            Problem::ControlInScenarioName => (
                "the scenario's `name` has a control character; it could not be shown".into(),
                None,
                None,
            ),
            Problem::UndefinedTask {
                what,
                name,
                suggestion,
            } => (
                format!("{what} names task `{name}`, which is not defined"),
                None,
                shown(suggestion),
            ),
            Problem::UnknownPython { version } => {
                let known: Vec<&str> = crate::python::Python::ALL.iter().map(|p| p.name()).collect();
                (
                    format!("`python`: CPython {version} is not modelled"),
                    Some("not a modelled version".into()),
                    Some(format!("the versions modelled are {}", known.join(", "))),
                )
            }
            Problem::NeedsPython {
                what,
                needs,
                have,
                by_flag,
            } => (
                format!("{what} exists from CPython {needs} on; this run follows CPython {have}"),
                Some(format!("not in CPython {have}")),
                Some(if *by_flag {
                    format!("the run follows `--python {have}`; run it with `--python {needs}`")
                } else {
                    format!("set `python = \"{needs}\"` in `[scenario]`")
                }),
            ),
            Problem::ZeroTimeLimit => ("`time_limit` must be more than 0s".into(), None, None),
            Problem::StartedAndArriving { task } => (
                format!("task `{task}` has `arrivals`, so arrivals start it: steps cannot also start it"),
                None,
                None,
            ),
            Problem::ArrivalsWith { task, key } => (
                format!("task `{task}` has `arrivals`, which start its instances: remove `{key}`"),
                None,
                None,
            ),
            Problem::StepsAndShorthand { task, key } => (
                format!(
                    "task `{task}` has both `steps` and the shorthand `{key}`; write `{key}` as a step"
                ),
                None,
                None,
            ),
            Problem::ErrorWithoutFail => (
                "`error` is the message of `fail`; add `fail = 1.0` (or a chance)".into(),
                None,
                None,
            ),
            Problem::NoBody { task } => (
                format!("task `{task}` has no body"),
                None,
                Some("give it `steps = [...]`, or the shorthand `sleep = \"1s\"`".into()),
            ),
            Problem::SemaphoreWithoutPermits { semaphore } => (
                format!("semaphore `{semaphore}` needs `permits`"),
                None,
                None,
            ),
            Problem::UnknownSemaphoreKind { name, suggestion } => (
                format!("unknown semaphore kind `{name}`"),
                None,
                Some(or(suggestion, || {
                    "one of semaphore (asyncio.Semaphore), bounded (asyncio.BoundedSemaphore), \
                     lock (asyncio.Lock)"
                        .into()
                })),
            ),
            Problem::LockWithPermits { lock } => (
                format!("lock `{lock}` has one permit: `permits` is for semaphores"),
                None,
                Some("remove `permits`, or make it a semaphore".into()),
            ),
            Problem::CallbackWaits { verb } => (
                format!(
                    "`{verb}` callbacks run at once and cannot wait: use only {}",
                    crate::verb::Verb::ALL
                        .iter()
                        .filter(|v| v.about().in_callback)
                        .map(|v| v.key())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None,
                None,
            ),
            Problem::CallbackHandleMisused { name, verb } => (
                format!(
                    "`{verb}` cannot take `{name}`: it names a callback that `call_*` scheduled"
                ),
                Some("a callback's handle".into()),
                Some(format!(
                    "a callback's handle can only be cancelled: `{{ cancel = \"{name}\" }}`"
                )),
            ),
            Problem::DatetimeValue => (
                "date-times are not values a task can use".into(),
                None,
                None,
            ),
            Problem::RetryOnWithoutRetry => (
                "`retry_on` needs `retry = { attempts = ... }`".into(),
                None,
                None,
            ),
            Problem::RetryWithoutAttempts => (
                "`retry` needs `attempts` (every try, the first included)".into(),
                None,
                None,
            ),
            Problem::FactorOutOfRange { factor } => (
                format!("`factor` must be between 1 and 100, not {factor}"),
                None,
                None,
            ),
            Problem::MaxBackoffBelowBackoff { max, backoff } => (
                format!(
                    "`max_backoff` ({}) is below `backoff` ({}): no wait could respect it",
                    duration::format(*max),
                    duration::format(*backoff)
                ),
                Some("below `backoff`".into()),
                Some("make `max_backoff` at least `backoff`, or remove it".into()),
            ),
            Problem::UnknownRetryOn { name, suggestion } => (
                format!("`retry_on` takes `error`, `timeout` and exception classes, not `{name}`"),
                None,
                shown(suggestion),
            ),
            Problem::AfterStartedTask { name } => (
                format!("`after` names `{name}`, which steps start: only a task that starts by itself can be waited for"),
                None,
                None,
            ),
            Problem::AfterAndStarted { task } => (
                format!("task `{task}` has `after`, so it starts by itself: steps cannot also start it"),
                None,
                None,
            ),
            Problem::UnknownTrigger { name, suggestion } => (
                format!("unknown trigger `{name}`"),
                None,
                Some(or(suggestion, || format!("triggers: {}", Trigger::NAMES.join(", ")))),
            ),
            Problem::TriggerWithoutAfter => ("`trigger` needs `after = [...]`".into(), None, None),
            Problem::StartCycle { names } => {
                let what = if names.len() == 2 {
                    format!("task `{}` starts itself", names[0])
                } else {
                    format!("tasks start each other in a cycle: {}", names.join(" -> "))
                };
                (
                    format!("{what}, without end"),
                    Some("this starts it again".into()),
                    Some(format!(
                        "every run of `{}` would start another; end the cycle {}",
                        names[0], "(use `forever`/`repeat` inside one task to loop)"
                    )),
                )
            }
            Problem::AfterCycle { names } => (
                if names.len() == 2 {
                    format!("task `{}` waits for itself", names[0])
                } else {
                    format!("a dependency cycle: {}", names.join(" -> "))
                },
                Some("this closes the cycle".into()),
                Some("`after` must form a graph without cycles: none of these could ever start".into()),
            ),
            Problem::HandleClash { name, kind } => (
                format!(
                    "handle `{name}` has the name of {} {kind}; a step naming `{name}` could mean either",
                    if kind.starts_with('e') { "an" } else { "a" }
                ),
                Some("ambiguous".into()),
                Some(format!("rename the handle, e.g. `{name}_task`")),
            ),
            Problem::TooDeep {
                task,
                depth,
                max,
                callee,
            } => (
                format!(
                    "task `{task}` would run {depth} levels deep (nested blocks and `call`s); at most {max}"
                ),
                Some(match callee {
                    Some(callee) => format!("this `call` of `{callee}` goes on"),
                    None => "blocks nested this deep".to_owned(),
                }),
                Some("a `call` runs the called task inside its caller: `spawn` it and `await` the handle, or flatten the chain".into()),
            ),
            Problem::StepsNotArray { found } => (
                format!("steps must be an array of steps, not {found}"),
                None,
                Some("write steps = [{ sleep = \"1s\" }, { log = \"done\" }]".into()),
            ),
            Problem::StepNotTable { found } => (
                format!("a step must be an inline table, not {found}"),
                None,
                Some("write a step like { sleep = \"1s\" }".into()),
            ),
            Problem::ModifierElsewhere {
                key,
                verb,
                allowed,
                suggestion,
            } => (
                format!("`{key}` does not apply to a `{verb}` step"),
                None,
                Some(or(suggestion, || takes(verb, allowed))),
            ),
            Problem::UnknownStepKey {
                key,
                verb,
                allowed,
                suggestion,
            } => (
                format!("unknown key `{key}` in a `{verb}` step"),
                None,
                Some(or(suggestion, || takes(verb, allowed))),
            ),
            Problem::ModifierWithoutVerb { key, verbs } => (
                "this step has no verb".into(),
                None,
                Some(format!("`{key}` goes with a verb: {}", verbs.join(", "))),
            ),
            Problem::UnknownVerb { key, suggestion } => (
                format!("unknown verb `{key}`"),
                None,
                Some(suggestion.to_string()),
            ),
            Problem::NoVerb { verbs } => (
                "a step needs a verb".into(),
                None,
                Some(format!("verbs: {}", verbs.join(", "))),
            ),
            Problem::TwoVerbs { first, second } => (
                format!("a step has one verb, this one has `{first}` and `{second}`"),
                None,
                Some("split it into two steps".into()),
            ),
            Problem::StepNeeds { verb, needs } => {
                let article = if verb.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                (format!("{article} `{verb}` step needs {needs}"), None, None)
            }
            Problem::BreakOutsideLoop => (
                "`break` outside a loop: there is nothing to break out of".into(),
                Some("not inside repeat, forever, for, each or consume".into()),
                Some("to end the task here, use `{ return = ... }`".into()),
            ),
            Problem::UnknownReturnWhen { name, suggestion } => (
                format!("unknown `return_when` `{name}`"),
                None,
                Some(or(suggestion, || {
                    "one of first_completed, first_exception, all_completed".into()
                })),
            ),
            Problem::UnknownRaiseFrom { name, suggestion } => (
                format!("unknown `from` `{name}`"),
                None,
                Some(or(suggestion, || {
                    "`error` (the exception the `except` caught) or `none`".into()
                })),
            ),
            Problem::RaiseFromOutsideExcept { in_finally } => (
                "`from = \"error\"` outside an `except`: there is no exception it handles".into(),
                Some(match in_finally {
                    true => "in a `finally`".into(),
                    false => "not inside an `except = [...]`".into(),
                }),
                Some("use `from = \"none\"`, or move the `fail` into an `except`".into()),
            ),
            Problem::UnknownQueueKind { name, suggestion } => (
                format!("unknown queue kind `{name}`"),
                None,
                Some(or(suggestion, || {
                    format!("one of {}", crate::model::QueueKind::NAMES.join(", "))
                })),
            ),
            Problem::PriorityNeeded { queue } => (
                format!("queue `{queue}` is a priority queue: a `put` to it needs `priority = ...`"),
                None,
                Some("a number; the lowest priority comes out first".into()),
            ),
            Problem::PriorityOnPlainQueue { queue, kind } => (
                format!("`priority` applies to a priority queue, and `{queue}` is a {kind} queue"),
                None,
                Some("declare it with `kind = \"priority\"` in [queues], or drop `priority`".into()),
            ),
            Problem::PreemptiveNeedsWith { semaphore, how } => (
                format!("{how} cannot use the preemptive semaphore `{semaphore}`"),
                None,
                Some(format!("take it with `{{ with = \"{semaphore}\", do = [...] }}`: its `with` knows when a newcomer took the permit away")),
            ),
            Problem::PriorityOnPlainSemaphore { semaphore, kind } => (
                format!("`priority` applies to a priority semaphore, and `{semaphore}` is a {kind}"),
                None,
                Some("declare it with `kind = \"priority\"` in [semaphores], or drop `priority`".into()),
            ),
            Problem::PriorityNotANumber { found } => (
                format!("a priority must be a number, not {found}"),
                Some("expected a number".into()),
                Some("write a number (`priority = 2`), or one placeholder that holds one (`priority = \"{i}\"`)".into()),
            ),
            Problem::AmbiguousStartedTask { name } => (
                format!("task `{name}` is started by steps, so this name is ambiguous here"),
                None,
                Some(format!(
                    "give the started task a handle (`spawn = \"{name}\", as = \"h\"`) and use that"
                )),
            ),
            Problem::UnknownTarget {
                name,
                suggestion,
                event_too,
            } => (
                match event_too {
                    true => format!("no task, handle, future, event or barrier named `{name}`"),
                    false => format!("no task, handle or future named `{name}`"),
                },
                Some("unknown name".into()),
                shown(suggestion),
            ),
            Problem::EventNotAwaitable { name, verb } => (
                format!("`{verb}` cannot take event `{name}`: it takes tasks and futures"),
                Some("an event".into()),
                Some(match *verb {
                    "gather" | "wait" | "wait_for" => format!(
                        "wait for the event alone with `{{ await = \"{name}\" }}`, inside \
                         `{{ timeout = \"1s\", do = [...] }}` to bound the wait"
                    ),
                    _ => format!(
                        "an event is neither a task nor a future: `{{ set = \"{name}\" }}`, \
                         `{{ clear = \"{name}\" }}` and `{{{name}.is_set}}` are what it has"
                    ),
                }),
            ),
            Problem::BarrierNotAwaitable { name, verb } => (
                format!("`{verb}` cannot take barrier `{name}`: it takes tasks and futures"),
                Some("a barrier".into()),
                Some(match *verb {
                    "gather" | "wait" | "wait_for" => format!(
                        "wait at the barrier alone with `{{ await = \"{name}\" }}`, inside \
                         `{{ timeout = \"1s\", do = [...] }}` to bound the wait"
                    ),
                    _ => format!(
                        "a barrier is neither a task nor a future: `{{ await = \"{name}\" }}`, \
                         `{{ abort = \"{name}\" }}`, `{{ reset = \"{name}\" }}` and \
                         `{{{name}.n_waiting}}` are what it has"
                    ),
                }),
            ),
            Problem::NoTaskToStart { name, suggestion } => (
                format!("no task named `{name}`"),
                Some("not defined under [tasks]".into()),
                shown(suggestion),
            ),
            Problem::Undeclared {
                kind,
                table,
                name,
                suggestion,
            } => (
                format!("no {kind} named `{name}`"),
                Some(format!("not declared under {table}")),
                Some(or(suggestion, || format!("declare it under {table}"))),
            ),
            Problem::UnknownArgument {
                task,
                key,
                suggestion,
            } => (
                format!("task `{task}` has no argument `{key}`"),
                None,
                Some(or(suggestion, || {
                    format!("declare it with a default in [tasks.{task}] args = {{ {key} = ... }}")
                })),
            ),
            Problem::UnknownHandleKind { name, suggestion } => (
                format!("unknown handle kind `{name}`"),
                Some("not a kind of handle".into()),
                Some(or(suggestion, || {
                    "a handle parameter holds a `task`, a `group`, a `future`, a `queue`, a `semaphore` \
                     or an `event`"
                        .into()
                })),
            ),
            Problem::HandleWithoutValue { task, param, kind } => (
                format!(
                    "task `{task}` takes handle `{param}` ({}), and none is passed",
                    a(kind)
                ),
                Some("started here without it".into()),
                Some(format!(
                    "pass one the caller holds: `args = {{ {param} = \"...\" }}`"
                )),
            ),
            Problem::HandlesUnpassed { task } => (
                format!("task `{task}` takes handles, but nothing starts it to pass them"),
                Some("its handle parameters".into()),
                Some(format!(
                    "start it from another task with `{{ spawn = \"{task}\", args = {{ ... }} }}` \
                     or `call`, passing each handle"
                )),
            ),
            Problem::UnknownHandle { name, suggestion } => (
                format!("no task, group, future, queue, semaphore or event named `{name}` to pass"),
                Some("not a handle the caller holds".into()),
                Some(or(suggestion, || {
                    "pass a handle bound by `spawn ... as` or `into`, a task started by itself, \
                     a future, a queue, a semaphore, an event, or a handle parameter of the caller"
                        .into()
                })),
            ),
            Problem::HandleKindMismatch {
                task,
                param,
                want,
                name,
                found,
            } => (
                format!(
                    "`{name}` is {}, but `{param}` of task `{task}` takes {}",
                    a(found),
                    a(want)
                ),
                Some(a(found)),
                Some(match crate::model::HandleKind::parse(found) {
                    Some(_) => format!(
                        "pass {}, or declare `{param} = \"{found}\"` in [tasks.{task}] handles",
                        a(want)
                    ),
                    // A priority queue: its puts need a priority.
                    None => format!("pass {}: {} is not passed as a handle", a(want), a(found)),
                }),
            ),
            Problem::PriorityOnQueueParam { queue } => (
                format!("`priority` on queue parameter `{queue}`, which holds a FIFO or LIFO queue"),
                Some("no priority queue is passed".into()),
                Some("drop `priority`".into()),
            ),
            Problem::ArgAndHandle { task, name } => (
                format!("task `{task}` declares `{name}` both as a variable and as a handle"),
                Some("declared again here".into()),
                Some("rename one of them".into()),
            ),
            Problem::UnknownExceptionKind { name, suggestion } => (
                format!("unknown exception kind `{name}`"),
                None,
                Some(or(suggestion, || {
                    "catch takes error, timeout, cancelled and exception classes (`ValueError`, \
                     a class of [exceptions])"
                        .into()
                })),
            ),
            Problem::ClassNameNotIdentifier { name } => (
                format!("exception class `{name}` is not a Python class name"),
                None,
                Some("letters, digits and `_`, not starting with a digit".into()),
            ),
            Problem::ClassNameIsBuiltin { name } => (
                format!("`{name}` is a builtin exception class already"),
                None,
                Some(format!("use `{name}` without declaring it, or name your class differently")),
            ),
            Problem::UnknownClass { name, suggestion } => (
                format!("no exception class named `{name}`"),
                Some("neither builtin nor declared under [exceptions]".into()),
                Some(or(suggestion, || {
                    format!("declare it: `[exceptions] {name} = \"Exception\"`")
                })),
            ),
            Problem::ClassCycle { names } => (
                format!("exception classes derive from each other: {}", names.join(" -> ")),
                None,
                Some("each class needs a base that leads to `Exception`".into()),
            ),
            Problem::NotAnException { name, what } => (
                format!("`{name}` is not an `Exception`: {what} must be one"),
                None,
                Some(match name.as_str() {
                    "CancelledError" => "to cancel a task, use `{ cancel = ... }`".into(),
                    _ => "`Exception` or a class derived from it".into(),
                }),
            ),
            Problem::RetryOnCancel { name } => (
                format!("`retry_on` names `{name}`, and a cancellation is never retried"),
                None,
                Some("name `error`, `timeout` or classes derived from `Exception`".into()),
            ),
            Problem::RaiseOutsideExcept { in_finally } => (
                "a bare `raise` outside an `except`: there is no exception it handles".into(),
                Some(match in_finally {
                    true => "in a `finally`".into(),
                    false => "not inside an `except = [...]`".into(),
                }),
                Some("to raise a new exception, use `{ fail = \"...\", type = \"...\" }`".into()),
            ),
            Problem::RaiseInExceptStar => (
                "a bare `raise` in an `except_star` handler".into(),
                Some("its innermost handler is `except*`".into()),
                Some(
                    "leave the handler to have the part it took handled; to raise \
                     another exception, use `{ fail = \"...\", type = \"...\" }`"
                        .into(),
                ),
            ),
            Problem::LeavesExceptStar { verb } => (
                format!("`{verb}` cannot leave an `except_star` handler"),
                Some("inside `except_star = [...]`".into()),
                Some(
                    "Python forbids `break`, `continue` and `return` in an `except*` \
                     block; set a variable and act on it after the `try`"
                        .into(),
                ),
            ),
            Problem::ValueAndError { verb } => (
                format!("a `{verb}` step with both `value` and `error`"),
                None,
                Some("the work in the thread returns its `value` or raises its `error`, not both".into()),
            ),
            Problem::ExceptAndExceptStar => (
                "a `try` with both `except` and `except_star`".into(),
                None,
                Some("Python's `try` has `except` clauses or `except*` clauses, not both".into()),
            ),
            Problem::StarCatch { name } => (
                format!("`except_star` cannot catch `{name}`"),
                None,
                Some(match name.as_str() {
                    "ExceptionGroup" | "BaseExceptionGroup" => {
                        "`except*` takes exceptions out of a group: name the classes of its \
                         members, or catch the whole group with `except`"
                            .into()
                    }
                    _ => "name exception classes (`catch = [\"ValueError\"]`, \
                          `[\"Exception\"]`), or `timeout`"
                        .into(),
                }),
            ),
            Problem::TaskGroupNameTaken { name } => (
                format!("the task group `{name}` has the name of a handle, variable or future"),
                None,
                Some("give the task group a name of its own".into()),
            ),
            Problem::TaskGroupNested { name } => (
                format!("a task group `{name}` inside a task group of the same name"),
                None,
                Some("give the inner task group a name of its own".into()),
            ),
            Problem::IntoTaskGroupOutside { name } => (
                format!("`into = \"{name}\"` outside the task group `{name}`"),
                Some("not inside `{ task_group = ... }` of that name".into()),
                Some(format!(
                    "`{name}.create_task` is for the steps of its block; move the spawn \
                     inside it"
                )),
            ),
            Problem::GroupNotRaised { name, what } => (
                format!("`{name}` cannot be {what}"),
                None,
                Some("a task group raises it, with its children's errors; catch it with \
                      `catch`, or take its members with `except_star`"
                    .into()),
            ),
            Problem::UnknownCheckState { name, suggestion } => (
                format!("unknown state `{name}`"),
                None,
                Some(or(suggestion, || format!("one of {}", StateName::NAMES.join(", ")))),
            ),
            Problem::Template(error) => (error.to_string(), None, error.help()),
            Problem::OneDistribution { what } => (
                format!("{what} takes one distribution, such as {{ exponential = \"1s\" }}"),
                None,
                None,
            ),
            Problem::DistributionShape { kind, shape } => {
                (format!("`{kind}` takes {shape}"), None, None)
            }
            Problem::UniformBackwards => ("`uniform` needs low <= high".into(), None, None),
            Problem::LognormalShape { sigma } => (
                format!("the shape of `lognormal` must be between 0 and 10, not {sigma}"),
                None,
                None,
            ),
            Problem::ChoiceNotTable => (
                "`choice` takes durations with weights: { \"100ms\" = 9, \"2s\" = 1 }".into(),
                None,
                None,
            ),
            Problem::ChoiceDuration { invalid } => (format!("`choice`: {invalid}"), None, None),
            Problem::WeightNotPositive { weight } => (
                format!("a weight must be more than 0, not {weight}"),
                None,
                None,
            ),
            Problem::EmptyChoice => ("`choice` needs at least one duration".into(), None, None),
            Problem::NoArrivalProcess => (
                "`arrivals` needs a process".into(),
                None,
                Some("give `rate = \"50/s\"` (evenly spaced), `poisson = \"50/s\"` (exponential gaps) or `users = 20` (a closed loop)".into()),
            ),
            Problem::TwoArrivalProcesses { first, second } => (
                format!("`arrivals` takes one process: `{first}` or `{second}`, not both"),
                None,
                None,
            ),
            Problem::StagesWithUsers => (
                "`stages` ramp an open process's rate; virtual users have none".into(),
                None,
                None,
            ),
            Problem::ThinkWithoutUsers => (
                "`think` is the pause of a virtual user: it needs `users`".into(),
                None,
                None,
            ),
            Problem::StagesWithDuration => (
                "with `stages`, the process lasts as long as its stages: remove `duration`".into(),
                None,
                None,
            ),
            Problem::ZeroRate { kind } => (
                format!("`{kind}` is 0: no arrival would ever come"),
                None,
                None,
            ),
            Problem::ArrivalsNeverEnd => (
                "these arrivals never end".into(),
                None,
                Some("give `duration = \"1m\"`, `count = 1000`, or (for a rate) `stages`".into()),
            ),
            Problem::NotPositive { what } => (format!("{what} must be longer than 0s"), None, None),
            Problem::StagesNotArray => (
                "`stages` is an array: [{ target = \"100/s\", duration = \"30s\" }, ...]".into(),
                None,
                None,
            ),
            Problem::NoStages => ("`stages` needs at least one stage".into(), None, None),
            Problem::IncompleteStage => (
                "a stage needs `target` (the rate it ends at) and `duration`".into(),
                None,
                None,
            ),
            Problem::StagesTooLong { total } => (
                format!(
                    "the stages last {}, longer than a run can (at most {})",
                    duration::format(*total),
                    duration::format(MAX_DURATION)
                ),
                None,
                None,
            ),
            Problem::AllStagesZero => (
                "every stage's rate is 0: no arrival would come".into(),
                None,
                None,
            ),
            Problem::RateOutOfRange { what, rate } => (
                format!("{what} must be between 0 and 1e9 per second, not {rate}"),
                Some("out of range".into()),
                None,
            ),
            Problem::InvalidRate { error } => (
                error.to_string(),
                Some("not a rate".into()),
                Some(RATE_HELP.into()),
            ),
            Problem::NotARate { what } => (
                format!("{what} is a rate, such as \"50/s\""),
                Some("not a rate".into()),
                Some(RATE_HELP.into()),
            ),
            Problem::NotAPercentage { text } => (
                format!("the share of runs that must end well (`ok`) is a percentage like \"99%\", not \"{text}\""),
                None,
                Some("write ok = \"99%\" or ok = 0.99".into()),
            ),
            Problem::UnknownStatistic { name } => (
                format!("unknown statistic `{name}`"),
                None,
                Some("use a percentile `p1`..`p100` (`p99`), `max` or `mean`".into()),
            ),
            Problem::InstanceSyntax { label } => (
                format!("`{label}`: an instance is written `name[k]`"),
                None,
                None,
            ),
            Problem::NoSuchName {
                kind,
                name,
                suggestion,
            } => (format!("no {kind} named `{name}`"), None, shown(suggestion)),
            Problem::UnknownState { name, suggestion } => (
                format!("unknown state `{name}`"),
                None,
                Some(or(suggestion, || format!("states: {}", StateName::NAMES.join(", ")))),
            ),
            Problem::UnknownChoice {
                what,
                name,
                names,
                suggestion,
            } => (
                format!("unknown {what} `{name}`"),
                None,
                Some(or(suggestion, || format!("one of: {}", names.join(", ")))),
            ),
            Problem::BackwardsRange { what } => {
                (format!("{what}: the range is backwards"), None, None)
            }
            Problem::NotValueOrRange { what } => (
                format!("{what} is one value or a range [low, high]"),
                None,
                None,
            ),
        }
    }
}

impl From<TemplateError> for Problem {
    fn from(error: TemplateError) -> Problem {
        Problem::Template(error)
    }
}

impl From<RateError> for Problem {
    fn from(error: RateError) -> Problem {
        Problem::InvalidRate { error }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suggest::suggest;

    fn texts(p: Problem) -> (String, Option<String>, Option<String>) {
        p.texts()
    }

    #[test]
    fn unknown_keys_suggest_a_near_miss_or_list_the_keys() {
        const KNOWN: &[&str] = &["steps", "sleep", "retry"];
        let near = Problem::UnknownKey {
            key: "retyr".into(),
            what: "task `a`".into(),
            known: KNOWN,
            suggestion: suggest("retyr", KNOWN.iter().copied()),
        };
        assert_eq!(
            texts(near),
            (
                "unknown key `retyr` in task `a`".into(),
                None,
                Some("did you mean `retry`?".into())
            )
        );
        let far = Problem::UnknownTable {
            key: "zzz".into(),
            known: KNOWN,
            suggestion: suggest("zzz", KNOWN.iter().copied()),
        };
        assert_eq!(
            texts(far),
            (
                "unknown table `[zzz]`".into(),
                None,
                Some("the file takes: steps, sleep, retry".into())
            )
        );
    }

    #[test]
    fn each_kind_renders_its_text() {
        let cases: Vec<(Problem, &str, Option<&str>, Option<&str>)> = vec![
            (
                Problem::WrongType {
                    what: "`count`".into(),
                    expected: "an integer",
                    found: "a string",
                },
                "`count` must be an integer, not a string",
                Some("expected an integer"),
                None,
            ),
            (
                Problem::IntOutOfRange {
                    what: "`count`".into(),
                    lo: 1,
                    hi: 9,
                    written: "0".into(),
                },
                "`count` must be between 1 and 9, not 0",
                Some("out of range"),
                None,
            ),
            (
                Problem::InvalidDuration {
                    what: "`sleep`".into(),
                    invalid: Invalid::Empty,
                },
                "`sleep`: `` is not a duration: it is empty",
                Some("not a duration"),
                Some(
                    "durations look like \"250ms\", \"1.5s\", \"2m 30s\", \"1 day\", or an unquoted number of seconds",
                ),
            ),
            (
                Problem::InvalidDuration {
                    what: "`sleep`".into(),
                    invalid: Invalid::TooLong {
                        text: "300y".into(),
                    },
                },
                "`sleep`: `300y` is too long (at most about 292 years)",
                Some("too long"),
                Some(CLOCK_HELP),
            ),
            (
                Problem::StartCycle {
                    names: vec!["a".into(), "a".into()],
                },
                "task `a` starts itself, without end",
                Some("this starts it again"),
                Some(
                    "every run of `a` would start another; end the cycle (use `forever`/`repeat` inside one task to loop)",
                ),
            ),
            (
                Problem::AfterCycle {
                    names: vec!["a".into(), "b".into(), "a".into()],
                },
                "a dependency cycle: a -> b -> a",
                Some("this closes the cycle"),
                Some("`after` must form a graph without cycles: none of these could ever start"),
            ),
            (
                Problem::StepNeeds {
                    verb: "each".into(),
                    needs: "`do = [...]`",
                },
                "an `each` step needs `do = [...]`",
                None,
                None,
            ),
            (
                Problem::StepNeeds {
                    verb: "put".into(),
                    needs: "`item = ...`",
                },
                "a `put` step needs `item = ...`",
                None,
                None,
            ),
            (
                Problem::UnknownStepKey {
                    key: "x".into(),
                    verb: "log".into(),
                    allowed: &[],
                    suggestion: None,
                },
                "unknown key `x` in a `log` step",
                None,
                Some("`log` takes no other keys"),
            ),
            (
                Problem::Undeclared {
                    kind: "queue",
                    table: "[queues]",
                    name: "q".into(),
                    suggestion: None,
                },
                "no queue named `q`",
                Some("not declared under [queues]"),
                Some("declare it under [queues]"),
            ),
            (
                Problem::InvalidRate {
                    error: RateError::ZeroUnit {
                        text: "5/0s".into(),
                    },
                },
                "`5/0s`: the time unit cannot be 0",
                Some("not a rate"),
                Some(RATE_HELP),
            ),
            (
                Problem::Template(TemplateError::Unclosed),
                "unclosed `{` (write `{{` for a brace)",
                None,
                None,
            ),
            (
                Problem::TooDeep {
                    task: "a".into(),
                    depth: 101,
                    max: 100,
                    callee: Some("b".into()),
                },
                "task `a` would run 101 levels deep (nested blocks and `call`s); at most 100",
                Some("this `call` of `b` goes on"),
                Some(
                    "a `call` runs the called task inside its caller: `spawn` it and `await` the handle, or flatten the chain",
                ),
            ),
        ];
        for (problem, message, label, help) in cases {
            let (m, l, h) = problem.texts();
            assert_eq!(m, message);
            assert_eq!(l.as_deref(), label, "{message}");
            assert_eq!(h.as_deref(), help, "{message}");
        }
    }

    #[test]
    fn a_near_miss_is_suggested_in_place_of_the_list() {
        let with = Problem::UnknownTrigger {
            name: "all_sucess".into(),
            suggestion: suggest("all_sucess", Trigger::NAMES),
        };
        assert_eq!(
            with.texts().2.as_deref(),
            Some("did you mean `all_success`?")
        );
        let without = Problem::UnknownCheckState {
            name: "zzz".into(),
            suggestion: None,
        };
        assert_eq!(
            without.texts().2.as_deref(),
            Some("one of pending, done, failed, cancelled, finished, skipped")
        );
    }
}
