//! Runtime state of one provider instance, in named parts: [`Keys`] (key material), [`Endpoints`]
//! (issuer and endpoint URLs), [`ClientRegistry`] (clients and the simulated network's lines), and
//! [`Stores`] (bounded stores of codes, `jti`s, subjects, operator tokens, CIBA requests, used
//! tokens), plus the served version and the fault switches.
//!
//! Owns building all of it from a config and a public URL. It must not parse requests or decide
//! protocol errors; endpoint modules do that and call the small methods of the parts.
//!
//! Parts: `keys`, `endpoints`, `clients`, `stores` (+ `bounded`, the expiring containers), and
//! `grant` (what an authentication grants: method, scope, code and CIBA request contents).

mod bounded;
mod clients;
mod endpoints;
mod grant;
mod keys;
mod stores;

use std::sync::Arc;

use super::config::ProviderConfig;
use super::error::ProviderError;
use super::fault::{Fault, FaultSet};
use super::version::{CorrelatorRule, SpecVersion};

pub(crate) use bounded::{JtiError, Purging, StoreFull, lock};
pub(crate) use clients::{Client, ClientRegistry, Line};
pub(crate) use endpoints::Endpoints;
pub(crate) use grant::{
    AuthnMethod, CibaRequest, CodeGrant, CodeRequest, GrantedScope, NETWORK_OR_SIM_AMR,
};
pub use grant::{SCOPE_SHARE, SCOPE_VERIFY};
pub(crate) use keys::Keys;
pub(crate) use stores::{CibaPoll, CodeLookup, Stores};

/// Shared state of one provider instance. Cheap to clone (an `Arc`).
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("issuer", &self.0.endpoints.issuer)
            .finish_non_exhaustive()
    }
}

/// Everything one instance knows, built once; only the [`Stores`] change afterwards.
pub(crate) struct Inner {
    pub config: ProviderConfig,
    /// The spec version served (copied from the config for the hot path).
    pub version: SpecVersion,
    /// The operator dialect played, if any (copied from the config).
    pub dialect: Option<super::dialect::ProviderDialect>,
    /// Active fault switches.
    pub faults: FaultSet,
    /// Access tokens are single-use (wip or `single_use_tokens`, and not `api-token-reusable`).
    pub single_use: bool,
    /// The version's x-correlator rule.
    pub correlator_rule: CorrelatorRule,
    pub endpoints: Endpoints,
    pub keys: Keys,
    pub clients: ClientRegistry,
    pub stores: Stores,
    /// Set when this instance is an aggregator's app-facing side: the line is identified by an
    /// operator (upstream delegation) instead of locally, and API calls are forwarded.
    pub upstream: Option<Arc<super::aggregator::Upstream>>,
}

impl Inner {
    /// The CIBA grant is offered: the version has it and this is no aggregator (which relays the
    /// authorization-code flow only).
    pub fn offers_ciba(&self) -> bool {
        self.version.supports_ciba() && self.upstream.is_none()
    }

    /// The JWT bearer grant is offered: as [`Inner::offers_ciba`].
    pub fn offers_jwt_bearer(&self) -> bool {
        self.version.supports_jwt_bearer() && self.upstream.is_none()
    }
}

/// A config error in `field` of the config file.
fn invalid(config: &ProviderConfig, field: &str, reason: String) -> ProviderError {
    ProviderError::Invalid {
        file: config.origin.clone(),
        field: field.to_owned(),
        reason,
    }
}

impl AppState {
    /// Builds the state: parses keys, generates the per-instance access-token key and pairwise
    /// secret. `public_url` (http or https, no query or fragment) becomes the issuer.
    pub fn new(config: ProviderConfig, public_url: url::Url) -> Result<Self, ProviderError> {
        Self::build(config, public_url, None)
    }

    /// [`AppState::new`] for an aggregator's app-facing side: the "network authentication" step
    /// of `/authorize` is delegated to `upstream`'s operators.
    pub(crate) fn with_upstream(
        config: ProviderConfig,
        public_url: url::Url,
        upstream: Arc<super::aggregator::Upstream>,
    ) -> Result<Self, ProviderError> {
        Self::build(config, public_url, Some(upstream))
    }

    fn build(
        mut config: ProviderConfig,
        public_url: url::Url,
        upstream: Option<Arc<super::aggregator::Upstream>>,
    ) -> Result<Self, ProviderError> {
        // A base path derived from the spec version follows a version set after loading.
        config.resolve_api_base_path();
        config.validate()?;
        let mut endpoints = Endpoints::from_public_url(&public_url)?;
        if let Some(dialect) = config.dialect {
            endpoints.authorization_endpoint =
                format!("{}{}", endpoints.issuer, dialect.authorize_path());
            endpoints.token_endpoint = format!("{}{}", endpoints.issuer, dialect.token_path());
        }
        let keys = Keys::new(&config, &endpoints.issuer)?;
        let clients = ClientRegistry::new(&config)?;
        let faults: FaultSet = config.faults.iter().copied().collect();
        let inner = Inner {
            version: config.spec_version,
            dialect: config.dialect,
            faults,
            single_use: config.single_use() && !faults.has(Fault::ApiTokenReusable),
            correlator_rule: config.spec_version.correlator_rule(),
            endpoints,
            keys,
            clients,
            stores: Stores::new(faults),
            config,
            upstream,
        };
        Ok(Self(Arc::new(inner)))
    }

    /// The issuer (public URL without trailing slash).
    pub fn issuer(&self) -> &str {
        &self.0.endpoints.issuer
    }

    /// The config this state was built from (with the effective `api_base_path`).
    pub fn config(&self) -> &ProviderConfig {
        &self.0.config
    }

    /// The spec version served.
    pub fn spec_version(&self) -> SpecVersion {
        self.0.version
    }

    /// The active fault switches.
    pub fn faults(&self) -> FaultSet {
        self.0.faults
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> AppState {
        AppState::new(
            ProviderConfig::embedded(),
            url::Url::parse("http://127.0.0.1:1/").expect("url"),
        )
        .expect("state")
    }

    #[test]
    fn issuer_has_no_trailing_slash_and_jwks_has_kid() {
        let state = state();
        assert_eq!(state.issuer(), "http://127.0.0.1:1");
        let k = &state.0.keys.jwks["keys"][0];
        assert_eq!(k["kty"], "EC");
        assert_eq!(k["crv"], "P-256");
        assert_eq!(k["alg"], "ES256");
        assert_eq!(k["use"], "sig");
        assert_eq!(k["kid"], "nvcert-reference-es256-1");
        assert!(k.get("d").is_none(), "private part must not leak");
    }

    #[test]
    fn public_url_rules() {
        let cfg = ProviderConfig::embedded();
        for bad in ["ftp://x/", "http://x/?a=1", "http://u:p@x/"] {
            let u = url::Url::parse(bad).expect("url");
            assert!(AppState::new(cfg.clone(), u).is_err(), "{bad}");
        }
        let state = AppState::new(
            cfg,
            url::Url::parse("https://op.example/base/").expect("url"),
        )
        .expect("ok");
        assert_eq!(state.issuer(), "https://op.example/base");
        assert_eq!(state.0.endpoints.public_path, "/base");
        assert_eq!(
            state.0.endpoints.token_endpoint,
            "https://op.example/base/token"
        );
    }

    #[test]
    fn pairwise_sub_is_opaque_and_per_client() {
        let state = state();
        let keys = &state.0.keys;
        let a = keys.pairwise_sub("nvcert-demo", "+34600000001");
        let b = keys.pairwise_sub("nvcert-other", "+34600000001");
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(!a.contains("34600000001"));
        assert_eq!(a, keys.pairwise_sub("nvcert-demo", "+34600000001"));
        state
            .0
            .stores
            .register_subject(&a, "+34600000001", u64::MAX)
            .expect("room");
        let line = state.0.stores.lookup_subject(&a).expect("known");
        assert_eq!(&*line.msisdn, "+34600000001");
        assert_eq!(line.sha256_hex.len(), 64);
    }

    #[test]
    fn instances_do_not_share_keys() {
        let (one, two) = (state(), state());
        assert_ne!(
            one.0.keys.pairwise_sub("nvcert-demo", "+34600000001"),
            two.0.keys.pairwise_sub("nvcert-demo", "+34600000001")
        );
    }
}
