//! Console summary: one line per scenario that did not pass, then the counts.

use std::io::{self, Write};

use crate::results::{RunResults, Status, Verdict};
use crate::secret::Redactor;

/// Writes the human summary of `results` to `out`, redacted.
pub fn write_console(
    results: &RunResults,
    redactor: &Redactor,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut text = String::new();
    let t = &results.target;
    text.push_str(&format!(
        "nvcert {} — {} (NV {})\n",
        results.tool_version, t.provider, t.spec_version
    ));
    for e in &results.errors {
        text.push_str(&format!("  ERROR    {e}\n"));
    }
    for l in &results.lint {
        text.push_str(&format!(
            "  LINT     {}:{}: {}\n",
            l.file, l.line, l.message
        ));
    }
    for sc in &results.scenarios {
        let label = match sc.status {
            Status::Passed => "ok",
            Status::Failed => "FAILED",
            Status::Warning => "WARNING",
            Status::Review => "REVIEW",
            Status::ExpectedFailure => "expected",
            Status::Skipped => "skipped",
            Status::Error => "ERROR",
        };
        text.push_str(&format!(
            "  {label:<9}{:<7}{} › {}",
            sc.level.as_str(),
            sc.feature,
            sc.name
        ));
        if let Some(reason) = &sc.skip_reason {
            text.push_str(&format!(" ({reason})"));
        }
        if let Some(error) = &sc.error {
            text.push_str(" — could not run");
            for line in error.lines() {
                text.push_str(&format!("\n                 {line}"));
            }
        }
        if sc.unexpectedly_passed {
            text.push_str(" (listed in --expect-failures but passed)");
        }
        text.push('\n');
        let detailed = matches!(
            sc.status,
            Status::Failed | Status::Warning | Status::ExpectedFailure
        );
        if detailed {
            for f in &sc.failures {
                for line in f.lines() {
                    text.push_str(&format!("                 {line}\n"));
                }
            }
        }
        if let Some(cite) = sc.citation.as_ref().filter(|_| detailed) {
            text.push_str(&format!("                 source: {cite}\n"));
        }
        if let Some(review) = &sc.review {
            text.push_str(&format!("                 to confirm: {review}\n"));
        }
    }
    if let Some(c) = &results.compatibility {
        text.push_str(&format!(
            "CAMARA compatibility ({}, {}): {} differences to review (they do not fail the run)\n",
            c.compared_with,
            c.document,
            c.differences.len()
        ));
        for d in &c.differences {
            text.push_str(&format!(
                "  {:<9}{:<7}{}",
                "differs",
                d.level.as_str(),
                d.message
            ));
            if !d.operations.is_empty() {
                text.push_str(&format!(" [{}]", d.operations.join(", ")));
            }
            text.push('\n');
        }
    }
    let s = &results.summary;
    text.push_str(&format!(
        "\n{} scenarios: {} passed, {} failed, {} could not run, {} warnings, {} to review, {} expected failures, {} skipped ({} ms)\n",
        s.total, s.passed, s.failed, s.errored, s.warnings, s.review, s.expected_failures, s.skipped, results.duration_ms
    ));
    if !results.lint.is_empty() {
        text.push_str(&format!(
            "{} lint findings in the feature files (warnings: they do not fail the run)\n",
            results.lint.len()
        ));
    }
    if s.unexpected_passes > 0 {
        text.push_str(&format!(
            "{} known deviations passed: update the --expect-failures list\n",
            s.unexpected_passes
        ));
    }
    if results.strict && s.warnings > 0 {
        text.push_str("--strict: SHOULD failures fail the run\n");
    }
    if s.undefined_steps > 0 {
        text.push_str(&format!(
            "{} undefined steps (their scenarios are skipped{})\n",
            s.undefined_steps,
            if results.strict {
                "; --strict: they fail the run"
            } else {
                ""
            }
        ));
    }
    for entry in &results.unmatched_expectations {
        text.push_str(&format!(
            "--expect-failures {entry} matches no scenario of this run{}\n",
            if results.strict {
                " (--strict: this fails the run)"
            } else {
                ""
            }
        ));
    }
    out.write_all(redactor.redact(&text).as_bytes())
}

/// Writes the run's verdict: the reasons an incomplete run did not reach a verdict everywhere
/// (grouped, counted), then one line `verdict: …`, meant to be the console's last.
pub fn write_verdict(
    results: &RunResults,
    redactor: &Redactor,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut text = String::new();
    for r in &results.incomplete_reasons {
        let kind = match r.kind.as_str() {
            "skipped" => "skipped",
            "error" => "could not run",
            _ => "not run",
        };
        let first_line = r.reason.lines().next().unwrap_or_default();
        text.push_str(&format!("incomplete: {} × {kind}: {first_line}\n", r.count));
    }
    let s = &results.summary;
    let detail = match results.verdict {
        Verdict::Passed => String::new(),
        Verdict::Failed => {
            let mut parts = Vec::new();
            if s.failed > 0 {
                parts.push(format!("{} MUST checks failed", s.failed));
            }
            if results.strict {
                if s.warnings > 0 {
                    parts.push(format!("{} SHOULD checks failed", s.warnings));
                }
                if s.undefined_steps > 0 {
                    parts.push(format!("{} undefined steps", s.undefined_steps));
                }
                if !results.unmatched_expectations.is_empty() {
                    parts.push(format!(
                        "{} --expect-failures entries match no scenario",
                        results.unmatched_expectations.len()
                    ));
                }
            }
            format!(" ({})", parts.join(", "))
        }
        Verdict::Incomplete => {
            let scenarios: usize = results
                .incomplete_reasons
                .iter()
                .filter(|r| r.kind != "feature_file")
                .map(|r| r.count)
                .sum();
            let files = results.errors.len();
            let mut parts = Vec::new();
            if scenarios > 0 {
                parts.push(format!("{scenarios} scenarios did not reach a verdict"));
            }
            if files > 0 {
                parts.push(format!("{files} feature files could not be run"));
            }
            format!(" ({}; nothing failed)", parts.join(", "))
        }
    };
    text.push_str(&format!("verdict: {}{detail}\n", results.verdict.as_str()));
    out.write_all(redactor.redact(&text).as_bytes())
}
