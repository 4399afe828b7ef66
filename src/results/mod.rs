//! The neutral result model every report writer reads. Plain data: no I/O, no formatting.

use serde::Serialize;

/// Outcome of one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every step passed.
    Passed,
    /// A check failed, or the provider could not be driven through a step.
    Failed,
    /// The scenario could not run here (missing capability, undefined step); never counted as passed.
    Skipped,
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// Feature name (the `Feature:` line).
    pub feature: String,
    /// Scenario name.
    pub name: String,
    /// Tags without the leading `@`.
    pub tags: Vec<String>,
    /// Outcome.
    pub status: Status,
    /// Failure messages, one per failed step (empty when passed).
    pub failures: Vec<String>,
    /// Why the scenario was skipped, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// Wall time of the scenario in milliseconds.
    pub duration_ms: u64,
}

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Scenarios run.
    pub total: usize,
    /// Scenarios passed.
    pub passed: usize,
    /// Scenarios failed.
    pub failed: usize,
    /// Scenarios skipped.
    pub skipped: usize,
}

/// What was certified.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// Profile name.
    pub provider: String,
    /// Issuer URL the run used.
    pub issuer: String,
    /// API base URL the run used.
    pub api_base: String,
    /// NV spec version the provider was judged against.
    pub spec_version: String,
}

/// Everything a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct RunResults {
    /// nvcert version that produced these results.
    pub tool_version: String,
    /// What was certified.
    pub target: Target,
    /// Counts.
    pub summary: Summary,
    /// Per-scenario results, in feature order.
    pub scenarios: Vec<ScenarioResult>,
    /// Problems that prevented features from being parsed or run (named by file).
    pub errors: Vec<String>,
    /// Wall time of the whole run in milliseconds.
    pub duration_ms: u64,
}

impl RunResults {
    /// Builds results and derives the summary from the scenarios.
    pub fn new(
        target: Target,
        scenarios: Vec<ScenarioResult>,
        errors: Vec<String>,
        duration_ms: u64,
    ) -> Self {
        let summary = Summary::of(&scenarios);
        Self {
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            target,
            summary,
            scenarios,
            errors,
            duration_ms,
        }
    }

    /// True when nothing failed and no feature failed to load.
    pub fn succeeded(&self) -> bool {
        self.summary.failed == 0 && self.errors.is_empty()
    }
}

impl Summary {
    /// Counts the statuses of `scenarios`.
    pub fn of(scenarios: &[ScenarioResult]) -> Self {
        let count = |s: Status| scenarios.iter().filter(|r| r.status == s).count();
        Self {
            total: scenarios.len(),
            passed: count(Status::Passed),
            failed: count(Status::Failed),
            skipped: count(Status::Skipped),
        }
    }
}
