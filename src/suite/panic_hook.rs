//! Keeps cucumber's panic-hook swap from hiding other panics of the process.
//!
//! While it runs, cucumber replaces the process-wide panic hook with one that prints nothing (it
//! reports a panicking step itself) and restores the previous hook at the end. Two runs at once
//! (tests run in parallel threads; `run` with several providers at once) can interleave the take
//! and the restore and leave the silent hook installed for good, and any panic of another thread
//! during a run (a failing assertion of another test) loses its message. So while any run is
//! active the installed hook is silent only for panics raised while a suite's own future is being
//! polled, it is installed again as each scenario starts, and the hook that was there before the
//! first run is put back when the last one ends.

use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::panic::{self, PanicHookInfo};
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};

type Hook = Arc<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

/// The runs in progress, and the hook in place before the first of them.
static ACTIVE: Mutex<(usize, Option<Hook>)> = Mutex::new((0, None));

thread_local! {
    /// This thread is polling the suite's future (a panic here is a step's, reported by cucumber).
    static POLLING_SUITE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `suite` (a cucumber run) with the hook rules above.
pub(super) async fn guarded<F: Future>(suite: F) -> F::Output {
    {
        let mut active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
        if active.0 == 0 {
            active.1 = Some(Arc::from(panic::take_hook()));
        }
        active.0 += 1;
    }
    reinstall();
    let mut suite = pin!(suite);
    let out = poll_fn(|cx| {
        POLLING_SUITE.set(true);
        let poll = suite.as_mut().poll(cx);
        POLLING_SUITE.set(false);
        poll
    })
    .await;
    let last_outer = {
        let mut active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
        active.0 -= 1;
        if active.0 == 0 { active.1.take() } else { None }
    };
    match last_outer {
        Some(outer) => panic::set_hook(Box::new(move |info| outer(info))),
        // Another run goes on, and this one's cucumber may have put a silent hook back.
        None => reinstall(),
    }
    out
}

/// Installs the filtering hook again. Called when each scenario starts, that is after cucumber
/// installed its silent hook (cucumber restores the filtering one when it finishes).
pub(super) fn reinstall() {
    let Some(outer) = ACTIVE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .1
        .clone()
    else {
        return;
    };
    panic::set_hook(Box::new(move |info| {
        if !POLLING_SUITE.get() {
            outer(info);
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn another_threads_panic_reaches_the_previous_hook_during_a_run() {
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let record = Arc::clone(&seen);
        let previous: Hook = Arc::from(panic::take_hook());
        let forward = Arc::clone(&previous);
        panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .unwrap_or_default();
            if message.starts_with("panic-hook test:") {
                record
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(message);
            } else {
                forward(info);
            }
        }));
        guarded(async {
            // What cucumber does when its run starts, then at a scenario's start.
            let cucumbers = panic::take_hook();
            panic::set_hook(Box::new(|_| {}));
            reinstall();
            let step = std::panic::catch_unwind(|| panic!("panic-hook test: in a step"));
            assert!(step.is_err());
            let other = std::thread::spawn(|| panic!("panic-hook test: another thread")).join();
            assert!(other.is_err());
            panic::set_hook(cucumbers);
        })
        .await;
        let after = std::thread::spawn(|| panic!("panic-hook test: after the run")).join();
        assert!(after.is_err());
        panic::set_hook(Box::new(move |info| previous(info)));
        assert_eq!(
            *seen.lock().unwrap_or_else(PoisonError::into_inner),
            [
                "panic-hook test: another thread",
                "panic-hook test: after the run"
            ]
        );
    }
}
