//! One test per fault switch: the rule holds on the conformant provider and breaks with the fault.
//! Plus a smoke test that every fault leaves the ordinary flow (authorize → token → verify/share)
//! working, i.e. breaks only its own rule.
//!
//! All keys, secrets and numbers used here are the TEST-ONLY fixtures.

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::provider::*;
use common::{ANOTHER, DEVICE, fixtures, sha256_hex};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use nvcert::provider::{Fault, JWT_BEARER_ASSERTION, ProviderConfig, SpecVersion};
use serde_json::{Value, json};

const V: SpecVersion = SpecVersion::V2_1_0;

fn verify_scope() -> String {
    scope(V, true, false, true)
}

/// The conformant provider and one with only `f`.
fn pair(f: Fault) -> (P, P) {
    (P::conformant(), P::faulty(&[f]))
}

// ---------------------------------------------------------------------------------------------
// Every fault breaks only its own rule
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_fault_keeps_the_ordinary_flow_working() {
    for f in Fault::ALL {
        let p = P::faulty(&[*f]);
        let sc = scope(V, true, true, true);
        let (verifier, challenge) = pkce_pair();
        let mut params = p.params(DEMO, &sc, "smoke");
        params.push(("code_challenge", &challenge));
        params.push(("code_challenge_method", "S256"));
        let r = p.authorize_as(&params, DEVICE).await;
        assert_eq!(r.status, StatusCode::FOUND, "{f}: {}", r.text());
        let code = r.location_params()["code"].clone();
        let r = p.redeem(DEMO, &code, &[("code_verifier", &verifier)]).await;
        assert_eq!(r.status, StatusCode::OK, "{f}: {}", r.text());
        let at = r.json()["access_token"].as_str().expect("at").to_owned();
        let r = p.verify(&at, &json!({"phoneNumber": DEVICE})).await;
        assert_eq!(r.status, StatusCode::OK, "{f}: {}", r.text());
        assert_eq!(r.json()["devicePhoneNumberVerified"], true, "{f}");
        let r = p.share(&at).await;
        assert_eq!(r.status, StatusCode::OK, "{f}: {}", r.text());
        let r = p.get("/.well-known/openid-configuration", &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{f}");
    }
}

#[tokio::test]
async fn faults_come_from_the_config_file_too() {
    let dir = fixtures();
    let text = std::fs::read_to_string(dir.join("reference-provider.toml")).expect("toml");
    let cfg = ProviderConfig::from_toml(
        &text.replace("faults = []", "faults = [\"token-type-not-bearer\"]"),
        "test.toml",
        &dir,
    )
    .expect("config");
    let p = P::with_config(cfg);
    assert!(p.state.faults().has(Fault::TokenTypeNotBearer));
    let tok = p.tokens(DEMO, &verify_scope(), DEVICE).await;
    assert_eq!(tok["token_type"], "mac");
}

// ---------------------------------------------------------------------------------------------
// Authorization endpoint
// ---------------------------------------------------------------------------------------------

async fn success_state(p: &P, state: &str) -> Option<String> {
    let sc = verify_scope();
    let r = p.authorize_as(&p.params(DEMO, &sc, state), DEVICE).await;
    let q = r.location_params();
    assert!(q.contains_key("code"), "{q:?}");
    q.get("state").cloned()
}

#[tokio::test]
async fn fault_state_not_returned() {
    let (good, bad) = pair(Fault::StateNotReturned);
    assert_eq!(success_state(&good, "st-1").await.as_deref(), Some("st-1"));
    assert_eq!(success_state(&bad, "st-1").await, None);
}

#[tokio::test]
async fn fault_state_truncated() {
    let (good, bad) = pair(Fault::StateTruncated);
    let long: String = "aZ09-._~é".chars().cycle().take(100).collect();
    assert_eq!(success_state(&good, &long).await, Some(long.clone()));
    let cut: String = long.chars().take(64).collect();
    assert_eq!(success_state(&bad, &long).await, Some(cut));
    // Short states are untouched even with the fault.
    assert_eq!(success_state(&bad, "short").await.as_deref(), Some("short"));
}

#[tokio::test]
async fn fault_redirect_uri_not_checked() {
    let (good, bad) = pair(Fault::RedirectUriNotChecked);
    let sc = verify_scope();
    let evil = "https://evil.example/cb";
    for p in [&good, &bad] {
        let mut params = p.params(DEMO, &sc, "s");
        params[2] = ("redirect_uri", evil);
        let r = p.authorize_as(&params, DEVICE).await;
        if std::ptr::eq(p, &good) {
            assert_eq!(r.status, StatusCode::BAD_REQUEST);
            assert!(r.header("location").is_none());
        } else {
            assert_eq!(r.status, StatusCode::FOUND);
            assert!(r.header("location").is_some_and(|l| l.starts_with(evil)));
            assert!(r.location_params().contains_key("code"));
        }
    }
}

/// The error (or "code") of an authorization request with `extra` parameters.
async fn authorize_outcome(p: &P, extra: &[(&str, &str)]) -> String {
    let sc = verify_scope();
    let mut params = p.params(DEMO, &sc, "s");
    params.extend_from_slice(extra);
    let q = p.authorize_as(&params, DEVICE).await.location_params();
    match q.get("error") {
        Some(e) => e.clone(),
        None => {
            assert!(q.contains_key("code"), "{q:?}");
            "code".to_owned()
        }
    }
}

#[tokio::test]
async fn fault_unknown_parameter_rejected() {
    let (good, bad) = pair(Fault::UnknownParameterRejected);
    let extra = [("unknown_extension", "x")];
    assert_eq!(authorize_outcome(&good, &extra).await, "code");
    assert_eq!(authorize_outcome(&bad, &extra).await, "invalid_request");
}

#[tokio::test]
async fn fault_acr_values_rejected() {
    let (good, bad) = pair(Fault::AcrValuesRejected);
    let extra = [("acr_values", "urn:x")];
    assert_eq!(authorize_outcome(&good, &extra).await, "code");
    assert_eq!(authorize_outcome(&bad, &extra).await, "invalid_request");
}

#[tokio::test]
async fn fault_login_hint_rejected() {
    let (good, bad) = pair(Fault::LoginHintRejected);
    let extra = [("login_hint", "tel:+34600000001")];
    assert_eq!(authorize_outcome(&good, &extra).await, "code");
    assert_eq!(authorize_outcome(&bad, &extra).await, "invalid_request");
}

/// A request object for the demo client with `aud`, `iat`, `exp`.
fn request_object(aud: &str, iat: u64, exp: u64) -> String {
    sign(
        DEMO,
        &json!({"iss": DEMO, "aud": aud, "iat": iat, "exp": exp, "jti": random_jti(),
                "client_id": DEMO, "response_type": "code", "redirect_uri": REDIRECT,
                "scope": verify_scope(), "state": "ro"}),
    )
}

#[tokio::test]
async fn fault_request_object_rejected() {
    let (good, bad) = pair(Fault::RequestObjectRejected);
    let n = now();
    let ro = request_object(ISSUER, n, n + 60);
    assert_eq!(authorize_outcome(&good, &[("request", &ro)]).await, "code");
    let ro = request_object(ISSUER, n, n + 60);
    assert_eq!(
        authorize_outcome(&bad, &[("request", &ro)]).await,
        "invalid_request_object"
    );
}

#[tokio::test]
async fn fault_request_object_audience_not_checked() {
    let (good, bad) = pair(Fault::RequestObjectAudienceNotChecked);
    let n = now();
    let ro = request_object("https://elsewhere.example/", n, n + 60);
    assert_eq!(
        authorize_outcome(&good, &[("request", &ro)]).await,
        "invalid_request_object"
    );
    assert_eq!(authorize_outcome(&bad, &[("request", &ro)]).await, "code");
}

#[tokio::test]
async fn fault_request_object_expiry_not_checked() {
    let (good, bad) = pair(Fault::RequestObjectExpiryNotChecked);
    let n = now();
    let ro = request_object(ISSUER, n - 120, n - 60);
    assert_eq!(
        authorize_outcome(&good, &[("request", &ro)]).await,
        "invalid_request_object"
    );
    assert_eq!(authorize_outcome(&bad, &[("request", &ro)]).await, "code");
}

#[tokio::test]
async fn fault_pkce_plain_accepted() {
    let (good, bad) = pair(Fault::PkcePlainAccepted);
    let (verifier, _) = pkce_pair();
    let extra = [
        ("code_challenge", verifier.as_str()),
        ("code_challenge_method", "plain"),
    ];
    assert_eq!(authorize_outcome(&good, &extra).await, "invalid_request");
    // With the fault: a code, redeemable with the plain verifier only.
    let sc = verify_scope();
    let mut params = bad.params(DEMO, &sc, "s");
    params.extend_from_slice(&extra);
    let code = bad.authorize_as(&params, DEVICE).await.location_params()["code"].clone();
    bad.redeem(DEMO, &code, &[("code_verifier", &verifier)])
        .await
        .ok();
    let code = bad.authorize_as(&params, DEVICE).await.location_params()["code"].clone();
    let (wrong, _) = pkce_pair();
    assert_oauth_error(
        &bad.redeem(DEMO, &code, &[("code_verifier", &wrong)]).await,
        400,
        "invalid_grant",
    );
}

// ---------------------------------------------------------------------------------------------
// Token endpoint
// ---------------------------------------------------------------------------------------------

async fn pkce_code(p: &P, challenge: &str) -> String {
    let sc = verify_scope();
    let mut params = p.params(DEMO, &sc, "s");
    params.push(("code_challenge", challenge));
    params.push(("code_challenge_method", "S256"));
    p.authorize_as(&params, DEVICE).await.location_params()["code"].clone()
}

#[tokio::test]
async fn fault_pkce_not_checked() {
    let (good, bad) = pair(Fault::PkceNotChecked);
    let (_, challenge) = pkce_pair();
    let (wrong, _) = pkce_pair();
    let code = pkce_code(&good, &challenge).await;
    assert_oauth_error(
        &good.redeem(DEMO, &code, &[("code_verifier", &wrong)]).await,
        400,
        "invalid_grant",
    );
    let code = pkce_code(&bad, &challenge).await;
    bad.redeem(DEMO, &code, &[("code_verifier", &wrong)])
        .await
        .ok();
    let code = pkce_code(&bad, &challenge).await;
    bad.redeem(DEMO, &code, &[]).await.ok();
}

#[tokio::test]
async fn fault_code_reusable() {
    let (good, bad) = pair(Fault::CodeReusable);
    let sc = verify_scope();
    let code = good.code(DEMO, &sc, DEVICE).await;
    good.redeem(DEMO, &code, &[]).await.ok();
    assert_oauth_error(&good.redeem(DEMO, &code, &[]).await, 400, "invalid_grant");
    let code = bad.code(DEMO, &sc, DEVICE).await;
    bad.redeem(DEMO, &code, &[]).await.ok();
    bad.redeem(DEMO, &code, &[]).await.ok();
}

#[tokio::test]
async fn fault_code_expiry_not_checked() {
    let (good, bad) = pair(Fault::CodeExpiryNotChecked);
    let sc = verify_scope();
    // nvcert-short-lived codes live 1 s.
    let good_code = good.code(SHORT, &sc, DEVICE).await;
    let bad_code = bad.code(SHORT, &sc, DEVICE).await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_oauth_error(
        &good.redeem(SHORT, &good_code, &[]).await,
        400,
        "invalid_grant",
    );
    bad.redeem(SHORT, &bad_code, &[]).await.ok();
}

#[tokio::test]
async fn fault_code_not_bound_to_client() {
    let (good, bad) = pair(Fault::CodeNotBoundToClient);
    let sc = verify_scope();
    // The other client presents the demo client's code with the redirect URI of the request.
    let other = [("redirect_uri", REDIRECT)];
    let code = good.code(DEMO, &sc, DEVICE).await;
    assert_oauth_error(
        &good.redeem(OTHER, &code, &other).await,
        400,
        "invalid_grant",
    );
    let code = bad.code(DEMO, &sc, DEVICE).await;
    bad.redeem(OTHER, &code, &other).await.ok();
}

#[tokio::test]
async fn fault_redirect_uri_mismatch_accepted() {
    let (good, bad) = pair(Fault::RedirectUriMismatchAccepted);
    let sc = verify_scope();
    let other = [("redirect_uri", "https://client.nvcert.invalid/other")];
    let code = good.code(DEMO, &sc, DEVICE).await;
    assert_oauth_error(
        &good.redeem(DEMO, &code, &other).await,
        400,
        "invalid_grant",
    );
    let code = bad.code(DEMO, &sc, DEVICE).await;
    bad.redeem(DEMO, &code, &other).await.ok();
}

/// Redeems a fresh demo code with a client assertion built from `claims`.
async fn redeem_with_assertion(p: &P, claims: &Value) -> Resp {
    let code = p.code(DEMO, &verify_scope(), DEVICE).await;
    let a = sign(DEMO, claims);
    p.redeem(
        DEMO,
        &code,
        &[
            ("client_assertion_type", JWT_BEARER_ASSERTION),
            ("client_assertion", &a),
        ],
    )
    .await
}

/// Demo client-assertion claims with `iat`/`exp` relative to now and a fresh jti.
fn assertion_at(iat: i64, exp: i64) -> Value {
    let n = now() as i64;
    let mut c = assertion_claims(DEMO, &format!("{ISSUER}/token"));
    c["iat"] = json!(n + iat);
    c["exp"] = json!(n + exp);
    c
}

#[tokio::test]
async fn fault_assertion_expiry_not_checked() {
    let (good, bad) = pair(Fault::AssertionExpiryNotChecked);
    let c = assertion_at(-120, -60);
    assert_oauth_error(
        &redeem_with_assertion(&good, &c).await,
        401,
        "invalid_client",
    );
    redeem_with_assertion(&bad, &assertion_at(-120, -60))
        .await
        .ok();
}

#[tokio::test]
async fn fault_assertion_lifetime_not_checked() {
    let (good, bad) = pair(Fault::AssertionLifetimeNotChecked);
    // exp − iat > 300 (exp within 300 s of now), and exp more than 300 s away.
    for (iat, exp) in [(-100, 250), (0, 400)] {
        assert_oauth_error_for(
            &format!("iat {iat}, exp {exp}"),
            &redeem_with_assertion(&good, &assertion_at(iat, exp)).await,
            401,
            "invalid_client",
        );
        redeem_with_assertion(&bad, &assertion_at(iat, exp))
            .await
            .ok();
    }
}

#[tokio::test]
async fn fault_assertion_audience_not_checked() {
    let (good, bad) = pair(Fault::AssertionAudienceNotChecked);
    let elsewhere = || assertion_claims(DEMO, "https://elsewhere.example/token");
    assert_oauth_error(
        &redeem_with_assertion(&good, &elsewhere()).await,
        401,
        "invalid_client",
    );
    redeem_with_assertion(&bad, &elsewhere()).await.ok();
}

#[tokio::test]
async fn fault_assertion_jti_replay_accepted() {
    let (good, bad) = pair(Fault::AssertionJtiReplayAccepted);
    let c = assertion_claims(DEMO, &format!("{ISSUER}/token"));
    redeem_with_assertion(&good, &c).await.ok();
    assert_oauth_error(
        &redeem_with_assertion(&good, &c).await,
        401,
        "invalid_client",
    );
    redeem_with_assertion(&bad, &c).await.ok();
    redeem_with_assertion(&bad, &c).await.ok();
}

#[tokio::test]
async fn fault_client_secret_accepted() {
    let (good, bad) = pair(Fault::ClientSecretAccepted);
    let secret = demo_secret();
    let sc = verify_scope();
    for p in [&good, &bad] {
        let code = p.code(OTHER, &sc, DEVICE).await;
        let r = p
            .form(
                "/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", OTHER_REDIRECT),
                ],
                Some((OTHER, &secret)),
                &[],
            )
            .await;
        if std::ptr::eq(p, &good) {
            assert_oauth_error(&r, 401, "invalid_client");
        } else {
            r.ok();
        }
    }
    // A wrong secret is still refused with the fault.
    let code = bad.code(OTHER, &sc, DEVICE).await;
    let r = bad
        .form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", OTHER_REDIRECT),
            ],
            Some((OTHER, "wrong")),
            &[],
        )
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
}

#[tokio::test]
async fn fault_token_type_not_bearer() {
    let (good, bad) = pair(Fault::TokenTypeNotBearer);
    let sc = verify_scope();
    assert_eq!(good.tokens(DEMO, &sc, DEVICE).await["token_type"], "Bearer");
    assert_eq!(bad.tokens(DEMO, &sc, DEVICE).await["token_type"], "mac");
}

#[tokio::test]
async fn fault_token_cacheable() {
    let (good, bad) = pair(Fault::TokenCacheable);
    let sc = verify_scope();
    let code = good.code(DEMO, &sc, DEVICE).await;
    let r = good.redeem(DEMO, &code, &[]).await;
    assert_eq!(r.ok().header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    let code = bad.code(DEMO, &sc, DEVICE).await;
    let r = bad.redeem(DEMO, &code, &[]).await;
    assert!(r.ok().header("cache-control").is_none());
    assert!(r.header("pragma").is_none());
}

#[tokio::test]
async fn fault_refresh_token_issued() {
    let (good, bad) = pair(Fault::RefreshTokenIssued);
    let sc = verify_scope();
    assert!(
        good.tokens(DEMO, &sc, DEVICE)
            .await
            .get("refresh_token")
            .is_none()
    );
    assert!(bad.tokens(DEMO, &sc, DEVICE).await["refresh_token"].is_string());
    // CIBA too.
    let id = bad.ciba_request(DEMO, "tel:+34600000001").await;
    assert!(bad.ciba_poll_on_time(DEMO, &id).await.ok().json()["refresh_token"].is_string());
}

#[tokio::test]
async fn fault_long_token_lifetime() {
    let (good, bad) = pair(Fault::LongTokenLifetime);
    let sc = verify_scope();
    for (p, ttl) in [(&good, 300), (&bad, 3600)] {
        let tok = p.tokens(DEMO, &sc, DEVICE).await;
        assert_eq!(tok["expires_in"], ttl);
        let c = claims(tok["access_token"].as_str().expect("at"));
        // exp to the millisecond, iat in whole seconds.
        let lifetime = c["exp"].as_f64().expect("exp") - c["iat"].as_f64().expect("iat");
        assert!((lifetime - f64::from(ttl)).abs() <= 1.0, "{lifetime}");
    }
    // Even the short-lived client's tokens then live an hour.
    let tok = bad.tokens(SHORT, &sc, DEVICE).await;
    assert_eq!(tok["expires_in"], 3600);
    let at = tok["access_token"].as_str().expect("at");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(verified(
        &bad.verify(at, &json!({"phoneNumber": DEVICE})).await
    ));
}

async fn id_token(p: &P) -> Value {
    let tok = p.tokens(DEMO, &verify_scope(), DEVICE).await;
    claims(tok["id_token"].as_str().expect("id_token"))
}

#[tokio::test]
async fn fault_id_token_wrong_audience() {
    let (good, bad) = pair(Fault::IdTokenWrongAudience);
    assert_eq!(id_token(&good).await["aud"], DEMO);
    assert_ne!(id_token(&bad).await["aud"], DEMO);
}

#[tokio::test]
async fn fault_id_token_nonce_missing() {
    let (good, bad) = pair(Fault::IdTokenNonceMissing);
    assert_eq!(id_token(&good).await["nonce"], "n-0S6_WzA2Mj");
    assert!(id_token(&bad).await.get("nonce").is_none());
}

#[tokio::test]
async fn fault_id_token_bad_signature() {
    let (good, bad) = pair(Fault::IdTokenBadSignature);
    let mut v = Validation::new(Algorithm::ES256);
    v.set_audience(&[DEMO]);
    for p in [&good, &bad] {
        let jwks: jsonwebtoken::jwk::JwkSet =
            serde_json::from_value(p.get("/jwks", &[]).await.json()).expect("jwks");
        let tok = p.tokens(DEMO, &verify_scope(), DEVICE).await;
        let id = tok["id_token"].as_str().expect("id");
        let kid = jsonwebtoken::decode_header(id)
            .expect("header")
            .kid
            .expect("kid");
        let jwk = jwks.find(&kid).expect("kid is in the JWKS");
        let key = DecodingKey::from_jwk(jwk).expect("key");
        let ok = jsonwebtoken::decode::<Value>(id, &key, &v).is_ok();
        assert_eq!(ok, std::ptr::eq(p, &good));
    }
}

#[tokio::test]
async fn fault_dpop_rejected() {
    let (good, bad) = pair(Fault::DpopRejected);
    let sc = verify_scope();
    for p in [&good, &bad] {
        let code = p.code(DEMO, &sc, DEVICE).await;
        let a = assertion(DEMO);
        let r = p
            .form(
                "/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("client_assertion_type", JWT_BEARER_ASSERTION),
                    ("client_assertion", &a),
                ],
                None,
                &[("DPoP", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln")],
            )
            .await;
        if std::ptr::eq(p, &good) {
            r.ok();
        } else {
            assert_oauth_error(&r, 400, "invalid_dpop_proof");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Operator-token flows
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fault_ciba_unknown_login_hint_accepted() {
    let (good, bad) = pair(Fault::CibaUnknownLoginHintAccepted);
    let sc = scope(V, true, true, true);
    let form = [
        ("scope", sc.as_str()),
        ("login_hint", "operatortoken:forged"),
    ];
    assert_oauth_error(
        &good.bc_authorize(DEMO, &form).await,
        400,
        "unknown_user_id",
    );
    let r = bad.bc_authorize(DEMO, &form).await;
    let id = r.ok().json()["auth_req_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let tok = bad.ciba_poll_on_time(DEMO, &id).await.ok().json();
    // The forged token stands for the first configured line.
    let at = tok["access_token"].as_str().expect("at");
    assert_eq!(
        bad.share(at).await.ok().json(),
        json!({"devicePhoneNumber": DEVICE})
    );
    // Other login_hint forms are still checked.
    let form = [("scope", sc.as_str()), ("login_hint", "ipport:1.2.3.4:5")];
    assert_oauth_error(&bad.bc_authorize(DEMO, &form).await, 400, "unknown_user_id");
}

#[tokio::test]
async fn fault_ciba_pending_ignored() {
    let (good, bad) = pair(Fault::CibaPendingIgnored);
    let id = good.ciba_request(DEMO, "tel:+34600000001").await;
    assert_oauth_error(&good.ciba_poll(DEMO, &id).await, 400, "slow_down");
    let id = bad.ciba_request(DEMO, "tel:+34600000001").await;
    bad.ciba_poll(DEMO, &id).await.ok();
    // Still single use.
    assert_oauth_error(&bad.ciba_poll(DEMO, &id).await, 400, "invalid_grant");
}

#[tokio::test]
async fn fault_jwt_bearer_audience_not_checked() {
    let (good, bad) = pair(Fault::JwtBearerAudienceNotChecked);
    for p in [&good, &bad] {
        let mut c = p.jwt_bearer_claims("tel:+34600000001");
        c["aud"] = json!("https://elsewhere.example/token");
        let r = p.jwt_bearer(&sign(DEMO, &c), &[]).await;
        if std::ptr::eq(p, &good) {
            assert_oauth_error(&r, 400, "invalid_grant");
        } else {
            r.ok();
        }
    }
}

#[tokio::test]
async fn fault_jwt_bearer_refresh_token_issued() {
    let (good, bad) = pair(Fault::JwtBearerRefreshTokenIssued);
    for p in [&good, &bad] {
        let a = sign(DEMO, &p.jwt_bearer_claims("tel:+34600000001"));
        let tok = p.jwt_bearer(&a, &[]).await.ok().json();
        assert_eq!(
            tok.get("refresh_token").is_some(),
            std::ptr::eq(p, &bad),
            "{tok}"
        );
    }
    // The auth-code grant is unaffected.
    assert!(
        bad.tokens(DEMO, &verify_scope(), DEVICE)
            .await
            .get("refresh_token")
            .is_none()
    );
}

// ---------------------------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------------------------

async fn discovery(p: &P) -> Value {
    p.get("/.well-known/openid-configuration", &[])
        .await
        .ok()
        .json()
}

#[tokio::test]
async fn fault_discovery_no_private_key_jwt() {
    let (good, bad) = pair(Fault::DiscoveryNoPrivateKeyJwt);
    let has = |m: &Value| {
        m["token_endpoint_auth_methods_supported"]
            .as_array()
            .expect("methods")
            .contains(&json!("private_key_jwt"))
    };
    assert!(has(&discovery(&good).await));
    assert!(!has(&discovery(&bad).await));
}

#[tokio::test]
async fn fault_discovery_issuer_mismatch() {
    let (good, bad) = pair(Fault::DiscoveryIssuerMismatch);
    assert_eq!(discovery(&good).await["issuer"], ISSUER);
    let m = discovery(&bad).await;
    assert_ne!(m["issuer"], ISSUER);
    // Only the advertised issuer is wrong.
    assert_eq!(m["token_endpoint"], format!("{ISSUER}/token"));
}

// ---------------------------------------------------------------------------------------------
// NV API
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fault_api_expired_token_accepted() {
    let (good, bad) = pair(Fault::ApiExpiredTokenAccepted);
    let sc = scope(V, true, true, true);
    let g = good.tokens(SHORT, &sc, DEVICE).await;
    let b = bad.tokens(SHORT, &sc, DEVICE).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let g = g["access_token"].as_str().expect("at");
    let b = b["access_token"].as_str().expect("at");
    assert_error_info(&good.share(g).await, 401, "UNAUTHENTICATED");
    bad.share(b).await.ok();
}

#[tokio::test]
async fn fault_api_signature_not_checked() {
    let (good, bad) = pair(Fault::ApiSignatureNotChecked);
    // The harness's forged token: HS256 with a random key and random claims.
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"foo": random_jti(), "exp": 1}),
        &EncodingKey::from_secret(random_jti().as_bytes()),
    )
    .expect("sign");
    let body = json!({"phoneNumber": DEVICE});
    assert_error_info(&good.verify(&forged, &body).await, 401, "UNAUTHENTICATED");
    assert!(verified(&bad.verify(&forged, &body).await));
    assert_eq!(
        bad.share(&forged).await.ok().json(),
        json!({"devicePhoneNumber": DEVICE})
    );
    // Not JWT-shaped: still 401.
    assert_error_info(
        &bad.verify("not-a-jwt", &body).await,
        401,
        "UNAUTHENTICATED",
    );
}

#[tokio::test]
async fn fault_api_scope_not_checked() {
    let (good, bad) = pair(Fault::ApiScopeNotChecked);
    let share_only = scope(V, false, true, true);
    let body = json!({"phoneNumber": DEVICE});
    let at = good.tokens(DEMO, &share_only, DEVICE).await["access_token"]
        .as_str()
        .expect("at")
        .to_owned();
    assert_error_info(&good.verify(&at, &body).await, 403, "PERMISSION_DENIED");
    let at = bad.tokens(DEMO, &share_only, DEVICE).await["access_token"]
        .as_str()
        .expect("at")
        .to_owned();
    assert!(verified(&bad.verify(&at, &body).await));
}

#[tokio::test]
async fn fault_api_network_auth_not_checked() {
    let (good, bad) = pair(Fault::ApiNetworkAuthNotChecked);
    let sc = scope(V, true, true, true);
    for p in [&good, &bad] {
        // The TEST-ONLY OTP login: authenticated, but not by the network.
        let mut params = p.params(DEMO, &sc, "s");
        params.push(("login_hint", "tel:+34600000001"));
        params.push(("test_otp", "246810"));
        let code = p.authorize(&params, &[]).await.location_params()["code"].clone();
        let tok = p.redeem(DEMO, &code, &[]).await.ok().json();
        let at = tok["access_token"].as_str().expect("at");
        let r = p.share(at).await;
        if std::ptr::eq(p, &good) {
            assert_error_info(
                &r,
                403,
                "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK",
            );
        } else {
            r.ok();
        }
    }
}

#[tokio::test]
async fn fault_api_token_reusable() {
    let good = P::new(SpecVersion::Wip, &[]);
    let bad = P::new(SpecVersion::Wip, &[Fault::ApiTokenReusable]);
    let at = good.access_token(DEVICE).await;
    good.share(&at).await.ok();
    assert_error_info(&good.share(&at).await, 401, "UNAUTHENTICATED");
    let at = bad.access_token(DEVICE).await;
    bad.share(&at).await.ok();
    bad.share(&at).await.ok();
    // Also with the single_use_tokens switch.
    let mut cfg = ProviderConfig::embedded().with_faults([Fault::ApiTokenReusable]);
    cfg.single_use_tokens = true;
    let q = P::with_config(cfg);
    let at = q.access_token(DEVICE).await;
    q.share(&at).await.ok();
    q.share(&at).await.ok();
}

#[tokio::test]
async fn fault_api_correlator_not_echoed() {
    let (good, bad) = pair(Fault::ApiCorrelatorNotEchoed);
    let body = json!({"phoneNumber": DEVICE}).to_string();
    let at = good.access_token(DEVICE).await;
    let r = good
        .verify_raw(&at, &body, &[("x-correlator", "corr-1")])
        .await;
    assert_eq!(r.ok().header("x-correlator"), Some("corr-1"));
    let at = bad.access_token(DEVICE).await;
    let r = bad
        .verify_raw(&at, &body, &[("x-correlator", "corr-1")])
        .await;
    let echoed = r.ok().header("x-correlator").expect("x-correlator");
    assert_ne!(echoed, "corr-1");
}

#[tokio::test]
async fn fault_api_correlator_not_validated() {
    let (good, bad) = pair(Fault::ApiCorrelatorNotValidated);
    let body = json!({"phoneNumber": DEVICE}).to_string();
    let at = good.access_token(DEVICE).await;
    let r = good
        .verify_raw(&at, &body, &[("x-correlator", "a=b")])
        .await;
    assert_error_info(&r, 400, "INVALID_ARGUMENT");
    let at = bad.access_token(DEVICE).await;
    let r = bad.verify_raw(&at, &body, &[("x-correlator", "a=b")]).await;
    assert_eq!(r.ok().header("x-correlator"), Some("a=b"));
}

#[tokio::test]
async fn fault_api_error_status_mismatch() {
    let (good, bad) = pair(Fault::ApiErrorStatusMismatch);
    for (p, body_status) in [(&good, 401), (&bad, 400)] {
        let r = p
            .api(Method::GET, "/device-phone-number", None, &[], None)
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.json()["status"], body_status);
    }
}

#[tokio::test]
async fn fault_api_wrong_error_code() {
    let (good, bad) = pair(Fault::ApiWrongErrorCode);
    let r = good
        .api(Method::GET, "/device-phone-number", None, &[], None)
        .await;
    assert_error_info(&r, 401, "UNAUTHENTICATED");
    let r = bad
        .api(Method::GET, "/device-phone-number", None, &[], None)
        .await;
    assert_error_info(&r, 401, "UNAUTHORIZED");
    // Other codes are unaffected.
    let at = bad.access_token(DEVICE).await;
    assert_error_info(&bad.verify(&at, &json!({})).await, 400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn fault_api_content_type_text() {
    let (good, bad) = pair(Fault::ApiContentTypeText);
    for (p, ct) in [(&good, "application/json"), (&bad, "text/plain")] {
        let at = p.access_token(DEVICE).await;
        assert_eq!(p.share(&at).await.ok().header("content-type"), Some(ct));
        let r = p.verify(&at, &json!({"phoneNumber": DEVICE})).await;
        assert_eq!(r.ok().header("content-type"), Some(ct));
    }
}

#[tokio::test]
async fn fault_api_verify_always_true() {
    let (good, bad) = pair(Fault::ApiVerifyAlwaysTrue);
    let body = json!({"phoneNumber": ANOTHER});
    let at = good.access_token(DEVICE).await;
    assert!(!verified(&good.verify(&at, &body).await));
    let at = bad.access_token(DEVICE).await;
    assert!(verified(&bad.verify(&at, &body).await));
    // Invalid bodies are still 400.
    assert_error_info(&bad.verify(&at, &json!({})).await, 400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn fault_api_hash_case_sensitive() {
    let (good, bad) = pair(Fault::ApiHashCaseSensitive);
    let upper = json!({"hashedPhoneNumber": sha256_hex(DEVICE).to_uppercase()});
    let lower = json!({"hashedPhoneNumber": sha256_hex(DEVICE)});
    let at = good.access_token(DEVICE).await;
    assert!(verified(&good.verify(&at, &upper).await));
    let at = bad.access_token(DEVICE).await;
    assert!(!verified(&bad.verify(&at, &upper).await));
    assert!(verified(&bad.verify(&at, &lower).await));
}

#[tokio::test]
async fn fault_api_both_fields_accepted() {
    let (good, bad) = pair(Fault::ApiBothFieldsAccepted);
    // phoneNumber matches, the hash does not: 200 true shows phoneNumber was used.
    let body = json!({"phoneNumber": DEVICE, "hashedPhoneNumber": sha256_hex(ANOTHER)});
    let at = good.access_token(DEVICE).await;
    assert_error_info(&good.verify(&at, &body).await, 400, "INVALID_ARGUMENT");
    let at = bad.access_token(DEVICE).await;
    assert!(verified(&bad.verify(&at, &body).await));
}

#[tokio::test]
async fn fault_api_body_not_validated() {
    let (good, bad) = pair(Fault::ApiBodyNotValidated);
    let bodies = [
        String::new(),
        "{}".to_owned(),
        json!({"foo": "bar"}).to_string(),
        json!({"phoneNumber": "34600000001"}).to_string(),
        json!({"hashedPhoneNumber": "xyz"}).to_string(),
        "not json".to_owned(),
    ];
    let g = good.access_token(DEVICE).await;
    let b = bad.access_token(DEVICE).await;
    for body in &bodies {
        assert_error_info_for(
            body,
            &good.verify_raw(&g, body, &[]).await,
            400,
            "INVALID_ARGUMENT",
        );
        assert!(!verified(&bad.verify_raw(&b, body, &[]).await), "{body}");
    }
    // Valid bodies still work; both fields is a different rule.
    assert!(verified(
        &bad.verify(&b, &json!({"phoneNumber": DEVICE})).await
    ));
    let both = json!({"phoneNumber": DEVICE, "hashedPhoneNumber": sha256_hex(DEVICE)});
    assert_error_info(&bad.verify(&b, &both).await, 400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn fault_api_share_wrong_number() {
    let (good, bad) = pair(Fault::ApiShareWrongNumber);
    let at = good.access_token(DEVICE).await;
    assert_eq!(
        good.share(&at).await.ok().json()["devicePhoneNumber"],
        DEVICE
    );
    let at = bad.access_token(DEVICE).await;
    let n = bad.share(&at).await.ok().json()["devicePhoneNumber"]
        .as_str()
        .expect("number")
        .to_owned();
    assert_ne!(n, DEVICE);
    assert!(n.starts_with('+') && n.len() == DEVICE.len(), "{n}");
}

#[tokio::test]
async fn fault_api_undocumented_status() {
    let (good, bad) = pair(Fault::ApiUndocumentedStatus);
    let body = json!({"hashedPhoneNumber": sha256_hex(DEVICE)});
    let at = good.access_token(DEVICE).await;
    assert!(verified(&good.verify(&at, &body).await));
    let at = bad.access_token(DEVICE).await;
    assert_error_info(&bad.verify(&at, &body).await, 500, "INTERNAL");
    assert!(verified(
        &bad.verify(&at, &json!({"phoneNumber": DEVICE})).await
    ));
}

#[tokio::test]
async fn fault_api_delay_100ms() {
    let (good, bad) = pair(Fault::ApiDelay100ms);
    let body = json!({"phoneNumber": DEVICE});
    // Fastest of three calls, so a busy test machine does not make the conformant one look slow.
    async fn fastest(p: &P, at: &str, body: &Value) -> Duration {
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            p.verify(at, body).await.ok();
            best = best.min(t.elapsed());
            let t = Instant::now();
            p.share(at).await.ok();
            best = best.min(t.elapsed());
        }
        best
    }
    let at = good.access_token(DEVICE).await;
    assert!(fastest(&good, &at, &body).await < Duration::from_millis(100));
    let at = bad.access_token(DEVICE).await;
    assert!(fastest(&bad, &at, &body).await >= Duration::from_millis(100));
}
