//! Verdicts: pure functions over what the flows recorded (exchanges, token responses, ID tokens,
//! device-leg outcomes) that say whether a rule held. No I/O, no state: the suite's steps drive
//! the flows, call a check, and map a [`Finding`] to a failed step.
//!
//! Each family has its file; the rule a function judges, and where it is written, is in its doc.
//! Conformance to the OpenAPI document itself is the spec engine's ([`crate::spec`]); the
//! [`contract`] check turns its violations into a finding.

pub mod aggregator;
pub mod authorization;
pub mod ciba;
pub mod compat;
pub mod contract;
pub mod discovery;
pub mod id_token;
pub mod phonecheck;
pub mod response;
pub mod token;

use std::fmt;

/// A rule that did not hold: what was judged, what the rule expects, what the provider did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was judged, e.g. `token response header Cache-Control`.
    pub subject: String,
    /// What the rule expects.
    pub expected: String,
    /// What was found instead.
    pub found: String,
}

impl Finding {
    /// A finding about `subject`.
    pub fn new(
        subject: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self {
            subject: subject.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, found {}",
            self.subject, self.expected, self.found
        )
    }
}

/// The verdict of one check.
pub type Verdict = Result<(), Finding>;

/// The answer's Content-Type is `application/json` (parameters such as `charset` allowed);
/// `subject` names the answer in the finding.
pub(crate) fn served_as_json(exchange: &crate::exchange::Exchange, subject: &str) -> Verdict {
    let found = exchange.response.header("content-type");
    match found {
        Some(v) if response::media_type(v) == "application/json" => Ok(()),
        _ => Err(Finding::new(
            format!("{subject} header Content-Type"),
            "\"application/json\"",
            found.map_or("no such header".into(), |v| format!("{v:?}")),
        )),
    }
}
