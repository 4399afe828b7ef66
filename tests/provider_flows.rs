//! Tests of the reference provider's per-version rules, the TS.43 operator token, CIBA, the
//! JWT-bearer grant, single-use tokens and per-client code lifetimes.
//!
//! All keys, secrets and numbers used here are the TEST-ONLY fixtures.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use common::provider::*;
use common::{ANOTHER, DEVICE, ENRICH, sha256_hex};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use nvcert::provider::{
    GRANT_CIBA, GRANT_JWT_BEARER, JWT_BEARER_ASSERTION, ProviderConfig, SpecVersion,
};
use serde_json::{Value, json};

const V: SpecVersion = SpecVersion::V2_1_0;

// ---------------------------------------------------------------------------------------------
// Spec versions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_version_serves_its_base_path_scopes_and_flows() {
    for v in SpecVersion::ALL {
        let p = P::new(v, &[]);
        assert_eq!(
            p.state.config().api_base_path,
            v.default_api_base_path(),
            "{v}"
        );
        let m = p.get("/.well-known/openid-configuration", &[]).await.json();
        assert_eq!(
            m["scopes_supported"],
            json!(["openid", v.scope_verify(), v.scope_share()]),
            "{v}"
        );
        let grants = m["grant_types_supported"].as_array().expect("grants");
        assert_eq!(
            grants.contains(&json!(GRANT_CIBA)),
            v.supports_ciba(),
            "{v}"
        );
        assert_eq!(
            grants.contains(&json!(GRANT_JWT_BEARER)),
            v.supports_jwt_bearer(),
            "{v}"
        );
        assert_eq!(
            m.get("backchannel_authentication_endpoint").is_some(),
            v >= SpecVersion::V2_0_0,
            "{v}"
        );

        // The version's scope names work end to end at the version's base path.
        let at = p.access_token(DEVICE).await;
        let r = p.verify(&at, &json!({"phoneNumber": DEVICE})).await;
        assert!(verified(&r), "{v}");
        // (wip tokens are single-use: take a fresh one.)
        let at = p.access_token(DEVICE).await;
        let r = p.share(&at).await;
        assert_eq!(r.ok().json(), json!({"devicePhoneNumber": DEVICE}), "{v}");
        // The token's scope uses the version's names.
        let sc = scope(v, true, false, true);
        let tok = p.tokens(DEMO, &sc, DEVICE).await;
        assert_eq!(tok["scope"], sc, "{v}");
    }
}

#[tokio::test]
async fn other_versions_scope_names_are_refused() {
    let old = P::new(SpecVersion::V0_3_1, &[]);
    let r = old
        .authorize_as(&old.params(DEMO, &scope(V, true, false, true), "s"), DEVICE)
        .await;
    assert_eq!(r.location_params()["error"], "invalid_scope");
    let new = P::new(V, &[]);
    let sc = scope(SpecVersion::V0_3_1, true, false, true);
    let r = new.authorize_as(&new.params(DEMO, &sc, "s"), DEVICE).await;
    assert_eq!(r.location_params()["error"], "invalid_scope");
}

#[tokio::test]
async fn explicit_api_base_path_wins_over_the_version() {
    let mut cfg = ProviderConfig::embedded().with_spec_version(SpecVersion::V1_0_0);
    cfg.api_base_path = "/nv".into();
    let p = P::with_config(cfg.with_spec_version(SpecVersion::V0_3_1));
    assert_eq!(p.api_path("/verify"), "/nv/verify");
    let at = p.access_token(DEVICE).await;
    assert!(verified(
        &p.verify(&at, &json!({"phoneNumber": DEVICE})).await
    ));
}

#[tokio::test]
async fn x_correlator_rules_per_version() {
    let cases: [(SpecVersion, &[&str], &[&str]); 3] = [
        // ≤ 1.0.0: no pattern.
        (
            SpecVersion::V1_0_0,
            &[
                "a=b c",
                "a_b",
                "x?y@z",
                "b4333c46-49c0-4f62-80d7-f0ef930f1c46",
            ],
            &[],
        ),
        // 1.1.0-rc.1 … 2.0.0: ^[a-zA-Z0-9-]{0,55}$.
        (
            SpecVersion::V2_0_0,
            &["b4333c46-49c0-4f62-80d7-f0ef930f1c46", "AZ-09"],
            &["a_b", "a:b", "a=b", "a b"],
        ),
        // 2.1.0-rc.1+: ^[a-zA-Z0-9-_:;.\/<>{}]{0,256}$.
        (
            SpecVersion::V2_1_0Rc1,
            &["a_b:c;d.e/f<g>h{i}"],
            &["a=b", "a b", "a?b"],
        ),
    ];
    for (v, good, bad) in cases {
        let p = P::new(v, &[]);
        let at = p.access_token(DEVICE).await;
        let body = json!({"phoneNumber": DEVICE}).to_string();
        for c in good {
            let r = p.verify_raw(&at, &body, &[("x-correlator", c)]).await;
            r.ok();
            assert_eq!(r.header("x-correlator"), Some(*c), "{v} {c}");
        }
        for c in bad {
            let r = p.verify_raw(&at, &body, &[("X-Correlator", c)]).await;
            assert_error_info_for(&format!("{v} {c}"), &r, 400, "INVALID_ARGUMENT");
            assert_ne!(r.header("x-correlator"), Some(*c), "{v} {c}");
        }
    }
    // Length limits: 55 / 56 for the legacy pattern.
    let p = P::new(SpecVersion::V1_1_0Rc2, &[]);
    let at = p.access_token(DEVICE).await;
    let body = json!({"phoneNumber": DEVICE}).to_string();
    let ok55 = "a".repeat(55);
    p.verify_raw(&at, &body, &[("x-correlator", &ok55)])
        .await
        .ok();
    let bad56 = "a".repeat(56);
    let r = p.verify_raw(&at, &body, &[("x-correlator", &bad56)]).await;
    assert_error_info(&r, 400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn request_body_rules_per_version() {
    let plus_hash = sha256_hex(DEVICE);
    let bare_hash = sha256_hex(&DEVICE[1..]);
    // v0.3.1: no patterns, '+' optional for the number and the hash input.
    let p = P::new(SpecVersion::V0_3_1, &[]);
    let at = p.access_token(DEVICE).await;
    for (body, expected) in [
        (json!({"phoneNumber": DEVICE}), true),
        (json!({"phoneNumber": &DEVICE[1..]}), true),
        (json!({"phoneNumber": &ANOTHER[1..]}), false),
        (json!({"phoneNumber": "not a number"}), false),
        (json!({"hashedPhoneNumber": plus_hash}), true),
        (json!({"hashedPhoneNumber": bare_hash.to_uppercase()}), true),
        (json!({"hashedPhoneNumber": "xyz"}), false),
    ] {
        assert_eq!(verified(&p.verify(&at, &body).await), expected, "{body}");
    }
    for body in [
        json!({}),
        json!({"phoneNumber": DEVICE, "hashedPhoneNumber": plus_hash}),
        json!({"foo": "bar"}),
    ] {
        let r = p.verify(&at, &body).await;
        assert_error_info_for(&body.to_string(), &r, 400, "INVALID_ARGUMENT");
    }

    // 1.0.0-rc.1 … 2.0.0: phoneNumber pattern, hashedPhoneNumber any string.
    for v in [SpecVersion::V1_0_0Rc1, SpecVersion::V2_0_0] {
        let p = P::new(v, &[]);
        let at = p.access_token(DEVICE).await;
        assert_error_info(
            &p.verify(&at, &json!({"phoneNumber": &DEVICE[1..]})).await,
            400,
            "INVALID_ARGUMENT",
        );
        assert!(!verified(
            &p.verify(&at, &json!({"hashedPhoneNumber": "xyz"})).await
        ));
        assert!(!verified(
            &p.verify(&at, &json!({"hashedPhoneNumber": bare_hash}))
                .await
        ));
        assert!(verified(
            &p.verify(&at, &json!({"hashedPhoneNumber": plus_hash}))
                .await
        ));
        assert_error_info(
            &p.verify(
                &at,
                &json!({"phoneNumber": DEVICE, "hashedPhoneNumber": "x"}),
            )
            .await,
            400,
            "INVALID_ARGUMENT",
        );
    }

    // 2.1.0-rc.1+: both patterns.
    let p = P::new(SpecVersion::V2_1_0Rc1, &[]);
    let at = p.access_token(DEVICE).await;
    assert_error_info(
        &p.verify(&at, &json!({"hashedPhoneNumber": "xyz"})).await,
        400,
        "INVALID_ARGUMENT",
    );
}

#[tokio::test]
async fn error_messages_follow_the_version() {
    for (v, suffix) in [
        (SpecVersion::V0_3_1, "expired credentials"),
        (SpecVersion::V1_1_0, "expired credentials."),
        (SpecVersion::V2_1_0, "A new authentication is required."),
    ] {
        let p = P::new(v, &[]);
        let r = p
            .api(Method::GET, "/device-phone-number", None, &[], None)
            .await;
        assert_error_info_for(&v.to_string(), &r, 401, "UNAUTHENTICATED");
        let msg = r.json()["message"].as_str().expect("msg").to_owned();
        assert!(msg.ends_with(suffix), "{v}: {msg}");
        // 403 PERMISSION_DENIED for a token without the operation's scope.
        let sc = scope(v, true, false, true);
        let at = p.tokens(DEMO, &sc, DEVICE).await["access_token"]
            .as_str()
            .expect("at")
            .to_owned();
        assert_error_info_for(
            &v.to_string(),
            &p.share(&at).await,
            403,
            "PERMISSION_DENIED",
        );
    }
}

#[tokio::test]
async fn old_versions_do_not_offer_ciba_or_jwt_bearer() {
    let p = P::new(SpecVersion::V1_1_0, &[]);
    let r = p
        .bc_authorize(DEMO, &[("login_hint", "tel:+34600000001")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = p.ciba_poll(DEMO, "x").await;
    assert_oauth_error(&r, 400, "unsupported_grant_type");
    let a = sign(DEMO, &p.jwt_bearer_claims("tel:+34600000001"));
    assert_oauth_error(&p.jwt_bearer(&a, &[]).await, 400, "unsupported_grant_type");

    // 2.0.0 has CIBA but not yet the JWT-bearer grant.
    let p = P::new(SpecVersion::V2_0_0, &[]);
    let ot = p.operator_token(DEVICE).await;
    let id = p.ciba_request(DEMO, &format!("operatortoken:{ot}")).await;
    assert!(!id.is_empty());
    let a = sign(DEMO, &p.jwt_bearer_claims("tel:+34600000001"));
    assert_oauth_error(&p.jwt_bearer(&a, &[]).await, 400, "unsupported_grant_type");
}

// ---------------------------------------------------------------------------------------------
// wip: single-use tokens
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn wip_tokens_are_single_use_short_lived_without_refresh() {
    let p = P::new(SpecVersion::Wip, &[]);
    assert_eq!(p.api_path("/verify"), "/number-verification/vwip/verify");
    let sc = scope(SpecVersion::Wip, true, true, true);
    let tok = p.tokens(DEMO, &sc, DEVICE).await;
    assert!(tok.get("refresh_token").is_none());
    assert!(tok["expires_in"].as_u64().is_some_and(|e| e <= 300));
    let at = tok["access_token"].as_str().expect("at");
    assert!(verified(
        &p.verify(at, &json!({"phoneNumber": DEVICE})).await
    ));
    assert_error_info(
        &p.verify(at, &json!({"phoneNumber": DEVICE})).await,
        401,
        "UNAUTHENTICATED",
    );
    assert_error_info(&p.share(at).await, 401, "UNAUTHENTICATED");
    // Any authenticated call uses the token up, even one answered with an error.
    let at = p.access_token(DEVICE).await;
    assert_error_info(&p.verify(&at, &json!({})).await, 400, "INVALID_ARGUMENT");
    assert_error_info(&p.share(&at).await, 401, "UNAUTHENTICATED");
    // Tokens are independent.
    let a = p.access_token(DEVICE).await;
    let b = p.access_token(DEVICE).await;
    p.share(&a).await.ok();
    p.share(&b).await.ok();
}

#[tokio::test]
async fn single_use_tokens_switch_works_with_any_version() {
    let mut cfg = ProviderConfig::embedded().with_spec_version(SpecVersion::V1_0_0);
    cfg.single_use_tokens = true;
    let p = P::with_config(cfg);
    let at = p.access_token(DEVICE).await;
    p.share(&at).await.ok();
    assert_error_info(&p.share(&at).await, 401, "UNAUTHENTICATED");
    // Without the switch, 2.1.0 tokens are reusable.
    let p = P::conformant();
    let at = p.access_token(DEVICE).await;
    p.share(&at).await.ok();
    p.share(&at).await.ok();
}

// ---------------------------------------------------------------------------------------------
// Lifetimes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn short_lived_client_codes_and_tokens_expire_after_about_a_second() {
    let p = P::conformant();
    let sc = scope(V, true, true, true);
    let short_code = p.code(SHORT, &sc, DEVICE).await;
    let demo_code = p.code(DEMO, &sc, DEVICE).await;
    let fresh = p.code(SHORT, &sc, DEVICE).await;
    let issued = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    let tok = p.redeem(SHORT, &fresh, &[]).await;
    tok.ok();
    let tok = tok.json();
    assert_eq!(tok["expires_in"], 1);
    let at = tok["access_token"].as_str().expect("at");
    // exp to the millisecond: the token lives the second it was given, not 0.5–1.5 s.
    let exp = claims(at)["exp"].as_f64().expect("exp");
    assert!(
        (exp - issued - 1.0).abs() < 0.1,
        "exp {exp}, issued {issued}"
    );
    // Usable right away …
    p.share(at).await.ok();
    tokio::time::sleep(Duration::from_millis(1600)).await;
    // … expired after ~1.5 s: the code (per-client TTL 1 s) and the token.
    let r = p.redeem(SHORT, &short_code, &[]).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(r.text().contains("expired"), "{}", r.text());
    assert_error_info(&p.share(at).await, 401, "UNAUTHENTICATED");
    // The global code TTL (60 s) still applies to the demo client.
    p.redeem(DEMO, &demo_code, &[]).await.ok();
}

// ---------------------------------------------------------------------------------------------
// TS.43 operator token
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn operator_token_needs_network_identity_and_is_single_use() {
    let p = P::conformant();
    let r = p.get("/ts43/operator-token", &[(ENRICH, DEVICE)]).await;
    r.ok();
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let b = r.json();
    assert_eq!(b["expires_in"], 300);
    let t = b["operator_token"].as_str().expect("token");
    assert!(t.len() >= 32 && !t.contains("600000001"));
    // No identity, or a bad enrichment header: 403 access_denied.
    assert_oauth_error(
        &p.get("/ts43/operator-token", &[]).await,
        403,
        "access_denied",
    );
    assert_oauth_error(
        &p.get("/ts43/operator-token", &[(ENRICH, "34600000001")])
            .await,
        403,
        "access_denied",
    );
    // The source-IP table identifies the line too.
    let mut req = Request::get("/ts43/operator-token")
        .body(Body::empty())
        .expect("req");
    req.extensions_mut()
        .insert(ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 2],
            40000,
        ))));
    let t2 = p.call(req).await.ok().json()["operator_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let id = p.ciba_request(DEMO, &format!("operatortoken:{t2}")).await;
    let tok = p.ciba_poll(DEMO, &id).await; // sooner than the interval
    assert_oauth_error(&tok, 400, "slow_down");
    // Single use: a second CIBA request with the same token is refused.
    let sc = scope(V, true, false, true);
    let login = format!("operatortoken:{t2}");
    let r = p
        .bc_authorize(DEMO, &[("scope", &sc), ("login_hint", &login)])
        .await;
    assert_oauth_error(&r, 400, "unknown_user_id");
}

// ---------------------------------------------------------------------------------------------
// CIBA
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn ciba_poll_flow_with_operator_token() {
    let p = P::conformant();
    let ot = p.operator_token(DEVICE).await;
    let sc = scope(V, true, true, true);
    let login = format!("operatortoken:{ot}");
    let r = p
        .bc_authorize(
            DEMO,
            &[
                ("scope", &sc),
                ("login_hint", &login),
                ("binding_message", "ignored"),
                ("requested_expiry", "30"),
            ],
        )
        .await;
    r.ok();
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let b = r.json();
    assert_eq!(b["expires_in"], 120);
    assert_eq!(b["interval"], 1);
    let id = b["auth_req_id"].as_str().expect("auth_req_id");

    // Another client, or an unknown id: invalid_grant.
    assert_oauth_error(&p.ciba_poll(OTHER, id).await, 400, "invalid_grant");
    assert_oauth_error(&p.ciba_poll(DEMO, "nope").await, 400, "invalid_grant");
    // A poll at once is sooner than the interval, which runs from the request: slow_down, and
    // again for the next one, whose interval runs from that poll.
    assert_oauth_error(&p.ciba_poll(DEMO, id).await, 400, "slow_down");
    assert_oauth_error(&p.ciba_poll(DEMO, id).await, 400, "slow_down");
    let r = p.ciba_poll_on_time(DEMO, id).await;
    r.ok();
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let tok = r.json();
    assert!(tok.get("refresh_token").is_none());
    assert_eq!(tok["token_type"], "Bearer");
    assert_eq!(tok["scope"], sc);
    let id_token = claims(tok["id_token"].as_str().expect("id_token"));
    assert_eq!(id_token["amr"], json!(["sim"]));
    assert_eq!(id_token["aud"], DEMO);
    let at = tok["access_token"].as_str().expect("at");
    assert!(verified(
        &p.verify(at, &json!({"phoneNumber": DEVICE})).await
    ));
    assert_eq!(
        p.share(at).await.ok().json(),
        json!({"devicePhoneNumber": DEVICE})
    );
    // auth_req_id is single use.
    assert_oauth_error(&p.ciba_poll_on_time(DEMO, id).await, 400, "invalid_grant");
}

#[tokio::test]
async fn ciba_tel_login_hint_gives_tokens_the_api_refuses() {
    // The embedded provider issues at the first poll on time; `q` first answers one poll
    // authorization_pending, as a provider waiting for someone's consent would.
    let p = P::conformant();
    let mut cfg = ProviderConfig::embedded();
    cfg.ciba_pending_polls = 1;
    let q = P::with_config(cfg);
    for p in [&p, &q] {
        let id = p.ciba_request(DEMO, "tel:+34600000001").await;
        let mut r = p.ciba_poll_on_time(DEMO, &id).await;
        if r.status != StatusCode::OK {
            assert_oauth_error(&r, 400, "authorization_pending");
            assert_oauth_error(&p.ciba_poll(DEMO, &id).await, 400, "slow_down");
            r = p.ciba_poll_on_time(DEMO, &id).await;
        }
        let tok = r.ok().json();
        assert_eq!(
            claims(tok["id_token"].as_str().expect("id"))["amr"],
            json!(["tel"])
        );
        let at = tok["access_token"].as_str().expect("at");
        let code = "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK";
        assert_error_info(
            &p.verify(at, &json!({"phoneNumber": DEVICE})).await,
            403,
            code,
        );
        assert_error_info(&p.share(at).await, 403, code);
    }
}

#[tokio::test]
async fn ciba_request_errors() {
    let p = P::conformant();
    let sc = scope(V, true, false, true);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("scope", &sc)], "invalid_request"),
        (
            vec![("scope", &sc), ("login_hint", "operatortoken:unknown")],
            "unknown_user_id",
        ),
        (
            vec![("scope", &sc), ("login_hint", "ipport:80.90.34.2:16790")],
            "unknown_user_id",
        ),
        (
            vec![("scope", &sc), ("login_hint", "tel:34600000001")],
            "unknown_user_id",
        ),
        (
            vec![("scope", &sc), ("login_hint", "+34600000001")],
            "unknown_user_id",
        ),
        (
            vec![
                ("scope", &sc),
                ("login_hint", "tel:+34600000001"),
                ("id_token_hint", "x"),
            ],
            "invalid_request",
        ),
        (
            vec![
                (
                    "scope",
                    "dpv:FraudPreventionAndDetection number-verification:verify",
                ),
                ("login_hint", "tel:+34600000001"),
            ],
            "invalid_scope",
        ),
        (
            vec![
                ("scope", "openid number-verification:verify"),
                ("login_hint", "tel:+34600000001"),
            ],
            "invalid_scope",
        ),
        (vec![("login_hint", "tel:+34600000001")], "invalid_scope"),
    ];
    for (form, error) in cases {
        let r = p.bc_authorize(DEMO, &form).await;
        assert_oauth_error_for(&format!("{form:?}"), &r, 400, error);
        assert_eq!(r.header("cache-control"), Some("no-store"), "{form:?}");
    }
    let form = [("scope", sc.as_str()), ("login_hint", "tel:+34600000001")];
    // No client authentication, or Basic for a client without client_secret_basic: 401.
    let r = p.form("/bc-authorize", &form, None, &[]).await;
    assert_oauth_error(&r, 401, "invalid_client");
    let secret = demo_secret();
    let r = p
        .form("/bc-authorize", &form, Some((OTHER, &secret)), &[])
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
    // … but a client that registered client_secret_basic may use it.
    let r = p
        .form("/bc-authorize", &form, Some((DEMO, &secret)), &[])
        .await;
    r.ok();
    // A client assertion with the wrong audience: 401.
    let a = sign(DEMO, &assertion_claims(DEMO, "https://elsewhere.example/"));
    let mut f = form.to_vec();
    f.push(("client_assertion_type", JWT_BEARER_ASSERTION));
    f.push(("client_assertion", &a));
    assert_oauth_error(
        &p.form("/bc-authorize", &f, None, &[]).await,
        401,
        "invalid_client",
    );
    // The issuer is accepted as audience.
    let a = sign(DEMO, &assertion_claims(DEMO, ISSUER));
    let mut f = form.to_vec();
    f.push(("client_assertion_type", JWT_BEARER_ASSERTION));
    f.push(("client_assertion", &a));
    p.form("/bc-authorize", &f, None, &[]).await.ok();
}

#[tokio::test]
async fn ciba_signed_request_and_expiry() {
    let mut cfg = ProviderConfig::embedded();
    cfg.ciba_request_ttl_seconds = 1;
    let p = P::with_config(cfg);
    let n = now();
    let signed = sign(
        DEMO,
        &json!({"iss": DEMO, "aud": format!("{ISSUER}/bc-authorize"), "iat": n, "exp": n + 60,
                "nbf": n, "jti": random_jti(), "scope": scope(V, true, false, true),
                "login_hint": "tel:+34600000001"}),
    );
    let r = p.bc_authorize(DEMO, &[("request", &signed)]).await;
    let b = r.ok().json();
    assert_eq!(b["expires_in"], 1);
    let id = b["auth_req_id"].as_str().expect("id");
    // Signed by another key: invalid_request_object.
    let forged = sign(
        OTHER,
        &json!({"iss": DEMO, "aud": ISSUER, "iat": n, "exp": n + 60, "jti": random_jti(),
                "scope": scope(V, true, false, true), "login_hint": "tel:+34600000001"}),
    );
    assert_oauth_error(
        &p.bc_authorize(DEMO, &[("request", &forged)]).await,
        400,
        "invalid_request_object",
    );
    // Past both the 1 s request lifetime and the interval.
    assert_oauth_error(&p.ciba_poll_on_time(DEMO, id).await, 400, "expired_token");
}

// ---------------------------------------------------------------------------------------------
// JWT bearer
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn jwt_bearer_with_operator_token() {
    let p = P::conformant();
    let ot = p.operator_token(DEVICE).await;
    let a = sign(DEMO, &p.jwt_bearer_claims(&format!("operatortoken:{ot}")));
    let r = p.jwt_bearer(&a, &[]).await;
    r.ok();
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let tok = r.json();
    assert!(tok.get("refresh_token").is_none());
    assert!(tok.get("id_token").is_none());
    assert_eq!(tok["token_type"], "Bearer");
    assert_eq!(tok["expires_in"], 300);
    let at = tok["access_token"].as_str().expect("at");
    assert_eq!(claims(at)["amr"], json!(["sim"]));
    assert!(verified(
        &p.verify(at, &json!({"phoneNumber": DEVICE})).await
    ));
    // The operator token was used up; the assertion jti too.
    let again = sign(DEMO, &p.jwt_bearer_claims(&format!("operatortoken:{ot}")));
    assert_oauth_error(&p.jwt_bearer(&again, &[]).await, 400, "invalid_grant");
    assert_oauth_error(&p.jwt_bearer(&a, &[]).await, 400, "invalid_grant");
    // Same client authenticated once more by a client assertion: fine.
    let ot = p.operator_token(DEVICE).await;
    let b = sign(DEMO, &p.jwt_bearer_claims(&format!("operatortoken:{ot}")));
    let ca = assertion(DEMO);
    p.jwt_bearer(
        &b,
        &[
            ("client_assertion_type", JWT_BEARER_ASSERTION),
            ("client_assertion", &ca),
        ],
    )
    .await
    .ok();
}

#[tokio::test]
async fn jwt_bearer_tel_subject_gives_a_token_the_api_refuses() {
    let p = P::conformant();
    let a = sign(DEMO, &p.jwt_bearer_claims("tel:+34600000001"));
    let tok = p.jwt_bearer(&a, &[]).await.ok().json();
    let at = tok["access_token"].as_str().expect("at");
    assert_eq!(claims(at)["amr"], json!(["tel"]));
    assert_error_info(
        &p.verify(at, &json!({"phoneNumber": DEVICE})).await,
        403,
        "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK",
    );
}

#[tokio::test]
async fn jwt_bearer_errors() {
    let p = P::conformant();
    let n = now();
    let base = p.jwt_bearer_claims("tel:+34600000001");
    let with = |k: &str, v: Value| {
        let mut c = base.clone();
        c["jti"] = json!(random_jti());
        if v.is_null() {
            c.as_object_mut().expect("obj").remove(k);
        } else {
            c[k] = v;
        }
        c
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "no scope claim",
            sign(DEMO, &with("scope", Value::Null)),
            "invalid_grant",
        ),
        (
            "scope without purpose",
            sign(DEMO, &with("scope", json!("number-verification:verify"))),
            "invalid_scope",
        ),
        (
            "wrong aud",
            sign(DEMO, &with("aud", json!("https://elsewhere.example/token"))),
            "invalid_grant",
        ),
        (
            "no aud",
            sign(DEMO, &with("aud", Value::Null)),
            "invalid_grant",
        ),
        (
            "expired",
            sign(DEMO, &{
                let mut c = with("iat", json!(n - 120));
                c["exp"] = json!(n - 60);
                c
            }),
            "invalid_grant",
        ),
        (
            "lifetime > 300",
            sign(DEMO, &{
                let mut c = with("iat", json!(n - 100));
                c["exp"] = json!(n + 250);
                c
            }),
            "invalid_grant",
        ),
        (
            "no iat",
            sign(DEMO, &with("iat", Value::Null)),
            "invalid_grant",
        ),
        (
            "no jti",
            sign(DEMO, &with("jti", Value::Null)),
            "invalid_grant",
        ),
        (
            "wrong key",
            sign(OTHER, &with("iss", json!(DEMO))),
            "invalid_grant",
        ),
        (
            "unknown client",
            sign(DEMO, &with("iss", json!("nobody"))),
            "invalid_grant",
        ),
        (
            "unknown operator token",
            sign(DEMO, &with("sub", json!("operatortoken:nope"))),
            "invalid_grant",
        ),
        (
            "bad subject",
            sign(DEMO, &with("sub", json!("ipport:1.2.3.4:5"))),
            "invalid_grant",
        ),
        ("not a JWT", "abc".to_owned(), "invalid_grant"),
    ];
    for (name, a, error) in cases {
        let r = p.jwt_bearer(&a, &[]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.text());
        assert_eq!(r.json()["error"], error, "{name}");
    }
    // A scope parameter must not be sent; the assertion is required.
    let a = sign(DEMO, &with("jti", json!(random_jti())));
    let sc = scope(V, true, false, false);
    assert_oauth_error(
        &p.jwt_bearer(&a, &[("scope", &sc)]).await,
        400,
        "invalid_request",
    );
    let r = p
        .form("/token", &[("grant_type", GRANT_JWT_BEARER)], None, &[])
        .await;
    assert_oauth_error(&r, 400, "invalid_request");
    // The issuer is accepted as audience.
    let a = sign(DEMO, &with("aud", json!(ISSUER)));
    p.jwt_bearer(&a, &[]).await.ok();
}

#[tokio::test]
async fn id_tokens_of_all_flows_verify_against_jwks() {
    let p = P::conformant();
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(p.get("/jwks", &[]).await.json()).expect("jwks");
    let key = DecodingKey::from_jwk(&jwks.keys[0]).expect("key");
    let mut v = Validation::new(Algorithm::ES256);
    v.set_audience(&[DEMO]);
    v.set_issuer(&[ISSUER]);
    let tok = p.tokens(DEMO, &scope(V, true, false, true), DEVICE).await;
    jsonwebtoken::decode::<Value>(tok["id_token"].as_str().expect("id"), &key, &v)
        .expect("auth-code ID token verifies");
    let q = P::conformant();
    let key = {
        let jwks: jsonwebtoken::jwk::JwkSet =
            serde_json::from_value(q.get("/jwks", &[]).await.json()).expect("jwks");
        DecodingKey::from_jwk(&jwks.keys[0]).expect("key")
    };
    let id = q.ciba_request(DEMO, "tel:+34600000001").await;
    let tok = q.ciba_poll_on_time(DEMO, &id).await.ok().json();
    jsonwebtoken::decode::<Value>(tok["id_token"].as_str().expect("id"), &key, &v)
        .expect("CIBA ID token verifies");
}
