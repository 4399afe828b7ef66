//! `nvcert load`: every scenario runs clean against the embedded provider and writes both
//! reports; load-summary.json meets specs/load-summary.schema.json; thresholds decide the exit
//! code (1 when one fails, 2 when one is unusable); usage errors exit 2; no secret reaches a
//! report; the bench-only pieces (--print-token, serve --bench-endpoints) work.
//!
//! Runs are 1 s with 2 users: enough to exercise every step, short on 2 cores.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

fn schema() -> Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/load-summary.schema.json"),
    )
    .expect("schema");
    serde_json::from_str(&text).expect("schema is JSON")
}

/// goose runs in one process share its killswitch (nvcert ends each run through it): one at a
/// time.
static GOOSE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `nvcert load --quiet --users 2 --run-time 1s --report-dir DIR ARGS…` in process: exit code
/// and load-summary.json (`null` when none was written).
async fn load(dir: &Path, args: &[&str]) -> (u8, Value) {
    let _one_at_a_time = GOOSE.lock().await;
    let report = dir.to_str().expect("utf-8 temp path");
    let mut all = vec![
        "load",
        "--quiet",
        "--users",
        "2",
        "--run-time",
        "1s",
        "--report-dir",
        report,
    ];
    all.extend_from_slice(args);
    let code = common::nvcert(&all).await;
    let text =
        std::fs::read_to_string(dir.join("load-summary.json")).unwrap_or_else(|_| "null".into());
    (
        code,
        serde_json::from_str(&text).expect("load-summary.json is JSON"),
    )
}

fn schema_errors(summary: &Value) -> Vec<String> {
    common::schema_errors("specs/load-summary.schema.json", summary)
}

fn names(summary: &Value) -> Vec<&str> {
    summary["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect()
}

// One test runs the scenarios one after another: goose runs share process-wide state (its
// killswitch), and two runs at once on 2 cores would only measure each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_runs_clean_and_writes_both_reports() {
    // Reported transactions; the verify and share scenarios obtain each user's reusable token
    // (authorize, token) before the window opens, so only the iteration's steps must have
    // requests in it.
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (
            &["--scenario", "token-exchange"],
            &["authorize", "token"],
            &["authorize", "token"],
        ),
        (
            &["--scenario", "verify"],
            &["authorize", "token", "verify"],
            &["verify"],
        ),
        (
            &["--scenario", "share"],
            &["authorize", "token", "share"],
            &["share"],
        ),
        (
            &["--scenario", "journey"],
            &["authorize", "token", "verify", "share"],
            &["authorize", "token", "verify", "share"],
        ),
        (
            &["--scenario", "verify", "--single-use-tokens"],
            &["authorize", "token", "verify"],
            &["authorize", "token", "verify"],
        ),
    ];
    for (args, expected, measured) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let (code, summary) = load(dir.path(), args).await;
        assert_eq!(code, 0, "{args:?}: {summary:#}");
        assert!(
            schema_errors(&summary).is_empty(),
            "{args:?}: {:#?}",
            schema_errors(&summary)
        );
        assert_eq!(&names(&summary), expected, "{args:?}");
        assert_eq!(summary["interrupted"], false);
        for t in summary["transactions"].as_array().unwrap() {
            assert_eq!(t["failures"], 0, "{args:?}: {t}");
            assert_eq!(t["skipped"], 0, "{args:?}: {t}");
            if !measured.contains(&t["name"].as_str().unwrap()) {
                continue;
            }
            assert!(t["requests"].as_u64().unwrap() > 0, "{args:?}: {t}");
            assert!(t["rps"].as_f64().unwrap() > 0.0, "{args:?}: {t}");
            assert!(t["p95_ms"].as_f64().unwrap() >= t["p50_ms"].as_f64().unwrap());
            // The real status: the device leg's redirect, the token and API answers.
            let status = if t["name"] == "authorize" {
                "302"
            } else {
                "200"
            };
            assert_eq!(t["statuses"][status], t["requests"], "{args:?}: {t}");
        }
        assert!(dir.path().join("load-histograms.json").is_file());
        let html =
            std::fs::read_to_string(dir.path().join("load-report.html")).expect("the HTML report");
        assert!(html.contains("<html"), "{args:?}");
        for step in *expected {
            assert!(
                html.contains(step),
                "{args:?}: {step} not in the HTML report"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_threshold_the_provider_cannot_meet_exits_1_and_says_which() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, summary) = load(
        dir.path(),
        &[
            "--scenario",
            "verify",
            "--threshold",
            "verify.p95<0ms",
            "--threshold",
            "verify.rps>100000000",
            "--threshold",
            "errors<0.1%",
        ],
    )
    .await;
    assert_eq!(code, 1, "{summary:#}");
    assert!(
        schema_errors(&summary).is_empty(),
        "{:#?}",
        schema_errors(&summary)
    );
    let t = summary["thresholds"].as_array().expect("thresholds");
    assert_eq!(t.len(), 3);
    assert_eq!(t[0]["expression"], "verify.p95<0ms");
    assert_eq!(t[0]["passed"], false);
    assert_eq!(t[0]["unit"], "ms");
    assert!(t[0]["observed"].as_f64().unwrap() > 0.0);
    assert_eq!(t[1]["passed"], false);
    assert_eq!(t[1]["unit"], "req/s");
    assert_eq!(t[2]["passed"], true);
    assert_eq!(t[2]["observed"], 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_that_hold_exit_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, summary) = load(
        dir.path(),
        &[
            "--scenario",
            "share",
            "--threshold",
            "share.p99<10s",
            "--threshold",
            "failures<=0",
        ],
    )
    .await;
    assert_eq!(code, 0, "{summary:#}");
    assert!(
        summary["thresholds"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["passed"] == true)
    );
}

/// Runs the binary (for what clap decides before `cli::run`): exit code and stderr.
fn nvcert_bin(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nvcert"))
        .args(args)
        .output()
        .expect("run nvcert");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unusable_thresholds_and_bounds_exit_2_naming_the_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().to_str().unwrap();
    // `extra` may repeat none of the base flags (clap refuses a flag given twice).
    let run = |users: &str, run_time: &str, extra: &[&str]| {
        let mut args = vec![
            "load",
            "--quiet",
            "--scenario",
            "verify",
            "--report-dir",
            report,
            "--users",
            users,
            "--run-time",
            run_time,
        ];
        args.extend_from_slice(extra);
        nvcert_bin(&args)
    };

    let (code, err) = run("2", "1s", &["--threshold", "verify.p95<50"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("verify.p95<50") && err.contains("needs a unit"),
        "{err}"
    );

    let (code, err) = run("2", "1s", &["--threshold", "verify.latency<5ms"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown metric \"latency\""), "{err}");

    // Known only once the scenario is: checked before any load is sent.
    let (code, err) = run("2", "1s", &["--threshold", "verfy.p95<50ms"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(
            "scenario verify has no transaction \"verfy\" (it has: authorize, token, verify)"
        ),
        "{err}"
    );
    assert!(!dir.path().join("load-summary.json").exists());

    let (code, err) = run("2000", "1s", &[]);
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = run("2", "500ms", &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("whole seconds"), "{err}");
    let (code, err) = nvcert_bin(&["load", "--scenario", "verify", "--users", "2"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--run-time"), "{err}");
    let (code, err) = nvcert_bin(&[
        "load",
        "--scenario",
        "soak",
        "--users",
        "1",
        "--run-time",
        "1s",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("token-exchange"), "{err}");
}

#[tokio::test]
async fn single_use_tokens_only_where_tokens_are_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, summary) = load(
        dir.path(),
        &["--scenario", "journey", "--single-use-tokens"],
    )
    .await;
    assert_eq!(code, 2);
    assert!(summary.is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_load_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _) = load(dir.path(), &["--scenario", "journey"]).await;
    assert_eq!(code, 0);
    let keys = common::fixtures().join("keys");
    let secret = std::fs::read_to_string(keys.join("demo-client-secret.TEST-ONLY.txt")).unwrap();
    let pem = std::fs::read_to_string(keys.join("demo-client-es256.TEST-ONLY.pem")).unwrap();
    let key_line = pem.lines().nth(1).unwrap().to_owned();
    for name in [
        "load-report.html",
        "load-summary.json",
        "load-histograms.json",
    ] {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        for needle in [
            secret.trim(),
            key_line.as_str(),
            "BEGIN PRIVATE KEY",
            "eyJ",
            "Bearer",
            "code=",
            "client_assertion",
        ] {
            assert!(!text.contains(needle), "{name} contains {needle:?}");
        }
    }
}

/// A reference provider on an ephemeral port and a profile for it.
async fn provider_and_profile(dir: &Path) -> (nvcert::provider::ProviderHandle, String) {
    let handle = nvcert::provider::spawn(
        nvcert::provider::ProviderConfig::embedded(),
        ([127, 0, 0, 1], 0).into(),
        None,
    )
    .await
    .expect("provider");
    let url = handle.issuer().to_owned();
    let profile = common::write_profile(dir, &common::profile_text(&url, "private_key_jwt"));
    (handle, profile)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn print_token_gives_a_token_the_api_accepts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (handle, profile) = provider_and_profile(dir.path()).await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_nvcert"))
        .args(["load", "--provider", &profile, "--print-token"])
        .output()
        .await
        .expect("run nvcert");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    assert_eq!(token.split('.').count(), 3, "not a JWT");
    let client = reqwest::Client::new();
    for (path, body) in [
        ("/verify", Some(r#"{"phoneNumber":"+34600000001"}"#)),
        ("/device-phone-number", None),
    ] {
        let url = handle.api_endpoint(path);
        let req = match body {
            Some(b) => client
                .post(url)
                .header("content-type", "application/json")
                .body(b),
            None => client.get(url),
        };
        let resp = req.bearer_auth(&token).send().await.expect("call");
        assert_eq!(resp.status(), 200, "{path}");
    }
    // --print-token needs a provider that outlives the process.
    let (code, err) = nvcert_bin(&["load", "--print-token"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--provider"), "{err}");
    handle.shutdown().await.expect("provider stopped cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_targets_only_loopback_and_the_profiles_hosts() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let url = server.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "issuer": url,
            "authorization_endpoint": format!("{url}/authorize"),
            "token_endpoint": "https://elsewhere.nvcert.invalid/token",
        })))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = common::write_profile(dir.path(), &common::profile_text(&url, "private_key_jwt"));
    let (code, summary) = load(
        dir.path(),
        &["--provider", &profile, "--scenario", "verify"],
    )
    .await;
    assert_eq!(code, 2);
    assert!(summary.is_null());
    // Only discovery was asked for: no load reached anything.
    let received = server.received_requests().await.unwrap_or_default();
    assert!(
        received
            .iter()
            .all(|r| r.url.path() == "/.well-known/openid-configuration"),
        "{received:?}"
    );
}

#[tokio::test]
async fn scenarios_with_the_device_leg_need_one_in_the_profile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = common::profile_text("http://127.0.0.1:9", "private_key_jwt").replace(
        "[device_leg]\nheaders = { \"x-nvcert-msisdn\" = \"+34600000001\" }",
        "[token_source]\nenv = \"NVCERT_TEST_NO_SUCH_TOKEN\"",
    );
    let profile = common::write_profile(dir.path(), &text);
    let (code, _) = load(
        dir.path(),
        &["--provider", &profile, "--scenario", "token-exchange"],
    )
    .await;
    assert_eq!(code, 2);
}

#[test]
fn serve_bench_endpoints_adds_only_the_noop_route() {
    use std::io::{BufRead, BufReader};
    for (flag, expected) in [(true, 200), (false, 404)] {
        let mut args = vec!["serve", "--addr", "127.0.0.1:0"];
        if flag {
            args.push("--bench-endpoints");
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_nvcert"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("banner");
        let addr = line
            .split("listening on ")
            .nth(1)
            .and_then(|s| s.split(')').next())
            .expect("listening address")
            .to_owned();
        let status = std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            rt.block_on(async {
                let resp = reqwest::get(format!("http://{addr}/bench/noop"))
                    .await
                    .expect("GET");
                (
                    resp.status().as_u16(),
                    resp.text().await.unwrap_or_default(),
                )
            })
        })
        .join()
        .expect("client thread");
        child.kill().expect("stop serve");
        let _ = child.wait();
        assert_eq!(status.0, expected, "--bench-endpoints {flag}");
        if flag {
            assert_eq!(status.1, "{}");
        }
    }
}

#[test]
fn the_schema_rejects_a_summary_without_transactions() {
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    assert!(!validator.is_valid(&serde_json::json!({"scenario": "verify"})));
    assert!(!validator.is_valid(&serde_json::json!({
        "scenario": "verify", "provider": "p", "users": 1, "run_time_s": 1, "duration_s": 1.0,
        "transactions": [{"name": "verify", "requests": 1, "failures": 0, "rps": 1.0}],
        "thresholds": []
    })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latency_fault_breaks_a_latency_threshold() {
    let config = nvcert::provider::ProviderConfig::embedded()
        .with_faults([nvcert::provider::Fault::ApiDelay100ms]);
    let handle = nvcert::provider::spawn(config, ([127, 0, 0, 1], 0).into(), None)
        .await
        .expect("provider");
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = common::write_profile(
        dir.path(),
        &common::profile_text(handle.issuer(), "private_key_jwt"),
    );
    let args = [
        "--scenario",
        "verify",
        "--provider",
        &profile,
        "--threshold",
        "verify.p50<50ms",
    ];
    let (code, summary) = load(dir.path(), &args).await;
    handle.shutdown().await.expect("provider stopped cleanly");
    assert_eq!(code, 1, "{summary:#}");
    let t = &summary["thresholds"][0];
    assert_eq!(t["passed"], false);
    assert!(t["observed"].as_f64().unwrap_or(0.0) >= 100.0, "{t:#}");
}

/// The row of transaction `name` in load-summary.json.
fn row<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no {name} row: {summary:#}"))
}

/// The HTML report's transaction table shows the JSON's counts, row by row.
fn assert_html_agrees(dir: &Path, summary: &Value) {
    let html = std::fs::read_to_string(dir.join("load-report.html")).expect("HTML report");
    for t in summary["transactions"].as_array().unwrap() {
        let failures_class = if t["failures"].as_u64().unwrap() > 0 {
            "bad"
        } else {
            ""
        };
        let cells = format!(
            "<tr><td>{}</td><td>{}</td><td class=\"{failures_class}\">{}</td><td>{}</td>",
            t["name"].as_str().unwrap(),
            t["requests"],
            t["failures"],
            t["skipped"]
        );
        assert!(html.contains(&cells), "HTML lacks {cells}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_a_token_failure_and_verify_is_skipped() {
    let server = common::mock_provider::start().await;
    common::mock_provider::answer_json(
        &server,
        "POST",
        "/token",
        400,
        serde_json::json!({"error": "invalid_grant"}),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = common::write_profile(
        dir.path(),
        &common::profile_text(&server.uri(), "private_key_jwt"),
    );
    let (code, summary) = load(
        dir.path(),
        &["--provider", &profile, "--scenario", "verify"],
    )
    .await;
    assert_eq!(code, 0, "{summary:#}");
    let (authorize, token, verify) = (
        row(&summary, "authorize"),
        row(&summary, "token"),
        row(&summary, "verify"),
    );
    assert!(token["requests"].as_u64().unwrap() > 0, "{summary:#}");
    assert_eq!(token["failures"], token["requests"], "{summary:#}");
    assert_eq!(token["statuses"]["400"], token["requests"], "{summary:#}");
    assert!(
        token["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("HTTP 400"),
        "{summary:#}"
    );
    assert_eq!(authorize["failures"], 0);
    assert_eq!(authorize["statuses"]["302"], authorize["requests"]);
    // No /verify was sent: nothing counted there but the skipped calls.
    assert_eq!(
        (&verify["requests"], &verify["failures"]),
        (&0.into(), &0.into())
    );
    assert!(verify["skipped"].as_u64().unwrap() > 0, "{summary:#}");
    assert_html_agrees(dir.path(), &summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_authorization_keeps_its_redirect_status_and_skips_the_rest() {
    let server = common::mock_provider::start().await;
    let refuse = |req: &wiremock::Request| {
        let q = |name: &str| {
            req.url
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let location = format!(
            "{}?error=access_denied&state={}",
            q("redirect_uri"),
            q("state")
        );
        wiremock::ResponseTemplate::new(302).insert_header("location", location.as_str())
    };
    common::mock_provider::break_with(&server, "GET", "/authorize", refuse).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = common::write_profile(
        dir.path(),
        &common::profile_text(&server.uri(), "private_key_jwt"),
    );
    let (code, summary) = load(
        dir.path(),
        &[
            "--provider",
            &profile,
            "--scenario",
            "journey",
            "--threshold",
            "authorize.failures<1",
        ],
    )
    .await;
    assert_eq!(code, 1, "{summary:#}");
    let authorize = row(&summary, "authorize");
    let n = authorize["requests"].as_u64().unwrap();
    assert!(n > 0, "{summary:#}");
    assert_eq!(authorize["failures"], n);
    // The provider answered each one with a redirect: that status, not 0.
    assert_eq!(authorize["statuses"]["302"], n, "{summary:#}");
    assert!(authorize["statuses"].get("0").is_none());
    for name in ["token", "verify", "share"] {
        let t = row(&summary, name);
        assert_eq!(
            (&t["requests"], &t["failures"]),
            (&0.into(), &0.into()),
            "{name}"
        );
        assert!(t["skipped"].as_u64().unwrap() > 0, "{name}: {t}");
    }
    assert_eq!(summary["thresholds"][0]["verdict"], "failed");
    assert_html_agrees(dir.path(), &summary);

    // What a person sees in a real browser, offline: the steps, the failure and why, the verdict.
    let seen = browser_text(&dir.path().join("load-report.html"));
    for text in [
        "a threshold did not hold",
        "authorize",
        "share",
        "error=access_denied",
        "authorize.failures<1",
        "failed",
        "302: ",
    ] {
        assert!(
            seen.contains(text),
            "the browser shows no {text:?}:\n{seen}"
        );
    }
}

/// The page as headless Chromium (Debian's `chromium`, installed by .ci/run) renders it, its
/// DOM serialized; network off, so anything the page fetched would be missing.
fn browser_text(page: &Path) -> String {
    let profile = tempfile::tempdir().expect("tempdir");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--proxy-server=127.0.0.1:9",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium (apt-get install chromium) runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8(out.stdout).expect("utf-8 DOM");
    assert!(dom.contains("<svg"), "no chart rendered");
    // Text content, tags dropped.
    let mut text = String::new();
    let mut in_tag = false;
    for c in dom.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// SIGINT to the real binary: it stops, writes the partial figures marked interrupted, judges
/// no threshold, says so on the console and exits 130.
#[test]
fn sigint_stops_the_run_marks_it_interrupted_and_exits_130() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_nvcert"))
        .args([
            "load",
            "--scenario",
            "journey",
            "--users",
            "2",
            "--run-time",
            "60s",
            "--threshold",
            "errors<100%",
            "--report-dir",
            dir.path().to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nvcert load");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut banner = String::new();
    stdout.read_line(&mut banner).expect("banner");
    assert!(banner.starts_with("nvcert load: journey"), "{banner}");
    // Let the users start and the window open.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "still running 20 s after SIGINT"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("stdout");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{rest}\n{stderr}");
    assert!(rest.contains("INTERRUPTED after"), "{rest}");
    // stdout is a pipe here: no progress line.
    assert!(
        !rest.contains('\r') && !rest.contains("\x1b[2K"),
        "{rest:?}"
    );
    assert!(rest.contains("not judged errors<100%"), "{rest}");
    assert!(!rest.contains("passed"), "{rest}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("load-summary.json")).expect("summary"),
    )
    .expect("JSON");
    assert!(
        schema_errors(&summary).is_empty(),
        "{:#?}",
        schema_errors(&summary)
    );
    assert_eq!(summary["interrupted"], true);
    let duration = summary["duration_s"].as_f64().unwrap();
    assert!(duration < 30.0, "{summary:#}");
    let t = &summary["thresholds"][0];
    assert_eq!(
        (&t["passed"], &t["verdict"]),
        (&false.into(), &"not judged".into())
    );
    assert!(row(&summary, "verify")["requests"].as_u64().unwrap() > 0);
}

/// On a terminal (util-linux `script` gives the run one), a progress line with the elapsed time,
/// requests and failures; with --quiet, nothing but errors.
#[test]
fn a_terminal_gets_a_progress_line_unless_quiet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |quiet: bool| {
        let command = format!(
            "{} load --scenario verify --users 2 --run-time 2s --report-dir {}{}",
            env!("CARGO_BIN_EXE_nvcert"),
            dir.path().display(),
            if quiet { " --quiet" } else { "" }
        );
        let out = Command::new("script")
            .args(["-qfec", &command, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .expect("script (util-linux) runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = run(false);
    assert!(shown.contains("\r\x1b[2K"), "no line redrawn: {shown:?}");
    assert!(shown.contains(" requests  0 failures"), "{shown:?}");
    assert!(shown.contains(" s  "), "no elapsed time: {shown:?}");
    let quiet = run(true);
    assert_eq!(quiet.trim(), "", "{quiet:?}");
}
