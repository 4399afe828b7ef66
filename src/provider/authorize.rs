//! The authorization endpoint (`/authorize`): OIDC authorization-code flow with simulated
//! network-based authentication and no user interaction.
//!
//! Owns the order of checks of an authorization request, the scope/purpose grammar, PKCE request
//! rules, the three ways a line is identified (trusted enrichment header, source-IP table, the
//! TEST-ONLY OTP login) and issuing codes. It never shows UI (NV v2.1.0: "the API provider
//! guarantees that there is no user interaction") and never redirects to a redirect URI it has not
//! matched exactly against the client's registration (RFC 6749 §4.1.2.1).

use std::borrow::Cow;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use super::client_jwt;
use super::config::is_e164;
use super::error::{OAuthError, redirect_with};
use super::extract::{Params, content_type_is, ct_eq, now_unix, parse_params_lenient};
use super::fault::Fault;
use super::state::{AppState, AuthnMethod, Client, CodeGrant, CodeRequest, GrantedScope};
use super::version::SpecVersion;

/// Routes: `GET {path}` and, per OIDC Core §3.1.2.1, `POST {path}` (form-encoded); `path` is
/// `/authorize`, or a dialect's own.
pub fn router_at(path: &str) -> Router<AppState> {
    Router::new().route(path, get(authorize_get).post(authorize_post))
}

async fn authorize_get(State(state): State<AppState>, parts: Parts) -> Response {
    let raw = parts.uri.query().unwrap_or("").to_owned();
    respond(authorize(&state, &parts, raw.as_bytes()))
}

async fn authorize_post(State(state): State<AppState>, parts: Parts, body: Bytes) -> Response {
    if !content_type_is(&parts.headers, "application/x-www-form-urlencoded") {
        return OAuthError::page(
            "invalid_request",
            "POST to the authorization endpoint must be application/x-www-form-urlencoded",
        )
        .into_response();
    }
    respond(authorize(&state, &parts, &body))
}

fn respond(r: Result<Response, OAuthError>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

/// Builds error redirects once the redirect URI is trusted.
pub(crate) struct Redirector<'a> {
    pub redirect_uri: &'a str,
    pub state: Option<&'a str>,
    pub iss: &'a str,
}

impl Redirector<'_> {
    pub(crate) fn err(
        &self,
        error: &'static str,
        description: impl Into<Cow<'static, str>>,
    ) -> OAuthError {
        OAuthError::Redirect {
            redirect_uri: self.redirect_uri.to_owned(),
            error,
            description: description.into(),
            state: self.state.map(str::to_owned),
            iss: self.iss.to_owned(),
        }
    }
}

/// Claims of a request object that are JWT bookkeeping, not authorization parameters.
const JWT_ONLY_CLAIMS: &[&str] = &["iss", "aud", "exp", "iat", "nbf", "jti", "sub"];
/// ICM: these must also be sent as plain parameters and must match the request object.
const MUST_MATCH: &[&str] = &["client_id", "response_type", "scope", "redirect_uri"];
/// Authorization-request parameters this provider recognises (RFC 6749, OIDC Core §3.1.2.1,
/// RFC 7636, RFC 9101, the legacy `purpose`, the TEST-ONLY `test_otp`). Others are ignored,
/// except under the `unknown-parameter-rejected` fault.
const KNOWN_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "prompt",
    "code_challenge",
    "code_challenge_method",
    "request",
    "request_uri",
    "login_hint",
    "acr_values",
    "max_age",
    "ui_locales",
    "claims_locales",
    "id_token_hint",
    "display",
    "response_mode",
    "claims",
    "registration",
    "purpose",
    "test_otp",
];
/// Length a state is cut to under the `state-truncated` fault.
const TRUNCATED_STATE_CHARS: usize = 64;

/// Verifies a signed authorization request (RFC 9101, ICM "signed authentication requests") and
/// merges its parameters over the plain ones.
fn merge_request_object(
    state: &AppState,
    client: &Client,
    jwt: &str,
    params: &mut Params,
) -> Result<(), String> {
    let provider = &state.0;
    let Some(key) = &client.key else {
        return Err("client has no registered key to verify signed requests".into());
    };
    // ICM: aud is RECOMMENDED to be the authorization endpoint, and the AS MAY accept the
    // issuer; RFC 9101 §4 and OIDC Core §6.1 use the issuer. Both are taken.
    let faults = provider.faults;
    let audiences: Vec<&str> = [
        (!faults.has(Fault::RequestObjectEndpointAudienceRefused))
            .then_some(provider.endpoints.authorization_endpoint.as_str()),
        (!faults.has(Fault::RequestObjectIssuerAudienceRefused))
            .then_some(provider.endpoints.issuer.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    // ICM: the request object MUST contain iss, aud, iat, exp, jti.
    let rules = client_jwt::Rules {
        require_iat: true,
        require_jti: true,
        check_aud: !faults.has(Fault::RequestObjectAudienceNotChecked),
        check_expiry: !faults.has(Fault::RequestObjectExpiryNotChecked),
        check_lifetime: !faults.has(Fault::RequestObjectLifetimeNotChecked),
        check_issued_at: !faults.has(Fault::RequestObjectIatNotChecked),
        ..client_jwt::Rules::new(&audiences)
    };
    let checked = client_jwt::verify(jwt, key, &client.client_id, &rules).map_err(|e| e.0)?;
    for name in MUST_MATCH {
        if let Some(Value::String(v)) = checked.claims.get(*name)
            && params.get(*name).is_some_and(|plain| plain != v)
        {
            return Err(format!(
                "{name} in the request object differs from the plain parameter"
            ));
        }
    }
    for (k, v) in checked.claims {
        if JWT_ONLY_CLAIMS.contains(&k.as_str()) || k == "request" || k == "request_uri" {
            continue;
        }
        if let Value::String(v) = v {
            params.insert(k, v);
        }
    }
    Ok(())
}

/// The request's parameters, checked in the documented order.
fn authorize(state: &AppState, parts: &Parts, raw: &[u8]) -> Result<Response, OAuthError> {
    let provider = &state.0;
    let (mut p, duplicate) = parse_params_lenient(raw);

    // (1) Client. RFC 6749 §4.1.2.1: unknown or missing client → never redirect.
    if duplicate.as_deref() == Some("client_id") {
        return Err(OAuthError::page("invalid_request", "client_id is repeated"));
    }
    let Some(client_id) = p.get("client_id").cloned() else {
        return Err(OAuthError::page("invalid_request", "client_id is missing"));
    };
    let Some(client) = provider.clients.get(&client_id) else {
        return Err(OAuthError::page(
            "invalid_client",
            "client_id is not registered",
        ));
    };

    // Signed request (by value): verified before the redirect URI is chosen, since it may carry it.
    let faults = provider.faults;
    let mut request_object_error = None;
    if let Some(jwt) = p.get("request").cloned() {
        if faults.has(Fault::RequestObjectRejected) {
            request_object_error = Some("request objects are not accepted".to_owned());
        } else if let Err(e) = merge_request_object(state, client, &jwt, &mut p) {
            request_object_error = Some(e);
        }
    }

    // (2) Redirect URI: exact string match against the registration, else never redirect.
    if duplicate.as_deref() == Some("redirect_uri") {
        return Err(OAuthError::page(
            "invalid_request",
            "redirect_uri is repeated",
        ));
    }
    let Some(redirect_uri) = p.get("redirect_uri") else {
        return Err(OAuthError::page(
            "invalid_request",
            "redirect_uri is missing",
        ));
    };
    let unregistered_ok = || {
        faults.has(Fault::RedirectUriNotChecked)
            && url::Url::parse(redirect_uri).is_ok_and(|u| u.has_host() && u.fragment().is_none())
    };
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) && !unregistered_ok() {
        return Err(OAuthError::page(
            "invalid_request",
            "redirect_uri does not exactly match a registered redirect URI",
        ));
    }
    let r = Redirector {
        redirect_uri,
        state: p.get("state").map(String::as_str),
        iss: &provider.endpoints.issuer,
    };
    if let Some(e) = request_object_error {
        return Err(r.err("invalid_request_object", e));
    }
    if p.contains_key("request_uri") {
        return Err(r.err(
            "request_uri_not_supported",
            "request_uri is not supported; send the request object by value",
        ));
    }
    // RFC 6749 §3.1: parameters must not be included more than once.
    if let Some(d) = duplicate {
        return Err(r.err("invalid_request", format!("parameter {d} is repeated")));
    }
    // Fault switches that refuse what must be ignored.
    if faults.has(Fault::UnknownParameterRejected)
        && let Some(k) = p.keys().find(|k| !KNOWN_PARAMS.contains(&k.as_str()))
    {
        return Err(r.err("invalid_request", format!("unknown parameter {k}")));
    }
    if faults.has(Fault::AcrValuesRejected) && p.contains_key("acr_values") {
        return Err(r.err("invalid_request", "acr_values is not supported"));
    }
    if faults.has(Fault::LoginHintRejected)
        && p.contains_key("login_hint")
        && !p.contains_key("test_otp")
    {
        return Err(r.err("invalid_request", "login_hint is not supported"));
    }

    // (3) Response type.
    match p.get("response_type").map(String::as_str) {
        None => return Err(r.err("invalid_request", "response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(r.err(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
    }

    // (4) Scope and purpose.
    // A dialect's scope values (`dpv:Purpose#scope`) in the CAMARA grammar.
    let dialect_scope = state
        .0
        .dialect
        .zip(p.get("scope"))
        .map(|(d, s)| d.camara_scope(s));
    let scope = parse_scope(
        dialect_scope
            .as_deref()
            .or(p.get("scope").map(String::as_str)),
        p.get("purpose").map(String::as_str),
        provider.version,
    )
    .map_err(|e| r.err("invalid_scope", e))?;

    // (5) PKCE (RFC 7636; ICM: authorization servers SHOULD implement PKCE).
    let challenge = p.get("code_challenge");
    let mut pkce_plain = false;
    match (
        challenge,
        p.get("code_challenge_method").map(String::as_str),
    ) {
        (Some(c), Some("plain")) if faults.has(Fault::PkcePlainAccepted) => {
            if !is_plain_challenge(c) {
                return Err(r.err(
                    "invalid_request",
                    "a plain code_challenge must be 43..128 unreserved characters",
                ));
            }
            pkce_plain = true;
        }
        (_, Some(m)) if m != "S256" => {
            return Err(r.err(
                "invalid_request",
                "code_challenge_method must be S256 (transform algorithm not supported)",
            ));
        }
        // RFC 7636 §4.3: a missing method means plain, which this provider does not support.
        (Some(_), None) => {
            return Err(r.err(
                "invalid_request",
                "code_challenge_method=S256 is required (plain is not supported)",
            ));
        }
        (None, Some(_)) => {
            return Err(r.err(
                "invalid_request",
                "code_challenge_method without code_challenge",
            ));
        }
        (Some(c), Some(_)) if !is_s256_challenge(c) => {
            return Err(r.err(
                "invalid_request",
                "code_challenge must be 43 base64url characters (S256)",
            ));
        }
        (None, None) if client.require_pkce => {
            return Err(r.err(
                "invalid_request",
                "this client must use PKCE (code_challenge with S256)",
            ));
        }
        _ => {}
    }

    // (6) prompt: NV implies prompt=none; anything needing interaction cannot be honoured.
    // acr_values (ICM: MUST be ignored) and login_hint (ICM: MAY be ignored) are not errors.
    if let Some(prompt) = p.get("prompt")
        && prompt.split(' ').any(|v| !v.is_empty() && v != "none")
    {
        return Err(r.err(
            "login_required",
            "no user interaction is possible for Number Verification (prompt=none is implied)",
        ));
    }

    let request = CodeRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        scope,
        nonce: p.get("nonce").cloned(),
        code_challenge: challenge.cloned(),
        pkce_plain,
    };

    // (7) Who is on the line. An aggregator asks the operator serving the device instead; the
    // code is issued when the device comes back to its callback.
    if let Some(upstream) = &provider.upstream {
        return upstream.delegate(
            parts,
            super::aggregator::Delegation {
                request,
                state: r.state.map(str::to_owned),
                issuer: provider.endpoints.issuer.clone(),
                extra: p.clone(),
            },
        );
    }
    let (msisdn, authn) = identify(state, parts, &p).map_err(|(e, d)| r.err(e, d))?;

    let grant = CodeGrant {
        request,
        msisdn,
        authn,
        auth_time: now_unix(),
        upstream: None,
    };
    let code = provider
        .stores
        .issue_code(grant, client.code_ttl)
        .map_err(|_| {
            r.err(
                "temporarily_unavailable",
                "too many outstanding authorization codes",
            )
        })?;
    let mut pairs: Vec<(&str, &str)> = vec![("code", &code)];
    if let Some(st) = r.state
        && !faults.has(Fault::StateNotReturned)
    {
        let st = match st.char_indices().nth(TRUNCATED_STATE_CHARS) {
            Some((cut, _)) if faults.has(Fault::StateTruncated) => &st[..cut],
            _ => st,
        };
        pairs.push(("state", st));
    }
    // RFC 9207: lets the client detect mix-up attacks.
    pairs.push(("iss", &provider.endpoints.issuer));
    Ok(redirect_with(redirect_uri, &pairs))
}

/// RFC 7636 §4.1: a plain challenge is a verifier, 43..128 unreserved characters.
fn is_plain_challenge(c: &str) -> bool {
    (43..=128).contains(&c.len())
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// RFC 7636 §4.2: an S256 challenge is BASE64URL(32 bytes) = 43 characters, no padding.
fn is_s256_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A DPV purpose name, e.g. `FraudPreventionAndDetection`.
fn is_purpose_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Parses `scope` (and the legacy `purpose` parameter of operator sample code) with `version`'s
/// NV scope names.
///
/// ICM: scope = `openid` + exactly one `dpv:<Purpose>` + CAMARA scopes. Unknown scope values are
/// ignored (OIDC Core §3.1.2.1), except unknown values that look like NV scopes (including the
/// other versions' names), which are refused so a typo cannot silently yield a token without the
/// intended scope.
pub(crate) fn parse_scope(
    scope: Option<&str>,
    purpose: Option<&str>,
    version: SpecVersion,
) -> Result<GrantedScope, String> {
    let (scope_verify, scope_share) = (version.scope_verify(), version.scope_share());
    let mut openid = false;
    let mut verify = false;
    let mut share = false;
    let mut purposes: Vec<&str> = Vec::new();
    for tok in scope.unwrap_or("").split(' ').filter(|t| !t.is_empty()) {
        match tok {
            "openid" => openid = true,
            t if t == scope_verify => verify = true,
            t if t == scope_share => share = true,
            t if t.starts_with("dpv:") => {
                let name = &t[4..];
                if !is_purpose_name(name) {
                    return Err(format!("malformed purpose scope {t}"));
                }
                purposes.push(name);
            }
            t if t.starts_with("number-verification") => {
                return Err(format!("unknown Number Verification scope {t}"));
            }
            _ => {}
        }
    }
    let purpose_name = match purpose {
        Some(pp) => {
            // Legacy form `dpv:<Purpose>#<technical parameter>` (ICM v0.1.0, operator samples).
            let (name_part, technical) = match pp.split_once('#') {
                Some((n, t)) => (n, Some(t)),
                None => (pp, None),
            };
            let name = name_part
                .strip_prefix("dpv:")
                .filter(|n| is_purpose_name(n))
                .ok_or_else(|| format!("malformed purpose parameter {pp}"))?;
            match technical {
                Some("number-verification-verify-read") => verify = true,
                Some("number-verification-share-read") => share = true,
                None => {}
                Some(t) => return Err(format!("unknown technical parameter {t} in purpose")),
            }
            if purposes.len() > 1 || purposes.first().is_some_and(|p| *p != name) {
                return Err("purpose parameter conflicts with the dpv: scope value".into());
            }
            name
        }
        None => match purposes.as_slice() {
            [one] => *one,
            [] => return Err("scope must contain exactly one dpv: purpose value".into()),
            _ => return Err("scope contains several dpv: purpose values".into()),
        },
    };
    if !verify && !share {
        return Err(format!(
            "scope must contain {scope_verify} and/or {scope_share}"
        ));
    }
    Ok(GrantedScope {
        openid,
        purpose: purpose_name.to_owned(),
        verify,
        share,
    })
}

/// Simulated network-based identification: (a) trusted enrichment header, (b) source-IP table.
/// `Ok(None)` when neither identifies the device; `Err` (a description) for an invalid header.
/// Shared by `/authorize` and the TS.43 operator-token endpoint.
pub(crate) fn network_identity(state: &AppState, parts: &Parts) -> Result<Option<String>, String> {
    let clients = &state.0.clients;
    // (a) The "network" vouches for any E.164 number in the enrichment header (TEST-ONLY trust).
    let mut values = parts.headers.get_all(&clients.enrichment_header).iter();
    if let Some(v) = values.next() {
        let ok = values.next().is_none();
        return match v.to_str() {
            Ok(m) if ok && is_e164(m) => Ok(Some(m.to_owned())),
            _ => Err(format!(
                "{} header is not a single E.164 number",
                clients.enrichment_header
            )),
        };
    }
    // (b) The TCP source address, as the mobile core would see it.
    if let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>()
        && let Some(msisdn) = clients.msisdn_at(addr.ip())
    {
        return Ok(Some(msisdn.to_owned()));
    }
    Ok(None)
}

/// Identifies the line: (a)/(b) [`network_identity`], (c) TEST-ONLY OTP login, else
/// `login_required`. Errors are (error code, description).
fn identify(
    state: &AppState,
    parts: &Parts,
    p: &Params,
) -> Result<(String, AuthnMethod), (&'static str, String)> {
    if let Some(msisdn) = network_identity(state, parts).map_err(|d| ("access_denied", d))? {
        return Ok((msisdn, AuthnMethod::Network));
    }
    // (c) TEST-ONLY non-network login, to exercise USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK.
    let otp = &state.0.config.otp_login;
    if otp.enabled
        && let Some(given) = p.get("test_otp")
    {
        let msisdn = p
            .get("login_hint")
            .and_then(|h| h.strip_prefix("tel:"))
            .filter(|m| is_e164(m))
            .ok_or((
                "access_denied",
                "OTP login needs login_hint=tel:+<E.164>".to_owned(),
            ))?;
        let expected = otp.code.as_ref().map(|c| c.expose()).unwrap_or("");
        if expected.is_empty() || !ct_eq(given.as_bytes(), expected.as_bytes()) {
            return Err(("access_denied", "wrong one-time password".to_owned()));
        }
        return Ok((msisdn.to_owned(), AuthnMethod::SmsOtp));
    }
    Err((
        "login_required",
        "the device could not be identified by the mobile network".to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: SpecVersion = SpecVersion::V2_1_0;

    #[test]
    fn scope_names_follow_the_version() {
        let old = SpecVersion::V0_3_1;
        let g = parse_scope(Some("dpv:A number-verification-verify-read"), None, old).expect("ok");
        assert!(g.verify && !g.share);
        assert_eq!(
            g.to_scope_string(old),
            "dpv:A number-verification-verify-read"
        );
        assert!(parse_scope(Some("dpv:A number-verification:verify"), None, old).is_err());
        assert!(parse_scope(Some("dpv:A number-verification-share-read"), None, V).is_err());
    }

    #[test]
    fn scope_grammar() {
        let g = parse_scope(
            Some("openid dpv:FraudPreventionAndDetection number-verification:verify"),
            None,
            V,
        )
        .expect("ok");
        assert!(g.openid && g.verify && !g.share);
        assert_eq!(g.purpose, "FraudPreventionAndDetection");
        assert_eq!(
            g.to_scope_string(V),
            "openid dpv:FraudPreventionAndDetection number-verification:verify"
        );
        // Unknown non-NV scopes are ignored.
        assert!(
            parse_scope(
                Some("openid profile dpv:A number-verification:verify"),
                None,
                V
            )
            .is_ok()
        );
        for bad in [
            "openid dpv:A",
            "openid number-verification:verify",
            "openid dpv:A dpv:B number-verification:verify",
            "openid dpv:A number-verification:delete",
            "openid dpv: number-verification:verify",
        ] {
            assert!(parse_scope(Some(bad), None, V).is_err(), "{bad}");
        }
        assert!(parse_scope(None, None, V).is_err());
    }

    #[test]
    fn legacy_purpose_parameter() {
        let g = parse_scope(
            Some("openid"),
            Some("dpv:FraudPreventionAndDetection#number-verification-verify-read"),
            V,
        )
        .expect("ok");
        assert!(g.verify && !g.share && g.purpose == "FraudPreventionAndDetection");
        let g = parse_scope(None, Some("dpv:X#number-verification-share-read"), V).expect("ok");
        assert!(g.share && !g.openid);
        assert!(parse_scope(None, Some("dpv:X#something-else"), V).is_err());
        assert!(
            parse_scope(
                Some("dpv:Y"),
                Some("dpv:X#number-verification-share-read"),
                V
            )
            .is_err()
        );
        assert!(
            parse_scope(
                Some("dpv:X"),
                Some("dpv:X#number-verification-share-read"),
                V
            )
            .is_ok()
        );
    }

    #[test]
    fn s256_challenge_shape() {
        assert!(is_s256_challenge(
            "E9Melhoa2OwvFHhnUqfs0xZ4KC39IjP2MHqRpF9anSM"
        ));
        assert!(!is_s256_challenge("short"));
        assert!(!is_s256_challenge(
            "E9Melhoa2OwvFHhnUqfs0xZ4KC39IjP2MHqRpF9anS="
        ));
    }
}
