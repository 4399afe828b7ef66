//! Several providers in one run (`--provider` repeated, `--providers DIR`): per-provider report
//! folders, matrix.json, and comparison with a baseline (`--baseline`, `nvcert baseline accept`).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use nvcert::provider::Fault;
use serde_json::Value;

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON")
}

/// (check, provider slug) of every matrix cell that is not `passed`.
fn not_passed(matrix: &Value) -> BTreeSet<(String, String)> {
    let mut cells = BTreeSet::new();
    for check in matrix["checks"].as_array().expect("checks") {
        for (slug, cell) in check["results"].as_object().expect("results") {
            if cell["status"] != "passed" {
                cells.insert((
                    check["name"].as_str().expect("name").to_owned(),
                    slug.clone(),
                ));
            }
        }
    }
    cells
}

fn checks(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|c| c["check"].as_str().expect("check").to_owned())
        .collect()
}

const PLAIN_FALSE: &str =
    "Verify the device phone number › Another number in plain text is not verified";
const HASHED_FALSE: &str =
    "Verify the device phone number › Another number hashed with SHA-256 is not verified";
const HASH_CASE: &str = "Verify the device phone number › The hash is compared case-insensitively";

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

async fn run(args: &[&str]) -> u8 {
    let mut all = vec!["run", "--quiet"];
    all.extend_from_slice(args);
    common::nvcert(&all).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_shows_only_in_its_column_and_the_next_run_reports_regression_and_fix() {
    let profiles = tempfile::tempdir().expect("tempdir");
    let reports = tempfile::tempdir().expect("tempdir");
    let first = reports.path().join("first");
    let second = reports.path().join("second");
    let dir = profiles.path();

    let (a, pa) = common::named_provider(dir, "a", "Alpha Telco", &[]).await;
    let (b, pb) = common::named_provider(dir, "b", "Beta Telco", &[]).await;
    let (c, pc) =
        common::named_provider(dir, "c", "Gamma Telco", &[Fault::ApiVerifyAlwaysTrue]).await;
    let code = run(&[
        "--report-dir",
        first.to_str().expect("utf-8"),
        "--provider",
        &pa,
        "--provider",
        &pb,
        "--provider",
        &pc,
    ])
    .await;
    assert_eq!(code, 1, "the faulty provider fails the run");
    let matrix = read_json(&first.join("matrix.json"));
    common::assert_matches_schema("specs/matrix.schema.json", &matrix);
    let slugs: Vec<&str> = matrix["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .map(|p| p["slug"].as_str().expect("slug"))
        .collect();
    assert_eq!(slugs, ["alpha-telco", "beta-telco", "gamma-telco"]);
    let verdicts: Vec<&Value> = matrix["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .map(|p| &p["verdict"])
        .collect();
    assert_eq!(verdicts, ["passed", "passed", "failed"]);
    let gamma = "gamma-telco".to_owned();
    let plain = "Another number in plain text is not verified".to_owned();
    let hashed = "Another number hashed with SHA-256 is not verified".to_owned();
    assert_eq!(
        not_passed(&matrix),
        BTreeSet::from([(hashed, gamma.clone()), (plain, gamma.clone())]),
        "the fault shows in its provider's column only"
    );
    // Every check ran on every provider.
    assert!(
        matrix["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .all(|c| c["results"].as_object().expect("cells").len() == 3)
    );
    for slug in &slugs {
        let results = read_json(&first.join(slug).join("results.json"));
        common::assert_matches_schema("specs/results.schema.json", &results);
        assert!(first.join(slug).join("junit.xml").is_file());
    }
    assert!(
        !first.join("results.json").exists(),
        "no single-provider report at the top"
    );

    // Second run: another fault on the third provider, compared with the first run.
    c.shutdown().await.expect("provider stopped");
    let (c2, pc2) =
        common::named_provider(dir, "c", "Gamma Telco", &[Fault::ApiHashCaseSensitive]).await;
    assert_eq!(
        pc2, pc,
        "the same profile file, pointed at the new provider"
    );
    let code = run(&[
        "--report-dir",
        second.to_str().expect("utf-8"),
        "--baseline",
        first.to_str().expect("utf-8"),
        "--providers",
        dir.to_str().expect("utf-8"),
    ])
    .await;
    assert_eq!(code, 1);
    let matrix = read_json(&second.join("matrix.json"));
    common::assert_matches_schema("specs/matrix.schema.json", &matrix);
    let baseline = &matrix["baseline"];
    assert_eq!(baseline["regressions"], 1, "{baseline:#}");
    assert_eq!(baseline["fixes"], 2, "{baseline:#}");
    assert_eq!(baseline["equal"], false);
    for unchanged in ["alpha-telco", "beta-telco"] {
        assert_eq!(
            baseline["providers"][unchanged]["equal"], true,
            "unchanged providers compare equal: {unchanged}"
        );
    }
    let gamma = read_json(&second.join("gamma-telco/results.json"));
    common::assert_matches_schema("specs/results.schema.json", &gamma);
    let diff = &gamma["baseline"];
    assert_eq!(checks(&diff["regressions"]), [HASH_CASE]);
    assert_eq!(diff["regressions"][0]["before"], "passed");
    assert_eq!(diff["regressions"][0]["after"], "failed");
    assert_eq!(checks(&diff["fixes"]), [HASHED_FALSE, PLAIN_FALSE]);
    assert_eq!(diff, &baseline["providers"]["gamma-telco"]);

    // Accepted baselines of the two runs differ exactly in the third provider's three checks.
    let snapshot = |run: &Path, to: &str| {
        let to = reports.path().join(to);
        let run = run.to_str().expect("utf-8").to_owned();
        let to_arg = to.to_str().expect("utf-8").to_owned();
        async move {
            assert_eq!(
                common::nvcert(&["baseline", "accept", &run, "--to", &to_arg]).await,
                0
            );
            read_json(&to)
        }
    };
    let before = snapshot(&first, "first.json").await;
    let after = snapshot(&second, "second.json").await;
    common::assert_matches_schema("specs/baseline.schema.json", &before);
    for unchanged in ["alpha-telco", "beta-telco"] {
        assert_eq!(
            before["providers"][unchanged],
            after["providers"][unchanged]
        );
    }
    let changed: Vec<&String> = before["providers"]["gamma-telco"]["checks"]
        .as_object()
        .expect("checks")
        .iter()
        .filter(|(k, v)| after["providers"]["gamma-telco"]["checks"][k.as_str()] != **v)
        .map(|(k, _)| k)
        .collect();
    assert_eq!(changed, [HASHED_FALSE, PLAIN_FALSE, HASH_CASE]);

    for handle in [a, b, c2] {
        handle.shutdown().await.expect("provider stopped");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_of_an_unchanged_provider_give_the_same_baseline_and_compare_equal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runs = [dir.path().join("one"), dir.path().join("two")];
    let mut snapshots = Vec::new();
    for (i, report) in runs.iter().enumerate() {
        // The embedded reference provider, a fresh one on a new port each time.
        assert_eq!(
            run(&["--report-dir", report.to_str().expect("utf-8")]).await,
            0
        );
        let to = dir.path().join(format!("baseline-{i}.json"));
        let code = common::nvcert(&[
            "baseline",
            "accept",
            report.to_str().expect("utf-8"),
            "--to",
            to.to_str().expect("utf-8"),
        ])
        .await;
        assert_eq!(code, 0);
        snapshots.push(std::fs::read_to_string(&to).expect("baseline written"));
    }
    assert_eq!(snapshots[0], snapshots[1], "byte for byte");
    let text = &snapshots[0];
    common::assert_matches_schema(
        "specs/baseline.schema.json",
        &serde_json::from_str(text).expect("JSON"),
    );
    assert!(text.contains("\"nvcert-reference-provider\": {"), "{text}");
    for volatile in ["duration", "127.0.0.1", "http", "ms\"", "x-correlator\":"] {
        assert!(
            !text.contains(volatile),
            "{volatile} in the baseline:\n{text}"
        );
    }
    let check_lines = text.lines().filter(|l| l.contains("\"status\": ")).count();
    let results = read_json(&runs[0].join("results.json"));
    assert_eq!(
        check_lines,
        results["scenarios"].as_array().expect("scenarios").len(),
        "one check per line"
    );

    // A third run compared with the accepted baseline: equal, and the run passes.
    let third = dir.path().join("three");
    let baseline = dir.path().join("baseline-0.json");
    let code = run(&[
        "--report-dir",
        third.to_str().expect("utf-8"),
        "--baseline",
        baseline.to_str().expect("utf-8"),
    ])
    .await;
    assert_eq!(code, 0);
    let results = read_json(&third.join("results.json"));
    common::assert_matches_schema("specs/results.schema.json", &results);
    assert_eq!(results["baseline"]["provider_in_baseline"], true);
    assert_eq!(results["baseline"]["equal"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_should_regression_fails_the_run_unless_the_baseline_mode_is_report() {
    let profiles = tempfile::tempdir().expect("tempdir");
    let reports = tempfile::tempdir().expect("tempdir");
    let tags = "@client_secret_refused";
    let (good, profile) = common::named_provider(profiles.path(), "p", "Delta", &[]).await;
    let first = reports.path().join("first");
    let args = |dir: &Path| {
        vec![
            "--report-dir".to_owned(),
            dir.to_str().expect("utf-8").to_owned(),
            "--provider".to_owned(),
            profile.clone(),
            "--tags".to_owned(),
            tags.to_owned(),
        ]
    };
    let first_args = args(&first);
    assert_eq!(run(&refs(&first_args)).await, 0);
    good.shutdown().await.expect("provider stopped");

    // The SHOULD check now only warns: alone, that would not fail the run.
    let (bad, profile2) = common::named_provider(
        profiles.path(),
        "p",
        "Delta",
        &[Fault::ClientSecretAccepted],
    )
    .await;
    assert_eq!(profile, profile2);
    let baseline = first.join("results.json");
    for (mode, expected) in [("fail", 1), ("report", 0)] {
        let dir = reports.path().join(mode);
        let mut all = args(&dir);
        all.extend([
            "--baseline".to_owned(),
            baseline.to_str().expect("utf-8").to_owned(),
            "--baseline-mode".to_owned(),
            mode.to_owned(),
        ]);
        let code = run(&refs(&all)).await;
        assert_eq!(code, expected, "--baseline-mode {mode}");
        let results = read_json(&dir.join("results.json"));
        assert_eq!(results["summary"]["warnings"], 1);
        assert_eq!(results["baseline"]["mode"], mode);
        let regressions = &results["baseline"]["regressions"];
        assert_eq!(regressions[0]["level"], "SHOULD");
        assert_eq!(regressions[0]["after"], "warning");
        assert_eq!(regressions.as_array().map(Vec::len), Some(1));
    }
    bad.shutdown().await.expect("provider stopped");
}

/// Runs the nvcert binary; returns the exit code and stderr.
fn nvcert_binary(args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nvcert"))
        .args(args)
        .output()
        .expect("run nvcert");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn an_invalid_profile_in_the_folder_stops_the_run_before_any_provider_is_contacted() {
    let server = common::mock_provider::start().await;
    let profiles = tempfile::tempdir().expect("tempdir");
    let reports = tempfile::tempdir().expect("tempdir");
    let good = common::profile_text(&server.uri(), "private_key_jwt");
    std::fs::write(profiles.path().join("good.toml"), &good).expect("write");
    let broken = good
        .replace("name = \"test provider\"", "name = \"broken\"")
        .replace("timeout_secs = 5", "timeout_secs = 0");
    std::fs::write(profiles.path().join("broken.toml"), broken).expect("write");
    let mistyped = good
        .replace("name = \"test provider\"", "name = \"mistyped\"")
        .replace("timeout_secs = 5", "timeout_secs = \"5\"");
    std::fs::write(profiles.path().join("mistyped.toml"), mistyped).expect("write");
    std::fs::write(profiles.path().join("notes.txt"), "not a profile").expect("write");
    let report_dir = reports.path().join("out");
    let (code, stderr) = nvcert_binary(&[
        "run",
        "--quiet",
        "--providers",
        profiles.path().to_str().expect("utf-8"),
        "--report-dir",
        report_dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    for (file, field) in [
        ("broken.toml", "field `timeout_secs`"),
        ("mistyped.toml", "field `timeout_secs`"),
    ] {
        assert!(
            stderr
                .lines()
                .any(|line| line.contains(file) && line.contains(field)),
            "names {file} and its field: {stderr}"
        );
    }
    assert!(stderr.contains("no provider was run"), "{stderr}");
    assert!(!report_dir.exists(), "nothing was written");
    let requests = server.received_requests().await.unwrap_or_default();
    assert!(
        requests.is_empty(),
        "the valid provider was contacted: {requests:?}"
    );
}

#[test]
fn two_profiles_with_the_same_slug_are_refused() {
    let profiles = tempfile::tempdir().expect("tempdir");
    let reports = tempfile::tempdir().expect("tempdir");
    let one = common::profile_text("http://127.0.0.1:9", "private_key_jwt")
        .replace("name = \"test provider\"", "name = \"Acme Mobile\"");
    let two = one.replace("Acme Mobile", "ACME  mobile!");
    std::fs::write(profiles.path().join("one.toml"), one).expect("write");
    std::fs::write(profiles.path().join("two.toml"), two).expect("write");
    let (code, stderr) = nvcert_binary(&[
        "run",
        "--quiet",
        "--providers",
        profiles.path().to_str().expect("utf-8"),
        "--report-dir",
        reports.path().join("out").to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    for needle in ["one.toml", "two.toml", "acme-mobile/", "`name`"] {
        assert!(stderr.contains(needle), "{needle} missing: {stderr}");
    }
}

#[test]
fn a_baseline_of_another_results_version_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = dir.path().join("results.json");
    std::fs::write(
        &old,
        r#"{"tool_version": "0.0.9", "target": {"provider": "x", "spec_version": "2.1.0"}, "scenarios": []}"#,
    )
    .expect("write");
    let report_dir = dir.path().join("out");
    let (code, stderr) = nvcert_binary(&[
        "run",
        "--quiet",
        "--report-dir",
        report_dir.to_str().expect("utf-8"),
        "--baseline",
        old.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("results version none") && stderr.contains("nothing was compared"),
        "{stderr}"
    );
    assert!(!report_dir.exists(), "the run did not start");
    // `baseline accept` refuses it too.
    let (code, stderr) = nvcert_binary(&[
        "baseline",
        "accept",
        old.to_str().expect("utf-8"),
        "--to",
        dir.path().join("b.json").to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("results version"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_hangs_fails_alone_and_the_others_still_pass() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hanging_url = format!("http://{}", listener.local_addr().expect("address"));
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let profiles = tempfile::tempdir().expect("tempdir");
    let reports = tempfile::tempdir().expect("tempdir");
    let (good, _) = common::named_provider(profiles.path(), "good", "Answers", &[]).await;
    let hanging = common::reference_profile_for(&hanging_url)
        .replace("name = \"nvcert reference provider\"", "name = \"Hangs\"")
        .replace("timeout_secs = 10", "timeout_secs = 1");
    std::fs::write(profiles.path().join("hangs.toml"), hanging).expect("write");
    let code = run(&[
        "--report-dir",
        reports.path().to_str().expect("utf-8"),
        "--providers",
        profiles.path().to_str().expect("utf-8"),
        "--tags",
        "@verify_plain_true or @verify_plain_false",
    ])
    .await;
    // The hanging provider stops at its preflight (discovery gets no answer): a configuration
    // error (exit 2) for it alone, not a run of scenarios that each time out.
    assert_eq!(code, 2);
    let matrix = read_json(&reports.path().join("matrix.json"));
    let providers = matrix["providers"].as_array().expect("providers");
    let verdict = |slug: &str| {
        providers
            .iter()
            .find(|p| p["slug"] == slug)
            .map(|p| {
                (
                    p["verdict"].clone(),
                    p["summary"].clone(),
                    p["error"].clone(),
                )
            })
            .expect("provider listed")
    };
    let (answers, answers_summary, _) = verdict("answers");
    assert_eq!(answers, "passed");
    assert_eq!(answers_summary["passed"], 2);
    let (hangs, hangs_summary, error) = verdict("hangs");
    assert_eq!(
        hangs, "incomplete",
        "could not run: neither passed nor failed"
    );
    assert_eq!(matrix["verdict"], "incomplete");
    assert_eq!(
        matrix["verdicts"],
        serde_json::json!({"passed": 1, "failed": 0, "incomplete": 1})
    );
    assert!(
        hangs_summary.is_null(),
        "nothing green by accident: {hangs_summary}"
    );
    let error = error.as_str().unwrap_or_default();
    assert!(
        error.contains("preflight: discovery") && error.contains(&hanging_url),
        "{error}"
    );
    silent.abort();
    good.shutdown().await.expect("provider stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_whose_must_check_could_not_run_is_incomplete_never_passed() {
    let profiles = tempfile::tempdir().expect("tempdir");
    let reports = tempfile::tempdir().expect("tempdir");
    let (a, pa) = common::named_provider(profiles.path(), "a", "Complete", &[]).await;
    let (b, pb) = common::named_provider(profiles.path(), "b", "Lacks short lived", &[]).await;
    // Without [short_lived_client] the expired-token check (MUST) is skipped: incomplete.
    let text = std::fs::read_to_string(&pb).expect("profile");
    let start = text.find("[short_lived_client]").expect("section");
    let end = start + text[start..].find("\n\n").expect("section end");
    std::fs::write(&pb, format!("{}{}", &text[..start], &text[end..])).expect("write");
    let tags = "@auth_401_expired_token_verify or @verify_plain_true";
    let dir = |name: &str| {
        reports
            .path()
            .join(name)
            .to_str()
            .expect("utf-8")
            .to_owned()
    };
    let (plain, strict) = (dir("plain"), dir("strict"));
    let args = |report: &str| {
        vec![
            "--report-dir".to_owned(),
            report.to_owned(),
            "--provider".to_owned(),
            pa.clone(),
            "--provider".to_owned(),
            pb.clone(),
            "--tags".to_owned(),
            tags.to_owned(),
        ]
    };
    let code = run(&refs(&args(&plain))).await;
    assert_eq!(
        code, 0,
        "incomplete does not fail without --require-complete"
    );
    let matrix = read_json(&Path::new(&plain).join("matrix.json"));
    common::assert_matches_schema("specs/matrix.schema.json", &matrix);
    let verdicts: Vec<(&Value, &Value)> = matrix["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .map(|p| (&p["verdict"], &p["exit_code"]))
        .collect();
    assert_eq!(
        verdicts,
        [
            (&Value::from("passed"), &Value::from(0)),
            (&Value::from("incomplete"), &Value::from(0))
        ]
    );
    assert_eq!(
        matrix["verdict"], "incomplete",
        "incomplete is never passed"
    );
    assert_eq!(
        matrix["verdicts"],
        serde_json::json!({"passed": 1, "failed": 0, "incomplete": 1})
    );
    let results = read_json(&Path::new(&plain).join("lacks-short-lived/results.json"));
    assert_eq!(
        results["verdict"], "incomplete",
        "the same verdict as results.json"
    );

    let mut with_flag = args(&strict);
    with_flag.push("--require-complete".to_owned());
    let code = run(&refs(&with_flag)).await;
    assert_eq!(
        code, 1,
        "--require-complete: incomplete exits 1, as for one provider"
    );
    let matrix = read_json(&Path::new(&strict).join("matrix.json"));
    assert_eq!(matrix["verdict"], "incomplete");
    assert_eq!(matrix["providers"][1]["exit_code"], 1);
    a.shutdown().await.expect("provider stopped");
    b.shutdown().await.expect("provider stopped");
}
