//! SIGINT, SIGTERM and SIGHUP while `-o` is being written: the hidden
//! temporary file is removed, then the signal ends the process as it would
//! have (its default action, so the shell sees the signal).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The temporary file to remove, as a C string leaked for the handler.
static PENDING: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());

const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Removes `path` if one of [`SIGNALS`] arrives before [`forget`].
pub(crate) fn remove_on_signal(path: &Path) {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return;
    };
    let old = PENDING.swap(c.into_raw(), Ordering::SeqCst);
    if !old.is_null() {
        // SAFETY: `old` came from `CString::into_raw` above and is no longer shared.
        drop(unsafe { CString::from_raw(old) });
    }
    for signal in SIGNALS {
        // SAFETY: `on_signal` only calls async-signal-safe functions
        // (unlink, signal, raise) and reads an atomic.
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// The file was renamed into place or removed: nothing left to clean.
pub(crate) fn forget() {
    let old = PENDING.swap(std::ptr::null_mut(), Ordering::SeqCst);
    if !old.is_null() {
        // SAFETY: `old` came from `CString::into_raw` and is no longer shared.
        drop(unsafe { CString::from_raw(old) });
    }
}

extern "C" fn on_signal(signal: libc::c_int) {
    let path = PENDING.swap(std::ptr::null_mut(), Ordering::SeqCst);
    // SAFETY: unlink, signal and raise are async-signal-safe; `path` is a
    // valid C string leaked by `remove_on_signal`, or null.
    unsafe {
        if !path.is_null() {
            libc::unlink(path);
        }
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}
