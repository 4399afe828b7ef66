//! `--threshold` expressions: pass/fail rules over a run's summary.
//!
//! ```text
//! [TRANSACTION.]METRIC OP VALUE[UNIT]
//!   verify.p95<50ms     token.rps>500     errors<0.1%     journey steps: authorize.p99<=200ms
//! ```
//!
//! | metric | per transaction | whole run | value |
//! |---|---|---|---|
//! | `p50`, `p95`, `p99` | yes | no | a time with its unit: `ms`, `s`, `us` (or `µs`) |
//! | `rps` | yes | yes (sum) | requests per second, optionally written `/s` |
//! | `errors` | yes | yes | failed requests as a percentage, written with `%` |
//! | `failures`, `requests` | yes | yes | a count |
//!
//! OP is `<`, `<=`, `>` or `>=`. A rule over a transaction with no requests fails (there is
//! nothing to show it holds).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::summary::{LoadSummary, TransactionSummary};

/// A parsed threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The expression as given (trimmed), quoted back in reports.
    pub expression: String,
    /// The transaction it is about, or `None` for the whole run.
    pub transaction: Option<String>,
    /// What is measured.
    pub metric: Metric,
    /// How the observed value must compare.
    pub op: Op,
    /// The bound, in the metric's unit ([`Metric::unit`]).
    pub value: f64,
}

/// What a threshold measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Median latency.
    P50,
    /// 95th percentile latency.
    P95,
    /// 99th percentile latency.
    P99,
    /// Requests per second (successful or not).
    Rps,
    /// Failed requests as a percentage of requests.
    Errors,
    /// Number of failed requests.
    Failures,
    /// Number of requests.
    Requests,
}

const METRICS: &str = "p50, p95, p99, rps, errors, failures or requests";

impl Metric {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "p50" => Self::P50,
            "p95" => Self::P95,
            "p99" => Self::P99,
            "rps" => Self::Rps,
            "errors" => Self::Errors,
            "failures" => Self::Failures,
            "requests" => Self::Requests,
            _ => return None,
        })
    }

    /// The unit of values and observations.
    pub fn unit(self) -> &'static str {
        match self {
            Self::P50 | Self::P95 | Self::P99 => "ms",
            Self::Rps => "req/s",
            Self::Errors => "%",
            Self::Failures | Self::Requests => "requests",
        }
    }

    fn is_latency(self) -> bool {
        matches!(self, Self::P50 | Self::P95 | Self::P99)
    }

    /// `text` (after the operator) as a value in [`Metric::unit`].
    fn parse_value(self, text: &str) -> Result<f64, String> {
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = (&text[..split], text[split..].trim());
        let n: f64 = number
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite())
            .ok_or_else(|| format!("expected a number after the comparison, found {text:?}"))?;
        match (self, unit) {
            (Self::P50 | Self::P95 | Self::P99, "ms") => Ok(n),
            (Self::P50 | Self::P95 | Self::P99, "s") => Ok(n * 1000.0),
            (Self::P50 | Self::P95 | Self::P99, "us" | "µs") => Ok(n / 1000.0),
            (Self::P50 | Self::P95 | Self::P99, _) => Err(format!(
                "a latency needs a unit (ms, s or us), e.g. 50ms; found {text:?}"
            )),
            (Self::Rps, "" | "/s") => Ok(n),
            (Self::Rps, _) => Err(format!(
                "rps is a number of requests per second, e.g. 500; found {text:?}"
            )),
            (Self::Errors, "%") => Ok(n),
            (Self::Errors, _) => Err(format!(
                "errors is a percentage written with %, e.g. 0.1%; found {text:?}"
            )),
            (Self::Failures | Self::Requests, "") if n.fract() == 0.0 => Ok(n),
            (Self::Failures | Self::Requests, _) => Err(format!(
                "expected a whole number of requests, found {text:?}"
            )),
        }
    }
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    fn holds(self, observed: f64, bound: f64) -> bool {
        match self {
            Self::Lt => observed < bound,
            Self::Le => observed <= bound,
            Self::Gt => observed > bound,
            Self::Ge => observed >= bound,
        }
    }
}

/// A threshold that cannot be used: a usage error (exit code 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ThresholdError {
    /// The expression does not parse.
    #[error("threshold {expression:?}: {reason}")]
    Invalid {
        /// The expression as given.
        expression: String,
        /// What is wrong, and what was expected.
        reason: String,
    },
    /// The expression names a transaction the scenario does not run.
    #[error(
        "threshold {expression:?}: scenario {scenario} has no transaction {name:?} (it has: {known})"
    )]
    UnknownTransaction {
        /// The expression as given.
        expression: String,
        /// The unknown name.
        name: String,
        /// The scenario of the run.
        scenario: String,
        /// The transactions it has, comma-separated.
        known: String,
    },
}

const SHAPE: &str =
    "expected [TRANSACTION.]METRIC OP VALUE, e.g. verify.p95<50ms, token.rps>500 or errors<0.1%";

impl FromStr for Threshold {
    type Err = ThresholdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let expression = text.trim().to_owned();
        let invalid = |reason: String| ThresholdError::Invalid {
            expression: expression.clone(),
            reason,
        };
        let Some(at) = expression.find(['<', '>']) else {
            return Err(invalid(format!("{SHAPE}; found no <, <=, > or >=")));
        };
        let rest = &expression[at..];
        let (op, len) = match (rest.starts_with('<'), rest[1..].starts_with('=')) {
            (true, true) => (Op::Le, 2),
            (true, false) => (Op::Lt, 1),
            (false, true) => (Op::Ge, 2),
            (false, false) => (Op::Gt, 1),
        };
        let left = expression[..at].trim();
        let right = expression[at + len..].trim();
        let (transaction, metric_name) = match left.rsplit_once('.') {
            Some((name, metric)) => (Some(name.trim()), metric.trim()),
            None => (None, left),
        };
        if let Some(name) = transaction
            && (name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        {
            return Err(invalid(format!("{SHAPE}; found transaction name {name:?}")));
        }
        let metric = Metric::parse(metric_name).ok_or_else(|| {
            invalid(format!(
                "unknown metric {metric_name:?}: expected {METRICS}"
            ))
        })?;
        if transaction.is_none() && metric.is_latency() {
            return Err(invalid(format!(
                "{metric_name} is per transaction: name one, e.g. verify.{metric_name}<50ms"
            )));
        }
        let value = metric.parse_value(right).map_err(invalid)?;
        Ok(Self {
            transaction: transaction.map(str::to_owned),
            metric,
            op,
            value,
            expression,
        })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expression)
    }
}

/// How a threshold fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdOutcome {
    /// The expression as given.
    pub expression: String,
    /// The observed value in `unit`; `None` when there was nothing to observe (no requests).
    pub observed: Option<f64>,
    /// Unit of `observed` (`ms`, `req/s`, `%`, `requests`).
    pub unit: &'static str,
    /// Whether the threshold held; `false` also when it was not judged (see `verdict`).
    pub passed: bool,
    /// `passed`, `failed`, or `not judged` (the run was interrupted: a partial run shows
    /// nothing about the rule).
    pub verdict: Verdict,
}

/// A threshold's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// The rule held.
    #[serde(rename = "passed")]
    Passed,
    /// The rule did not hold (or there was nothing to observe).
    #[serde(rename = "failed")]
    Failed,
    /// The run was interrupted: the rule is not judged on a partial run.
    #[serde(rename = "not judged")]
    NotJudged,
}

impl ThresholdOutcome {
    /// The same observation, not judged (an interrupted run).
    pub fn not_judged(self) -> Self {
        Self {
            passed: false,
            verdict: Verdict::NotJudged,
            ..self
        }
    }
}

impl Threshold {
    /// Checks that every named transaction is one of `known` (the scenario's steps).
    pub fn check_names(
        thresholds: &[Threshold],
        scenario: &str,
        known: &[&str],
    ) -> Result<(), ThresholdError> {
        for t in thresholds {
            if let Some(name) = &t.transaction
                && !known.contains(&name.as_str())
            {
                return Err(ThresholdError::UnknownTransaction {
                    expression: t.expression.clone(),
                    name: name.clone(),
                    scenario: scenario.to_owned(),
                    known: known.join(", "),
                });
            }
        }
        Ok(())
    }

    /// Judges the threshold on `summary`.
    pub fn evaluate(&self, summary: &LoadSummary) -> ThresholdOutcome {
        let observed = match &self.transaction {
            Some(name) => summary
                .transactions
                .iter()
                .find(|t| &t.name == name)
                .and_then(|t| self.observe(t)),
            None => self.observe_run(summary),
        };
        let passed = observed.is_some_and(|o| self.op.holds(o, self.value));
        ThresholdOutcome {
            expression: self.expression.clone(),
            observed,
            unit: self.metric.unit(),
            passed,
            verdict: if passed {
                Verdict::Passed
            } else {
                Verdict::Failed
            },
        }
    }

    fn observe(&self, t: &TransactionSummary) -> Option<f64> {
        match self.metric {
            Metric::P50 => t.p50_ms,
            Metric::P95 => t.p95_ms,
            Metric::P99 => t.p99_ms,
            Metric::Rps => Some(t.rps),
            Metric::Errors => error_rate(t.failures, t.requests),
            Metric::Failures => Some(t.failures as f64),
            Metric::Requests => Some(t.requests as f64),
        }
    }

    fn observe_run(&self, s: &LoadSummary) -> Option<f64> {
        let requests: u64 = s.transactions.iter().map(|t| t.requests).sum();
        let failures: u64 = s.transactions.iter().map(|t| t.failures).sum();
        match self.metric {
            Metric::Rps => Some(s.transactions.iter().map(|t| t.rps).sum()),
            Metric::Errors => error_rate(failures, requests),
            Metric::Failures => Some(failures as f64),
            Metric::Requests => Some(requests as f64),
            // Refused at parse time: a percentile of different steps mixed means nothing.
            Metric::P50 | Metric::P95 | Metric::P99 => None,
        }
    }
}

fn error_rate(failures: u64, requests: u64) -> Option<f64> {
    (requests > 0).then(|| failures as f64 * 100.0 / requests as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Threshold {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn reason(text: &str) -> String {
        text.parse::<Threshold>().unwrap_err().to_string()
    }

    #[test]
    fn the_issue_examples_parse() {
        let t = parse("verify.p95<50ms");
        assert_eq!(t.transaction.as_deref(), Some("verify"));
        assert_eq!((t.metric, t.op, t.value), (Metric::P95, Op::Lt, 50.0));
        let t = parse("token.rps>500");
        assert_eq!((t.metric, t.op, t.value), (Metric::Rps, Op::Gt, 500.0));
        let t = parse("errors<0.1%");
        assert_eq!(t.transaction, None);
        assert_eq!((t.metric, t.op, t.value), (Metric::Errors, Op::Lt, 0.1));
    }

    #[test]
    fn units_operators_and_spaces() {
        assert_eq!(parse("verify.p99 <= 1.5s").value, 1500.0);
        assert_eq!(parse("share.p50<250us").value, 0.25);
        assert_eq!(parse("share.p50<250µs").value, 0.25);
        assert_eq!(parse("token-exchange-like.rps>=10/s").op, Op::Ge);
        assert_eq!(parse("failures<=0").metric, Metric::Failures);
        assert_eq!(parse("verify.requests>1000").metric, Metric::Requests);
        assert_eq!(parse("  verify.p95<0ms ").expression, "verify.p95<0ms");
    }

    #[test]
    fn unparsable_expressions_say_what_was_expected() {
        assert!(reason("verify.p95").contains("found no <"));
        assert!(reason("verify.p42<5ms").contains("unknown metric \"p42\""));
        assert!(reason("verify.p95<50").contains("needs a unit"));
        assert!(reason("verify.p95<fast").contains("expected a number"));
        assert!(reason("errors<0.1").contains("written with %"));
        assert!(reason("p95<50ms").contains("per transaction"));
        assert!(reason("failures<1.5").contains("whole number"));
        assert!(reason(".p95<5ms").contains("transaction name"));
        assert!(reason("Verify.p95<5ms").contains("transaction name"));
    }

    #[test]
    fn unknown_transactions_are_named() {
        let t = vec![parse("verify.p95<5ms"), parse("verfy.p95<5ms")];
        let err = Threshold::check_names(&t, "verify", &["verify"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "threshold \"verfy.p95<5ms\": scenario verify has no transaction \"verfy\" (it has: verify)"
        );
        assert!(Threshold::check_names(&t[..1], "verify", &["verify"]).is_ok());
    }

    fn summary(requests: u64, failures: u64) -> LoadSummary {
        LoadSummary {
            scenario: "verify".into(),
            provider: "p".into(),
            users: 1,
            run_time_s: 1,
            duration_s: 1.0,
            transactions: vec![TransactionSummary {
                name: "verify".into(),
                requests,
                failures,
                rps: requests as f64,
                p50_ms: (requests > 0).then_some(1.0),
                p95_ms: (requests > 0).then_some(2.0),
                p99_ms: (requests > 0).then_some(3.0),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn evaluation_reports_what_was_observed() {
        let s = summary(1000, 2);
        let o = parse("verify.p95<50ms").evaluate(&s);
        assert_eq!((o.observed, o.unit, o.passed), (Some(2.0), "ms", true));
        assert_eq!(o.verdict, Verdict::Passed);
        let o = parse("verify.p95<0ms").evaluate(&s);
        assert!(!o.passed);
        assert_eq!(o.verdict, Verdict::Failed);
        let o = parse("verify.p95<50ms").evaluate(&s).not_judged();
        assert_eq!((o.observed, o.passed), (Some(2.0), false));
        assert_eq!(o.verdict, Verdict::NotJudged);
        let o = parse("errors<0.1%").evaluate(&s);
        assert_eq!((o.observed, o.passed), (Some(0.2), false));
        let o = parse("verify.rps>100000000").evaluate(&s);
        assert_eq!((o.observed, o.passed), (Some(1000.0), false));
        assert!(parse("failures<=2").evaluate(&s).passed);
    }

    #[test]
    fn no_requests_means_not_shown_to_hold() {
        let s = summary(0, 0);
        let o = parse("verify.p95<50ms").evaluate(&s);
        assert_eq!((o.observed, o.passed), (None, false));
        assert!(!parse("errors<1%").evaluate(&s).passed);
        assert!(parse("requests<1").evaluate(&s).passed);
    }
}
