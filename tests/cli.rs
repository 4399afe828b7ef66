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
    let report = dir.path().to_str().unwrap();
    assert_eq!(
        common::nvcert(&[
            "run",
            "--quiet",
            "--report-dir",
            report,
            "--tags",
            "@a and (@b"
        ])
        .await,
        2
    );
    let text = common::profile_text("http://127.0.0.1:9", "private_key_jwt")
        .replace("spec_version = \"2.1.0\"", "spec_version = \"9.9.9\"");
    let profile = common::write_profile(dir.path(), &text);
    assert_eq!(
        common::nvcert(&[
            "run",
            "--quiet",
            "--report-dir",
            report,
            "--provider",
            &profile
        ])
        .await,
        2
    );
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
    // name, placeholders before its examples are filled in, starts one entry per example).
    let features = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("features");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&features).expect("features") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("feature");
        for line in text.lines().map(str::trim_start) {
            if let Some(name) = line
                .strip_prefix("Scenario Outline: ")
                .or_else(|| line.strip_prefix("Scenario: "))
            {
                names.push(name.split('<').next().unwrap_or(name).to_owned());
            }
        }
    }
    assert!(names.len() > 50, "{} scenarios found", names.len());
    assert!(all.len() >= names.len());
    for name in &names {
        assert!(
            all.iter().any(|c| c["scenario"]
                .as_str()
                .is_some_and(|s| s.starts_with(name.as_str()))),
            "{name:?} is not listed"
        );
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
    // The table and Markdown say the same.
    let table = list(&[]);
    assert!(
        table.contains("@verify_plain_false")
            && table.ends_with(&format!("{} checks\n", released.len()))
    );
    let markdown = list(&["--format", "markdown"]);
    assert_eq!(markdown.lines().count(), released.len() + 2);
}
