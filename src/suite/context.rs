//! What every scenario of a run shares: the flows of the profile, the spec it is judged by, and
//! the record of which operation × status pairs the run exercised.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use crate::flow::{Flow, RequestObjectAudience};
use crate::results::{Coverage, Lint};
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
    /// Whether the provider accepts a valid signed request object in this run, and with which
    /// `aud`; else why not. Set once, by whichever scenario asks first: the refusal checks of
    /// request objects count only when it is `Ok`.
    pub request_object_accepted: tokio::sync::OnceCell<Result<RequestObjectAudience, String>>,
}

impl RunContext {
    /// A context for `flow` judged by `spec`.
    pub fn new(flow: Arc<Flow>, spec: Arc<SpecDocument>) -> Self {
        Self {
            flow,
            spec,
            observed: Mutex::default(),
            lint: Mutex::default(),
            request_object_accepted: tokio::sync::OnceCell::new(),
        }
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
