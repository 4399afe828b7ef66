//! Report contracts: results.json validates against specs/results.schema.json, junit.xml has a
//! testcase per scenario, and no secret reaches any report.

mod common;

use std::path::Path;

fn schema() -> serde_json::Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/results.schema.json"),
    )
    .expect("schema");
    serde_json::from_str(&text).expect("schema is JSON")
}

#[tokio::test]
async fn results_match_the_schema_and_junit_has_every_scenario() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, results) = common::run_suite(dir.path(), &[]).await;
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&results)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).expect("junit.xml");
    let cases = junit.matches("<testcase ").count() as u64;
    // One testcase per scenario, plus one per lint finding (none for the built-in features,
    // which are not linted; CAMARA's files are, see tests/camara_features.rs).
    let lint = results["lint"].as_array().map_or(0, Vec::len) as u64;
    assert_eq!(lint, 0, "{:#}", results["lint"]);
    assert_eq!(Some(cases), results["summary"]["total"].as_u64());
    assert!(junit.starts_with("<?xml"));
}

#[test]
fn the_schema_describes_lint_findings() {
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    let mut results = serde_json::to_value(nvcert::results::RunResults::new(
        nvcert::results::Target {
            provider: "p".into(),
            issuer: "http://127.0.0.1:1".into(),
            api_base: "http://127.0.0.1:1/number-verification/v2".into(),
            spec_version: "2.1.0".into(),
        },
        Vec::new(),
        Vec::new(),
        Vec::new(),
        0,
    ))
    .expect("serializes");
    results["lint"] = serde_json::json!([
        {"file": "a.feature", "line": 89, "rule": "missing-when", "message": "no When", "scenario": "s"},
        {"file": "a.feature", "line": 1, "rule": "feature-version", "message": "v2.0.0"}
    ]);
    assert!(validator.is_valid(&results));
    // A finding needs its place and rule, and lint is part of the contract.
    results["lint"][0]
        .as_object_mut()
        .expect("object")
        .remove("line");
    assert!(!validator.is_valid(&results));
    results.as_object_mut().expect("object").remove("lint");
    assert!(!validator.is_valid(&results));
}

#[test]
fn the_schema_rejects_results_missing_the_summary() {
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    let bad = serde_json::json!({"scenarios": []});
    assert!(!validator.is_valid(&bad));
}

#[tokio::test]
async fn no_secret_in_any_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _) = common::run_suite(dir.path(), &[]).await;
    assert_eq!(code, 0);
    let keys = common::fixtures().join("keys");
    let secret = std::fs::read_to_string(keys.join("demo-client-secret.TEST-ONLY.txt")).unwrap();
    let pem = std::fs::read_to_string(keys.join("demo-client-es256.TEST-ONLY.pem")).unwrap();
    let key_line = pem.lines().nth(1).unwrap().to_owned();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for needle in [
            secret.trim(),
            key_line.as_str(),
            "BEGIN PRIVATE KEY",
            "eyJ",
            "code=",
            "246810",
        ] {
            assert!(
                !text.contains(needle),
                "{} contains {needle:?}",
                path.display()
            );
        }
    }
}

#[test]
fn the_redactor_hides_what_writers_are_given() {
    use nvcert::results::{Level, RunResults, ScenarioResult, Status, Target};
    let redactor = nvcert::secret::Redactor::default();
    redactor.register_str("tok-very-secret-123");
    let results = RunResults::new(
        Target {
            provider: "p".into(),
            issuer: "i".into(),
            api_base: "a".into(),
            spec_version: "2.1.0".into(),
        },
        vec![
            ScenarioResult {
                feature: "f".into(),
                name: "n".into(),
                tags: vec![],
                status: Status::Failed,
                level: Level::Must,
                citation: Some("RFC 6750 §2.1".into()),
                failures: vec!["sent Bearer tok-very-secret-123".into()],
                skip_reason: None,
                error: None,
                cause: None,
                review: None,
                unexpectedly_passed: false,
                undefined_steps: vec![],
                duration_ms: 1,
            },
            ScenarioResult {
                feature: "f".into(),
                name: "could not run".into(),
                tags: vec![],
                status: Status::Error,
                level: Level::Must,
                citation: None,
                failures: vec![],
                skip_reason: None,
                error: Some(
                    "NV API: request to http://x/?t=tok-very-secret-123 failed: reset".into(),
                ),
                cause: None,
                review: None,
                unexpectedly_passed: false,
                undefined_steps: vec![],
                duration_ms: 1,
            },
        ],
        vec![],
        vec![],
        1,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    nvcert::report::write_all(&results, dir.path(), &redactor).expect("write");
    let mut console = Vec::new();
    nvcert::report::write_console(&results, &redactor, &mut console).expect("console");
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let console = String::from_utf8(console).unwrap();
    for text in [
        &junit,
        &std::fs::read_to_string(dir.path().join("results.json")).unwrap(),
        &console,
    ] {
        assert!(
            !text.contains("tok-very-secret-123") && text.contains("[redacted]"),
            "{text}"
        );
    }
    // The scenario that could not run is an <error>, counted apart from failures.
    assert!(junit.contains("failures=\"1\" errors=\"1\""), "{junit}");
    assert!(
        junit
            .contains("<error message=\"NV API: request to http://x/?t=[redacted] failed: reset\""),
        "{junit}"
    );
    assert!(
        console.contains("ERROR    MUST   f › could not run"),
        "{console}"
    );
    assert!(console.contains("1 failed, 1 could not run"), "{console}");
    assert!(!results.succeeded());
}
