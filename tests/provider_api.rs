//! Tests of the reference provider's Number Verification API (verify and device-phone-number),
//! in process (`router(..).oneshot(..)`).
//!
//! All keys, secrets and numbers used here are the TEST-ONLY fixtures.

mod common;

use axum::http::{Method, StatusCode};
use common::provider::*;
use common::{DEVICE, sha256_hex};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// `op` with bearer `token` and `headers`: `/verify` is POSTed the device's number as JSON,
/// `/device-phone-number` is a GET.
async fn call(app: &P, op: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Resp {
    if op == "/verify" {
        let body = json!({"phoneNumber": DEVICE}).to_string();
        let mut h = vec![("content-type", "application/json")];
        h.extend_from_slice(headers);
        app.api(Method::POST, op, token, &h, Some(&body)).await
    } else {
        app.api(Method::GET, op, token, headers, None).await
    }
}

/// Tokens (JSON) for the demo client and `scope`, the device logged in by OTP, not the network.
async fn otp_tokens(app: &P, scope: &str) -> Value {
    let mut p = app.params(DEMO, scope, "s");
    p.push(("login_hint", "tel:+34600000001"));
    p.push(("test_otp", "246810"));
    let r = app.authorize(&p, &[]).await;
    let code = r.location_params()["code"].clone();
    app.redeem(DEMO, &code, &[]).await.json()
}

#[tokio::test]
async fn api_unauthenticated_cases() {
    let app = P::conformant();
    // Forged: right claims, wrong HS256 key.
    let n = now();
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": ISSUER, "sub": "0123456789abcdef0123456789abcdef", "client_id": DEMO,
                "scope": BOTH_SCOPE, "amr": ["nba"], "iat": n, "exp": n + 60, "jti": "x"}),
        &EncodingKey::from_secret(b"not-the-provider-key-not-the-provider-key"),
    )
    .expect("sign");
    // Foreign-signed: a real token from another instance.
    let other_instance = P::conformant();
    let foreign = other_instance
        .access_token_for(DEMO, BOTH_SCOPE, DEVICE)
        .await;
    // The ID token is not an access token.
    let code = app.code_for(DEMO, BOTH_SCOPE, DEVICE).await;
    let tok = app.redeem(DEMO, &code, &[]).await.json();
    let id_token = tok["id_token"].as_str().expect("id");

    const SHARE: &str = "/device-phone-number";
    // (case, operation, bearer token, raw Authorization header, `WWW-Authenticate: Bearer`
    // expected?)
    let none: Option<&str> = None;
    let mut cases = vec![
        ("missing, verify".to_owned(), "/verify", none, none, false),
        ("missing, share".to_owned(), SHARE, none, none, false),
    ];
    for auth in ["Bearer", "Basic abc", "Bearer a b", "Bearer not-a-jwt"] {
        cases.push((
            format!("malformed {auth:?}"),
            SHARE,
            None,
            Some(auth),
            false,
        ));
    }
    cases.extend([
        (
            "forged".into(),
            "/verify",
            Some(forged.as_str()),
            None,
            false,
        ),
        (
            "foreign-signed".into(),
            "/verify",
            Some(foreign.as_str()),
            None,
            false,
        ),
        ("ID token".into(), "/verify", Some(id_token), None, true),
    ]);
    for (case, op, token, authorization, challenge) in cases {
        let headers: Vec<_> = authorization
            .map(|a| ("authorization", a))
            .into_iter()
            .collect();
        let r = call(&app, op, token, &headers).await;
        assert_error_info_for(&case, &r, 401, "UNAUTHENTICATED");
        if challenge {
            assert!(
                r.header("www-authenticate")
                    .is_some_and(|h| h.starts_with("Bearer")),
                "{case}"
            );
        }
    }
}

#[tokio::test]
async fn api_expired_token_is_unauthenticated() {
    let app = P::conformant();
    let at = app.access_token_for(SHORT, VERIFY_SCOPE, DEVICE).await;
    let body = json!({"phoneNumber": DEVICE}).to_string();
    assert_eq!(app.verify_raw(&at, &body, &[]).await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    assert_error_info(
        &app.verify_raw(&at, &body, &[]).await,
        401,
        "UNAUTHENTICATED",
    );
}

#[tokio::test]
async fn api_scope_and_network_authentication() {
    let app = P::conformant();
    let share_only = app.access_token_for(DEMO, SHARE_SCOPE, DEVICE).await;
    let verify_only = app.access_token_for(DEMO, VERIFY_SCOPE, DEVICE).await;
    // OTP path: authenticated, but not by the mobile network.
    let tok = otp_tokens(&app, BOTH_SCOPE).await;
    let otp = tok["access_token"].as_str().expect("at");
    let id = claims(tok["id_token"].as_str().expect("id"));
    assert_eq!(id["amr"], json!(["sms", "otp"]));
    let otp_share_only = otp_tokens(&app, SHARE_SCOPE).await["access_token"]
        .as_str()
        .expect("at")
        .to_owned();

    let denied = "PERMISSION_DENIED";
    let not_network = "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK";
    let cases = [
        (
            "share-only token, verify",
            share_only.as_str(),
            "/verify",
            denied,
        ),
        (
            "verify-only token, share",
            verify_only.as_str(),
            "/device-phone-number",
            denied,
        ),
        ("OTP token, verify", otp, "/verify", not_network),
        ("OTP token, share", otp, "/device-phone-number", not_network),
        // Scope is checked before amr.
        (
            "OTP share-only token, verify",
            otp_share_only.as_str(),
            "/verify",
            denied,
        ),
    ];
    for (case, token, op, code) in cases {
        let r = call(&app, op, Some(token), &[]).await;
        assert_error_info_for(case, &r, 403, code);
    }
}

#[tokio::test]
async fn api_verify_body_errors() {
    let app = P::conformant();
    let at = app.access_token_for(DEMO, BOTH_SCOPE, DEVICE).await;
    let hash = sha256_hex(DEVICE);
    let cases: Vec<(&str, Option<&str>, String)> = vec![
        ("missing body", Some("application/json"), String::new()),
        ("missing body, no type", None, String::new()),
        ("not JSON", Some("application/json"), "{phoneNumber:".into()),
        ("array", Some("application/json"), "[]".into()),
        (
            "string",
            Some("application/json"),
            "\"+34600000001\"".into(),
        ),
        ("null", Some("application/json"), "null".into()),
        ("empty object", Some("application/json"), "{}".into()),
        (
            "both",
            Some("application/json"),
            json!({"phoneNumber": DEVICE, "hashedPhoneNumber": hash}).to_string(),
        ),
        (
            "unknown only",
            Some("application/json"),
            json!({"foo": "bar"}).to_string(),
        ),
        (
            "extra property",
            Some("application/json"),
            json!({"phoneNumber": DEVICE, "foo": "bar"}).to_string(),
        ),
        (
            "no plus",
            Some("application/json"),
            json!({"phoneNumber": "34600000001"}).to_string(),
        ),
        (
            "too short",
            Some("application/json"),
            json!({"phoneNumber": "+1234"}).to_string(),
        ),
        (
            "leading zero",
            Some("application/json"),
            json!({"phoneNumber": "+0346000000"}).to_string(),
        ),
        (
            "number type",
            Some("application/json"),
            r#"{"phoneNumber": 34600000001}"#.into(),
        ),
        (
            "null value",
            Some("application/json"),
            r#"{"phoneNumber": null}"#.into(),
        ),
        (
            "null plus hash",
            Some("application/json"),
            format!(r#"{{"phoneNumber": null, "hashedPhoneNumber": "{hash}"}}"#),
        ),
        (
            "short hash",
            Some("application/json"),
            json!({"hashedPhoneNumber": &hash[..63]}).to_string(),
        ),
        (
            "non-hex hash",
            Some("application/json"),
            json!({"hashedPhoneNumber": format!("{}g", &hash[..63])}).to_string(),
        ),
        (
            "duplicate key",
            Some("application/json"),
            format!(r#"{{"phoneNumber": "{DEVICE}", "phoneNumber": "{DEVICE}"}}"#),
        ),
        (
            "wrong content type",
            Some("text/plain"),
            json!({"phoneNumber": DEVICE}).to_string(),
        ),
        (
            "form content type",
            Some("application/x-www-form-urlencoded"),
            "phoneNumber=%2B34600000001".into(),
        ),
    ];
    for (name, ctype, body) in cases {
        let headers: Vec<(&str, &str)> = ctype.map(|c| ("content-type", c)).into_iter().collect();
        let r = app
            .api(Method::POST, "/verify", Some(&at), &headers, Some(&body))
            .await;
        assert_error_info_for(name, &r, 400, "INVALID_ARGUMENT");
    }
    // JSON escapes in a valid number, and charset parameter, are fine.
    let r = app
        .api(
            Method::POST,
            "/verify",
            Some(&at),
            &[("content-type", "application/json; charset=utf-8")],
            Some(r#"{"phoneNumber": "\u002B34600000001"}"#),
        )
        .await;
    assert_eq!(r.json(), json!({"devicePhoneNumberVerified": true}));
}

#[tokio::test]
async fn api_x_correlator_rules() {
    let app = P::conformant();
    let at = app.access_token_for(DEMO, BOTH_SCOPE, DEVICE).await;
    let body = json!({"phoneNumber": DEVICE}).to_string();
    let send = |corr: &'static str| {
        let app = app.clone();
        let at = at.clone();
        let body = body.clone();
        async move {
            app.api(
                Method::POST,
                "/verify",
                Some(&at),
                &[("content-type", "application/json"), ("x-correlator", corr)],
                Some(&body),
            )
            .await
        }
    };
    // Valid values are echoed.
    let long: &'static str = Box::leak("a".repeat(256).into_boxed_str());
    for ok in [
        "b4333c46-49c0-4f62-80d7-f0ef930f1c46",
        "a_b:c;d.e/f<g>h{i}",
        long,
    ] {
        let r = send(ok).await;
        assert_eq!(r.status, StatusCode::OK, "{ok}");
        assert_eq!(r.header("x-correlator"), Some(ok), "{ok}");
    }
    // Invalid values: 400, and never echoed.
    let too_long: &'static str = Box::leak("a".repeat(257).into_boxed_str());
    for bad in [
        "a=b", "a b", "a?b", "a@b", "a,b", "a+b", "a#b", "a%b", too_long,
    ] {
        let r = send(bad).await;
        assert_error_info_for(bad, &r, 400, "INVALID_ARGUMENT");
        let echoed = r.header("x-correlator").expect("x-correlator");
        assert_ne!(echoed, bad);
        assert_eq!(echoed.len(), 36, "{bad}: a fresh UUID");
    }
    // Empty or absent: a fresh value.
    let r = send("").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-correlator").map(str::len), Some(36));
    // Echo on errors too (401 comes before the correlator check).
    let r = app
        .api(
            Method::GET,
            "/device-phone-number",
            None,
            &[("x-correlator", "err-corr")],
            None,
        )
        .await;
    assert_error_info(&r, 401, "UNAUTHENTICATED");
    assert_eq!(r.header("x-correlator"), Some("err-corr"));
    let r = app
        .api(
            Method::GET,
            "/device-phone-number",
            None,
            &[("x-correlator", "a=b")],
            None,
        )
        .await;
    assert_error_info(&r, 401, "UNAUTHENTICATED");
    assert_ne!(r.header("x-correlator"), Some("a=b"));
    // Share echoes as well.
    let r = app
        .api(
            Method::GET,
            "/device-phone-number",
            Some(&at),
            &[("x-correlator", "share-1")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-correlator"), Some("share-1"));
}

#[tokio::test]
async fn api_unknown_path_and_wrong_method() {
    let app = P::conformant();
    let r = app
        .api(
            Method::GET,
            "/nope",
            None,
            &[("x-correlator", "c-404")],
            None,
        )
        .await;
    assert_error_info(&r, 404, "NOT_FOUND");
    assert_eq!(r.header("x-correlator"), Some("c-404"));
    let cases = [
        ("GET /verify", Method::GET, "/verify", None, "POST"),
        (
            "POST /device-phone-number",
            Method::POST,
            "/device-phone-number",
            Some("{}"),
            "GET",
        ),
    ];
    for (case, method, op, body, allowed) in cases {
        let r = app.api(method, op, None, &[], body).await;
        assert_error_info_for(case, &r, 405, "METHOD_NOT_ALLOWED");
        assert!(
            r.header("allow").is_some_and(|a| a.contains(allowed)),
            "{case}"
        );
    }
}
