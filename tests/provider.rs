//! Tests of the embedded reference provider: in-process (`router(..).oneshot(..)`) for every rule,
//! and over TCP (`spawn` + reqwest) for the full discovery → authorize → token → API flow.
//!
//! All keys, secrets and numbers used here are the TEST-ONLY fixtures.

#[path = "provider_support.rs"]
mod support;

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use nvcert::provider::{JWT_BEARER_ASSERTION, ProviderConfig, spawn};
use serde_json::{Value, json};
use support::*;

const VERIFY_SCOPE: &str = "openid dpv:FraudPreventionAndDetection number-verification:verify";
const SHARE_SCOPE: &str =
    "openid dpv:FraudPreventionAndDetection number-verification:device-phone-number:read";
const BOTH_SCOPE: &str = "openid dpv:FraudPreventionAndDetection number-verification:verify \
                          number-verification:device-phone-number:read";

// ---------------------------------------------------------------------------------------------
// Helpers (the shared ones live in provider_support.rs)
// ---------------------------------------------------------------------------------------------

fn app_with(config: ProviderConfig) -> P {
    P::with_config(config)
}

/// The embedded config as is (its own spec version, no faults).
fn app() -> P {
    app_with(ProviderConfig::embedded())
}

/// Authorizes `client` for `scope` as line `msisdn` via header enrichment; returns the code.
/// Stricter than `P::code`: the redirect must carry no `error` either.
async fn code_for(app: &P, client: &str, scope: &str, msisdn: &str) -> String {
    let r = app
        .authorize_as(&app.params(client, scope, "st"), msisdn)
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text());
    let p = r.location_params();
    assert!(!p.contains_key("error"), "{p:?}");
    p["code"].clone()
}

/// An access token for `client`/`scope`/`msisdn` (the code obtained with `code_for`).
async fn access_token(app: &P, client: &str, scope: &str, msisdn: &str) -> String {
    let code = code_for(app, client, scope, msisdn).await;
    let r = app.redeem(client, &code, &[]).await;
    r.ok();
    r.json()["access_token"].as_str().expect("token").to_owned()
}

/// `assert_oauth_error` plus the `Cache-Control: no-store` every token-endpoint answer carries.
fn assert_token_error(r: &Resp, status: u16, error: &str) {
    assert_oauth_error(r, status, error);
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

// ---------------------------------------------------------------------------------------------
// End-to-end over TCP
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn end_to_end_flow_over_tcp() {
    let handle = spawn(
        ProviderConfig::embedded(),
        "127.0.0.1:0".parse().expect("addr"),
        None,
    )
    .await
    .expect("spawn");
    assert!(!handle.issuer().ends_with('/'));
    assert_eq!(handle.issuer(), format!("http://{}", handle.local_addr));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    // Discovery.
    let meta: Value = http
        .get(handle.endpoint("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(meta["issuer"], handle.issuer());
    assert_eq!(
        meta["authorization_endpoint"],
        handle.endpoint("/authorize")
    );
    assert_eq!(meta["token_endpoint"], handle.endpoint("/token"));
    let jwks: jsonwebtoken::jwk::JwkSet = http
        .get(meta["jwks_uri"].as_str().expect("jwks_uri"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("jwk set");

    // Authorize with header enrichment and PKCE; no redirect following.
    let (verifier, challenge) = pkce_pair();
    let state = "xyz-ABC_123";
    let resp = http
        .get(meta["authorization_endpoint"].as_str().expect("ep"))
        .query(&[
            ("response_type", "code"),
            ("client_id", DEMO),
            ("redirect_uri", REDIRECT),
            ("scope", BOTH_SCOPE),
            ("state", state),
            ("nonce", "nonce-123"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .header("x-nvcert-msisdn", DEVICE)
        .send()
        .await
        .expect("authorize");
    assert_eq!(resp.status(), reqwest::StatusCode::FOUND);
    let loc =
        url::Url::parse(resp.headers()["location"].to_str().expect("ascii location")).expect("url");
    assert!(loc.as_str().starts_with(REDIRECT));
    let q: HashMap<String, String> = loc.query_pairs().into_owned().collect();
    assert_eq!(q["state"], state);
    assert_eq!(q["iss"], handle.issuer());
    let code = q["code"].clone();
    assert!(URL_SAFE_NO_PAD.decode(&code).expect("base64url").len() >= 16);

    // Token with private_key_jwt.
    let n = now();
    let a = sign(
        DEMO,
        &json!({"iss": DEMO, "sub": DEMO, "aud": meta["token_endpoint"], "iat": n, "exp": n + 60,
                "jti": random_jti()}),
    );
    let resp = http
        .post(handle.endpoint("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_assertion_type", JWT_BEARER_ASSERTION),
            ("client_assertion", &a),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["pragma"], "no-cache");
    let tok: Value = resp.json().await.expect("json");
    assert_eq!(tok["token_type"], "Bearer");
    assert_eq!(tok["expires_in"], 300);
    assert!(tok.get("refresh_token").is_none());
    assert_eq!(tok["scope"], BOTH_SCOPE);

    // The ID token verifies against /jwks, with aud and nonce.
    let id_token = tok["id_token"].as_str().expect("id_token");
    let kid = jsonwebtoken::decode_header(id_token)
        .expect("header")
        .kid
        .expect("kid");
    let jwk = jwks.find(&kid).expect("kid in jwks");
    let mut v = Validation::new(Algorithm::ES256);
    v.set_audience(&[DEMO]);
    v.set_issuer(&[handle.issuer()]);
    let id =
        jsonwebtoken::decode::<Value>(id_token, &DecodingKey::from_jwk(jwk).expect("jwk key"), &v)
            .expect("id token verifies")
            .claims;
    assert_eq!(id["nonce"], "nonce-123");
    assert_eq!(id["amr"], json!(["nba"]));
    let sub = id["sub"].as_str().expect("sub");
    assert_eq!(sub.len(), 32);
    assert!(!sub.contains("600000001"), "sub must not carry the MSISDN");
    assert!(id["auth_time"].is_u64());

    // The NV API.
    let at = tok["access_token"].as_str().expect("access_token");
    assert!(!at.contains("600000001"));
    let post = |body: Value| {
        http.post(handle.api_endpoint("/verify"))
            .bearer_auth(at)
            .header("x-correlator", "corr-1")
            .json(&body)
            .send()
    };
    for (body, expected) in [
        (json!({"phoneNumber": DEVICE}), true),
        (json!({"phoneNumber": ANOTHER}), false),
        (json!({"hashedPhoneNumber": sha256_hex(DEVICE)}), true),
        (
            json!({"hashedPhoneNumber": sha256_hex(DEVICE).to_uppercase()}),
            true,
        ),
        (json!({"hashedPhoneNumber": sha256_hex(ANOTHER)}), false),
    ] {
        let r = post(body.clone()).await.expect("verify");
        assert_eq!(r.status(), reqwest::StatusCode::OK, "{body}");
        assert_eq!(r.headers()["x-correlator"], "corr-1");
        assert_eq!(r.headers()["content-type"], "application/json");
        let b: Value = r.json().await.expect("json");
        assert_eq!(b, json!({"devicePhoneNumberVerified": expected}), "{body}");
    }
    let r = http
        .get(handle.api_endpoint("/device-phone-number"))
        .bearer_auth(at)
        .send()
        .await
        .expect("share");
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert!(r.headers().contains_key("x-correlator"));
    let b: Value = r.json().await.expect("json");
    assert_eq!(b, json!({"devicePhoneNumber": DEVICE}));

    // client_secret_basic works as well.
    let code = {
        let resp = http
            .get(handle.endpoint("/authorize"))
            .query(&app().params(DEMO, SHARE_SCOPE, "s2"))
            .header("x-nvcert-msisdn", ANOTHER)
            .send()
            .await
            .expect("authorize");
        let loc = url::Url::parse(resp.headers()["location"].to_str().expect("loc")).expect("url");
        loc.query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .expect("code")
    };
    let tok: Value = http
        .post(handle.endpoint("/token"))
        .basic_auth(DEMO, Some(demo_secret()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let b: Value = http
        .get(handle.api_endpoint("/device-phone-number"))
        .bearer_auth(tok["access_token"].as_str().expect("at"))
        .send()
        .await
        .expect("share")
        .json()
        .await
        .expect("json");
    assert_eq!(b, json!({"devicePhoneNumber": ANOTHER}));

    let addr = handle.local_addr;
    handle.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed after shutdown"
    );
}

#[tokio::test]
async fn public_url_with_path_is_used_for_issuer_and_routes() {
    let handle = spawn(
        ProviderConfig::embedded(),
        "127.0.0.1:0".parse().expect("addr"),
        Some(url::Url::parse("http://127.0.0.1:1/op/").expect("url")),
    )
    .await
    .expect("spawn");
    assert_eq!(handle.issuer(), "http://127.0.0.1:1/op");
    assert_eq!(handle.endpoint("/token"), "http://127.0.0.1:1/op/token");
    // Routes are served under the public path.
    let direct = format!(
        "http://{}/op/.well-known/openid-configuration",
        handle.local_addr
    );
    let meta: Value = reqwest::get(direct)
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(meta["issuer"], "http://127.0.0.1:1/op");
    assert_eq!(meta["jwks_uri"], "http://127.0.0.1:1/op/jwks");
    handle.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Discovery and config
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn discovery_document() {
    let r = app().get("/.well-known/openid-configuration", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let m = r.json();
    assert_eq!(m["issuer"], ISSUER);
    assert_eq!(m["authorization_endpoint"], format!("{ISSUER}/authorize"));
    assert_eq!(m["token_endpoint"], format!("{ISSUER}/token"));
    assert_eq!(m["jwks_uri"], format!("{ISSUER}/jwks"));
    assert_eq!(m["response_types_supported"], json!(["code"]));
    assert_eq!(
        m["grant_types_supported"],
        json!([
            "authorization_code",
            "urn:openid:params:grant-type:ciba",
            "urn:ietf:params:oauth:grant-type:jwt-bearer"
        ])
    );
    assert_eq!(
        m["backchannel_authentication_endpoint"],
        format!("{ISSUER}/bc-authorize")
    );
    assert_eq!(
        m["backchannel_token_delivery_modes_supported"],
        json!(["poll"])
    );
    assert_eq!(m["subject_types_supported"], json!(["pairwise"]));
    assert_eq!(m["id_token_signing_alg_values_supported"], json!(["ES256"]));
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        json!(["private_key_jwt", "client_secret_basic"])
    );
    assert_eq!(
        m["token_endpoint_auth_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        m["scopes_supported"],
        json!([
            "openid",
            "number-verification:verify",
            "number-verification:device-phone-number:read"
        ])
    );
    assert!(
        m["claims_supported"]
            .as_array()
            .is_some_and(|c| c.contains(&json!("amr")))
    );

    let r = app().get("/jwks", &[]).await;
    let k = &r.json()["keys"][0];
    assert_eq!(
        (&k["kty"], &k["crv"], &k["use"], &k["alg"]),
        (
            &json!("EC"),
            &json!("P-256"),
            &json!("sig"),
            &json!("ES256")
        )
    );
    assert!(k["x"].is_string() && k["y"].is_string() && k["kid"].is_string());
    assert!(k.get("d").is_none());
}

#[test]
fn config_loads_from_disk_relative_to_its_directory_and_names_bad_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("keys")).expect("mkdir");
    for f in [
        "reference-provider-es256.TEST-ONLY.pem",
        "demo-client-es256.pub.pem",
        "other-client-es256.pub.pem",
        "demo-client-secret.TEST-ONLY.txt",
    ] {
        std::fs::copy(
            fixture(&format!("keys/{f}")),
            dir.path().join("keys").join(f),
        )
        .expect("copy");
    }
    let text = std::fs::read_to_string(fixture("reference-provider.toml")).expect("toml");
    let good = dir.path().join("good.toml");
    std::fs::write(&good, &text).expect("write");
    let c = ProviderConfig::load(&good).expect("loads");
    assert_eq!(c.clients.len(), 3);

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        text.replace(
            "access_token_ttl_seconds = 1\n",
            "access_token_ttl_seconds = 900\n",
        ),
    )
    .expect("write");
    let err = ProviderConfig::load(&bad)
        .expect_err("ttl > 300 refused")
        .to_string();
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("clients[1].access_token_ttl_seconds"), "{err}");

    let err = ProviderConfig::load(&dir.path().join("missing.toml"))
        .expect_err("missing")
        .to_string();
    assert!(err.contains("missing.toml"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Authorization endpoint
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_or_missing_client_gets_an_error_page_not_a_redirect() {
    let app = app();
    let mut p = app.params(DEMO, VERIFY_SCOPE, "s");
    p[1] = ("client_id", "no-such-client");
    for pairs in [
        p.clone(),
        p.iter()
            .copied()
            .filter(|(k, _)| *k != "client_id")
            .collect(),
    ] {
        let r = app.authorize(&pairs, &[("x-nvcert-msisdn", DEVICE)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.header("location").is_none());
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("text/plain"))
        );
    }
}

#[tokio::test]
async fn bad_or_missing_redirect_uri_gets_an_error_page_not_a_redirect() {
    let app = app();
    for bad in [
        "https://evil.example/callback",
        "https://client.nvcert.invalid/callback/",
        "https://client.nvcert.invalid/callback?x=1",
        OTHER_REDIRECT, // registered, but for another client
    ] {
        let mut p = app.params(DEMO, VERIFY_SCOPE, "s");
        p[2] = ("redirect_uri", bad);
        let r = app.authorize(&p, &[("x-nvcert-msisdn", DEVICE)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.header("location").is_none(), "{bad}");
    }
    let p: Vec<_> = app
        .params(DEMO, VERIFY_SCOPE, "s")
        .into_iter()
        .filter(|(k, _)| *k != "redirect_uri")
        .collect();
    let r = app.authorize(&p, &[("x-nvcert-msisdn", DEVICE)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.header("location").is_none());
}

/// Asserts a 302 error redirect to the demo redirect URI with `error` and `state`.
fn assert_error_redirect(r: &Resp, error: &str, state: Option<&str>) {
    assert_eq!(
        r.status,
        StatusCode::FOUND,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert!(
        r.header("location")
            .is_some_and(|l| l.starts_with(REDIRECT))
    );
    let p = r.location_params();
    assert_eq!(p.get("error").map(String::as_str), Some(error), "{p:?}");
    assert!(p.contains_key("error_description"), "{p:?}");
    assert_eq!(p.get("state").map(String::as_str), state, "{p:?}");
    assert!(!p.contains_key("code"));
}

#[tokio::test]
async fn authorize_error_redirects_in_order() {
    let app = app();
    let hdr = [("x-nvcert-msisdn", DEVICE)];
    let with = |k: &'static str, v: &'static str| {
        let mut p = app.params(DEMO, VERIFY_SCOPE, "st-1");
        p.retain(|(n, _)| *n != k);
        if !v.is_empty() {
            p.push((k, v));
        }
        p
    };
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (with("response_type", "token"), "unsupported_response_type"),
        (
            with("response_type", "code id_token"),
            "unsupported_response_type",
        ),
        (with("response_type", ""), "invalid_request"),
        (
            with("scope", "openid dpv:FraudPreventionAndDetection"),
            "invalid_scope",
        ),
        (
            with("scope", "openid number-verification:verify"),
            "invalid_scope",
        ),
        (
            with("scope", "openid dpv:A dpv:B number-verification:verify"),
            "invalid_scope",
        ),
        (
            with("scope", "openid dpv:A number-verification:verify-all"),
            "invalid_scope",
        ),
        (with("scope", ""), "invalid_scope"),
        (with("code_challenge_method", "plain"), "invalid_request"),
        (with("prompt", "login"), "login_required"),
        (with("prompt", "consent"), "login_required"),
        (with("prompt", "select_account"), "login_required"),
    ];
    for (pairs, error) in cases {
        let r = app.authorize(&pairs, &hdr).await;
        assert_error_redirect(&r, error, Some("st-1"));
    }
    // Scope is checked before PKCE, PKCE before prompt, prompt before identity.
    let mut p = with("scope", "openid");
    p.push(("code_challenge_method", "plain"));
    assert_error_redirect(&app.authorize(&p, &[]).await, "invalid_scope", Some("st-1"));
    let mut p = with("prompt", "login");
    p.push(("code_challenge_method", "plain"));
    assert_error_redirect(
        &app.authorize(&p, &[]).await,
        "invalid_request",
        Some("st-1"),
    );
    assert_error_redirect(
        &app.authorize(&with("prompt", "login"), &[]).await,
        "login_required",
        Some("st-1"),
    );
    // Without state, none is returned.
    let mut p = with("response_type", "token");
    p.retain(|(k, _)| *k != "state");
    assert_error_redirect(
        &app.authorize(&p, &hdr).await,
        "unsupported_response_type",
        None,
    );
    // A repeated parameter is invalid_request (RFC 6749 §3.1).
    let mut p = with("scope", VERIFY_SCOPE);
    p.push(("nonce", "again"));
    assert_error_redirect(
        &app.authorize(&p, &hdr).await,
        "invalid_request",
        Some("st-1"),
    );
}

#[tokio::test]
async fn missing_network_identity_is_login_required_with_state() {
    let app = app();
    let r = app
        .authorize(&app.params(DEMO, VERIFY_SCOPE, "keep-me"), &[])
        .await;
    assert_error_redirect(&r, "login_required", Some("keep-me"));
}

#[tokio::test]
async fn invalid_enrichment_header_is_access_denied() {
    let app = app();
    for bad in [
        "34600000001",
        "+0123456",
        "+1234",
        "tel:+34600000001",
        "+3460000000a",
    ] {
        let r = app
            .authorize(
                &app.params(DEMO, VERIFY_SCOPE, "s"),
                &[("x-nvcert-msisdn", bad)],
            )
            .await;
        assert_error_redirect(&r, "access_denied", Some("s"));
    }
}

#[tokio::test]
async fn long_state_with_special_characters_is_echoed_intact() {
    let app = app();
    let state: String = "aZ09-._~ +/=?&%#é".chars().cycle().take(128).collect();
    let r = app
        .authorize(
            &app.params(DEMO, VERIFY_SCOPE, &state),
            &[("x-nvcert-msisdn", DEVICE)],
        )
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
    let app = app_with(cfg);
    let mut p = app.params(DEMO, VERIFY_SCOPE, "s");
    p[2] = ("redirect_uri", "https://client.nvcert.invalid/cb?tenant=a");
    p.push(("acr_values", "urn:whatever"));
    p.push(("login_hint", "tel:+34600000009"));
    p.push(("unknown_extension", "ignored"));
    let r = app.authorize(&p, &[("x-nvcert-msisdn", DEVICE)]).await;
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
    let app = app();
    let mut p = app.params(DEMO, "openid", "s");
    p.push((
        "purpose",
        "dpv:FraudPreventionAndDetection#number-verification-verify-read",
    ));
    let r = app.authorize(&p, &[("x-nvcert-msisdn", DEVICE)]).await;
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
    let app = app_with(cfg);
    let r = app
        .authorize(
            &app.params(DEMO, VERIFY_SCOPE, "s"),
            &[("x-nvcert-msisdn", DEVICE)],
        )
        .await;
    assert_error_redirect(&r, "invalid_request", Some("s"));
    let (_, challenge) = pkce_pair();
    let mut p = app.params(DEMO, VERIFY_SCOPE, "s");
    p.push(("code_challenge", &challenge));
    p.push(("code_challenge_method", "S256"));
    let r = app.authorize(&p, &[("x-nvcert-msisdn", DEVICE)]).await;
    assert!(r.location_params().contains_key("code"));
}

#[tokio::test]
async fn source_ip_table_identifies_the_line() {
    let app = app();
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
    assert_error_redirect(&r, "login_required", Some("s"));
}

#[tokio::test]
async fn otp_login_wrong_code_is_access_denied() {
    let app = app();
    let mut p = app.params(DEMO, VERIFY_SCOPE, "s");
    p.push(("login_hint", "tel:+34600000001"));
    p.push(("test_otp", "000000"));
    assert_error_redirect(&app.authorize(&p, &[]).await, "access_denied", Some("s"));
}

#[tokio::test]
async fn post_authorize_and_signed_request_object() {
    let app = app();
    // OIDC Core §3.1.2.1: POST form.
    let r = app
        .call(
            Request::post("/authorize")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("x-nvcert-msisdn", DEVICE)
                .body(Body::from(query(&app.params(DEMO, VERIFY_SCOPE, "p"))))
                .expect("req"),
        )
        .await;
    assert!(r.location_params().contains_key("code"));

    // Signed request object (ICM): nonce only inside the JWT.
    let n = now();
    let claims = json!({"iss": DEMO, "aud": ISSUER, "iat": n, "exp": n + 60, "jti": random_jti(),
        "client_id": DEMO, "response_type": "code", "redirect_uri": REDIRECT,
        "scope": VERIFY_SCOPE, "state": "ro", "nonce": "from-request-object"});
    let jwt = sign(DEMO, &claims);
    let plain = [
        ("client_id", DEMO),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", VERIFY_SCOPE),
        ("request", jwt.as_str()),
    ];
    let r = app.authorize(&plain, &[("x-nvcert-msisdn", DEVICE)]).await;
    let q = r.location_params();
    assert_eq!(q["state"], "ro");
    let tok = app.redeem(DEMO, &q["code"], &[]).await.json();
    let id =
        jsonwebtoken::dangerous::insecure_decode::<Value>(tok["id_token"].as_str().expect("id"))
            .expect("decode")
            .claims;
    assert_eq!(id["nonce"], "from-request-object");

    // Mismatching plain scope, or a request object signed by another key, is refused.
    let mut bad = plain;
    bad[3] = ("scope", SHARE_SCOPE);
    let r = app.authorize(&bad, &[("x-nvcert-msisdn", DEVICE)]).await;
    assert_eq!(r.location_params()["error"], "invalid_request_object");
    let forged = sign(OTHER, &claims);
    let mut bad = plain;
    bad[4] = ("request", forged.as_str());
    let r = app.authorize(&bad, &[("x-nvcert-msisdn", DEVICE)]).await;
    assert_eq!(r.location_params()["error"], "invalid_request_object");
}

// ---------------------------------------------------------------------------------------------
// Token endpoint
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn token_success_shape_and_no_id_token_without_openid() {
    let app = app();
    let code = code_for(
        &app,
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
    let claims =
        jsonwebtoken::dangerous::insecure_decode::<Value>(b["access_token"].as_str().expect("at"))
            .expect("jwt")
            .claims;
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
        assert!(claims.get(c).is_some(), "claim {c} missing");
    }
    assert!(!claims.to_string().contains("600000001"));
    assert_eq!(claims["amr"], json!(["nba"]));

    // The short-lived client gets expires_in 1.
    let code = code_for(&app, SHORT, VERIFY_SCOPE, DEVICE).await;
    let b = app.redeem(SHORT, &code, &[]).await.json();
    assert_eq!(b["expires_in"], 1);
}

#[tokio::test]
async fn code_reuse_is_invalid_grant() {
    let app = app();
    let code = code_for(&app, DEMO, VERIFY_SCOPE, DEVICE).await;
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
    let app = app();
    let code = code_for(&app, DEMO, VERIFY_SCOPE, DEVICE).await;
    assert_token_error(&app.redeem(OTHER, &code, &[]).await, 400, "invalid_grant");
    // The failed attempt consumed the code.
    assert_token_error(&app.redeem(DEMO, &code, &[]).await, 400, "invalid_grant");

    let code = code_for(&app, DEMO, VERIFY_SCOPE, DEVICE).await;
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
    let app = app();
    let (verifier, challenge) = pkce_pair();
    let get_code = || async {
        let mut p = app.params(DEMO, VERIFY_SCOPE, "s");
        p.push(("code_challenge", &challenge));
        p.push(("code_challenge_method", "S256"));
        app.authorize(&p, &[("x-nvcert-msisdn", DEVICE)])
            .await
            .location_params()["code"]
            .clone()
    };
    let (wrong, _) = pkce_pair();
    let code = get_code().await;
    assert_token_error(
        &app.redeem(DEMO, &code, &[("code_verifier", &wrong)]).await,
        400,
        "invalid_grant",
    );
    let code = get_code().await;
    assert_token_error(&app.redeem(DEMO, &code, &[]).await, 400, "invalid_grant");
    let code = get_code().await;
    let r = app
        .redeem(DEMO, &code, &[("code_verifier", &verifier)])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // A verifier without a challenge in the authorization request is refused too.
    let code = code_for(&app, DEMO, VERIFY_SCOPE, DEVICE).await;
    assert_token_error(
        &app.redeem(DEMO, &code, &[("code_verifier", &verifier)])
            .await,
        400,
        "invalid_grant",
    );
}

async fn with_assertion(app: &P, assertion: &str) -> Resp {
    let code = code_for(app, DEMO, VERIFY_SCOPE, DEVICE).await;
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
    let app = app();
    let signer = DEMO; // whose key signs each case
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
    let cases = [
        ("lifetime > 300", with("exp", json!(n + 301)), signer),
        (
            "exp - iat > 300",
            {
                let mut c = with("iat", json!(n - 100));
                c["exp"] = json!(n + 250);
                c
            },
            signer,
        ),
        (
            "expired",
            {
                let mut c = with("iat", json!(n - 120));
                c["exp"] = json!(n - 60);
                c
            },
            signer,
        ),
        ("iat in future", with("iat", json!(n + 120)), signer),
        (
            "wrong aud",
            with("aud", json!("https://elsewhere.example/token")),
            signer,
        ),
        ("missing aud", with("aud", Value::Null), signer),
        ("wrong sub", with("sub", json!("someone")), signer),
        (
            "missing jti",
            {
                let mut c = base.clone();
                c.as_object_mut().expect("obj").remove("jti");
                c
            },
            signer,
        ),
        ("missing exp", with("exp", Value::Null), signer),
    ];
    for (name, claims, signer) in cases {
        let r = with_assertion(&app, &sign(signer, &claims)).await;
        assert_token_error(&r, 401, "invalid_client");
        assert!(r.header("www-authenticate").is_none(), "{name}");
    }
    // Signed by another key.
    let r = with_assertion(&app, &sign(OTHER, &with("jti", json!(random_jti())))).await;
    assert_token_error(&r, 401, "invalid_client");
    // Array aud with the issuer is accepted.
    let r = with_assertion(&app, &sign(DEMO, &with("aud", json!(["x", ISSUER])))).await;
    assert_eq!(r.status, StatusCode::OK);
    // Replayed jti.
    let once = sign(DEMO, &with("jti", json!("fixed-jti-1")));
    assert_eq!(with_assertion(&app, &once).await.status, StatusCode::OK);
    assert_token_error(&with_assertion(&app, &once).await, 401, "invalid_client");
    // HS256-signed assertion (alg confusion) is refused.
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &with("jti", json!(random_jti())),
        &EncodingKey::from_secret(b"whatever"),
    )
    .expect("sign");
    assert_token_error(&with_assertion(&app, &hs).await, 401, "invalid_client");
}

#[tokio::test]
async fn client_secret_basic_rules() {
    let app = app();
    let secret = demo_secret();
    let form = |code: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", REDIRECT.to_owned()),
        ]
    };
    let send = |code: String, basic: Option<(&'static str, String)>| {
        let app = app.clone();
        async move {
            let f = form(&code);
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.form(
                "/token",
                &f,
                basic.as_ref().map(|(i, s)| (*i, s.as_str())),
                &[],
            )
            .await
        }
    };
    let code = code_for(&app, DEMO, VERIFY_SCOPE, DEVICE).await;
    let r = send(code, Some((DEMO, "wrong".to_owned()))).await;
    assert_token_error(&r, 401, "invalid_client");
    assert!(
        r.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Basic"))
    );
    // nvcert-other may only use private_key_jwt (it has a secret file, with the demo secret, but
    // client_secret_basic is not registered for it).
    let code = code_for(&app, OTHER, VERIFY_SCOPE, DEVICE).await;
    assert_token_error(
        &send(code, Some((OTHER, secret.clone()))).await,
        401,
        "invalid_client",
    );
    // No authentication at all.
    let code = code_for(&app, DEMO, VERIFY_SCOPE, DEVICE).await;
    assert_token_error(&send(code, None).await, 401, "invalid_client");
    // Correct secret.
    let code = code_for(&app, DEMO, VERIFY_SCOPE, DEVICE).await;
    assert_eq!(
        send(code, Some((DEMO, secret.clone()))).await.status,
        StatusCode::OK
    );
    // Both Basic and an assertion: invalid_request.
    let code = code_for(&app, DEMO, VERIFY_SCOPE, DEVICE).await;
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
    let app = app();
    let secret = demo_secret();
    let basic = Some((DEMO, secret.as_str()));
    let r = app
        .form(
            "/token",
            &[("grant_type", "password"), ("username", "u")],
            basic,
            &[],
        )
        .await;
    assert_token_error(&r, 400, "unsupported_grant_type");
    let r = app
        .form(
            "/token",
            &[("grant_type", "authorization_code")],
            basic,
            &[],
        )
        .await;
    assert_token_error(&r, 400, "invalid_request");
    let r = app
        .form(
            "/token",
            &[("code", "x"), ("redirect_uri", REDIRECT)],
            basic,
            &[],
        )
        .await;
    assert_token_error(&r, 400, "invalid_request");
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

// ---------------------------------------------------------------------------------------------
// NV API
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn api_unauthenticated_cases() {
    let app = app();
    let body = json!({"phoneNumber": DEVICE}).to_string();
    // Missing.
    let r = app
        .api(
            Method::POST,
            "/verify",
            None,
            &[("content-type", "application/json")],
            Some(&body),
        )
        .await;
    assert_error_info(&r, 401, "UNAUTHENTICATED");
    let r = app
        .api(Method::GET, "/device-phone-number", None, &[], None)
        .await;
    assert_error_info(&r, 401, "UNAUTHENTICATED");
    // Malformed.
    for auth in ["Bearer", "Basic abc", "Bearer a b", "Bearer not-a-jwt"] {
        let r = app
            .api(
                Method::GET,
                "/device-phone-number",
                None,
                &[("authorization", auth)],
                None,
            )
            .await;
        assert_error_info(&r, 401, "UNAUTHENTICATED");
    }
    // Forged: right claims, wrong HS256 key.
    let n = now();
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": ISSUER, "sub": "0123456789abcdef0123456789abcdef", "client_id": DEMO,
                "scope": BOTH_SCOPE, "amr": ["nba"], "iat": n, "exp": n + 60, "jti": "x"}),
        &EncodingKey::from_secret(b"not-the-provider-key-not-the-provider-key"),
    )
    .expect("sign");
    assert_error_info(
        &app.verify_raw(&forged, &body, &[]).await,
        401,
        "UNAUTHENTICATED",
    );
    // Foreign-signed: a real token from another instance.
    let other_instance = self::app();
    let foreign = access_token(&other_instance, DEMO, BOTH_SCOPE, DEVICE).await;
    assert_error_info(
        &app.verify_raw(&foreign, &body, &[]).await,
        401,
        "UNAUTHENTICATED",
    );
    // The ID token is not an access token.
    let code = code_for(&app, DEMO, BOTH_SCOPE, DEVICE).await;
    let tok = app.redeem(DEMO, &code, &[]).await.json();
    let r = app
        .verify_raw(tok["id_token"].as_str().expect("id"), &body, &[])
        .await;
    assert_error_info(&r, 401, "UNAUTHENTICATED");
    assert!(
        r.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer"))
    );
}

#[tokio::test]
async fn api_expired_token_is_unauthenticated() {
    let app = app();
    let at = access_token(&app, SHORT, VERIFY_SCOPE, DEVICE).await;
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
    let app = app();
    let share_only = access_token(&app, DEMO, SHARE_SCOPE, DEVICE).await;
    let body = json!({"phoneNumber": DEVICE}).to_string();
    assert_error_info(
        &app.verify_raw(&share_only, &body, &[]).await,
        403,
        "PERMISSION_DENIED",
    );
    let verify_only = access_token(&app, DEMO, VERIFY_SCOPE, DEVICE).await;
    let r = app
        .api(
            Method::GET,
            "/device-phone-number",
            Some(&verify_only),
            &[],
            None,
        )
        .await;
    assert_error_info(&r, 403, "PERMISSION_DENIED");

    // OTP path: authenticated, but not by the mobile network.
    let mut p = app.params(DEMO, BOTH_SCOPE, "s");
    p.push(("login_hint", "tel:+34600000001"));
    p.push(("test_otp", "246810"));
    let r = app.authorize(&p, &[]).await;
    let code = r.location_params()["code"].clone();
    let tok = app.redeem(DEMO, &code, &[]).await.json();
    let at = tok["access_token"].as_str().expect("at");
    let id =
        jsonwebtoken::dangerous::insecure_decode::<Value>(tok["id_token"].as_str().expect("id"))
            .expect("decode")
            .claims;
    assert_eq!(id["amr"], json!(["sms", "otp"]));
    let code = "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK";
    assert_error_info(&app.verify_raw(at, &body, &[]).await, 403, code);
    let r = app
        .api(Method::GET, "/device-phone-number", Some(at), &[], None)
        .await;
    assert_error_info(&r, 403, code);
    // Scope is checked before amr.
    let mut p = app.params(DEMO, SHARE_SCOPE, "s");
    p.push(("login_hint", "tel:+34600000001"));
    p.push(("test_otp", "246810"));
    let code = app.authorize(&p, &[]).await.location_params()["code"].clone();
    let at = app.redeem(DEMO, &code, &[]).await.json()["access_token"]
        .as_str()
        .expect("at")
        .to_owned();
    assert_error_info(
        &app.verify_raw(&at, &body, &[]).await,
        403,
        "PERMISSION_DENIED",
    );
}

#[tokio::test]
async fn api_verify_body_errors() {
    let app = app();
    let at = access_token(&app, DEMO, BOTH_SCOPE, DEVICE).await;
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
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "case {name}");
        assert_error_info(&r, 400, "INVALID_ARGUMENT");
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
    let app = app();
    let at = access_token(&app, DEMO, BOTH_SCOPE, DEVICE).await;
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
        assert_eq!(r.header("x-correlator"), Some(ok));
    }
    // Invalid values: 400, and never echoed.
    let too_long: &'static str = Box::leak("a".repeat(257).into_boxed_str());
    for bad in [
        "a=b", "a b", "a?b", "a@b", "a,b", "a+b", "a#b", "a%b", too_long,
    ] {
        let r = send(bad).await;
        assert_error_info(&r, 400, "INVALID_ARGUMENT");
        let echoed = r.header("x-correlator").expect("x-correlator");
        assert_ne!(echoed, bad);
        assert_eq!(echoed.len(), 36, "a fresh UUID");
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
    let app = app();
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
    let r = app.api(Method::GET, "/verify", None, &[], None).await;
    assert_error_info(&r, 405, "METHOD_NOT_ALLOWED");
    assert!(r.header("allow").is_some_and(|a| a.contains("POST")));
    let r = app
        .api(Method::POST, "/device-phone-number", None, &[], Some("{}"))
        .await;
    assert_error_info(&r, 405, "METHOD_NOT_ALLOWED");
    assert!(r.header("allow").is_some_and(|a| a.contains("GET")));
}
