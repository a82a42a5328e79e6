//! Ctrl-C and SIGTERM end a receiver cleanly: the main thread notices the
//! request, prints the summary line and exits 0. (Frames already written
//! are complete either way: files are renamed into place and each JSON line
//! is one write.)

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Routes SIGINT and SIGTERM to [`requested`].
pub fn install() {
    #[cfg(unix)]
    {
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe; `signal` has no other preconditions.
        unsafe {
            libc::signal(libc::SIGINT, handler);
            libc::signal(libc::SIGTERM, handler);
        }
    }
}

/// Whether a stop was requested by a signal.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
