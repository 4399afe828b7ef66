//! An aggregator (channel partner) in front of two operators, each a full reference provider:
//! what `nvcert serve --aggregator` runs, so that nvcert's aggregator checks have a conformant
//! target and, with [`AggregatorFault`]s, targets breaking one rule each.
//!
//! # Topology (defaults)
//!
//! ```text
//!   app ──/token, API──▶ aggregator 127.0.0.1:9093 ──server to server──▶ operator A 127.0.0.11:9093
//!   device ─/authorize─▶   (telco finder)        ─device redirected──▶ operator B 127.0.0.12:9093
//! ```
//!
//! The operators listen at the aggregator's port (ephemeral ones when it is 0). The telco finder
//! maps the device's TCP source address to an operator: `127.0.0.2` → A (line `+34600000002`),
//! `127.0.0.3` → B (line `+34700000003`); without a known address, a number in the enrichment
//! header `x-nvcert-msisdn` goes to the operator whose numbers it starts like (`+346…` → A,
//! `+347…` → B). Operators are configured by `fixtures/aggregator/operator-{a,b}.toml`; the
//! aggregator is their client `nvcert-aggregator` (HTTP Basic, TEST-ONLY secret
//! `fixtures/keys/aggregator-client-secret.TEST-ONLY.txt`, redirect URI `{A}/callback`).
//!
//! # The chain (NV white paper, Annex – Detailed Flows; the Telefónica Open Gateway sample)
//!
//! 1. Device → `GET {A}/authorize` (the app's request). The aggregator's app-facing side *is* the
//!    reference provider's authorization server (same `authorize`, `token`, `client_auth`,
//!    `discovery`, `mint`, same client registry as `fixtures/reference-provider.toml`): the
//!    client, redirect URI, scope or `purpose`, PKCE and prompt are checked exactly as there.
//!    Only the last step, "who is on the line", differs: instead of recognising the line, the
//!    aggregator runs the telco finder and answers `302 {operator}/authorize?client_id=
//!    nvcert-aggregator&redirect_uri={A}/callback&state=<its own>&code_challenge=…` (S256).
//! 2. The operator recognises the line and redirects to `{A}/callback?code=OPCODE&state=…&iss=…`.
//! 3. `{A}/callback` redeems OPCODE at the operator's `/token` (server to server, HTTP Basic,
//!    PKCE verifier), keeps the operator access token, and answers `302 {app redirect_uri}?
//!    code=AGGCODE&state=<the app's>&iss={A}`.
//! 4. App → `POST {A}/token` → `{access_token: AGGTOKEN, token_type: Bearer, expires_in}`, with
//!    `expires_in` at most the operator token's remaining lifetime (and an ID token signed by
//!    the aggregator, pairwise `sub`, when `openid` was asked).
//! 5. App → `{A}{base}/verify` or `/device-phone-number` with AGGTOKEN → forwarded unchanged to
//!    the operator with the operator token; the operator's status, body and `x-correlator` come
//!    back unchanged.
//!
//! # Token format
//!
//! AGGTOKEN is an opaque reference token: 256 random bits, base64url, resolved in the
//! aggregator's memory to (operator, operator token, expiry). The white paper allows a JWE
//! (encrypted wrapping) or a reference token; the reference token was chosen because it reveals
//! nothing by construction (no key management, no ciphertext whose size or header says
//! anything), revocation is a map removal, and the aggregator must hold state anyway (codes,
//! pending delegations). Its cost is that the aggregator cannot be scaled out without shared
//! storage, which does not matter for a test target.
//!
//! # Modes
//!
//! CAMARA (default): NV 2.1.0 on both sides, discovery at `{A}/.well-known/openid-configuration`,
//! API at `{A}/number-verification/v2`. v0 (`--spec-version 0.3.1`, the operator sample): NV
//! 0.3.1 on both sides, `purpose=dpv:…#number-verification-verify-read` accepted at
//! `/authorize`, `/token` with HTTP Basic and `grant_type` + `code` only (a `redirect_uri` that
//! is sent must still match), API at `{A}/number-verification/v0`.
//!
//! # Errors
//!
//! - Unknown device address (no operator found): `302 {app redirect_uri}?error=access_denied&
//!   error_description=no operator found for the device's network address (telco finder)&
//!   state=S&iss={A}` (RFC 6749 §4.1.2.1) — never a 5xx.
//! - Operator answered the aggregator's authorization request with an error: the same error
//!   (`access_denied`, `login_required`, `interaction_required`, `temporarily_unavailable`; any
//!   other becomes `server_error`) redirected to the app with the app's state.
//! - Operator unreachable, too slow, or refusing the code exchange at step 3:
//!   `302 {app redirect_uri}?error=temporarily_unavailable&…&state=S`. Every call to an operator
//!   is bounded by [`AggregatorConfig::upstream_timeout`] (3 s by default) and follows no
//!   redirect.
//! - Unknown, expired or missing AGGTOKEN at the API: 401 `UNAUTHENTICATED` from the aggregator
//!   itself (an operator token is unknown to the aggregator, so it gets this too). Operator
//!   unreachable at the API: 503 `UNAVAILABLE`; too slow: 504 `TIMEOUT` (CAMARA `ErrorInfo`).
//! - A code the aggregator did not issue at `{A}/token`: `400 invalid_grant`.
//! - Unknown or expired aggregator state at `{A}/callback`: a 400 page, no redirect.
//!
//! TEST-ONLY, like the reference provider: every key, secret and number is a fixture.

mod fault;
mod forward;
mod upstream;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::config::ProviderConfig;
use super::error::ProviderError;
use super::extract::parse_params;
use super::state::AppState;
use super::version::SpecVersion;
use super::{ProviderHandle, authorize, discovery, server, token};
use crate::secret::Secret;

pub use fault::{AggregatorFault, UnknownAggregatorFault};
pub(crate) use upstream::{Delegation, Upstream, UpstreamGrant};

/// The client id of the aggregator at its operators.
pub const AGGREGATOR_CLIENT_ID: &str = "nvcert-aggregator";

const OPERATOR_A_TOML: &str = include_str!("../../../fixtures/aggregator/operator-a.toml");
const OPERATOR_B_TOML: &str = include_str!("../../../fixtures/aggregator/operator-b.toml");
const AGGREGATOR_SECRET: &str =
    include_str!("../../../fixtures/keys/aggregator-client-secret.TEST-ONLY.txt");
/// The files the operator fixtures name, relative to `fixtures/aggregator/`.
const OPERATOR_FILES: &[(&str, &str)] = &[
    (
        "../keys/reference-provider-es256.TEST-ONLY.pem",
        include_str!("../../../fixtures/keys/reference-provider-es256.TEST-ONLY.pem"),
    ),
    (
        "../keys/demo-client-es256.pub.pem",
        include_str!("../../../fixtures/keys/demo-client-es256.pub.pem"),
    ),
    (
        "../keys/demo-client-secret.TEST-ONLY.txt",
        include_str!("../../../fixtures/keys/demo-client-secret.TEST-ONLY.txt"),
    ),
    (
        "../keys/aggregator-client-secret.TEST-ONLY.txt",
        AGGREGATOR_SECRET,
    ),
];

/// One operator of the topology.
#[derive(Debug, Clone)]
pub struct OperatorConfig {
    /// Short name (`A`, `B`), used in messages and the ready line.
    pub name: String,
    /// The loopback address the operator listens on (at the aggregator's port).
    pub host: IpAddr,
    /// The device source address the telco finder sends to this operator.
    pub device_address: IpAddr,
    /// The line the operator recognises at `device_address`.
    pub msisdn: String,
    /// Enrichment-header numbers with this prefix are also sent here.
    pub number_prefix: String,
    /// The operator's reference-provider configuration.
    pub provider: ProviderConfig,
}

/// The whole topology: the aggregator's app-facing authorization server, its operators, and how
/// it talks to them.
#[derive(Debug, Clone)]
pub struct AggregatorConfig {
    /// The aggregator's own authorization server (client registry, code and token lifetimes,
    /// signing key): by default the reference provider's configuration.
    pub app_facing: ProviderConfig,
    /// The operators behind it (at least one).
    pub operators: Vec<OperatorConfig>,
    /// Deliberate deviations of the aggregator (the operators stay conformant).
    pub faults: Vec<AggregatorFault>,
    /// Bound on every call to an operator (connect and answer).
    pub upstream_timeout: Duration,
}

impl AggregatorConfig {
    /// The compiled-in topology: operators A and B from `fixtures/aggregator/`, the reference
    /// provider's clients at the aggregator, NV 2.1.0 on both sides, no fault.
    pub fn embedded() -> Self {
        let operator = |name: &str, toml: &str, host: [u8; 4], device: [u8; 4], prefix: &str| {
            let provider = ProviderConfig::from_embedded(
                toml,
                &format!(
                    "<embedded>/aggregator/operator-{}.toml",
                    name.to_lowercase()
                ),
                OPERATOR_FILES,
            )
            // Compiled in and covered by tests; failing here is a build defect.
            .expect("embedded operator fixture is valid");
            let device_address = IpAddr::V4(Ipv4Addr::from(device));
            let msisdn = provider
                .ip_lines
                .iter()
                .find(|l| l.source_ip == device_address)
                .map(|l| l.msisdn.clone())
                .expect("the operator fixture has a line at its device address");
            OperatorConfig {
                name: name.to_owned(),
                host: IpAddr::V4(Ipv4Addr::from(host)),
                device_address,
                msisdn,
                number_prefix: prefix.to_owned(),
                provider,
            }
        };
        Self {
            app_facing: ProviderConfig::embedded(),
            operators: vec![
                operator(
                    "A",
                    OPERATOR_A_TOML,
                    [127, 0, 0, 11],
                    [127, 0, 0, 2],
                    "+346",
                ),
                operator(
                    "B",
                    OPERATOR_B_TOML,
                    [127, 0, 0, 12],
                    [127, 0, 0, 3],
                    "+347",
                ),
            ],
            faults: Vec::new(),
            upstream_timeout: Duration::from_secs(3),
        }
    }

    /// Sets the NV version on both sides (`0.3.1` is the operator sample's v0 mode).
    pub fn set_spec_version(&mut self, version: SpecVersion) {
        self.app_facing.set_spec_version(version);
        for op in &mut self.operators {
            op.provider.set_spec_version(version);
        }
    }

    /// Builder form of [`AggregatorConfig::set_spec_version`].
    pub fn with_spec_version(mut self, version: SpecVersion) -> Self {
        self.set_spec_version(version);
        self
    }

    /// Adds aggregator faults (duplicates are ignored).
    pub fn with_faults(mut self, faults: impl IntoIterator<Item = AggregatorFault>) -> Self {
        for f in faults {
            if !self.faults.contains(&f) {
                self.faults.push(f);
            }
        }
        self
    }

    /// The NV version served.
    pub fn spec_version(&self) -> SpecVersion {
        self.app_facing.spec_version
    }
}

/// An operator as it runs.
#[derive(Debug, Clone)]
pub struct OperatorInfo {
    /// Short name (`A`, `B`).
    pub name: String,
    /// The operator's issuer (its public URL without trailing slash).
    pub url: String,
    /// `{url}{api_base_path}`.
    pub api_root: String,
    /// The device source address the telco finder sends to this operator.
    pub device_address: IpAddr,
    /// The line the operator recognises at that address.
    pub msisdn: String,
}

/// A running aggregator and its operators. Dropping it stops all of them (without waiting).
#[derive(Debug)]
pub struct AggregatorHandle {
    /// The aggregator's public URL.
    pub url: url::Url,
    /// The address the aggregator's listener is bound to.
    pub local_addr: SocketAddr,
    /// The operators, in configuration order.
    pub operators: Vec<OperatorInfo>,
    issuer: String,
    api_base_path: String,
    server: server::Running,
    /// `None` once stopped by [`AggregatorHandle::stop_operator`].
    operator_handles: Vec<Option<ProviderHandle>>,
}

impl AggregatorHandle {
    /// The aggregator's issuer: its public URL without trailing slash.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `{issuer}{path}`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// `{issuer}{api_base_path}{path}` (e.g. `"/verify"`).
    pub fn api_endpoint(&self, path: &str) -> String {
        format!("{}{}{path}", self.issuer, self.api_base_path)
    }

    /// Stops operator `index` (configuration order) and waits for it, leaving the aggregator
    /// running: an operator outage, for tests of the aggregator's bounded, documented answers.
    /// Does nothing when it is already stopped.
    ///
    /// # Errors
    ///
    /// [`ProviderError::Serve`] when the operator had failed before it was stopped.
    pub async fn stop_operator(&mut self, index: usize) -> Result<(), ProviderError> {
        match self.operator_handles.get_mut(index).and_then(Option::take) {
            Some(handle) => handle.shutdown().await,
            None => Ok(()),
        }
    }

    /// Stops the aggregator, then the operators (each lets in-flight requests finish, at most
    /// 5 s).
    ///
    /// # Errors
    ///
    /// The first [`ProviderError::Serve`] of a server that had failed before it was stopped.
    pub async fn shutdown(mut self) -> Result<(), ProviderError> {
        let mut outcome = self.server.stop(self.local_addr).await;
        for op in std::mem::take(&mut self.operator_handles)
            .into_iter()
            .flatten()
        {
            let stopped = op.shutdown().await;
            if outcome.is_ok() {
                outcome = stopped;
            }
        }
        outcome
    }
}

/// Starts the operators, then the aggregator on `addr` (port 0 = ephemeral; the operators then
/// take ephemeral ports too, else the same port on their own addresses). `public_url` defaults
/// to `http://<bound addr>`.
pub async fn spawn(
    config: AggregatorConfig,
    addr: SocketAddr,
    public_url: Option<url::Url>,
) -> Result<AggregatorHandle, ProviderError> {
    let (listener, local_addr, url) = server::bind(addr, public_url).await?;
    let issuer = url.as_str().trim_end_matches('/').to_owned();
    let callback = format!("{issuer}/callback");
    let version = config.spec_version();

    let mut operator_handles = Vec::with_capacity(config.operators.len());
    let mut operators = Vec::with_capacity(config.operators.len());
    for op in &config.operators {
        let mut provider = op.provider.clone();
        for client in &mut provider.clients {
            if client.client_id == AGGREGATOR_CLIENT_ID {
                client.redirect_uris = vec![callback.clone()];
            }
        }
        let handle = super::spawn(provider, SocketAddr::new(op.host, addr.port()), None).await?;
        operators.push(upstream::Operator {
            name: op.name.clone(),
            issuer: handle.issuer().to_owned(),
            api_root: handle.api_endpoint(""),
            device_address: op.device_address,
            msisdn: op.msisdn.clone(),
            number_prefix: op.number_prefix.clone(),
        });
        operator_handles.push(Some(handle));
    }
    let infos = operators
        .iter()
        .map(|o| OperatorInfo {
            name: o.name.clone(),
            url: o.issuer.clone(),
            api_root: o.api_root.clone(),
            device_address: o.device_address,
            msisdn: o.msisdn.clone(),
        })
        .collect();
    let upstream = Upstream::new(upstream::UpstreamSettings {
        operators,
        faults: config.faults.clone(),
        client_id: AGGREGATOR_CLIENT_ID.to_owned(),
        client_secret: Secret::new(AGGREGATOR_SECRET.trim_end()),
        callback,
        timeout: config.upstream_timeout,
        version,
        enrichment_header: config.app_facing.enrichment_header.clone(),
    })
    .map_err(|e| ProviderError::Serve {
        addr: local_addr,
        source: std::io::Error::other(format!("the aggregator's HTTP client: {e}")),
    })?;
    let limits = config.app_facing.server;
    let state = AppState::with_upstream(config.app_facing, url.clone(), Arc::new(upstream))?;
    let api_base_path = state.config().api_base_path.clone();
    let server = server::start(listener, router(state), limits);
    Ok(AggregatorHandle {
        url,
        local_addr,
        operators: infos,
        issuer,
        api_base_path,
        server,
        operator_handles,
    })
}

/// The aggregator as an axum router: the reference provider's discovery, `/authorize` and
/// `/token` (with the aggregator's state), plus `/callback` and the forwarding API.
fn router(state: AppState) -> Router {
    let routes = Router::new()
        .merge(discovery::router())
        .merge(authorize::router_at("/authorize"))
        .route("/token", post(token_endpoint))
        .route("/callback", get(upstream::callback))
        .merge(forward::router(&state));
    super::at_public_path(routes, state)
}

/// `POST /token`: the reference provider's token endpoint, except that under
/// `aggregator-accepts-operator-code` a code the aggregator never issued is tried at the
/// operators first.
async fn token_endpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(upstream) = state.0.upstream.clone()
        && upstream.has(AggregatorFault::AcceptsOperatorCode)
        && let Some(code) = parse_params(&body)
            .ok()
            .and_then(|p| p.get("code").cloned())
        && !state.0.stores.knows_code(&code)
        && let Some(answer) = upstream.try_foreign_code(&headers, &body).await
    {
        return answer;
    }
    match token::exchange(&state, &headers, &body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_topology_registers_the_aggregator_at_every_operator() {
        let config = AggregatorConfig::embedded();
        assert_eq!(config.operators.len(), 2);
        let secret = AGGREGATOR_SECRET.trim_end();
        for op in &config.operators {
            let client = op
                .provider
                .client(AGGREGATOR_CLIENT_ID)
                .expect("the aggregator is a client of every operator");
            assert_eq!(
                client.client_secret.as_ref().map(Secret::expose),
                Some(secret),
                "{}",
                op.name
            );
            assert!(client.require_pkce, "{}", op.name);
            assert!(op.provider.client("nvcert-demo").is_some(), "{}", op.name);
            assert!(op.msisdn.starts_with(&op.number_prefix), "{}", op.name);
        }
        let (a, b) = (&config.operators[0], &config.operators[1]);
        assert_eq!(
            (a.device_address, a.msisdn.as_str()),
            (IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), "+34600000002")
        );
        assert_eq!(
            (b.device_address, b.msisdn.as_str()),
            (IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)), "+34700000003")
        );
        assert_ne!(a.host, b.host);
        assert!(config.app_facing.client("nvcert-demo").is_some());
        assert!(config.faults.is_empty());
    }

    #[test]
    fn the_spec_version_is_set_on_both_sides() {
        let config = AggregatorConfig::embedded().with_spec_version(SpecVersion::V0_3_1);
        assert_eq!(config.spec_version(), SpecVersion::V0_3_1);
        assert_eq!(config.app_facing.api_base_path, "/number-verification/v0");
        for op in &config.operators {
            assert_eq!(op.provider.spec_version, SpecVersion::V0_3_1);
            assert_eq!(op.provider.api_base_path, "/number-verification/v0");
        }
    }

    #[test]
    fn faults_are_added_once() {
        let config = AggregatorConfig::embedded()
            .with_faults([AggregatorFault::DropsState, AggregatorFault::DropsState]);
        assert_eq!(config.faults, [AggregatorFault::DropsState]);
    }
}
