//! Tests of the reference provider's token endpoint (authorization-code grant and client
//! authentication), in process (`router(..).oneshot(..)`).
//!
//! All keys, secrets and numbers used here are the TEST-ONLY fixtures.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::provider::*;
use common::{DEVICE, ENRICH};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use nvcert::provider::JWT_BEARER_ASSERTION;
use serde_json::{Value, json};

/// [`assert_oauth_error`] plus the `Cache-Control: no-store` every token-endpoint answer carries.
fn assert_token_error(r: &Resp, status: u16, error: &str) {
    assert_token_error_for("", r, status, error);
}

/// [`assert_token_error`], naming `case` (one row of a table of cases) in failure messages.
fn assert_token_error_for(case: &str, r: &Resp, status: u16, error: &str) {
    assert_oauth_error_for(case, r, status, error);
    assert_eq!(r.header("cache-control"), Some("no-store"), "{case}");
}

#[tokio::test]
async fn token_success_shape_and_no_id_token_without_openid() {
    let app = P::conformant();
    let code = app
        .code_for(
            DEMO,
            "dpv:FraudPreventionAndDetection number-verification:verify",
            DEVICE,
        )
        .await;
    let r = app.redeem(DEMO, &code, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    let b = r.json();
    assert!(b.get("id_token").is_none());
    assert!(b.get("refresh_token").is_none());
    assert_eq!(b["expires_in"], 300);
    assert_eq!(
        b["scope"],
        "dpv:FraudPreventionAndDetection number-verification:verify"
    );
    // Access-token claims: no phone number, network amr.
    let at = claims(b["access_token"].as_str().expect("at"));
    for c in [
        "iss",
        "sub",
        "client_id",
        "scope",
        "amr",
        "iat",
        "exp",
        "jti",
    ] {
        assert!(at.get(c).is_some(), "claim {c} missing");
    }
    assert!(!at.to_string().contains("600000001"));
    assert_eq!(at["amr"], json!(["nba"]));

    // The short-lived client gets expires_in 1.
    let code = app.code_for(SHORT, VERIFY_SCOPE, DEVICE).await;
    let b = app.redeem(SHORT, &code, &[]).await.json();
    assert_eq!(b["expires_in"], 1);
}

#[tokio::test]
async fn code_reuse_is_invalid_grant() {
    let app = P::conformant();
    let code = app.code_for(DEMO, VERIFY_SCOPE, DEVICE).await;
    assert_eq!(app.redeem(DEMO, &code, &[]).await.status, StatusCode::OK);
    assert_token_error(&app.redeem(DEMO, &code, &[]).await, 400, "invalid_grant");
    assert_token_error(
        &app.redeem(DEMO, "not-a-code", &[]).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn code_is_bound_to_client_and_redirect_uri_and_consumed_by_first_attempt() {
    let app = P::conformant();
    let code = app.code_for(DEMO, VERIFY_SCOPE, DEVICE).await;
    assert_token_error(&app.redeem(OTHER, &code, &[]).await, 400, "invalid_grant");
    // The failed attempt consumed the code.
    assert_token_error(&app.redeem(DEMO, &code, &[]).await, 400, "invalid_grant");

    let code = app.code_for(DEMO, VERIFY_SCOPE, DEVICE).await;
    let a = assertion(DEMO);
    let r = app
        .form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://client.nvcert.invalid/other"),
                ("client_assertion_type", JWT_BEARER_ASSERTION),
                ("client_assertion", &a),
            ],
            None,
            &[],
        )
        .await;
    assert_token_error(&r, 400, "invalid_grant");
}

#[tokio::test]
async fn pkce_wrong_or_missing_verifier_is_invalid_grant() {
    let app = P::conformant();
    let (verifier, challenge) = pkce_pair();
    let get_code = || async {
        let mut p = app.params(DEMO, VERIFY_SCOPE, "s");
        p.push(("code_challenge", &challenge));
        p.push(("code_challenge_method", "S256"));
        app.authorize(&p, &[(ENRICH, DEVICE)])
            .await
            .location_params()["code"]
            .clone()
    };
    let (wrong, _) = pkce_pair();
    // (case, code_verifier sent, expected error; None: 200)
    let cases = [
        (
            "wrong verifier",
            Some(wrong.as_str()),
            Some("invalid_grant"),
        ),
        ("no verifier", None, Some("invalid_grant")),
        ("right verifier", Some(verifier.as_str()), None),
    ];
    for (case, code_verifier, error) in cases {
        let code = get_code().await;
        let extra: Vec<_> = code_verifier
            .map(|v| ("code_verifier", v))
            .into_iter()
            .collect();
        let r = app.redeem(DEMO, &code, &extra).await;
        match error {
            Some(error) => assert_token_error_for(case, &r, 400, error),
            None => assert_eq!(r.status, StatusCode::OK, "{case}: {}", r.text()),
        }
    }
    // A verifier without a challenge in the authorization request is refused too.
    let code = app.code_for(DEMO, VERIFY_SCOPE, DEVICE).await;
    assert_token_error(
        &app.redeem(DEMO, &code, &[("code_verifier", &verifier)])
            .await,
        400,
        "invalid_grant",
    );
}

async fn with_assertion(app: &P, assertion: &str) -> Resp {
    let code = app.code_for(DEMO, VERIFY_SCOPE, DEVICE).await;
    app.form(
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_assertion_type", JWT_BEARER_ASSERTION),
            ("client_assertion", assertion),
        ],
        None,
        &[],
    )
    .await
}

#[tokio::test]
async fn bad_client_assertions_are_invalid_client() {
    let app = P::conformant();
    let n = now();
    let base = json!({"iss": DEMO, "sub": DEMO, "aud": format!("{ISSUER}/token"), "iat": n,
                      "exp": n + 60});
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
    let cases: Vec<(&str, String)> = vec![
        ("lifetime > 300", sign(DEMO, &with("exp", json!(n + 301)))),
        ("exp - iat > 300", {
            let mut c = with("iat", json!(n - 100));
            c["exp"] = json!(n + 250);
            sign(DEMO, &c)
        }),
        ("expired", {
            let mut c = with("iat", json!(n - 120));
            c["exp"] = json!(n - 60);
            sign(DEMO, &c)
        }),
        ("iat in future", sign(DEMO, &with("iat", json!(n + 120)))),
        (
            "wrong aud",
            sign(DEMO, &with("aud", json!("https://elsewhere.example/token"))),
        ),
        ("missing aud", sign(DEMO, &with("aud", Value::Null))),
        ("wrong sub", sign(DEMO, &with("sub", json!("someone")))),
        ("missing jti", {
            let mut c = base.clone();
            c.as_object_mut().expect("obj").remove("jti");
            sign(DEMO, &c)
        }),
        ("missing exp", sign(DEMO, &with("exp", Value::Null))),
        (
            "signed by another key",
            sign(OTHER, &with("jti", json!(random_jti()))),
        ),
        (
            "HS256-signed (alg confusion)",
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &with("jti", json!(random_jti())),
                &EncodingKey::from_secret(b"whatever"),
            )
            .expect("sign"),
        ),
    ];
    for (case, a) in cases {
        let r = with_assertion(&app, &a).await;
        assert_token_error_for(case, &r, 401, "invalid_client");
        assert!(r.header("www-authenticate").is_none(), "{case}");
    }
    // Array aud with the issuer is accepted.
    let r = with_assertion(&app, &sign(DEMO, &with("aud", json!(["x", ISSUER])))).await;
    assert_eq!(r.status, StatusCode::OK);
    // Replayed jti.
    let once = sign(DEMO, &with("jti", json!("fixed-jti-1")));
    assert_eq!(with_assertion(&app, &once).await.status, StatusCode::OK);
    assert_token_error(&with_assertion(&app, &once).await, 401, "invalid_client");
}

#[tokio::test]
async fn client_secret_basic_rules() {
    let app = P::conformant();
    let secret = demo_secret();
    // (case, client whose code is redeemed, Basic credentials, OK?, Basic challenge expected?)
    let cases = [
        ("wrong secret", DEMO, Some((DEMO, "wrong")), false, true),
        // nvcert-other may only use private_key_jwt (it has a secret file, with the demo secret,
        // but client_secret_basic is not registered for it).
        (
            "client_secret_basic not registered",
            OTHER,
            Some((OTHER, secret.as_str())),
            false,
            false,
        ),
        ("no authentication", DEMO, None, false, false),
        (
            "correct secret",
            DEMO,
            Some((DEMO, secret.as_str())),
            true,
            false,
        ),
    ];
    for (case, client, basic, ok, challenge) in cases {
        let code = app.code_for(client, VERIFY_SCOPE, DEVICE).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ];
        let r = app.form("/token", &form, basic, &[]).await;
        if ok {
            assert_eq!(r.status, StatusCode::OK, "{case}: {}", r.text());
        } else {
            assert_token_error_for(case, &r, 401, "invalid_client");
        }
        if challenge {
            assert!(
                r.header("www-authenticate")
                    .is_some_and(|h| h.starts_with("Basic")),
                "{case}"
            );
        }
    }
    // Both Basic and an assertion: invalid_request.
    let code = app.code_for(DEMO, VERIFY_SCOPE, DEVICE).await;
    let a = assertion(DEMO);
    let r = app
        .form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_assertion_type", JWT_BEARER_ASSERTION),
                ("client_assertion", &a),
            ],
            Some((DEMO, &secret)),
            &[],
        )
        .await;
    assert_token_error(&r, 400, "invalid_request");
}

#[tokio::test]
async fn token_request_errors() {
    let app = P::conformant();
    let secret = demo_secret();
    let basic = Some((DEMO, secret.as_str()));
    let cases = [
        (
            "password grant",
            vec![("grant_type", "password"), ("username", "u")],
            "unsupported_grant_type",
        ),
        (
            "no code",
            vec![("grant_type", "authorization_code")],
            "invalid_request",
        ),
        (
            "no grant_type",
            vec![("code", "x"), ("redirect_uri", REDIRECT)],
            "invalid_request",
        ),
    ];
    for (case, form, error) in cases {
        let r = app.form("/token", &form, basic, &[]).await;
        assert_token_error_for(case, &r, 400, error);
    }
    let r = app
        .call(
            Request::post("/token")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .expect("req"),
        )
        .await;
    assert_token_error(&r, 400, "invalid_request");
}
