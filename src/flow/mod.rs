//! Drives a provider through the real flows: discovery, the device leg of the auth-code flow,
//! the token exchange, and NV API calls ([`api`]). It records exchanges and returns what the
//! provider said; it only decides whether a flow can go on (a device leg without a code cannot
//! reach the token endpoint). The load tester reuses it, so it holds no per-scenario state.

mod aggregator;
pub mod api;
mod assertion;
mod ciba;
mod device;
mod discovery;
mod error;
pub mod http;
mod jwks;
pub mod phonecheck;
mod preflight;
mod token;
pub mod trust;

use std::sync::Arc;
use std::time::Duration;

pub use aggregator::Hop;
pub use assertion::{ASSERTION_LIFETIME_SECS, AssertionTweak, ClientKey, now_secs};
pub use ciba::{CIBA_GRANT, CibaStart, JWT_BEARER_GRANT};
pub use device::{
    AuthorizeOutcome, AuthorizeRequest, ClientRole, Device, Login, MAX_REDIRECTS, Pkce,
    RequestObject, RequestObjectAudience, StopAt, random_token,
};
pub use discovery::Discovery;
pub use error::FlowError;
pub use preflight::PreflightError;
pub use token::{JWT_BEARER_ASSERTION, TokenAttempt, TokenOptions, TokenResponse, VerifierChoice};

pub use api::{Api, ApiOperation};
pub use device::DeviceHops;
pub use phonecheck::{CheckUrlOutcome, PhoneCheckEndpoints, PhoneCheckToken};
pub use trust::{Refusal, TrustSet};

use crate::exchange::Exchange;
use crate::profile::{
    Client, OperatorTokenSource, Profile, PurposeStyle, SourceError, TokenSource, ValueSources,
};
use crate::secret::{Redactor, Secret};
use crate::spec::SpecDocument;

/// A token obtained for the suite, with how it was obtained.
#[derive(Debug, Clone)]
pub struct ObtainedToken {
    /// The access token.
    pub access_token: Secret,
    /// The full token response, when it came from a flow (not from a token source).
    pub response: Option<TokenResponse>,
}

/// A registered client and its parsed signing key.
#[derive(Debug, Clone)]
pub struct ClientEntry {
    /// The client's profile entry.
    pub client: Client,
    /// Its signing key, when it has one.
    pub key: Option<ClientKey>,
}

impl ClientEntry {
    fn new(client: &Client) -> Result<Self, FlowError> {
        let key = client
            .private_key_pem
            .as_ref()
            .map(|pem| ClientKey::from_pem(pem, client.key_id.clone()))
            .transpose()?;
        Ok(Self {
            client: client.clone(),
            key,
        })
    }

    /// The signing key, or `Unavailable` naming what needs it.
    pub fn key(&self, what: &str) -> Result<&ClientKey, FlowError> {
        self.key.as_ref().ok_or_else(|| {
            FlowError::Unavailable(format!(
                "{what} needs a private key for client {}",
                self.client.client_id
            ))
        })
    }
}

/// The flows of one provider profile. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Flow {
    profile: Arc<Profile>,
    backend: reqwest::Client,
    device: Option<reqwest::Client>,
    main: ClientEntry,
    other: Option<ClientEntry>,
    short_lived: Option<ClientEntry>,
    /// The short-lived client under its `token_client_id`, if the profile names one.
    short_token: Option<ClientEntry>,
    redactor: Redactor,
    api: Api,
    sources: ValueSources,
    trust: TrustSet,
    discovery: tokio::sync::OnceCell<DiscoveryFetch>,
    /// The PhoneCheck endpoints, when the profile is of that family.
    phonecheck: Option<PhoneCheckEndpoints>,
    /// The profile's explicit endpoints, standing in for discovery.
    explicit: Option<Discovery>,
    /// The per-line devices and direct operator flows of an aggregator profile.
    aggregator: Option<aggregator::AggregatorLegs>,
}

/// The run's one discovery fetch, kept whatever its outcome: every scenario (and the run's
/// preflight) reads it, so a failing or hanging discovery costs one timeout per run, not one per
/// scenario.
#[derive(Debug)]
struct DiscoveryFetch {
    /// The exchange and the document parsed from it; `Err` when no answer was read.
    fetched: Result<(Result<Discovery, FlowError>, Exchange), FlowError>,
    /// Whether the endpoints the document names are all the provider's (see [`TrustSet`]).
    trusted: Result<(), FlowError>,
}

/// The discovery members naming endpoints nvcert contacts; each must be on the provider's hosts.
pub const CONTACTED_DISCOVERY_MEMBERS: &[&str] = &[
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "backchannel_authentication_endpoint",
];

/// Why discovery checks do not run when the profile names the endpoints.
pub const EXPLICIT_ENDPOINTS: &str = "the profile gives authorization_endpoint and token_endpoint \
     explicitly (the provider publishes no discovery document): discovery is not checked";

impl Flow {
    /// Builds the HTTP clients, parses the client keys of `profile` and builds its [`Api`] from
    /// `spec`; token sources are read through `sources`.
    pub fn new(
        profile: Arc<Profile>,
        spec: &SpecDocument,
        redactor: Redactor,
        sources: ValueSources,
    ) -> Result<Self, FlowError> {
        let timeout = Duration::from_secs(profile.timeout_secs);
        let backend = http::backend_client(timeout)?;
        let device = profile
            .device_leg
            .as_ref()
            .map(|leg| http::device_client(timeout, leg))
            .transpose()?;
        let main = ClientEntry::new(&profile.client)?;
        let other = profile
            .other_client
            .as_ref()
            .map(ClientEntry::new)
            .transpose()?;
        let short_lived = profile
            .short_lived_client
            .as_ref()
            .map(|s| ClientEntry::new(&s.client))
            .transpose()?;
        let short_token = profile
            .short_lived_client
            .as_ref()
            .and_then(|s| {
                let id = s.token_client_id.as_ref()?;
                let mut client = s.client.clone();
                client.client_id.clone_from(id);
                Some(ClientEntry::new(&client))
            })
            .transpose()?;
        for secret in profile.secrets() {
            redactor.register(&secret);
        }
        let api = Api::new(&profile, spec)?;
        let phonecheck = (profile.family == crate::profile::Family::PhoneCheck)
            .then(|| PhoneCheckEndpoints::new(&profile, spec))
            .transpose()?;
        let explicit = profile
            .endpoints
            .as_ref()
            // The issuer as written: `Url` adds a `/` to a bare origin, an OIDC issuer has none.
            .map(|e| {
                let issuer = match profile.issuer.path() {
                    "/" => profile.issuer.as_str().trim_end_matches('/'),
                    _ => profile.issuer.as_str(),
                };
                Discovery::explicit(issuer, e)
            });
        let trust = TrustSet::of_profile(&profile);
        let aggregator = aggregator::AggregatorLegs::new(&profile, spec, &redactor, &sources)?;
        Ok(Self {
            aggregator,
            trust,
            phonecheck,
            explicit,
            api,
            sources,
            profile,
            backend,
            device,
            main,
            other,
            short_lived,
            short_token,
            redactor,
            discovery: tokio::sync::OnceCell::new(),
        })
    }

    /// The client playing `role`, or `Unavailable` when the profile names none.
    pub fn client(&self, role: ClientRole) -> Result<&ClientEntry, FlowError> {
        match role {
            ClientRole::Main => Ok(&self.main),
            ClientRole::Other => self.other.as_ref().ok_or_else(|| {
                FlowError::Unavailable("the profile declares no [other_client]".into())
            }),
            ClientRole::ShortLived => self.short_lived.as_ref().ok_or_else(|| {
                FlowError::Unavailable("the profile declares no [short_lived_client]".into())
            }),
            ClientRole::ShortLivedToken => match &self.short_token {
                Some(entry) => Ok(entry),
                None => self.client(ClientRole::ShortLived),
            },
        }
    }

    /// The profile driven.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The NV operations of the provider.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// The run's redactor (every secret the flows see is registered there).
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The backend HTTP client (no automatic redirects).
    pub fn backend(&self) -> &reqwest::Client {
        &self.backend
    }

    /// The hosts this run may contact.
    pub fn trust(&self) -> &TrustSet {
        &self.trust
    }

    /// The discovery document's exchange and what was parsed from it, for the checks of the
    /// document itself. Fetched once per run (with [`Flow::discovery`]); `Err` when no answer
    /// could be read.
    pub async fn fetch_discovery(
        &self,
    ) -> Result<(Result<Discovery, FlowError>, Exchange), FlowError> {
        if self.explicit.is_some() {
            return Err(FlowError::Unavailable(EXPLICIT_ENDPOINTS.into()));
        }
        self.discovery_fetch().await.fetched.clone()
    }

    /// The discovery document, fetched once per run; its failure is kept and returned to every
    /// caller. A document naming an endpoint outside the provider's hosts
    /// ([`CONTACTED_DISCOVERY_MEMBERS`]) is [`FlowError::Untrusted`]: nothing is sent there, and
    /// `run` and `load` stop before any scenario or load (exit 2).
    pub async fn discovery(&self) -> Result<&Discovery, FlowError> {
        if let Some(explicit) = &self.explicit {
            return Ok(explicit);
        }
        let fetch = self.discovery_fetch().await;
        match &fetch.fetched {
            Err(e) | Ok((Err(e), _)) => Err(e.clone()),
            Ok((Ok(discovery), _)) => {
                fetch.trusted.clone()?;
                Ok(discovery)
            }
        }
    }

    async fn discovery_fetch(&self) -> &DiscoveryFetch {
        self.discovery
            .get_or_init(|| async {
                let fetched = self.fetch_discovery_once().await;
                let trusted = match &fetched {
                    Ok((Ok(discovery), _)) => self.endpoints_trusted(discovery),
                    _ => Ok(()),
                };
                DiscoveryFetch { fetched, trusted }
            })
            .await
    }

    async fn fetch_discovery_once(
        &self,
    ) -> Result<(Result<Discovery, FlowError>, Exchange), FlowError> {
        let req = self
            .backend
            .get(self.profile.discovery_url.clone())
            .build()
            .map_err(|e| FlowError::Config(format!("discovery request: {e}")))?;
        let exchange = self.transmit(&self.backend, req, "discovery").await?;
        Ok((Discovery::from_exchange(&exchange), exchange))
    }

    /// Every endpoint of [`CONTACTED_DISCOVERY_MEMBERS`] the document names is on the
    /// provider's hosts.
    fn endpoints_trusted(&self, discovery: &Discovery) -> Result<(), FlowError> {
        for member in CONTACTED_DISCOVERY_MEMBERS {
            let Some(text) = discovery.document.get(*member).and_then(|v| v.as_str()) else {
                continue;
            };
            let Ok(url) = url::Url::parse(text) else {
                continue;
            };
            if let Err(refusal) = self.trust.check(&url) {
                let subject = format!(
                    "field `{member}` is {}, whose host",
                    crate::secret::shown_url(&url)
                );
                return Err(FlowError::Untrusted {
                    step: "discovery",
                    message: self.trust.explain(&subject, &url, refusal),
                });
            }
        }
        Ok(())
    }

    /// Sends `request` on `client` and records it, if its URL is one of the provider's hosts.
    /// Every request of the flows goes through here; the wait is bounded by the profile's
    /// `timeout_secs` (the client's own timeout, and this one in case the client's does not fire).
    async fn transmit(
        &self,
        client: &reqwest::Client,
        request: reqwest::Request,
        step: &'static str,
    ) -> Result<Exchange, FlowError> {
        if let Err(refusal) = self.trust.check(request.url()) {
            return Err(FlowError::Untrusted {
                step,
                message: self.trust.explain("request to", request.url(), refusal),
            });
        }
        let limit = Duration::from_secs(self.profile.timeout_secs);
        let url = crate::secret::shown_url(request.url());
        // Boxed: every step's request goes through here, deep in the suite's futures.
        match tokio::time::timeout(
            limit + Duration::from_secs(1),
            Box::pin(http::send(client, request, step, limit)),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(_elapsed) => Err(FlowError::Transport {
                step,
                url,
                message: http::timed_out(limit),
            }),
        }
    }

    /// `openid` (unless a dialect is not OpenID Connect), the purpose (when it travels in
    /// `scope`) and `nv_scopes`.
    pub fn scope_values(&self, nv_scopes: &[String]) -> Vec<String> {
        let mut scope = Vec::new();
        if self.profile.dialect.as_ref().is_none_or(|d| d.openid) {
            scope.push("openid".to_owned());
        }
        if self.profile.purpose_style == PurposeStyle::Scope {
            scope.push(self.profile.purpose.clone());
        }
        scope.extend(nv_scopes.iter().cloned());
        scope
    }

    /// A fresh authorization request for `nv_scopes` (openid and the purpose are added).
    pub fn authorize_request(&self, nv_scopes: &[String], login: Login) -> AuthorizeRequest {
        let scope = self.scope_values(nv_scopes);
        let mut extra = Vec::new();
        if self.profile.purpose_style == PurposeStyle::Parameter {
            extra.push(("purpose".to_owned(), self.profile.purpose.clone()));
        }
        if let (Login::NonNetwork, Some(nn)) = (login, &self.profile.non_network_login) {
            extra.extend(
                nn.authorize_params
                    .iter()
                    .map(|(k, v)| (k.clone(), v.expose().to_owned())),
            );
        }
        AuthorizeRequest {
            scope,
            state: random_token(16),
            nonce: random_token(16),
            pkce: self.profile.pkce.then(Pkce::generate),
            extra,
            login,
            client: ClientRole::Main,
            redirect_uri: self.main.client.redirect_uri.clone(),
            request_object: None,
            device: Device::Profile,
            stop: StopAt::RedirectUri,
        }
    }

    /// The same request made for the client playing `role` (its redirect_uri included).
    pub fn for_client(
        &self,
        mut request: AuthorizeRequest,
        role: ClientRole,
    ) -> Result<AuthorizeRequest, FlowError> {
        request.redirect_uri = self.client(role)?.client.redirect_uri.clone();
        request.client = role;
        Ok(request)
    }

    /// Runs the whole auth-code flow (device leg, state check, code exchange) for `nv_scopes`, or
    /// reads the profile's token source when the device leg cannot run here.
    pub async fn obtain_token(
        &self,
        nv_scopes: &[String],
        login: Login,
    ) -> Result<ObtainedToken, FlowError> {
        self.obtain_token_for(nv_scopes, login, ClientRole::Main)
            .await
    }

    /// [`Flow::obtain_token`] for the client playing `role`.
    pub async fn obtain_token_for(
        &self,
        nv_scopes: &[String],
        login: Login,
        role: ClientRole,
    ) -> Result<ObtainedToken, FlowError> {
        let runnable = match login {
            Login::Network => self.profile.device_leg.is_some(),
            Login::NonNetwork => self.profile.non_network_login.is_some(),
        };
        if !runnable {
            return match (login, &self.profile.token_source) {
                (Login::Network, Some(source)) => self.token_from_source(source).await,
                (Login::Network, None) => Err(FlowError::Unavailable(
                    "the profile has no [device_leg] or [token_source]".into(),
                )),
                (Login::NonNetwork, _) => Err(FlowError::Unavailable(
                    "the profile declares no [non_network_login] to obtain a non-network token"
                        .into(),
                )),
            };
        }
        if !self.profile.flows.authorization_code {
            return Err(FlowError::Unavailable(
                "the profile says the provider offers no authorization code flow".into(),
            ));
        }
        let request = self.for_client(self.authorize_request(nv_scopes, login), role)?;
        let outcome = self.authorize(&request).await?;
        let code = outcome.code_to_continue(&request)?;
        let (response, _) = self.exchange_code(&code, &request).await?;
        Ok(ObtainedToken {
            access_token: response.access_token.clone(),
            response: Some(response),
        })
    }

    async fn token_from_source(&self, source: &TokenSource) -> Result<ObtainedToken, FlowError> {
        let token = self
            .sources
            .read("token source", source)
            .await
            .map_err(unavailable)?;
        self.redactor.register(&token);
        Ok(ObtainedToken {
            access_token: token,
            response: None,
        })
    }

    /// A TS.43 operator token for the device, from the profile's `[operator_token]`.
    pub async fn operator_token(&self) -> Result<Secret, FlowError> {
        const STEP: &str = "operator token";
        let source = self.profile.operator_token.as_ref().ok_or_else(|| {
            FlowError::Unavailable("the profile declares no [operator_token] source".into())
        })?;
        let token = match source {
            OperatorTokenSource::Read(source) => {
                self.sources.read(STEP, source).await.map_err(unavailable)?
            }
            OperatorTokenSource::Device(url) => {
                let (Some(client), Some(leg)) = (&self.device, &self.profile.device_leg) else {
                    return Err(FlowError::Unavailable(
                        "operator_token.device_url needs a [device_leg]".into(),
                    ));
                };
                let mut builder = client.get(url.clone());
                for (name, value) in &leg.headers {
                    builder = builder.header(name.as_str(), value.as_str());
                }
                let req = builder
                    .build()
                    .map_err(|e| FlowError::Config(format!("operator token request: {e}")))?;
                let exchange = self.transmit(client, req, STEP).await?;
                let token = exchange
                    .response
                    .json()
                    .and_then(|v| v.get("operator_token")?.as_str().map(str::to_owned))
                    .filter(|_| exchange.response.status.is_success())
                    .ok_or_else(|| {
                        FlowError::provider(
                            STEP,
                            "HTTP 200 with a JSON `operator_token`",
                            format!("HTTP {}", exchange.response.status),
                        )
                    })?;
                Secret::new(token)
            }
        };
        self.redactor.register(&token);
        Ok(token)
    }

    /// Sends an API request built on the backend client and records it.
    pub async fn send(
        &self,
        request: reqwest::Request,
        step: &'static str,
    ) -> Result<Exchange, FlowError> {
        self.transmit(&self.backend, request, step).await
    }

    /// Sends an API request built on the backend client without recording it (the load
    /// tester's hot path; see [`http::send_unrecorded`]).
    pub async fn send_unrecorded(
        &self,
        request: reqwest::Request,
        step: &'static str,
    ) -> Result<http::Answer, FlowError> {
        http::send_unrecorded(&self.backend, request, step).await
    }
}

/// A token source that gives no value makes the flows that need it impossible here.
fn unavailable(e: SourceError) -> FlowError {
    FlowError::Unavailable(e.to_string())
}
