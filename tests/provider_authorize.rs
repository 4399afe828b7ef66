//! Tests of the reference provider's authorization endpoint, in process
//! (`router(..).oneshot(..)`).
//!
//! All keys, secrets and numbers used here are the TEST-ONLY fixtures.

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use common::provider::*;
use common::{DEVICE, ENRICH};
use nvcert::provider::ProviderConfig;
use serde_json::json;

#[tokio::test]
async fn unknown_or_missing_client_gets_an_error_page_not_a_redirect() {
    let app = P::conformant();
    let mut unknown = app.params(DEMO, VERIFY_SCOPE, "s");
    unknown[1] = ("client_id", "no-such-client");
    let mut missing = unknown.clone();
    missing.retain(|(k, _)| *k != "client_id");
    for (case, pairs) in [("unknown client", unknown), ("missing client_id", missing)] {
        let r = app.authorize(&pairs, &[(ENRICH, DEVICE)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{case}");
        assert!(r.header("location").is_none(), "{case}");
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("text/plain")),
            "{case}"
        );
    }
}

#[tokio::test]
async fn bad_or_missing_redirect_uri_gets_an_error_page_not_a_redirect() {
    let app = P::conformant();
    let with_redirect = |uri: &'static str| {
        let mut p = app.params(DEMO, VERIFY_SCOPE, "s");
        p[2] = ("redirect_uri", uri);
        p
    };
    let mut missing = app.params(DEMO, VERIFY_SCOPE, "s");
    missing.retain(|(k, _)| *k != "redirect_uri");
    let cases = [
        (
            "unregistered",
            with_redirect("https://evil.example/callback"),
        ),
        (
            "trailing slash",
            with_redirect("https://client.nvcert.invalid/callback/"),
        ),
        (
            "extra query",
            with_redirect("https://client.nvcert.invalid/callback?x=1"),
        ),
        (
            "registered for another client",
            with_redirect(OTHER_REDIRECT),
        ),
        ("missing", missing),
    ];
    for (case, p) in cases {
        let r = app.authorize(&p, &[(ENRICH, DEVICE)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{case}");
        assert!(r.header("location").is_none(), "{case}");
    }
}

/// Asserts a 302 error redirect to the demo redirect URI with `error` and `state`; `case` names
/// the request in failure messages.
fn assert_error_redirect(case: &str, r: &Resp, error: &str, state: Option<&str>) {
    assert_eq!(r.status, StatusCode::FOUND, "{case}: {}", r.text());
    assert!(
        r.header("location")
            .is_some_and(|l| l.starts_with(REDIRECT)),
        "{case}"
    );
    let p = r.location_params();
    assert_eq!(
        p.get("error").map(String::as_str),
        Some(error),
        "{case}: {p:?}"
    );
    assert!(p.contains_key("error_description"), "{case}: {p:?}");
    assert_eq!(p.get("state").map(String::as_str), state, "{case}: {p:?}");
    assert!(!p.contains_key("code"), "{case}: {p:?}");
}

/// Query parameters of an authorization request.
type Params = Vec<(&'static str, &'static str)>;

#[tokio::test]
async fn authorize_error_redirects_in_order() {
    let app = P::conformant();
    let with = |k: &'static str, v: &'static str| {
        let mut p = app.params(DEMO, VERIFY_SCOPE, "st-1");
        p.retain(|(n, _)| *n != k);
        if !v.is_empty() {
            p.push((k, v));
        }
        p
    };
    let also = |mut p: Params, k: &'static str, v: &'static str| {
        p.push((k, v));
        p
    };
    let mut no_state = with("response_type", "token");
    no_state.retain(|(k, _)| *k != "state");
    // One parameter replaced (or removed, when the value is empty); the enrichment header sent.
    let one_param = [
        ("response_type", "token", "unsupported_response_type"),
        (
            "response_type",
            "code id_token",
            "unsupported_response_type",
        ),
        ("response_type", "", "invalid_request"),
        (
            "scope",
            "openid dpv:FraudPreventionAndDetection",
            "invalid_scope",
        ),
        (
            "scope",
            "openid number-verification:verify",
            "invalid_scope",
        ),
        (
            "scope",
            "openid dpv:A dpv:B number-verification:verify",
            "invalid_scope",
        ),
        (
            "scope",
            "openid dpv:A number-verification:verify-all",
            "invalid_scope",
        ),
        ("scope", "", "invalid_scope"),
        ("code_challenge_method", "plain", "invalid_request"),
        ("prompt", "login", "login_required"),
        ("prompt", "consent", "login_required"),
        ("prompt", "select_account", "login_required"),
    ];
    // (case, parameters, enrichment header sent, expected error, expected state)
    let mut cases: Vec<(String, Params, bool, &str, Option<&str>)> = one_param
        .into_iter()
        .map(|(k, v, error)| (format!("{k}={v:?}"), with(k, v), true, error, Some("st-1")))
        .collect();
    cases.extend([
        // Scope is checked before PKCE, PKCE before prompt, prompt before identity.
        (
            "scope before PKCE".into(),
            also(with("scope", "openid"), "code_challenge_method", "plain"),
            false,
            "invalid_scope",
            Some("st-1"),
        ),
        (
            "PKCE before prompt".into(),
            also(with("prompt", "login"), "code_challenge_method", "plain"),
            false,
            "invalid_request",
            Some("st-1"),
        ),
        (
            "prompt before identity".into(),
            with("prompt", "login"),
            false,
            "login_required",
            Some("st-1"),
        ),
        // Without state, none is returned.
        (
            "no state".into(),
            no_state,
            true,
            "unsupported_response_type",
            None,
        ),
        // A repeated parameter is invalid_request (RFC 6749 §3.1).
        (
            "repeated nonce".into(),
            also(with("scope", VERIFY_SCOPE), "nonce", "again"),
            true,
            "invalid_request",
            Some("st-1"),
        ),
    ]);
    for (case, pairs, enriched, error, state) in cases {
        let headers: &[(&str, &str)] = if enriched { &[(ENRICH, DEVICE)] } else { &[] };
        let r = app.authorize(&pairs, headers).await;
        assert_error_redirect(&case, &r, error, state);
    }
}

#[tokio::test]
async fn missing_network_identity_is_login_required_with_state() {
    let app = P::conformant();
    let r = app
        .authorize(&app.params(DEMO, VERIFY_SCOPE, "keep-me"), &[])
        .await;
    assert_error_redirect("no identity", &r, "login_required", Some("keep-me"));
}

#[tokio::test]
async fn invalid_enrichment_header_is_access_denied() {
    let app = P::conformant();
    for bad in [
        "34600000001",
        "+0123456",
        "+1234",
        "tel:+34600000001",
        "+3460000000a",
    ] {
        let r = app
            .authorize(&app.params(DEMO, VERIFY_SCOPE, "s"), &[(ENRICH, bad)])
            .await;
        assert_error_redirect(bad, &r, "access_denied", Some("s"));
    }
}

#[tokio::test]
async fn long_state_with_special_characters_is_echoed_intact() {
    let app = P::conformant();
    let state: String = "aZ09-._~ +/=?&%#é".chars().cycle().take(128).collect();
    let r = app
        .authorize(&app.params(DEMO, VERIFY_SCOPE, &state), &[(ENRICH, DEVICE)])
        .await;
    assert_eq!(r.status, StatusCode::FOUND);
    let p = r.location_params();
    assert_eq!(p["state"], state);
    assert_eq!(p["iss"], ISSUER);
    assert!(p.contains_key("code"));
}

#[tokio::test]
async fn redirect_uri_query_is_kept_and_acr_values_login_hint_are_ignored() {
    let mut cfg = ProviderConfig::embedded();
    cfg.clients[0]
        .redirect_uris
        .push("https://client.nvcert.invalid/cb?tenant=a".to_owned());
    let app = P::with_config(cfg);
    let mut p = app.params(DEMO, VERIFY_SCOPE, "s");
    p[2] = ("redirect_uri", "https://client.nvcert.invalid/cb?tenant=a");
    p.push(("acr_values", "urn:whatever"));
    p.push(("login_hint", "tel:+34600000009"));
    p.push(("unknown_extension", "ignored"));
    let r = app.authorize(&p, &[(ENRICH, DEVICE)]).await;
    assert_eq!(r.status, StatusCode::FOUND);
    let loc = r.header("location").expect("loc");
    assert!(
        loc.starts_with("https://client.nvcert.invalid/cb?tenant=a&code="),
        "{loc}"
    );
    let q = r.location_params();
    assert_eq!(q["tenant"], "a");
    assert!(q.contains_key("code"));
}

#[tokio::test]
async fn legacy_purpose_parameter_grants_the_matching_scope() {
    let app = P::conformant();
    let mut p = app.params(DEMO, "openid", "s");
    p.push((
        "purpose",
        "dpv:FraudPreventionAndDetection#number-verification-verify-read",
    ));
    let r = app.authorize(&p, &[(ENRICH, DEVICE)]).await;
    let code = r.location_params()["code"].clone();
    let tok = app.redeem(DEMO, &code, &[]).await.json();
    assert_eq!(tok["scope"], VERIFY_SCOPE);
    let at = tok["access_token"].as_str().expect("at");
    let r = app.verify(at, &json!({"phoneNumber": DEVICE})).await;
    assert_eq!(r.json(), json!({"devicePhoneNumberVerified": true}));
}

#[tokio::test]
async fn require_pkce_client_without_challenge_is_invalid_request() {
    let mut cfg = ProviderConfig::embedded();
    cfg.clients[0].require_pkce = true;
    let app = P::with_config(cfg);
    let r = app
        .authorize(&app.params(DEMO, VERIFY_SCOPE, "s"), &[(ENRICH, DEVICE)])
        .await;
    assert_error_redirect("no challenge", &r, "invalid_request", Some("s"));
    let (_, challenge) = pkce_pair();
    let mut p = app.params(DEMO, VERIFY_SCOPE, "s");
    p.push(("code_challenge", &challenge));
    p.push(("code_challenge_method", "S256"));
    let r = app.authorize(&p, &[(ENRICH, DEVICE)]).await;
    assert!(r.location_params().contains_key("code"));
}

#[tokio::test]
async fn source_ip_table_identifies_the_line() {
    let app = P::conformant();
    let req = |ip: [u8; 4]| {
        let mut req = Request::get(format!(
            "/authorize?{}",
            query(&app.params(DEMO, SHARE_SCOPE, "s"))
        ))
        .body(Body::empty())
        .expect("req");
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
        req
    };
    let r = app.call(req([127, 0, 0, 2])).await;
    let code = r.location_params()["code"].clone();
    let at = app.redeem(DEMO, &code, &[]).await.json()["access_token"]
        .as_str()
        .expect("at")
        .to_owned();
    let r = app
        .api(Method::GET, "/device-phone-number", Some(&at), &[], None)
        .await;
    assert_eq!(r.json(), json!({"devicePhoneNumber": "+34600000002"}));
    // An address not in the table gives no identity.
    let r = app.call(req([127, 0, 0, 1])).await;
    assert_error_redirect("127.0.0.1", &r, "login_required", Some("s"));
}

#[tokio::test]
async fn otp_login_wrong_code_is_access_denied() {
    let app = P::conformant();
    let mut p = app.params(DEMO, VERIFY_SCOPE, "s");
    p.push(("login_hint", "tel:+34600000001"));
    p.push(("test_otp", "000000"));
    let r = app.authorize(&p, &[]).await;
    assert_error_redirect("wrong OTP", &r, "access_denied", Some("s"));
}

#[tokio::test]
async fn post_authorize_and_signed_request_object() {
    let app = P::conformant();
    // OIDC Core §3.1.2.1: POST form.
    let r = app
        .call(
            Request::post("/authorize")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(ENRICH, DEVICE)
                .body(Body::from(query(&app.params(DEMO, VERIFY_SCOPE, "p"))))
                .expect("req"),
        )
        .await;
    assert!(r.location_params().contains_key("code"));

    // Signed request object (ICM): nonce only inside the JWT.
    let n = now();
    let ro_claims = json!({"iss": DEMO, "aud": ISSUER, "iat": n, "exp": n + 60, "jti": random_jti(),
        "client_id": DEMO, "response_type": "code", "redirect_uri": REDIRECT,
        "scope": VERIFY_SCOPE, "state": "ro", "nonce": "from-request-object"});
    let jwt = sign(DEMO, &ro_claims);
    let plain = [
        ("client_id", DEMO),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", VERIFY_SCOPE),
        ("request", jwt.as_str()),
    ];
    let r = app.authorize(&plain, &[(ENRICH, DEVICE)]).await;
    let q = r.location_params();
    assert_eq!(q["state"], "ro");
    let tok = app.redeem(DEMO, &q["code"], &[]).await.json();
    let id = claims(tok["id_token"].as_str().expect("id"));
    assert_eq!(id["nonce"], "from-request-object");

    // Mismatching plain scope, or a request object signed by another key, is refused.
    let mut other_scope = plain;
    other_scope[3] = ("scope", SHARE_SCOPE);
    let forged = sign(OTHER, &ro_claims);
    let mut forged_object = plain;
    forged_object[4] = ("request", forged.as_str());
    for (case, pairs) in [
        ("plain scope differs", other_scope),
        ("signed by another key", forged_object),
    ] {
        let r = app.authorize(&pairs, &[(ENRICH, DEVICE)]).await;
        assert_eq!(
            r.location_params()["error"],
            "invalid_request_object",
            "{case}"
        );
    }
}
