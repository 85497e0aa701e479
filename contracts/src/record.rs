//! Where violations are kept until the process ends.
//!
//! Every fake records what it refused here. When the first one is recorded, a handler is
//! registered with `atexit`: if any violation is still recorded when the process ends (a test
//! binary after its last test), it prints each one and ends the process with status 1, so the
//! suite, and the test run, fail whatever the tests themselves asserted. A test that plants a
//! violation on purpose takes it back ([`take`]) once it has checked the answer.

use std::sync::{Mutex, Once};

use super::Violation;

static VIOLATIONS: Mutex<Vec<Violation>> = Mutex::new(Vec::new());
static AT_EXIT: Once = Once::new();

/// Keeps a violation until it is taken or the process ends.
pub fn record(violation: Violation) {
    eprintln!("contract violation: {violation}");
    AT_EXIT.call_once(|| {
        // SAFETY: `fail_on_violations` is an `extern "C" fn()` that never unwinds.
        unsafe {
            libc::atexit(fail_on_violations);
        }
    });
    if let Ok(mut all) = VIOLATIONS.lock() {
        all.push(violation);
    }
}

/// The violations recorded and not taken.
pub fn pending() -> Vec<Violation> {
    VIOLATIONS.lock().map(|v| v.clone()).unwrap_or_default()
}

/// Takes back the violations a fake (its base URL, `origin`) recorded: a test that planted
/// them checks them, and they no longer fail the suite.
pub fn take(origin: &str) -> Vec<Violation> {
    take_where(|v| v.origin == origin)
}

/// Takes back the violations `keep` selects.
pub fn take_where(keep: impl Fn(&Violation) -> bool) -> Vec<Violation> {
    let Ok(mut all) = VIOLATIONS.lock() else {
        return Vec::new();
    };
    let (taken, rest): (Vec<_>, Vec<_>) = all.drain(..).partition(|v| keep(v));
    *all = rest;
    taken
}

extern "C" fn fail_on_violations() {
    let left = std::panic::catch_unwind(pending).unwrap_or_default();
    if left.is_empty() {
        return;
    }
    eprintln!(
        "\n{} request(s) broke a vendor's API contract (see contracts/src/lib.rs):",
        left.len()
    );
    for violation in &left {
        eprintln!("  - {violation}");
    }
    // SAFETY: ends the process at once, as `exit` would, without running the other handlers
    // twice.
    unsafe { libc::_exit(1) }
}
