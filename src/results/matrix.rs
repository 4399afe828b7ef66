//! The provider × check matrix of a multi-provider run (`matrix.json`, contract:
//! `specs/matrix.schema.json`): per provider its verdict and counts, per check each provider's
//! status and level, and the baseline comparison when there was one.

use std::collections::BTreeMap;

use serde::Serialize;

use super::baseline::{BaselineComparison, BaselineMode, check_keys};
use super::{Level, RESULTS_VERSION, RunResults, Status, Summary, Verdict};

/// The folder name of a provider: its profile `name`, lower-case, every run of characters other
/// than letters and digits turned into one `-`. Empty when the name has no letter or digit.
pub fn provider_slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            slug.extend(c.to_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// How a provider's run ended: its results.json verdict, made `failed` by a regression against
/// the baseline (when regressions fail the run), and `incomplete` when it could not be run at
/// all. Incomplete is never passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderVerdict {
    /// Every MUST check ran and passed (and the baseline held, if one was given).
    Passed,
    /// A check failed (as results.json says), or a regression against the baseline.
    Failed,
    /// Nothing failed, but something that should have run did not (results.json's
    /// `incomplete_reasons`), or the provider could not be run at all (see `error`).
    Incomplete,
}

impl ProviderVerdict {
    /// The verdict of a provider whose run gave `results`.
    pub fn of(results: &RunResults) -> Self {
        match results.verdict {
            Verdict::Failed => Self::Failed,
            _ if !results.held_baseline() => Self::Failed,
            Verdict::Incomplete => Self::Incomplete,
            Verdict::Passed => Self::Passed,
        }
    }

    /// The verdict of the whole run: failed if any provider failed, else incomplete if any is
    /// incomplete (or there is none), else passed.
    pub fn overall(verdicts: impl IntoIterator<Item = Self>) -> Self {
        let mut overall = None;
        for v in verdicts {
            overall = Some(match (overall, v) {
                (_, Self::Failed) | (Some(Self::Failed), _) => Self::Failed,
                (_, Self::Incomplete) | (Some(Self::Incomplete), _) => Self::Incomplete,
                _ => Self::Passed,
            });
        }
        overall.unwrap_or(Self::Incomplete)
    }

    /// The word used in matrix.json.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Incomplete => "incomplete",
        }
    }
}

/// How many providers ended with each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct VerdictCounts {
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Incomplete (of them, those that could not be run at all have an `error`).
    pub incomplete: usize,
}

/// One provider's line of the matrix.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixProvider {
    /// Folder of its reports, relative to the report folder.
    pub slug: String,
    /// Display name (the profile's `name`).
    pub provider: String,
    /// The profile file.
    pub profile: String,
    /// Verdict.
    pub verdict: ProviderVerdict,
    /// The exit code a single-provider run of it would have had.
    pub exit_code: u8,
    /// NV spec version it was judged against (absent when it could not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec_version: Option<String>,
    /// Counts (absent when it could not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// Why it could not run, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall time of its run in milliseconds.
    pub duration_ms: u64,
}

/// One provider's cell of a check's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MatrixCell {
    /// Verdict.
    pub status: Status,
    /// Weight.
    pub level: Level,
}

/// One check's row.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixCheck {
    /// `Feature › Scenario` (unique; the key baselines use).
    pub check: String,
    /// Feature name.
    pub feature: String,
    /// Scenario name.
    pub name: String,
    /// Provider slug → its cell; providers that did not run the check have none.
    pub results: BTreeMap<String, MatrixCell>,
}

/// The baseline comparison of a whole multi-provider run.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixBaseline {
    /// The baseline given (`--baseline`).
    pub against: String,
    /// Whether regressions fail the run.
    pub mode: BaselineMode,
    /// Regressions over all providers.
    pub regressions: usize,
    /// Fixes over all providers.
    pub fixes: usize,
    /// Every provider compares equal with its baseline entry, and the provider sets match.
    pub equal: bool,
    /// Providers of this run the baseline does not have.
    pub new_providers: Vec<String>,
    /// Providers of the baseline not in this run.
    pub vanished_providers: Vec<String>,
    /// Provider slug → its comparison.
    pub providers: BTreeMap<String, BaselineComparison>,
}

/// Everything `matrix.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    /// Format version of nvcert's results ([`RESULTS_VERSION`]).
    pub results_version: u32,
    /// nvcert version.
    pub tool_version: String,
    /// The verdict over all providers (see [`ProviderVerdict::overall`]).
    pub verdict: ProviderVerdict,
    /// Providers per verdict.
    pub verdicts: VerdictCounts,
    /// Providers, in the order given (files of `--providers` sorted by name).
    pub providers: Vec<MatrixProvider>,
    /// Checks, sorted by key.
    pub checks: Vec<MatrixCheck>,
    /// Comparison with `--baseline`, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<MatrixBaseline>,
}

/// How one provider's run ended, as the matrix needs it.
#[derive(Debug)]
pub struct ProviderEntry<'a> {
    /// Its slug.
    pub slug: &'a str,
    /// The profile file.
    pub profile: &'a str,
    /// Display name (falls back to the slug when it could not run).
    pub provider: &'a str,
    /// Its results, or why it could not run.
    pub outcome: Result<&'a RunResults, &'a str>,
    /// Its exit code.
    pub exit_code: u8,
    /// Wall time.
    pub duration_ms: u64,
}

impl Matrix {
    /// Every provider that ran (has results) passed `check`; a provider that ran without the
    /// check differs.
    pub fn passed_everywhere(&self, check: &MatrixCheck) -> bool {
        self.providers.iter().all(|p| {
            p.summary.is_none()
                || check
                    .results
                    .get(&p.slug)
                    .is_some_and(|cell| cell.status == Status::Passed)
        })
    }

    /// The matrix of these providers; `baseline_providers` are the slugs the baseline has
    /// (when one was given, with its path and mode).
    pub fn build(
        entries: &[ProviderEntry<'_>],
        baseline: Option<(&str, BaselineMode, Vec<String>)>,
    ) -> Self {
        let mut rows: BTreeMap<String, MatrixCheck> = BTreeMap::new();
        let mut providers = Vec::new();
        let mut comparisons = BTreeMap::new();
        for e in entries {
            let (verdict, spec_version, summary, error) = match e.outcome {
                Ok(results) => {
                    for (key, s) in check_keys(&results.scenarios)
                        .into_iter()
                        .zip(&results.scenarios)
                    {
                        rows.entry(key.clone())
                            .or_insert_with(|| MatrixCheck {
                                check: key,
                                feature: s.feature.clone(),
                                name: s.name.clone(),
                                results: BTreeMap::new(),
                            })
                            .results
                            .insert(
                                e.slug.to_owned(),
                                MatrixCell {
                                    status: s.status,
                                    level: s.level,
                                },
                            );
                    }
                    if let Some(c) = &results.baseline {
                        comparisons.insert(e.slug.to_owned(), c.clone());
                    }
                    (
                        ProviderVerdict::of(results),
                        Some(results.target.spec_version.clone()),
                        Some(results.summary),
                        None,
                    )
                }
                Err(message) => (
                    ProviderVerdict::Incomplete,
                    None,
                    None,
                    Some(message.to_owned()),
                ),
            };
            providers.push(MatrixProvider {
                slug: e.slug.to_owned(),
                provider: e.provider.to_owned(),
                profile: e.profile.to_owned(),
                verdict,
                exit_code: e.exit_code,
                spec_version,
                summary,
                error,
                duration_ms: e.duration_ms,
            });
        }
        let baseline = baseline.map(|(against, mode, known)| {
            let slugs: Vec<&str> = entries.iter().map(|e| e.slug).collect();
            let new_providers: Vec<String> = slugs
                .iter()
                .filter(|s| !known.iter().any(|k| k == *s))
                .map(|s| (*s).to_owned())
                .collect();
            let vanished_providers: Vec<String> = known
                .iter()
                .filter(|k| !slugs.contains(&k.as_str()))
                .cloned()
                .collect();
            MatrixBaseline {
                against: against.to_owned(),
                mode,
                regressions: comparisons.values().map(|c| c.regressions.len()).sum(),
                fixes: comparisons.values().map(|c| c.fixes.len()).sum(),
                equal: new_providers.is_empty()
                    && vanished_providers.is_empty()
                    && comparisons.len() == entries.len()
                    && comparisons.values().all(|c| c.equal),
                new_providers,
                vanished_providers,
                providers: comparisons,
            }
        });
        let count = |v: ProviderVerdict| providers.iter().filter(|p| p.verdict == v).count();
        let verdicts = VerdictCounts {
            passed: count(ProviderVerdict::Passed),
            failed: count(ProviderVerdict::Failed),
            incomplete: count(ProviderVerdict::Incomplete),
        };
        Self {
            results_version: RESULTS_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            verdict: ProviderVerdict::overall(providers.iter().map(|p| p.verdict)),
            verdicts,
            providers,
            checks: rows.into_values().collect(),
            baseline,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_words_joined_by_dashes() {
        for (name, slug) in [
            ("nvcert reference provider", "nvcert-reference-provider"),
            ("Orange España (ES) — v2", "orange-españa-es-v2"),
            ("  --Acme--  ", "acme"),
            ("Telco_1", "telco-1"),
            ("???", ""),
        ] {
            assert_eq!(provider_slug(name), slug, "{name}");
        }
    }

    #[test]
    fn a_regression_fails_a_passed_provider_unless_the_baseline_only_reports() {
        use crate::results::baseline::{Baseline, ProviderSnapshot, Snapshot};
        use crate::results::{ScenarioResult, Target, testing};
        let results = |status: Status| {
            let target = Target {
                provider: "Acme".into(),
                issuer: "http://issuer.test".into(),
                api_base: "http://api.test".into(),
                spec_version: "2.1.0".into(),
            };
            let scenarios = vec![
                testing::scenario("Verify", "must", Status::Passed),
                ScenarioResult {
                    level: Level::Should,
                    ..testing::scenario("Verify", "should", status)
                },
            ];
            RunResults::new(target, scenarios, Vec::new(), Vec::new(), 1)
        };
        let before = results(Status::Passed);
        // A SHOULD check that now warns: the run itself still passes.
        let now = results(Status::Warning);
        assert_eq!(ProviderVerdict::of(&now), ProviderVerdict::Passed);
        for (mode, expected) in [
            (BaselineMode::Fail, ProviderVerdict::Failed),
            (BaselineMode::Report, ProviderVerdict::Passed),
        ] {
            let baseline = Baseline {
                path: "base.json".into(),
                mode,
                snapshot: Snapshot::new(
                    [("acme".to_owned(), ProviderSnapshot::of(&before))]
                        .into_iter()
                        .collect(),
                ),
                single_run: false,
            };
            let mut judged = now.clone();
            judged.baseline = Some(baseline.compare(&judged));
            assert_eq!(ProviderVerdict::of(&judged), expected, "{mode:?}");
        }
    }

    #[test]
    fn the_overall_verdict_is_the_worst_and_nothing_run_is_incomplete() {
        use ProviderVerdict::*;
        for (verdicts, expected) in [
            (vec![], Incomplete),
            (vec![Passed, Passed], Passed),
            (vec![Passed, Incomplete], Incomplete),
            (vec![Incomplete, Failed, Passed], Failed),
        ] {
            assert_eq!(
                ProviderVerdict::overall(verdicts.clone()),
                expected,
                "{verdicts:?}"
            );
        }
    }
}
