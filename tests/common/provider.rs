//! The reference provider in process: [`P`] wraps `router(..)` and sends requests with
//! `oneshot`, plus the clients, scopes and flows the provider tests share.
//!
//! All keys, secrets and numbers used here are the TEST-ONLY fixtures.

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use nvcert::provider::{
    AppState, Fault, GRANT_CIBA, GRANT_JWT_BEARER, JWT_BEARER_ASSERTION, ProviderConfig,
    SpecVersion, router,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use super::{ENRICH, fixtures};

pub const ISSUER: &str = "http://provider.test:8080";
pub const DEMO: &str = "nvcert-demo";
pub const OTHER: &str = "nvcert-other";
pub const SHORT: &str = "nvcert-short-lived";
pub const REDIRECT: &str = "https://client.nvcert.invalid/callback";
pub const OTHER_REDIRECT: &str = "https://other.nvcert.invalid/callback";
/// Longer than the embedded CIBA `interval` (1 s), with room for a busy machine.
pub const CIBA_INTERVAL_PASSED: Duration = Duration::from_millis(1100);
pub const PURPOSE: &str = "dpv:FraudPreventionAndDetection";

/// 2.1.0 scopes (openid, purpose, verify and/or share), as [`scope`] builds them.
pub const VERIFY_SCOPE: &str = "openid dpv:FraudPreventionAndDetection number-verification:verify";
pub const SHARE_SCOPE: &str =
    "openid dpv:FraudPreventionAndDetection number-verification:device-phone-number:read";
pub const BOTH_SCOPE: &str = "openid dpv:FraudPreventionAndDetection number-verification:verify \
                              number-verification:device-phone-number:read";

pub fn client_key(client: &str) -> EncodingKey {
    let name = if client == OTHER {
        "other-client"
    } else {
        "demo-client"
    };
    let pem =
        std::fs::read(fixtures().join(format!("keys/{name}-es256.TEST-ONLY.pem"))).expect("key");
    EncodingKey::from_ec_pem(&pem).expect("ec key")
}

pub fn demo_secret() -> String {
    std::fs::read_to_string(fixtures().join("keys/demo-client-secret.TEST-ONLY.txt"))
        .expect("secret")
        .trim_end()
        .to_owned()
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

pub fn random_jti() -> String {
    let mut b = [0u8; 12];
    rand::Rng::fill(&mut rand::rng(), &mut b);
    hex::encode(b)
}

/// (verifier, S256 challenge).
pub fn pkce_pair() -> (String, String) {
    let verifier = format!("{}{}", random_jti(), random_jti()) + "-verifier.~_";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub fn sign(client: &str, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::ES256), claims, &client_key(client)).expect("sign")
}

/// Client-assertion claims for `client` with audience `aud`.
pub fn assertion_claims(client: &str, aud: &str) -> Value {
    let n = now();
    json!({"iss": client, "sub": client, "aud": aud, "iat": n, "exp": n + 60,
           "jti": random_jti()})
}

/// A fresh, valid client assertion for the token endpoint.
pub fn assertion(client: &str) -> String {
    sign(
        client,
        &assertion_claims(client, &format!("{ISSUER}/token")),
    )
}

pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

pub fn scope(version: SpecVersion, verify: bool, share: bool, openid: bool) -> String {
    let mut parts = vec![];
    if openid {
        parts.push("openid");
    }
    parts.push(PURPOSE);
    if verify {
        parts.push(version.scope_verify());
    }
    if share {
        parts.push(version.scope_share());
    }
    parts.join(" ")
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// Query parameters of the Location header (empty when there is none).
    pub fn location_params(&self) -> HashMap<String, String> {
        self.header("location")
            .map(|loc| {
                url::Url::parse(loc)
                    .expect("absolute Location")
                    .query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }
    pub fn ok(&self) -> &Self {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text());
        self
    }
}

/// Asserts a CAMARA ErrorInfo response with `status`/`code`.
pub fn assert_error_info(r: &Resp, status: u16, code: &str) {
    assert_error_info_for("", r, status, code);
}

/// [`assert_error_info`], naming `case` (one row of a table of cases) in failure messages.
pub fn assert_error_info_for(case: &str, r: &Resp, status: u16, code: &str) {
    let at = prefix(case);
    assert_eq!(r.status.as_u16(), status, "{at}{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"), "{at}");
    let b = r.json();
    assert_eq!(b["status"], status, "{at}{b}");
    assert_eq!(b["code"], code, "{at}{b}");
    assert!(
        b["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{at}{b}"
    );
    assert!(
        r.header("x-correlator").is_some(),
        "{at}x-correlator missing"
    );
}

/// Asserts an RFC 6749 JSON error.
pub fn assert_oauth_error(r: &Resp, status: u16, error: &str) {
    assert_oauth_error_for("", r, status, error);
}

/// [`assert_oauth_error`], naming `case` (one row of a table of cases) in failure messages.
pub fn assert_oauth_error_for(case: &str, r: &Resp, status: u16, error: &str) {
    let at = prefix(case);
    assert_eq!(r.status.as_u16(), status, "{at}{}", r.text());
    let b = r.json();
    assert_eq!(b["error"], error, "{at}{b}");
    assert!(b["error_description"].is_string(), "{at}{b}");
}

/// `"case: "`, or nothing for no case.
fn prefix(case: &str) -> String {
    if case.is_empty() {
        String::new()
    } else {
        format!("{case}: ")
    }
}

/// One provider instance in process.
#[derive(Clone)]
pub struct P {
    pub app: Router,
    pub state: AppState,
}

impl P {
    pub fn with_config(config: ProviderConfig) -> Self {
        let state = AppState::new(config, url::Url::parse(ISSUER).expect("url")).expect("state");
        Self {
            app: router(state.clone()),
            state,
        }
    }

    /// The embedded config with `version` and `faults`.
    pub fn new(version: SpecVersion, faults: &[Fault]) -> Self {
        Self::with_config(
            ProviderConfig::embedded()
                .with_spec_version(version)
                .with_faults(faults.iter().copied()),
        )
    }

    /// 2.1.0 with `faults`.
    pub fn faulty(faults: &[Fault]) -> Self {
        Self::new(SpecVersion::V2_1_0, faults)
    }

    pub fn conformant() -> Self {
        Self::faulty(&[])
    }

    pub fn version(&self) -> SpecVersion {
        self.state.spec_version()
    }

    pub fn api_path(&self, op: &str) -> String {
        format!("{}{op}", self.state.config().api_base_path)
    }

    pub async fn call(&self, req: Request<Body>) -> Resp {
        let resp = self.app.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut b = Request::get(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.call(b.body(Body::empty()).expect("req")).await
    }

    /// POST a form to `path` (with optional Basic credentials and extra headers).
    pub async fn form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut b =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some((id, secret)) = basic {
            b = b.header(
                header::AUTHORIZATION,
                format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
            );
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.call(b.body(Body::from(query(form))).expect("req"))
            .await
    }

    // --- authorization endpoint -------------------------------------------------------------

    /// Standard authorization parameters for `client` (registered redirect URI, nonce, state).
    pub fn params<'a>(
        &self,
        client: &'a str,
        scope: &'a str,
        state: &'a str,
    ) -> Vec<(&'a str, &'a str)> {
        let redirect = if client == OTHER {
            OTHER_REDIRECT
        } else {
            REDIRECT
        };
        vec![
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", redirect),
            ("scope", scope),
            ("state", state),
            ("nonce", "n-0S6_WzA2Mj"),
            ("prompt", "none"),
        ]
    }

    pub async fn authorize(&self, pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> Resp {
        self.get(&format!("/authorize?{}", query(pairs)), headers)
            .await
    }

    /// `authorize` as line `msisdn` (enrichment header).
    pub async fn authorize_as(&self, pairs: &[(&str, &str)], msisdn: &str) -> Resp {
        self.authorize(pairs, &[(ENRICH, msisdn)]).await
    }

    /// A code for `client` and `scope`, authenticated as `msisdn` by the network.
    pub async fn code(&self, client: &str, scope: &str, msisdn: &str) -> String {
        let r = self
            .authorize_as(&self.params(client, scope, "st"), msisdn)
            .await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.text());
        let p = r.location_params();
        p.get("code")
            .unwrap_or_else(|| panic!("no code: {p:?}"))
            .clone()
    }

    /// [`P::code`], stricter: the redirect must carry no `error` either.
    pub async fn code_for(&self, client: &str, scope: &str, msisdn: &str) -> String {
        let r = self
            .authorize_as(&self.params(client, scope, "st"), msisdn)
            .await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.text());
        let p = r.location_params();
        assert!(!p.contains_key("error"), "{p:?}");
        p["code"].clone()
    }

    // --- token endpoint ---------------------------------------------------------------------

    /// Redeems `code` for `client` with a fresh private_key_jwt assertion plus `extra`.
    pub async fn redeem(&self, client: &str, code: &str, extra: &[(&str, &str)]) -> Resp {
        let a = assertion(client);
        let redirect = if client == OTHER {
            OTHER_REDIRECT
        } else {
            REDIRECT
        };
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("client_assertion_type", JWT_BEARER_ASSERTION),
            ("client_assertion", a.as_str()),
        ];
        // Later pairs replace earlier ones of the same name.
        for (k, v) in extra {
            form.retain(|(n, _)| n != k);
            form.push((k, v));
        }
        self.form("/token", &form, None, &[]).await
    }

    /// A token response (JSON) for `client`/`scope`/`msisdn` via the auth-code flow.
    pub async fn tokens(&self, client: &str, scope: &str, msisdn: &str) -> Value {
        let code = self.code(client, scope, msisdn).await;
        let r = self.redeem(client, &code, &[]).await;
        r.ok();
        r.json()
    }

    /// An access token for the demo client with both NV scopes of the version, for `msisdn`.
    pub async fn access_token(&self, msisdn: &str) -> String {
        let sc = scope(self.version(), true, true, true);
        self.tokens(DEMO, &sc, msisdn).await["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// An access token for `client`/`scope`/`msisdn` (the code obtained with [`P::code_for`]).
    pub async fn access_token_for(&self, client: &str, scope: &str, msisdn: &str) -> String {
        let code = self.code_for(client, scope, msisdn).await;
        let r = self.redeem(client, &code, &[]).await;
        r.ok();
        r.json()["access_token"].as_str().expect("token").to_owned()
    }

    // --- operator-token flows ---------------------------------------------------------------

    /// A TS.43 operator token for `msisdn`.
    pub async fn operator_token(&self, msisdn: &str) -> String {
        let r = self.get("/ts43/operator-token", &[(ENRICH, msisdn)]).await;
        r.ok();
        r.json()["operator_token"]
            .as_str()
            .expect("operator_token")
            .to_owned()
    }

    /// POST /bc-authorize for `client` (private_key_jwt, aud = backchannel endpoint).
    pub async fn bc_authorize(&self, client: &str, form: &[(&str, &str)]) -> Resp {
        let a = sign(
            client,
            &assertion_claims(client, &format!("{ISSUER}/bc-authorize")),
        );
        let mut f = vec![
            ("client_assertion_type", JWT_BEARER_ASSERTION),
            ("client_assertion", a.as_str()),
        ];
        f.extend_from_slice(form);
        self.form("/bc-authorize", &f, None, &[]).await
    }

    /// A CIBA request for `login_hint` with the version's verify+share scopes; the auth_req_id.
    pub async fn ciba_request(&self, client: &str, login_hint: &str) -> String {
        let sc = scope(self.version(), true, true, true);
        let r = self
            .bc_authorize(client, &[("scope", &sc), ("login_hint", login_hint)])
            .await;
        r.ok();
        r.json()["auth_req_id"]
            .as_str()
            .expect("auth_req_id")
            .to_owned()
    }

    /// One CIBA token poll by `client`.
    pub async fn ciba_poll(&self, client: &str, auth_req_id: &str) -> Resp {
        let a = assertion(client);
        self.form(
            "/token",
            &[
                ("grant_type", GRANT_CIBA),
                ("auth_req_id", auth_req_id),
                ("client_assertion_type", JWT_BEARER_ASSERTION),
                ("client_assertion", &a),
            ],
            None,
            &[],
        )
        .await
    }

    /// One CIBA token poll by `client` once the embedded `interval` (1 s) has passed since the
    /// request: the reference provider answers a poll at once `slow_down`.
    pub async fn ciba_poll_on_time(&self, client: &str, auth_req_id: &str) -> Resp {
        tokio::time::sleep(CIBA_INTERVAL_PASSED).await;
        self.ciba_poll(client, auth_req_id).await
    }

    /// JWT-bearer claims for the demo client: `sub`, the version's verify+share scope.
    pub fn jwt_bearer_claims(&self, sub: &str) -> Value {
        let n = now();
        json!({"iss": DEMO, "sub": sub, "aud": format!("{ISSUER}/token"), "iat": n,
               "exp": n + 60, "jti": random_jti(),
               "scope": scope(self.version(), true, true, false)})
    }

    /// POST /token with the JWT-bearer grant and `assertion`, plus `extra` form pairs.
    pub async fn jwt_bearer(&self, assertion: &str, extra: &[(&str, &str)]) -> Resp {
        let mut f = vec![("grant_type", GRANT_JWT_BEARER), ("assertion", assertion)];
        f.extend_from_slice(extra);
        self.form("/token", &f, None, &[]).await
    }

    // --- NV API -----------------------------------------------------------------------------

    pub async fn api(
        &self,
        method: Method,
        op: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(self.api_path(op));
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let body = body.map_or_else(Body::empty, |s| Body::from(s.to_owned()));
        self.call(b.body(body).expect("req")).await
    }

    /// POST /verify with a JSON body.
    pub async fn verify(&self, token: &str, body: &Value) -> Resp {
        self.api(
            Method::POST,
            "/verify",
            Some(token),
            &[("content-type", "application/json")],
            Some(&body.to_string()),
        )
        .await
    }

    /// POST /verify with a raw body and extra headers (content-type is application/json).
    pub async fn verify_raw(&self, token: &str, body: &str, headers: &[(&str, &str)]) -> Resp {
        let mut h = vec![("content-type", "application/json")];
        h.extend_from_slice(headers);
        self.api(Method::POST, "/verify", Some(token), &h, Some(body))
            .await
    }

    pub async fn share(&self, token: &str) -> Resp {
        self.api(Method::GET, "/device-phone-number", Some(token), &[], None)
            .await
    }
}

/// `devicePhoneNumberVerified` of a 200 verify answer.
pub fn verified(r: &Resp) -> bool {
    r.ok();
    r.json()["devicePhoneNumberVerified"]
        .as_bool()
        .expect("devicePhoneNumberVerified")
}

/// The claims of a JWT, unverified.
pub fn claims(jwt: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(jwt)
        .expect("JWT")
        .claims
}
