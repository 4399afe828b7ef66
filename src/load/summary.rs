//! The run's summary: one row per transaction and the thresholds' verdicts. Plain data; its
//! writers (`load-summary.json`, contract `specs/load-summary.schema.json`, the console table
//! and the HTML report) are in `report::load`.
//!
//! Counts and latencies come from nvcert's own [`Recorder`](super::record) over the
//! measurement window (every user running, `run_time` long or until interrupted), and `rps`
//! divides by exactly that window. A merged summary (`nvcert load merge`) is built the same way
//! from the workers' added figures.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::record::{TransactionRecord, Window};
use super::scenarios::Step;
use super::threshold::ThresholdOutcome;

/// What a load run measured (`load-summary.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoadSummary {
    /// Scenario name (`token-exchange`, `verify`, `share`, `journey`).
    pub scenario: String,
    /// The provider's display name (from its profile).
    pub provider: String,
    /// Concurrent users (a worker: its share; a merge: all workers' together).
    pub users: usize,
    /// The run time asked for, in seconds.
    pub run_time_s: u64,
    /// Seconds measured: the window's length.
    pub duration_s: f64,
    /// The run was interrupted (SIGINT): its figures cover a partial window and its thresholds
    /// are not judged.
    pub interrupted: bool,
    /// The measurement window (`None`: the run ended before every user had started).
    pub window: Option<WindowText>,
    /// This run is one worker's slice of a distributed run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<WorkerSlice>,
    /// A merged run: the workers that took part, each with its window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<Vec<WorkerWindow>>,
    /// One entry per transaction, in step order (also when a step made no request).
    pub transactions: Vec<TransactionSummary>,
    /// Each `--threshold`, in the order given.
    pub thresholds: Vec<ThresholdOutcome>,
    /// Through an aggregator (`[aggregator]` profiles): what it adds to authorize and verify
    /// over its operators' own figures, measured after the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregator_latency: Option<super::aggregator::AggregatorLatency>,
}

/// A window as RFC 3339 UTC timestamps (microseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowText {
    /// When it opened.
    pub start: String,
    /// When it closed.
    pub end: String,
}

impl WindowText {
    /// `window` in words.
    pub fn of(window: &Window) -> Self {
        Self {
            start: rfc3339(window.start),
            end: rfc3339(window.end),
        }
    }
}

/// RFC 3339 UTC with microseconds.
pub fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Which slice of a distributed run a worker ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerSlice {
    /// 0-based index (`--worker-index`; a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX`).
    pub index: usize,
    /// How many workers share the run (`--workers`).
    pub workers: usize,
}

/// One worker of a merged run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerWindow {
    /// Its index.
    pub index: usize,
    /// Its users.
    pub users: usize,
    /// Its window (`None`: it never had all its users running).
    pub window: Option<WindowText>,
    /// It was interrupted.
    pub interrupted: bool,
}

/// One transaction's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TransactionSummary {
    /// Step name (`authorize`, `token`, `verify`, `share`).
    pub name: String,
    /// Requests made (successful or not).
    pub requests: u64,
    /// Requests that failed (transport error, or an answer the step cannot go on from).
    pub failures: u64,
    /// Iterations in which this step was not run because an earlier step failed (not
    /// requests, not failures: the earlier step's failure is counted there).
    pub skipped: u64,
    /// Requests per second over [`LoadSummary::duration_s`].
    pub rps: f64,
    /// Median latency in milliseconds (`None` without requests).
    pub p50_ms: Option<f64>,
    /// 95th percentile latency in milliseconds.
    pub p95_ms: Option<f64>,
    /// 99th percentile latency in milliseconds.
    pub p99_ms: Option<f64>,
    /// HTTP statuses the provider answered, with their counts (requests without an answer,
    /// such as timeouts, are not here).
    pub statuses: BTreeMap<String, u64>,
    /// Why requests failed: distinct messages with their counts, most frequent first (at most
    /// ten, then one line for the rest). The messages quote no secret.
    pub errors: Vec<ErrorCount>,
}

/// A failure message and how often it occurred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCount {
    /// The message.
    pub message: String,
    /// Failed requests with it.
    pub count: u64,
}

impl TransactionSummary {
    /// The row of `step` from its record over `seconds`.
    pub fn of(step: Step, record: &TransactionRecord, seconds: f64) -> Self {
        Self {
            name: step.name().to_owned(),
            requests: record.requests,
            failures: record.failures,
            skipped: record.skipped,
            rps: round1(record.requests as f64 / seconds),
            p50_ms: record.percentile_ms(0.50).map(round_us),
            p95_ms: record.percentile_ms(0.95).map(round_us),
            p99_ms: record.percentile_ms(0.99).map(round_us),
            statuses: record
                .statuses
                .iter()
                .map(|&(s, n)| (s.to_string(), n))
                .collect(),
            errors: {
                let mut errors: Vec<ErrorCount> = record
                    .errors
                    .iter()
                    .map(|(message, count)| ErrorCount {
                        message: message.clone(),
                        count: *count,
                    })
                    .collect();
                errors.sort_by_key(|e| std::cmp::Reverse(e.count));
                errors
            },
        }
    }
}

impl LoadSummary {
    /// True when every threshold held (and trivially without thresholds); never for an
    /// interrupted run with thresholds.
    pub fn passed(&self) -> bool {
        self.thresholds.iter().all(|t| t.passed)
    }

    /// Requests of every transaction.
    pub fn total_requests(&self) -> u64 {
        self.transactions.iter().map(|t| t.requests).sum()
    }

    /// Failures of every transaction.
    pub fn total_failures(&self) -> u64 {
        self.transactions.iter().map(|t| t.failures).sum()
    }
}

/// Milliseconds to the microsecond (what reports show).
fn round_us(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A summary with one measured and one idle transaction, and a broken threshold.
    pub(crate) fn sample() -> LoadSummary {
        LoadSummary {
            scenario: "journey".into(),
            provider: "nvcert reference provider".into(),
            users: 4,
            run_time_s: 2,
            duration_s: 2.004,
            transactions: vec![
                TransactionSummary {
                    name: "verify".into(),
                    requests: 2000,
                    failures: 0,
                    rps: 998.0,
                    p50_ms: Some(0.412),
                    p95_ms: Some(0.9),
                    p99_ms: Some(1.25),
                    statuses: [("200".to_owned(), 2000)].into(),
                    ..Default::default()
                },
                TransactionSummary {
                    name: "share".into(),
                    ..Default::default()
                },
            ],
            thresholds: vec![ThresholdOutcome {
                expression: "verify.p95<0ms".into(),
                observed: Some(0.9),
                unit: "ms",
                passed: false,
                verdict: crate::load::threshold::Verdict::Failed,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn passed_only_when_every_threshold_held() {
        let mut s = sample();
        assert!(!s.passed());
        s.thresholds.clear();
        assert!(s.passed());
        assert_eq!((s.total_requests(), s.total_failures()), (2000, 0));
    }
}
