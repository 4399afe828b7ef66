//! The provider × check matrix of a multi-provider run (`matrix.json`, contract:
//! `specs/matrix.schema.json`): per provider its verdict and counts, per check each provider's
//! status and level, and the baseline comparison when there was one.

use std::collections::BTreeMap;

use serde::Serialize;

use super::baseline::{BaselineComparison, BaselineMode, check_keys};
use super::{Level, RESULTS_VERSION, RunResults, Status, Summary};

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

/// How a provider's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderVerdict {
    /// The run succeeded (and held against the baseline, if one was given).
    Passed,
    /// A check failed, a MUST check could not run, a feature did not load, or a regression.
    Failed,
    /// The provider could not be run at all (no results): see `error`.
    Error,
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
                    let verdict = if e.exit_code == 0 {
                        ProviderVerdict::Passed
                    } else {
                        ProviderVerdict::Failed
                    };
                    (
                        verdict,
                        Some(results.target.spec_version.clone()),
                        Some(results.summary),
                        None,
                    )
                }
                Err(message) => (ProviderVerdict::Error, None, None, Some(message.to_owned())),
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
        Self {
            results_version: RESULTS_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
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
}
