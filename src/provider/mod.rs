//! The embedded reference provider: an OIDC authorization server plus the CAMARA Number
//! Verification API, with simulated network-based authentication.
//!
//! It is what nvcert certifies by default and what nvcert's tests run against, so it aims to be
//! conformant to NV v2.1.0 and the CAMARA ICM profile (auth-code flow) and fast on the NV hot
//! path. It shares no validation code with the checking side (it must not import `spec` or any
//! checks): one bug cannot then hide on both sides.
//!
//! It can serve any released NV version (and `wip`) with that version's rules ([`SpecVersion`],
//! `spec_version` in the config), and can break single rules on purpose ([`Fault`], `faults` in the
//! config) so that nvcert's checks can be shown to catch them.
//!
//! [`aggregator`] runs this provider as a channel partner in front of two operators (each a
//! full instance of this provider): the same authorization server with its line identification
//! delegated to the operator serving the device (telco finder + the aggregator's own
//! authorization-code flow with the operator), opaque aggregator tokens, and API calls
//! forwarded with the operator token (`nvcert serve --aggregator`). It is an instance built with
//! `AppState::with_upstream`: `authorize` asks the upstream instead of the network, `mint`
//! issues the upstream's reference token instead of a JWT, and the instance offers the
//! authorization-code grant only (`Inner::offers_ciba`).
//!
//! Modules: [`config`] (TOML format), [`version`] (per-version facts), [`fault`] (fault switches),
//! `state` (per instance: keys, endpoint URLs, client registry, bounded stores), `discovery`,
//! `authorize`, `token` (+ `client_auth`), `operator` (TS.43 operator token, CIBA, JWT bearer),
//! `api` (one router each, merged by [`router`]), `mint` (access and ID tokens for every grant),
//! `error` (wire forms of errors).
//!
//! URLs: the issuer is the public URL without trailing slash; every endpoint is
//! `{issuer}{path}`, e.g. `{issuer}/authorize`, `{issuer}/number-verification/v2/verify`. If the
//! public URL has a path (`https://host/op/`), routes are served under that path.
//!
//! TEST-ONLY: the provider trusts the enrichment header from any caller. Never expose it to a
//! network whose callers you do not control.

pub mod aggregator;
pub mod config;
pub mod dialect;
pub mod error;
pub mod fault;
pub mod phonecheck;
pub mod version;

mod api;
mod authorize;
mod client_auth;
mod client_jwt;
mod discovery;
mod extract;
mod mint;
mod operator;
mod server;
mod state;
mod token;

use std::net::SocketAddr;

use axum::Router;

pub use config::{
    AuthMethod, ClientConfig, IpLine, OtpLogin, ProviderConfig, ServerLimits, TestLine,
};
pub use dialect::{ProviderDialect, UnknownDialect};
pub use error::{ApiError, OAuthError, ProviderError};
pub use fault::{Fault, FaultSet, UnknownFault};
pub use state::{AppState, SCOPE_SHARE, SCOPE_VERIFY};
pub use token::{GRANT_CIBA, GRANT_JWT_BEARER, JWT_BEARER_ASSERTION};
pub use version::{SpecVersion, UnknownSpecVersion};

/// The whole provider as an axum router (use `oneshot` in tests; add
/// `ConnectInfo<SocketAddr>` to request extensions to exercise the source-IP table).
pub fn router(state: AppState) -> Router {
    let routes = match state.0.dialect {
        // A dialect publishes no discovery document and has its own endpoint paths.
        Some(dialect) => Router::new()
            .merge(authorize::router_at(&dialect.authorize_path()))
            .merge(token::router_at(dialect.token_path())),
        None => Router::new()
            .merge(discovery::router())
            .merge(authorize::router_at("/authorize"))
            .merge(token::router_at("/token")),
    };
    let routes = routes
        .merge(operator::router(&state))
        .merge(api::router(&state));
    at_public_path(routes, state)
}

/// `routes` nested under the public URL's path (if any), with `state`.
pub(crate) fn at_public_path(routes: Router<AppState>, state: AppState) -> Router {
    let path = state.0.endpoints.public_path.clone();
    let routes = if path.is_empty() {
        routes
    } else {
        Router::new().nest(&path, routes)
    };
    routes.with_state(state)
}

/// A running provider. Dropping it also stops the server (without waiting).
#[derive(Debug)]
pub struct ProviderHandle {
    /// The public URL (as a `Url`, `as_str()` ends with `/` when the path is empty — use
    /// [`ProviderHandle::issuer`] or [`ProviderHandle::endpoint`] to build endpoint URLs).
    pub url: url::Url,
    /// The address the listener is bound to.
    pub local_addr: SocketAddr,
    issuer: String,
    state: AppState,
    server: server::Running,
}

impl ProviderHandle {
    /// The issuer: the public URL without trailing slash.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `{issuer}{path}`; `path` starts with `/` (e.g. `"/token"`, `"/number-verification/v2/verify"`).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The URL of an NV API operation: `{issuer}{api_base_path}{path}` (e.g. `"/verify"`).
    pub fn api_endpoint(&self, path: &str) -> String {
        format!("{}{}{path}", self.issuer, self.state.config().api_base_path)
    }

    /// The running instance's state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting connections, lets in-flight requests finish (at most 5 s), and waits.
    ///
    /// # Errors
    ///
    /// [`ProviderError::Serve`] when the server had stopped with an error (or its task panicked)
    /// before it was asked to stop: this is the only place that error is reported.
    pub async fn shutdown(mut self) -> Result<(), ProviderError> {
        self.server.stop(self.local_addr).await
    }
}

/// Binds `addr` (port 0 = ephemeral), serves in a tokio task, with `ConnectInfo<SocketAddr>` for
/// the source-IP table. `public_url` defaults to `http://<bound addr>`. Discovery, redirects and
/// token `iss` use the public URL.
pub async fn spawn(
    config: ProviderConfig,
    addr: SocketAddr,
    public_url: Option<url::Url>,
) -> Result<ProviderHandle, ProviderError> {
    spawn_inner(config, addr, public_url, None).await
}

/// [`spawn`], also serving `extra` routes at the root of the listener, beside the provider's own
/// (which are unchanged). For bench-only endpoints: `nvcert serve --bench-endpoints`.
pub async fn spawn_with_routes(
    config: ProviderConfig,
    addr: SocketAddr,
    public_url: Option<url::Url>,
    extra: Router,
) -> Result<ProviderHandle, ProviderError> {
    spawn_inner(config, addr, public_url, Some(extra)).await
}

async fn spawn_inner(
    config: ProviderConfig,
    addr: SocketAddr,
    public_url: Option<url::Url>,
    extra: Option<Router>,
) -> Result<ProviderHandle, ProviderError> {
    let (listener, local_addr, url) = server::bind(addr, public_url).await?;
    let limits = config.server;
    let state = AppState::new(config, url.clone())?;
    let issuer = state.issuer().to_owned();
    let app = match extra {
        Some(extra) => router(state.clone()).merge(extra),
        None => router(state.clone()),
    };
    let server = server::start(listener, app, limits);
    Ok(ProviderHandle {
        url,
        local_addr,
        issuer,
        state,
        server,
    })
}
