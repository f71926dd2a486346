//! How much a value weighs: its logical size in bytes (strings by their
//! length, containers by their items, shared parts counted each time they
//! appear, as printing the value would write them) and how deep it nests.
//! Measured with a budget, so weighing a huge value costs no more than the
//! limit it is checked against.

use crate::value::Value;

/// The deepest a value may nest (a list in a list ... in a list).
pub(crate) const MAX_DEPTH: u32 = 64;

/// Why a value is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TooBig {
    /// More than the byte budget.
    Bytes,
    /// Nested more than [`MAX_DEPTH`] levels.
    Deep,
}

/// The logical size of `v` in bytes, or why it passes `max_bytes` or
/// [`MAX_DEPTH`]; the walk stops as soon as it knows.
pub(crate) fn weigh(v: &Value, max_bytes: u64) -> Result<u64, TooBig> {
    let mut total = 0u64;
    add(v, 0, max_bytes, &mut total)?;
    Ok(total)
}

/// Whether `v` nests more than [`MAX_DEPTH`] levels: for a value the run
/// put together without building it (a `gather`'s list of results), whose
/// parts may be shared many times over. Each shared part is visited once
/// per depth it is seen at, so the walk is linear in the distinct parts.
pub(crate) fn too_deep(v: &Value) -> bool {
    // Part (by address) to the most levels left it was checked with;
    // only looked up, never iterated.
    let mut seen: std::collections::HashMap<usize, u32> = std::collections::HashMap::new();
    deeper(v, MAX_DEPTH, &mut seen)
}

fn deeper(v: &Value, left: u32, seen: &mut std::collections::HashMap<usize, u32>) -> bool {
    let (address, items): (usize, Box<dyn Iterator<Item = &Value>>) = match v {
        Value::List(items) => (items.as_ptr() as usize, Box::new(items.iter())),
        Value::Map(entries) => (
            entries.as_ptr() as usize,
            Box::new(entries.iter().map(|(_, v)| v)),
        ),
        _ => return false,
    };
    if left == 0 {
        return true;
    }
    if seen.get(&address).is_some_and(|checked| *checked >= left) {
        return false;
    }
    seen.insert(address, left);
    for item in items {
        if deeper(item, left - 1, seen) {
            return true;
        }
    }
    false
}

fn add(v: &Value, depth: u32, max: u64, total: &mut u64) -> Result<(), TooBig> {
    if depth > MAX_DEPTH {
        return Err(TooBig::Deep);
    }
    let own = match v {
        Value::Str(s) => 8 + s.len() as u64,
        Value::Error(e) => 8 + e.name.len() as u64 + e.arg.as_ref().map_or(0, |a| a.len() as u64),
        Value::List(items) => {
            for item in items.iter() {
                add(item, depth + 1, max, total)?;
            }
            16
        }
        Value::Map(entries) => {
            for (k, item) in entries.iter() {
                *total += 8 + k.len() as u64;
                add(item, depth + 1, max, total)?;
            }
            16
        }
        _ => 8,
    };
    *total += own;
    if *total > max {
        Err(TooBig::Bytes)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn shared_parts_count_each_time_and_the_walk_stops_at_the_budget() {
        let big = Value::str(&"x".repeat(1000));
        let list = Value::List(Rc::from(vec![big.clone(); 1000]));
        assert_eq!(weigh(&big, 2000), Ok(1008));
        assert_eq!(weigh(&list, 10_000), Err(TooBig::Bytes));
        assert!(weigh(&list, 2_000_000).is_ok());
    }

    #[test]
    fn deep_values_are_refused() {
        let mut v = Value::Int(1);
        for _ in 0..MAX_DEPTH {
            v = Value::List(Rc::from(vec![v]));
        }
        assert!(weigh(&v, u64::MAX).is_ok());
        assert!(!too_deep(&v));
        let v = Value::List(Rc::from(vec![v]));
        assert_eq!(weigh(&v, u64::MAX), Err(TooBig::Deep));
        assert!(too_deep(&v));
    }

    #[test]
    fn a_shared_part_is_walked_once() {
        // 2^60 paths through 60 levels of pairs of the same list.
        let mut v = Value::Int(1);
        for _ in 0..60 {
            v = Value::List(Rc::from(vec![v.clone(), v]));
        }
        assert!(!too_deep(&v));
    }
}
