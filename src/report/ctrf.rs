//! `ctrf.json`: the Common Test Report Format (<https://ctrf.io>), for CI tools that read it.
//!
//! One test per scenario; `suite` is the feature. CTRF statuses are passed, failed, skipped,
//! pending and other: nvcert's `warning` (a SHOULD failure), `review`, `expected_failure` and
//! `error` (could not run: neither passed nor failed) are `other`, with nvcert's status in
//! `rawStatus`. The level, citation and tags travel as `labels` and `tags`.

use serde_json::{Value, json};

use super::ReportError;
use crate::results::{RunResults, ScenarioResult, Status};

/// The CTRF specification version this writer follows.
const SPEC_VERSION: &str = "1.0.0";

fn status(s: Status) -> &'static str {
    match s {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
        Status::Warning | Status::Review | Status::ExpectedFailure | Status::Error => "other",
    }
}

fn raw_status(s: Status) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

fn message(sc: &ScenarioResult) -> Option<String> {
    if let Some(error) = &sc.error {
        return Some(format!("could not run: {error}"));
    }
    if let Some(reason) = &sc.skip_reason {
        return Some(reason.clone());
    }
    (!sc.failures.is_empty()).then(|| sc.failures.join("\n"))
}

fn test(sc: &ScenarioResult) -> Value {
    let mut labels = serde_json::Map::new();
    labels.insert("level".into(), json!(sc.level.as_str()));
    if let Some(c) = &sc.citation {
        labels.insert("citation".into(), json!(c));
    }
    let mut t = json!({
        "name": format!("{} › {}", sc.feature, sc.name),
        "status": status(sc.status),
        "rawStatus": raw_status(sc.status),
        "duration": sc.duration_ms,
        "suite": [sc.feature],
        "tags": sc.tags,
        "labels": labels,
        "type": "conformance",
    });
    if let Some(m) = message(sc) {
        t["message"] = json!(m);
    }
    if let Some(e) = sc.evidence() {
        t["trace"] = json!(super::curl::curl_command(e));
    }
    t
}

pub(super) fn render(results: &RunResults, stop_ms: i64) -> Result<String, ReportError> {
    let count = |wanted: &str| {
        results
            .scenarios
            .iter()
            .filter(|s| status(s.status) == wanted)
            .count()
    };
    let duration = i64::try_from(results.duration_ms).unwrap_or(i64::MAX);
    let timestamp = chrono::DateTime::from_timestamp_millis(stop_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut features: Vec<&str> = results
        .scenarios
        .iter()
        .map(|s| s.feature.as_str())
        .collect();
    features.sort_unstable();
    features.dedup();
    let suites = features.len();
    let doc = json!({
        "reportFormat": "CTRF",
        "specVersion": SPEC_VERSION,
        "timestamp": timestamp,
        "generatedBy": format!("nvcert {}", results.tool_version),
        "results": {
            "tool": {"name": "nvcert", "version": results.tool_version},
            "summary": {
                "tests": results.scenarios.len(),
                "passed": count("passed"),
                "failed": count("failed"),
                "skipped": count("skipped"),
                "pending": 0,
                "other": count("other"),
                "suites": suites,
                "start": stop_ms.saturating_sub(duration),
                "stop": stop_ms,
                "duration": duration,
            },
            "tests": results.scenarios.iter().map(test).collect::<Vec<_>>(),
        },
        "extra": {
            "provider": results.target.provider,
            "issuer": results.target.issuer,
            "api_base": results.target.api_base,
            "spec_version": results.target.spec_version,
            "rule_sets": results.rule_sets,
            "succeeded": results.succeeded(),
            "errors": results.errors,
        },
    });
    let mut text = serde_json::to_string_pretty(&doc).map_err(|source| ReportError::Serialize {
        what: "ctrf.json",
        source,
    })?;
    text.push('\n');
    Ok(text)
}
