//! `junit.xml` in the shape CI servers read (Jenkins, GitLab, GitHub test reporters):
//!
//! ```xml
//! <testsuites name="nvcert" tests="4" failures="1" errors="1" skipped="1" time="0.42">
//!   <testsuite name="POST /verify" tests="4" failures="1" errors="1" skipped="1" time="0.40">
//!     <testcase classname="POST /verify" name="Plain number of the device line" time="0.10"/>
//!     <testcase classname="POST /verify" name="…"><failure message="…">all messages</failure></testcase>
//!     <testcase classname="POST /verify" name="…"><skipped message="reason"/></testcase>
//!     <testcase classname="POST /verify" name="…"><error message="could not run: …">…</error></testcase>
//!   </testsuite>
//! </testsuites>
//! ```
//! One feature is one `<testsuite>`, one scenario one `<testcase>`; tags go into a `<properties>` block.
//! Lint findings of the feature files form one more `<testsuite name="lint">` of skipped
//! testcases: CI shows them without failing on them.

use std::fmt::Write;

use crate::results::{RunResults, ScenarioResult, Status};

pub(super) fn render(results: &RunResults) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let all: Vec<&ScenarioResult> = results.scenarios.iter().collect();
    let (failures, errors, skipped) = counts(&all, results.strict);
    let lint = results.lint.len();
    let _ = writeln!(
        out,
        "<testsuites name=\"nvcert\" tests=\"{}\" failures=\"{failures}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        all.len() + lint,
        errors + results.errors.len(),
        skipped + lint,
        seconds(results.duration_ms)
    );
    if !results.errors.is_empty() {
        // Problems outside any scenario (a feature file that did not parse) still reach CI.
        let _ = writeln!(
            out,
            "  <testsuite name=\"nvcert run\" tests=\"{0}\" errors=\"{0}\">",
            results.errors.len()
        );
        for (i, e) in results.errors.iter().enumerate() {
            let _ = writeln!(
                out,
                "    <testcase classname=\"nvcert run\" name=\"error {}\"><error message=\"{}\">{}</error></testcase>",
                i + 1,
                escape(first_line(e)),
                escape(e)
            );
        }
        out.push_str("  </testsuite>\n");
    }
    for (feature, scenarios) in group_by_feature(&results.scenarios) {
        let (failures, errors, skipped) = counts(&scenarios, results.strict);
        let time: u64 = scenarios.iter().map(|s| s.duration_ms).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{}\">",
            escape(feature),
            scenarios.len(),
            seconds(time)
        );
        for sc in scenarios {
            write_case(&mut out, feature, sc, results.strict);
        }
        out.push_str("  </testsuite>\n");
    }
    if lint > 0 {
        let _ = writeln!(
            out,
            "  <testsuite name=\"lint\" tests=\"{lint}\" failures=\"0\" skipped=\"{lint}\" time=\"0.000\">"
        );
        for l in &results.lint {
            let mut name = format!("{}:{}: {}", l.file, l.line, l.rule);
            if let Some(scenario) = &l.scenario {
                name.push_str(&format!(" ({scenario})"));
            }
            let _ = writeln!(
                out,
                "    <testcase classname=\"lint\" name=\"{}\" time=\"0.000\"><skipped message=\"LINT: {}\"/></testcase>",
                escape(&name),
                escape(&l.message)
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn write_case(out: &mut String, feature: &str, sc: &ScenarioResult, strict: bool) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\">",
        escape(feature),
        escape(&sc.name),
        seconds(sc.duration_ms)
    );
    if !sc.tags.is_empty() {
        out.push_str("<properties>");
        for tag in &sc.tags {
            let _ = write!(out, "<property name=\"tag\" value=\"{}\"/>", escape(tag));
        }
        let _ = write!(
            out,
            "<property name=\"level\" value=\"{}\"/>",
            sc.level.as_str()
        );
        if let Some(cite) = &sc.citation {
            let _ = write!(
                out,
                "<property name=\"citation\" value=\"{}\"/>",
                escape(cite)
            );
        }
        out.push_str("</properties>");
    }
    let failures = || {
        let mut all = sc.failures.join("\n");
        if let Some(cite) = &sc.citation {
            all.push_str(&format!("\nsource: {cite}"));
        }
        all
    };
    let first = || first_line(sc.failures.first().map_or("failed", String::as_str)).to_owned();
    match sc.status {
        Status::Passed => {}
        Status::Failed => {
            let _ = write!(
                out,
                "<failure message=\"{}\" type=\"{}\">{}</failure>",
                escape(&first()),
                sc.level.as_str(),
                escape(&failures())
            );
        }
        // A SHOULD failure fails the CI job only with --strict; otherwise it is reported, not failed.
        Status::Warning if strict => {
            let _ = write!(
                out,
                "<failure message=\"{}\" type=\"SHOULD\">{}</failure>",
                escape(&first()),
                escape(&failures())
            );
        }
        Status::Warning => {
            let _ = write!(
                out,
                "<skipped message=\"WARNING (SHOULD): {}\"/><system-out>{}</system-out>",
                escape(&first()),
                escape(&failures())
            );
        }
        Status::Review => {
            let _ = write!(
                out,
                "<skipped message=\"REVIEW: {}\"/>",
                escape(sc.review.as_deref().unwrap_or("needs a person to confirm"))
            );
        }
        Status::ExpectedFailure => {
            let _ = write!(
                out,
                "<skipped message=\"expected failure: {}\"/><system-out>{}</system-out>",
                escape(&first()),
                escape(&failures())
            );
        }
        Status::Skipped => {
            let _ = write!(
                out,
                "<skipped message=\"{}\"/>",
                escape(sc.skip_reason.as_deref().unwrap_or("skipped"))
            );
        }
        // Could not run: JUnit's <error> (not <failure>), so CI tells it from a broken rule.
        Status::Error => {
            let error = sc.error.as_deref().unwrap_or("could not run");
            let _ = write!(
                out,
                "<error message=\"{}\" type=\"{}\">{}</error>",
                escape(first_line(error)),
                sc.level.as_str(),
                escape(error)
            );
        }
    }
    out.push_str("</testcase>\n");
}

/// (failures, errors, skipped) as JUnit counts them: every status but passed, failed and error
/// is a skip, except warnings under --strict, which are failures.
fn counts(scenarios: &[&ScenarioResult], strict: bool) -> (usize, usize, usize) {
    let failures = scenarios
        .iter()
        .filter(|s| s.status == Status::Failed || (strict && s.status == Status::Warning))
        .count();
    let errors = scenarios
        .iter()
        .filter(|s| s.status == Status::Error)
        .count();
    let passed = scenarios
        .iter()
        .filter(|s| s.status == Status::Passed)
        .count();
    (
        failures,
        errors,
        scenarios.len() - failures - errors - passed,
    )
}

fn group_by_feature(scenarios: &[ScenarioResult]) -> Vec<(&str, Vec<&ScenarioResult>)> {
    let mut groups: Vec<(&str, Vec<&ScenarioResult>)> = Vec::new();
    for sc in scenarios {
        match groups.iter_mut().find(|(f, _)| *f == sc.feature) {
            Some((_, list)) => list.push(sc),
            None => groups.push((&sc.feature, vec![sc])),
        }
    }
    groups
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn seconds(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

/// XML 1.0 text/attribute escaping; control characters other than tab/newline are dropped since
/// XML 1.0 cannot carry them and a hostile provider may send them.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(escape("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;");
    }
}
