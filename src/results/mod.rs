//! The neutral result model every report writer reads. Plain data and the rules that turn a
//! scenario's raw outcome into its verdict (level, expected failures); no formatting, and no
//! I/O but reading the `--expect-failures` list and `--baseline` files.

pub mod baseline;
mod exchanges;
mod expectations;
pub mod matrix;
pub mod testing;

use serde::{Deserialize, Serialize};

pub use exchanges::{
    BODY_LIMIT_BYTES, BodyRecord, ExchangeRecord, HeaderRecord, StepRecord, StepStatus,
};
pub use expectations::{ExpectationsError, ExpectedFailures};

/// Format version of `results.json` (and of `matrix.json` and baselines): a baseline carrying
/// another version is refused, not compared. Raise it when a change would make old results
/// compare wrongly (a status renamed, checks keyed differently).
pub const RESULTS_VERSION: u32 = 1;

/// How much a check weighs (CAMARA / RFC requirement keywords).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Level {
    /// A failure fails the run.
    #[default]
    #[serde(rename = "MUST")]
    Must,
    /// A failure is a warning; it fails the run only with `--strict`.
    #[serde(rename = "SHOULD")]
    Should,
    /// Needs human evidence: the automated part runs, a person confirms the rest.
    #[serde(rename = "REVIEW")]
    Review,
}

impl Level {
    /// The level named by a scenario's tags (`@MUST`, `@SHOULD`, `@REVIEW`; MUST when none).
    pub fn from_tags<'a>(tags: impl IntoIterator<Item = &'a String>) -> Self {
        let mut level = Self::Must;
        for t in tags {
            match t.as_str() {
                "SHOULD" => level = Self::Should,
                "REVIEW" => level = Self::Review,
                _ => {}
            }
        }
        level
    }

    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Must => "MUST",
            Self::Should => "SHOULD",
            Self::Review => "REVIEW",
        }
    }
}

/// What running a scenario's steps gave, before levels and expectations are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every step passed.
    Passed,
    /// A step failed.
    Failed,
    /// The scenario could not run here.
    Skipped,
    /// A step could not run to a verdict (transport failure, timeout, answer too large).
    Errored,
    /// Every MUST check passed, but a step recorded a SHOULD-level finding.
    Warned,
}

/// Verdict of one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every step passed.
    Passed,
    /// A MUST check failed (or a REVIEW scenario's automated part failed).
    Failed,
    /// A SHOULD check failed.
    Warning,
    /// The automated part of a REVIEW check passed; a person must confirm the rest.
    Review,
    /// Failed, but listed in `--expect-failures` as a known deviation.
    ExpectedFailure,
    /// The scenario could not run here (missing capability, undefined step); never counted as passed.
    Skipped,
    /// A step could not run to a verdict (transport failure, timeout, answer too large): neither
    /// passed nor failed. Fails the run for MUST and REVIEW checks (SHOULD ones with `--strict`).
    Error,
}

impl Status {
    /// The name results.json uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Warning => "warning",
            Self::Review => "review",
            Self::ExpectedFailure => "expected_failure",
            Self::Skipped => "skipped",
            Self::Error => "error",
        }
    }

    /// The verdict for `outcome` of a check of `level`, `listed` as a known deviation or not.
    pub fn judge(outcome: Outcome, level: Level, listed: bool) -> Self {
        match (outcome, level) {
            (Outcome::Skipped, _) => Self::Skipped,
            // Could not run is not a failure, so a known-deviation listing does not cover it.
            (Outcome::Errored, _) => Self::Error,
            // Not a failure, so a known-deviation listing does not change it.
            (Outcome::Warned, _) => Self::Warning,
            (Outcome::Failed, _) if listed => Self::ExpectedFailure,
            (Outcome::Failed, Level::Must | Level::Review) => Self::Failed,
            (Outcome::Failed, Level::Should) => Self::Warning,
            (Outcome::Passed, Level::Review) => Self::Review,
            (Outcome::Passed, _) => Self::Passed,
        }
    }
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// Feature name (the `Feature:` line).
    pub feature: String,
    /// Scenario name.
    pub name: String,
    /// Effective tags (feature's, then scenario's), without the leading `@`.
    pub tags: Vec<String>,
    /// Verdict.
    pub status: Status,
    /// Weight of the check.
    pub level: Level,
    /// Where the rule comes from (spec / profile / RFC section), from the scenario's `Source:` lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
    /// Failure messages, one per failed step (empty when passed).
    pub failures: Vec<String>,
    /// Why the scenario was skipped, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// Why the scenario could not run to a verdict, when it could not (status `error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why a skipped or errored scenario did not reach a verdict, without the step it happened
    /// in (`skip_reason` and `error` name the step): the key incomplete runs group reasons by.
    #[serde(skip)]
    pub cause: Option<String>,
    /// What a person must confirm (REVIEW checks), from the scenario's `Review:` lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
    /// Listed in `--expect-failures` but passed: the list is out of date.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unexpectedly_passed: bool,
    /// Undefined steps met (step text).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undefined_steps: Vec<String>,
    /// Wall time of the scenario in milliseconds.
    pub duration_ms: u64,
    /// The steps that ran, in order, with how each ended.
    pub steps: Vec<StepRecord>,
    /// Every HTTP exchange the scenario's steps sent, in order (redacted, bodies cut at 64 KiB).
    pub exchanges: Vec<ExchangeRecord>,
    /// Index in `exchanges` of the exchange the first failure (or the error) concerns: the last
    /// one sent up to the step that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_exchange: Option<usize>,
}

impl ScenarioResult {
    /// The exchange the first failure (or the error) concerns, if any.
    pub fn evidence(&self) -> Option<&ExchangeRecord> {
        self.failure_exchange.and_then(|i| self.exchanges.get(i))
    }
}

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Scenarios selected.
    pub total: usize,
    /// Scenarios that ran (not skipped).
    pub executed: usize,
    /// Passed.
    pub passed: usize,
    /// MUST failures.
    pub failed: usize,
    /// SHOULD failures.
    pub warnings: usize,
    /// REVIEW checks awaiting a person.
    pub review: usize,
    /// Known deviations that failed as expected.
    pub expected_failures: usize,
    /// Known deviations that passed.
    pub unexpected_passes: usize,
    /// Skipped.
    pub skipped: usize,
    /// Could not run to a verdict (status `error`).
    pub errored: usize,
    /// Of those, MUST and REVIEW scenarios (they fail the run).
    pub errored_must: usize,
    /// Undefined steps met, over all scenarios.
    pub undefined_steps: usize,
}

/// One operation × response status of the spec, and whether the run exercised it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// operationId.
    pub operation: String,
    /// HTTP status.
    pub status: u16,
    /// Documented for the operation by the spec.
    pub documented: bool,
    /// Seen in at least one exchange of the run.
    pub exercised: bool,
}

/// A finding of the test-definition lint: something in a feature file that is wrong or
/// unclear as written, and how nvcert read it. Never a failure of the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lint {
    /// The feature file, as given on the command line.
    pub file: String,
    /// 1-based line of the finding.
    pub line: usize,
    /// Short rule name, e.g. `missing-when` or `schema-ref-missing`.
    pub rule: String,
    /// What is wrong and what nvcert does about it.
    pub message: String,
    /// The scenario concerned, when the finding is inside one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
}

/// The verdict of a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every MUST scenario ran and passed (with `--strict`: SHOULD ones too, no undefined step,
    /// every `--expect-failures` entry matched a scenario).
    #[default]
    Passed,
    /// A MUST check failed (with `--strict`: also a SHOULD check, an undefined step or an
    /// `--expect-failures` entry that matches no scenario).
    Failed,
    /// Nothing failed, but something that should have run did not: a MUST (or REVIEW) scenario
    /// skipped or unable to run, a feature file that could not be run. "Could not run" is not
    /// "passed"; the reasons are in `incomplete_reasons`.
    Incomplete,
}

impl Verdict {
    /// The word used in results.json and on the console.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Incomplete => "incomplete",
        }
    }
}

/// Why a run is incomplete: one reason, and how many scenarios it kept from a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncompleteReason {
    /// `skipped` (a premise the profile cannot meet, an undefined step), `error` (could not run
    /// to a verdict) or `feature_file` (a file that could not be run).
    pub kind: String,
    /// The reason as the scenarios (or the file error) give it.
    pub reason: String,
    /// Scenarios (or files) with this reason.
    pub count: usize,
}

/// The CAMARA-compatibility report (`--compare-with camara:V`): the same exchanges judged
/// against a CAMARA document too. REVIEW-level facts for an aggregator; never a failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compatibility {
    /// What was compared with, e.g. `camara:0.3.1`.
    pub compared_with: String,
    /// The CAMARA document, e.g. `specs/number-verification/v0.3.1.yaml`.
    pub document: String,
    /// Each difference once, in the order first met.
    pub differences: Vec<CompatibilityDifference>,
}

/// One difference between the provider's interface and CAMARA's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompatibilityDifference {
    /// Always REVIEW: a person decides what to adapt.
    pub level: Level,
    /// `body-schema`, `error-code`, `request-property`, `scope`, `base-path`, …
    pub rule: String,
    /// What differs.
    pub message: String,
    /// The operations where it was met (empty for differences of the documents themselves).
    pub operations: Vec<String>,
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
    /// Format version of these results ([`RESULTS_VERSION`]).
    pub results_version: u32,
    /// nvcert version that produced these results.
    pub tool_version: String,
    /// What was certified.
    pub target: Target,
    /// Rule sets enabled beyond the released spec (e.g. "wip").
    pub rule_sets: Vec<String>,
    /// Whether SHOULD failures fail the run.
    pub strict: bool,
    /// Counts.
    pub summary: Summary,
    /// Per-scenario results, in feature order.
    pub scenarios: Vec<ScenarioResult>,
    /// Operation × status coverage.
    pub coverage: Vec<Coverage>,
    /// Problems that prevented features from being parsed or run (named by file); they fail the run.
    pub errors: Vec<String>,
    /// Lint findings about the feature files (warnings; they never fail the run).
    pub lint: Vec<Lint>,
    /// The CAMARA-compatibility report, when one was asked for (REVIEW; never fails the run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatibility: Option<Compatibility>,
    /// Wall time of the whole run in milliseconds.
    pub duration_ms: u64,
    /// passed / failed / incomplete (see [`RunResults::judge`]).
    pub verdict: Verdict,
    /// Why the run is incomplete, grouped by reason and counted (empty when it is not).
    pub incomplete_reasons: Vec<IncompleteReason>,
    /// `--expect-failures` entries (as written, with their line) that match no scenario of the
    /// run: a typo hides nothing but misleads. They fail the run with `--strict`.
    pub unmatched_expectations: Vec<String>,
    /// The run was stopped (SIGINT) before every scenario finished: the scenarios listed are
    /// those that finished. Written only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// Comparison with `--baseline`, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<baseline::BaselineComparison>,
}

impl RunResults {
    /// Builds results and derives the summary from the scenarios.
    pub fn new(
        target: Target,
        scenarios: Vec<ScenarioResult>,
        coverage: Vec<Coverage>,
        errors: Vec<String>,
        duration_ms: u64,
    ) -> Self {
        let summary = Summary::of(&scenarios);
        Self {
            results_version: RESULTS_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            target,
            rule_sets: Vec::new(),
            strict: false,
            summary,
            scenarios,
            coverage,
            errors,
            lint: Vec::new(),
            compatibility: None,
            duration_ms,
            verdict: Verdict::Passed,
            incomplete_reasons: Vec::new(),
            unmatched_expectations: Vec::new(),
            interrupted: false,
            baseline: None,
        }
        .judged()
    }

    fn judged(mut self) -> Self {
        self.judge();
        self
    }

    /// Sets `verdict` and `incomplete_reasons` from the scenarios, the file errors, `strict` and
    /// `unmatched_expectations`; call it again after changing those.
    pub fn judge(&mut self) {
        let mut reasons: Vec<IncompleteReason> = Vec::new();
        let mut add = |kind: &str, reason: String| match reasons
            .iter_mut()
            .find(|r| r.kind == kind && r.reason == reason)
        {
            Some(r) => r.count += 1,
            None => reasons.push(IncompleteReason {
                kind: kind.to_owned(),
                reason,
                count: 1,
            }),
        };
        for sc in &self.scenarios {
            let reason = |full: &Option<String>| {
                sc.cause
                    .as_deref()
                    .or(full.as_deref())
                    .unwrap_or("no reason given")
                    .to_owned()
            };
            // SHOULD scenarios that did not run leave the run complete, unless --strict makes
            // them count (as it does for the exit code).
            let counts = sc.level != Level::Should || self.strict;
            match sc.status {
                Status::Skipped if counts => add("skipped", reason(&sc.skip_reason)),
                Status::Error if counts => add("error", reason(&sc.error)),
                _ => {}
            }
        }
        for e in &self.errors {
            add("feature_file", e.clone());
        }
        if self.interrupted {
            add(
                "interrupted",
                "the run was interrupted before every scenario finished".to_owned(),
            );
        }
        reasons.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
        let s = &self.summary;
        self.verdict = if s.failed > 0 || self.strict_failure() {
            Verdict::Failed
        } else if !reasons.is_empty() {
            Verdict::Incomplete
        } else {
            Verdict::Passed
        };
        self.incomplete_reasons = reasons;
    }

    /// What fails a run only with `--strict`: a SHOULD failure, an undefined step, an
    /// `--expect-failures` entry matching no scenario.
    fn strict_failure(&self) -> bool {
        let s = &self.summary;
        self.strict
            && (s.warnings > 0 || s.undefined_steps > 0 || !self.unmatched_expectations.is_empty())
    }

    /// True when the run was not interrupted, nothing failed, no MUST or REVIEW scenario errored (with `strict`: no warning,
    /// no error at all, no undefined step and no unmatched `--expect-failures` entry) and every
    /// feature loaded. An incomplete run of skipped scenarios succeeds unless the caller asks for
    /// completeness (`--require-complete`: see [`RunResults::verdict`]).
    pub fn succeeded(&self) -> bool {
        let s = &self.summary;
        !self.interrupted
            && s.failed == 0
            && s.errored_must == 0
            && self.errors.is_empty()
            && !self.strict_failure()
            && !(self.strict && s.errored > 0)
    }

    /// False when a `--baseline` comparison found regressions and regressions fail the run.
    pub fn held_baseline(&self) -> bool {
        self.baseline
            .as_ref()
            .is_none_or(baseline::BaselineComparison::passes)
    }
}

impl Summary {
    /// Counts the statuses of `scenarios`.
    pub fn of(scenarios: &[ScenarioResult]) -> Self {
        let count = |s: Status| scenarios.iter().filter(|r| r.status == s).count();
        Self {
            total: scenarios.len(),
            executed: scenarios
                .iter()
                .filter(|r| !matches!(r.status, Status::Skipped | Status::Error))
                .count(),
            passed: count(Status::Passed),
            failed: count(Status::Failed),
            warnings: count(Status::Warning),
            review: count(Status::Review),
            expected_failures: count(Status::ExpectedFailure),
            unexpected_passes: scenarios.iter().filter(|r| r.unexpectedly_passed).count(),
            skipped: count(Status::Skipped),
            errored: count(Status::Error),
            errored_must: scenarios
                .iter()
                .filter(|r| r.status == Status::Error && r.level != Level::Should)
                .count(),
            undefined_steps: scenarios.iter().map(|r| r.undefined_steps.len()).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_level_and_expectations() {
        use Level::*;
        use Outcome as O;
        assert_eq!(Status::judge(O::Failed, Must, false), Status::Failed);
        assert_eq!(Status::judge(O::Failed, Should, false), Status::Warning);
        assert_eq!(Status::judge(O::Failed, Review, false), Status::Failed);
        assert_eq!(Status::judge(O::Passed, Review, false), Status::Review);
        assert_eq!(
            Status::judge(O::Failed, Must, true),
            Status::ExpectedFailure
        );
        assert_eq!(Status::judge(O::Skipped, Must, true), Status::Skipped);
        assert_eq!(Status::judge(O::Passed, Should, false), Status::Passed);
        assert_eq!(Status::judge(O::Warned, Must, false), Status::Warning);
        assert_eq!(Status::judge(O::Warned, Review, true), Status::Warning);
        assert_eq!(Status::judge(O::Errored, Must, true), Status::Error);
        assert_eq!(Status::judge(O::Errored, Should, false), Status::Error);
    }

    #[test]
    fn status_names_are_the_serialized_ones() {
        use Status::*;
        for s in [
            Passed,
            Failed,
            Warning,
            Review,
            ExpectedFailure,
            Skipped,
            Error,
        ] {
            assert_eq!(
                serde_json::to_value(s).expect("serializes"),
                serde_json::Value::from(s.as_str())
            );
        }
    }

    #[test]
    fn level_from_tags() {
        let tags = ["oidc".to_owned(), "SHOULD".to_owned()];
        assert_eq!(Level::from_tags(&tags), Level::Should);
        assert_eq!(Level::from_tags(&[]), Level::Must);
    }
}
