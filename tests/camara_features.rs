//! CAMARA's own test definitions, run unmodified from `fixtures/camara` against the embedded
//! reference provider, and the lint of their known defects.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The official feature files of an NV release, kept byte-identical in `fixtures/camara`.
fn official(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/camara/number-verification")
        .join(version)
        .join("features")
}

fn arg(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn names_with_status(results: &Value, status: &str) -> Vec<String> {
    common::scenarios_with_status(results, status)
        .iter()
        .map(|s| format!("{} › {}", s["feature"], s["name"]))
        .collect()
}

/// Failed scenarios with their messages.
fn failures(results: &Value) -> Vec<String> {
    common::scenarios_with_status(results, "failed")
        .iter()
        .map(|s| format!("{} › {}: {}", s["feature"], s["name"], s["failures"]))
        .collect()
}

/// Every warning is an exact-`message` difference (free text per CAMARA), nothing else.
fn only_message_warnings(results: &Value) {
    for w in common::scenarios_with_status(results, "warning") {
        let failures = w["failures"].as_array().expect("failures");
        assert!(
            failures.iter().all(|f| f
                .as_str()
                .unwrap_or("")
                .starts_with("response property $.message")),
            "{w:#}"
        );
    }
}

fn lint_rules(results: &Value) -> Vec<(String, u64, String, String)> {
    results["lint"]
        .as_array()
        .expect("lint array")
        .iter()
        .map(|l| {
            let file = l["file"].as_str().unwrap_or("");
            let file = Path::new(file)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            (
                file,
                l["line"].as_u64().unwrap_or(0),
                l["rule"].as_str().unwrap_or("").to_owned(),
                l["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn v2_1_0_runs_all_22_scenarios_and_its_defects_are_linted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let features = official("v2.1.0");
    let (_, results) = common::run_suite(dir.path(), &["--features", arg(&features)]).await;
    let s = &results["summary"];
    assert_eq!(s["total"], 22, "{results:#}");
    assert_eq!(s["executed"], 22, "{results:#}");
    assert_eq!(
        s["skipped"],
        0,
        "{:?}",
        names_with_status(&results, "skipped")
    );
    assert_eq!(s["undefined_steps"], 0, "{results:#}");
    assert_eq!(s["review"], 0, "{results:#}");
    assert_eq!(failures(&results), Vec::<String>::new());
    assert_eq!(s["passed"], 22, "{results:#}");
    // Lint findings are warnings, never run errors.
    assert_eq!(results["errors"], serde_json::json!([]), "{results:#}");

    let lint = lint_rules(&results);
    let has = |file: &str, line: u64, rule: &str, text: &str| {
        lint.iter()
            .any(|(f, l, r, m)| f == file && *l == line && r == rule && m.contains(text))
    };
    const VERIFY: &str = "number-verification-phoneNumberVerify.feature";
    const SHARE: &str = "number-verification-phoneNumberShare.feature";
    // 400.3 has no When.
    assert!(
        has(VERIFY, 89, "missing-when", "phoneNumberVerify"),
        "{lint:#?}"
    );
    // 400.4 and C02.01 name schemas no NV spec of v1.0.0 or later has.
    assert!(
        has(
            VERIFY,
            103,
            "schema-ref-missing",
            "#/components/schemas/PhoneNumber"
        ),
        "{lint:#?}"
    );
    assert!(
        has(
            VERIFY,
            104,
            "schema-ref-missing",
            "#/components/schemas/HashedPhoneNumber"
        ),
        "{lint:#?}"
    );
    assert!(
        has(
            VERIFY,
            172,
            "schema-ref-missing",
            "#/components/schemas/PhoneNumber"
        ),
        "{lint:#?}"
    );
    // The share file's 401 scenarios carry phone_number_verify tags.
    for line in [40, 49, 58] {
        assert!(
            has(SHARE, line, "tag-operation", "phoneNumberVerify"),
            "{lint:#?}"
        );
    }
    // Status codes written as strings, in both files.
    assert!(has(SHARE, 43, "status-as-string", "\"401\""), "{lint:#?}");
    assert!(has(VERIFY, 150, "status-as-string", "\"403\""), "{lint:#?}");
    // C02.01's unsatisfiable token, read as a valid one.
    assert!(
        has(VERIFY, 171, "unsatisfiable-token", "PR #255"),
        "{lint:#?}"
    );
    // Nothing else than those defects and their relatives.
    let rules: std::collections::BTreeSet<&str> =
        lint.iter().map(|(_, _, r, _)| r.as_str()).collect();
    assert_eq!(
        rules.into_iter().collect::<Vec<_>>(),
        [
            "content-type-without-body",
            "missing-when",
            "schema-ref-missing",
            "status-as-string",
            "tag-operation",
            "unsatisfiable-token",
            "wording"
        ]
    );

    // The contract of results.json holds with lint findings, and junit.xml carries them as
    // skipped testcases of one "lint" suite, which do not fail CI.
    common::assert_matches_results_schema(&results);
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).expect("junit.xml");
    let n = lint.len();
    assert!(
        junit.contains(&format!(
            "<testsuite name=\"lint\" tests=\"{n}\" failures=\"0\" skipped=\"{n}\""
        )),
        "{junit}"
    );
    assert_eq!(junit.matches("<testcase classname=\"lint\"").count(), n);
    assert_eq!(junit.matches("<skipped message=\"LINT: ").count(), n);
}

#[tokio::test]
async fn v2_0_0_legacy_definitions_run_against_the_provider_at_2_0_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let features = official("v2.0.0");
    let (code, results) = common::run_suite(
        dir.path(),
        &["--spec-version", "2.0.0", "--features", arg(&features)],
    )
    .await;
    let s = &results["summary"];
    // 13 verify scenarios (the schema outline expands to 6) plus 4 share scenarios (plus 2
    // more for the outline's examples); 203/204 are commented out in this release.
    assert_eq!(s["total"], 19, "{results:#}");
    assert_eq!(
        s["executed"],
        19,
        "{:?}",
        names_with_status(&results, "skipped")
    );
    assert_eq!(s["undefined_steps"], 0, "{results:#}");
    assert_eq!(failures(&results), Vec::<String>::new());
    assert_eq!(code, 0, "warnings do not fail the run: {results:#}");
    // The 205 scenarios expect a message the provider words differently: warnings.
    only_message_warnings(&results);
    assert_eq!(s["warnings"], 2, "{results:#}");

    let lint = lint_rules(&results);
    let has = |file: &str, rule: &str, text: &str| {
        lint.iter()
            .any(|(f, _, r, m)| f == file && r == rule && m.contains(text))
    };
    const SHARE: &str = "number-verification-device-phone-number-share.feature";
    const VERIFY: &str = "number-verification-verify.feature";
    assert!(
        has(SHARE, "base-path", "/device-phone-number/v2"),
        "{lint:#?}"
    );
    assert!(
        has(SHARE, "response-schema", "NumberVerificationMatchResponse"),
        "{lint:#?}"
    );
    assert!(
        has(SHARE, "scope-operation", "number-verification:verify"),
        "{lint:#?}"
    );
    assert!(
        has(SHARE, "body-without-request-body", "phoneNumberShare"),
        "{lint:#?}"
    );
    assert!(
        has(
            VERIFY,
            "undefined-asset",
            "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER "
        ),
        "{lint:#?}"
    );
    assert!(has(VERIFY, "wrong-method", "GET /verify"), "{lint:#?}");
    assert!(has(VERIFY, "message-exact", "free text"), "{lint:#?}");
}

#[tokio::test]
async fn v1_0_0_legacy_definitions_run_against_the_provider_at_1_0_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let features = official("v1.0.0");
    let (code, results) = common::run_suite(
        dir.path(),
        &["--spec-version", "1.0.0", "--features", arg(&features)],
    )
    .await;
    let s = &results["summary"];
    assert_eq!(s["total"], 21, "{results:#}");
    assert_eq!(s["undefined_steps"], 0, "{results:#}");
    assert_eq!(failures(&results), Vec::<String>::new());
    assert_eq!(code, 0, "{results:#}");
    only_message_warnings(&results);
    // Only the INVALID_TOKEN_CONTEXT scenarios (203, 204) are skipped: no NV flow yields a
    // token without a phone number. They are never passed.
    let skipped = common::scenarios_with_status(&results, "skipped");
    assert_eq!(skipped.len(), 2, "{results:#}");
    for sc in skipped {
        assert!(
            sc["skip_reason"]
                .as_str()
                .unwrap_or("")
                .contains("not associated with a phone number"),
            "{sc:#}"
        );
    }
    let lint = lint_rules(&results);
    assert!(
        lint.iter().any(|(f, _, r, m)| f
            == "number-verification-device-phone-number-share.feature"
            && r == "base-path"
            && m.contains("/device-phone-number/v1")),
        "{lint:#?}"
    );
    assert!(
        lint.iter().any(|(_, _, r, _)| r == "unsatisfiable-token"),
        "{lint:#?}"
    );
}

#[test]
fn r1_2_definitions_expect_a_code_their_spec_does_not_document_for_403() {
    // CAMARA r1.2 asserted 403 "UNAUTHENTICATED" for a missing scope (fixed in r1.3); the lint
    // names it without running anything.
    let spec = nvcert::spec::builtin("1.0.0").expect("spec");
    let dir = official("v1.0.0").with_file_name("features-r1.2");
    let mut features = Vec::new();
    for name in [
        "number-verification-verify.feature",
        "number-verification-device-phone-number-share.feature",
    ] {
        let f = cucumber::gherkin::Feature::parse_path(
            dir.join(name),
            cucumber::gherkin::GherkinEnv::default(),
        )
        .expect("parses");
        features.push(f);
    }
    let lint = nvcert::suite::lint(&features, &spec);
    let undocumented: Vec<_> = lint
        .iter()
        .filter(|l| l.rule == "code-undocumented")
        .collect();
    assert_eq!(undocumented.len(), 2, "{lint:#?}");
    assert!(
        undocumented
            .iter()
            .all(|l| l.message.contains("UNAUTHENTICATED") && l.message.contains("403")),
        "{lint:#?}"
    );
}

#[tokio::test]
async fn an_unknown_phrasing_is_an_undefined_step_and_the_run_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("mixed.feature");
    std::fs::write(
        &file,
        r##"Feature: CAMARA Number Verification API, v2.1.0 - Operation phoneNumberShare
  Background: Common phoneNumberShare setup
    Given the resource "/number-verification/v2" as base url
    And the header "Authorization" is set to a valid access token
    And the header "x-correlator" complies with the schema at "#/components/schemas/XCorrelator"

  @phone_number_share_98_unknown
  Scenario: A phrasing nobody implemented
    Given the phone is held upside down
    When the request "phoneNumberShare" is sent
    Then the response status code is 200

  @phone_number_share_99_known
  Scenario: A known phrasing after it
    Given a valid phone number supported by the service, identified by the token
    When the request "phoneNumberShare" is sent
    Then the response status code is 200
    And the response property "$.devicePhoneNumber" is equal to the phone number associated with the access token
"##,
    )
    .expect("write feature");
    let reports = dir.path().join("reports");
    let (code, results) = common::run_suite(&reports, &["--features", arg(&file)]).await;
    assert_eq!(
        code, 0,
        "undefined steps skip, they do not fail: {results:#}"
    );
    assert_eq!(results["summary"]["passed"], 1, "{results:#}");
    assert_eq!(results["summary"]["undefined_steps"], 1, "{results:#}");
    let skipped = common::scenarios_with_status(&results, "skipped");
    assert_eq!(
        skipped[0]["skip_reason"], "undefined step: Given the phone is held upside down",
        "{results:#}"
    );
    assert_eq!(results["verdict"], "incomplete", "{results:#}");

    // --strict: an undefined step fails the run.
    let (code, results) =
        common::run_suite(&reports, &["--features", arg(&file), "--strict"]).await;
    assert_eq!(code, 1, "{results:#}");
    assert_eq!(results["verdict"], "failed", "{results:#}");
}

#[tokio::test]
async fn lint_lines_reach_the_console() {
    let dir = tempfile::tempdir().expect("tempdir");
    let features = official("v2.1.0");
    let file = features.join("number-verification-phoneNumberVerify.feature");
    let (_, results) = common::run_suite(
        dir.path(),
        &[
            "--features",
            arg(&file),
            "--tags",
            "@phone_number_verify_400.3_invalid_request_non_existing_property",
        ],
    )
    .await;
    assert_eq!(results["summary"]["passed"], 1, "{results:#}");
    let parsed: nvcert::results::RunResults = {
        // Rebuild the model from results.json's lint to render the console as `nvcert run` does.
        let mut r = nvcert::results::RunResults::new(
            nvcert::results::Target {
                provider: "p".into(),
                issuer: "i".into(),
                api_base: "a".into(),
                spec_version: "2.1.0".into(),
            },
            Vec::new(),
            Vec::new(),
            Vec::new(),
            0,
        );
        r.lint = results["lint"]
            .as_array()
            .expect("lint")
            .iter()
            .map(|l| nvcert::results::Lint {
                file: l["file"].as_str().unwrap_or("").to_owned(),
                line: l["line"].as_u64().unwrap_or(0) as usize,
                rule: l["rule"].as_str().unwrap_or("").to_owned(),
                message: l["message"].as_str().unwrap_or("").to_owned(),
                scenario: l["scenario"].as_str().map(str::to_owned),
            })
            .collect();
        r
    };
    let mut out = Vec::new();
    nvcert::report::write_console(&parsed, &nvcert::secret::Redactor::default(), &mut out)
        .expect("console");
    let text = String::from_utf8(out).expect("utf-8");
    let expected = format!(
        "  LINT     {}:89: the scenario has no `When` step",
        file.display()
    );
    assert!(text.contains(&expected), "{text}");
    assert!(
        text.contains("lint findings in the feature files"),
        "{text}"
    );
}
