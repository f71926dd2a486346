//! A priority queue's priority: an integer or a float, ordered as Python
//! orders them (`2 == 2.0`, `1 < 1.5`, an integer against a float compared
//! exactly, never through a rounded float), so that a heap of them hands
//! items out in the order `asyncio.PriorityQueue` does.

use std::cmp::Ordering;

use crate::value::Value;

/// A number a priority queue sorts by; never NaN.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Priority {
    Int(i64),
    Float(f64),
}

impl Priority {
    /// The priority a value stands for: an integer or a float other than
    /// NaN (a bool is refused, though Python would take it as 0 or 1).
    pub(crate) fn of(value: &Value) -> Option<Priority> {
        match value {
            Value::Int(i) => Some(Priority::Int(*i)),
            Value::Float(f) if !f.is_nan() => Some(Priority::Float(*f)),
            _ => None,
        }
    }

    /// The priority as a value (`{priority}`).
    pub(crate) fn to_value(self) -> Value {
        match self {
            Priority::Int(i) => Value::Int(i),
            Priority::Float(f) => Value::Float(f),
        }
    }
}

/// An integer against a float, exactly (the float is not NaN).
fn int_against_float(i: i64, f: f64) -> Ordering {
    // 2^63: every float at or past it is above every i64, every float
    // below -2^63 below every i64; between, the float's whole part fits.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO_63 {
        return Ordering::Less;
    }
    if f < -TWO_63 {
        return Ordering::Greater;
    }
    let whole = f.trunc();
    match i.cmp(&(whole as i64)) {
        Ordering::Equal => 0.0f64.partial_cmp(&(f - whole)).unwrap_or(Ordering::Equal),
        other => other,
    }
}

impl Ord for Priority {
    fn cmp(&self, other: &Priority) -> Ordering {
        match (*self, *other) {
            (Priority::Int(a), Priority::Int(b)) => a.cmp(&b),
            (Priority::Float(a), Priority::Float(b)) => {
                a.partial_cmp(&b).unwrap_or(Ordering::Equal)
            }
            (Priority::Int(a), Priority::Float(b)) => int_against_float(a, b),
            (Priority::Float(a), Priority::Int(b)) => int_against_float(b, a).reverse(),
        }
    }
}

impl PartialOrd for Priority {
    fn partial_cmp(&self, other: &Priority) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Priority {
    fn eq(&self, other: &Priority) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Priority {}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: Value) -> Priority {
        Priority::of(&v).unwrap()
    }

    #[test]
    fn numbers_compare_as_in_python() {
        use Ordering::*;
        let cases = [
            (Value::Int(2), Value::Float(2.0), Equal),
            (Value::Int(1), Value::Float(1.5), Less),
            (Value::Int(-1), Value::Float(-1.5), Greater),
            (Value::Int(-2), Value::Float(-1.5), Less),
            (Value::Float(0.5), Value::Int(0), Greater),
            (Value::Float(-0.0), Value::Int(0), Equal),
            (
                Value::Int(i64::MAX),
                Value::Float(9_223_372_036_854_775_808.0),
                Less,
            ),
            (
                Value::Int(i64::MIN),
                Value::Float(-9_223_372_036_854_775_808.0),
                Equal,
            ),
            (
                Value::Int(i64::MIN),
                Value::Float(f64::NEG_INFINITY),
                Greater,
            ),
            (Value::Int(i64::MAX), Value::Float(f64::INFINITY), Less),
            // 2^53 + 1 is no float: a rounded comparison would say equal.
            (
                Value::Int(9_007_199_254_740_993),
                Value::Float(9_007_199_254_740_992.0),
                Greater,
            ),
            (Value::Int(3), Value::Int(4), Less),
            (Value::Float(1.25), Value::Float(1.0), Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(p(a.clone()).cmp(&p(b.clone())), want, "{a:?} against {b:?}");
            assert_eq!(
                p(b.clone()).cmp(&p(a.clone())),
                want.reverse(),
                "{b:?} against {a:?}"
            );
        }
    }

    #[test]
    fn only_numbers_are_priorities() {
        assert!(Priority::of(&Value::Float(f64::NAN)).is_none());
        assert!(Priority::of(&Value::Bool(true)).is_none());
        assert!(Priority::of(&Value::str("1")).is_none());
        assert!(Priority::of(&Value::None).is_none());
        assert_eq!(p(Value::Int(7)).to_value(), Value::Int(7));
    }
}
