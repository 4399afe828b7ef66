//! Fault tables: each fault switch of a provider, turned on alone, must make exactly the
//! scenarios its row names not pass — no fewer (a check that cannot fail) and no more (a check
//! that fails a provider keeping its rule). One runner for every provider the tests fault:
//! tests/faults.rs (the reference NV provider), tests/dialect.rs (the same provider playing a
//! dialect), tests/phonecheck.rs (the PhoneCheck provider), and any other with fault switches
//! (an aggregator, say).
//!
//! # Use
//!
//! ```ignore
//! use common::fault_table::{self, Caught, FaultTable};
//!
//! /// fault → the scenario tags it must make not pass (`&[]`: it breaks no rule).
//! #[rustfmt::skip]
//! const TABLE: &[fault_table::Row] = &[
//!     ("state-truncated", &["oidc_long_state"]),
//!     ("api-delay-100ms", &[]),
//! ];
//!
//! #[tokio::test]
//! async fn each_fault_fails_exactly_its_checks() {
//!     FaultTable { rows: TABLE, caught: Caught::NotPassed, at_once: 4 }
//!         // Every fault to run, with the name its row goes by …
//!         .check(Fault::ALL.iter().map(|f| (f.name(), *f)), |fault| async move {
//!             // … and how to run the suite against a provider with that one fault on:
//!             // start the provider, run `nvcert run`, stop the provider; results.json.
//!             run_suite_against(&[fault]).await
//!         })
//!         .await;
//! }
//! ```
//!
//! [`FaultTable::check`] runs the faults `at_once` at a time (most of a run is waiting for
//! short-lived codes and tokens to expire), reads each run's scenarios by their own tag
//! ([`own_tag`]), and fails naming every fault whose caught set differs from its row, with
//! both sets and, for each scenario no row expects, how it ended (status and first message: a
//! timeout under load reads differently from a broken flow). [`Caught`] says which statuses
//! count: `NotPassed` where every scenario runs without a fault, `NotPassedNorSkipped` where
//! some are skipped by design (a dialect). A fault run without a row, or a row naming no fault that ran, fails it too, so a
//! new fault switch cannot go unchecked and a misspelt row cannot pass unnoticed.
//!
//! [`FaultTable::assert_nothing_caught`] serves the run without a fault ("everything passes");
//! [`tags_with`] and [`FaultTable::caught_in`] other assertions on results.json.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use futures::StreamExt as _;
use serde_json::Value;

/// A row: a fault's name and the tags of the scenarios it must make not pass.
pub type Row = (&'static str, &'static [&'static str]);

/// Which scenario statuses count as a fault being caught.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caught {
    /// Any status but `passed` (failed, warning for SHOULD checks, error, skipped, …): every
    /// scenario is expected to run and pass without a fault.
    NotPassed,
    /// Any status but `passed` and `skipped`: for runs where some scenarios are skipped by
    /// design (a dialect without discovery, say), with or without a fault.
    NotPassedNorSkipped,
}

impl Caught {
    fn counts(self, status: &str) -> bool {
        match self {
            Self::NotPassed => status != "passed",
            Self::NotPassedNorSkipped => status != "passed" && status != "skipped",
        }
    }
}

/// A fault table and how to read it (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct FaultTable {
    /// fault name → scenario tags it must make not pass.
    pub rows: &'static [Row],
    /// Which statuses count as caught.
    pub caught: Caught,
    /// How many fault runs overlap.
    pub at_once: usize,
}

impl FaultTable {
    /// Runs `run(fault)` for each of `faults` (named as their rows name them) and asserts that
    /// the scenarios each run's results.json reports caught are exactly its row's.
    #[allow(
        clippy::print_stderr,
        reason = "a panic hook installed by concurrent suite runs may swallow the assertion message"
    )]
    pub async fn check<F, R>(
        &self,
        faults: impl IntoIterator<Item = (&'static str, F)>,
        run: impl Fn(F) -> R,
    ) where
        R: Future<Output = Value>,
    {
        let faults: Vec<(&'static str, F)> = faults.into_iter().collect();
        // Per fault: the caught tags, each with how its scenario ended (results.json itself is
        // not kept: a full run's is megabytes).
        let runs: Vec<(&str, BTreeMap<String, String>)> = futures::stream::iter(faults)
            .map(|(name, fault)| {
                let results = run(fault);
                async move {
                    let results = results.await;
                    let caught = self.caught_in(&results);
                    (
                        name,
                        caught
                            .into_iter()
                            .map(|tag| {
                                let how = outcome(&results, &tag);
                                (tag, how)
                            })
                            .collect(),
                    )
                }
            })
            .buffered(self.at_once.max(1))
            .collect()
            .await;
        let observed: Vec<(&str, BTreeSet<String>)> = runs
            .iter()
            .map(|(name, caught)| (*name, caught.keys().cloned().collect()))
            .collect();
        let mut report = self.differences(&observed);
        if !report.is_empty() {
            // Why the scenarios no row expects did not pass (a flow broken, a timeout …).
            for (name, caught) in &runs {
                let expected = self.row(name);
                for (tag, how) in caught
                    .iter()
                    .filter(|(t, _)| !expected.contains(t.as_str()))
                {
                    report.push_str(&format!("\n    {name} → {tag}: {how}"));
                }
            }
            eprintln!("fault table: {report}");
        }
        assert!(report.is_empty(), "fault table: {report}");
    }

    /// The tags the row of the fault `name` names (none without a row).
    fn row(&self, name: &str) -> BTreeSet<&'static str> {
        self.rows
            .iter()
            .filter(|(row, _)| *row == name)
            .flat_map(|(_, tags)| tags.iter().copied())
            .collect()
    }

    /// Asserts that `results` (a run without a fault) has no scenario whose status counts as
    /// caught, naming them and the failure messages when it has.
    pub fn assert_nothing_caught(&self, results: &Value) {
        let caught = self.caught_in(results);
        assert!(
            caught.is_empty(),
            "without a fault: {caught:?}\n{}",
            super::all_failures(results)
        );
    }

    /// The own tags of the scenarios of `results` (results.json) whose status counts as caught.
    pub fn caught_in(&self, results: &Value) -> BTreeSet<String> {
        tags_with(results, |status| self.caught.counts(status))
    }

    /// What differs between the rows and `observed` (fault name → caught tags), one line each;
    /// empty when they agree.
    pub fn differences(&self, observed: &[(&str, BTreeSet<String>)]) -> String {
        let rows: BTreeMap<&str, BTreeSet<String>> = self
            .rows
            .iter()
            .map(|(name, tags)| (*name, tags.iter().map(|t| (*t).to_owned()).collect()))
            .collect();
        let mut report = String::new();
        for (name, caught) in observed {
            match rows.get(name) {
                None => report.push_str(&format!(
                    "\n    {name}: no row in the table (give it one; `&[]` if it breaks no rule); \
                     observed {caught:?}"
                )),
                Some(expected) if expected != caught => report.push_str(&format!(
                    "\n    {name}: expected {expected:?}, observed {caught:?}"
                )),
                Some(_) => {}
            }
        }
        for name in rows.keys() {
            if !observed.iter().any(|(ran, _)| ran == name) {
                report.push_str(&format!("\n    {name}: a row, but no such fault ran"));
            }
        }
        if report.is_empty() {
            report
        } else {
            format!("faults whose caught scenarios differ from the table:{report}")
        }
    }
}

/// Tags that say how a scenario is run (level, version and rule-set gates), not which check
/// it is.
fn is_meta(tag: &str) -> bool {
    matches!(tag, "MUST" | "SHOULD" | "REVIEW")
        || tag.starts_with("since:")
        || tag.starts_with("until:")
        || tag.starts_with("rules_")
}

/// How the scenario tagged `tag` ended in `results`: its status and first message.
fn outcome(results: &Value, tag: &str) -> String {
    let Some(scenario) = results["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| own_tag(s).as_deref() == Some(tag))
    else {
        return "not in the results".to_owned();
    };
    let message = scenario["failures"][0]
        .as_str()
        .or_else(|| scenario["error"].as_str())
        .or_else(|| scenario["skip_reason"].as_str())
        .unwrap_or_default();
    let first_line = message.lines().next().unwrap_or_default();
    format!(
        "{}: {first_line}",
        scenario["status"].as_str().unwrap_or("?")
    )
}

/// A results.json scenario's own tag: the last one that is not a level or a gate (feature tags
/// come first).
pub fn own_tag(scenario: &Value) -> Option<String> {
    scenario["tags"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .rfind(|t| !is_meta(t))
        .map(str::to_owned)
}

/// The own tags of the scenarios of `results` (results.json) whose status satisfies `status`.
pub fn tags_with(results: &Value, status: impl Fn(&str) -> bool) -> BTreeSet<String> {
    results["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| status(s["status"].as_str().unwrap_or_default()))
        .filter_map(own_tag)
        .collect()
}
