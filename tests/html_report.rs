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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_renders_in_chromium_with_the_failure_visible() {
    let Some(browser) = chromium() else {
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
    for external in ["<link", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(!html.contains(external), "report.html refers to {external}");
    }

    let user_data = tempfile::tempdir().expect("browser profile");
    let dom = tokio::task::spawn_blocking({
        let (browser, page, user_data) =
            (browser.clone(), page.clone(), user_data.path().to_owned());
        move || browse(&browser, &user_data, &page, &["--dump-dom"])
    })
    .await
    .expect("join");
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
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-html.png");
    let _ = std::fs::remove_file(&shot);
    let shot_arg = format!("--screenshot={}", shot.display());
    tokio::task::spawn_blocking({
        let user_data = user_data.path().to_owned();
        move || {
            browse(
                &browser,
                &user_data,
                &page,
                &[&shot_arg, "--window-size=1280,2000"],
            )
        }
    })
    .await
    .expect("join");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
}
