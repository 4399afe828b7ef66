//! A cucumber writer that prints nothing and turns events into [`ScenarioResult`]s.

use std::collections::HashMap;
use std::time::Instant;

use cucumber::event::{self, Cucumber, Feature, Rule, Scenario, Step, StepError};
use cucumber::gherkin;
use cucumber::{Event, parser};

use super::world::{NvWorld, ScenarioKey as Key, StepFailure, WarningStore};
use crate::results::{ExpectedFailures, Level, Outcome, ScenarioResult, Status};

#[derive(Default)]
struct Open {
    started: Option<Instant>,
    failures: Vec<String>,
    /// Why the scenario could not run to a verdict (the first such step).
    error: Option<String>,
    skip_reason: Option<String>,
    /// `error` and `skip_reason` without the step's text.
    error_cause: Option<String>,
    skip_cause: Option<String>,
    undefined: Vec<String>,
    steps: usize,
}

/// Collects scenario outcomes; read them with [`Collector::finish`].
#[derive(Default)]
pub struct Collector {
    open: HashMap<Key, Open>,
    done: Vec<(Key, ScenarioResult)>,
    errors: Vec<String>,
    expected: ExpectedFailures,
    warnings: WarningStore,
}

impl Collector {
    /// A collector judging failures against the known deviations `expected`, reading the
    /// warnings steps record in `warnings`.
    pub fn new(expected: ExpectedFailures, warnings: WarningStore) -> Self {
        Self {
            expected,
            warnings,
            ..Self::default()
        }
    }

    /// Results sorted by feature file and line, and run-level errors.
    pub fn finish(mut self) -> (Vec<ScenarioResult>, Vec<String>) {
        self.done
            .sort_by(|a, b| (&a.0.0, a.0.2).cmp(&(&b.0.0, b.0.2)));
        (self.done.into_iter().map(|(_, r)| r).collect(), self.errors)
    }

    fn scenario(
        &mut self,
        feature: &gherkin::Feature,
        scenario: &gherkin::Scenario,
        ev: Scenario<NvWorld>,
    ) {
        let key: Key = (
            feature.path.clone(),
            scenario.name.clone(),
            scenario.position.line,
        );
        match ev {
            Scenario::Started => {
                self.open.insert(
                    key,
                    Open {
                        started: Some(Instant::now()),
                        ..Open::default()
                    },
                );
            }
            Scenario::Step(step, ev) | Scenario::Background(step, ev) => {
                let open = self.open.entry(key).or_default();
                if matches!(ev, Step::Started) {
                    open.steps += 1;
                }
                match ev {
                    Step::Failed(_, _, world, err) => {
                        let text = step_text(&step);
                        match step_failure(&err) {
                            StepFailure::Check(m) => {
                                let at = concerning(world.as_deref(), &m);
                                open.failures.push(format!("{text}: {m}{at}"));
                            }
                            StepFailure::CouldNotRun(m) => {
                                if open.error.is_none() {
                                    open.error = Some(format!("{text}: {m}"));
                                    open.error_cause = Some(m);
                                }
                            }
                            StepFailure::Skip(m) => {
                                if open.skip_reason.is_none() {
                                    open.skip_reason = Some(format!("{text}: {m}"));
                                    open.skip_cause = Some(m);
                                }
                            }
                        }
                    }
                    Step::Skipped
                        if open.skip_reason.is_none()
                            && open.error.is_none()
                            && open.failures.is_empty() =>
                    {
                        // cucumber skips a step no definition matches (and every step after a failure,
                        // which the guard above leaves alone).
                        open.skip_reason = Some(format!("undefined step: {}", step_text(&step)));
                        open.undefined.push(step_text(&step));
                    }
                    _ => {}
                }
            }
            Scenario::Hook(_, event::Hook::Failed(_, info)) => {
                self.open
                    .entry(key)
                    .or_default()
                    .error
                    .get_or_insert_with(|| format!("hook failed: {}", panic_text(&info)));
            }
            Scenario::Finished => {
                let mut open = self.open.remove(&key).unwrap_or_default();
                let warnings = self
                    .warnings
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&key)
                    .unwrap_or_default();
                if open.steps == 0 && open.failures.is_empty() && open.error.is_none() {
                    // Nothing was checked, so nothing passed.
                    open.skip_reason
                        .get_or_insert_with(|| "the scenario has no steps".to_owned());
                }
                let outcome = if !open.failures.is_empty() {
                    Outcome::Failed
                } else if open.error.is_some() {
                    Outcome::Errored
                } else if open.skip_reason.is_some() {
                    Outcome::Skipped
                } else if !warnings.is_empty() {
                    Outcome::Warned
                } else {
                    Outcome::Passed
                };
                // Warnings read like failures of SHOULD checks; a scenario that did not run to its
                // end has none.
                if !matches!(outcome, Outcome::Skipped | Outcome::Errored) {
                    open.failures.extend(warnings);
                }
                // Effective tags: the feature's, then the scenario's own.
                let tags: Vec<String> =
                    feature.tags.iter().chain(&scenario.tags).cloned().collect();
                let level = Level::from_tags(&tags);
                let listed = self.expected.lists(&feature.name, &scenario.name, &tags);
                let status = Status::judge(outcome, level, listed);
                let cause = match status {
                    Status::Skipped => open.skip_cause.or_else(|| open.skip_reason.clone()),
                    Status::Error => open.error_cause.or_else(|| open.error.clone()),
                    _ => None,
                };
                let result = ScenarioResult {
                    cause,
                    feature: feature.name.clone(),
                    name: scenario.name.clone(),
                    tags,
                    status,
                    level,
                    citation: described(scenario, "Source:"),
                    failures: open.failures,
                    skip_reason: if status == Status::Skipped {
                        open.skip_reason
                    } else {
                        None
                    },
                    error: if status == Status::Error {
                        open.error
                    } else {
                        None
                    },
                    review: (level == Level::Review)
                        .then(|| described(scenario, "Review:"))
                        .flatten(),
                    unexpectedly_passed: listed && outcome == Outcome::Passed,
                    undefined_steps: open.undefined,
                    duration_ms: open.started.map_or(0, |s| {
                        u64::try_from(s.elapsed().as_millis()).unwrap_or(u64::MAX)
                    }),
                };
                self.done.push((key, result));
            }
            _ => {}
        }
    }
}

/// The scenario description's lines starting with `prefix`, joined (e.g. its `Source:` lines).
fn described(scenario: &gherkin::Scenario, prefix: &str) -> Option<String> {
    let lines: Vec<&str> = scenario
        .description
        .as_deref()
        .unwrap_or("")
        .lines()
        .filter_map(|l| l.trim().strip_prefix(prefix))
        .map(str::trim)
        .collect();
    (!lines.is_empty()).then(|| lines.join("; "))
}

fn step_text(step: &gherkin::Step) -> String {
    format!("{}{}", step.keyword, step.value)
}

/// The typed failure a step unwound with ([`crate::suite::world::StepOutcome`]); anything else
/// (no matching definition, an ambiguous one, a panic in nvcert's own code) means the step could
/// not run.
/// ` (answer to METHOD URL)` naming the API exchange a failed check concerns, when the scenario
/// made one and the message names no URL itself (the query is left out: it may carry secrets).
fn concerning(world: Option<&NvWorld>, message: &str) -> String {
    let Some((_, exchange)) = world.and_then(|w| w.api.last.as_ref()) else {
        return String::new();
    };
    if message.contains("://") {
        return String::new();
    }
    let mut url = exchange.request.url.clone();
    url.set_query(None);
    url.set_fragment(None);
    format!(" (answer to {} {url})", exchange.request.method)
}

fn step_failure(err: &StepError) -> StepFailure {
    match err {
        StepError::NotFound => StepFailure::CouldNotRun("no step definition matches".to_owned()),
        StepError::AmbiguousMatch(e) => StepFailure::CouldNotRun(format!("ambiguous step: {e}")),
        StepError::Panic(info) => {
            info.downcast_ref::<StepFailure>()
                .cloned()
                .unwrap_or_else(|| {
                    StepFailure::CouldNotRun(format!("internal error: {}", panic_text(info)))
                })
        }
    }
}

fn panic_text(info: &event::Info) -> String {
    info.downcast_ref::<String>()
        .cloned()
        .or_else(|| info.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "step panicked".to_owned())
}

impl cucumber::Writer<NvWorld> for Collector {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(
        &mut self,
        event: parser::Result<Event<Cucumber<NvWorld>>>,
        _: &Self::Cli,
    ) {
        let event = match event {
            Ok(e) => e.value,
            Err(e) => {
                self.errors.push(e.to_string());
                return;
            }
        };
        if let Cucumber::Feature(feature, ev) = event {
            match ev {
                Feature::Scenario(sc, retryable) => self.scenario(&feature, &sc, retryable.event),
                Feature::Rule(_, Rule::Scenario(sc, retryable)) => {
                    self.scenario(&feature, &sc, retryable.event)
                }
                _ => {}
            }
        }
    }
}

// Events are keyed by scenario, so their interleaving under concurrency does not matter.
impl cucumber::writer::Normalized for Collector {}
