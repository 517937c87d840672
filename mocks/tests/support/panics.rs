//! Counts every panic in a test process, where the mock servers run: a server that panics on
//! bad input shows up here even when its worker answers nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Installs the counting hook once (it still prints each panic as the default hook would).
pub fn count() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
}

/// Panics seen so far in this process.
pub fn seen() -> usize {
    PANICS.load(Ordering::SeqCst)
}
