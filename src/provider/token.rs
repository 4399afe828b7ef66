//! The token endpoint (`POST /token`): grant dispatch and the authorization-code grant.
//!
//! Owns code redemption (single use, client and redirect-URI binding, PKCE S256). Client
//! authentication is `client_auth`; the CIBA poll and JWT-bearer grants are `operator`; the
//! tokens themselves are minted by `mint`. It never asks for refresh tokens (NV: refresh tokens
//! MUST NOT be issued for NV scopes) unless a fault says so.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::client_auth;
use super::error::OAuthError;
use super::extract::{Params, content_type_is, ct_eq, parse_params, s256};
use super::fault::Fault;
use super::mint::{Grant, token_response};
use super::operator;
use super::state::{AppState, Client, CodeLookup};

pub use super::client_auth::JWT_BEARER_ASSERTION;

/// CIBA Core §10.1 grant type (token polls).
pub const GRANT_CIBA: &str = "urn:openid:params:grant-type:ciba";
/// RFC 7523 §2.1 grant type (JWT bearer with the operator token in `sub`).
pub const GRANT_JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Routes: `POST {path}` (`/token`, or a dialect's own).
pub fn router_at(path: &str) -> Router<AppState> {
    Router::new().route(path, post(token))
}

async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match exchange(&state, &headers, &body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

pub(crate) fn exchange(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, OAuthError> {
    let provider = &state.0;
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
    if provider.faults.has(Fault::DpopRejected) && headers.contains_key("dpop") {
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
        Some(GRANT_CIBA) if !provider.offers_ciba() => return Err(unsupported()),
        Some(GRANT_JWT_BEARER) if !provider.offers_jwt_bearer() => return Err(unsupported()),
        // The assertion is the client authentication (ICM).
        Some(GRANT_JWT_BEARER) => return operator::jwt_bearer_grant(state, headers, &p),
        _ => {}
    }
    let audiences = [
        provider.endpoints.token_endpoint.as_str(),
        provider.endpoints.issuer.as_str(),
    ];
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

/// The grant types offered (discovery and error messages).
pub(crate) fn supported_grant_types(state: &AppState) -> Vec<&'static str> {
    let mut grants = vec!["authorization_code"];
    if state.0.offers_ciba() {
        grants.push(GRANT_CIBA);
    }
    if state.0.offers_jwt_bearer() {
        grants.push(GRANT_JWT_BEARER);
    }
    grants
}

fn code_grant(state: &AppState, client: &Client, p: &Params) -> Result<Response, OAuthError> {
    let faults = state.0.faults;
    let Some(code) = p.get("code") else {
        return Err(OAuthError::bad_request(
            "invalid_request",
            "code is missing",
        ));
    };
    let redirect_uri = p.get("redirect_uri");
    // The aggregator's v0 mode follows the operator sample, whose token request has no
    // redirect_uri; a redirect_uri that is sent must still match.
    let redirect_uri_optional = state
        .0
        .upstream
        .as_ref()
        .is_some_and(|u| u.token_redirect_uri_optional());
    if redirect_uri.is_none() && !redirect_uri_optional {
        // RFC 6749 §4.1.3: required because it was included in the authorization request.
        return Err(OAuthError::bad_request(
            "invalid_request",
            "redirect_uri is missing",
        ));
    }

    // The first presentation consumes the code (RFC 6749 §4.1.2: single use).
    let grant = match state.0.stores.take_code(code) {
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
    if grant.request.client_id != client.client_id && !faults.has(Fault::CodeNotBoundToClient) {
        return Err(OAuthError::invalid_grant(
            "authorization code was issued to another client",
        ));
    }
    if redirect_uri.is_some_and(|r| *r != grant.request.redirect_uri)
        && !faults.has(Fault::RedirectUriMismatchAccepted)
    {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    if !faults.has(Fault::PkceNotChecked) {
        check_pkce(
            grant.request.code_challenge.as_deref(),
            grant.request.pkce_plain,
            p.get("code_verifier").map(String::as_str),
        )?;
    }
    token_response(
        state,
        &Grant {
            client,
            msisdn: &grant.msisdn,
            scope: &grant.request.scope,
            authn: grant.authn,
            auth_time: grant.auth_time,
            nonce: grant.request.nonce.as_deref(),
            id_token: grant.request.scope.openid,
            refresh_token: faults.has(Fault::RefreshTokenIssued),
            upstream: grant.upstream.as_deref(),
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
