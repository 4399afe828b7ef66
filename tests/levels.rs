//! Levels, --strict, --expect-failures and coverage, against the reference provider with faults.

mod common;

use nvcert::provider::{Fault, ProviderConfig};

async fn with_fault(fault: Option<Fault>, extra: &[&str]) -> (u8, serde_json::Value) {
    common::run_against(ProviderConfig::embedded().with_faults(fault), extra).await
}

#[tokio::test]
async fn a_should_failure_warns_and_fails_only_with_strict() {
    let tags = ["--tags", "@pkce_plain or @code_reuse"];
    let (code, results) = with_fault(Some(Fault::PkcePlainAccepted), &tags).await;
    assert_eq!(code, 0, "{results:#}");
    assert_eq!(results["summary"]["warnings"], 1);
    let warned = common::scenarios_with_status(&results, "warning");
    assert_eq!(warned[0]["level"], "SHOULD");
    assert!(
        warned[0]["citation"]
            .as_str()
            .unwrap_or("")
            .contains("RFC 7636"),
        "{results:#}"
    );

    let strict = ["--tags", "@pkce_plain or @code_reuse", "--strict"];
    let (code, results) = with_fault(Some(Fault::PkcePlainAccepted), &strict).await;
    assert_eq!(code, 1, "{results:#}");
    assert_eq!(results["strict"], true);
}

#[tokio::test]
async fn known_deviations_do_not_fail_and_stale_entries_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = dir.path().join("expected.txt");
    std::fs::write(&list, "# known deviations\n@code_reuse\nVerify the device phone number › Another number in plain text is not verified\n").unwrap();
    let list = list.to_str().unwrap();
    let args = [
        "--tags",
        "@code_reuse or @verify_plain_false",
        "--expect-failures",
        list,
    ];
    let (code, results) = with_fault(Some(Fault::CodeReusable), &args).await;
    assert_eq!(code, 0, "{results:#}");
    assert_eq!(results["summary"]["expected_failures"], 1, "{results:#}");
    // verify_plain_false passes although listed: the list is stale, and the report says so.
    assert_eq!(results["summary"]["unexpected_passes"], 1, "{results:#}");

    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "not a tag\n").unwrap();
    let (code, _) = with_fault(None, &["--expect-failures", bad.to_str().unwrap()]).await;
    assert_eq!(code, 2);
}

#[tokio::test]
async fn every_documented_status_is_exercised_against_the_reference_provider() {
    let (code, results) = with_fault(None, &[]).await;
    assert_eq!(code, 0, "{}", common::all_failures(&results));
    let coverage = results["coverage"].as_array().expect("coverage");
    assert!(coverage.len() >= 8, "{coverage:#?}");
    let missing: Vec<_> = coverage
        .iter()
        .filter(|c| c["documented"] == true && c["exercised"] != true)
        .collect();
    assert!(missing.is_empty(), "not exercised: {missing:#?}");
}
