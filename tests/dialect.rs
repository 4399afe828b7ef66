//! Dialects: the reference provider playing Orange Spain's NV v0 (`serve --dialect
//! orange-es-v0`) is certified by the shipped profile with 0 failures, every skip naming its
//! reason; each fault switch that applies under the dialect fails exactly its checks; the
//! CAMARA-compatibility report lists the Orange-vs-CAMARA differences.

mod common;

use std::collections::BTreeSet;

use common::fault_table::{Caught, FaultTable, Row, tags_with};
use nvcert::provider::{Fault, ProviderConfig, ProviderDialect};
use serde_json::Value;

/// The shipped Orange profile pointed at `url`, key files by absolute path.
fn orange_profile_for(url: &str) -> String {
    common::shipped_profile_for("orange-es-v0.toml", "http://127.0.0.1:9091", url)
}

fn orange_config(faults: &[Fault]) -> ProviderConfig {
    let mut config = ProviderConfig::embedded();
    config.set_dialect(ProviderDialect::OrangeEsV0);
    config.with_faults(faults.iter().copied())
}

async fn run_orange(faults: &[Fault], args: &[&str]) -> (u8, Value) {
    let mut all = vec!["--concurrency", "16"];
    all.extend_from_slice(args);
    common::run_with_profile(orange_config(faults), orange_profile_for, &all).await
}

/// What must run and pass under the dialect (the rest is skipped with a reason).
const APPLICABLE: &[&str] = &[
    "auth_401_expired_token_share",
    "auth_401_expired_token_verify",
    "auth_401_invalid_token_share",
    "auth_401_invalid_token_verify",
    "auth_401_no_token_share",
    "auth_401_no_token_verify",
    "auth_403_not_network_verify",
    "auth_403_scope_share",
    "auth_403_scope_verify",
    "authorize_acr_values",
    "authorize_login_hint",
    "authorize_unknown_parameter",
    "code_expired",
    "code_reuse",
    "negative_wrong_method_allow",
    "negative_wrong_method_error_shape",
    "oidc_device_leg",
    "oidc_long_state",
    "oidc_token_exchange",
    "redirect_uri_mismatch_at_token",
    "redirect_uri_unregistered",
    "verify_hashed_false",
    "verify_hashed_true",
    "verify_hashed_upper_true",
    "verify_plain_false",
    "verify_plain_true",
];

#[tokio::test]
async fn the_orange_profile_certifies_the_provider_playing_orange() {
    let (code, results) = run_orange(&[], &[]).await;
    assert_eq!(code, 0, "{}", common::all_failures(&results));
    let s = &results["summary"];
    assert_eq!(s["failed"], 0, "{}", common::all_failures(&results));
    assert_eq!(s["errored"], 0, "{results:#}");
    let passed = tags_with(&results, |st| st == "passed");
    let expected: BTreeSet<String> = APPLICABLE.iter().map(|t| (*t).to_owned()).collect();
    assert_eq!(passed, expected);
    // Every skip says why, and the reasons are the dialect's, not an accident.
    let skipped = common::scenarios_with_status(&results, "skipped");
    assert!(!skipped.is_empty());
    for sc in &skipped {
        let reason = sc["skip_reason"].as_str().unwrap_or_default();
        assert!(!reason.is_empty(), "{sc:#}");
    }
    let reasons: String = skipped
        .iter()
        .filter_map(|s| s["skip_reason"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for why in [
        "explicitly (the provider publishes no discovery document)",
        "dialect orange-es-v0 is not OpenID Connect",
        "dialect orange-es-v0 documents no 400 answer for phoneNumberVerify",
        "dialect orange-es-v0 documents no PKCE",
        "not with a private_key_jwt client assertion",
        "documents no x-correlator header",
    ] {
        assert!(reasons.contains(why), "no skip says {why:?}:\n{reasons}");
    }
    assert_eq!(results["target"]["spec_version"], "orange-es-v0 0.2");
}

#[tokio::test]
async fn the_embedded_provider_plays_the_dialect_with_run_dialect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, results) = common::run_suite(
        dir.path(),
        &["--dialect", "orange-es-v0", "--tags", "@verify or @auth"],
    )
    .await;
    assert_eq!(code, 0, "{}", common::all_failures(&results));
    assert!(
        results["summary"]["passed"].as_u64().unwrap_or(0) >= 10,
        "{results:#}"
    );
    assert!(
        results["target"]["api_base"]
            .as_str()
            .is_some_and(|b| b.ends_with("/camara/oes/number-verification/v0")),
        "{:#}",
        results["target"]
    );
    // A CAMARA version cannot judge a dialect.
    let code = common::nvcert(&[
        "run",
        "--quiet",
        "--dialect",
        "orange-es-v0",
        "--spec-version",
        "2.1.0",
    ])
    .await;
    assert_eq!(code, 2);
}

/// Fault switches that apply under the dialect → scenario tags that must not pass.
//
// Not listed: faults of what Orange does not have or nvcert cannot check there (discovery,
// id_token, PKCE, client assertions, request objects, DPoP, CIBA, JWT bearer, single-use tokens,
// x-correlator, the 400 answers it does not document) and faults that break no rule
// (`api-delay-100ms`). `api-share-wrong-number` is one of them: the share scenario's premise
// (an x-correlator echo) is not part of the dialect, so nothing checks the 200 share answer.
#[rustfmt::skip]
const TABLE: &[Row] = &[
    // A flow every other check depends on: whatever needs it fails, skipping or not.
    ("state-not-returned", &["auth_401_expired_token_share", "auth_401_expired_token_verify", "auth_403_not_network_verify", "auth_403_scope_share", "auth_403_scope_verify", "authorize_acr_values", "authorize_login_hint", "authorize_unknown_parameter", "client_assertion_replay", "client_secret_refused", "code_bound_to_client", "code_expired", "code_reuse", "dpop_tolerated", "negative_wrong_method_allow", "negative_wrong_method_error_shape", "oidc_device_leg", "oidc_id_token", "oidc_long_state", "oidc_token_exchange", "redirect_uri_mismatch_at_token", "share_success", "verify_hashed_false", "verify_hashed_true", "verify_hashed_upper_true", "verify_plain_false", "verify_plain_true", "verify_success_schema"]),
    ("token-type-not-bearer", &["auth_401_expired_token_share", "auth_401_expired_token_verify", "auth_403_not_network_verify", "auth_403_scope_share", "auth_403_scope_verify", "negative_wrong_method_allow", "negative_wrong_method_error_shape", "oidc_id_token", "oidc_token_exchange", "share_success", "verify_hashed_false", "verify_hashed_true", "verify_hashed_upper_true", "verify_plain_false", "verify_plain_true", "verify_success_schema"]),
    ("state-truncated", &["oidc_long_state"]),
    ("redirect-uri-not-checked", &["redirect_uri_unregistered"]),
    ("unknown-parameter-rejected", &["authorize_unknown_parameter"]),
    ("acr-values-rejected", &["authorize_acr_values"]),
    ("login-hint-rejected", &["authorize_login_hint"]),
    ("code-reusable", &["code_reuse"]),
    ("code-expiry-not-checked", &["code_expired"]),
    ("redirect-uri-mismatch-accepted", &["redirect_uri_mismatch_at_token"]),
    ("token-cacheable", &["oidc_token_exchange"]),
    ("long-token-lifetime", &["auth_401_expired_token_share", "auth_401_expired_token_verify"]),
    ("api-expired-token-accepted", &["auth_401_expired_token_share", "auth_401_expired_token_verify"]),
    ("api-signature-not-checked", &["auth_401_invalid_token_share", "auth_401_invalid_token_verify"]),
    ("api-scope-not-checked", &["auth_403_scope_share", "auth_403_scope_verify"]),
    ("api-network-auth-not-checked", &["auth_403_not_network_verify"]),
    ("api-error-status-mismatch", &["auth_401_expired_token_share", "auth_401_expired_token_verify", "auth_401_invalid_token_share", "auth_401_invalid_token_verify", "auth_401_no_token_share", "auth_401_no_token_verify", "auth_403_not_network_verify", "auth_403_scope_share", "auth_403_scope_verify", "negative_wrong_method_allow", "negative_wrong_method_error_shape"]),
    ("api-wrong-error-code", &["auth_401_expired_token_share", "auth_401_expired_token_verify", "auth_401_invalid_token_share", "auth_401_invalid_token_verify", "auth_401_no_token_share", "auth_401_no_token_verify"]),
    ("api-content-type-text", &["share_success", "verify_hashed_false", "verify_hashed_true", "verify_hashed_upper_true", "verify_plain_false", "verify_plain_true", "verify_success_schema"]),
    ("api-verify-always-true", &["verify_hashed_false", "verify_plain_false"]),
    ("api-hash-case-sensitive", &["verify_hashed_upper_true"]),
    ("api-undocumented-status", &["verify_hashed_false", "verify_hashed_true", "verify_hashed_upper_true"]),
];

#[tokio::test]
async fn each_applicable_fault_fails_exactly_its_checks() {
    // The faults that do not apply under the dialect have no row and are not run; skipped
    // scenarios are skipped by the dialect, fault or not.
    let faults = TABLE
        .iter()
        .map(|(name, _)| (*name, name.parse::<Fault>().expect("a fault name")));
    FaultTable {
        rows: TABLE,
        caught: Caught::NotPassedNorSkipped,
        at_once: 4,
    }
    .check(
        faults,
        |fault| async move { run_orange(&[fault], &[]).await.1 },
    )
    .await;
}

#[tokio::test]
async fn the_compatibility_report_lists_the_orange_differences() {
    let (code, results) = run_orange(&[], &[]).await;
    assert_eq!(code, 0, "REVIEW differences never fail the run");
    let report = &results["compatibility"];
    let messages: Vec<&str> = report["differences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["message"].as_str())
        .collect();
    for wanted in [
        "phoneNumberType is not a CAMARA property",
        "401 code UNAUTHORIZED where CAMARA documents UNAUTHENTICATED",
        "status is a string (\"403\")",
        "the 401 answer has no status",
        "devicePhoneNumber is an object",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(wanted)),
            "{wanted:?} missing from {messages:#?}"
        );
    }
    // Each difference once.
    let unique: BTreeSet<&&str> = messages.iter().collect();
    assert_eq!(unique.len(), messages.len());
    insta::assert_json_snapshot!("orange_compatibility", report);

    common::assert_matches_results_schema(&results);

    // Against another CAMARA version when asked; none when turned off.
    let (_, later) = run_orange(
        &[],
        &["--compare-with", "camara:2.1.0", "--tags", "@verify"],
    )
    .await;
    assert_eq!(later["compatibility"]["compared_with"], "camara:2.1.0");
    let (_, none) = run_orange(&[], &["--compare-with", "none", "--tags", "@verify"]).await;
    assert!(none.get("compatibility").is_none());
}

#[tokio::test]
async fn a_camara_run_has_no_compatibility_report_unless_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, results) = common::run_suite(dir.path(), &["--tags", "@verify"]).await;
    assert_eq!(code, 0);
    assert!(results.get("compatibility").is_none());
    let (code, results) = common::run_suite(
        dir.path(),
        &["--tags", "@verify", "--compare-with", "camara:2.0.0"],
    )
    .await;
    assert_eq!(code, 0);
    // The reference provider at 2.1.0 and CAMARA 2.0.0 agree on what @verify exchanges.
    assert_eq!(results["compatibility"]["compared_with"], "camara:2.0.0");
    assert_eq!(
        results["compatibility"]["differences"],
        serde_json::json!([]),
        "{:#}",
        results["compatibility"]
    );
}

/// The scenarios that cover Masstack's published NV v2 flows (shared/seeds 004: "Open-Gateway
/// API V2"): the authorization code flow without a temporary token (prompt=none implied, network
/// authentication) and CIBA with `login_hint=operatortoken:…` with one; then /verify and
/// /device-phone-number with a 3-legged token. README "Providers as they are" names them.
const MASSTACK_FLOWS: &[&str] = &[
    "oidc_discovery",
    "oidc_device_leg",
    "oidc_token_exchange",
    "oidc_id_token",
    "verify_plain_true",
    "verify_hashed_true",
    "share_success",
    "auth_403_not_network_verify",
    "ciba_operator_token",
    "ciba_unknown_login_hint",
    "ciba_tel_login_hint_not_network",
    "ciba_early_poll",
];

#[tokio::test]
async fn the_standard_profile_covers_the_masstack_flows_at_2_0_0_and_2_1_0() {
    let tags = MASSTACK_FLOWS
        .iter()
        .map(|t| format!("@{t}"))
        .collect::<Vec<_>>()
        .join(" or ");
    for version in ["2.0.0", "2.1.0"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (code, results) =
            common::run_suite(dir.path(), &["--spec-version", version, "--tags", &tags]).await;
        assert_eq!(code, 0, "{version}: {}", common::all_failures(&results));
        let passed = tags_with(&results, |st| st == "passed");
        let wanted: BTreeSet<String> = MASSTACK_FLOWS.iter().map(|t| (*t).to_owned()).collect();
        assert_eq!(
            passed, wanted,
            "{version}: every Masstack flow runs and passes"
        );
    }
}

#[tokio::test]
async fn explicit_endpoints_skip_discovery_and_the_rest_runs() {
    let profile = |url: &str| {
        common::reference_profile_for(url).replace(
            "spec_version = \"2.1.0\"",
            &format!(
                "spec_version = \"2.1.0\"\nauthorization_endpoint = \"{url}/authorize\"\n\
                 token_endpoint = \"{url}/token\"\njwks_uri = \"{url}/jwks\"\n\
                 backchannel_authentication_endpoint = \"{url}/bc-authorize\""
            ),
        )
    };
    let (code, results) = common::run_with_profile(
        ProviderConfig::embedded(),
        profile,
        &["--tags", "@oidc or @verify or @ciba_operator_token"],
    )
    .await;
    assert_eq!(code, 0, "{}", common::all_failures(&results));
    let skipped = tags_with(&results, |st| st == "skipped");
    assert_eq!(
        skipped,
        [
            "oidc_discovery",
            "oidc_discovery_private_key_jwt",
            "oidc_jwks"
        ]
        .map(str::to_owned)
        .into_iter()
        .collect::<BTreeSet<_>>()
    );
    for sc in common::scenarios_with_status(&results, "skipped") {
        assert!(
            sc["skip_reason"].as_str().is_some_and(
                |r| r.contains("gives authorization_endpoint and token_endpoint explicitly")
            ),
            "{sc:#}"
        );
    }
    // The id_token is still checked against the JWKS the profile names, CIBA still runs.
    let passed = tags_with(&results, |st| st == "passed");
    assert!(
        passed.contains("oidc_id_token") && passed.contains("ciba_operator_token"),
        "{passed:?}"
    );
}

#[test]
fn serve_and_run_take_a_dialect_by_name() {
    use clap::Parser as _;
    for ok in [
        &["nvcert", "serve", "--dialect", "orange-es-v0"][..],
        &[
            "nvcert",
            "run",
            "--dialect",
            "orange-es-v0",
            "--compare-with",
            "camara:2.1.0",
        ],
    ] {
        assert!(nvcert::cli::Cli::try_parse_from(ok).is_ok(), "{ok:?}");
    }
    let e = nvcert::cli::Cli::try_parse_from(["nvcert", "serve", "--dialect", "acme"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("orange-es-v0"), "{e}");
    // A profile names the dialect; --dialect is for the embedded provider only.
    assert!(
        nvcert::cli::Cli::try_parse_from([
            "nvcert",
            "run",
            "--dialect",
            "orange-es-v0",
            "--provider",
            "p.toml"
        ])
        .is_err()
    );
}

#[tokio::test]
async fn a_bad_compare_with_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _) = common::run_suite(dir.path(), &["--compare-with", "2.1.0"]).await;
    assert_eq!(code, 2);
    let (code, _) = common::run_suite(dir.path(), &["--compare-with", "camara:9.9.9"]).await;
    assert_eq!(code, 2);
}

/// The provider's Orange quirks, request by request (what the run above exercises through the
/// features, here with the forms the features do not send: REGULAR/HASHED, digits without '+').
#[tokio::test]
async fn the_provider_speaks_orange_on_the_wire() {
    use axum::http::StatusCode;
    use common::provider::{DEMO, P, REDIRECT, demo_secret, query};
    let p = P::with_config(orange_config(&[]));
    let scope = "dpv:FraudPreventionAndDetection#number-verification-verify-read \
                 dpv:FraudPreventionAndDetection#number-verification-share-read";
    let authorize = format!(
        "/camara/oes/number-verification/v0/authorize?{}",
        query(&[
            ("response_type", "code"),
            ("client_id", DEMO),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "st"),
        ])
    );
    let r = p.get(&authorize, &[(common::ENRICH, common::DEVICE)]).await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text());
    let code = r.location_params()["code"].clone();
    let secret = demo_secret();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    // CAMARA's paths are not Orange's.
    for absent in ["/token", "/authorize", "/.well-known/openid-configuration"] {
        let r = p.get(absent, &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{absent}");
    }
    let r = p
        .form(
            "/es/openapi/oauth/v2/token",
            &form,
            Some((DEMO, &secret)),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let tokens = r.json();
    assert!(tokens.get("id_token").is_none(), "no openid, no id_token");
    let token = tokens["access_token"].as_str().expect("token").to_owned();

    let device = common::DEVICE;
    let digits = &device[1..];
    for (kind, number, expected) in [
        ("RegularPhoneNumber", device.to_owned(), Some(true)),
        ("REGULAR", digits.to_owned(), Some(true)),
        ("REGULAR", common::ANOTHER.to_owned(), Some(false)),
        ("HashedPhoneNumber", common::sha256_hex(device), Some(true)),
        ("HASHED", common::sha256_hex(digits), Some(true)),
        ("HASHED", common::sha256_hex(common::ANOTHER), Some(false)),
        ("PlainPhoneNumber", device.to_owned(), None),
    ] {
        let body = serde_json::json!({"phoneNumberType": kind, "phoneNumber": number});
        let r = p.verify(&token, &body).await;
        match expected {
            Some(v) => {
                assert_eq!(r.status, StatusCode::OK, "{kind} {}", r.text());
                assert_eq!(r.json()["devicePhoneNumberVerified"], v, "{kind} {number}");
            }
            None => assert_eq!(r.status, StatusCode::BAD_REQUEST, "{kind}"),
        }
    }
    // The CAMARA body is not Orange's.
    let r = p
        .verify(&token, &serde_json::json!({"phoneNumber": device}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = p.share(&token).await;
    assert_eq!(
        r.json(),
        serde_json::json!({"devicePhoneNumber": {"phoneNumberType": "REGULAR", "phoneNumber": device}})
    );
    let r = p.share("not-a-token").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["code"], "UNAUTHORIZED");
    assert!(r.json().get("status").is_none());
}
