//! The CLI contract: exit codes, error messages naming file and field, tag selection.

mod common;

#[tokio::test]
async fn missing_profile_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let code = common::nvcert(&[
        "run",
        "--quiet",
        "--report-dir",
        dir.path().to_str().unwrap(),
        "--provider",
        "no/such/profile.toml",
    ])
    .await;
    assert_eq!(code, 2);
}

#[test]
fn invalid_profile_names_file_and_field_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = common::profile_text("http://127.0.0.1:9", "private_key_jwt")
        .replace("\"private_key_jwt\"", "\"jwt\"");
    let profile = common::write_profile(dir.path(), &text);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nvcert"))
        .args(["run", "--quiet", "--provider", &profile, "--report-dir"])
        .arg(dir.path())
        .output()
        .expect("run nvcert");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("profile.toml")
            && stderr.contains("client.auth_method")
            && stderr.contains("\"jwt\""),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nvcert"))
        .args(["run", "--no-such-flag"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn bad_tag_expression_and_unknown_version_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = common::profile_text("http://127.0.0.1:9", "private_key_jwt")
        .replace("spec_version = \"2.1.0\"", "spec_version = \"9.9.9\"");
    let profile = common::write_profile(dir.path(), &text);
    for args in [["--tags", "@a and (@b"], ["--provider", &profile]] {
        let (code, _) = common::run_suite(dir.path(), &args).await;
        assert_eq!(code, 2, "{args:?}");
    }
}

#[tokio::test]
async fn tags_select_scenarios_and_no_match_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, results) = common::run_suite(
        dir.path(),
        &["--tags", "@verify_plain_true or @share_success"],
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(results["summary"]["total"], 2, "{results:#}");
    let (code, _) = common::run_suite(dir.path(), &["--tags", "@no_such_tag"]).await;
    assert_eq!(code, 2);
}

#[tokio::test]
async fn broken_feature_file_is_reported_by_name_and_the_rest_still_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let features = dir.path().join("features");
    std::fs::create_dir(&features).unwrap();
    std::fs::write(
        features.join("broken.feature"),
        "Scenario: a scenario outside any feature\n    Given nothing\n",
    )
    .unwrap();
    std::fs::write(
        features.join("good.feature"),
        "Feature: good\n  Scenario: share\n    Given the header \"Authorization\" is set to a valid access token\n    When the request \"phoneNumberShare\" is sent\n    Then the response status code is 200\n  Scenario: unknown step\n    Given a step nobody wrote\n",
    )
    .unwrap();
    let reports = dir.path().join("reports");
    let (code, results) =
        common::run_suite(&reports, &["--features", features.to_str().unwrap()]).await;
    assert_eq!(code, 1, "a broken file fails the run: {results:#}");
    assert!(
        results["errors"][0]
            .as_str()
            .unwrap_or("")
            .contains("broken.feature"),
        "{results:#}"
    );
    assert_eq!(results["summary"]["passed"], 1, "{results:#}");
    let skipped = common::scenarios_with_status(&results, "skipped");
    assert!(
        skipped[0]["skip_reason"]
            .as_str()
            .unwrap_or("")
            .contains("undefined step: Given a step nobody wrote"),
        "{results:#}"
    );
}

/// Runs the nvcert binary on `profile_text` (written to a temporary profile); exit code, stderr.
async fn run_binary_on(profile_text: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = common::write_profile(dir.path(), profile_text);
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_nvcert"))
        .args(["run", "--quiet", "--provider", &profile, "--report-dir"])
        .arg(dir.path().join("reports"))
        .output()
        .await
        .expect("run nvcert");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A 127.0.0.1 port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_misconfigured_profile_stops_before_any_scenario_with_one_line() {
    let (handle, url) = common::spawn_provider(nvcert::provider::ProviderConfig::embedded()).await;
    let good = common::reference_profile_for(&url);
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let with = |extra: &str| format!("{good}\n{extra}\n");
    let cases: Vec<(&str, String, Vec<String>)> = vec![
        (
            "unset token-source variable",
            with("[token_source]\nenv = \"NVCERT_TEST_SURELY_UNSET_TOKEN\""),
            vec![
                "field `token_source.env`".into(),
                "NVCERT_TEST_SURELY_UNSET_TOKEN is not set".into(),
            ],
        ),
        (
            "operator-token command not installed",
            good.replace(
                &format!("device_url = \"{url}/ts43/operator-token\""),
                "command = \"nvcert-test-no-such-command --line 1\"",
            ),
            vec![
                "field `operator_token.command`".into(),
                "127 (command not found)".into(),
            ],
        ),
        (
            "closed port",
            common::reference_profile_for(&closed),
            vec![
                format!("discovery {closed}/.well-known/openid-configuration"),
                "field `issuer`".into(),
                "cannot be fetched".into(),
            ],
        ),
        (
            "unknown host",
            common::reference_profile_for("http://nvcert-no-such-host.invalid"),
            vec![
                "discovery http://nvcert-no-such-host.invalid/.well-known/openid-configuration"
                    .into(),
                "cannot be fetched".into(),
            ],
        ),
        (
            "discovery answering 404",
            good.replacen(
                &format!("issuer = \"{url}\""),
                &format!("issuer = \"{url}/elsewhere\""),
                1,
            ),
            vec![
                "field `issuer`".into(),
                "expected HTTP 200 with the discovery document, found HTTP 404".into(),
            ],
        ),
        (
            "API root unreachable",
            good.replacen(
                &format!("api_root = \"{url}\""),
                &format!("api_root = \"{closed}\""),
                1,
            ),
            vec![
                format!("API {closed}/number-verification/"),
                "field `api_root`".into(),
                "cannot be reached".into(),
            ],
        ),
    ];
    for (case, text, wanted) in cases {
        let (code, stderr) = run_binary_on(&text).await;
        assert_eq!(code, Some(2), "{case}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{case}: one line: {stderr}");
        assert!(
            stderr.starts_with("nvcert: preflight: "),
            "{case}: {stderr}"
        );
        for w in wanted {
            assert!(stderr.contains(&w), "{case}: expected {w:?} in {stderr}");
        }
    }
    handle.shutdown().await.expect("provider stopped cleanly");
}

#[tokio::test]
async fn spec_version_takes_a_leading_v_and_an_unknown_one_blames_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, results) = common::run_suite(
        dir.path(),
        &["--spec-version", "v2.0.0", "--tags", "@verify_plain_true"],
    )
    .await;
    assert_eq!(code, 0, "{results:#}");
    assert_eq!(results["target"]["spec_version"], "2.0.0", "{results:#}");

    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_nvcert"))
        .args(["run", "--quiet", "--spec-version", "v9.9", "--report-dir"])
        .arg(dir.path())
        .output()
        .await
        .expect("run nvcert");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("nvcert: --spec-version: ") && stderr.contains("2.1.0"),
        "{stderr}"
    );
    assert!(!stderr.contains("reference profile"), "{stderr}");
}

#[tokio::test]
async fn an_empty_or_unparsable_feature_file_is_named_with_line_and_expectation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.feature");
    let broken = dir.path().join("broken.feature");
    std::fs::write(&empty, "").unwrap();
    std::fs::write(
        &broken,
        "Feature: x\n  Scenario: y\n    Given the header \"Authorization\" is set to a valid access token\n  Scenari: typo\n",
    )
    .unwrap();
    let reports = dir.path().join("reports");
    let (code, results) = common::run_suite(
        &reports,
        &[
            "--features",
            empty.to_str().unwrap(),
            "--features",
            broken.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 1, "{results:#}");
    assert_eq!(results["verdict"], "incomplete", "{results:#}");
    let errors: Vec<&str> = results["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    assert_eq!(
        errors,
        [
            format!(
                "{}: expected a `Feature:` line, found an empty file",
                empty.display()
            ),
            format!(
                "{}, line 4: expected a Gherkin line (`Scenario:`, `Background:`, `Rule:`, \
                 `Examples:`, a step starting with Given/When/Then/And/But/*, a table row `|…|`, \
                 a tag `@…` or a comment `#…`), found \"Scenari: typo\"",
                broken.display()
            ),
        ],
        "{results:#}"
    );
}

#[tokio::test]
async fn serve_prints_a_ready_line_once_it_accepts_connections() {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nvcert"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start nvcert serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
        .await
        .expect("a line within 20 s")
        .expect("readable")
        .expect("a first line");
    assert!(
        line.starts_with("ready: nvcert reference provider on http://127.0.0.1:"),
        "{line}"
    );
    let addr = line
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("listening address");
    // Ready means ready: the first request is answered.
    let stream = tokio::net::TcpStream::connect(addr).await;
    assert!(stream.is_ok(), "{line}: {stream:?}");
    child.kill().await.expect("stop serve");
}

/// `nvcert list --format json`: every check the features hold, each with its level and
/// citation; filters by version and rule set as `run` does.
#[test]
fn list_names_every_check_with_level_and_citation() {
    let list = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_nvcert"))
            .arg("list")
            .args(args)
            .output()
            .expect("run nvcert");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let parse = |text: String| -> Vec<serde_json::Value> {
        serde_json::from_str(&text).expect("JSON array")
    };
    let all = parse(list(&["--format", "json", "--rule-set", "wip"]));
    // Every scenario of the built-in features, read from the files themselves (an outline's
    // name, placeholders before its examples are filled in, starts one entry per example):
    // CAMARA NV's in features/, PhoneCheck's in features/phonecheck/, each listed with its
    // family and the dialect that selects it.
    let features = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("features");
    let scenario_names = |dir: &std::path::Path| {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).expect("features") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "feature") {
                continue;
            }
            let text = std::fs::read_to_string(path).expect("feature");
            for line in text.lines().map(str::trim_start) {
                if let Some(name) = line
                    .strip_prefix("Scenario Outline: ")
                    .or_else(|| line.strip_prefix("Scenario: "))
                {
                    names.push(name.split('<').next().unwrap_or(name).to_owned());
                }
            }
        }
        names
    };
    let families = [
        ("camara-nv", None, scenario_names(&features)),
        (
            "phonecheck",
            Some("idlayr-phonecheck-v0.1"),
            scenario_names(&features.join("phonecheck")),
        ),
    ];
    assert!(families[0].2.len() > 50, "{:?}", families[0].2);
    assert!(families[1].2.len() >= 15, "{:?}", families[1].2);
    assert!(all.len() >= families[0].2.len() + families[1].2.len());
    for (family, dialect, names) in &families {
        for name in names {
            assert!(
                all.iter().any(|c| c["scenario"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(name.as_str()))
                    && c["family"] == *family
                    && c["dialect"] == serde_json::json!(dialect)),
                "{name:?} is not listed as a {family} check"
            );
        }
    }
    for check in &all {
        assert!(
            ["MUST", "SHOULD", "REVIEW"].contains(&check["level"].as_str().unwrap_or("")),
            "{check}"
        );
        assert!(
            check["citation"].as_str().is_some_and(|c| !c.is_empty()),
            "{check}"
        );
        assert!(check["tag"].as_str().is_some(), "{check}");
    }
    assert!(
        all.iter()
            .any(|c| c["tag"] == "verify_plain_false" && c["level"] == "MUST")
    );
    assert!(all.iter().any(|c| c["level"] == "SHOULD"));
    // The wip checks are listed only with their rule set; 1.0.0 has no operator-token flows.
    let released = parse(list(&["--format", "json"]));
    assert!(released.len() < all.len());
    assert!(released.iter().all(|c| c["rule_set"].is_null()));
    let old = parse(list(&["--format", "json", "--spec-version", "1.0.0"]));
    assert!(old.len() < released.len());
    assert!(!old.iter().any(|c| c["tag"] == "ciba_operator_token"));
    // The table and Markdown say the same, PhoneCheck's checks marked.
    let phonecheck = released
        .iter()
        .filter(|c| c["family"] == "phonecheck")
        .count();
    assert!(phonecheck >= 15, "{released:#?}");
    let table = list(&[]);
    let row = |tag: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("@{tag} ")))
            .unwrap_or_else(|| panic!("no row for @{tag} in\n{table}"))
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        row("verify_plain_false"),
        ["@verify_plain_false", "camara-nv", "MUST", "all"]
    );
    assert_eq!(
        row("phonecheck_match_false"),
        ["@phonecheck_match_false", "phonecheck", "MUST", "-"]
    );
    assert!(
        table.contains(&format!(
            "\nphonecheck: {phonecheck} checks of IDlayr PhoneCheck v0.1, for profiles with dialect = \"idlayr-phonecheck-v0.1\"\n"
        )) && table.ends_with(&format!("{} checks\n", released.len())),
        "{table}"
    );
    let markdown = list(&["--format", "markdown"]);
    assert_eq!(markdown.lines().count(), released.len() + 2);
    assert_eq!(
        markdown
            .lines()
            .filter(|l| l.contains("| phonecheck (dialect `idlayr-phonecheck-v0.1`) |"))
            .count(),
        phonecheck,
        "{markdown}"
    );
    assert!(
        markdown
            .lines()
            .any(|l| l.starts_with("| `@verify_plain_false` | camara-nv |")),
        "{markdown}"
    );
}
