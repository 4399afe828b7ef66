//! The load run's writers: `load-summary.json` (contract `specs/load-summary.schema.json`) and
//! the console table. A load summary holds counts and timings only, never exchange contents, so
//! there is nothing to redact.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{ReportError, write_file};
use crate::load::LoadSummary;

/// File name of the load summary inside the report directory.
pub const LOAD_SUMMARY_FILE: &str = "load-summary.json";

/// Writes `load-summary.json` into `dir` (created if missing); returns its path.
pub fn write_load_summary(summary: &LoadSummary, dir: &Path) -> Result<PathBuf, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut bytes = Vec::new();
    write_json(summary, &mut bytes).map_err(|source| ReportError::Io {
        path: dir.join(LOAD_SUMMARY_FILE),
        source,
    })?;
    let path = dir.join(LOAD_SUMMARY_FILE);
    write_file(&path, &bytes)?;
    Ok(path)
}

/// Writes `load-summary.json` (pretty, trailing newline).
pub fn write_json(summary: &LoadSummary, mut out: impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, summary)?;
    out.write_all(b"\n")
}

/// Writes the console table and the thresholds' verdicts.
pub fn write_load_console(summary: &LoadSummary, mut out: impl Write) -> io::Result<()> {
    writeln!(
        out,
        "nvcert load — {} scenario, {} users, {} s held ({:.1} s measured) against {}",
        summary.scenario, summary.users, summary.run_time_s, summary.duration_s, summary.provider
    )?;
    writeln!(
        out,
        "  {:<12} {:>10} {:>9} {:>10} {:>9} {:>9} {:>9}",
        "transaction", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms"
    )?;
    let ms = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
    for t in &summary.transactions {
        writeln!(
            out,
            "  {:<12} {:>10} {:>9} {:>10.1} {:>9} {:>9} {:>9}",
            t.name,
            t.requests,
            t.failures,
            t.rps,
            ms(t.p50_ms),
            ms(t.p95_ms),
            ms(t.p99_ms)
        )?;
    }
    for t in &summary.thresholds {
        let observed = t.observed.map_or_else(
            || "nothing observed: no requests".to_owned(),
            |o| format!("observed {} {}", trim_number(o), t.unit),
        );
        let verdict = if t.passed { "passed" } else { "FAILED" };
        writeln!(out, "  {verdict:<8} {} ({observed})", t.expression)?;
    }
    Ok(())
}

/// At most three decimals, without trailing zeros.
fn trim_number(x: f64) -> String {
    let text = format!("{x:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::summary::tests::sample;

    #[test]
    fn json_has_the_contracted_fields() {
        let mut out = Vec::new();
        write_json(&sample(), &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["scenario"], "journey");
        let t = &v["transactions"][0];
        for field in [
            "name", "requests", "failures", "rps", "p50_ms", "p95_ms", "p99_ms",
        ] {
            assert!(t.get(field).is_some(), "{field} missing");
        }
        assert!(v["transactions"][1]["p95_ms"].is_null());
        assert_eq!(v["thresholds"][0]["passed"], false);
        assert_eq!(v["thresholds"][0]["observed"], 0.9);
    }

    #[test]
    fn console_names_each_transaction_and_verdict() {
        let mut out = Vec::new();
        write_load_console(&sample(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("journey scenario, 4 users"), "{text}");
        assert!(text.contains("  verify "), "{text}");
        assert!(
            text.contains("FAILED   verify.p95<0ms (observed 0.9 ms)"),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with("  share") && l.contains(" - "))
        );
    }
}
