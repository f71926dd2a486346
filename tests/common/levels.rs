//! Permits in use and queue depths, counted from a JSON Lines trace's own
//! events, without reading the semaphore's or the queue's counters: an
//! `acquired` takes a permit (unless it was handed over), a `released` gives
//! it back (unless it is `handed to` the next waiter), a `put` adds an item
//! and a `get` takes one. The gauges the trace carries must agree with this
//! count, stay within their bounds and, when every task ended, be back at 0.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

#[derive(Default)]
pub struct Levels {
    /// Permits in use, per semaphore, as counted.
    permits: BTreeMap<String, i64>,
    /// (semaphore, task): a permit handed to a waiter that has not run yet.
    handed: BTreeSet<(String, String)>,
    /// Items in each queue, as counted.
    depth: BTreeMap<String, i64>,
}

/// `pool` out of `pool (1/2 in use)` or `pool: handed to x (2/2 in use)`.
fn semaphore_of(detail: &str) -> &str {
    detail.split([' ', ':']).next().unwrap_or("")
}

/// `q` out of `'x' -> q (depth 1/3)` or `'x' <- q (depth 0)`.
fn queue_of(detail: &str) -> &str {
    let after = detail
        .rsplit_once(" -> ")
        .or_else(|| detail.rsplit_once(" <- "))
        .map_or("", |(_, rest)| rest);
    after.split(' ').next().unwrap_or("")
}

impl Levels {
    /// Counts one event; an error says which rule it broke.
    pub fn feed(&mut self, e: &Value) -> Result<(), String> {
        let kind = e["kind"].as_str().unwrap_or("");
        let task = e["task"].as_str().unwrap_or("").to_owned();
        let detail = e["detail"].as_str().unwrap_or("");
        let (count, gauge) = match kind {
            "acquired" | "released" => {
                let sem = semaphore_of(detail).to_owned();
                let n = self.permits.entry(sem.clone()).or_default();
                let handed_to = detail
                    .split_once("handed to ")
                    .map(|(_, rest)| rest.split(' ').next().unwrap_or("").to_owned());
                if kind == "acquired" {
                    if !self.handed.remove(&(sem.clone(), task.clone())) {
                        *n += 1;
                    }
                    // A permit still free, granted at once to the next waiter.
                    if let Some(to) = handed_to {
                        self.handed.insert((sem.clone(), to));
                        *n += 1;
                    }
                } else {
                    if detail.contains("granted but cancelled before it ran")
                        && !self.handed.remove(&(sem.clone(), task.clone()))
                    {
                        return Err(format!("{task} gave back a permit never handed to it"));
                    }
                    // A release while no permit is out (asyncio lets any
                    // task release) adds a permit: the count stays at 0, and
                    // the trace must say so, and say so only then.
                    let none_out = detail.contains("none was out");
                    match handed_to {
                        Some(to) => {
                            self.handed.insert((sem.clone(), to));
                        }
                        None if *n == 0 && self.handed.iter().all(|(s, _)| *s != sem) => {
                            if !none_out {
                                return Err(format!("a release with no permit out: {detail}"));
                            }
                        }
                        None if none_out => {
                            return Err(format!("says none was out, {n} counted: {detail}"));
                        }
                        None => *n -= 1,
                    }
                }
                (*n, &e["permits"])
            }
            "put" | "get" => {
                let n = self.depth.entry(queue_of(detail).to_owned()).or_default();
                *n += if kind == "put" { 1 } else { -1 };
                (*n, &e["depth"])
            }
            _ => {
                if !e["permits"].is_null() || !e["depth"].is_null() {
                    return Err(format!("a level changed on a `{kind}` event"));
                }
                return Ok(());
            }
        };
        let at = format!("{task} {kind} {detail}");
        if count < 0 {
            return Err(format!("below zero at: {at}"));
        }
        if gauge.is_null() {
            return Err(format!("no gauge on: {at}"));
        }
        if gauge["value"].as_i64() != Some(count) {
            return Err(format!(
                "the gauge says {}, the events {count}: {at}",
                gauge["value"]
            ));
        }
        if let Some(bound) = gauge["bound"].as_i64()
            && count > bound
        {
            return Err(format!("over its bound {bound}: {at}"));
        }
        Ok(())
    }

    /// With every task ended, nothing is held and no permit is in flight.
    pub fn all_back(&self) -> Result<(), String> {
        if let Some((sem, n)) = self.permits.iter().find(|(_, n)| **n != 0) {
            return Err(format!(
                "{n} permits of {sem} still in use after every task ended"
            ));
        }
        if let Some((sem, task)) = self.handed.first() {
            return Err(format!("a permit of {sem} handed to {task}, never taken"));
        }
        Ok(())
    }
}

/// Checks a whole JSON Lines trace; `Ok` with the number of level events.
pub fn check_trace(trace: &str) -> Result<usize, String> {
    let events: Vec<Value> = trace
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let mut levels = Levels::default();
    let mut counted = 0;
    for e in events.iter().filter(|e| e["time_ns"].is_u64()) {
        levels.feed(e)?;
        counted += usize::from(!e["permits"].is_null() || !e["depth"].is_null());
    }
    let summary = events.last().ok_or("an empty trace")?;
    let pending = summary["tasks"]["pending"].as_u64();
    // (A bare `acquire` whose `release` is skipped keeps its permit, as in
    // asyncio; no scenario in this repository does that.)
    if pending == Some(0) && summary["stopped"].is_null() {
        levels.all_back()?;
    }
    Ok(counted)
}
