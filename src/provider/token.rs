//! The token endpoint (`POST /token`): client authentication and the authorization-code grant.
//!
//! Owns client authentication (`private_key_jwt` per RFC 7523 / CAMARA ICM, `client_secret_basic`
//! per RFC 6749 §2.3.1), code redemption (single use, client and redirect-URI binding, PKCE S256)
//! and minting the ID token (ES256) and the access token (HS256, per-instance key). It never issues
//! refresh tokens (NV: refresh tokens MUST NOT be issued for NV scopes) and never puts the phone
//! number into a token.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;

use super::client_jwt;
use super::config::AuthMethod;
use super::error::OAuthError;
use super::extract::{Params, content_type_is, ct_eq, now_unix, parse_params, random_b64url, s256};
use super::state::{AppState, Client, CodeLookup, JtiError};

/// RFC 7523 §2.2 client assertion type.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Routes: `POST /token`.
pub fn router() -> Router<AppState> {
    Router::new().route("/token", post(token))
}

/// Claims of the access tokens this provider issues (and the NV API accepts).
#[derive(Debug, Serialize, serde::Deserialize)]
pub(crate) struct AccessClaims {
    pub iss: String,
    /// Pairwise subject; the provider maps it to the line server-side.
    pub sub: String,
    pub client_id: String,
    pub scope: String,
    pub amr: Vec<String>,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
}

#[derive(Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
    iat: u64,
    auth_time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    amr: &'a [&'a str],
    azp: &'a str,
}

async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match exchange(&state, &headers, &body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// Which client authentication the request attempted.
enum Attempt<'a> {
    Basic(&'a str),
    Assertion,
}

fn exchange(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, OAuthError> {
    let s = &state.0;
    // RFC 6749 §4.1.3: the request is application/x-www-form-urlencoded.
    if !content_type_is(headers, "application/x-www-form-urlencoded") {
        return Err(OAuthError::bad_request(
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let p = parse_params(body).map_err(|d| {
        OAuthError::bad_request("invalid_request", format!("parameter {d} is repeated"))
    })?;

    // Client authentication: exactly one method (RFC 6749 §2.3: a client MUST NOT use more than one).
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(v) => {
            let v = v.to_str().unwrap_or("");
            match v.split_once(' ') {
                Some((scheme, cred)) if scheme.eq_ignore_ascii_case("basic") => Some(cred.trim()),
                _ => {
                    return Err(OAuthError::invalid_client(
                        "unsupported Authorization scheme at the token endpoint",
                        false,
                    ));
                }
            }
        }
    };
    let has_assertion =
        p.contains_key("client_assertion") || p.contains_key("client_assertion_type");
    let has_post_secret = p.contains_key("client_secret");
    let attempt = match (basic, has_assertion, has_post_secret) {
        (Some(b), false, false) => Attempt::Basic(b),
        (None, true, false) => Attempt::Assertion,
        (None, false, true) => {
            return Err(OAuthError::invalid_client(
                "client_secret_post is not supported",
                false,
            ));
        }
        (None, false, false) => {
            return Err(OAuthError::invalid_client(
                "no client authentication",
                false,
            ));
        }
        _ => {
            return Err(OAuthError::bad_request(
                "invalid_request",
                "more than one client authentication method used",
            ));
        }
    };
    let client = match attempt {
        Attempt::Basic(cred) => authenticate_basic(state, cred, &p)?,
        Attempt::Assertion => authenticate_assertion(state, &p)?,
    };

    // Grant type.
    match p.get("grant_type").map(String::as_str) {
        None => {
            return Err(OAuthError::bad_request(
                "invalid_request",
                "grant_type is missing",
            ));
        }
        Some("authorization_code") => {}
        Some(_) => {
            return Err(OAuthError::bad_request(
                "unsupported_grant_type",
                "only grant_type=authorization_code is supported",
            ));
        }
    }
    let Some(code) = p.get("code") else {
        return Err(OAuthError::bad_request(
            "invalid_request",
            "code is missing",
        ));
    };
    let Some(redirect_uri) = p.get("redirect_uri") else {
        // RFC 6749 §4.1.3: required because it was included in the authorization request.
        return Err(OAuthError::bad_request(
            "invalid_request",
            "redirect_uri is missing",
        ));
    };

    // The first presentation consumes the code (RFC 6749 §4.1.2: single use).
    let grant = match s.take_code(code) {
        CodeLookup::Found(g) => g,
        CodeLookup::Unknown => {
            return Err(OAuthError::invalid_grant("authorization code is invalid"));
        }
        CodeLookup::Expired => {
            return Err(OAuthError::invalid_grant("authorization code has expired"));
        }
        CodeLookup::AlreadyUsed => {
            return Err(OAuthError::invalid_grant(
                "authorization code was already used",
            ));
        }
    };
    if grant.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(
            "authorization code was issued to another client",
        ));
    }
    if &grant.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    match (&grant.code_challenge, p.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            // RFC 7636 §4.1: 43..128 unreserved characters.
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            if !well_formed || !ct_eq(s256(verifier).as_bytes(), challenge.as_bytes()) {
                return Err(OAuthError::invalid_grant(
                    "PKCE code_verifier does not match",
                ));
            }
        }
        (Some(_), None) => return Err(OAuthError::invalid_grant("PKCE code_verifier is missing")),
        // Downgrade protection (OAuth 2.1 §4.1.3): no verifier without a challenge.
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier sent but no code_challenge was in the authorization request",
            ));
        }
        (None, None) => {}
    }

    // Mint tokens.
    let now = now_unix();
    let ttl = client.access_token_ttl;
    let sub = s.pairwise_sub(&client.client_id, &grant.msisdn);
    s.register_subject(&sub, &grant.msisdn, now + ttl)
        .map_err(|_| OAuthError::unavailable("too many active subjects"))?;
    let scope = grant.scope.to_scope_string();
    let amr = grant.authn.amr();
    let access = AccessClaims {
        iss: s.issuer.clone(),
        sub: sub.clone(),
        client_id: client.client_id.clone(),
        scope: scope.clone(),
        amr: amr.iter().map(|a| (*a).to_owned()).collect(),
        iat: now,
        exp: now + ttl,
        jti: random_b64url(16),
    };
    let mut at_header = Header::new(Algorithm::HS256);
    // RFC 9068 §2.1 media type of JWT access tokens.
    at_header.typ = Some("at+jwt".to_owned());
    let access_token = jsonwebtoken::encode(&at_header, &access, &s.at_encoding)
        .map_err(|_| OAuthError::unavailable("cannot sign access token"))?;

    let mut body = serde_json::json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": scope,
    });
    if grant.scope.openid {
        let claims = IdClaims {
            iss: &s.issuer,
            sub: &sub,
            aud: &client.client_id,
            exp: now + s.config.id_token_ttl_seconds,
            iat: now,
            auth_time: grant.auth_time,
            nonce: grant.nonce.as_deref(),
            amr,
            azp: &client.client_id,
        };
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some(s.kid.clone());
        let id_token = jsonwebtoken::encode(&h, &claims, &s.signing_key)
            .map_err(|_| OAuthError::unavailable("cannot sign ID token"))?;
        body["id_token"] = serde_json::Value::String(id_token);
    }
    let mut resp = body.to_string().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // RFC 6749 §5.1: no caching of token responses.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(resp)
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(client_id) ":" urlencode(secret))`.
fn authenticate_basic<'s>(
    state: &'s AppState,
    cred: &str,
    p: &Params,
) -> Result<&'s Client, OAuthError> {
    let fail = |d: &'static str| OAuthError::invalid_client(d, true);
    let decoded = STANDARD
        .decode(cred)
        .map_err(|_| fail("malformed Basic credentials"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| fail("malformed Basic credentials"))?;
    let (id_enc, secret_enc) = decoded
        .split_once(':')
        .ok_or_else(|| fail("malformed Basic credentials"))?;
    let unescape = |v: &str| -> String {
        url::form_urlencoded::parse(format!("x={v}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let client_id = unescape(id_enc);
    let secret = unescape(secret_enc);
    let client = state
        .0
        .clients
        .get(&client_id)
        .ok_or_else(|| fail("unknown client"))?;
    if p.get("client_id").is_some_and(|c| *c != client_id) {
        return Err(fail(
            "client_id parameter differs from the authenticated client",
        ));
    }
    if !client.auth_methods.contains(&AuthMethod::ClientSecretBasic) {
        return Err(fail(
            "client_secret_basic is not registered for this client",
        ));
    }
    let expected = client.secret.as_ref().map(|s| s.expose()).unwrap_or("");
    if expected.is_empty() || !ct_eq(secret.as_bytes(), expected.as_bytes()) {
        return Err(fail("client authentication failed"));
    }
    Ok(client)
}

/// RFC 7523 §3 / CAMARA ICM `private_key_jwt`.
fn authenticate_assertion<'s>(state: &'s AppState, p: &Params) -> Result<&'s Client, OAuthError> {
    let s = &state.0;
    let fail = |d: String| OAuthError::invalid_client(d, false);
    match p.get("client_assertion_type").map(String::as_str) {
        Some(JWT_BEARER_ASSERTION) => {}
        Some(_) => return Err(fail("unsupported client_assertion_type".into())),
        None => {
            return Err(OAuthError::bad_request(
                "invalid_request",
                "client_assertion_type is missing",
            ));
        }
    }
    let Some(assertion) = p.get("client_assertion") else {
        return Err(OAuthError::bad_request(
            "invalid_request",
            "client_assertion is missing",
        ));
    };
    // The client is named by the assertion's iss (checked against the signature below) or by
    // client_id; read iss unverified only to find the key.
    let unverified_iss = jsonwebtoken::dangerous::insecure_decode::<
        serde_json::Map<String, serde_json::Value>,
    >(assertion)
    .ok()
    .and_then(|d| {
        d.claims
            .get("iss")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    });
    let client_id = match (p.get("client_id"), unverified_iss) {
        (Some(c), Some(i)) if *c != i => {
            return Err(fail(
                "client_id parameter differs from the assertion issuer".into(),
            ));
        }
        (Some(c), _) => c.clone(),
        (None, Some(i)) => i,
        (None, None) => return Err(fail("client assertion has no iss".into())),
    };
    let client = s
        .clients
        .get(&client_id)
        .ok_or_else(|| fail("unknown client".into()))?;
    if !client.auth_methods.contains(&AuthMethod::PrivateKeyJwt) {
        return Err(fail(
            "private_key_jwt is not registered for this client".into(),
        ));
    }
    let Some(key) = &client.key else {
        return Err(fail("client has no registered key".into()));
    };
    // aud: the token endpoint URL (ICM SHOULD) or the issuer (RFC 7523 §3 allows either).
    let audiences = [s.token_endpoint.as_str(), s.issuer.as_str()];
    let checked = client_jwt::verify(
        assertion,
        key,
        &client.client_id,
        &audiences,
        true,
        false,
        true,
    )
    .map_err(|e| fail(format!("client assertion rejected: {}", e.0)))?;
    let jti = checked.jti.unwrap_or_default();
    match s.record_jti(&client.client_id, &jti, checked.exp) {
        Ok(()) => Ok(client),
        Err(JtiError::Replayed) => Err(fail("client assertion jti was already used".into())),
        Err(JtiError::Full) => Err(OAuthError::unavailable("too many recent client assertions")),
    }
}
