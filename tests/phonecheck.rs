//! The PhoneCheck family end to end: the reference provider playing IDlayr PhoneCheck v0.1
//! passes every PhoneCheck check with its shipped profile; each of its fault switches fails the
//! checks tied to it, and only those; CAMARA NV scenarios are reported skipped with the reason.

mod common;

use std::collections::BTreeSet;

use common::fault_table::{Caught, FaultTable, Row};
use nvcert::provider::phonecheck::{self, PhoneCheckConfig, PhoneCheckFault, PhoneCheckHandle};

/// fault → scenario tags that must not pass (failed, or warning for SHOULD checks).
#[rustfmt::skip]
const TABLE: &[Row] = &[
    ("token-without-expiry", &["phonecheck_token_expiry"]),
    ("token-scope-missing", &["phonecheck_token_scope"]),
    ("created-not-accepted", &["phonecheck_before_device_leg", "phonecheck_create_shape", "phonecheck_device_leg", "phonecheck_expired", "phonecheck_match_false", "phonecheck_match_true", "phonecheck_other_client", "phonecheck_single_use"]),
    ("check-url-off-host", &["phonecheck_create_shape", "phonecheck_device_leg", "phonecheck_expired", "phonecheck_match_false", "phonecheck_match_true", "phonecheck_single_use"]),
    ("match-always-true", &["phonecheck_match_false"]),
    ("wrong-status-before-device-leg", &["phonecheck_before_device_leg"]),
    ("ttl-ignored", &["phonecheck_expired"]),
    ("check-url-reusable", &["phonecheck_single_use"]),
    ("other-client-can-read", &["phonecheck_other_client"]),
    ("token-not-required", &["phonecheck_401_missing_token"]),
    ("scope-not-enforced", &["phonecheck_403_wrong_scope"]),
    ("unknown-check-found", &["phonecheck_404_unknown_check"]),
    ("bad-number-accepted", &["phonecheck_400_bad_number"]),
];

/// The shipped profile (fixtures/providers/idlayr-phonecheck.toml) pointed at `url`, with its
/// key files found from the temporary folder it is written to.
fn profile_for(url: &str) -> String {
    common::shipped_profile_for("idlayr-phonecheck.toml", "http://127.0.0.1:9092", url)
}

/// The PhoneCheck provider with `faults` on an ephemeral port, and a temporary folder holding
/// the shipped profile pointed at it: the provider, the folder and the profile's path.
async fn provider_with(
    faults: &[PhoneCheckFault],
) -> (PhoneCheckHandle, tempfile::TempDir, String) {
    let config = PhoneCheckConfig::embedded().with_faults(faults.iter().copied());
    let handle = phonecheck::spawn(config, ([127, 0, 0, 1], 0).into(), None)
        .await
        .expect("the PhoneCheck provider starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = common::write_profile(dir.path(), &profile_for(handle.url.as_str()));
    (handle, dir, profile)
}

/// Runs the PhoneCheck features against the provider with `faults`; results.json.
async fn run_with(faults: &[PhoneCheckFault]) -> serde_json::Value {
    let (handle, dir, profile) = provider_with(faults).await;
    let reports = dir.path().join("reports");
    let (_, results) = common::run_suite(
        &reports,
        &[
            "--provider",
            &profile,
            "--tags",
            "@phonecheck",
            "--concurrency",
            "16",
        ],
    )
    .await;
    handle.shutdown().await.expect("the provider stops cleanly");
    results
}

const FAULTS: FaultTable = FaultTable {
    rows: TABLE,
    caught: Caught::NotPassed,
    at_once: 6,
};

#[tokio::test]
async fn the_phonecheck_provider_passes_every_check() {
    let results = run_with(&[]).await;
    FAULTS.assert_nothing_caught(&results);
    assert_eq!(results["summary"]["failed"], 0, "{results:#}");
    assert!(
        results["summary"]["passed"].as_u64().unwrap_or(0) >= 15,
        "{results:#}"
    );
    // Every documented operation was exercised, judged against the PhoneCheck document.
    let exercised: BTreeSet<&str> = results["coverage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["exercised"] == true)
        .filter_map(|c| c["operation"].as_str())
        .collect();
    for op in [
        "createAccessToken",
        "createPhoneCheck",
        "getPhoneCheck",
        "phoneCheckRedirect",
    ] {
        assert!(exercised.contains(op), "{op} not exercised: {exercised:?}");
    }
}

#[tokio::test]
async fn each_phonecheck_fault_fails_exactly_its_checks() {
    // Every PhoneCheck fault breaks a rule: none may fail nothing.
    for (name, tags) in TABLE {
        assert!(!tags.is_empty(), "{name} has an empty row in TABLE");
    }
    FAULTS
        .check(
            PhoneCheckFault::ALL.iter().map(|f| (f.name(), *f)),
            |fault| async move { run_with(&[fault]).await },
        )
        .await;
}

#[tokio::test]
async fn camara_scenarios_are_skipped_with_the_reason_under_phonecheck() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, results) = common::run_suite(
        dir.path(),
        &["--dialect", phonecheck::DIALECT, "--tags", "@verify"],
    )
    .await;
    assert_eq!(code, 0, "{results:#}");
    let scenarios = results["scenarios"].as_array().expect("scenarios");
    assert!(!scenarios.is_empty(), "{results:#}");
    for sc in scenarios {
        assert_eq!(sc["status"], "skipped", "{sc:#}");
        let text = sc.to_string();
        assert!(
            text.contains("does not apply to IDlayr PhoneCheck v0.1"),
            "{sc:#}"
        );
    }
}

#[tokio::test]
async fn phonecheck_scenarios_are_not_selected_for_a_camara_provider() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, results) = common::run_suite(dir.path(), &["--tags", "@phonecheck"]).await;
    assert_eq!(results["scenarios"], serde_json::json!([]), "{results:#}");
}

/// `nvcert load --scenario phonecheck` against the PhoneCheck provider with `faults`: exit code
/// and load-summary.json.
async fn load(faults: &[PhoneCheckFault], thresholds: &[&str]) -> (u8, serde_json::Value) {
    let (handle, dir, profile) = provider_with(faults).await;
    let reports = dir.path().join("load");
    let mut args = vec![
        "load",
        "--quiet",
        "--provider",
        &profile,
        "--scenario",
        "phonecheck",
        "--users",
        "2",
        "--run-time",
        "1",
        "--report-dir",
        reports.to_str().expect("utf-8 temp path"),
    ];
    for t in thresholds {
        args.extend(["--threshold", t]);
    }
    let code = common::nvcert(&args).await;
    handle.shutdown().await.expect("the provider stops cleanly");
    let text = std::fs::read_to_string(reports.join("load-summary.json"))
        .unwrap_or_else(|_| "null".into());
    (code, serde_json::from_str(&text).expect("JSON summary"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phonecheck_load_scenario_runs_each_step_with_thresholds() {
    let (code, summary) = load(&[], &["read-check.p99<10s", "errors<1%"]).await;
    assert_eq!(code, 0, "{summary:#}");
    let steps: Vec<&str> = summary["transactions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(
        steps,
        ["create-check", "check-url", "read-check"],
        "{summary:#}"
    );
    for t in summary["transactions"].as_array().into_iter().flatten() {
        assert!(t["requests"].as_u64().unwrap_or(0) > 0, "{summary:#}");
        assert_eq!(t["failures"], 0, "{summary:#}");
    }
    assert!(
        summary["thresholds"]
            .as_array()
            .is_some_and(|t| t.len() == 2 && t.iter().all(|t| t["passed"] == true)),
        "{summary:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_urls_off_the_provider_host_fail_the_load_thresholds() {
    // Off-host check URLs are not requested: every device leg fails, and so every iteration.
    let (code, summary) = load(&[PhoneCheckFault::CheckUrlOffHost], &["errors<1%"]).await;
    assert_eq!(code, 1, "{summary:#}");
    assert_eq!(summary["thresholds"][0]["passed"], false, "{summary:#}");
}

#[tokio::test]
async fn nv_scenarios_refuse_a_phonecheck_profile() {
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = common::write_profile(dir.path(), &profile_for("http://127.0.0.1:9"));
    let code = common::nvcert(&[
        "load",
        "--quiet",
        "--provider",
        &profile,
        "--scenario",
        "verify",
        "--users",
        "1",
        "--run-time",
        "1",
    ])
    .await;
    assert_eq!(code, 2);
}
