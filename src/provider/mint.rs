//! Minting tokens for every grant: the access token (HS256, per-instance key; an aggregator's
//! is the upstream's opaque reference instead), the ID token (ES256), and the token response
//! (RFC 6749 §5.1) that carries them.
//!
//! Shared by the authorization-code grant (`token`) and the CIBA and JWT-bearer grants
//! (`operator`), which decide *whether* to issue; this module decides *what* is issued. It
//! registers the pairwise subject the NV API resolves its JWT access token with, never puts the
//! phone number into a token, and issues a refresh token only when a fault asks for one.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;

use super::error::OAuthError;
use super::extract::{now_unix, now_unix_f64, random_b64url};
use super::fault::Fault;
use super::state::{AppState, AuthnMethod, Client, GrantedScope};

/// `expires_in` under the `long-token-lifetime` fault.
const LONG_TTL: u64 = 3600;

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
    /// Aggregator only: the operator grant the access token stands for. The access token is
    /// then the aggregator's reference token (see `aggregator`), not a JWT.
    pub upstream: Option<&'a super::aggregator::UpstreamGrant>,
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
    /// Seconds since the epoch, to the millisecond.
    pub exp: f64,
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

/// The successful token response (RFC 6749 §5.1) for `grant`.
pub(crate) fn token_response(state: &AppState, grant: &Grant<'_>) -> Result<Response, OAuthError> {
    let provider = &state.0;
    let faults = provider.faults;
    let now_f = now_unix_f64();
    let now = now_unix();
    let mut ttl = if faults.has(Fault::LongTokenLifetime) {
        LONG_TTL
    } else {
        grant.client.access_token_ttl
    };
    let sub = provider
        .keys
        .pairwise_sub(&grant.client.client_id, grant.msisdn);
    let scope = grant.scope.to_scope_string(provider.version);
    let amr = grant.authn.amr();
    let access_token = match (grant.upstream, &provider.upstream) {
        (Some(upstream_grant), Some(upstream)) => {
            // The aggregator token cannot outlive the operator token it stands for.
            ttl = ttl.min(upstream_grant.remaining_secs());
            if ttl == 0 {
                return Err(OAuthError::invalid_grant(
                    "the operator's access token behind this code has expired",
                ));
            }
            upstream
                .issue_token(upstream_grant, &grant.client.client_id, &scope, ttl)
                .map_err(|_| OAuthError::unavailable("too many active aggregator tokens"))?
        }
        _ => {
            // To the millisecond (a NumericDate may be non-integer, RFC 7519 §2), and compared
            // as precisely by the API: a token lives `expires_in` seconds, not ± 0.5 s, so a
            // client waiting for `exp` to pass waits no longer than the lifetime it was told.
            let exp = ((now_f + ttl as f64) * 1000.0).round() / 1000.0;
            provider
                .stores
                .register_subject(&sub, grant.msisdn, exp.ceil() as u64)
                .map_err(|_| OAuthError::unavailable("too many active subjects"))?;
            let access = AccessClaims {
                iss: provider.endpoints.issuer.clone(),
                sub: sub.clone(),
                client_id: grant.client.client_id.clone(),
                scope: scope.clone(),
                amr: amr.iter().map(|a| (*a).to_owned()).collect(),
                iat: now,
                exp,
                jti: random_b64url(16),
            };
            let mut access_header = Header::new(Algorithm::HS256);
            // RFC 9068 §2.1 media type of JWT access tokens.
            access_header.typ = Some("at+jwt".to_owned());
            jsonwebtoken::encode(
                &access_header,
                &access,
                &provider.keys.access_token_encoding,
            )
            .map_err(|_| OAuthError::unavailable("cannot sign access token"))?
        }
    };

    let token_type = if faults.has(Fault::TokenTypeNotBearer) {
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
    if grant.refresh_token {
        body["refresh_token"] = serde_json::Value::String(random_b64url(32));
    }
    if grant.id_token {
        let aud = if faults.has(Fault::IdTokenWrongAudience) {
            "https://wrong-audience.nvcert.invalid"
        } else {
            grant.client.client_id.as_str()
        };
        let claims = IdClaims {
            iss: &provider.endpoints.issuer,
            sub: &sub,
            aud,
            exp: now + provider.config.id_token_ttl_seconds,
            iat: now,
            auth_time: grant.auth_time,
            nonce: grant
                .nonce
                .filter(|_| !faults.has(Fault::IdTokenNonceMissing)),
            amr,
            azp: &grant.client.client_id,
        };
        let mut id_header = Header::new(Algorithm::ES256);
        id_header.kid = Some(provider.keys.kid.clone());
        let key = if faults.has(Fault::IdTokenBadSignature) {
            &provider.keys.foreign_signing_key
        } else {
            &provider.keys.signing_key
        };
        let id_token = jsonwebtoken::encode(&id_header, &claims, key)
            .map_err(|_| OAuthError::unavailable("cannot sign ID token"))?;
        body["id_token"] = serde_json::Value::String(id_token);
    }
    let mut resp = json_no_store(&body, !faults.has(Fault::TokenCacheable));
    if faults.has(Fault::TokenContentTypeHtml) {
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    }
    Ok(resp)
}

/// A 200 JSON response; `no_store` adds `Cache-Control: no-store` and `Pragma: no-cache`
/// (RFC 6749 §5.1). Also the form of the other issuing answers (operator token, `auth_req_id`).
pub(crate) fn json_no_store(body: &serde_json::Value, no_store: bool) -> Response {
    let mut resp = body.to_string().into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if no_store {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    resp
}
