//! report.html in a real browser: headless Chromium loads the page written by a run with a
//! failing scenario, runs its script, and the DOM it ends with shows what a person would see
//! (the verdict, scenario names, the failed scenario's message, the filter counter the script
//! fills in). A screenshot is written to the test's target folder for a person to look at.
//!
//! Needs Debian's `chromium` (`.ci/run` installs it). Under CI=true a missing browser fails the
//! test; elsewhere the test says so on stderr and stops.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nvcert::provider::{Fault, ProviderConfig};

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Runs the browser headless on `page` with `extra` arguments; returns its stdout. Bounded: a
/// browser that does not finish within a minute is killed and the test fails.
fn browse(browser: &Path, profile: &Path, page: &Path, extra: &[&str]) -> String {
    let out = tempfile::NamedTempFile::new().expect("temporary file");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(out.reopen().expect("reopen"))
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "chromium exited with {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(out.path()).expect("chromium output")
}

/// The browser, or `None` (said on stderr) when it is not installed outside CI.
fn browser_or_skip() -> Option<PathBuf> {
    let browser = chromium();
    if browser.is_none() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "chromium is not installed (CI=true): .ci/run installs it"
        );
        #[allow(
            clippy::print_stderr,
            reason = "a test that cannot run here says so where a person looks"
        )]
        {
            eprintln!(
                "SKIPPED: chromium is not installed; report.html was not checked in a browser"
            );
        }
    }
    browser
}

/// [`browse`] off the async runtime, with a browser profile of its own.
async fn browse_async(browser: &Path, page: &Path, extra: Vec<String>) -> String {
    let user_data = tempfile::tempdir().expect("browser profile");
    let (browser, page) = (browser.to_owned(), page.to_owned());
    tokio::task::spawn_blocking(move || {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        browse(&browser, user_data.path(), &page, &extra)
    })
    .await
    .expect("join")
}

/// Takes a screenshot of `page` into the test's target folder as `name`, for a person to look at.
async fn screenshot(browser: &Path, page: &Path, name: &str, size: &str) {
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_file(&shot);
    let extra = vec![
        format!("--screenshot={}", shot.display()),
        format!("--window-size={size}"),
    ];
    browse_async(browser, page, extra).await;
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
}

/// The DOM of `page` once its script ran.
async fn rendered_dom(browser: &Path, page: &Path) -> String {
    browse_async(browser, page, vec!["--dump-dom".to_owned()]).await
}

fn assert_self_contained(html: &str) {
    for external in ["<link", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(!html.contains(external), "report.html refers to {external}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_renders_in_chromium_with_the_failure_visible() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let mut config = ProviderConfig::embedded();
    config
        .faults
        .push("api-verify-always-true".parse::<Fault>().expect("fault"));
    let handle = nvcert::provider::spawn(config, ([127, 0, 0, 1], 0).into(), None)
        .await
        .expect("spawn");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = handle.url.as_str().trim_end_matches('/').to_owned();
    let profile = common::write_profile(dir.path(), &common::reference_profile_for(&url));
    let reports = dir.path().join("reports");
    let (code, results) = common::run_suite(
        &reports,
        &["--provider", &profile, "--tags", "@verify or @share"],
    )
    .await;
    handle.shutdown().await.expect("provider stopped");
    assert_eq!(code, 1, "the faulty provider fails the run");
    let page = reports.join("report.html");
    let html = std::fs::read_to_string(&page).expect("report.html");

    // Self-contained: nothing fetched from anywhere.
    assert_self_contained(&html);

    let dom = rendered_dom(&browser, &page).await;
    let total = results["summary"]["total"].as_u64().expect("total");
    for seen in [
        "id=\"verdict\">FAILED<".to_owned(),
        "Another number in plain text is not verified".to_owned(),
        "The device's own number in plain text is verified".to_owned(),
        "expected false, found true".to_owned(),
        "the failure concerns this exchange".to_owned(),
        "$NVCERT_ACCESS_TOKEN".to_owned(),
        // Filled in by the page's script: proof it ran.
        format!("{total} of {total} scenarios shown"),
    ] {
        let seen = seen.replace('\'', "&#39;");
        let in_dom = dom.contains(&seen) || dom.contains(&seen.replace("&#39;", "'"));
        assert!(in_dom, "{seen:?} not in the rendered page");
    }
    for scenario in results["scenarios"].as_array().expect("scenarios") {
        let name = scenario["name"].as_str().expect("name");
        assert!(
            dom.contains(name) || dom.contains(&name.replace('\'', "&#39;")),
            "scenario {name:?} not in the rendered page"
        );
    }

    // A screenshot for a person to look at (kept in the test's target folder).
    screenshot(&browser, &page, "report-html.png", "1280,2000").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_matrix_view_renders_in_chromium_with_the_fault_in_its_column_and_the_regression_marked()
 {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let profiles = tempfile::tempdir().expect("tempdir");
    let reports = tempfile::tempdir().expect("tempdir");
    let (first, second) = (reports.path().join("first"), reports.path().join("second"));
    let dir = profiles.path();
    let (a, _) = common::named_provider(dir, "a", "Alpha Telco", &[]).await;
    let (b, _) = common::named_provider(dir, "b", "Beta Telco", &[]).await;
    let (c, _) =
        common::named_provider(dir, "c", "Gamma Telco", &[Fault::ApiVerifyAlwaysTrue]).await;
    let run = |report: &Path, baseline: Option<&Path>| {
        let mut args = vec![
            "run".to_owned(),
            "--quiet".to_owned(),
            "--report-dir".to_owned(),
            report.to_str().expect("utf-8").to_owned(),
            "--providers".to_owned(),
            dir.to_str().expect("utf-8").to_owned(),
        ];
        if let Some(b) = baseline {
            args.extend([
                "--baseline".to_owned(),
                b.to_str().expect("utf-8").to_owned(),
            ]);
        }
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            common::nvcert(&args).await
        }
    };
    assert_eq!(
        run(&first, None).await,
        1,
        "the faulty provider fails the run"
    );
    let page = first.join("report.html");
    let html = std::fs::read_to_string(&page).expect("the matrix's report.html");
    assert_self_contained(&html);
    let dom = rendered_dom(&browser, &page).await;
    let matrix: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(first.join("matrix.json")).expect("matrix"))
            .expect("JSON");
    let checks = matrix["checks"].as_array().expect("checks").len();
    // What each provider did not pass, to say why when the page is not as expected.
    let mut not_passed = Vec::new();
    for slug in ["alpha-telco", "beta-telco", "gamma-telco"] {
        let text = std::fs::read_to_string(first.join(slug).join("results.json")).expect("results");
        let results: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        for sc in common::scenarios_with_status(&results, "failed") {
            not_passed.push(format!("{slug}: {} {}", sc["name"], sc["failures"]));
        }
    }
    let not_passed = not_passed.join("\n");
    for seen in [
        "id=\"verdict\">FAILED<".to_owned(),
        "2 passed, 1 failed, 0 incomplete".to_owned(),
        format!("{checks} of {checks} checks shown"),
        "href=\"alpha-telco/report.html\"".to_owned(),
        "href=\"gamma-telco/report.html\"".to_owned(),
        "Another number in plain text is not verified".to_owned(),
    ] {
        assert!(
            dom.contains(&seen),
            "{seen:?} not in the rendered matrix; not passed:\n{not_passed}"
        );
    }
    for slug in ["alpha-telco", "beta-telco", "gamma-telco"] {
        assert!(
            first.join(slug).join("report.html").is_file(),
            "the column of {slug} links to its own report"
        );
    }
    // The fault shows in its column only: the failed cells are all Gamma's.
    let failed_cells: Vec<&str> = dom
        .match_indices("data-status=\"failed\" data-slug=\"")
        .map(|(i, m)| {
            let rest = &dom[i + m.len()..];
            &rest[..rest.find('"').expect("attribute end")]
        })
        .collect();
    assert_eq!(failed_cells, ["gamma-telco", "gamma-telco"], "{dom}");
    screenshot(&browser, &page, "report-matrix.png", "1400,1100").await;

    // Second run: another fault on Gamma, against the first run.
    c.shutdown().await.expect("provider stopped");
    let (c2, _) =
        common::named_provider(dir, "c", "Gamma Telco", &[Fault::ApiHashCaseSensitive]).await;
    assert_eq!(
        run(&second, Some(&first)).await,
        1,
        "a regression fails the run"
    );
    let page = second.join("report.html");
    let dom = rendered_dom(&browser, &page).await;
    for seen in [
        "<b>1</b>regressions",
        "<b>2</b>fixes",
        "▼ regressed",
        "▲ fixed",
        "gamma-telco: regressed MUST Verify the device phone number › The hash is compared case-insensitively (passed → failed)",
    ] {
        assert!(dom.contains(seen), "{seen:?} not in the rendered matrix");
    }
    assert_eq!(dom.matches("<td class=\"cell regressed\"").count(), 1);
    assert_eq!(dom.matches("<td class=\"cell fixed\"").count(), 2);
    screenshot(&browser, &page, "report-matrix-baseline.png", "1400,1100").await;
    for handle in [a, b, c2] {
        handle.shutdown().await.expect("provider stopped");
    }
}
