//! Client authentication at the token endpoint and the CIBA backchannel authentication endpoint:
//! `private_key_jwt` (RFC 7523 §2.2/§3, CAMARA ICM) and `client_secret_basic` (RFC 6749 §2.3.1)
//! for clients that register it.
//!
//! Owns "which client is this, and did it prove it" — exactly one method per request, the
//! assertion's audience/lifetime/replay rules, the Basic credential format — and the fault switches
//! that weaken those rules. It must not look at the grant: the endpoint modules do that.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::client_jwt;
use super::config::AuthMethod;
use super::error::OAuthError;
use super::extract::{Params, ct_eq};
use super::fault::Fault;
use super::state::{AppState, Client, JtiError};

/// RFC 7523 §2.2 client assertion type.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// True when the request carries any client credentials (Basic header, client assertion or
/// `client_secret`).
pub(crate) fn has_credentials(headers: &HeaderMap, p: &Params) -> bool {
    headers.contains_key(header::AUTHORIZATION)
        || p.contains_key("client_assertion")
        || p.contains_key("client_assertion_type")
        || p.contains_key("client_secret")
}

/// Which client authentication the request attempted.
enum Attempt<'a> {
    Basic(&'a str),
    Assertion,
}

/// Authenticates the client of a token or backchannel request. `audiences` are the accepted
/// `aud` values of a client assertion (the endpoint URL first, then the issuer).
pub(crate) fn authenticate<'s>(
    state: &'s AppState,
    headers: &HeaderMap,
    p: &Params,
    audiences: &[&str],
) -> Result<&'s Client, OAuthError> {
    // Exactly one method (RFC 6749 §2.3: a client MUST NOT use more than one).
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(v) => {
            let v = v.to_str().unwrap_or("");
            match v.split_once(' ') {
                Some((scheme, cred)) if scheme.eq_ignore_ascii_case("basic") => Some(cred.trim()),
                _ => {
                    return Err(OAuthError::invalid_client(
                        "unsupported Authorization scheme at this endpoint",
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
    match attempt {
        Attempt::Basic(cred) => authenticate_basic(state, cred, p),
        Attempt::Assertion => authenticate_assertion(state, p, audiences),
    }
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
    if !client.auth_methods.contains(&AuthMethod::ClientSecretBasic)
        && !state.0.faults.has(Fault::ClientSecretAccepted)
    {
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
fn authenticate_assertion<'s>(
    state: &'s AppState,
    p: &Params,
    audiences: &[&str],
) -> Result<&'s Client, OAuthError> {
    let provider = &state.0;
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
    let unverified_iss = unverified_iss(assertion);
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
    let client = provider
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
    let faults = provider.faults;
    let rules = client_jwt::Rules {
        require_sub: true,
        require_jti: true,
        check_aud: !faults.has(Fault::AssertionAudienceNotChecked),
        check_expiry: !faults.has(Fault::AssertionExpiryNotChecked),
        check_lifetime: !faults.has(Fault::AssertionLifetimeNotChecked),
        ..client_jwt::Rules::new(audiences)
    };
    let checked = client_jwt::verify(assertion, key, &client.client_id, &rules)
        .map_err(|e| fail(format!("client assertion rejected: {}", e.0)))?;
    if faults.has(Fault::AssertionJtiReplayAccepted) {
        return Ok(client);
    }
    let jti = checked.jti.unwrap_or_default();
    match provider
        .stores
        .record_jti(&client.client_id, &jti, checked.exp)
    {
        Ok(()) => Ok(client),
        Err(JtiError::Replayed) => Err(fail("client assertion jti was already used".into())),
        Err(JtiError::Full) => Err(OAuthError::unavailable("too many recent client assertions")),
    }
}

/// The `iss` claim of a JWT, read without verification (only to find the key that verifies it).
pub(crate) fn unverified_iss(jwt: &str) -> Option<String> {
    jsonwebtoken::dangerous::insecure_decode::<serde_json::Map<String, serde_json::Value>>(jwt)
        .ok()
        .and_then(|d| {
            d.claims
                .get("iss")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
}
