//! Operator-token flows (NV 2.0.0+): the TEST-ONLY TS.43 entitlement simulation
//! (`GET /ts43/operator-token`), CIBA in poll mode (`POST /bc-authorize` and the token poll,
//! NV 2.0.0+), and the JWT-bearer grant (NV 2.1.0-rc.1+).
//!
//! Owns the `login_hint` / assertion `sub` grammar (`operatortoken:<t>` → SIM-based, amr `sim`;
//! `tel:+E164` → no network or SIM proof, amr `tel`), the CIBA pending/slow-down/expiry rules, and
//! the JWT-bearer assertion rules (ICM "JWT Bearer Flow"). Tokens are minted by `mint`.
//!
//! TEST-ONLY: the operator-token endpoint trusts the enrichment header exactly as `/authorize`
//! does; it stands in for the TS.43 entitlement server a real device would reach over EAP-AKA.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use super::authorize::{network_identity, parse_scope};
use super::client_auth;
use super::client_jwt;
use super::config::is_e164;
use super::error::OAuthError;
use super::extract::{Params, content_type_is, now_unix, parse_params};
use super::fault::Fault;
use super::mint::{Grant, json_no_store, token_response};
use super::state::{AppState, AuthnMethod, CibaPoll, CibaRequest, Client, JtiError};

/// Claims of a signed CIBA request that are JWT bookkeeping, not request parameters.
const JWT_ONLY_CLAIMS: &[&str] = &["iss", "aud", "exp", "iat", "nbf", "jti", "sub"];

/// Routes: `GET /ts43/operator-token` always; `POST /bc-authorize` for NV 2.0.0+.
pub fn router(state: &AppState) -> Router<AppState> {
    let r = Router::new().route("/ts43/operator-token", get(operator_token));
    if state.0.version.supports_ciba() {
        r.route("/bc-authorize", post(bc_authorize))
    } else {
        r
    }
}

fn forbidden(description: String) -> OAuthError {
    OAuthError::Json {
        status: StatusCode::FORBIDDEN,
        error: "access_denied",
        description: description.into(),
        basic_challenge: false,
    }
}

/// TS.43 simulation: a single-use operator token for the line the network identifies.
async fn operator_token(State(state): State<AppState>, parts: Parts) -> Response {
    let provider = &state.0;
    let msisdn = match network_identity(&state, &parts) {
        Ok(Some(m)) => m,
        Ok(None) => {
            return forbidden(
                "the device could not be identified by the mobile network".to_owned(),
            )
            .into_response();
        }
        Err(d) => return forbidden(d).into_response(),
    };
    let ttl = provider.config.operator_token_ttl_seconds;
    match provider
        .stores
        .issue_operator_token(&msisdn, Duration::from_secs(ttl))
    {
        Ok(token) => json_no_store(
            &serde_json::json!({"operator_token": token, "expires_in": ttl}),
            true,
        ),
        Err(_) => OAuthError::unavailable("too many outstanding operator tokens").into_response(),
    }
}

/// Resolves a CIBA `login_hint` or a JWT-bearer `sub`: `operatortoken:<t>` (consumed) or
/// `tel:+E164`. `accept_unknown` (fault) maps an unknown operator token to the first line.
fn resolve_subject(
    state: &AppState,
    hint: &str,
    accept_unknown: bool,
) -> Result<(String, AuthnMethod), String> {
    let provider = &state.0;
    if let Some(token) = hint.strip_prefix("operatortoken:") {
        return match provider.stores.take_operator_token(token) {
            Some(msisdn) => Ok((msisdn, AuthnMethod::Sim)),
            None if accept_unknown => Ok((
                provider.clients.fallback_line.msisdn.to_string(),
                AuthnMethod::Sim,
            )),
            None => Err("the operator token is unknown, expired or already used".to_owned()),
        };
    }
    if let Some(msisdn) = hint.strip_prefix("tel:") {
        return if is_e164(msisdn) {
            Ok((msisdn.to_owned(), AuthnMethod::Tel))
        } else {
            Err("a tel: subject must be tel:+<E.164 digits>".to_owned())
        };
    }
    Err("must be operatortoken:<token> or tel:+<E.164>".to_owned())
}

async fn bc_authorize(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match backchannel(&state, &headers, &body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// CIBA Core §7: the backchannel authentication request, CAMARA-profiled (login_hint only).
fn backchannel(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, OAuthError> {
    let provider = &state.0;
    let bad = |e: &'static str, d: String| OAuthError::bad_request(e, d);
    if !content_type_is(headers, "application/x-www-form-urlencoded") {
        return Err(bad(
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded".into(),
        ));
    }
    let mut p = parse_params(body)
        .map_err(|d| bad("invalid_request", format!("parameter {d} is repeated")))?;
    // CIBA Core §7.1: the OP's issuer is the recommended aud; the endpoint URL is accepted too.
    let endpoints = &provider.endpoints;
    let audiences = [
        endpoints.backchannel_endpoint.as_str(),
        endpoints.issuer.as_str(),
        endpoints.token_endpoint.as_str(),
    ];
    let client = client_auth::authenticate(state, headers, &p, &audiences)?;
    if let Some(jwt) = p.get("request").cloned() {
        merge_signed_request(state, client, &jwt, &mut p)
            .map_err(|e| bad("invalid_request_object", e))?;
    }
    // ICM: "The client SHALL specify login_hint (and only login_hint)".
    if p.contains_key("login_hint_token") || p.contains_key("id_token_hint") {
        return Err(bad(
            "invalid_request",
            "only login_hint may identify the user (no login_hint_token, id_token_hint)".into(),
        ));
    }
    let scope = parse_scope(p.get("scope").map(String::as_str), None, provider.version)
        .map_err(|e| bad("invalid_scope", e))?;
    if !scope.openid {
        return Err(bad(
            "invalid_scope",
            "a CIBA request must include the openid scope".into(),
        ));
    }
    let Some(hint) = p.get("login_hint") else {
        return Err(bad("invalid_request", "login_hint is required".into()));
    };
    let (msisdn, authn) = resolve_subject(
        state,
        hint,
        provider.faults.has(Fault::CibaUnknownLoginHintAccepted),
    )
    .map_err(|d| bad("unknown_user_id", format!("login_hint {d}")))?;
    let cfg = &provider.config;
    let req = CibaRequest {
        client_id: client.client_id.clone(),
        scope,
        msisdn,
        authn,
        auth_time: now_unix(),
    };
    let id = provider
        .stores
        .issue_ciba(
            req,
            Duration::from_secs(cfg.ciba_request_ttl_seconds),
            cfg.ciba_pending_polls,
        )
        .map_err(|_| OAuthError::unavailable("too many outstanding CIBA requests"))?;
    Ok(json_no_store(
        &serde_json::json!({
            "auth_req_id": id,
            "expires_in": cfg.ciba_request_ttl_seconds,
            "interval": cfg.ciba_interval_seconds,
        }),
        true,
    ))
}

/// CIBA Core §7.1.1 signed authentication request: verified with the client's key (aud: the
/// backchannel endpoint or the issuer; iat, exp, jti required), its claims replace the plain
/// parameters.
fn merge_signed_request(
    state: &AppState,
    client: &Client,
    jwt: &str,
    p: &mut Params,
) -> Result<(), String> {
    let endpoints = &state.0.endpoints;
    let Some(key) = &client.key else {
        return Err("client has no registered key to verify signed requests".into());
    };
    let audiences = [
        endpoints.backchannel_endpoint.as_str(),
        endpoints.issuer.as_str(),
    ];
    let rules = client_jwt::Rules {
        require_iat: true,
        require_jti: true,
        ..client_jwt::Rules::new(&audiences)
    };
    let checked = client_jwt::verify(jwt, key, &client.client_id, &rules).map_err(|e| e.0)?;
    p.remove("request");
    for (k, v) in checked.claims {
        if JWT_ONLY_CLAIMS.contains(&k.as_str()) {
            continue;
        }
        if let Value::String(v) = v {
            p.insert(k, v);
        }
    }
    Ok(())
}

/// CIBA Core §10–11: a token poll `grant_type=urn:openid:params:grant-type:ciba`.
pub(crate) fn ciba_grant(
    state: &AppState,
    client: &Client,
    p: &Params,
) -> Result<Response, OAuthError> {
    let provider = &state.0;
    let faults = provider.faults;
    let Some(id) = p.get("auth_req_id") else {
        return Err(OAuthError::bad_request(
            "invalid_request",
            "auth_req_id is missing",
        ));
    };
    let interval = Duration::from_secs(provider.config.ciba_interval_seconds);
    let req = match provider.stores.poll_ciba(
        id,
        &client.client_id,
        interval,
        faults.has(Fault::CibaPendingIgnored),
    ) {
        CibaPoll::Ready(r) => r,
        CibaPoll::Unknown => return Err(OAuthError::invalid_grant("auth_req_id is invalid")),
        CibaPoll::OtherClient => {
            return Err(OAuthError::invalid_grant(
                "auth_req_id was issued to another client",
            ));
        }
        CibaPoll::Used => {
            return Err(OAuthError::invalid_grant(
                "auth_req_id was already redeemed",
            ));
        }
        CibaPoll::Expired => {
            return Err(OAuthError::bad_request(
                "expired_token",
                "auth_req_id has expired",
            ));
        }
        CibaPoll::SlowDown => {
            return Err(OAuthError::bad_request(
                "slow_down",
                "polled sooner than the interval after the request or the previous poll",
            ));
        }
        CibaPoll::Pending => {
            return Err(OAuthError::bad_request(
                "authorization_pending",
                "the authentication is still pending",
            ));
        }
    };
    token_response(
        state,
        &Grant {
            client,
            msisdn: &req.msisdn,
            scope: &req.scope,
            authn: req.authn,
            auth_time: req.auth_time,
            nonce: None,
            id_token: req.scope.openid,
            refresh_token: faults.has(Fault::RefreshTokenIssued),
            upstream: None,
        },
    )
}

/// ICM "JWT Bearer Flow" (RFC 7523 §2.1): the assertion is the grant and the client
/// authentication.
pub(crate) fn jwt_bearer_grant(
    state: &AppState,
    headers: &HeaderMap,
    p: &Params,
) -> Result<Response, OAuthError> {
    let provider = &state.0;
    let faults = provider.faults;
    let grant_err = |d: String| OAuthError::invalid_grant(d);
    if p.contains_key("scope") {
        return Err(OAuthError::bad_request(
            "invalid_request",
            "the scope parameter must not be sent with the JWT-bearer grant; use the scope claim",
        ));
    }
    let Some(assertion) = p.get("assertion") else {
        return Err(OAuthError::bad_request(
            "invalid_request",
            "assertion is missing",
        ));
    };
    let iss = client_auth::unverified_iss(assertion)
        .ok_or_else(|| grant_err("assertion is not a JWT with an iss claim".into()))?;
    let client = provider
        .clients
        .get(&iss)
        .ok_or_else(|| grant_err("assertion iss is not a registered client".into()))?;
    let Some(key) = &client.key else {
        return Err(grant_err("client has no registered key".into()));
    };
    // Additional client authentication is not needed; if sent, it must be the same client.
    let endpoints = &provider.endpoints;
    if client_auth::has_credentials(headers, p) {
        let audiences = [endpoints.token_endpoint.as_str(), endpoints.issuer.as_str()];
        let other = client_auth::authenticate(state, headers, p, &audiences)?;
        if other.client_id != client.client_id {
            return Err(grant_err(
                "assertion iss differs from the authenticated client".into(),
            ));
        }
    }
    // ICM: aud is the endpoint URL; the issuer is accepted as well (RFC 7523 §3).
    let audiences = [endpoints.token_endpoint.as_str(), endpoints.issuer.as_str()];
    let rules = client_jwt::Rules {
        require_iat: true,
        require_jti: true,
        check_aud: !faults.has(Fault::JwtBearerAudienceNotChecked),
        ..client_jwt::Rules::new(&audiences)
    };
    let checked = client_jwt::verify(assertion, key, &client.client_id, &rules)
        .map_err(|e| grant_err(format!("assertion rejected: {}", e.0)))?;
    let jti = checked.jti.as_deref().unwrap_or_default();
    match provider
        .stores
        .record_jti(&client.client_id, jti, checked.exp)
    {
        Ok(()) => {}
        Err(JtiError::Replayed) => return Err(grant_err("assertion jti was already used".into())),
        Err(JtiError::Full) => {
            return Err(OAuthError::unavailable("too many recent assertions"));
        }
    }
    let Some(scope) = checked.claims.get("scope").and_then(Value::as_str) else {
        return Err(grant_err(
            "the assertion must carry a scope claim (purpose and NV scopes)".into(),
        ));
    };
    let scope = parse_scope(Some(scope), None, provider.version)
        .map_err(|e| OAuthError::bad_request("invalid_scope", e))?;
    let Some(sub) = checked.claims.get("sub").and_then(Value::as_str) else {
        return Err(grant_err("the assertion must carry a sub claim".into()));
    };
    let (msisdn, authn) =
        resolve_subject(state, sub, false).map_err(|d| grant_err(format!("sub {d}")))?;
    token_response(
        state,
        &Grant {
            client,
            msisdn: &msisdn,
            scope: &scope,
            authn,
            auth_time: now_unix(),
            nonce: None,
            id_token: false,
            refresh_token: faults.has(Fault::JwtBearerRefreshTokenIssued),
            upstream: None,
        },
    )
}
