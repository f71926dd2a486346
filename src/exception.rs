//! Exception classes and exceptions: Python's builtin classes a scenario may
//! raise or catch, asyncio's, and the scenario's own (`[exceptions]`), each
//! with its base, so `catch` and `retry_on` match by class as `except` does.

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// An exception class: an index into [`Classes`] (the builtin ones first,
/// at fixed indices, then the scenario's own).
pub(crate) type ClassId = u32;

pub(crate) const BASE_EXCEPTION: ClassId = 0;
pub(crate) const EXCEPTION: ClassId = 1;
pub(crate) const CANCELLED_ERROR: ClassId = 2;
pub(crate) const KEY_ERROR: ClassId = 10;
pub(crate) const TIMEOUT_ERROR: ClassId = 21;
pub(crate) const RUNTIME_ERROR: ClassId = 23;
pub(crate) const VALUE_ERROR: ClassId = 27;
pub(crate) const INVALID_STATE_ERROR: ClassId = 30;
pub(crate) const QUEUE_FULL: ClassId = 31;
pub(crate) const QUEUE_EMPTY: ClassId = 32;
pub(crate) const BROKEN_BARRIER_ERROR: ClassId = 33;
/// scenario-run's own: a task whose `after` rule can no longer be met. A
/// scenario cannot name it.
pub(crate) const SKIPPED: ClassId = 34;
/// `ExceptionGroup`: an `Exception` and a `BaseExceptionGroup` too (its
/// one class with two bases, which [`Classes::is_a`] knows).
pub(crate) const EXCEPTION_GROUP: ClassId = 35;
pub(crate) const BASE_EXCEPTION_GROUP: ClassId = 36;
/// `asyncio.QueueShutDown` (3.13): a put to a queue shut down, or a get
/// from one shut down and empty.
pub(crate) const QUEUE_SHUT_DOWN: ClassId = 37;
/// scenario-run's own (SimPy's `Interrupt` with `Preempted`): what the
/// `with` of a preemptive semaphore raises in the holder it preempted.
pub(crate) const PREEMPTED: ClassId = 38;

/// A builtin class: its name, its base, and how Python names it.
struct Builtin {
    name: &'static str,
    base: ClassId,
    python: &'static str,
}

const fn builtin(name: &'static str, base: ClassId) -> Builtin {
    Builtin {
        name,
        base,
        python: name,
    }
}

const fn from_asyncio(name: &'static str, python: &'static str, base: ClassId) -> Builtin {
    Builtin { name, base, python }
}

/// Python's classes a scenario can name (those made from one message),
/// asyncio's, and scenario-run's `Skipped`, with their bases as CPython
/// 3.11 to 3.13 define them. `BaseException` is its own base.
/// `ExceptionGroup` derives from `Exception` here, and from
/// `BaseExceptionGroup` through [`Classes::is_a`].
const BUILTINS: [Builtin; 39] = [
    builtin("BaseException", 0),
    builtin("Exception", 0),
    from_asyncio("CancelledError", "asyncio.CancelledError", 0),
    builtin("ArithmeticError", 1),
    builtin("ZeroDivisionError", 3),
    builtin("OverflowError", 3),
    builtin("AssertionError", 1),
    builtin("AttributeError", 1),
    builtin("LookupError", 1),
    builtin("IndexError", 8),
    builtin("KeyError", 8),
    builtin("NameError", 1),
    builtin("OSError", 1),
    builtin("ConnectionError", 12),
    builtin("BrokenPipeError", 13),
    builtin("ConnectionAbortedError", 13),
    builtin("ConnectionRefusedError", 13),
    builtin("ConnectionResetError", 13),
    builtin("FileNotFoundError", 12),
    builtin("FileExistsError", 12),
    builtin("PermissionError", 12),
    builtin("TimeoutError", 12),
    builtin("InterruptedError", 12),
    builtin("RuntimeError", 1),
    builtin("NotImplementedError", 23),
    builtin("RecursionError", 23),
    builtin("TypeError", 1),
    builtin("ValueError", 1),
    builtin("EOFError", 1),
    builtin("BufferError", 1),
    from_asyncio("InvalidStateError", "asyncio.InvalidStateError", 1),
    from_asyncio("QueueFull", "asyncio.QueueFull", 1),
    from_asyncio("QueueEmpty", "asyncio.QueueEmpty", 1),
    from_asyncio("BrokenBarrierError", "asyncio.BrokenBarrierError", 23),
    builtin("Skipped", 1),
    builtin("ExceptionGroup", 1),
    builtin("BaseExceptionGroup", 0),
    from_asyncio("QueueShutDown", "asyncio.QueueShutDown", 1),
    builtin("Preempted", 1),
];

/// How many classes are builtin: the scenario's own come after.
pub(crate) const BUILTIN_COUNT: usize = BUILTINS.len();

/// The classes of one scenario: the builtin ones, then its own.
#[derive(Debug)]
pub(crate) struct Classes {
    /// The scenario's own: name and base, in the order declared.
    own: Vec<(Rc<str>, ClassId)>,
    /// The scenario's own by name.
    by_name: BTreeMap<Rc<str>, ClassId>,
    /// Every class's name, shared by the exceptions raised of it.
    names: Vec<Rc<str>>,
    /// Each class's place in a walk of the class tree, on entering it and
    /// on leaving it: a class derives from another when its span lies
    /// inside the other's (so `is_a` costs the same however deep).
    spans: Vec<(u32, u32)>,
}

impl Default for Classes {
    fn default() -> Classes {
        Classes::new(Vec::new())
    }
}

impl Classes {
    /// The builtin classes and the scenario's own, whose bases must be
    /// classes before them (validation orders them so).
    pub(crate) fn new(own: Vec<(Rc<str>, ClassId)>) -> Classes {
        let names: Vec<Rc<str>> = BUILTINS
            .iter()
            .map(|b| Rc::from(b.name))
            .chain(own.iter().map(|(name, _)| name.clone()))
            .collect();
        let by_name = own
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.clone(), (BUILTIN_COUNT + i) as ClassId))
            .collect();
        let mut classes = Classes {
            own,
            by_name,
            names,
            spans: Vec::new(),
        };
        let count = classes.names.len();
        let mut children = vec![Vec::new(); count];
        for class in 1..count as ClassId {
            children[classes.base(class) as usize].push(class);
        }
        let mut spans = vec![(0, 0); count];
        let mut clock = 0;
        // (class, whether its children were pushed)
        let mut stack = vec![(BASE_EXCEPTION, false)];
        while let Some((class, entered)) = stack.pop() {
            if entered {
                spans[class as usize].1 = clock;
            } else {
                spans[class as usize].0 = clock;
                stack.push((class, true));
                stack.extend(children[class as usize].iter().rev().map(|&c| (c, false)));
            }
            clock += 1;
        }
        classes.spans = spans;
        classes
    }

    /// A builtin class a scenario may name, by its name.
    pub(crate) fn builtin(name: &str) -> Option<ClassId> {
        let at = BUILTINS.iter().position(|b| b.name == name)?;
        (at as ClassId != SKIPPED).then_some(at as ClassId)
    }

    /// The builtin names a scenario may use (for "did you mean").
    pub(crate) fn builtin_names() -> impl Iterator<Item = &'static str> {
        BUILTINS
            .iter()
            .enumerate()
            .filter(|(i, _)| *i as ClassId != SKIPPED)
            .map(|(_, b)| b.name)
    }

    /// A class by its name: builtin or the scenario's own.
    pub(crate) fn find(&self, name: &str) -> Option<ClassId> {
        Classes::builtin(name).or_else(|| self.by_name.get(name).copied())
    }

    /// Every name a scenario may use, builtin then its own.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> + '_ {
        let skipped = SKIPPED as usize;
        let builtin = self.names[..skipped]
            .iter()
            .chain(&self.names[skipped + 1..]);
        builtin.map(|n| &**n)
    }

    pub(crate) fn name(&self, class: ClassId) -> &Rc<str> {
        &self.names[class as usize]
    }

    /// The scenario's own classes: name and base.
    pub(crate) fn own(&self) -> &[(Rc<str>, ClassId)] {
        &self.own
    }

    /// Whether a class is a group of exceptions (`ExceptionGroup`,
    /// `BaseExceptionGroup`): made from a message and a list, never from one
    /// message, so a scenario catches them but never raises them itself.
    pub(crate) fn is_group(class: ClassId) -> bool {
        matches!(class, EXCEPTION_GROUP | BASE_EXCEPTION_GROUP)
    }

    /// Whether a builtin class derives from `ancestor` (a builtin too).
    pub(crate) fn builtin_is_a(mut class: ClassId, ancestor: ClassId) -> bool {
        if class == EXCEPTION_GROUP && ancestor == BASE_EXCEPTION_GROUP {
            return true;
        }
        loop {
            if class == ancestor {
                return true;
            }
            match BUILTINS.get(class as usize) {
                Some(b) if class != BASE_EXCEPTION => class = b.base,
                _ => return false,
            }
        }
    }

    fn base(&self, class: ClassId) -> ClassId {
        match BUILTINS.get(class as usize) {
            Some(b) => b.base,
            None => self.own[class as usize - BUILTIN_COUNT].1,
        }
    }

    /// Whether `class` is `ancestor` or derives from it (`issubclass`).
    pub(crate) fn is_a(&self, class: ClassId, ancestor: ClassId) -> bool {
        if class == EXCEPTION_GROUP && ancestor == BASE_EXCEPTION_GROUP {
            return true;
        }
        let (c, a) = (self.spans[class as usize], self.spans[ancestor as usize]);
        a.0 <= c.0 && c.1 <= a.1
    }

    /// Whether `catch` (an `except`'s classes, or a `retry_on`) takes an
    /// exception of `class`.
    pub(crate) fn catches(&self, catch: &Catch, class: ClassId) -> bool {
        let timeout = self.is_a(class, TIMEOUT_ERROR);
        (catch.error && !timeout && self.is_a(class, EXCEPTION))
            || (catch.timeout && timeout)
            || (catch.cancelled && class == CANCELLED_ERROR)
            || catch.classes.iter().any(|&c| self.is_a(class, c))
    }

    /// An exception of `class` made with no argument (`raise QueueFull`).
    pub(crate) fn raise_bare(&self, class: ClassId) -> Exception {
        Exception {
            class,
            name: self.name(class).clone(),
            arg: None,
            group: None,
            cause: None,
        }
    }

    /// An exception of `class` with one argument.
    pub(crate) fn raise(&self, class: ClassId, message: &str) -> Exception {
        Exception {
            class,
            name: self.name(class).clone(),
            arg: Some(Rc::from(message)),
            group: None,
            cause: None,
        }
    }

    /// A group of exceptions with its message, as `BaseExceptionGroup(message,
    /// members)` makes it: an `ExceptionGroup` when every member is an
    /// `Exception`, else a `BaseExceptionGroup`. `wrapped`: made by `except*`
    /// around one exception that was not a group (Python shows its members
    /// as a tuple then).
    pub(crate) fn group(
        &self,
        message: &str,
        members: Vec<Rc<Exception>>,
        wrapped: bool,
    ) -> Exception {
        let all_exceptions = members.iter().all(|m| self.is_a(m.class, EXCEPTION));
        let class = match all_exceptions {
            true => EXCEPTION_GROUP,
            false => BASE_EXCEPTION_GROUP,
        };
        Exception {
            class,
            name: self.name(class).clone(),
            arg: Some(Rc::from(message)),
            group: Some(Rc::new(Group { members, wrapped })),
            cause: None,
        }
    }

    /// `except*`'s split of `e` by `catch`: the part it matches and the
    /// rest, each `None` when empty. A group that matches as a whole is
    /// matched whole, as `BaseExceptionGroup.split` does; otherwise its
    /// members are split, nested groups keeping their shape. An exception
    /// that is not a group is matched whole or not at all.
    pub(crate) fn split(&self, catch: &Catch, e: &Rc<Exception>) -> Split {
        if self.catches(catch, e.class) {
            return (Some(e.clone()), None);
        }
        let Some(group) = &e.group else {
            return (None, Some(e.clone()));
        };
        let (mut matched, mut rest) = (Vec::new(), Vec::new());
        for member in &group.members {
            let (m, r) = self.split(catch, member);
            matched.extend(m);
            rest.extend(r);
        }
        if matched.is_empty() {
            return (None, Some(e.clone()));
        }
        let part =
            |members: Vec<Rc<Exception>>| (!members.is_empty()).then(|| self.regroup(e, members));
        (part(matched), part(rest))
    }

    /// A group like `e` (its message) of `members`, as `derive` makes the
    /// parts of a split (with a list, whatever `e` was made with).
    fn regroup(&self, e: &Exception, members: Vec<Rc<Exception>>) -> Rc<Exception> {
        let message = e.arg.as_deref().unwrap_or_default();
        Rc::new(self.group(message, members, false))
    }
}

/// What `except*` takes from an exception, and what it leaves.
pub(crate) type Split = (Option<Rc<Exception>>, Option<Rc<Exception>>);

/// The members of a group of exceptions.
#[derive(Debug, PartialEq)]
pub(crate) struct Group {
    pub(crate) members: Vec<Rc<Exception>>,
    /// Made by `except*` around a lone exception: its members print as a
    /// tuple.
    pub(crate) wrapped: bool,
}

/// How Python's code names a class: builtin, from asyncio, or the class
/// an exported program defines for the scenario's own.
pub(crate) fn python_name(class: ClassId, name: &str) -> String {
    match BUILTINS.get(class as usize) {
        Some(b) => b.python.to_owned(),
        None => format!("Error_{name}"),
    }
}

/// Which exceptions a `try` catches, or a task's `retry_on` retries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Catch {
    /// `error`: any `Exception` but a `TimeoutError`.
    pub(crate) error: bool,
    /// `timeout`: a `TimeoutError` (asyncio's timeouts and any raised).
    pub(crate) timeout: bool,
    /// `cancelled`: `CancelledError`.
    pub(crate) cancelled: bool,
    /// Classes named, each with every class derived from it.
    pub(crate) classes: Vec<ClassId>,
}

/// An exception as a value: its class, its class's name, and its one
/// argument (`None` when raised with none, as asyncio's `TimeoutError()`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Exception {
    pub(crate) class: ClassId,
    pub(crate) name: Rc<str>,
    pub(crate) arg: Option<Rc<str>>,
    /// A group's members (`ExceptionGroup`), in order.
    pub(crate) group: Option<Rc<Group>>,
    /// Its `__cause__`: what `raise ... from` named, or the
    /// `CancelledError` an asyncio timeout turned into `TimeoutError`.
    pub(crate) cause: Option<Rc<Exception>>,
}

impl Exception {
    /// A bare `TimeoutError()`, as `asyncio.as_completed` raises it.
    pub(crate) fn timeout() -> Exception {
        Exception {
            class: TIMEOUT_ERROR,
            name: Rc::from("TimeoutError"),
            arg: None,
            group: None,
            cause: None,
        }
    }

    /// The `TimeoutError()` an expired `asyncio.timeout` or `wait_for`
    /// raises: `from` the `CancelledError()` it sent (3.11 to 3.13 alike).
    pub(crate) fn timed_out() -> Exception {
        let cancelled = Exception {
            arg: None,
            ..Exception::cancelled(None)
        };
        Exception {
            cause: Some(Rc::new(cancelled)),
            ..Exception::timeout()
        }
    }

    /// A `CancelledError`: `CancelledError('')` as 3.11 to 3.13 print a
    /// cancelled task's, or with the message `cancel(msg)` gave it.
    pub(crate) fn cancelled(msg: Option<Rc<str>>) -> Exception {
        Exception {
            class: CANCELLED_ERROR,
            name: Rc::from("CancelledError"),
            arg: Some(msg.unwrap_or_else(|| Rc::from(""))),
            group: None,
            cause: None,
        }
    }

    /// Python's `str()`: its argument; a `KeyError`'s quoted, as Python
    /// prints a missing key; a group's message and how many it holds
    /// (`unhandled errors in a TaskGroup (2 sub-exceptions)`).
    pub(crate) fn write_str(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(group) = &self.group {
            let n = group.members.len();
            let s = if n == 1 { "" } else { "s" };
            let message = self.arg.as_deref().unwrap_or_default();
            return write!(f, "{message} ({n} sub-exception{s})");
        }
        match &self.arg {
            None => Ok(()),
            Some(arg) if self.class == KEY_ERROR => crate::quote::write_quoted(f, arg),
            Some(arg) => f.write_str(arg),
        }
    }

    /// What the trace and `{error}` call it: its message alone for a plain
    /// `Exception`, else `Class: message`, or the class alone when the
    /// message is empty (as the last line of a traceback reads).
    pub(crate) fn text(&self) -> String {
        let s = Str(self).to_string();
        if s.is_empty() {
            self.name.to_string()
        } else if matches!(self.class, EXCEPTION | SKIPPED) {
            s
        } else {
            format!("{}: {s}", self.name)
        }
    }

    /// Python's `repr()`: `ValueError('bad')`, `TimeoutError()`.
    pub(crate) fn repr(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        f.write_str("(")?;
        if let Some(group) = &self.group {
            crate::quote::write_quoted(f, self.arg.as_deref().unwrap_or_default())?;
            let (open, close) = match group.wrapped {
                true => ("(", ",))"),
                false => ("[", "])"),
            };
            f.write_str(", ")?;
            f.write_str(open)?;
            for (i, member) in group.members.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                member.repr(f)?;
            }
            return f.write_str(close);
        }
        if let Some(arg) = &self.arg {
            crate::quote::write_quoted(f, arg)?;
        }
        f.write_str(")")
    }
}

/// `str()` of an exception, as a `Display`.
struct Str<'a>(&'a Exception);

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_str(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_indices_name_their_classes() {
        let classes = Classes::default();
        for (id, name) in [
            (BASE_EXCEPTION, "BaseException"),
            (EXCEPTION, "Exception"),
            (CANCELLED_ERROR, "CancelledError"),
            (KEY_ERROR, "KeyError"),
            (TIMEOUT_ERROR, "TimeoutError"),
            (RUNTIME_ERROR, "RuntimeError"),
            (EXCEPTION_GROUP, "ExceptionGroup"),
            (BASE_EXCEPTION_GROUP, "BaseExceptionGroup"),
            (VALUE_ERROR, "ValueError"),
            (RUNTIME_ERROR, "RuntimeError"),
            (INVALID_STATE_ERROR, "InvalidStateError"),
            (QUEUE_FULL, "QueueFull"),
            (QUEUE_EMPTY, "QueueEmpty"),
            (QUEUE_SHUT_DOWN, "QueueShutDown"),
            (SKIPPED, "Skipped"),
            (PREEMPTED, "Preempted"),
        ] {
            assert_eq!(&**classes.name(id), name);
        }
        // Every base comes before the class, so a walk up always ends.
        for (i, b) in BUILTINS.iter().enumerate().skip(1) {
            assert!((b.base as usize) < i, "{}", b.name);
        }
        assert_eq!(Classes::builtin("Skipped"), None);
    }

    #[test]
    fn classes_match_as_except_does() {
        let own = vec![(Rc::from("RateLimited"), 13)];
        let classes = Classes::new(own);
        let limited = classes.find("RateLimited").unwrap();
        assert!(classes.is_a(limited, classes.find("OSError").unwrap()));
        assert!(!classes.is_a(limited, TIMEOUT_ERROR));
        let errors = Catch {
            error: true,
            ..Catch::default()
        };
        assert!(classes.catches(&errors, limited));
        assert!(!classes.catches(&errors, TIMEOUT_ERROR));
        assert!(!classes.catches(&errors, CANCELLED_ERROR));
        let os = Catch {
            classes: vec![classes.find("OSError").unwrap()],
            ..Catch::default()
        };
        assert!(classes.catches(&os, TIMEOUT_ERROR));
        assert!(!classes.catches(&os, VALUE_ERROR));
        let base = Catch {
            classes: vec![BASE_EXCEPTION],
            ..Catch::default()
        };
        assert!(classes.catches(&base, CANCELLED_ERROR));
    }

    #[test]
    fn exceptions_print_as_python_does() {
        let classes = Classes::default();
        let key = classes.raise(KEY_ERROR, "id");
        assert_eq!(key.text(), "KeyError: 'id'");
        let plain = classes.raise(EXCEPTION, "disk full");
        assert_eq!(plain.text(), "disk full");
        assert_eq!(classes.raise(EXCEPTION, "").text(), "Exception");
        assert_eq!(classes.raise(VALUE_ERROR, "").text(), "ValueError");
        assert_eq!(Exception::timeout().text(), "TimeoutError");
        assert_eq!(Exception::cancelled(None).text(), "CancelledError");
        assert_eq!(
            classes.raise(TIMEOUT_ERROR, "slow").text(),
            "TimeoutError: slow"
        );
        struct Repr(Exception);
        impl fmt::Display for Repr {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.repr(f)
            }
        }
        assert_eq!(Repr(key).to_string(), "KeyError('id')");
        assert_eq!(Repr(Exception::timeout()).to_string(), "TimeoutError()");
        assert_eq!(
            Repr(Exception::cancelled(None)).to_string(),
            "CancelledError('')"
        );
    }

    /// A group prints as CPython prints `ExceptionGroup`: its message and
    /// count, and a repr of its members (a tuple when `except*` wrapped a
    /// lone exception); `ExceptionGroup` is an `Exception` and a
    /// `BaseExceptionGroup`; a group of a `CancelledError` is a
    /// `BaseExceptionGroup`.
    #[test]
    fn groups_print_and_derive_as_python_has_them() {
        let classes = Classes::default();
        let members = vec![
            Rc::new(classes.raise(VALUE_ERROR, "x")),
            Rc::new(classes.raise(KEY_ERROR, "k")),
        ];
        let g = classes.group("unhandled errors in a TaskGroup", members, false);
        assert_eq!(
            g.text(),
            "ExceptionGroup: unhandled errors in a TaskGroup (2 sub-exceptions)"
        );
        struct Repr(Exception);
        impl fmt::Display for Repr {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.repr(f)
            }
        }
        assert_eq!(
            Repr(g).to_string(),
            "ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('x'), KeyError('k')])"
        );
        let wrapped = classes.group("", vec![Rc::new(Exception::timeout())], true);
        assert_eq!(wrapped.text(), "ExceptionGroup:  (1 sub-exception)");
        assert_eq!(
            Repr(wrapped).to_string(),
            "ExceptionGroup('', (TimeoutError(),))"
        );
        assert!(classes.is_a(EXCEPTION_GROUP, EXCEPTION));
        assert!(classes.is_a(EXCEPTION_GROUP, BASE_EXCEPTION_GROUP));
        assert!(!classes.is_a(BASE_EXCEPTION_GROUP, EXCEPTION));
        assert!(Classes::builtin_is_a(EXCEPTION_GROUP, BASE_EXCEPTION_GROUP));
        let base = classes.group("", vec![Rc::new(Exception::cancelled(None))], false);
        assert_eq!(base.class, BASE_EXCEPTION_GROUP);
    }

    /// `except*`'s split, against what CPython printed for the same groups:
    /// `ExceptionGroup('g', [TypeError('b'), ExceptionGroup('h',
    /// [ValueError('c'), TypeError('d')])])` split by `ValueError` gives
    /// `ExceptionGroup('g', [ExceptionGroup('h', [ValueError('c')])])` and
    /// the rest `ExceptionGroup('g', [TypeError('b'), ExceptionGroup('h',
    /// [TypeError('d')])])`; a group that matches whole is taken whole.
    #[test]
    fn split_keeps_the_shape_of_nested_groups() {
        let classes = Classes::default();
        let type_error = classes.find("TypeError").unwrap();
        let e = |class, m: &str| Rc::new(classes.raise(class, m));
        let inner = classes.group("h", vec![e(VALUE_ERROR, "c"), e(type_error, "d")], false);
        let outer = Rc::new(classes.group("g", vec![e(type_error, "b"), Rc::new(inner)], false));
        let values = Catch {
            classes: vec![VALUE_ERROR],
            ..Catch::default()
        };
        struct Repr(Rc<Exception>);
        impl fmt::Display for Repr {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.repr(f)
            }
        }
        let (taken, rest) = classes.split(&values, &outer);
        assert_eq!(
            Repr(taken.unwrap()).to_string(),
            "ExceptionGroup('g', [ExceptionGroup('h', [ValueError('c')])])"
        );
        assert_eq!(
            Repr(rest.unwrap()).to_string(),
            "ExceptionGroup('g', [TypeError('b'), ExceptionGroup('h', [TypeError('d')])])"
        );
        let everything = Catch {
            classes: vec![EXCEPTION],
            ..Catch::default()
        };
        let (taken, rest) = classes.split(&everything, &outer);
        assert!(Rc::ptr_eq(&taken.unwrap(), &outer));
        assert!(rest.is_none());
        let keys = Catch {
            classes: vec![KEY_ERROR],
            ..Catch::default()
        };
        let (taken, rest) = classes.split(&keys, &outer);
        assert!(taken.is_none());
        assert!(Rc::ptr_eq(&rest.unwrap(), &outer));
    }
}
