//! The run's summary: one row per transaction and the thresholds' verdicts. Plain data; its
//! writers (`load-summary.json`, contract `specs/load-summary.schema.json`, and the console
//! table) are in `report::load`.
//!
//! Counts and latencies come from goose's request metrics, which the transactions record once
//! per step. They cover the time all users were running (goose resets its metrics when the last
//! user has started), and `rps` divides by exactly that time.

use goose::metrics::GooseMetrics;
use goose::test_plan::TestPlanStepAction;
use serde::Serialize;

use super::scenarios::Step;
use super::threshold::ThresholdOutcome;

/// What a load run measured (`load-summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadSummary {
    /// Scenario name (`token-exchange`, `verify`, `share`, `journey`).
    pub scenario: String,
    /// The provider's display name (from its profile).
    pub provider: String,
    /// Concurrent users.
    pub users: usize,
    /// The run time asked for, in seconds.
    pub run_time_s: u64,
    /// Seconds measured: from the moment all users were running to the end.
    pub duration_s: f64,
    /// One entry per step of the scenario, in step order (also when a step made no request).
    pub transactions: Vec<TransactionSummary>,
    /// Each `--threshold`, in the order given.
    pub thresholds: Vec<ThresholdOutcome>,
}

/// One transaction's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransactionSummary {
    /// Step name (`authorize`, `token`, `verify`, `share`).
    pub name: String,
    /// Requests made (successful or not).
    pub requests: u64,
    /// Requests that failed (transport error, or an answer the step cannot go on from).
    pub failures: u64,
    /// Requests per second over [`LoadSummary::duration_s`].
    pub rps: f64,
    /// Median latency in milliseconds (`None` without requests).
    pub p50_ms: Option<f64>,
    /// 95th percentile latency in milliseconds.
    pub p95_ms: Option<f64>,
    /// 99th percentile latency in milliseconds.
    pub p99_ms: Option<f64>,
}

impl LoadSummary {
    /// The summary of `metrics` for a run of `steps`.
    pub(crate) fn from_metrics(
        scenario: &str,
        provider: &str,
        users: usize,
        run_time_s: u64,
        steps: &[Step],
        metrics: &GooseMetrics,
    ) -> Self {
        let duration_s = measured_seconds(metrics);
        let transactions = steps
            .iter()
            .map(|step| {
                let name = step.name();
                let aggregate = metrics.requests.values().find(|a| a.path == name);
                let (requests, failures) = aggregate.map_or((0, 0), |a| {
                    ((a.success_count + a.fail_count) as u64, a.fail_count as u64)
                });
                let percentile = |p: f32| {
                    aggregate
                        .filter(|a| a.raw_data.counter > 0)
                        .map(|a| a.raw_data.percentile_us(p) as f64 / 1000.0)
                };
                TransactionSummary {
                    name: name.to_owned(),
                    requests,
                    failures,
                    rps: round1(requests as f64 / duration_s),
                    p50_ms: percentile(0.50),
                    p95_ms: percentile(0.95),
                    p99_ms: percentile(0.99),
                }
            })
            .collect();
        Self {
            scenario: scenario.to_owned(),
            provider: provider.to_owned(),
            users,
            run_time_s,
            duration_s: (duration_s * 1000.0).round() / 1000.0,
            transactions,
            thresholds: Vec::new(),
        }
    }

    /// True when every threshold held (and trivially without thresholds).
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

/// Seconds from the start of the first hold (all users running; goose resets its metrics then)
/// to the end of the run, from goose's test-plan history. Never below a millisecond.
fn measured_seconds(metrics: &GooseMetrics) -> f64 {
    let history = &metrics.history;
    let start = history
        .iter()
        .find(|h| matches!(h.action, TestPlanStepAction::Maintaining))
        .map(|h| h.timestamp);
    let end = history.last().map(|h| h.timestamp);
    let seconds = match (start, end) {
        (Some(start), Some(end)) if end > start => {
            (end - start).num_microseconds().unwrap_or(0) as f64 / 1e6
        }
        _ => metrics.duration as f64,
    };
    seconds.max(0.001)
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
                },
                TransactionSummary {
                    name: "share".into(),
                    requests: 0,
                    failures: 0,
                    rps: 0.0,
                    p50_ms: None,
                    p95_ms: None,
                    p99_ms: None,
                },
            ],
            thresholds: vec![ThresholdOutcome {
                expression: "verify.p95<0ms".into(),
                observed: Some(0.9),
                unit: "ms",
                passed: false,
            }],
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
