//! `junit.xml` in the shape CI servers read (Jenkins, GitLab, GitHub test reporters):
//!
//! ```xml
//! <testsuites name="nvcert" tests="3" failures="1" skipped="1" time="0.42">
//!   <testsuite name="POST /verify" tests="3" failures="1" skipped="1" time="0.40">
//!     <testcase classname="POST /verify" name="Plain number of the device line" time="0.10"/>
//!     <testcase classname="POST /verify" name="…"><failure message="…">all messages</failure></testcase>
//!     <testcase classname="POST /verify" name="…"><skipped message="reason"/></testcase>
//!   </testsuite>
//! </testsuites>
//! ```
//! One feature is one `<testsuite>`, one scenario one `<testcase>`; tags go into a `<properties>` block.

use std::fmt::Write;

use crate::results::{RunResults, ScenarioResult, Status, Summary};

pub(super) fn render(results: &RunResults) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let s = &results.summary;
    let _ = writeln!(
        out,
        "<testsuites name=\"nvcert\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        s.total,
        s.failed,
        results.errors.len(),
        s.skipped,
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
        let fs = Summary::of(&scenarios.iter().map(|s| (*s).clone()).collect::<Vec<_>>());
        let time: u64 = scenarios.iter().map(|s| s.duration_ms).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{}\">",
            escape(feature),
            fs.total,
            fs.failed,
            fs.skipped,
            seconds(time)
        );
        for sc in scenarios {
            write_case(&mut out, feature, sc);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn write_case(out: &mut String, feature: &str, sc: &ScenarioResult) {
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
        out.push_str("</properties>");
    }
    match sc.status {
        Status::Passed => {}
        Status::Failed => {
            let all = sc.failures.join("\n");
            let _ = write!(
                out,
                "<failure message=\"{}\">{}</failure>",
                escape(first_line(
                    sc.failures.first().map_or("failed", String::as_str)
                )),
                escape(&all)
            );
        }
        Status::Skipped => {
            let _ = write!(
                out,
                "<skipped message=\"{}\"/>",
                escape(sc.skip_reason.as_deref().unwrap_or("skipped"))
            );
        }
    }
    out.push_str("</testcase>\n");
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
