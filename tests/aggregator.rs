//! Certifying an aggregator (#14): the embedded aggregator (`serve --aggregator`) with the shipped
//! profile (`fixtures/providers/aggregator.toml`) passes every aggregator check and the standard
//! ones that apply; each aggregator fault fails exactly its checks; a broken `[aggregator]`
//! section stops the run before anything is sent.

mod common;

use common::fault_table::{Caught, FaultTable, Row, tags_with};

use std::collections::BTreeSet;

use nvcert::provider::SpecVersion;
use nvcert::provider::aggregator::{self, AggregatorConfig, AggregatorFault};
use serde_json::Value;

/// fault → scenario tags that must not pass (failed, errored or warned).
//
// A fault that stops the flow every check depends on fails every scenario that needs a token
// through the aggregator: `aggregator-drops-state` (a client must stop when the state is not its
// own) and `aggregator-routes-wrong-operator` (the operator the device is sent to does not know
// it, so no code comes back; the chain itself still crosses an operator and keeps the state). A
// fault in forwarding (`passes-token-through`, `drops-correlator`, `rewraps-errors`) fails the
// standard API checks too, since they run through the aggregator. `accepts-operator-code` shows
// only with a code the operator issued to the app's own client: one issued to the aggregator is
// refused by the operator when the aggregator passes it on.
#[rustfmt::skip]
const TABLE: &[Row] = &[
    ("aggregator-routes-wrong-operator", &["aggregator_forwarded_error", "aggregator_forwarded_success", "aggregator_line_verify", "aggregator_operator_code_refused", "aggregator_token_hides_operator_token", "aggregator_token_refused_by_operator", "aggregator_token_unreadable", "auth_401_expired_token_share", "auth_401_expired_token_verify", "auth_403_scope_share", "auth_403_scope_verify", "authorize_acr_values", "authorize_login_hint", "authorize_unknown_parameter", "client_assertion_audience", "client_assertion_expired", "client_assertion_lifetime", "client_assertion_replay", "client_secret_refused", "code_bound_to_client", "code_expired", "code_reuse", "correlator_echo_error", "correlator_invalid", "dpop_tolerated", "invalid_argument_both_fields", "invalid_argument_empty_object", "invalid_argument_hash_pattern", "invalid_argument_no_body", "invalid_argument_phone_pattern", "invalid_argument_unknown_property", "negative_content_type", "negative_malformed_json", "negative_wrong_method", "negative_wrong_method_allow", "negative_wrong_method_error_shape", "oidc_device_leg", "oidc_id_token", "oidc_long_state", "oidc_token_exchange", "pkce_wrong_verifier", "redirect_uri_mismatch_at_token", "request_object_endpoint_audience", "request_object_issuer_audience", "request_object_signed", "share_success", "verify_hashed_false", "verify_hashed_true", "verify_hashed_upper_true", "verify_plain_false", "verify_plain_true", "verify_success_schema"]),
    ("aggregator-leaks-operator-token", &["aggregator_token_hides_operator_token", "aggregator_token_unreadable"]),
    ("aggregator-drops-state", &["aggregator_chain", "aggregator_forwarded_error", "aggregator_forwarded_success", "aggregator_line_verify", "aggregator_token_hides_operator_token", "aggregator_token_refused_by_operator", "aggregator_token_unreadable", "auth_401_expired_token_share", "auth_401_expired_token_verify", "auth_403_not_network_verify", "auth_403_scope_share", "auth_403_scope_verify", "authorize_acr_values", "authorize_login_hint", "authorize_unknown_parameter", "client_assertion_audience", "client_assertion_expired", "client_assertion_lifetime", "client_assertion_replay", "client_secret_refused", "code_bound_to_client", "code_expired", "code_reuse", "correlator_echo_error", "correlator_invalid", "dpop_tolerated", "invalid_argument_both_fields", "invalid_argument_empty_object", "invalid_argument_hash_pattern", "invalid_argument_no_body", "invalid_argument_phone_pattern", "invalid_argument_unknown_property", "negative_content_type", "negative_malformed_json", "negative_wrong_method", "negative_wrong_method_allow", "negative_wrong_method_error_shape", "oidc_device_leg", "oidc_id_token", "oidc_long_state", "oidc_token_exchange", "pkce_wrong_verifier", "redirect_uri_mismatch_at_token", "request_object_endpoint_audience", "request_object_issuer_audience", "request_object_signed", "share_success", "verify_hashed_false", "verify_hashed_true", "verify_hashed_upper_true", "verify_plain_false", "verify_plain_true", "verify_success_schema"]),
    ("aggregator-passes-token-through", &["aggregator_forwarded_error", "aggregator_forwarded_success", "aggregator_line_verify", "auth_403_not_network_verify", "auth_403_scope_share", "auth_403_scope_verify", "correlator_echo_error", "correlator_invalid", "invalid_argument_both_fields", "invalid_argument_empty_object", "invalid_argument_hash_pattern", "invalid_argument_no_body", "invalid_argument_phone_pattern", "invalid_argument_unknown_property", "negative_content_type", "negative_malformed_json", "share_success", "verify_hashed_false", "verify_hashed_true", "verify_hashed_upper_true", "verify_plain_false", "verify_plain_true", "verify_success_schema"]),
    ("aggregator-accepts-operator-code", &["aggregator_direct_operator_code_refused"]),
    ("aggregator-accepts-operator-token", &["aggregator_operator_token_refused"]),
    ("aggregator-drops-correlator", &["aggregator_forwarded_error", "aggregator_forwarded_success", "correlator_echo_error", "share_success", "verify_hashed_false", "verify_hashed_true", "verify_hashed_upper_true", "verify_plain_false", "verify_plain_true", "verify_success_schema"]),
    ("aggregator-rewraps-errors", &["aggregator_forwarded_error", "auth_403_not_network_verify", "auth_403_scope_share", "auth_403_scope_verify", "correlator_echo_error", "correlator_invalid", "invalid_argument_both_fields", "invalid_argument_empty_object", "invalid_argument_hash_pattern", "invalid_argument_no_body", "invalid_argument_phone_pattern", "invalid_argument_unknown_property", "negative_content_type", "negative_malformed_json"]),
    ("aggregator-unknown-device-500", &["aggregator_unknown_device"]),
];

/// The shipped aggregator profile pointed at a running aggregator, its key files referenced by
/// absolute path.
fn profile_for(handle: &aggregator::AggregatorHandle, v0: bool) -> String {
    let file = if v0 {
        "aggregator-v0.toml"
    } else {
        "aggregator.toml"
    };
    let mut text = std::fs::read_to_string(common::fixtures().join("providers").join(file))
        .expect("aggregator profile");
    text = text.replace(
        "http://127.0.0.1:9093",
        handle.url.as_str().trim_end_matches('/'),
    );
    for (default, op) in ["http://127.0.0.11:9093", "http://127.0.0.12:9093"]
        .iter()
        .zip(&handle.operators)
    {
        text = text.replace(default, &op.url);
    }
    let keys = common::fixtures().join("keys");
    text.replace("file:../keys/", &format!("file:{}/", keys.display()))
}

/// Runs the suite with `--provider <shipped profile>` against an aggregator started with
/// `config`; returns the exit code and results.json.
async fn run(config: AggregatorConfig, v0: bool) -> (u8, Value) {
    let handle = aggregator::spawn(config, ([127, 0, 0, 1], 0).into(), None)
        .await
        .expect("aggregator starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = common::write_profile(dir.path(), &profile_for(&handle, v0));
    let out = common::run_suite(dir.path(), &["--provider", &path, "--concurrency", "8"]).await;
    handle.shutdown().await.expect("aggregator stopped cleanly");
    out
}

/// How a fault shows: a scenario neither passed nor skipped (the aggregator profile skips what
/// the aggregator does not offer, with or without a fault).
const FAULTS: FaultTable = FaultTable {
    rows: TABLE,
    caught: Caught::NotPassedNorSkipped,
    at_once: 3,
};

fn with_status(results: &Value, wanted: &str) -> BTreeSet<String> {
    tags_with(results, |status| status == wanted)
}

const AGGREGATOR_CHECKS: &[&str] = &[
    "aggregator_chain",
    "aggregator_line_verify",
    "aggregator_token_unreadable",
    "aggregator_token_hides_operator_token",
    "aggregator_operator_code_refused",
    "aggregator_direct_operator_code_refused",
    "aggregator_operator_token_refused",
    "aggregator_token_refused_by_operator",
    "aggregator_forwarded_success",
    "aggregator_forwarded_error",
    "aggregator_unknown_device",
];

#[tokio::test]
async fn the_conformant_aggregator_passes_every_check_that_applies() {
    let (code, results) = run(AggregatorConfig::embedded(), false).await;
    let passed = with_status(&results, "passed");
    for tag in AGGREGATOR_CHECKS {
        assert!(
            passed.contains(*tag),
            "{tag} did not pass\n{}",
            common::all_failures(&results)
        );
    }
    FAULTS.assert_nothing_caught(&results);
    // The standard scenarios run through the aggregator too; those needing what it does not
    // offer (CIBA, JWT bearer, a non-network login) are skipped with the reason, never failed.
    assert!(passed.contains("verify_plain_true") && passed.contains("code_reuse"));
    assert!(passed.len() >= 60, "{}", passed.len());
    for skipped in common::scenarios_with_status(&results, "skipped") {
        let reason = skipped["skip_reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("CIBA")
                || reason.contains("JWT bearer")
                || reason.contains("non_network_login"),
            "{}: {reason}",
            skipped["name"]
        );
    }
    assert_eq!(code, 0, "{results:#}");
}

#[tokio::test]
async fn the_operator_samples_v0_mode_passes_through_the_aggregator() {
    let (code, results) = run(
        AggregatorConfig::embedded().with_spec_version(SpecVersion::V0_3_1),
        true,
    )
    .await;
    let passed = with_status(&results, "passed");
    FAULTS.assert_nothing_caught(&results);
    // No discovery and no direct private key in v0: the checks needing neither still run.
    for tag in [
        "aggregator_chain",
        "aggregator_line_verify",
        "aggregator_token_unreadable",
        "aggregator_operator_code_refused",
        "aggregator_direct_operator_code_refused",
        "aggregator_forwarded_error",
        "aggregator_unknown_device",
    ] {
        assert!(passed.contains(tag), "{tag}\n{results:#}");
    }
    assert_eq!(code, 0);
}

#[tokio::test]
async fn run_aggregator_starts_the_embedded_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, results) =
        common::run_suite(dir.path(), &["--aggregator", "--tags", "@aggregator"]).await;
    assert_eq!(code, 0, "{}", common::all_failures(&results));
    assert_eq!(
        with_status(&results, "passed"),
        AGGREGATOR_CHECKS.iter().map(|t| (*t).to_owned()).collect()
    );
}

#[tokio::test]
async fn each_aggregator_fault_fails_exactly_its_checks() {
    FAULTS
        .check(
            AggregatorFault::ALL.iter().map(|f| (f.name(), *f)),
            |fault| async move {
                run(AggregatorConfig::embedded().with_faults([fault]), false)
                    .await
                    .1
            },
        )
        .await;
}

#[tokio::test]
async fn a_broken_aggregator_section_stops_the_run_before_anything_is_sent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = std::fs::read_to_string(common::fixtures().join("providers/aggregator.toml"))
        .expect("profile")
        .replace(
            "file:../keys/",
            &format!("file:{}/", common::fixtures().join("keys").display()),
        );
    for (from, to, field) in [
        (
            "allowed_hosts = [\"127.0.0.11\", \"127.0.0.12\"]",
            "allowed_hosts = [\"127.0.0.11\"]",
            "allowed_hosts",
        ),
        (
            "operator = \"operator-b\"",
            "operator = \"operator-z\"",
            "aggregator.lines[1].operator",
        ),
        (
            "local_address = \"127.0.0.3\"",
            "local_address = \"not-an-ip\"",
            "aggregator.lines[1].local_address",
        ),
    ] {
        let path = common::write_profile(dir.path(), &good.replacen(from, to, 1));
        let e = nvcert::profile::Profile::load(std::path::Path::new(&path))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("profile.toml") && e.contains(&format!("`{field}`")),
            "{field}: {e}"
        );
        // Nothing listens at the profile's addresses: exit 2 shows it stopped before sending.
        let (code, _) = common::run_suite(dir.path(), &["--provider", &path]).await;
        assert_eq!(code, 2, "{field}");
    }
}

#[tokio::test]
async fn the_journey_load_shows_the_aggregators_added_latency() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().to_str().expect("utf-8 temp path");
    let code = common::nvcert(&[
        "load",
        "--quiet",
        "--aggregator",
        "--scenario",
        "journey",
        "--users",
        "2",
        "--run-time",
        "1s",
        "--report-dir",
        report,
    ])
    .await;
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(dir.path().join("load-summary.json")).expect("summary");
    let summary: Value = serde_json::from_str(&text).expect("JSON");
    common::assert_matches_schema("specs/load-summary.schema.json", &summary);
    for t in summary["transactions"].as_array().expect("transactions") {
        assert!(t["requests"].as_u64() > Some(0), "{t}");
        assert_eq!(t["failures"], 0, "{t}");
    }
    let latency = &summary["aggregator_latency"];
    assert!(latency["note"].is_null(), "{latency}");
    let steps: Vec<&str> = latency["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            for field in ["via_aggregator_p50_ms", "direct_p50_ms", "added_p50_ms"] {
                assert!(s[field].is_number(), "{field}: {s}");
            }
            let (via, direct, added) = (
                s["via_aggregator_p50_ms"].as_f64().unwrap_or_default(),
                s["direct_p50_ms"].as_f64().unwrap_or_default(),
                s["added_p50_ms"].as_f64().unwrap_or_default(),
            );
            assert!((via - direct - added).abs() < 0.002, "{s}");
            s["step"].as_str().unwrap_or_default()
        })
        .collect();
    assert_eq!(steps, ["authorize", "verify"]);
    let html = std::fs::read_to_string(dir.path().join("load-report.html")).expect("html");
    assert!(
        html.contains("Aggregator&#39;s added latency")
            || html.contains("Aggregator's added latency")
    );
}
