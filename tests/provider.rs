//! Tests of the embedded reference provider as a whole: over TCP (`spawn` + reqwest) for the
//! full discovery → authorize → token → API flow, its discovery document, and its config file.
//! Each endpoint's rules are tested in process in `provider_authorize.rs`, `provider_token.rs`
//! and `provider_api.rs`.
//!
//! All keys, secrets and numbers used here are the TEST-ONLY fixtures.

mod common;

use std::collections::HashMap;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::provider::*;
use common::{ANOTHER, DEVICE, ENRICH, fixtures, sha256_hex};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use nvcert::provider::{JWT_BEARER_ASSERTION, ProviderConfig, spawn};
use serde_json::{Value, json};

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
        .header(ENRICH, DEVICE)
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
            .query(&P::conformant().params(DEMO, SHARE_SCOPE, "s2"))
            .header(ENRICH, ANOTHER)
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
    handle.shutdown().await.expect("provider stopped cleanly");
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
    handle.shutdown().await.expect("provider stopped cleanly");
}

// ---------------------------------------------------------------------------------------------
// Discovery and config
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn discovery_document() {
    let r = P::conformant()
        .get("/.well-known/openid-configuration", &[])
        .await;
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

    let r = P::conformant().get("/jwks", &[]).await;
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
            fixtures().join("keys").join(f),
            dir.path().join("keys").join(f),
        )
        .expect("copy");
    }
    let text = std::fs::read_to_string(fixtures().join("reference-provider.toml")).expect("toml");
    let good = dir.path().join("good.toml");
    std::fs::write(&good, &text).expect("write");
    let c = ProviderConfig::load(&good).expect("loads");
    assert_eq!(c.clients.len(), 4);

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
