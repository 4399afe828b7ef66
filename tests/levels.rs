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

#[tokio::test]
async fn the_run_verdict_is_passed_failed_or_incomplete() {
    let tags = ["--tags", "@code_reuse or @verify_plain_true"];
    let (code, results) = with_fault(None, &tags).await;
    assert_eq!(
        (code, &results["verdict"]),
        (0, &"passed".into()),
        "{results:#}"
    );
    assert_eq!(results["incomplete_reasons"], serde_json::json!([]));

    let (code, results) = with_fault(Some(Fault::CodeReusable), &tags).await;
    assert_eq!(
        (code, &results["verdict"]),
        (1, &"failed".into()),
        "{results:#}"
    );

    // Without [operator_token] and [non_network_login], MUST scenarios are skipped: nothing
    // failed, but the run is not a pass either.
    let without = |url: &str| {
        let text = common::reference_profile_for(url);
        let before_operator_token = text.split("[operator_token]").next().unwrap_or_default();
        before_operator_token
            .lines()
            .filter(|l| *l != "[non_network_login]" && !l.starts_with("authorize_params"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let args = [
        "--tags",
        "@ciba_operator_token or @jwt_bearer_operator_token or @auth_403_not_network_verify or @verify_plain_true",
    ];
    for (extra, wanted_code) in [(None, 0), (Some("--require-complete"), 1)] {
        let mut all = args.to_vec();
        all.extend(extra);
        let (code, results) =
            common::run_with_profile(ProviderConfig::embedded(), without, &all).await;
        assert_eq!(code, wanted_code, "{extra:?}: {results:#}");
        assert_eq!(results["verdict"], "incomplete", "{results:#}");
        assert_eq!(results["summary"]["passed"], 1, "{results:#}");
        let reasons = results["incomplete_reasons"].as_array().expect("reasons");
        let counted: Vec<(String, u64)> = reasons
            .iter()
            .map(|r| {
                (
                    r["reason"].as_str().unwrap_or("").to_owned(),
                    r["count"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(counted.len(), 2, "{counted:?}");
        assert!(
            counted[0].0.contains("[operator_token]") && counted[0].1 == 2,
            "{counted:?}"
        );
        assert!(
            counted[1].0.contains("non_network_login") && counted[1].1 == 1,
            "{counted:?}"
        );
    }
}

#[tokio::test]
async fn an_expect_failures_entry_matching_nothing_is_reported_and_fails_strict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = dir.path().join("expected.txt");
    std::fs::write(&list, "@code_reuse\n@code_reuse_typo\n").unwrap();
    let list = list.to_str().unwrap();
    let args = ["--tags", "@code_reuse", "--expect-failures", list];
    let (code, results) = with_fault(None, &args).await;
    assert_eq!(code, 0, "{results:#}");
    assert_eq!(
        results["unmatched_expectations"],
        serde_json::json!(["line 2: @code_reuse_typo"])
    );
    assert_eq!(results["verdict"], "passed");
    let mut strict = args.to_vec();
    strict.push("--strict");
    let (code, results) = with_fault(None, &strict).await;
    assert_eq!(
        (code, &results["verdict"]),
        (1, &"failed".into()),
        "{results:#}"
    );
}

#[tokio::test]
async fn request_object_refusals_count_only_when_a_valid_one_is_accepted() {
    let tags = [
        "--tags",
        "@request_object_signed or @request_object_audience or @request_object_expired or @request_object_lifetime or @request_object_iat_future or @request_object_issuer_audience or @request_object_endpoint_audience",
    ];
    let status_of = |results: &serde_json::Value, tag: &str| -> String {
        results["scenarios"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| {
                s["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == tag))
            })
            .map(|s| s["status"].as_str().unwrap_or("").to_owned())
            .unwrap_or_default()
    };
    let negatives = [
        "request_object_audience",
        "request_object_expired",
        "request_object_lifetime",
        "request_object_iat_future",
    ];

    // A provider refusing every request object "refuses" the bad ones too: that shows nothing.
    let (code, results) = with_fault(Some(Fault::RequestObjectRejected), &tags).await;
    assert_eq!(code, 1, "{results:#}");
    assert_eq!(status_of(&results, "request_object_signed"), "failed");
    for tag in negatives {
        assert_eq!(status_of(&results, tag), "skipped", "{tag}: {results:#}");
    }
    let skipped = common::scenarios_with_status(&results, "skipped");
    assert!(
        skipped.iter().all(|s| s["skip_reason"]
            .as_str()
            .unwrap_or("")
            .contains("accepted no valid signed request object")),
        "{results:#}"
    );

    // A provider taking only the authorization endpoint as aud (the ICM's recommendation): the
    // MUST check passes on the second try, RFC 9101's issuer value is a SHOULD finding, and the
    // refusals are judged with the audience it takes.
    let (code, results) = with_fault(Some(Fault::RequestObjectIssuerAudienceRefused), &tags).await;
    assert_eq!(code, 0, "{results:#}");
    assert_eq!(status_of(&results, "request_object_signed"), "passed");
    assert_eq!(
        status_of(&results, "request_object_issuer_audience"),
        "warning"
    );
    assert_eq!(
        status_of(&results, "request_object_endpoint_audience"),
        "passed"
    );
    for tag in negatives {
        assert_eq!(status_of(&results, tag), "passed", "{tag}: {results:#}");
    }

    // The other way round (a certified OP's behaviour): not a MUST failure either.
    let (code, results) =
        with_fault(Some(Fault::RequestObjectEndpointAudienceRefused), &tags).await;
    assert_eq!(code, 0, "{results:#}");
    assert_eq!(status_of(&results, "request_object_signed"), "passed");
    assert_eq!(
        status_of(&results, "request_object_endpoint_audience"),
        "warning"
    );
    assert_eq!(results["verdict"], "passed", "{results:#}");
}
