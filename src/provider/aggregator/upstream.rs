//! The aggregator's side of the chain with the operators: the telco finder, the delegation of
//! `/authorize` to the operator serving the device, the `/callback` that redeems the operator's
//! code server to server, and the store of aggregator tokens (opaque references to operator
//! tokens).
//!
//! Owns every call to an operator's authorization server and every bound on it (timeouts, store
//! sizes, lifetimes). It must not check the app's authorization request (the shared `authorize`
//! does, before delegating) nor mint the app's tokens (the shared `mint` does, asking
//! [`Upstream::issue_token`] for the access token), but for the token answer of the
//! `aggregator-accepts-operator-code` fault.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Deserialize;

use super::super::authorize::Redirector;
use super::super::error::{OAuthError, redirect_with};
use super::super::extract::{now_unix, parse_params, random_b64url, s256};
use super::super::state::{
    AppState, AuthnMethod, CodeGrant, CodeRequest, Purging, StoreFull, lock,
};
use super::super::version::SpecVersion;
use super::fault::AggregatorFault;
use crate::secret::Secret;

/// Most pending delegations (device sent to an operator, not yet back) held at once.
const MAX_PENDING: usize = 100_000;
/// Most live aggregator access tokens held at once.
const MAX_TOKENS: usize = 200_000;
/// How long a device has to come back from the operator to `/callback`.
const PENDING_TTL: Duration = Duration::from_secs(120);

/// One operator behind the aggregator, as the aggregator sees it.
#[derive(Debug, Clone)]
pub(crate) struct Operator {
    pub name: String,
    /// The operator's issuer (no trailing slash).
    pub issuer: String,
    /// `{issuer}{api_base_path}`: where API calls are forwarded.
    pub api_root: String,
    /// The device source address the telco finder sends here.
    pub device_address: IpAddr,
    /// The operator's line for that device (known to the finder's table).
    pub msisdn: String,
    /// Enrichment-header numbers starting with this go here too (the finder's header rule).
    pub number_prefix: String,
}

/// The app's authorization request once the shared `/authorize` has checked it, waiting for the
/// operator to identify the line.
pub(crate) struct Delegation {
    /// What the aggregator code will be bound to.
    pub request: CodeRequest,
    /// The app's `state`, exactly as received.
    pub state: Option<String>,
    /// The aggregator's issuer (the `iss` of its authorization responses).
    pub issuer: String,
    /// The request's other parameters ([`FORWARDED_PARAMS`] are passed on to the operator;
    /// `login_hint` also routes).
    pub extra: std::collections::HashMap<String, String>,
}

/// Parameters of the app's request the aggregator passes on to the operator: the line hint
/// (OIDC Core §3.1.2.1) and the TEST-ONLY OTP of the simulated non-network login, so that the
/// operator, which authenticates the line, sees them.
const FORWARDED_PARAMS: &[&str] = &["login_hint", "test_otp"];

struct Pending {
    request: Delegation,
    operator: usize,
    /// The line as the finder knows it (only the `aggregator-leaks-operator-token` fault uses it).
    msisdn: String,
    /// PKCE verifier of the aggregator's own request to the operator.
    verifier: String,
    expires_at: Instant,
}

/// What an aggregator code and token stand for: the operator's access token and where it is
/// valid.
#[derive(Debug)]
pub(crate) struct UpstreamGrant {
    pub operator: usize,
    pub operator_token: Secret,
    pub expires_at: Instant,
    msisdn: String,
}

impl UpstreamGrant {
    /// Whole seconds the operator token still lives.
    pub(crate) fn remaining_secs(&self) -> u64 {
        self.expires_at
            .saturating_duration_since(Instant::now())
            .as_secs()
    }
}

/// A live aggregator access token.
struct Issued {
    operator: usize,
    operator_token: Secret,
    expires_at: Instant,
}

/// Everything the aggregator needs to talk to its operators.
pub(crate) struct Upstream {
    pub operators: Vec<Operator>,
    faults: Vec<AggregatorFault>,
    /// The aggregator's client at the operators.
    client_id: String,
    client_secret: Secret,
    /// `{aggregator}/callback`, registered at every operator.
    callback: String,
    pub http: reqwest::Client,
    pub timeout: Duration,
    /// The NV version spoken on both sides.
    version: SpecVersion,
    enrichment_header: String,
    pending: Mutex<Purging<Pending>>,
    /// Read on every API call (a read lock), written once per token.
    tokens: RwLock<Purging<Issued>>,
    /// Signs the leaky tokens of `aggregator-leaks-operator-token` (never used otherwise).
    leak_key: EncodingKey,
}

/// The settings [`Upstream::new`] takes.
pub(crate) struct UpstreamSettings {
    pub operators: Vec<Operator>,
    pub faults: Vec<AggregatorFault>,
    pub client_id: String,
    pub client_secret: Secret,
    pub callback: String,
    pub timeout: Duration,
    pub version: SpecVersion,
    pub enrichment_header: String,
}

impl Upstream {
    pub(crate) fn new(s: UpstreamSettings) -> Result<Self, reqwest::Error> {
        // Operators are called directly: no proxy from the environment, no redirect followed,
        // every call bounded.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(s.timeout)
            .connect_timeout(s.timeout)
            .user_agent(concat!("nvcert-aggregator/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            operators: s.operators,
            faults: s.faults,
            client_id: s.client_id,
            client_secret: s.client_secret,
            callback: s.callback,
            http,
            timeout: s.timeout,
            version: s.version,
            enrichment_header: s.enrichment_header,
            pending: Mutex::new(Purging::default()),
            tokens: RwLock::new(Purging::default()),
            leak_key: EncodingKey::from_secret(random_b64url(32).as_bytes()),
        })
    }

    pub(crate) fn has(&self, fault: AggregatorFault) -> bool {
        self.faults.contains(&fault)
    }

    /// v0 mode (the operator sample): the token request carries no `redirect_uri`.
    pub(crate) fn token_redirect_uri_optional(&self) -> bool {
        self.version == SpecVersion::V0_3_1
    }

    /// The telco finder: the operator serving the device, by its TCP source address, else by the
    /// number in the enrichment header, else by a `login_hint=tel:` number (the operator whose
    /// prefix the number has). `None`: no operator.
    fn find(&self, parts: &Parts, login_hint: Option<&str>) -> Option<(usize, String)> {
        let by_address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .and_then(|ConnectInfo(addr)| {
                self.operators
                    .iter()
                    .position(|o| o.device_address == addr.ip())
            })
            .map(|i| (i, self.operators[i].msisdn.clone()));
        let by_number = |number: &str| {
            let i = self
                .operators
                .iter()
                .position(|o| number.starts_with(&o.number_prefix))?;
            Some((i, number.to_owned()))
        };
        let by_header = || {
            let value = parts.headers.get(self.enrichment_header.as_str())?;
            by_number(value.to_str().ok()?)
        };
        let by_hint = || by_number(login_hint?.strip_prefix("tel:")?);
        let (i, msisdn) = by_address.or_else(by_header).or_else(by_hint)?;
        if self.has(AggregatorFault::RoutesWrongOperator) {
            return Some(((i + 1) % self.operators.len(), msisdn));
        }
        Some((i, msisdn))
    }

    /// Step 7 of `/authorize` on an aggregator: finds the operator and sends the device there
    /// with the aggregator's own authorization request (NV white paper, Annex – Detailed Flows,
    /// telco finder and the aggregator's authorization-code flow with the operator).
    pub(crate) fn delegate(
        &self,
        parts: &Parts,
        request: Delegation,
    ) -> Result<Response, OAuthError> {
        let hint = request.extra.get("login_hint").map(String::as_str);
        let Some((operator, msisdn)) = self.find(parts, hint) else {
            if self.has(AggregatorFault::UnknownDevice500) {
                return Ok((
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"error":"no operator"}"#,
                )
                    .into_response());
            }
            // RFC 6749 §4.1.2.1: the request is valid, the resource owner cannot be served.
            return Err(app_error(
                &request,
                "access_denied",
                "no operator found for the device's network address (telco finder)",
            ));
        };
        let verifier = random_b64url(32);
        let upstream_state = random_b64url(24);
        let op = &self.operators[operator];
        // The operator is asked for openid too: its ID token's `sub` gives the aggregator a
        // stable, opaque subject for the line.
        let mut scope = request.request.scope.clone();
        scope.openid = true;
        let scope = scope.to_scope_string(self.version);
        let challenge = s256(&verifier);
        let authorize = format!("{}/authorize", op.issuer);
        let forwarded: Vec<(&'static str, String)> = FORWARDED_PARAMS
            .iter()
            .filter_map(|name| Some((*name, request.extra.get(*name)?.clone())))
            .collect();
        {
            let mut pending = lock(&self.pending);
            let now = Instant::now();
            if !pending.make_room(MAX_PENDING, |p| p.expires_at > now) {
                return Err(app_error(
                    &request,
                    "temporarily_unavailable",
                    "too many authorizations in progress",
                ));
            }
            pending.map.insert(
                upstream_state.clone(),
                Pending {
                    request,
                    operator,
                    msisdn,
                    verifier,
                    expires_at: now + PENDING_TTL,
                },
            );
        }
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", self.callback.as_str()),
            ("scope", scope.as_str()),
            ("state", upstream_state.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        pairs.extend(forwarded.iter().map(|(k, v)| (*k, v.as_str())));
        Ok(redirect_with(&authorize, &pairs))
    }

    /// A fresh aggregator access token for `grant`, living `ttl` seconds: an opaque reference
    /// (256 random bits) the aggregator resolves server side; under
    /// `aggregator-leaks-operator-token`, a JWS that carries the operator token and the MSISDN.
    pub(crate) fn issue_token(
        &self,
        grant: &UpstreamGrant,
        client_id: &str,
        scope: &str,
        ttl: u64,
    ) -> Result<String, StoreFull> {
        let token = if self.has(AggregatorFault::LeaksOperatorToken) {
            let claims = serde_json::json!({
                "client_id": client_id,
                "scope": scope,
                "operator": self.operators[grant.operator].name,
                "operator_token": grant.operator_token.expose(),
                "msisdn": grant.msisdn,
                "exp": now_unix() + ttl,
            });
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.leak_key)
                .map_err(|_| StoreFull)?
        } else {
            random_b64url(32)
        };
        self.store_token(
            token.clone(),
            grant.operator,
            grant.operator_token.clone(),
            Duration::from_secs(ttl),
        )?;
        Ok(token)
    }

    fn store_token(
        &self,
        token: String,
        operator: usize,
        operator_token: Secret,
        ttl: Duration,
    ) -> Result<(), StoreFull> {
        let now = Instant::now();
        let mut tokens = self.tokens.write().unwrap_or_else(|e| e.into_inner());
        if !tokens.make_room(MAX_TOKENS, |t| t.expires_at > now) {
            return Err(StoreFull);
        }
        tokens.map.insert(
            token,
            Issued {
                operator,
                operator_token,
                expires_at: now + ttl,
            },
        );
        Ok(())
    }

    /// The operator and operator token behind a live aggregator token.
    pub(crate) fn resolve(&self, token: &str) -> Option<(usize, Secret)> {
        let tokens = self.tokens.read().unwrap_or_else(|e| e.into_inner());
        let t = tokens.map.get(token)?;
        (t.expires_at > Instant::now()).then(|| (t.operator, t.operator_token.clone()))
    }

    /// Redeems `code` at `operator`'s token endpoint as the aggregator's client.
    async fn redeem(
        &self,
        operator: usize,
        code: &str,
        verifier: &str,
    ) -> Result<Redeemed, String> {
        let op = &self.operators[operator];
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.callback.as_str()),
            ("code_verifier", verifier),
        ];
        let answer = self
            .http
            .post(format!("{}/token", op.issuer))
            .basic_auth(&self.client_id, Some(self.client_secret.expose()))
            .form(&form)
            .send()
            .await
            .map_err(|e| self.describe(op, &e))?;
        read_token_answer(op, answer).await
    }

    fn describe(&self, op: &Operator, e: &reqwest::Error) -> String {
        if e.is_timeout() {
            format!(
                "operator {} did not answer within {} s",
                op.name,
                self.timeout.as_secs()
            )
        } else {
            format!("operator {} could not be reached", op.name)
        }
    }

    /// `aggregator-accepts-operator-code`: the app's token request, unchanged, at each operator;
    /// the first operator token obtained is wrapped into an aggregator token answer.
    pub(crate) async fn try_foreign_code(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Option<Response> {
        for (i, op) in self.operators.iter().enumerate() {
            let mut request = self
                .http
                .post(format!("{}/token", op.issuer))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.to_vec());
            if let Some(auth) = headers.get(header::AUTHORIZATION) {
                request = request.header(header::AUTHORIZATION, auth.clone());
            }
            let Ok(answer) = request.send().await else {
                continue;
            };
            let Ok(redeemed) = read_token_answer(op, answer).await else {
                continue;
            };
            let ttl = redeemed.expires_in.clamp(1, 300);
            let token = random_b64url(32);
            self.store_token(
                token.clone(),
                i,
                redeemed.access_token,
                Duration::from_secs(ttl),
            )
            .ok()?;
            let body = serde_json::json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": ttl,
            });
            return Some(super::super::mint::json_no_store(&body, true));
        }
        None
    }
}

/// An error redirect to the app (state echoed, `iss` added: RFC 6749 §4.1.2.1, RFC 9207).
fn app_error(
    request: &Delegation,
    error: &'static str,
    description: impl Into<Cow<'static, str>>,
) -> OAuthError {
    Redirector {
        redirect_uri: &request.request.redirect_uri,
        state: request.state.as_deref(),
        iss: &request.issuer,
    }
    .err(error, description)
}

/// What the operator's token endpoint gave.
struct Redeemed {
    access_token: Secret,
    expires_in: u64,
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<u64>,
    id_token: Option<String>,
}

async fn read_token_answer(op: &Operator, answer: reqwest::Response) -> Result<Redeemed, String> {
    let status = answer.status();
    let bytes = answer
        .bytes()
        .await
        .map_err(|_| format!("operator {}'s token answer could not be read", op.name))?;
    if !status.is_success() {
        let error = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_default();
        return Err(format!(
            "operator {} refused the code: HTTP {} {error}",
            op.name,
            status.as_u16()
        ));
    }
    let parsed: TokenAnswer = serde_json::from_slice(&bytes).map_err(|_| {
        format!(
            "operator {}'s token answer is not a token response",
            op.name
        )
    })?;
    Ok(Redeemed {
        access_token: Secret::new(parsed.access_token),
        // RFC 6749 §5.1: without expires_in the lifetime is unknown; NV tokens live ≤ 300 s.
        expires_in: parsed.expires_in.unwrap_or(300),
        id_token: parsed.id_token,
    })
}

/// The claims of an ID token's payload. The aggregator received it directly from the
/// operator's token endpoint over its own connection (OIDC Core §3.1.3.7: TLS server validation
/// may replace the signature check), so it reads without verifying.
fn id_token_claims(id_token: &str) -> Option<serde_json::Value> {
    let payload = id_token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// How the operator authenticated the line, from its ID token's `amr`: network-based unless it
/// says SMS/OTP.
fn authn_from(claims: Option<&serde_json::Value>) -> AuthnMethod {
    let amr = claims
        .and_then(|c| c.get("amr"))
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>())
        .unwrap_or_default();
    if amr.contains(&"nba") || amr.contains(&"sim") || amr.is_empty() {
        AuthnMethod::Network
    } else {
        AuthnMethod::SmsOtp
    }
}

/// Error codes an operator may send back that the aggregator passes on to the app as they are
/// (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6); anything else becomes `server_error`.
const RELAYED_ERRORS: &[&str] = &[
    "access_denied",
    "login_required",
    "interaction_required",
    "temporarily_unavailable",
];

/// `GET /callback`: the device back from the operator. Redeems the operator code, then sends
/// the device to the app with an aggregator code (NV white paper, Annex – Detailed Flows).
pub(super) async fn callback(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(upstream) = state.0.upstream.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let raw = parts.uri.query().unwrap_or("").to_owned();
    let Ok(p) = parse_params(raw.as_bytes()) else {
        return OAuthError::page("invalid_request", "a callback parameter is repeated")
            .into_response();
    };
    let taken = p
        .get("state")
        .and_then(|s| lock(&upstream.pending).map.remove(s))
        .filter(|pending| pending.expires_at > Instant::now());
    let Some(pending) = taken else {
        // Nothing says where the device came from: no redirect (RFC 6749 §4.1.2.1 spirit).
        return OAuthError::page(
            "invalid_request",
            "unknown, used or expired aggregator state at the callback",
        )
        .into_response();
    };
    let op = &upstream.operators[pending.operator];
    if let Some(iss) = p.get("iss")
        && *iss != op.issuer
    {
        // RFC 9207: an answer from another issuer than the one asked is a mix-up.
        return app_error(
            &pending.request,
            "server_error",
            "the operator's answer carries another issuer (RFC 9207 mix-up)",
        )
        .into_response();
    }
    if let Some(error) = p.get("error") {
        let relayed = RELAYED_ERRORS
            .iter()
            .find(|e| **e == error.as_str())
            .copied()
            .unwrap_or("server_error");
        return app_error(
            &pending.request,
            relayed,
            format!("operator {} answered {error}", op.name),
        )
        .into_response();
    }
    let Some(code) = p.get("code") else {
        return app_error(
            &pending.request,
            "server_error",
            "the operator's answer has neither code nor error",
        )
        .into_response();
    };
    let redeemed = match upstream
        .redeem(pending.operator, code, &pending.verifier)
        .await
    {
        Ok(r) => r,
        Err(reason) => {
            return app_error(&pending.request, "temporarily_unavailable", reason).into_response();
        }
    };
    finish(&state, &upstream, pending, redeemed)
}

/// Issues the aggregator code for a redeemed operator grant and redirects to the app.
fn finish(state: &AppState, upstream: &Upstream, pending: Pending, redeemed: Redeemed) -> Response {
    let provider = &state.0;
    let request = &pending.request;
    let Some(client) = provider.clients.get(&request.request.client_id) else {
        return app_error(
            request,
            "server_error",
            "the client is no longer registered",
        )
        .into_response();
    };
    let op = &upstream.operators[pending.operator];
    let claims = redeemed.id_token.as_deref().and_then(id_token_claims);
    // A stable subject per operator line, opaque (it becomes a pairwise `sub` in ID tokens).
    let subject = match claims.as_ref().and_then(|c| c.get("sub")?.as_str()) {
        Some(sub) => format!("{}:{sub}", op.name),
        None => format!("{}:{}", op.name, random_b64url(16)),
    };
    let redirect_uri = request.request.redirect_uri.clone();
    let grant = CodeGrant {
        request: request.request.clone(),
        msisdn: subject,
        authn: authn_from(claims.as_ref()),
        auth_time: now_unix(),
        upstream: Some(Arc::new(UpstreamGrant {
            operator: pending.operator,
            operator_token: redeemed.access_token,
            expires_at: Instant::now() + Duration::from_secs(redeemed.expires_in),
            msisdn: pending.msisdn.clone(),
        })),
    };
    let Ok(code) = provider.stores.issue_code(grant, client.code_ttl) else {
        return app_error(
            request,
            "temporarily_unavailable",
            "too many outstanding authorization codes",
        )
        .into_response();
    };
    let mut upstream_state = None;
    let mut pairs: Vec<(&str, &str)> = vec![("code", &code)];
    if upstream.has(AggregatorFault::DropsState) {
        // The aggregator's own state instead of the app's.
        upstream_state = Some(random_b64url(24));
    }
    if let Some(s) = upstream_state.as_deref().or(request.state.as_deref()) {
        pairs.push(("state", s));
    }
    pairs.push(("iss", &request.issuer));
    redirect_with(&redirect_uri, &pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_token_claims_read_the_payload_and_amr_decides_the_method() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"abc","amr":["nba"]}"#);
        let claims = id_token_claims(&format!("h.{payload}.s")).expect("claims");
        assert_eq!(claims["sub"], "abc");
        assert_eq!(authn_from(Some(&claims)), AuthnMethod::Network);
        assert_eq!(id_token_claims("not-a-jwt"), None);
        let otp = serde_json::json!({"amr": ["sms", "otp"]});
        assert_eq!(authn_from(Some(&otp)), AuthnMethod::SmsOtp);
        assert_eq!(authn_from(None), AuthnMethod::Network);
    }
}
