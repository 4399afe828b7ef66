//! Console summary: one line per scenario that did not pass, then the counts.

use std::io::{self, Write};

use crate::results::{RunResults, Status};
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
    for sc in &results.scenarios {
        match sc.status {
            Status::Passed => text.push_str(&format!("  ok       {} › {}\n", sc.feature, sc.name)),
            Status::Failed => {
                text.push_str(&format!("  FAILED   {} › {}\n", sc.feature, sc.name));
                for f in &sc.failures {
                    for line in f.lines() {
                        text.push_str(&format!("             {line}\n"));
                    }
                }
            }
            Status::Skipped => text.push_str(&format!(
                "  skipped  {} › {} ({})\n",
                sc.feature,
                sc.name,
                sc.skip_reason.as_deref().unwrap_or("no reason given")
            )),
        }
    }
    let s = &results.summary;
    text.push_str(&format!(
        "\n{} scenarios: {} passed, {} failed, {} skipped ({} ms)\n",
        s.total, s.passed, s.failed, s.skipped, results.duration_ms
    ));
    out.write_all(redactor.redact(&text).as_bytes())
}
