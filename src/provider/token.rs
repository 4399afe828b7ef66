//! The token endpoint (`POST /token`): grant dispatch, the authorization-code grant, and minting
//! tokens for every grant.
//!
//! Owns code redemption (single use, client and redirect-URI binding, PKCE S256) and minting the
//! ID token (ES256) and the access token (HS256, per-instance key). Client authentication is
//! `client_auth`; the CIBA poll and JWT-bearer grants are `operator`. It never issues refresh
//! tokens (NV: refresh tokens MUST NOT be issued for NV scopes) unless a fault says so, and never
//! puts the phone number into a token.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;

use super::client_auth;
use super::error::OAuthError;
use super::extract::{
    content_type_is, ct_eq, now_unix, now_unix_f64, parse_params, random_b64url, s256,
};
use super::fault::Fault;
use super::operator;
use super::state::{AppState, AuthnMethod, Client, CodeLookup, GrantedScope};

pub use super::client_auth::JWT_BEARER_ASSERTION;

/// CIBA Core §10.1 grant type (token polls).
pub const GRANT_CIBA: &str = "urn:openid:params:grant-type:ciba";
/// RFC 7523 §2.1 grant type (JWT bearer with the operator token in `sub`).
pub const GRANT_JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// `expires_in` under the `long-token-lifetime` fault.
const LONG_TTL: u64 = 3600;

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
    // ICM: an AS that does not support DPoP MUST NOT fail a request carrying a proof.
    if s.faults.has(Fault::DpopRejected) && headers.contains_key("dpop") {
        return Err(OAuthError::bad_request(
            "invalid_dpop_proof",
            "DPoP proofs are not accepted",
        ));
    }
    let grant_type = p.get("grant_type").map(String::as_str);
    let unsupported = || {
        OAuthError::bad_request(
            "unsupported_grant_type",
            format!(
                "grant_type must be one of: {}",
                supported_grant_types(state).join(", ")
            ),
        )
    };
    match grant_type {
        Some(GRANT_CIBA) if !s.version.supports_ciba() => return Err(unsupported()),
        Some(GRANT_JWT_BEARER) if !s.version.supports_jwt_bearer() => return Err(unsupported()),
        // The assertion is the client authentication (ICM).
        Some(GRANT_JWT_BEARER) => return operator::jwt_bearer_grant(state, headers, &p),
        _ => {}
    }
    let audiences = [s.token_endpoint.as_str(), s.issuer.as_str()];
    let client = client_auth::authenticate(state, headers, &p, &audiences)?;
    match grant_type {
        None => Err(OAuthError::bad_request(
            "invalid_request",
            "grant_type is missing",
        )),
        Some("authorization_code") => code_grant(state, client, &p),
        Some(GRANT_CIBA) => operator::ciba_grant(state, client, &p),
        Some(_) => Err(unsupported()),
    }
}

/// The grant types of the served spec version (discovery and error messages).
pub(crate) fn supported_grant_types(state: &AppState) -> Vec<&'static str> {
    let v = state.0.version;
    let mut g = vec!["authorization_code"];
    if v.supports_ciba() {
        g.push(GRANT_CIBA);
    }
    if v.supports_jwt_bearer() {
        g.push(GRANT_JWT_BEARER);
    }
    g
}

fn code_grant(
    state: &AppState,
    client: &Client,
    p: &super::extract::Params,
) -> Result<Response, OAuthError> {
    let s = &state.0;
    let f = s.faults;
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
    if grant.client_id != client.client_id && !f.has(Fault::CodeNotBoundToClient) {
        return Err(OAuthError::invalid_grant(
            "authorization code was issued to another client",
        ));
    }
    if &grant.redirect_uri != redirect_uri && !f.has(Fault::RedirectUriMismatchAccepted) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    if !f.has(Fault::PkceNotChecked) {
        check_pkce(
            grant.code_challenge.as_deref(),
            grant.pkce_plain,
            p.get("code_verifier").map(String::as_str),
        )?;
    }
    mint(
        state,
        &Grant {
            client,
            msisdn: &grant.msisdn,
            scope: &grant.scope,
            authn: grant.authn,
            auth_time: grant.auth_time,
            nonce: grant.nonce.as_deref(),
            id_token: grant.scope.openid,
            refresh_token: f.has(Fault::RefreshTokenIssued),
        },
    )
}

/// RFC 7636 §4.6: the verifier must transform to the challenge.
fn check_pkce(
    challenge: Option<&str>,
    plain: bool,
    verifier: Option<&str>,
) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (Some(challenge), Some(verifier)) => {
            // RFC 7636 §4.1: 43..128 unreserved characters.
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            let transformed = if plain {
                verifier.to_owned()
            } else {
                s256(verifier)
            };
            if !well_formed || !ct_eq(transformed.as_bytes(), challenge.as_bytes()) {
                return Err(OAuthError::invalid_grant(
                    "PKCE code_verifier does not match",
                ));
            }
            Ok(())
        }
        (Some(_), None) => Err(OAuthError::invalid_grant("PKCE code_verifier is missing")),
        // Downgrade protection (OAuth 2.1 §4.1.3): no verifier without a challenge.
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier sent but no code_challenge was in the authorization request",
        )),
        (None, None) => Ok(()),
    }
}

/// What a successful grant issues tokens for.
pub(crate) struct Grant<'a> {
    pub client: &'a Client,
    pub msisdn: &'a str,
    pub scope: &'a GrantedScope,
    pub authn: AuthnMethod,
    /// Unix seconds of the (simulated) authentication.
    pub auth_time: u64,
    pub nonce: Option<&'a str>,
    /// Include an ID token (OIDC flows with `openid`).
    pub id_token: bool,
    /// Include a refresh token (fault injection only).
    pub refresh_token: bool,
}

/// The successful token response (RFC 6749 §5.1) for `g`.
pub(crate) fn mint(state: &AppState, g: &Grant<'_>) -> Result<Response, OAuthError> {
    let s = &state.0;
    let f = s.faults;
    let now_f = now_unix_f64();
    let now = now_unix();
    let ttl = if f.has(Fault::LongTokenLifetime) {
        LONG_TTL
    } else {
        g.client.access_token_ttl
    };
    // Rounded, and compared with sub-second precision by the API: a token lives ttl ± 0.5 s.
    let exp = (now_f + ttl as f64).round() as u64;
    let sub = s.pairwise_sub(&g.client.client_id, g.msisdn);
    s.register_subject(&sub, g.msisdn, exp)
        .map_err(|_| OAuthError::unavailable("too many active subjects"))?;
    let scope = g.scope.to_scope_string(s.version);
    let amr = g.authn.amr();
    let access = AccessClaims {
        iss: s.issuer.clone(),
        sub: sub.clone(),
        client_id: g.client.client_id.clone(),
        scope: scope.clone(),
        amr: amr.iter().map(|a| (*a).to_owned()).collect(),
        iat: now,
        exp,
        jti: random_b64url(16),
    };
    let mut at_header = Header::new(Algorithm::HS256);
    // RFC 9068 §2.1 media type of JWT access tokens.
    at_header.typ = Some("at+jwt".to_owned());
    let access_token = jsonwebtoken::encode(&at_header, &access, &s.at_encoding)
        .map_err(|_| OAuthError::unavailable("cannot sign access token"))?;

    let token_type = if f.has(Fault::TokenTypeNotBearer) {
        "mac"
    } else {
        "Bearer"
    };
    let mut body = serde_json::json!({
        "access_token": access_token,
        "token_type": token_type,
        "expires_in": ttl,
        "scope": scope,
    });
    if g.refresh_token {
        body["refresh_token"] = serde_json::Value::String(random_b64url(32));
    }
    if g.id_token {
        let aud = if f.has(Fault::IdTokenWrongAudience) {
            "https://wrong-audience.nvcert.invalid"
        } else {
            g.client.client_id.as_str()
        };
        let claims = IdClaims {
            iss: &s.issuer,
            sub: &sub,
            aud,
            exp: now + s.config.id_token_ttl_seconds,
            iat: now,
            auth_time: g.auth_time,
            nonce: g.nonce.filter(|_| !f.has(Fault::IdTokenNonceMissing)),
            amr,
            azp: &g.client.client_id,
        };
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some(s.kid.clone());
        let key = if f.has(Fault::IdTokenBadSignature) {
            &s.foreign_signing_key
        } else {
            &s.signing_key
        };
        let id_token = jsonwebtoken::encode(&h, &claims, key)
            .map_err(|_| OAuthError::unavailable("cannot sign ID token"))?;
        body["id_token"] = serde_json::Value::String(id_token);
    }
    Ok(json_no_store(&body, !f.has(Fault::TokenCacheable)))
}

/// A 200 JSON response; `no_store` adds `Cache-Control: no-store` and `Pragma: no-cache`
/// (RFC 6749 §5.1).
pub(crate) fn json_no_store(body: &serde_json::Value, no_store: bool) -> Response {
    let mut resp = body.to_string().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if no_store {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    resp
}
