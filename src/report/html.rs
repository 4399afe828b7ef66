//! `report.html`: one self-contained page (inline CSS and JS; no external script, style, font
//! or image) that a person reads without a server: summary and verdict, filters by status, level
//! and feature, each scenario expandable with its steps, failure messages, citation and
//! exchanges (with a `curl` reproducer), the coverage table and the lint findings.
//!
//! Every piece of text is redacted, then HTML-escaped, as it is written (a secret containing `&`
//! would no longer match once escaped); the page as a whole is redacted once more on its way to
//! disk like every report.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::results::baseline::BaselineMode;
use crate::results::matrix::{Matrix, MatrixBaseline, MatrixCheck, MatrixProvider};
use crate::results::{
    ExchangeRecord, HeaderRecord, RunResults, ScenarioResult, Status, StepStatus, Verdict,
};
use crate::secret::{RedactionSnapshot, Redactor};

const STYLE: &str = r#"
:root{--fg:#1f2328;--muted:#59636e;--bg:#fff;--panel:#f6f8fa;--line:#d1d9e0;
--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700;--err:#8250df;--skip:#59636e;--review:#0969da}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:20px 28px;border-bottom:1px solid var(--line);background:var(--panel)}
h1{margin:0 0 4px;font-size:20px}
h2{font-size:16px;margin:28px 0 10px}
main{padding:0 28px 40px;max-width:1400px}
.meta{color:var(--muted)}
.meta span{margin-right:18px}
.verdict{display:inline-block;margin-top:10px;padding:4px 12px;border-radius:6px;font-weight:700;color:#fff;letter-spacing:.03em}
.verdict.passed{background:var(--pass)}.verdict.failed{background:var(--fail)}.verdict.incomplete{background:var(--err)}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:18px 0}
.tile{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:110px;background:var(--bg)}
.tile b{display:block;font-size:20px}
.tile.failed b{color:var(--fail)}.tile.warning b{color:var(--warn)}.tile.error b{color:var(--err)}.tile.passed b{color:var(--pass)}
.filters{display:flex;flex-wrap:wrap;gap:14px;align-items:center;padding:10px 12px;border:1px solid var(--line);border-radius:8px;background:var(--panel);position:sticky;top:0;z-index:1}
.filters label{white-space:nowrap}
.filters select,.filters input[type=search]{font:inherit;padding:3px 6px;border:1px solid var(--line);border-radius:6px}
#shown{margin-left:auto;color:var(--muted)}
details.scenario{border:1px solid var(--line);border-radius:8px;margin:8px 0;background:var(--bg)}
details.scenario>summary{cursor:pointer;padding:8px 12px;display:flex;gap:10px;align-items:baseline;list-style:none}
details.scenario>summary::-webkit-details-marker{display:none}
details.scenario>summary::before{content:"▸";color:var(--muted)}
details.scenario[open]>summary::before{content:"▾"}
details.scenario[open]>summary{border-bottom:1px solid var(--line)}
.badge{display:inline-block;min-width:86px;text-align:center;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}
.badge.passed{background:var(--pass)}.badge.failed{background:var(--fail)}.badge.warning{background:var(--warn)}
.badge.error{background:var(--err)}.badge.skipped{background:var(--skip)}.badge.review{background:var(--review)}.badge.expected_failure{background:#6e7781}
.level{font-size:12px;font-weight:600;color:var(--muted);min-width:54px}
.feature{color:var(--muted)}
.dur{margin-left:auto;color:var(--muted);font-size:12px;white-space:nowrap}
.body{padding:10px 16px 14px}
.body h4{margin:12px 0 4px;font-size:13px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.failure{border-left:3px solid var(--fail);background:#fff5f5;padding:6px 10px;margin:4px 0;white-space:pre-wrap;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
.failure.warning{border-color:var(--warn);background:#fff8e5}.failure.error{border-color:var(--err);background:#f7f2ff}.failure.skipped{border-color:var(--skip);background:var(--panel)}
ol.steps{margin:0;padding-left:22px}
ol.steps li.failed{color:var(--fail);font-weight:600}ol.steps li.error{color:var(--err);font-weight:600}ol.steps li.skipped{color:var(--skip)}
.tag{display:inline-block;background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:0 7px;margin:0 4px 2px 0;font-size:12px}
details.exchange{border:1px solid var(--line);border-radius:6px;margin:6px 0}
details.exchange>summary{cursor:pointer;padding:5px 10px;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px;overflow-wrap:anywhere}
details.exchange.concerned{border-color:var(--fail);box-shadow:0 0 0 1px var(--fail)}
details.exchange .ex{padding:4px 10px 10px}
.st{font-weight:700}.st.ok{color:var(--pass)}.st.ko{color:var(--fail)}
pre{margin:4px 0;padding:8px;background:var(--panel);border-radius:6px;overflow:auto;max-height:320px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px}
table{border-collapse:collapse;margin:6px 0}
th,td{border:1px solid var(--line);padding:4px 10px;text-align:left;font-size:13px}
th{background:var(--panel)}
td.yes{color:var(--pass);font-weight:600}td.no{color:var(--fail);font-weight:600}
.hidden{display:none}
.note{color:var(--muted);font-size:12px}
"#;

const SCRIPT: &str = r#"
(function(){
  var boxes=document.querySelectorAll('input[data-filter-status]');
  var level=document.getElementById('f-level');
  var feature=document.getElementById('f-feature');
  var text=document.getElementById('f-text');
  var items=document.querySelectorAll('details.scenario');
  function apply(){
    var statuses={};
    boxes.forEach(function(b){statuses[b.getAttribute('data-filter-status')]=b.checked;});
    var q=text.value.toLowerCase(), shown=0;
    items.forEach(function(d){
      var ok=statuses[d.dataset.status]
        &&(level.value===''||d.dataset.level===level.value)
        &&(feature.value===''||d.dataset.feature===feature.value)
        &&(q===''||d.textContent.toLowerCase().indexOf(q)>=0);
      d.classList.toggle('hidden',!ok);
      if(ok){shown++;}
    });
    document.getElementById('shown').textContent=shown+' of '+items.length+' scenarios shown';
  }
  boxes.forEach(function(b){b.addEventListener('change',apply);});
  [level,feature].forEach(function(s){s.addEventListener('change',apply);});
  text.addEventListener('input',apply);
  document.getElementById('expand').addEventListener('click',function(){
    items.forEach(function(d){if(!d.classList.contains('hidden')){d.open=true;}});
  });
  document.getElementById('collapse').addEventListener('click',function(){
    items.forEach(function(d){d.open=false;});
  });
  apply();
})();
"#;

/// Statuses in the order the filters list them, with their labels.
const STATUSES: &[(Status, &str, &str)] = &[
    (Status::Failed, "failed", "failed"),
    (Status::Error, "error", "could not run"),
    (Status::Warning, "warning", "warning"),
    (Status::Review, "review", "to review"),
    (
        Status::ExpectedFailure,
        "expected_failure",
        "expected failure",
    ),
    (Status::Skipped, "skipped", "skipped"),
    (Status::Passed, "passed", "passed"),
];

fn status_key(s: Status) -> &'static str {
    STATUSES
        .iter()
        .find(|(st, _, _)| *st == s)
        .map_or("passed", |(_, key, _)| key)
}

fn status_label(s: Status) -> &'static str {
    STATUSES
        .iter()
        .find(|(st, _, _)| *st == s)
        .map_or("passed", |(_, _, label)| label)
}

/// Writes text redacted, then escaped for HTML (text and attribute values alike).
struct Page {
    out: String,
    redactor: RedactionSnapshot,
}

impl Page {
    fn raw(&mut self, html: &str) {
        self.out.push_str(html);
    }

    fn text(&mut self, text: &str) {
        if text.contains(['&', '<', '>', '"', '\'']) {
            let redacted = self.redactor.redact(text);
            escape_into(&mut self.out, &redacted);
        } else {
            // Escaping changes nothing here, so the pass over the whole page finds any secret.
            self.out.push_str(text);
        }
    }
}

/// Appends `text` escaped for HTML content and attributes (also used by load-report.html).
pub(super) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// The run's verdict as the page states it: results.json's, as the console's last line.
fn verdict(results: &RunResults) -> (&'static str, &'static str) {
    match results.verdict {
        Verdict::Passed => ("passed", "PASSED"),
        Verdict::Failed => ("failed", "FAILED"),
        Verdict::Incomplete => ("incomplete", "INCOMPLETE: checks could not run"),
    }
}

pub(super) fn render(results: &RunResults, redactor: &Redactor) -> String {
    let mut p = Page {
        out: String::with_capacity(64 * 1024),
        redactor: redactor.snapshot(),
    };
    let t = &results.target;
    p.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    p.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    p.raw("<title>nvcert report: ");
    p.text(&t.provider);
    p.raw("</title><style>");
    p.raw(STYLE);
    p.raw("</style></head><body>\n<header><h1>nvcert conformance report: ");
    p.text(&t.provider);
    p.raw("</h1><div class=\"meta\"><span>NV ");
    p.text(&t.spec_version);
    if !results.rule_sets.is_empty() {
        p.raw(" + rule sets ");
        p.text(&results.rule_sets.join(", "));
    }
    p.raw("</span><span>issuer ");
    p.text(&t.issuer);
    p.raw("</span><span>API ");
    p.text(&t.api_base);
    p.raw("</span><span>nvcert ");
    p.text(&results.tool_version);
    p.raw("</span><span>");
    p.text(&format!("{:.1} s", results.duration_ms as f64 / 1000.0));
    p.raw("</span>");
    if results.strict {
        p.raw("<span>--strict</span>");
    }
    let (class, label) = verdict(results);
    p.raw(&format!(
        "</div><div class=\"verdict {class}\" id=\"verdict\">{label}</div></header>\n<main>"
    ));

    // Summary tiles.
    let s = &results.summary;
    p.raw("<div class=\"tiles\" id=\"summary\">");
    for (key, label, n) in [
        ("total", "scenarios", s.total),
        ("passed", "passed", s.passed),
        ("failed", "failed", s.failed),
        ("error", "could not run", s.errored),
        ("warning", "warnings", s.warnings),
        ("review", "to review", s.review),
        ("expected", "expected failures", s.expected_failures),
        ("skipped", "skipped", s.skipped),
    ] {
        p.raw(&format!(
            "<div class=\"tile {key}\"><b>{n}</b>{label}</div>"
        ));
    }
    p.raw("</div>");

    if !results.errors.is_empty() {
        p.raw("<h2>Run errors</h2>");
        for e in &results.errors {
            p.raw("<div class=\"failure error\">");
            p.text(e);
            p.raw("</div>");
        }
    }

    // Filters.
    p.raw("<h2>Scenarios</h2><div class=\"filters\"><span>");
    for (status, key, label) in STATUSES {
        let n = results
            .scenarios
            .iter()
            .filter(|r| r.status == *status)
            .count();
        p.raw(&format!(
            "<label><input type=\"checkbox\" data-filter-status=\"{key}\" checked> {label} ({n})</label> "
        ));
    }
    p.raw("</span><label>level <select id=\"f-level\"><option value=\"\">all</option>");
    for level in ["MUST", "SHOULD", "REVIEW"] {
        p.raw(&format!("<option>{level}</option>"));
    }
    p.raw(
        "</select></label><label>feature <select id=\"f-feature\"><option value=\"\">all</option>",
    );
    let mut features: Vec<&str> = results
        .scenarios
        .iter()
        .map(|s| s.feature.as_str())
        .collect();
    features.dedup();
    let mut seen = Vec::new();
    for f in features {
        if !seen.contains(&f) {
            seen.push(f);
            p.raw("<option value=\"");
            p.text(f);
            p.raw("\">");
            p.text(f);
            p.raw("</option>");
        }
    }
    p.raw("</select></label><input type=\"search\" id=\"f-text\" placeholder=\"search\">");
    p.raw("<button type=\"button\" id=\"expand\">expand shown</button><button type=\"button\" id=\"collapse\">collapse all</button>");
    p.raw("<span id=\"shown\"></span></div>\n<div id=\"scenarios\">");
    // Problems first, in their status order; passed last.
    let mut order: Vec<&ScenarioResult> = results.scenarios.iter().collect();
    order.sort_by_key(|sc| STATUSES.iter().position(|(st, _, _)| *st == sc.status));
    for sc in order {
        scenario(&mut p, sc);
    }
    p.raw("</div>");

    coverage(&mut p, results);
    lint(&mut p, results);
    p.raw("<p class=\"note\">Secrets (keys, client secrets, codes, tokens, JWTs) are shown as [redacted]; in a reproducer they are shell variables to export, e.g. $NVCERT_ACCESS_TOKEN.</p>");
    p.raw("</main><script>");
    p.raw(SCRIPT);
    p.raw("</script></body></html>\n");
    p.out
}

fn scenario(p: &mut Page, sc: &ScenarioResult) {
    let key = status_key(sc.status);
    let open = matches!(sc.status, Status::Failed | Status::Error);
    p.raw(&format!(
        "<details class=\"scenario\" data-status=\"{key}\" data-level=\"{}\" data-feature=\"",
        sc.level.as_str()
    ));
    p.text(&sc.feature);
    p.raw(if open {
        "\" open><summary>"
    } else {
        "\"><summary>"
    });
    p.raw(&format!(
        "<span class=\"badge {key}\">{}</span><span class=\"level\">{}</span><span><span class=\"feature\">",
        status_label(sc.status),
        sc.level.as_str()
    ));
    p.text(&sc.feature);
    p.raw(" › </span><span class=\"name\">");
    p.text(&sc.name);
    p.raw(&format!(
        "</span></span><span class=\"dur\">{} ms</span></summary><div class=\"body\">",
        sc.duration_ms
    ));
    let failure_class = match sc.status {
        Status::Warning => "failure warning",
        _ => "failure",
    };
    for f in &sc.failures {
        p.raw(&format!("<div class=\"{failure_class}\">"));
        p.text(f);
        p.raw("</div>");
    }
    if let Some(e) = &sc.error {
        p.raw("<div class=\"failure error\">could not run: ");
        p.text(e);
        p.raw("</div>");
    }
    if let Some(r) = &sc.skip_reason {
        p.raw("<div class=\"failure skipped\">skipped: ");
        p.text(r);
        p.raw("</div>");
    }
    if sc.unexpectedly_passed {
        p.raw("<div class=\"failure warning\">listed in --expect-failures but passed: update the list</div>");
    }
    if let Some(c) = &sc.citation {
        p.raw("<h4>Source</h4><div>");
        p.text(c);
        p.raw("</div>");
    }
    if let Some(r) = &sc.review {
        p.raw("<h4>To confirm by a person</h4><div>");
        p.text(r);
        p.raw("</div>");
    }
    if !sc.tags.is_empty() {
        p.raw("<h4>Tags</h4><div>");
        for t in &sc.tags {
            p.raw("<span class=\"tag\">@");
            p.text(t);
            p.raw("</span>");
        }
        p.raw("</div>");
    }
    if !sc.steps.is_empty() {
        p.raw("<h4>Steps</h4><ol class=\"steps\">");
        for step in &sc.steps {
            let class = match step.status {
                StepStatus::Passed => "passed",
                StepStatus::Failed => "failed",
                StepStatus::Error => "error",
                StepStatus::Skipped => "skipped",
            };
            p.raw(&format!("<li class=\"{class}\">"));
            p.text(&step.text);
            if step.status != StepStatus::Passed {
                p.raw(&format!(" <span class=\"note\">({class})</span>"));
            }
            p.raw("</li>");
        }
        p.raw("</ol>");
    }
    if !sc.exchanges.is_empty() {
        p.raw(&format!("<h4>Exchanges ({})</h4>", sc.exchanges.len()));
        for (i, e) in sc.exchanges.iter().enumerate() {
            exchange(p, e, sc.failure_exchange == Some(i));
        }
    }
    p.raw("</div></details>\n");
}

fn headers(headers: &[HeaderRecord]) -> String {
    let mut text = String::new();
    for h in headers {
        let _ = writeln!(text, "{}: {}", h.name, h.value);
    }
    text
}

fn exchange(p: &mut Page, e: &ExchangeRecord, concerned: bool) {
    p.raw(if concerned {
        "<details class=\"exchange concerned\" open><summary>"
    } else {
        "<details class=\"exchange\"><summary>"
    });
    p.text(&format!("{} {} → ", e.method, e.url));
    match e.status {
        Some(status) => {
            let class = if status < 400 { "ok" } else { "ko" };
            p.raw(&format!("<span class=\"st {class}\">{status}</span>"));
        }
        None => p.raw("<span class=\"st ko\">no answer</span>"),
    }
    p.text(&format!(" ({:.0} ms) · {}", e.duration_ms, e.purpose));
    if concerned {
        p.raw(" · <b>the failure concerns this exchange</b>");
    }
    p.raw("</summary><div class=\"ex\"><div class=\"note\">step: ");
    p.text(&e.step);
    p.raw("</div><h4>Request</h4><pre>");
    let mut request = format!("{} {}\n", e.method, e.url);
    request.push_str(&headers(&e.request_headers));
    if let Some(b) = &e.request_body {
        request.push('\n');
        request.push_str(&b.text);
        if b.truncated {
            let _ = write!(request, "\n… (cut at 64 KiB of {} bytes)", b.size);
        }
    }
    p.text(&request);
    p.raw("</pre><h4>Response</h4><pre>");
    let mut response = match (e.status, &e.error) {
        (Some(s), _) => format!("{s}\n"),
        (None, Some(err)) => format!("no answer: {err}\n"),
        (None, None) => "no answer\n".to_owned(),
    };
    response.push_str(&headers(&e.response_headers));
    if let Some(b) = &e.response_body {
        response.push('\n');
        response.push_str(&b.text);
        if b.truncated {
            let _ = write!(response, "\n… (cut at 64 KiB of {} bytes)", b.size);
        }
    }
    p.text(&response);
    p.raw("</pre><h4>Reproduce</h4><pre>");
    p.text(&super::curl::curl_command(e));
    p.raw("</pre></div></details>");
}

fn coverage(p: &mut Page, results: &RunResults) {
    p.raw("<h2>Coverage: operation × status</h2>");
    if results.coverage.is_empty() {
        p.raw("<p class=\"note\">No operation of the spec was exercised.</p>");
        return;
    }
    p.raw("<table id=\"coverage\"><tr><th>operation</th><th>status</th><th>documented</th><th>exercised</th></tr>");
    for c in &results.coverage {
        p.raw("<tr><td>");
        p.text(&c.operation);
        let yes_no = |b: bool| {
            if b {
                "<td class=\"yes\">yes</td>"
            } else {
                "<td class=\"no\">no</td>"
            }
        };
        p.raw(&format!(
            "</td><td>{}</td>{}{}</tr>",
            c.status,
            yes_no(c.documented),
            yes_no(c.exercised)
        ));
    }
    p.raw("</table>");
}

fn lint(p: &mut Page, results: &RunResults) {
    p.raw("<h2>Lint findings in the feature files</h2>");
    if results.lint.is_empty() {
        p.raw("<p class=\"note\">None.</p>");
        return;
    }
    p.raw("<table id=\"lint\"><tr><th>file:line</th><th>rule</th><th>scenario</th><th>finding</th></tr>");
    for l in &results.lint {
        p.raw("<tr><td>");
        p.text(&format!("{}:{}", l.file, l.line));
        p.raw("</td><td>");
        p.text(&l.rule);
        p.raw("</td><td>");
        p.text(l.scenario.as_deref().unwrap_or(""));
        p.raw("</td><td>");
        p.text(&l.message);
        p.raw("</td></tr>");
    }
    p.raw("</table>");
}

const MATRIX_STYLE: &str = r#"
.scroll{overflow:auto;border:1px solid var(--line);border-radius:8px;max-height:80vh}
table.matrix{margin:0;border-collapse:separate;border-spacing:0}
table.matrix th,table.matrix td{border:0;border-right:1px solid var(--line);border-bottom:1px solid var(--line);vertical-align:top}
table.matrix thead th{position:sticky;top:0;z-index:2;background:var(--panel);min-width:150px}
table.matrix th.check,table.matrix td.check{position:sticky;left:0;z-index:1;background:var(--bg);min-width:340px;max-width:520px}
table.matrix thead th.check{z-index:3;background:var(--panel)}
table.matrix td.cell{text-align:center;white-space:nowrap}
table.matrix td.cell .level{display:block;min-width:0}
table.matrix td.regressed{background:#ffebe9;box-shadow:inset 0 0 0 2px var(--fail)}
table.matrix td.fixed{background:#dafbe1;box-shadow:inset 0 0 0 2px var(--pass)}
table.matrix td.changed{background:#fff8c5}
.mark{display:block;font-size:11px;font-weight:700}
.mark.regressed{color:var(--fail)}.mark.fixed{color:var(--pass)}.mark.changed{color:var(--warn)}
.head a{font-weight:700;color:var(--fg)}
.head .verdict{display:table;margin:6px 0 4px;font-size:12px;padding:2px 8px}
.head .counts{font-weight:400;font-size:12px;color:var(--muted);white-space:normal}
.head .counts b{color:var(--fg)}
.head .err{font-weight:400;font-size:12px;color:var(--err);white-space:normal;max-width:260px}
.none{color:var(--muted)}
ul.diff{margin:4px 0 12px;padding-left:20px}
ul.diff li.regressed{color:var(--fail)}ul.diff li.fixed{color:var(--pass)}
"#;

const MATRIX_SCRIPT: &str = r#"
(function(){
  var boxes=document.querySelectorAll('input[data-filter-status]');
  var level=document.getElementById('f-level');
  var feature=document.getElementById('f-feature');
  var text=document.getElementById('f-text');
  var uneven=document.getElementById('f-uneven');
  var changed=document.getElementById('f-changed');
  var rows=document.querySelectorAll('tr.row');
  function apply(){
    var statuses={};
    boxes.forEach(function(b){statuses[b.getAttribute('data-filter-status')]=b.checked;});
    var q=text.value.toLowerCase(), shown=0;
    rows.forEach(function(r){
      var cells=r.dataset.statuses.split(' ');
      var ok=cells.some(function(s){return statuses[s];})
        &&(level.value===''||r.dataset.levels.split(' ').indexOf(level.value)>=0)
        &&(feature.value===''||r.dataset.feature===feature.value)
        &&(!uneven.checked||r.dataset.uneven==='1')
        &&(!changed||!changed.checked||r.dataset.changed==='1')
        &&(q===''||r.textContent.toLowerCase().indexOf(q)>=0);
      r.classList.toggle('hidden',!ok);
      if(ok){shown++;}
    });
    document.getElementById('shown').textContent=shown+' of '+rows.length+' checks shown';
  }
  boxes.forEach(function(b){b.addEventListener('change',apply);});
  [level,feature,uneven].concat(changed?[changed]:[]).forEach(function(s){s.addEventListener('change',apply);});
  text.addEventListener('input',apply);
  apply();
})();
"#;

/// How a cell compares with the baseline.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CellChange {
    Regressed,
    Fixed,
    Changed,
}

/// `report.html` at the top of a multi-provider run's folder: the providers × checks matrix,
/// each provider's column headed by its verdict and counts and linked to its own report.html,
/// regressions and fixes against the baseline marked, filters as in the single report.
pub(super) fn render_matrix(matrix: &Matrix, redactor: &Redactor) -> String {
    let mut p = Page {
        out: String::with_capacity(64 * 1024),
        redactor: redactor.snapshot(),
    };
    let changes = matrix_changes(matrix);
    p.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    p.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    p.raw(&format!(
        "<title>nvcert matrix: {} providers</title><style>",
        matrix.providers.len()
    ));
    p.raw(STYLE);
    p.raw(MATRIX_STYLE);
    p.raw(&format!(
        "</style></head><body>\n<header><h1>nvcert provider matrix: {} providers × {} checks</h1><div class=\"meta\"><span>nvcert ",
        matrix.providers.len(),
        matrix.checks.len()
    ));
    p.text(&matrix.tool_version);
    p.raw("</span>");
    if let Some(b) = &matrix.baseline {
        p.raw("<span>baseline ");
        p.text(&b.against);
        p.raw(&format!(
            " ({})</span>",
            match b.mode {
                BaselineMode::Fail => "regressions fail the run",
                BaselineMode::Report => "report only",
            }
        ));
    }
    let v = &matrix.verdicts;
    p.raw(&format!(
        "</div><div class=\"verdict {}\" id=\"verdict\">{}</div> <span class=\"meta\" id=\"verdicts\">{} passed, {} failed, {} incomplete</span></header>\n<main>",
        matrix.verdict.as_str(),
        matrix.verdict.as_str().to_uppercase(),
        v.passed,
        v.failed,
        v.incomplete
    ));
    if let Some(b) = &matrix.baseline {
        matrix_baseline(&mut p, b);
    }

    // Filters: a row is shown when one of its cells has a status ticked.
    p.raw("<h2>Checks</h2><div class=\"filters\"><span>");
    for (status, key, label) in STATUSES {
        let n = matrix
            .checks
            .iter()
            .filter(|c| c.results.values().any(|cell| cell.status == *status))
            .count();
        p.raw(&format!(
            "<label><input type=\"checkbox\" data-filter-status=\"{key}\" checked> {label} ({n})</label> "
        ));
    }
    p.raw("<label><input type=\"checkbox\" data-filter-status=\"none\" checked> not run by a provider (");
    let not_run = matrix
        .checks
        .iter()
        .filter(|c| c.results.len() < matrix.providers.len())
        .count();
    p.raw(&format!("{not_run})</label></span>"));
    p.raw("<label>level <select id=\"f-level\"><option value=\"\">all</option>");
    for level in ["MUST", "SHOULD", "REVIEW"] {
        p.raw(&format!("<option>{level}</option>"));
    }
    p.raw(
        "</select></label><label>feature <select id=\"f-feature\"><option value=\"\">all</option>",
    );
    let mut features: Vec<&str> = matrix.checks.iter().map(|c| c.feature.as_str()).collect();
    features.sort_unstable();
    features.dedup();
    for f in features {
        p.raw("<option value=\"");
        p.text(f);
        p.raw("\">");
        p.text(f);
        p.raw("</option>");
    }
    p.raw("</select></label><label><input type=\"checkbox\" id=\"f-uneven\"> only checks that did not pass everywhere</label>");
    if matrix.baseline.is_some() {
        p.raw("<label><input type=\"checkbox\" id=\"f-changed\"> only changes since the baseline</label>");
    }
    p.raw("<input type=\"search\" id=\"f-text\" placeholder=\"search\"><span id=\"shown\"></span></div>\n");

    p.raw("<div class=\"scroll\"><table class=\"matrix\" id=\"matrix\"><thead><tr><th class=\"check\">check</th>");
    for provider in &matrix.providers {
        matrix_head(&mut p, provider);
    }
    p.raw("</tr></thead><tbody>\n");
    // Checks that did not pass everywhere or changed since the baseline first (in key order),
    // then the others.
    let changed = |c: &MatrixCheck| {
        matrix
            .providers
            .iter()
            .any(|p| changes.contains_key(&(p.slug.as_str(), c.check.as_str())))
    };
    let (uneven, even): (Vec<&MatrixCheck>, Vec<&MatrixCheck>) = matrix
        .checks
        .iter()
        .partition(|c| !matrix.passed_everywhere(c) || changed(c));
    for check in uneven.into_iter().chain(even) {
        matrix_row(&mut p, matrix, check, &changes);
    }
    p.raw("</tbody></table></div>");
    p.raw("<p class=\"note\">Each provider's column head links to its own report (steps, exchanges, reproducers). A check a provider did not run is shown as —.</p>");
    p.raw("</main><script>");
    p.raw(MATRIX_SCRIPT);
    p.raw("</script></body></html>\n");
    p.out
}

/// (provider slug, check key) → how the cell compares with the baseline.
fn matrix_changes(matrix: &Matrix) -> BTreeMap<(&str, &str), CellChange> {
    let mut changes = BTreeMap::new();
    if let Some(b) = &matrix.baseline {
        for (slug, c) in &b.providers {
            for (list, change) in [
                (&c.regressions, CellChange::Regressed),
                (&c.fixes, CellChange::Fixed),
                (&c.changed, CellChange::Changed),
            ] {
                for ch in list {
                    changes.insert((slug.as_str(), ch.check.as_str()), change);
                }
            }
        }
    }
    changes
}

fn matrix_baseline(p: &mut Page, b: &MatrixBaseline) {
    p.raw(&format!(
        "<h2>Since the baseline</h2><div class=\"tiles\" id=\"baseline\"><div class=\"tile failed\"><b>{}</b>regressions</div><div class=\"tile passed\"><b>{}</b>fixes</div></div>",
        b.regressions, b.fixes
    ));
    if b.equal {
        p.raw("<p>Every provider compares equal with the baseline.</p>");
    }
    let mut items = Vec::new();
    for (slug, c) in &b.providers {
        for (list, class, word) in [
            (&c.regressions, "regressed", "regressed"),
            (&c.fixes, "fixed", "fixed"),
        ] {
            for ch in list {
                items.push((
                    class,
                    format!(
                        "{slug}: {word} {} {} ({} → {})",
                        ch.level.as_str(),
                        ch.check,
                        ch.before.as_str(),
                        ch.after.as_str()
                    ),
                ));
            }
        }
    }
    for slug in &b.new_providers {
        items.push(("", format!("{slug}: new provider, not in the baseline")));
    }
    for slug in &b.vanished_providers {
        items.push(("", format!("{slug}: in the baseline but not run")));
    }
    if !items.is_empty() {
        p.raw("<ul class=\"diff\">");
        for (class, text) in items {
            p.raw(&format!("<li class=\"{class}\">"));
            p.text(&text);
            p.raw("</li>");
        }
        p.raw("</ul>");
    }
}

fn matrix_head(p: &mut Page, provider: &MatrixProvider) {
    p.raw("<th class=\"head\" data-slug=\"");
    p.text(&provider.slug);
    p.raw("\"><a href=\"");
    p.text(&provider.slug);
    p.raw("/report.html\">");
    p.text(&provider.provider);
    p.raw(&format!(
        "</a><div class=\"verdict {}\">{}</div>",
        provider.verdict.as_str(),
        super::verdict_label(provider.verdict, provider.error.is_some()).to_uppercase()
    ));
    match (&provider.summary, &provider.error) {
        (Some(s), _) => p.raw(&format!(
            "<div class=\"counts\"><b>{}</b> passed · <b>{}</b> failed · <b>{}</b> could not run · <b>{}</b> warnings · <b>{}</b> skipped</div>",
            s.passed, s.failed, s.errored, s.warnings, s.skipped
        )),
        (None, Some(e)) => {
            p.raw("<div class=\"err\">could not run: ");
            p.text(e);
            p.raw("</div>");
        }
        (None, None) => {}
    }
    p.raw("</th>");
}

fn matrix_row(
    p: &mut Page,
    matrix: &Matrix,
    check: &MatrixCheck,
    changes: &BTreeMap<(&str, &str), CellChange>,
) {
    let mut statuses: Vec<&str> = Vec::new();
    let mut levels: Vec<&str> = Vec::new();
    let uneven = !matrix.passed_everywhere(check);
    let mut changed = false;
    for provider in &matrix.providers {
        match check.results.get(&provider.slug) {
            Some(cell) => {
                statuses.push(status_key(cell.status));
                levels.push(cell.level.as_str());
            }
            // A provider that could not run says so in its column head.
            None => statuses.push("none"),
        }
        changed |= changes.contains_key(&(provider.slug.as_str(), check.check.as_str()));
    }
    statuses.sort_unstable();
    statuses.dedup();
    levels.sort_unstable();
    levels.dedup();
    p.raw(&format!(
        "<tr class=\"row\" data-statuses=\"{}\" data-levels=\"{}\" data-uneven=\"{}\" data-changed=\"{}\" data-feature=\"",
        statuses.join(" "),
        levels.join(" "),
        u8::from(uneven),
        u8::from(changed)
    ));
    p.text(&check.feature);
    p.raw("\"><td class=\"check\"><span class=\"feature\">");
    p.text(&check.feature);
    p.raw(" › </span><span class=\"name\">");
    p.text(&check.name);
    p.raw("</span></td>");
    for provider in &matrix.providers {
        let Some(cell) = check.results.get(&provider.slug) else {
            p.raw("<td class=\"cell none\">—</td>");
            continue;
        };
        let change = changes.get(&(provider.slug.as_str(), check.check.as_str()));
        let (class, mark) = match change {
            Some(CellChange::Regressed) => (
                " regressed",
                "<span class=\"mark regressed\">▼ regressed</span>",
            ),
            Some(CellChange::Fixed) => (" fixed", "<span class=\"mark fixed\">▲ fixed</span>"),
            Some(CellChange::Changed) => {
                (" changed", "<span class=\"mark changed\">changed</span>")
            }
            None => ("", ""),
        };
        let key = status_key(cell.status);
        p.raw(&format!(
            "<td class=\"cell{class}\" data-status=\"{key}\" data-slug=\"{}\"><span class=\"badge {key}\">{}</span><span class=\"level\">{}</span>{mark}</td>",
            provider.slug.replace(['"', '<', '>', '&', '\''], ""),
            status_label(cell.status),
            cell.level.as_str()
        ));
    }
    p.raw("</tr>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_states_the_runs_verdict() {
        use crate::results::{Status, Target, testing};
        let run = |status: Status| {
            let target = Target {
                provider: "Acme".into(),
                issuer: "http://issuer.test".into(),
                api_base: "http://api.test".into(),
                spec_version: "2.1.0".into(),
            };
            let scenarios = vec![testing::scenario("Verify", "a check", status)];
            render(
                &RunResults::new(target, scenarios, Vec::new(), Vec::new(), 1),
                &Redactor::default(),
            )
        };
        for (status, shown) in [
            (Status::Passed, "PASSED"),
            (Status::Failed, "FAILED"),
            // A MUST check that did not run: never green, though nothing failed.
            (Status::Skipped, "INCOMPLETE"),
            (Status::Error, "INCOMPLETE"),
        ] {
            let page = run(status);
            assert!(
                page.contains(&format!("id=\"verdict\">{shown}")),
                "{status:?}: {}",
                page.lines().find(|l| l.contains("verdict")).unwrap_or("")
            );
        }
    }

    #[test]
    fn text_is_escaped_and_redacted_before_escaping() {
        let redactor = Redactor::default();
        redactor.register_str("se<cr>et&1");
        let mut p = Page {
            out: String::new(),
            redactor: redactor.snapshot(),
        };
        p.text("<script>alert('x')</script> se<cr>et&1 \"q\"");
        assert_eq!(
            p.out,
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; [redacted] &quot;q&quot;"
        );
    }
}
