//! Every fault switch of the reference provider is caught by the checks tied to it, and only by
//! those; without a fault everything passes. Runs at the `wip` version with the wip rule set, so
//! every flow (auth code, CIBA, JWT bearer) and every rule is in play.

mod common;

use std::collections::BTreeSet;

use common::fault_table::{Caught, FaultTable, Row};
use nvcert::provider::{Fault, ProviderConfig, SpecVersion};

/// fault → scenario tags that must not pass (failed, or warning for SHOULD checks).
//
// Faults that break a flow every other check depends on (no state, a non-Bearer token_type, a
// discovery issuer that lies) fail the checks of that flow and every scenario that needs it: a
// client must not go on with such answers. `api-delay-100ms` breaks no conformance rule (it is
// there for load thresholds).
#[rustfmt::skip]
const TABLE: &[Row] = &[
    ("state-not-returned", &["auth_401_expired_token_share", "auth_401_expired_token_verify", "auth_403_not_network_verify", "auth_403_scope_share", "auth_403_scope_verify", "authorize_acr_values", "authorize_login_hint", "authorize_unknown_parameter", "client_assertion_audience", "client_assertion_expired", "client_assertion_lifetime", "client_assertion_replay", "client_secret_refused", "code_bound_to_client", "code_expired", "code_reuse", "correlator_echo_error", "correlator_invalid", "dpop_tolerated", "invalid_argument_both_fields", "invalid_argument_empty_object", "invalid_argument_hash_pattern", "invalid_argument_no_body", "invalid_argument_phone_pattern", "invalid_argument_unknown_property", "negative_content_type", "negative_malformed_json", "negative_wrong_method", "negative_wrong_method_allow", "negative_wrong_method_error_shape", "oidc_device_leg", "oidc_id_token", "oidc_long_state", "oidc_token_exchange", "pkce_wrong_verifier", "redirect_uri_mismatch_at_token", "request_object_audience", "request_object_endpoint_audience", "request_object_expired", "request_object_iat_future", "request_object_issuer_audience", "request_object_lifetime", "request_object_signed", "share_success", "verify_hashed_false", "verify_hashed_true", "verify_hashed_upper_true", "verify_plain_false", "verify_plain_true", "verify_success_schema", "wip_expires_in", "wip_no_refresh_token", "wip_single_use_token"]),
    ("state-truncated", &["oidc_long_state"]),
    ("redirect-uri-not-checked", &["redirect_uri_unregistered"]),
    ("unknown-parameter-rejected", &["authorize_unknown_parameter"]),
    ("acr-values-rejected", &["authorize_acr_values"]),
    ("login-hint-rejected", &["authorize_login_hint"]),
    ("request-object-rejected", &["request_object_audience", "request_object_endpoint_audience", "request_object_expired", "request_object_iat_future", "request_object_issuer_audience", "request_object_lifetime", "request_object_signed"]),
    ("request-object-lifetime-not-checked", &["request_object_lifetime"]),
    ("request-object-iat-not-checked", &["request_object_iat_future"]),
    ("request-object-issuer-audience-refused", &["request_object_issuer_audience"]),
    ("request-object-endpoint-audience-refused", &["request_object_endpoint_audience"]),
    ("request-object-audience-not-checked", &["request_object_audience"]),
    ("request-object-expiry-not-checked", &["request_object_expired"]),
    ("pkce-plain-accepted", &["pkce_plain"]),
    ("pkce-not-checked", &["pkce_wrong_verifier"]),
    ("code-reusable", &["code_reuse"]),
    ("code-expiry-not-checked", &["code_expired"]),
    ("code-not-bound-to-client", &["code_bound_to_client"]),
    ("redirect-uri-mismatch-accepted", &["redirect_uri_mismatch_at_token"]),
    ("assertion-expiry-not-checked", &["client_assertion_expired"]),
    ("assertion-lifetime-not-checked", &["client_assertion_lifetime"]),
    ("assertion-audience-not-checked", &["client_assertion_audience"]),
    ("assertion-jti-replay-accepted", &["client_assertion_replay"]),
    ("client-secret-accepted", &["client_secret_refused"]),
    ("token-type-not-bearer", &["auth_401_expired_token_share", "auth_401_expired_token_verify", "auth_403_not_network_verify", "auth_403_scope_share", "auth_403_scope_verify", "ciba_operator_token", "ciba_tel_login_hint_not_network", "correlator_echo_error", "correlator_invalid", "invalid_argument_both_fields", "invalid_argument_empty_object", "invalid_argument_hash_pattern", "invalid_argument_no_body", "invalid_argument_phone_pattern", "invalid_argument_unknown_property", "jwt_bearer_operator_token", "negative_content_type", "negative_malformed_json", "negative_wrong_method", "negative_wrong_method_allow", "negative_wrong_method_error_shape", "oidc_id_token", "oidc_token_exchange", "share_success", "verify_hashed_false", "verify_hashed_true", "verify_hashed_upper_true", "verify_plain_false", "verify_plain_true", "verify_success_schema", "wip_expires_in", "wip_no_refresh_token", "wip_single_use_token"]),
    ("token-cacheable", &["oidc_token_exchange"]),
    ("token-content-type-html", &["oidc_token_exchange"]),
    ("refresh-token-issued", &["ciba_operator_token", "wip_no_refresh_token"]),
    ("long-token-lifetime", &["auth_401_expired_token_share", "auth_401_expired_token_verify", "wip_expires_in"]),
    ("id-token-wrong-audience", &["oidc_id_token"]),
    ("id-token-nonce-missing", &["oidc_id_token"]),
    ("id-token-bad-signature", &["oidc_id_token"]),
    ("dpop-rejected", &["dpop_tolerated"]),
    ("ciba-unknown-login-hint-accepted", &["ciba_unknown_login_hint"]),
    ("ciba-pending-ignored", &["ciba_early_poll"]),
    ("jwt-bearer-audience-not-checked", &["jwt_bearer_audience"]),
    ("jwt-bearer-refresh-token-issued", &["jwt_bearer_operator_token"]),
    ("discovery-no-private-key-jwt", &["oidc_discovery_private_key_jwt"]),
    ("discovery-issuer-mismatch", &["ciba_early_poll", "ciba_operator_token", "ciba_tel_login_hint_not_network", "ciba_unknown_login_hint", "oidc_discovery", "oidc_id_token", "request_object_issuer_audience"]),
    ("discovery-content-type-html", &["oidc_discovery"]),
    ("api-expired-token-accepted", &["auth_401_expired_token_share", "auth_401_expired_token_verify"]),
    ("api-signature-not-checked", &["auth_401_invalid_token_share", "auth_401_invalid_token_verify"]),
    ("api-scope-not-checked", &["auth_403_scope_share", "auth_403_scope_verify"]),
    ("api-network-auth-not-checked", &["auth_403_not_network_verify", "ciba_tel_login_hint_not_network"]),
    ("api-token-reusable", &["wip_single_use_token"]),
    ("api-correlator-not-echoed", &["correlator_echo_error", "share_success", "verify_hashed_false", "verify_hashed_true", "verify_hashed_upper_true", "verify_plain_false", "verify_plain_true", "verify_success_schema"]),
    ("api-correlator-not-validated", &["correlator_invalid"]),
    ("api-error-status-mismatch", &["auth_401_expired_token_share", "auth_401_expired_token_verify", "auth_401_invalid_token_share", "auth_401_invalid_token_verify", "auth_401_no_token_share", "auth_401_no_token_verify", "auth_403_not_network_verify", "auth_403_scope_share", "auth_403_scope_verify", "ciba_tel_login_hint_not_network", "negative_wrong_method", "negative_wrong_method_allow", "negative_wrong_method_error_shape", "wip_single_use_token"]),
    ("api-wrong-error-code", &["auth_401_expired_token_share", "auth_401_expired_token_verify", "auth_401_invalid_token_share", "auth_401_invalid_token_verify", "auth_401_no_token_share", "auth_401_no_token_verify", "wip_single_use_token"]),
    ("api-content-type-text", &["ciba_operator_token", "jwt_bearer_operator_token", "share_success", "verify_hashed_false", "verify_hashed_true", "verify_hashed_upper_true", "verify_plain_false", "verify_plain_true", "verify_success_schema", "wip_single_use_token"]),
    ("api-verify-always-true", &["verify_hashed_false", "verify_plain_false"]),
    ("api-hash-case-sensitive", &["verify_hashed_upper_true"]),
    ("api-both-fields-accepted", &["invalid_argument_both_fields"]),
    ("api-body-not-validated", &["correlator_echo_error", "invalid_argument_empty_object", "invalid_argument_hash_pattern", "invalid_argument_no_body", "invalid_argument_phone_pattern", "invalid_argument_unknown_property", "negative_content_type", "negative_malformed_json"]),
    ("api-share-wrong-number", &["jwt_bearer_operator_token", "share_success"]),
    ("api-undocumented-status", &["invalid_argument_hash_pattern", "verify_hashed_false", "verify_hashed_true", "verify_hashed_upper_true"]),
    ("api-405-without-allow", &["negative_wrong_method_allow"]),
    ("api-404-405-problem-json", &["negative_wrong_method_error_shape"]),
    ("api-401-without-www-authenticate", &["auth_401_expired_token_share", "auth_401_expired_token_verify", "auth_401_invalid_token_share", "auth_401_invalid_token_verify", "auth_401_no_token_share", "auth_401_no_token_verify"]),
    ("api-delay-100ms", &[]),
];

/// Runs the whole suite at the `wip` version with the wip rule set against the reference
/// provider with `faults`; results.json.
async fn run_with(faults: &[Fault]) -> serde_json::Value {
    let config = ProviderConfig::embedded()
        .with_spec_version(SpecVersion::Wip)
        .with_faults(faults.iter().copied());
    let args = [
        "--spec-version",
        "wip",
        "--rule-set",
        "wip",
        "--concurrency",
        "16",
    ];
    common::run_against(config, &args).await.1
}

const FAULTS: FaultTable = FaultTable {
    rows: TABLE,
    caught: Caught::NotPassed,
    // Runs overlap: most of a run is waiting for short-lived codes and tokens to expire.
    at_once: 4,
};

#[tokio::test]
async fn without_faults_everything_passes() {
    let results = run_with(&[]).await;
    FAULTS.assert_nothing_caught(&results);
    assert!(
        results["summary"]["passed"].as_u64().unwrap_or(0) >= 60,
        "{results:#}"
    );
}

#[tokio::test]
async fn each_fault_fails_exactly_its_checks() {
    FAULTS
        .check(
            Fault::ALL.iter().map(|f| (f.name(), *f)),
            |fault| async move { run_with(&[fault]).await },
        )
        .await;
}

/// The runner itself: it names a fault not caught, one caught too widely, one without a row and
/// a row without a fault, and counts statuses as it is told.
#[test]
fn the_fault_table_runner_reports_every_difference() {
    const ROWS: &[Row] = &[("caught", &["a"]), ("harmless", &[]), ("misspelt", &["b"])];
    let table = FaultTable {
        rows: ROWS,
        caught: Caught::NotPassed,
        at_once: 1,
    };
    let tags = |t: &[&str]| t.iter().map(|t| (*t).to_owned()).collect::<BTreeSet<_>>();
    let agreeing = [
        ("caught", tags(&["a"])),
        ("harmless", tags(&[])),
        ("misspelt", tags(&["b"])),
    ];
    assert_eq!(table.differences(&agreeing), "");
    let report = table.differences(&[
        ("caught", tags(&[])),
        ("harmless", tags(&["a"])),
        ("new", tags(&[])),
    ]);
    for line in [
        "caught: expected {\"a\"}, observed {}",
        "harmless: expected {}, observed {\"a\"}",
        "new: no row in the table",
        "misspelt: a row, but no such fault ran",
    ] {
        assert!(report.contains(line), "{line:?} missing from {report}");
    }

    let results = serde_json::json!({"scenarios": [
        {"tags": ["verify", "verify_plain_true"], "status": "passed"},
        {"tags": ["verify", "verify_plain_false"], "status": "failed"},
        {"tags": ["oidc", "pkce_plain", "SHOULD"], "status": "warning"},
        {"tags": ["oidc", "oidc_jwks", "since:2.0.0"], "status": "skipped"},
    ]});
    assert_eq!(
        table.caught_in(&results),
        tags(&["oidc_jwks", "pkce_plain", "verify_plain_false"])
    );
    let without_skipped = FaultTable {
        caught: Caught::NotPassedNorSkipped,
        ..table
    };
    assert_eq!(
        without_skipped.caught_in(&results),
        tags(&["pkce_plain", "verify_plain_false"])
    );
}
