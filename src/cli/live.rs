//! What `nvcert run` prints while it runs: `-v` lines (one per exchange: method, URL, status,
//! milliseconds) on stdout, and on a terminal a progress line on stderr (scenarios done/total,
//! failures so far, elapsed), redrawn in place and erased at the end. Nothing with `--quiet`;
//! no progress line when stderr is not a terminal.

use std::io::{IsTerminal as _, Write as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::results::{ScenarioResult, Status};
use crate::secret::Redactor;
use crate::suite::{LiveExchange, RunObserver};

/// The run's live output.
pub(super) struct Live {
    verbose: bool,
    progress: bool,
    started: Instant,
    redactor: Redactor,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    total: usize,
    done: usize,
    failed: usize,
    errored: usize,
    /// A progress line is on screen (it must be erased before anything else is printed).
    drawn: bool,
}

impl Live {
    /// Live output for a run: `verbose` lines unless `quiet`, a progress line when stderr is a
    /// terminal and not `quiet`. `None` when there is nothing to show.
    pub(super) fn new(verbose: bool, quiet: bool, redactor: Redactor) -> Option<Arc<Self>> {
        let progress = !quiet && std::io::stderr().is_terminal();
        let verbose = verbose && !quiet;
        (verbose || progress).then(|| {
            Arc::new(Self {
                verbose,
                progress,
                started: Instant::now(),
                redactor,
                state: Mutex::default(),
            })
        })
    }

    /// Redraws the progress line every half second until the returned guard is dropped, so a
    /// slow provider does not look like a hung run.
    pub(super) fn tick(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        if !self.progress {
            return None;
        }
        let live = Arc::clone(self);
        Some(tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(500));
            loop {
                interval.tick().await;
                live.draw(&mut live.lock());
            }
        }))
    }

    /// Erases the progress line (before the summary is printed).
    pub(super) fn finish(&self, ticker: Option<tokio::task::JoinHandle<()>>) {
        if let Some(t) = ticker {
            t.abort();
        }
        let mut state = self.lock();
        self.erase(&mut state);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn erase(&self, state: &mut State) {
        if state.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            state.drawn = false;
        }
    }

    fn draw(&self, state: &mut State) {
        if !self.progress {
            return;
        }
        let line = progress_line(state, self.started.elapsed());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        state.drawn = true;
    }
}

fn progress_line(state: &State, elapsed: Duration) -> String {
    format!(
        "{}/{} scenarios · {} failed · {} could not run · {:.1} s",
        state.done,
        state.total,
        state.failed,
        state.errored,
        elapsed.as_secs_f64()
    )
}

/// One `-v` line: `  POST http://…/verify → 200 (3 ms)  [scenario]`.
fn exchange_line(e: &LiveExchange<'_>) -> String {
    let status = e
        .status
        .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
    format!(
        "  {} {} → {} ({} ms)  [{}]",
        e.method,
        e.url,
        status,
        e.elapsed.as_millis(),
        e.scenario
    )
}

impl RunObserver for Live {
    fn run_started(&self, scenarios: usize) {
        let mut state = self.lock();
        state.total = scenarios;
        self.draw(&mut state);
    }

    fn exchange(&self, exchange: &LiveExchange<'_>) {
        if !self.verbose {
            return;
        }
        let line = self.redactor.redact(&exchange_line(exchange));
        let mut state = self.lock();
        self.erase(&mut state);
        println!("{line}");
        self.draw(&mut state);
    }

    fn scenario_finished(&self, result: &ScenarioResult) {
        let mut state = self.lock();
        state.done += 1;
        match result.status {
            Status::Failed => state.failed += 1,
            Status::Error => state.errored += 1,
            _ => {}
        }
        self.draw(&mut state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_say_what_a_person_needs() {
        let state = State {
            total: 62,
            done: 12,
            failed: 1,
            errored: 2,
            drawn: false,
        };
        assert_eq!(
            progress_line(&state, Duration::from_millis(3_250)),
            "12/62 scenarios · 1 failed · 2 could not run · 3.2 s"
        );
        let e = LiveExchange {
            scenario: "A scenario",
            method: "POST",
            url: "http://127.0.0.1:1/verify".into(),
            status: Some(200),
            elapsed: Duration::from_millis(7),
        };
        assert_eq!(
            exchange_line(&e),
            "  POST http://127.0.0.1:1/verify → 200 (7 ms)  [A scenario]"
        );
    }
}
