//! A hint to the processor to start loading memory that will be read soon.

/// Asks for the cache lines holding `value` to be loaded; does nothing where
/// the target has no such instruction. Never changes what the program does.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let start = (value as *const T).cast::<i8>();
        let size = std::mem::size_of::<T>();
        let last = size.saturating_sub(1);
        for offset in (0..size).step_by(64).chain(std::iter::once(last)) {
            // SAFETY: a prefetch only hints the cache and never faults; the
            // address stays inside the referenced value.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
