//! The stack a command runs on: the main thread's own, grown to
//! [`STACK_BYTES`] when the process's stack limit allows it, else a
//! thread's of that size.
//!
//! Staying on the main thread keeps the process single-threaded for a
//! single run, and glibc's allocator takes its lock-free path in a
//! single-threaded process: the W2 benchmark (100,000 tasks on a
//! semaphore) runs about 8% faster than on a second thread.

use crate::limits::STACK_BYTES;

/// Runs `command` with at least [`STACK_BYTES`] of stack: on this thread
/// (it must be the main thread) when its limit can be raised that far,
/// else on a new thread. An error when no thread can be started.
pub(crate) fn run_with_room(command: fn() -> i32) -> std::io::Result<i32> {
    if main_stack_can_grow() {
        return Ok(command());
    }
    let thread = std::thread::Builder::new()
        .name("scenario-run".into())
        .stack_size(STACK_BYTES)
        .spawn(command)?;
    match thread.join() {
        Ok(code) => Ok(code),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Whether the main thread's stack may grow to [`STACK_BYTES`]: Linux
/// grows it on demand up to the soft `RLIMIT_STACK` of the moment, which
/// is raised here (never past the hard limit) when it is lower. The
/// address space below the main stack is kept free for at least 128 MiB.
#[cfg(target_os = "linux")]
fn main_stack_can_grow() -> bool {
    let want = STACK_BYTES as libc::rlim_t;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_STACK, &mut limit) != 0 {
            return false;
        }
        if limit.rlim_cur == libc::RLIM_INFINITY || limit.rlim_cur >= want {
            return true;
        }
        if limit.rlim_max != libc::RLIM_INFINITY && limit.rlim_max < want {
            return false;
        }
        limit.rlim_cur = want;
        libc::setrlimit(libc::RLIMIT_STACK, &limit) == 0
    }
}

/// Elsewhere the main thread's stack is fixed when the process starts.
#[cfg(not(target_os = "linux"))]
fn main_stack_can_grow() -> bool {
    false
}
