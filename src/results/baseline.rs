//! Baselines: a reviewed snapshot of earlier results, and what changed since.
//!
//! A baseline keeps, per provider (by slug) and per check, only the status and the level: no
//! durations, timestamps, URLs, correlators, messages or token values, so two runs of an
//! unchanged provider give the same snapshot byte for byte. `--baseline` reads a snapshot (what
//! `nvcert baseline accept` writes), a `results.json`, or the report folder of an earlier run
//! (one provider: its `results.json`; several: `matrix.json` and each provider's folder).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Level, RESULTS_VERSION, RunResults, ScenarioResult, Status};

/// Value of the snapshot's `format` field.
pub const SNAPSHOT_FORMAT: &str = "nvcert-baseline";

/// File name of the multi-provider summary at the top of a report folder.
pub const MATRIX_FILE: &str = "matrix.json";
/// File name of one provider's results.
const RESULTS_FILE: &str = "results.json";

/// A baseline could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file or folder could not be read.
    #[error("baseline {path}: cannot read: {reason}")]
    Read {
        /// The path concerned.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// The file is not what a baseline can be.
    #[error("baseline {path}: expected {expected}, found {found}")]
    Shape {
        /// The path concerned.
        path: PathBuf,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// Written by an nvcert with another results format: nothing is compared.
    #[error(
        "baseline {path}: results version {found}, but this nvcert reads and writes results \
         version {RESULTS_VERSION}; nothing was compared (make a new baseline with this nvcert: \
         `nvcert baseline accept REPORT_DIR --to PATH`)"
    )]
    Version {
        /// The path concerned.
        path: PathBuf,
        /// The version it carries (`none` when it carries none).
        found: String,
    },
}

/// One check in a baseline: the verdict and the weight, nothing volatile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckState {
    /// The verdict.
    pub status: Status,
    /// The weight.
    pub level: Level,
}

/// One provider's checks in a baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderSnapshot {
    /// The provider's display name (the profile's `name`).
    pub provider: String,
    /// The NV spec version it was judged against.
    pub spec_version: String,
    /// Check (`Feature › Scenario`) → state, sorted by check.
    pub checks: BTreeMap<String, CheckState>,
}

impl ProviderSnapshot {
    /// The stable part of `results`.
    pub fn of(results: &RunResults) -> Self {
        Self::from_parts(
            &results.target.provider,
            &results.target.spec_version,
            results.scenarios.iter().map(|s| {
                (
                    s.feature.as_str(),
                    s.name.as_str(),
                    CheckState {
                        status: s.status,
                        level: s.level,
                    },
                )
            }),
        )
    }

    fn from_parts<'a>(
        provider: &str,
        spec_version: &str,
        scenarios: impl Iterator<Item = (&'a str, &'a str, CheckState)>,
    ) -> Self {
        let mut checks = BTreeMap::new();
        for (feature, name, state) in scenarios {
            insert_unique(&mut checks, check_key(feature, name), state);
        }
        Self {
            provider: provider.to_owned(),
            spec_version: spec_version.to_owned(),
            checks,
        }
    }
}

/// The name of a check across runs and providers: `Feature › Scenario`.
pub fn check_key(feature: &str, scenario: &str) -> String {
    format!("{feature} › {scenario}")
}

/// Keys of `scenarios` in order, made unique the way snapshots make them (a second scenario of
/// the same name gets ` #2`, and so on).
pub fn check_keys(scenarios: &[ScenarioResult]) -> Vec<String> {
    let mut seen = BTreeMap::<String, ()>::new();
    scenarios
        .iter()
        .map(|s| {
            let key = unique_key(&seen, check_key(&s.feature, &s.name));
            seen.insert(key.clone(), ());
            key
        })
        .collect()
}

fn unique_key<V>(map: &BTreeMap<String, V>, key: String) -> String {
    if !map.contains_key(&key) {
        return key;
    }
    (2..)
        .map(|n| format!("{key} #{n}"))
        .find(|k| !map.contains_key(k))
        .unwrap_or(key)
}

fn insert_unique<V>(map: &mut BTreeMap<String, V>, key: String, value: V) {
    let key = unique_key(map, key);
    map.insert(key, value);
}

/// A reviewed snapshot of one or more providers' results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Always [`SNAPSHOT_FORMAT`].
    pub format: String,
    /// The results version the snapshot was made from ([`RESULTS_VERSION`]).
    pub results_version: u32,
    /// Provider slug → its checks, sorted by slug.
    pub providers: BTreeMap<String, ProviderSnapshot>,
}

impl Snapshot {
    /// A snapshot of these providers (slug → snapshot).
    pub fn new(providers: BTreeMap<String, ProviderSnapshot>) -> Self {
        Self {
            format: SNAPSHOT_FORMAT.to_owned(),
            results_version: RESULTS_VERSION,
            providers,
        }
    }

    /// Pretty JSON with sorted keys and one check per line, so a change of one check is a
    /// change of one line in a pull request.
    pub fn render(&self) -> String {
        let json = |v: &str| serde_json::Value::from(v).to_string();
        let mut out = String::from("{\n");
        out.push_str(&format!("  \"format\": {},\n", json(&self.format)));
        out.push_str(&format!(
            "  \"results_version\": {},\n",
            self.results_version
        ));
        out.push_str("  \"providers\": {");
        for (i, (slug, p)) in self.providers.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            out.push_str(&format!("    {}: {{\n", json(slug)));
            out.push_str(&format!("      \"provider\": {},\n", json(&p.provider)));
            out.push_str(&format!(
                "      \"spec_version\": {},\n",
                json(&p.spec_version)
            ));
            out.push_str("      \"checks\": {");
            for (j, (check, state)) in p.checks.iter().enumerate() {
                out.push_str(if j == 0 { "\n" } else { ",\n" });
                out.push_str(&format!(
                    "        {}: {{\"level\": {}, \"status\": {}}}",
                    json(check),
                    json(state.level.as_str()),
                    json(state.status.as_str())
                ));
            }
            out.push_str(if p.checks.is_empty() {
                "}\n"
            } else {
                "\n      }\n"
            });
            out.push_str("    }");
        }
        out.push_str(if self.providers.is_empty() {
            "}\n"
        } else {
            "\n  }\n"
        });
        out.push_str("}\n");
        out
    }

    /// Reads a snapshot, a `results.json`, or a report folder (see the module docs). A provider
    /// of a multi-provider report folder that could not run (it has no results) is an error.
    pub fn load(path: &Path) -> Result<Self, BaselineError> {
        Self::load_from(path, false)
    }

    /// [`Snapshot::load`], but a provider of a multi-provider report folder that could not run
    /// is left out (a run compared with it sees that provider as new).
    pub fn load_skipping_providers_without_results(path: &Path) -> Result<Self, BaselineError> {
        Self::load_from(path, true)
    }

    fn load_from(path: &Path, skip_missing: bool) -> Result<Self, BaselineError> {
        if path.is_dir() {
            let matrix = path.join(MATRIX_FILE);
            if matrix.is_file() {
                return Self::from_matrix_dir(path, &matrix, skip_missing);
            }
            let results = path.join(RESULTS_FILE);
            if results.is_file() {
                return Self::load(&results);
            }
            return Err(shape(
                path,
                format!("a report folder with {MATRIX_FILE} or {RESULTS_FILE}"),
                "neither",
            ));
        }
        let value = read_json(path)?;
        if value.get("format").and_then(|f| f.as_str()) == Some(SNAPSHOT_FORMAT) {
            check_version(path, &value)?;
            return serde_json::from_value(value)
                .map_err(|e| shape(path, "an nvcert baseline snapshot", format!("invalid: {e}")));
        }
        let snapshot = results_snapshot(path, value)?;
        let slug = super::matrix::provider_slug(&snapshot.provider);
        Ok(Self::new(BTreeMap::from([(slug, snapshot)])))
    }

    fn from_matrix_dir(
        dir: &Path,
        matrix: &Path,
        skip_missing: bool,
    ) -> Result<Self, BaselineError> {
        let value = read_json(matrix)?;
        check_version(matrix, &value)?;
        let slugs: Vec<String> = value
            .get("providers")
            .and_then(|p| p.as_array())
            .ok_or_else(|| shape(matrix, "a `providers` array", "none"))?
            .iter()
            .filter_map(|p| p.get("slug").and_then(|s| s.as_str()).map(str::to_owned))
            .collect();
        let mut providers = BTreeMap::new();
        for slug in slugs {
            let results = dir.join(&slug).join(RESULTS_FILE);
            if !results.is_file() && skip_missing {
                continue;
            }
            if !results.is_file() {
                return Err(shape(
                    &results,
                    format!("the results of provider {slug} (listed in {MATRIX_FILE})"),
                    "no file: that provider could not run, so it has no results to compare",
                ));
            }
            providers.insert(slug, results_snapshot(&results, read_json(&results)?)?);
        }
        Ok(Self::new(providers))
    }
}

fn shape(path: &Path, expected: impl Into<String>, found: impl Into<String>) -> BaselineError {
    BaselineError::Shape {
        path: path.to_path_buf(),
        expected: expected.into(),
        found: found.into(),
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value, BaselineError> {
    let text = std::fs::read_to_string(path).map_err(|e| BaselineError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| shape(path, "JSON", format!("invalid JSON: {e}")))
}

fn check_version(path: &Path, value: &serde_json::Value) -> Result<(), BaselineError> {
    match value.get("results_version") {
        Some(v) if v.as_u64() == Some(u64::from(RESULTS_VERSION)) => Ok(()),
        other => Err(BaselineError::Version {
            path: path.to_path_buf(),
            found: other.map_or_else(|| "none".to_owned(), ToString::to_string),
        }),
    }
}

/// The parts of a stored `results.json` a baseline needs.
#[derive(Deserialize)]
struct StoredResults {
    target: StoredTarget,
    scenarios: Vec<StoredScenario>,
}

#[derive(Deserialize)]
struct StoredTarget {
    provider: String,
    spec_version: String,
}

#[derive(Deserialize)]
struct StoredScenario {
    feature: String,
    name: String,
    status: Status,
    level: Level,
}

fn results_snapshot(
    path: &Path,
    value: serde_json::Value,
) -> Result<ProviderSnapshot, BaselineError> {
    check_version(path, &value)?;
    let stored: StoredResults = serde_json::from_value(value)
        .map_err(|e| shape(path, "nvcert results", format!("invalid: {e}")))?;
    Ok(ProviderSnapshot::from_parts(
        &stored.target.provider,
        &stored.target.spec_version,
        stored.scenarios.iter().map(|s| {
            (
                s.feature.as_str(),
                s.name.as_str(),
                CheckState {
                    status: s.status,
                    level: s.level,
                },
            )
        }),
    ))
}

/// Whether regressions fail the run (`--baseline-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineMode {
    /// A regression fails the run (exit 1), whatever the check's level.
    #[default]
    Fail,
    /// Changes are reported only.
    Report,
}

/// A check whose status changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    /// `Feature › Scenario`.
    pub check: String,
    /// Its level now.
    pub level: Level,
    /// Status in the baseline.
    pub before: Status,
    /// Status now.
    pub after: Status,
}

/// A check present on one side only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckOnOneSide {
    /// `Feature › Scenario`.
    pub check: String,
    /// Its level on that side.
    pub level: Level,
    /// Its status on that side.
    pub status: Status,
}

/// A check whose level changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LevelChange {
    /// `Feature › Scenario`.
    pub check: String,
    /// Level in the baseline.
    pub before: Level,
    /// Level now.
    pub after: Level,
}

/// One provider's run compared with its baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaselineComparison {
    /// The baseline given (`--baseline`).
    pub against: String,
    /// Whether regressions fail the run.
    pub mode: BaselineMode,
    /// The provider had an entry in the baseline; when not, nothing was compared.
    pub provider_in_baseline: bool,
    /// Nothing changed: same checks, statuses and levels.
    pub equal: bool,
    /// Checks that passed in the baseline and now fail, warn or could not run.
    pub regressions: Vec<StatusChange>,
    /// Checks that failed, warned or could not run in the baseline and now pass.
    pub fixes: Vec<StatusChange>,
    /// Other status changes (e.g. passed → skipped).
    pub changed: Vec<StatusChange>,
    /// Checks run now but not in the baseline.
    pub new: Vec<CheckOnOneSide>,
    /// Checks in the baseline but not run now.
    pub vanished: Vec<CheckOnOneSide>,
    /// Checks whose level changed.
    pub level_changes: Vec<LevelChange>,
}

impl BaselineComparison {
    /// True unless regressions fail this run.
    pub fn passes(&self) -> bool {
        self.mode == BaselineMode::Report || self.regressions.is_empty()
    }
}

/// A loaded baseline and how to judge against it.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Where it came from, as given.
    pub path: PathBuf,
    /// `--baseline-mode`.
    pub mode: BaselineMode,
    /// Its providers.
    pub snapshot: Snapshot,
    /// The run has one provider: when the baseline has one too, they are compared whatever
    /// their slugs.
    pub single_run: bool,
}

impl Baseline {
    /// Reads the baseline at `path` (see [`Snapshot::load`]).
    pub fn load(path: &Path, mode: BaselineMode, single_run: bool) -> Result<Self, BaselineError> {
        Ok(Self {
            path: path.to_path_buf(),
            mode,
            snapshot: Snapshot::load_skipping_providers_without_results(path)?,
            single_run,
        })
    }

    /// The baseline's entry for provider `slug`.
    pub fn provider(&self, slug: &str) -> Option<&ProviderSnapshot> {
        self.snapshot.providers.get(slug).or_else(|| {
            let only = self.snapshot.providers.values().next();
            (self.single_run && self.snapshot.providers.len() == 1)
                .then_some(only)
                .flatten()
        })
    }

    /// Compares `results` with the baseline's entry for its provider.
    pub fn compare(&self, results: &RunResults) -> BaselineComparison {
        let slug = super::matrix::provider_slug(&results.target.provider);
        let now = ProviderSnapshot::of(results);
        compare(
            self.path.display().to_string(),
            self.mode,
            self.provider(&slug),
            &now,
        )
    }
}

/// Passed (or, for REVIEW checks, the automated part passed).
fn is_good(status: Status) -> bool {
    matches!(status, Status::Passed | Status::Review)
}

/// Failed, warned or could not run.
fn is_bad(status: Status) -> bool {
    matches!(status, Status::Failed | Status::Warning | Status::Error)
}

/// What changed from `before` (none: the provider is not in the baseline) to `now`.
pub fn compare(
    against: String,
    mode: BaselineMode,
    before: Option<&ProviderSnapshot>,
    now: &ProviderSnapshot,
) -> BaselineComparison {
    let mut c = BaselineComparison {
        against,
        mode,
        provider_in_baseline: before.is_some(),
        equal: false,
        regressions: Vec::new(),
        fixes: Vec::new(),
        changed: Vec::new(),
        new: Vec::new(),
        vanished: Vec::new(),
        level_changes: Vec::new(),
    };
    let Some(before) = before else {
        return c;
    };
    for (check, was) in &before.checks {
        let Some(is) = now.checks.get(check) else {
            c.vanished.push(CheckOnOneSide {
                check: check.clone(),
                level: was.level,
                status: was.status,
            });
            continue;
        };
        if was.level != is.level {
            c.level_changes.push(LevelChange {
                check: check.clone(),
                before: was.level,
                after: is.level,
            });
        }
        if was.status != is.status {
            let change = StatusChange {
                check: check.clone(),
                level: is.level,
                before: was.status,
                after: is.status,
            };
            if is_good(was.status) && is_bad(is.status) {
                c.regressions.push(change);
            } else if is_bad(was.status) && is_good(is.status) {
                c.fixes.push(change);
            } else {
                c.changed.push(change);
            }
        }
    }
    for (check, is) in &now.checks {
        if !before.checks.contains_key(check) {
            c.new.push(CheckOnOneSide {
                check: check.clone(),
                level: is.level,
                status: is.status,
            });
        }
    }
    c.equal = c.regressions.is_empty()
        && c.fixes.is_empty()
        && c.changed.is_empty()
        && c.new.is_empty()
        && c.vanished.is_empty()
        && c.level_changes.is_empty();
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(checks: &[(&str, Status, Level)]) -> ProviderSnapshot {
        ProviderSnapshot::from_parts(
            "Acme",
            "2.1.0",
            checks
                .iter()
                .map(|(name, status, level)| {
                    (
                        "F",
                        *name,
                        CheckState {
                            status: *status,
                            level: *level,
                        },
                    )
                })
                .collect::<Vec<_>>()
                .into_iter(),
        )
    }

    fn names(changes: &[StatusChange]) -> Vec<&str> {
        changes.iter().map(|c| c.check.as_str()).collect()
    }

    #[test]
    fn classifies_every_kind_of_change() {
        use Level::*;
        use Status::*;
        let before = snapshot(&[
            ("regressed", Passed, Must),
            ("should regressed", Passed, Should),
            ("errored", Passed, Must),
            ("fixed", Failed, Must),
            ("now skipped", Passed, Must),
            ("gone", Passed, Must),
            ("reweighed", Passed, Should),
            ("same", Passed, Must),
        ]);
        let now = snapshot(&[
            ("regressed", Failed, Must),
            ("should regressed", Warning, Should),
            ("errored", Error, Must),
            ("fixed", Passed, Must),
            ("now skipped", Skipped, Must),
            ("added", Passed, Must),
            ("reweighed", Passed, Must),
            ("same", Passed, Must),
        ]);
        let c = compare("b".into(), BaselineMode::Fail, Some(&before), &now);
        assert_eq!(
            names(&c.regressions),
            ["F › errored", "F › regressed", "F › should regressed"]
        );
        assert_eq!(names(&c.fixes), ["F › fixed"]);
        assert_eq!(names(&c.changed), ["F › now skipped"]);
        assert_eq!(c.new.len(), 1);
        assert_eq!(c.new[0].check, "F › added");
        assert_eq!(c.vanished.len(), 1);
        assert_eq!(c.vanished[0].check, "F › gone");
        assert_eq!(c.level_changes.len(), 1);
        assert_eq!(c.level_changes[0].check, "F › reweighed");
        assert!(!c.equal);
        assert!(!c.passes(), "a regression fails the run in fail mode");
        let reported = compare("b".into(), BaselineMode::Report, Some(&before), &now);
        assert!(reported.passes(), "report mode only reports");
    }

    #[test]
    fn same_checks_compare_equal_and_pass() {
        let s = snapshot(&[("a", Status::Passed, Level::Must)]);
        let c = compare("b".into(), BaselineMode::Fail, Some(&s), &s.clone());
        assert!(c.equal && c.passes());
        let absent = compare("b".into(), BaselineMode::Fail, None, &s);
        assert!(!absent.provider_in_baseline && absent.new.is_empty());
    }

    #[test]
    fn duplicate_names_get_numbered_keys() {
        let s = snapshot(&[
            ("a", Status::Passed, Level::Must),
            ("a", Status::Failed, Level::Must),
        ]);
        let keys: Vec<&String> = s.checks.keys().collect();
        assert_eq!(keys, ["F › a", "F › a #2"]);
    }

    #[test]
    fn snapshot_renders_one_check_per_line_and_reads_back() {
        let snap = Snapshot::new(BTreeMap::from([(
            "acme".to_owned(),
            snapshot(&[
                ("b \"quoted\"", Status::Failed, Level::Should),
                ("a", Status::Passed, Level::Must),
            ]),
        )]));
        let text = snap.render();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&r#"        "F › a": {"level": "MUST", "status": "passed"},"#));
        assert!(
            lines.contains(
                &r#"        "F › b \"quoted\"": {"level": "SHOULD", "status": "failed"}"#
            )
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("baseline.json");
        std::fs::write(&path, &text).expect("write");
        assert_eq!(Snapshot::load(&path).expect("reads back"), snap);
    }

    #[test]
    fn another_results_version_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("results.json");
        std::fs::write(
            &path,
            r#"{"results_version": 999, "target": {"provider": "x", "spec_version": "2.1.0"}, "scenarios": []}"#,
        )
        .expect("write");
        let err = Snapshot::load(&path).expect_err("refused").to_string();
        assert!(err.contains("results version 999"), "{err}");
        std::fs::write(&path, r#"{"target": {}, "scenarios": []}"#).expect("write");
        let err = Snapshot::load(&path).expect_err("refused").to_string();
        assert!(err.contains("results version none"), "{err}");
    }

    #[test]
    fn a_provider_without_results_is_refused_by_accept_and_left_out_by_a_comparison() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(MATRIX_FILE),
            r#"{"results_version": 1, "providers": [{"slug": "ran"}, {"slug": "could-not"}]}"#,
        )
        .expect("write");
        std::fs::create_dir(dir.path().join("ran")).expect("mkdir");
        std::fs::write(
            dir.path().join("ran").join(RESULTS_FILE),
            r#"{"results_version": 1, "target": {"provider": "Ran", "spec_version": "2.1.0"},
                "scenarios": [{"feature": "F", "name": "a", "status": "passed", "level": "MUST"}]}"#,
        )
        .expect("write");
        let err = Snapshot::load(dir.path()).expect_err("refused").to_string();
        assert!(err.contains("could-not"), "{err}");
        let lenient = Snapshot::load_skipping_providers_without_results(dir.path()).expect("loads");
        assert_eq!(lenient.providers.keys().collect::<Vec<_>>(), ["ran"]);
        assert_eq!(lenient.providers["ran"].checks.len(), 1);
    }
}
