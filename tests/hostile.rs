//! nvcert against providers built to misbehave (tests/common/hostile.rs; loopback only): it stays
//! on the provider's hosts, keeps every secret out of what it writes, ends on time, and says when
//! it was interrupted.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::hostile::{EchoProxy, Hanging, Recorder};
use common::mock_provider as mock;
use wiremock::ResponseTemplate;

/// `nvcert run --provider PROFILE --report-dir REPORTS ARGS…` as a real process; its output.
async fn run_process(profile: &str, reports: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_nvcert"))
        .args(["run", "--provider", profile, "--report-dir"])
        .arg(reports)
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .expect("nvcert runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes the test profile for a provider at `url` in `dir`, with `timeout_secs` and `extra`
/// top-level lines (e.g. allowed_hosts); its path.
fn profile(dir: &Path, url: &str, timeout_secs: u64, extra: &str) -> String {
    let text = common::profile_text(url, "private_key_jwt").replacen(
        "timeout_secs = 5\n",
        &format!("timeout_secs = {timeout_secs}\n{extra}\n"),
        1,
    );
    common::write_profile(dir, &text)
}

/// `nvcert run --quiet --tags @oidc_device_leg` against the mock provider `server`, with
/// `extra` profile lines: the exit code and results.json.
async fn run_device_leg(server: &wiremock::MockServer, extra: &str) -> (u8, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = profile(dir.path(), &server.uri(), 5, extra);
    common::run_suite(
        dir.path(),
        &["--provider", &path, "--tags", "@oidc_device_leg"],
    )
    .await
}

fn read_results(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("JSON")
}

// ----- the device leg stays on the provider's hosts ---------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_host_is_not_followed_and_fails_the_scenario() {
    let elsewhere = Recorder::start([127, 0, 0, 2]).await;
    let server = mock::start().await;
    mock::redirect_authorize(&server, &format!("{}/steal", elsewhere.url)).await;
    let (code, results) = run_device_leg(&server, "").await;
    assert_eq!(code, 1, "{results:#}");
    let failures = common::all_failures(&results);
    assert!(
        failures.contains(
            "redirect to 127.0.0.2 is outside the provider's hosts (127.0.0.1); add it to allowed_hosts in the profile if it belongs to the provider"
        ),
        "{failures}"
    );
    assert!(
        elsewhere.requests().is_empty(),
        "{:?}",
        elsewhere.requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_hosts_lets_the_device_leg_follow_a_redirect_with_its_headers() {
    let operator = Recorder::start([127, 0, 0, 2]).await;
    let server = mock::start().await;
    mock::redirect_authorize(&server, &format!("{}/op-authorize", operator.url)).await;
    let _ = run_device_leg(&server, r#"allowed_hosts = ["127.0.0.2"]"#).await;
    let seen = operator.requests();
    assert!(!seen.is_empty(), "the listed host was not reached");
    assert!(
        seen.iter()
            .all(|s| s.method == "GET" && s.uri.starts_with("/op-authorize"))
    );
    // The enrichment header travels to hosts the profile trusts.
    assert!(
        seen.iter().any(|s| s.headers.get(common::ENRICH).is_some()),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_cloud_metadata_is_never_followed() {
    let server = mock::start().await;
    mock::redirect_authorize(&server, "http://169.254.169.254/latest/meta-data/iam").await;
    let started = Instant::now();
    let (code, results) = run_device_leg(&server, "").await;
    assert_eq!(code, 1);
    let failures = common::all_failures(&results);
    assert!(
        failures.contains("redirect to 169.254.169.254 is a link-local or cloud-metadata address"),
        "{failures}"
    );
    // Not even tried (no connect timeout spent on it).
    assert!(started.elapsed() < Duration::from_secs(5));
}

// ----- discovery -------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_naming_another_host_stops_run_before_any_scenario_with_exit_2() {
    let elsewhere = Recorder::start([127, 0, 0, 2]).await;
    let server = mock::start().await;
    let mut doc = mock::discovery(&server.uri());
    doc["token_endpoint"] = format!("{}/token", elsewhere.url).into();
    mock::serve_discovery(&server, doc).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = profile(dir.path(), &server.uri(), 5, "");
    let reports = dir.path().join("reports");
    let out = run_process(&path, &reports, &[]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    for part in [
        "field `token_endpoint`",
        &format!("{}/token", elsewhere.url),
        "127.0.0.2 is outside the provider's hosts",
        "add it to allowed_hosts",
    ] {
        assert!(stderr.contains(part), "{part:?} missing from {stderr}");
    }
    assert!(!reports.join("results.json").exists(), "no scenario ran");
    assert!(elsewhere.requests().is_empty());
    // Discovery alone was asked for, once per run.
    assert_eq!(mock::requested_paths(&server).await, [mock::DISCOVERY]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_discovery_ends_the_run_in_about_one_timeout_naming_url_and_limit() {
    let hanging = Hanging::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = profile(dir.path(), &hanging.url, 2, "");
    let reports = dir.path().join("reports");
    let started = Instant::now();
    let out = run_process(&path, &reports, &["--quiet"]).await;
    let took = started.elapsed();
    // The preflight's one fetch: about one timeout, not one per scenario; nothing runs (exit 2).
    assert!(took < Duration::from_secs(10), "run took {took:?}");
    assert_eq!(out.status.code(), Some(2));
    assert!(!reports.join("results.json").exists(), "no scenario ran");
    // Said once, on one line, naming the URL and the limit.
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for part in [
        format!("discovery {}/.well-known/openid-configuration", hanging.url),
        "no complete answer within 2 s (timeout_secs in the profile)".to_owned(),
    ] {
        assert_eq!(stderr.matches(&part).count(), 1, "{part:?} in {stderr}");
    }
}

// ----- no secret leaves the process -------------------------------------------------------------

/// Secrets of `secrets` found in `artifact`: whole (8 characters or more) or any 16-character
/// window of one.
fn leaks(secrets: &[String], artifact: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut windows = std::collections::HashMap::new();
    for secret in secrets {
        if artifact.contains(secret.as_str()) {
            found.push(format!("whole secret {}…", &secret[..8.min(secret.len())]));
        }
        for window in secret.as_bytes().windows(16) {
            windows.insert(window, secret);
        }
    }
    for window in artifact.as_bytes().windows(16) {
        if let Some(secret) = windows.get(window) {
            found.push(format!(
                "16 characters of a secret starting {}…",
                &secret[..6.min(secret.len())]
            ));
            break;
        }
    }
    found
}

/// The text of every feature file under `dir`.
fn feature_texts(dir: &Path) -> Vec<String> {
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(dir).expect("features folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            texts.extend(feature_texts(&path));
        } else if path.extension().is_some_and(|e| e == "feature") {
            texts.push(std::fs::read_to_string(&path).expect("feature file"));
        }
    }
    texts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_echoing_every_secret_leaves_none_in_any_artifact() {
    let proxy = EchoProxy::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = common::write_profile(dir.path(), &common::reference_profile_for(&proxy.url));
    let reports = dir.path().join("reports");
    let out = run_process(&path, &reports, &["--rule-set", "wip"]).await;
    let mut secrets = proxy.secrets();
    // The profile's own secrets too.
    let keys = common::fixtures().join("keys");
    for file in [
        "demo-client-secret.TEST-ONLY.txt",
        "demo-client-es256.TEST-ONLY.pem",
        "other-client-es256.TEST-ONLY.pem",
    ] {
        let content = std::fs::read_to_string(keys.join(file)).expect("key file");
        secrets.extend(
            content
                .lines()
                .filter(|l| !l.starts_with("-----") && l.len() >= 16)
                .map(str::to_owned),
        );
    }
    // Values written in the feature files (a login_hint the provider must refuse) are the
    // suite's public inputs, shown in the steps' text, not secrets.
    let features =
        feature_texts(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("features"));
    secrets.retain(|secret| !features.iter().any(|text| text.contains(secret.as_str())));
    assert!(
        secrets.len() > 50,
        "the proxy saw too few secrets ({}): the run did not exercise the flows",
        secrets.len()
    );
    let results = read_results(&reports);
    assert!(
        results["summary"]["total"].as_u64().unwrap_or(0) >= 40,
        "{results:#}"
    );
    let artifacts = [
        (
            "results.json",
            std::fs::read_to_string(reports.join("results.json")).expect("json"),
        ),
        (
            "junit.xml",
            std::fs::read_to_string(reports.join("junit.xml")).expect("junit"),
        ),
        ("stdout", text(&out.stdout)),
        ("stderr", text(&out.stderr)),
    ];
    let mut report = String::new();
    for (name, artifact) in &artifacts {
        for leak in leaks(&secrets, artifact) {
            report.push_str(&format!("{name}: {leak}\n"));
        }
    }
    assert!(report.is_empty(), "secrets leaked:\n{report}");
    // The echo did reach the reports (redacted): the test is not vacuous.
    assert!(artifacts[0].1.contains("[redacted]"));
    // The request-object scenario could not run (the proxy dropped it); its message names the
    // authorization endpoint without the request object.
    let json = &artifacts[0].1;
    assert!(json.contains("/authorize"), "{json}");
    assert!(!json.contains("request=eyJ"), "{json}");
    proxy.stop().await;
}

#[test]
fn the_leak_detector_finds_whole_secrets_and_fragments() {
    let secrets = vec!["abcdefghijklmnopqrstuvwxyz0123456789".to_owned()];
    assert!(leaks(&secrets, "nothing here").is_empty());
    assert!(!leaks(&secrets, "x abcdefghijklmnopqrstuvwxyz0123456789 y").is_empty());
    assert!(!leaks(&secrets, "cut: klmnopqrstuvwxyz01…").is_empty());
    assert!(leaks(&secrets, "short: klmnopqrstuvwxy").is_empty());
}

// ----- Ctrl-C -----------------------------------------------------------------------------------

/// Starts `nvcert run` against a provider at `url` (the test profile, timeouts of 100 s) with
/// a report folder in `dir` holding a previous run's `stale` files; sends SIGINT after `after`.
/// Returns the output, how long it took to end after the signal and the report folder.
async fn interrupted(
    dir: &Path,
    url: &str,
    stale: &[(&str, &str)],
    after: Duration,
) -> (Output, Duration, PathBuf) {
    let path = profile(dir, url, 100, "");
    let reports = dir.join("reports");
    std::fs::create_dir_all(&reports).expect("mkdir");
    for (name, text) in stale {
        std::fs::write(reports.join(name), text).expect("stale report");
    }
    let report_dir = reports.to_str().expect("utf-8");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nvcert"))
        .args(["run", "--provider", &path, "--report-dir", report_dir])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    tokio::time::sleep(after).await;
    let pid = child.id().expect("running").to_string();
    let sent = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("ends after SIGINT")
        .expect("output");
    (out, sent.elapsed(), reports)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_during_the_suite_exits_130_with_a_partial_report_marked_interrupted() {
    // The token endpoint never answers in time: scenarios that need a token hang, the others
    // (discovery, requests without a token) finish.
    let server = mock::start().await;
    mock::break_with(
        &server,
        "POST",
        "/token",
        ResponseTemplate::new(500).set_delay(Duration::from_secs(120)),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, took, reports) = interrupted(
        dir.path(),
        &server.uri(),
        &[("results.json", r#"{"previous": "run"}"#)],
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(out.status.code(), Some(130), "{}", text_of(&out));
    assert!(took < Duration::from_secs(5), "ended {took:?} after SIGINT");
    let results = read_results(&reports);
    assert_eq!(results["interrupted"], true, "{results:#}");
    let finished = results["scenarios"].as_array().map_or(0, Vec::len);
    assert!(
        finished > 0,
        "the finished scenarios are reported: {results:#}"
    );
    common::assert_matches_results_schema(&results);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("INTERRUPTED"), "{stdout}");
    assert!(
        text(&out.stderr).contains("interrupted"),
        "{}",
        text(&out.stderr)
    );
}

fn text_of(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_before_any_scenario_exits_130_and_removes_the_previous_reports() {
    let hanging = Hanging::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, took, reports) = interrupted(
        dir.path(),
        &hanging.url,
        &[
            ("results.json", "previous run"),
            ("junit.xml", "previous run"),
        ],
        Duration::from_millis(1500),
    )
    .await;
    assert_eq!(out.status.code(), Some(130), "{}", text_of(&out));
    assert!(took < Duration::from_secs(5), "ended {took:?} after SIGINT");
    assert!(!reports.join("results.json").exists());
    assert!(!reports.join("junit.xml").exists());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("interrupted before any scenario ran"),
        "{stderr}"
    );
}
