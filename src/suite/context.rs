//! What every scenario of a run shares: the flows of the profile, the spec it is judged by, and
//! the record of which operation × status pairs the run exercised.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use crate::checks::compat::{self, Difference};
use crate::flow::{Flow, RequestObjectAudience};
use crate::results::{Compatibility, CompatibilityDifference, Coverage, Level, Lint};
use crate::spec::SpecDocument;

/// Shared context of a run. Read-only but for the coverage record, which only grows.
#[derive(Debug)]
pub struct RunContext {
    /// Flows of the provider under test.
    pub flow: Arc<Flow>,
    /// The NV spec the provider is judged against.
    pub spec: Arc<SpecDocument>,
    observed: Mutex<BTreeSet<(String, u16)>>,
    lint: Mutex<Vec<Lint>>,
    comparison: Option<Comparison>,
    /// Whether the provider accepts a valid signed request object in this run, and with which
    /// `aud`; else why not. Set once, by whichever scenario asks first: the refusal checks of
    /// request objects count only when it is `Ok`.
    pub request_object_accepted: tokio::sync::OnceCell<Result<RequestObjectAudience, String>>,
}

/// The CAMARA document the exchanges are also judged by, and the differences met so far.
#[derive(Debug)]
struct Comparison {
    label: String,
    camara: Arc<SpecDocument>,
    found: Mutex<Vec<(Difference, Vec<String>)>>,
}

impl RunContext {
    /// A context for `flow` judged by `spec`.
    pub fn new(flow: Arc<Flow>, spec: Arc<SpecDocument>) -> Self {
        Self {
            flow,
            spec,
            observed: Mutex::default(),
            lint: Mutex::default(),
            comparison: None,
            request_object_accepted: tokio::sync::OnceCell::new(),
        }
    }

    /// Also judges every NV exchange against `camara` (`label` such as `camara:0.3.1`),
    /// starting with the differences of the two documents themselves.
    /// `facts` are differences known beforehand (a dialect's flow facts).
    pub fn compared_with(
        mut self,
        label: String,
        camara: Arc<SpecDocument>,
        facts: Vec<Difference>,
    ) -> Self {
        let found = facts
            .into_iter()
            .chain(compat::document_differences(&self.spec, &camara))
            .map(|d| (d, Vec::new()))
            .collect();
        self.comparison = Some(Comparison {
            label,
            camara,
            found: Mutex::new(found),
        });
        self
    }

    /// Records the CAMARA differences of one exchange of `operation_id` (sent with
    /// `request_body`), each once.
    pub fn compare(
        &self,
        operation_id: &str,
        request_body: Option<&serde_json::Value>,
        exchange: &crate::exchange::Exchange,
    ) {
        let Some(c) = &self.comparison else { return };
        let new = compat::exchange_differences(&c.camara, operation_id, request_body, exchange);
        let mut found = c.found.lock().unwrap_or_else(|e| e.into_inner());
        for d in new {
            match found.iter_mut().find(|(seen, _)| seen.key == d.key) {
                Some((_, ops)) if !ops.iter().any(|o| o == operation_id) => {
                    ops.push(operation_id.to_owned());
                }
                Some(_) => {}
                None => found.push((d, vec![operation_id.to_owned()])),
            }
        }
    }

    /// The compatibility report, when a comparison was asked for.
    pub fn compatibility(&self) -> Option<Compatibility> {
        let c = self.comparison.as_ref()?;
        let found = c.found.lock().unwrap_or_else(|e| e.into_inner());
        let mut differences: Vec<CompatibilityDifference> = found
            .iter()
            .map(|(d, ops)| {
                let mut operations = ops.clone();
                operations.sort();
                CompatibilityDifference {
                    level: Level::Review,
                    rule: d.rule.clone(),
                    message: d.message.clone(),
                    operations,
                }
            })
            .collect();
        // Scenarios run concurrently: a stable order (the documents' own differences first).
        differences.sort_by(|a, b| {
            (!a.operations.is_empty(), &a.rule, &a.message).cmp(&(
                !b.operations.is_empty(),
                &b.rule,
                &b.message,
            ))
        });
        Some(Compatibility {
            compared_with: c.label.clone(),
            document: c.camara.origin().to_owned(),
            differences,
        })
    }

    /// Records the lint findings of the run's feature files.
    pub fn record_lint(&self, findings: Vec<Lint>) {
        self.lint
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(findings);
    }

    /// The lint findings of the run's feature files, in file and line order.
    pub fn lint(&self) -> Vec<Lint> {
        self.lint.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records that `operation` answered `status`.
    pub fn observe(&self, operation: &str, status: u16) {
        self.observed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((operation.to_owned(), status));
    }

    /// Every documented operation × status with whether it was seen, then statuses seen but not documented.
    pub fn coverage(&self) -> Vec<Coverage> {
        let observed = self
            .observed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut out = Vec::new();
        for op in self.spec.operations() {
            for &status in &op.documented_statuses {
                let exercised = observed.contains(&(op.operation_id.clone(), status));
                out.push(Coverage {
                    operation: op.operation_id.clone(),
                    status,
                    documented: true,
                    exercised,
                });
            }
        }
        for (operation, status) in observed {
            let documented = self
                .spec
                .operation(&operation)
                .is_some_and(|o| o.documented_statuses.contains(&status));
            if !documented {
                out.push(Coverage {
                    operation,
                    status,
                    documented: false,
                    exercised: true,
                });
            }
        }
        out
    }
}
