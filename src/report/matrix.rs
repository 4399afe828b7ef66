//! `matrix.json` (contract: `specs/matrix.schema.json`), the console's matrix summary, and the
//! short diff against a baseline.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{ReportError, write_file};
use crate::results::baseline::{BaselineComparison, CheckOnOneSide, StatusChange};
use crate::results::matrix::{Matrix, ProviderVerdict};
use crate::results::{Status, Summary};
use crate::secret::Redactor;

pub use crate::results::baseline::MATRIX_FILE;

/// Writes `matrix.json` into `dir` (which exists: the providers' folders are in it).
pub fn write_matrix(matrix: &Matrix, dir: &Path) -> Result<PathBuf, ReportError> {
    let mut text =
        serde_json::to_string_pretty(matrix).map_err(|source| ReportError::Serialize {
            what: "matrix.json",
            source,
        })?;
    text.push('\n');
    let path = dir.join(MATRIX_FILE);
    write_file(&path, text.as_bytes())?;
    Ok(path)
}

/// Writes the matrix view, `report.html`, into `dir` beside `matrix.json`: each provider's
/// column links to `<slug>/report.html`.
pub fn write_matrix_html(
    matrix: &Matrix,
    dir: &Path,
    redactor: &Redactor,
) -> Result<PathBuf, ReportError> {
    let html = redactor.redact(&super::html::render_matrix(matrix, redactor));
    let path = dir.join(super::HTML_FILE);
    write_file(&path, html.as_bytes())?;
    Ok(path)
}

/// The counts of one provider, as one line says them.
pub fn summary_line(s: &Summary) -> String {
    format!(
        "{} passed, {} failed, {} could not run, {} warnings, {} skipped",
        s.passed, s.failed, s.errored, s.warnings, s.skipped
    )
}

/// Label of a status in the console's tables.
fn label(status: Status) -> &'static str {
    match status {
        Status::Passed => "ok",
        Status::Failed => "FAILED",
        Status::Warning => "WARNING",
        Status::Review => "REVIEW",
        Status::ExpectedFailure => "expected",
        Status::Skipped => "skipped",
        Status::Error => "ERROR",
    }
}

/// Label of a provider's verdict; `could_not_run`: it has no results at all.
pub fn verdict_label(verdict: ProviderVerdict, could_not_run: bool) -> &'static str {
    match verdict {
        ProviderVerdict::Passed => "ok",
        ProviderVerdict::Failed => "FAILED",
        ProviderVerdict::Incomplete if could_not_run => "ERROR",
        ProviderVerdict::Incomplete => "INCOMPLETE",
    }
}

/// The matrix summary: one line per provider, then every check that did not pass everywhere,
/// with each provider's status, then the baseline's totals.
pub fn write_matrix_console(matrix: &Matrix, out: &mut impl Write) -> io::Result<()> {
    let width = matrix
        .providers
        .iter()
        .map(|p| p.slug.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let mut text = format!(
        "\nmatrix: {} providers × {} checks\n",
        matrix.providers.len(),
        matrix.checks.len()
    );
    for p in &matrix.providers {
        let detail = match (&p.summary, &p.error) {
            (Some(s), _) => summary_line(s),
            (None, Some(e)) => format!("could not run: {e}"),
            (None, None) => String::new(),
        };
        text.push_str(&format!(
            "  {:<11}{:<width$}  {detail}\n",
            verdict_label(p.verdict, p.error.is_some()),
            p.slug
        ));
    }
    let uneven: Vec<_> = matrix
        .checks
        .iter()
        .filter(|c| !matrix.passed_everywhere(c))
        .collect();
    if !uneven.is_empty() {
        text.push_str("checks that did not pass everywhere:\n");
        for c in uneven {
            text.push_str(&format!("  {}\n", c.check));
            let cells: Vec<String> = matrix
                .providers
                .iter()
                .filter(|p| p.summary.is_some())
                .map(|p| {
                    let status = c
                        .results
                        .get(&p.slug)
                        .map_or("—", |cell| label(cell.status));
                    format!("{}: {status}", p.slug)
                })
                .collect();
            text.push_str(&format!("      {}\n", cells.join("  ")));
        }
    }
    if let Some(b) = &matrix.baseline {
        text.push_str(&format!(
            "baseline {}: {} regressions, {} fixes{}\n",
            b.against,
            b.regressions,
            b.fixes,
            if b.equal { " (equal)" } else { "" }
        ));
        for slug in &b.new_providers {
            text.push_str(&format!("  new provider (not in the baseline): {slug}\n"));
        }
        for slug in &b.vanished_providers {
            text.push_str(&format!("  provider in the baseline but not run: {slug}\n"));
        }
    }
    let v = &matrix.verdicts;
    text.push_str(&format!(
        "verdict: {} ({} passed, {} failed, {} incomplete)\n",
        matrix.verdict.as_str().to_uppercase(),
        v.passed,
        v.failed,
        v.incomplete
    ));
    out.write_all(text.as_bytes())
}

/// The short diff of one provider against its baseline.
pub fn write_baseline_console(c: &BaselineComparison, out: &mut impl Write) -> io::Result<()> {
    out.write_all(baseline_diff(c, "").as_bytes())
}

/// The short diff of one provider against its baseline, each line after `indent`.
pub fn baseline_diff(c: &BaselineComparison, indent: &str) -> String {
    let mut text = String::new();
    if !c.provider_in_baseline {
        text.push_str(&format!(
            "{indent}baseline {}: this provider is not in it; nothing compared\n",
            c.against
        ));
        return text;
    }
    if c.equal {
        text.push_str(&format!("{indent}baseline {}: no change\n", c.against));
        return text;
    }
    text.push_str(&format!(
        "{indent}baseline {}: {} regressions, {} fixes, {} other changes, {} new, {} vanished, {} level changes{}\n",
        c.against,
        c.regressions.len(),
        c.fixes.len(),
        c.changed.len(),
        c.new.len(),
        c.vanished.len(),
        c.level_changes.len(),
        if !c.regressions.is_empty() && c.passes() {
            " (--baseline-mode report: regressions do not fail the run)"
        } else {
            ""
        }
    ));
    let change = |sign: &str, ch: &StatusChange| {
        format!(
            "{indent}  {sign} {:<7}{} ({} → {})\n",
            ch.level.as_str(),
            ch.check,
            ch.before.as_str(),
            ch.after.as_str()
        )
    };
    let side = |sign: &str, what: &str, ch: &CheckOnOneSide| {
        format!(
            "{indent}  {sign} {:<7}{} ({what}, {})\n",
            ch.level.as_str(),
            ch.check,
            ch.status.as_str()
        )
    };
    for ch in &c.regressions {
        text.push_str(&change("REGRESSED", ch));
    }
    for ch in &c.fixes {
        text.push_str(&change("fixed    ", ch));
    }
    for ch in &c.changed {
        text.push_str(&change("changed  ", ch));
    }
    for ch in &c.new {
        text.push_str(&side("new      ", "not in the baseline", ch));
    }
    for ch in &c.vanished {
        text.push_str(&side("vanished ", "not run now; was", ch));
    }
    for l in &c.level_changes {
        text.push_str(&format!(
            "{indent}  level     {} ({} → {})\n",
            l.check,
            l.before.as_str(),
            l.after.as_str()
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::baseline::{Baseline, BaselineMode, ProviderSnapshot, Snapshot};
    use crate::results::matrix::ProviderEntry;
    use crate::results::{RunResults, Target};

    fn results(provider: &str, statuses: &[(&str, Status)]) -> RunResults {
        let scenarios = statuses
            .iter()
            .map(|(name, status)| crate::results::testing::scenario("Verify", name, *status))
            .collect();
        let target = Target {
            provider: provider.into(),
            issuer: "http://issuer.test".into(),
            api_base: "http://api.test".into(),
            spec_version: "2.1.0".into(),
        };
        RunResults::new(target, scenarios, Vec::new(), Vec::new(), 1)
    }

    #[test]
    fn console_lists_providers_and_the_checks_that_did_not_pass_everywhere() {
        let good = results("Good", &[("a", Status::Passed), ("b", Status::Passed)]);
        let mut bad = results("Bad", &[("a", Status::Passed), ("b", Status::Failed)]);
        let baseline = Baseline {
            path: "base.json".into(),
            mode: BaselineMode::Fail,
            snapshot: Snapshot::new(
                [("bad".to_owned(), ProviderSnapshot::of(&good))]
                    .into_iter()
                    .collect(),
            ),
            single_run: false,
        };
        bad.baseline = Some(baseline.compare(&bad));
        let entries = [
            ProviderEntry {
                slug: "good",
                profile: "good.toml",
                provider: "Good",
                outcome: Ok(&good),
                exit_code: 0,
                duration_ms: 1,
            },
            ProviderEntry {
                slug: "bad",
                profile: "bad.toml",
                provider: "Bad",
                outcome: Ok(&bad),
                exit_code: 1,
                duration_ms: 1,
            },
            ProviderEntry {
                slug: "down",
                profile: "down.toml",
                provider: "Down",
                outcome: Err("cannot reach it"),
                exit_code: 2,
                duration_ms: 1,
            },
        ];
        let matrix = Matrix::build(
            &entries,
            Some(("base.json", BaselineMode::Fail, vec!["bad".into()])),
        );
        let mut out = Vec::new();
        write_matrix_console(&matrix, &mut out).expect("written");
        let text = String::from_utf8(out).expect("utf-8");
        for line in [
            "matrix: 3 providers × 2 checks",
            "  ok         good      2 passed, 0 failed, 0 could not run, 0 warnings, 0 skipped",
            "  FAILED     bad       1 passed, 1 failed, 0 could not run, 0 warnings, 0 skipped",
            "  ERROR      down      could not run: cannot reach it",
            "checks that did not pass everywhere:",
            "  Verify › b",
            "      good: ok  bad: FAILED",
            "baseline base.json: 1 regressions, 0 fixes",
            "  new provider (not in the baseline): good",
            "  new provider (not in the baseline): down",
            "verdict: FAILED (1 passed, 1 failed, 1 incomplete)",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} missing:\n{text}");
        }
        assert!(!text.contains("Verify › a"), "a passed everywhere:\n{text}");

        // The matrix view: a column per provider linking to its report, the regression marked,
        // a provider that could not run said so in its column, every text escaped.
        let mut matrix = matrix;
        matrix.providers[2].error = Some("cannot reach <http://down.test/?a=1&b=2>".into());
        let html = super::super::html::render_matrix(&matrix, &Redactor::default());
        for seen in [
            "<a href=\"good/report.html\">Good</a>",
            "<a href=\"bad/report.html\">Bad</a>",
            "<div class=\"verdict incomplete\">ERROR</div><div class=\"err\">could not run: cannot reach &lt;http://down.test/?a=1&amp;b=2&gt;</div>",
            "<td class=\"cell regressed\" data-status=\"failed\" data-slug=\"bad\">",
            "<div class=\"verdict failed\" id=\"verdict\">FAILED</div>",
        ] {
            assert!(html.contains(seen), "{seen:?} missing:\n{html}");
        }
        // Rows that did not pass everywhere come first.
        assert!(
            html.find("Verify › </span><span class=\"name\">b")
                .expect("row b")
                < html
                    .find("Verify › </span><span class=\"name\">a")
                    .expect("row a")
        );
        let diff = baseline_diff(bad.baseline.as_ref().expect("compared"), "");
        assert!(
            diff.contains("  REGRESSED MUST   Verify › b (passed → failed)"),
            "{diff}"
        );
    }
}
