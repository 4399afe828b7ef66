//! What a run tells as it goes: each exchange as it is answered, each scenario as it ends. The
//! command line implements [`RunObserver`] (verbose lines, the progress line); the library only
//! calls it, and never writes to the terminal itself.

use std::time::Duration;

use crate::results::ScenarioResult;

/// One exchange as it happens (the URL is redacted).
#[derive(Debug, Clone)]
pub struct LiveExchange<'a> {
    /// The scenario that sent it.
    pub scenario: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// URL with query values and known secrets redacted.
    pub url: String,
    /// Response status; `None` when no usable answer came back.
    pub status: Option<u16>,
    /// Time until the whole answer was read (or the attempt failed).
    pub elapsed: Duration,
}

/// Receives a run's events as they happen. Called from the run's tasks: implementations must be
/// quick and must not block.
pub trait RunObserver: Send + Sync {
    /// The run starts with `scenarios` scenarios selected.
    fn run_started(&self, scenarios: usize) {
        let _ = scenarios;
    }
    /// An exchange was answered (or failed).
    fn exchange(&self, exchange: &LiveExchange<'_>) {
        let _ = exchange;
    }
    /// A scenario ended with this result.
    fn scenario_finished(&self, result: &ScenarioResult) {
        let _ = result;
    }
}
