//! The load run's writers: `load-summary.json` (contract `specs/load-summary.schema.json`), a
//! worker's `load-histograms.json` (what `nvcert load merge` adds up), `load-report.html` (one
//! self-contained page: inline CSS and SVG, nothing fetched) and the console table. A load
//! summary holds counts, timings and the flow's failure messages (which quote no secret), never
//! exchange contents, so there is nothing to redact.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{ReportError, write_file};
use crate::load::merge::WORKER_FILE;
use crate::load::{HTML_REPORT, LoadSummary, Verdict, WorkerRecord};

/// File name of the load summary inside the report directory.
pub const LOAD_SUMMARY_FILE: &str = "load-summary.json";

/// Writes `load-summary.json` and `load-report.html` into `dir` (created if missing), and, when
/// given, the worker's `load-histograms.json`; returns the paths written.
pub fn write_load_reports(
    summary: &LoadSummary,
    worker: Option<&WorkerRecord>,
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = vec![write_load_summary(summary, dir)?];
    let html = dir.join(HTML_REPORT);
    write_file(&html, render_html(summary).as_bytes())?;
    written.push(html);
    if let Some(worker) = worker {
        let path = dir.join(WORKER_FILE);
        let mut bytes = serde_json::to_vec(worker).map_err(|source| ReportError::Serialize {
            what: WORKER_FILE,
            source,
        })?;
        bytes.push(b'\n');
        write_file(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

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
    let held = if summary.interrupted {
        format!(
            "INTERRUPTED after {:.1} s of {} s",
            summary.duration_s, summary.run_time_s
        )
    } else {
        format!(
            "{} s held ({:.1} s measured)",
            summary.run_time_s, summary.duration_s
        )
    };
    let workers = summary
        .workers
        .as_ref()
        .map_or_else(String::new, |w| format!(" from {} workers", w.len()));
    let slice = summary.worker.map_or_else(String::new, |w| {
        format!(" (worker {} of {})", w.index, w.workers)
    });
    writeln!(
        out,
        "nvcert load — {} scenario, {} users{workers}{slice}, {held} against {}",
        summary.scenario, summary.users, summary.provider
    )?;
    writeln!(
        out,
        "  {:<12} {:>10} {:>9} {:>8} {:>10} {:>9} {:>9} {:>9}",
        "transaction", "requests", "failures", "skipped", "req/s", "p50 ms", "p95 ms", "p99 ms"
    )?;
    let ms = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
    for t in &summary.transactions {
        writeln!(
            out,
            "  {:<12} {:>10} {:>9} {:>8} {:>10.1} {:>9} {:>9} {:>9}",
            t.name,
            t.requests,
            t.failures,
            t.skipped,
            t.rps,
            ms(t.p50_ms),
            ms(t.p95_ms),
            ms(t.p99_ms)
        )?;
        for e in t.errors.iter().take(3) {
            writeln!(out, "      {} × {}", e.count, e.message)?;
        }
    }
    for t in &summary.thresholds {
        let observed = t.observed.map_or_else(
            || "nothing observed: no requests".to_owned(),
            |o| format!("observed {} {}", trim_number(o), t.unit),
        );
        let verdict = match t.verdict {
            Verdict::Passed => "passed",
            Verdict::Failed => "FAILED",
            Verdict::NotJudged => "not judged",
        };
        let why = if t.verdict == Verdict::NotJudged {
            ", run interrupted"
        } else {
            ""
        };
        writeln!(out, "  {verdict:<10} {} ({observed}{why})", t.expression)?;
    }
    if summary.interrupted {
        writeln!(
            out,
            "  interrupted: the figures cover {:.1} s, and no threshold is judged on a partial run",
            summary.duration_s
        )?;
    }
    if let Some(a) = &summary.aggregator_latency {
        writeln!(
            out,
            "  aggregator's added latency ({} sequential samples per path, after the window):",
            a.samples
        )?;
        writeln!(
            out,
            "  {:<12} {:>14} {:>14} {:>11} {:>11} {:>11}",
            "step", "via agg p50", "direct p50", "added p50", "via p95", "direct p95"
        )?;
        for step in &a.steps {
            writeln!(
                out,
                "  {:<12} {:>14} {:>14} {:>11} {:>11} {:>11}",
                step.step,
                ms(step.via_aggregator_p50_ms),
                ms(step.direct_p50_ms),
                ms(step.added_p50_ms),
                ms(step.via_aggregator_p95_ms),
                ms(step.direct_p95_ms)
            )?;
        }
        if let Some(note) = &a.note {
            writeln!(out, "  note: {note}")?;
        }
    }
    Ok(())
}

/// `load-report.html`: one self-contained page (inline CSS and SVG, no script, nothing fetched)
/// showing the summary, the latencies as bars, the thresholds, the failure messages and, for a
/// merged run, the workers.
pub fn render_html(s: &LoadSummary) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let title = format!("nvcert load — {} against {}", s.scenario, s.provider);
    let verdict = if s.interrupted {
        (
            "interrupted",
            "INTERRUPTED: partial run, thresholds not judged",
        )
    } else if s.thresholds.is_empty() {
        ("none", "no thresholds")
    } else if s.passed() {
        ("passed", "every threshold held")
    } else {
        ("failed", "a threshold did not hold")
    };
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d232a}}
main{{max-width:1120px;margin:0 auto;padding:24px}}
h1{{font-size:22px;margin:0 0 4px}} h2{{font-size:16px;margin:28px 0 8px}}
.meta{{color:#566;margin:0 0 12px}}
.badge{{display:inline-block;padding:3px 10px;border-radius:12px;font-weight:600;color:#fff}}
.passed{{background:#1f8a4c}} .failed{{background:#c0392b}} .interrupted{{background:#b9770e}} .none{{background:#6b7785}}
.notjudged{{color:#b9770e;font-weight:600}} .ok{{color:#1f8a4c;font-weight:600}} .bad{{color:#c0392b;font-weight:600}}
table{{border-collapse:collapse;background:#fff;width:100%;box-shadow:0 1px 2px #0001}}
th,td{{padding:6px 10px;border-bottom:1px solid #e3e6ea;text-align:right;white-space:nowrap}}
th:first-child,td:first-child{{text-align:left}} td.msg,th.msg{{text-align:left;white-space:normal}}
p.foot{{margin-top:24px}}
th{{background:#eef1f4;font-weight:600}}
.cards{{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}}
.card{{background:#fff;padding:10px 14px;box-shadow:0 1px 2px #0001;min-width:130px}}
.card b{{display:block;font-size:20px}}
svg{{background:#fff;box-shadow:0 1px 2px #0001}} svg text{{font:12px system-ui,sans-serif;fill:#1d232a}}
</style></head><body><main>
<h1>{title}</h1>
<p class="meta">{users} users, run time {run_time} s, measured {duration:.3} s{window}</p>
<p><span class="badge {vclass}">{vtext}</span></p>
"#,
        title = esc(&title),
        users = s.users,
        run_time = s.run_time_s,
        duration = s.duration_s,
        window = s.window.as_ref().map_or_else(
            || " (the window never opened: the run ended before every user started)".to_owned(),
            |w| format!(", window {} → {}", esc(&w.start), esc(&w.end))
        ),
        vclass = verdict.0,
        vtext = verdict.1,
    );
    if let Some(w) = s.worker {
        let _ = writeln!(
            h,
            "<p class=\"meta\">Worker {} of {}: this is one slice of a distributed run; merge the workers with <code>nvcert load merge</code>.</p>",
            w.index, w.workers
        );
    }
    let (requests, failures) = (s.total_requests(), s.total_failures());
    let rps: f64 = s.transactions.iter().map(|t| t.rps).sum();
    let _ = write!(
        h,
        r#"<div class="cards"><div class="card">requests<b>{requests}</b></div><div class="card">failures<b>{failures}</b></div><div class="card">req/s<b>{rps:.1}</b></div><div class="card">skipped steps<b>{skipped}</b></div></div>
<h2>Transactions</h2>
<table><thead><tr><th>transaction</th><th>requests</th><th>failures</th><th>skipped</th><th>req/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th class="msg">HTTP statuses</th></tr></thead><tbody>
"#,
        skipped = s.transactions.iter().map(|t| t.skipped).sum::<u64>()
    );
    let ms = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.3}"));
    for t in &s.transactions {
        let statuses = t
            .statuses
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"msg\">{}</td></tr>",
            esc(&t.name),
            t.requests,
            if t.failures > 0 { "bad" } else { "" },
            t.failures,
            t.skipped,
            t.rps,
            ms(t.p50_ms),
            ms(t.p95_ms),
            ms(t.p99_ms),
            esc(&statuses)
        );
    }
    h.push_str("</tbody></table>\n<h2>Latency (ms)</h2>\n");
    latency_chart(&mut h, s);
    if !s.thresholds.is_empty() {
        h.push_str("<h2>Thresholds</h2>\n<table><thead><tr><th>threshold</th><th>observed</th><th>verdict</th></tr></thead><tbody>\n");
        for t in &s.thresholds {
            let (class, text) = match t.verdict {
                Verdict::Passed => ("ok", "passed"),
                Verdict::Failed => ("bad", "failed"),
                Verdict::NotJudged => ("notjudged", "not judged (run interrupted)"),
            };
            let observed = t.observed.map_or_else(
                || "nothing observed".to_owned(),
                |o| format!("{} {}", trim_number(o), t.unit),
            );
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"{class}\">{text}</td></tr>",
                esc(&t.expression),
                esc(&observed)
            );
        }
        h.push_str("</tbody></table>\n");
    }
    if s.transactions.iter().any(|t| !t.errors.is_empty()) {
        h.push_str("<h2>Failures</h2>\n<table><thead><tr><th>transaction</th><th>count</th><th class=\"msg\">message</th></tr></thead><tbody>\n");
        for t in &s.transactions {
            for e in &t.errors {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td class=\"msg\">{}</td></tr>",
                    esc(&t.name),
                    e.count,
                    esc(&e.message)
                );
            }
        }
        h.push_str("</tbody></table>\n");
    }
    if let Some(a) = &s.aggregator_latency {
        let ms = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.3}"));
        let _ = writeln!(
            h,
            "<h2>Aggregator's added latency</h2>\n<p class=\"meta\">{} sequential samples per path after the window: each step through the aggregator and at the line's operator directly (ms).</p>",
            a.samples
        );
        h.push_str("<table><thead><tr><th>step</th><th>via aggregator p50</th><th>direct p50</th><th>added p50</th><th>via aggregator p95</th><th>direct p95</th></tr></thead><tbody>\n");
        for step in &a.steps {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&step.step),
                ms(step.via_aggregator_p50_ms),
                ms(step.direct_p50_ms),
                ms(step.added_p50_ms),
                ms(step.via_aggregator_p95_ms),
                ms(step.direct_p95_ms)
            );
        }
        h.push_str("</tbody></table>\n");
        if let Some(note) = &a.note {
            let _ = writeln!(h, "<p class=\"meta\">{}</p>", esc(note));
        }
    }
    if let Some(workers) = &s.workers {
        h.push_str("<h2>Workers</h2>\n<table><thead><tr><th>worker</th><th>users</th><th>window start</th><th>window end</th><th>interrupted</th></tr></thead><tbody>\n");
        for w in workers {
            let (start, end) = w
                .window
                .as_ref()
                .map_or(("–", "–"), |w| (w.start.as_str(), w.end.as_str()));
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                w.index,
                w.users,
                esc(start),
                esc(end),
                if w.interrupted { "yes" } else { "no" }
            );
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("<p class=\"meta foot\">Figures cover the measurement window (every user running). Latencies are exact to 3 significant digits (HDR histograms). Written by nvcert; this page loads nothing from elsewhere.</p>\n</main></body></html>\n");
    h
}

/// Horizontal bars of p50, p95 and p99 per transaction, on one scale (inline SVG).
fn latency_chart(h: &mut String, s: &LoadSummary) {
    const COLORS: [(&str, &str); 3] = [("p50", "#4e79a7"), ("p95", "#f28e2b"), ("p99", "#e15759")];
    let (label_w, chart_w, bar_h, gap) = (110.0, 760.0, 14.0, 14.0);
    let max = s
        .transactions
        .iter()
        .filter_map(|t| t.p99_ms.or(t.p95_ms).or(t.p50_ms))
        .fold(0.0_f64, f64::max)
        .max(0.001);
    let rows = s.transactions.len() as f64;
    let height = 30.0 + rows * (3.0 * bar_h + gap);
    let _ = writeln!(
        h,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" viewBox="0 0 {w} {height}" role="img" aria-label="latency percentiles per transaction">"#,
        w = label_w + chart_w + 120.0
    );
    for (i, (name, color)) in COLORS.iter().enumerate() {
        let x = label_w + i as f64 * 70.0;
        let _ = writeln!(
            h,
            r#"<rect x="{x}" y="6" width="12" height="12" fill="{color}"/><text x="{}" y="16">{name}</text>"#,
            x + 16.0
        );
    }
    for (row, t) in s.transactions.iter().enumerate() {
        let y0 = 30.0 + row as f64 * (3.0 * bar_h + gap);
        let _ = writeln!(
            h,
            r#"<text x="4" y="{}">{}</text>"#,
            y0 + 1.5 * bar_h + 4.0,
            esc(&t.name)
        );
        for (i, (value, (_, color))) in [t.p50_ms, t.p95_ms, t.p99_ms]
            .into_iter()
            .zip(COLORS)
            .enumerate()
        {
            let y = y0 + i as f64 * bar_h;
            match value {
                Some(v) => {
                    let w = (v / max * chart_w).max(1.0);
                    let _ = writeln!(
                        h,
                        r#"<rect x="{label_w}" y="{y}" width="{w:.1}" height="{}" fill="{color}"/><text x="{:.1}" y="{}">{v:.3}</text>"#,
                        bar_h - 2.0,
                        label_w + w + 4.0,
                        y + bar_h - 3.0
                    );
                }
                None if i == 0 => {
                    let _ = writeln!(
                        h,
                        r#"<text x="{label_w}" y="{}">no requests</text>"#,
                        y + bar_h
                    );
                }
                None => {}
            }
        }
    }
    h.push_str("</svg>\n");
}

/// Text for HTML content and attributes (the same escaping as report.html).
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    super::html::escape_into(&mut out, text);
    out
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
            "name", "requests", "failures", "skipped", "rps", "p50_ms", "p95_ms", "p99_ms",
            "statuses", "errors",
        ] {
            assert!(t.get(field).is_some(), "{field} missing");
        }
        assert!(v["transactions"][1]["p95_ms"].is_null());
        assert_eq!(v["thresholds"][0]["passed"], false);
        assert_eq!(v["thresholds"][0]["verdict"], "failed");
        assert_eq!(v["thresholds"][0]["observed"], 0.9);
        assert_eq!(v["interrupted"], false);
    }

    #[test]
    fn an_interrupted_run_says_so_and_judges_nothing() {
        let mut s = sample();
        s.interrupted = true;
        s.thresholds = s.thresholds.into_iter().map(|t| t.not_judged()).collect();
        let mut out = Vec::new();
        write_load_console(&s, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("INTERRUPTED after 2.0 s of 2 s"), "{text}");
        assert!(
            text.contains("not judged verify.p95<0ms (observed 0.9 ms, run interrupted)"),
            "{text}"
        );
        assert!(!text.contains("passed"), "{text}");
        let html = render_html(&s);
        assert!(html.contains("INTERRUPTED"), "{html}");
        assert!(html.contains("not judged"), "{html}");
    }

    /// The page fetches nothing: no script, stylesheet link, image or frame, no URL-bearing
    /// attribute, no @import or url() in the CSS.
    #[test]
    fn the_html_references_nothing_external() {
        let mut s = sample();
        s.workers = Some(vec![crate::load::summary::WorkerWindow {
            index: 0,
            users: 4,
            window: None,
            interrupted: false,
        }]);
        s.transactions[0].errors = vec![crate::load::summary::ErrorCount {
            message: "verify: expected HTTP 200, found HTTP 503".into(),
            count: 3,
        }];
        let html = render_html(&s);
        // The SVG namespace declaration is an identifier, not a fetch.
        let lower = html
            .to_ascii_lowercase()
            .replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for banned in [
            "<script", "<link", "<img", "<iframe", "<object", "<embed", "<use", "@import", "url(",
            "src=", "href=", "http://", "https://", "//cdn",
        ] {
            assert!(!lower.contains(banned), "{banned} in the HTML report");
        }
        assert!(html.contains("<svg"), "no latency chart");
        assert!(html.contains("found HTTP 503"));
        assert!(html.contains("<h2>Workers</h2>"));
    }

    #[test]
    fn provider_text_is_escaped() {
        let mut s = sample();
        s.provider = "<script src=\"https://evil.example/x.js\"></script>".into();
        let html = render_html(&s);
        assert!(!html.contains("<script"), "provider name not escaped");
        assert!(html.contains("&lt;script src=&quot;"));
    }

    #[test]
    fn console_names_each_transaction_and_verdict() {
        let mut out = Vec::new();
        write_load_console(&sample(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("journey scenario, 4 users"), "{text}");
        assert!(text.contains("  verify "), "{text}");
        assert!(
            text.contains("FAILED     verify.p95<0ms (observed 0.9 ms)"),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with("  share") && l.contains(" - "))
        );
    }
}
