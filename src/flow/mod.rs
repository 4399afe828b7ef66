//! Drives a provider through the real flows: discovery, the device leg of the auth-code flow,
//! the token exchange, and NV API calls. It records exchanges; it never judges them (that is
//! `spec` and the suite's steps). The load tester reuses it, so it holds no per-scenario state.

mod assertion;
mod device;
mod discovery;
mod error;
pub mod http;
mod token;

use std::sync::Arc;
use std::time::Duration;

pub use assertion::{ASSERTION_LIFETIME_SECS, ClientKey, now_secs};
pub use device::{AuthorizeOutcome, AuthorizeRequest, Login, MAX_REDIRECTS, Pkce, random_token};
pub use discovery::Discovery;
pub use error::FlowError;
pub use token::{JWT_BEARER_ASSERTION, TokenResponse};

use crate::exchange::Exchange;
use crate::profile::Profile;
use crate::profile::{ClientAuthMethod, PurposeStyle, TokenSource};
use crate::secret::{Redactor, Secret};

/// A token obtained for the suite, with how it was obtained.
#[derive(Debug, Clone)]
pub struct ObtainedToken {
    /// The access token.
    pub access_token: Secret,
    /// The full token response, when it came from a flow (not from a token source).
    pub response: Option<TokenResponse>,
}

/// The flows of one provider profile. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Flow {
    profile: Arc<Profile>,
    backend: reqwest::Client,
    device: Option<reqwest::Client>,
    client_key: Option<ClientKey>,
    redactor: Redactor,
    discovery: tokio::sync::OnceCell<Discovery>,
}

impl Flow {
    /// Builds the HTTP clients and parses the client key of `profile`.
    pub fn new(profile: Arc<Profile>, redactor: Redactor) -> Result<Self, FlowError> {
        let timeout = Duration::from_secs(profile.timeout_secs);
        let backend = http::backend_client(timeout)?;
        let device = profile
            .device_leg
            .as_ref()
            .map(|leg| http::device_client(timeout, leg))
            .transpose()?;
        let client_key = match (&profile.client.auth_method, &profile.client.private_key_pem) {
            (ClientAuthMethod::PrivateKeyJwt, Some(pem)) => {
                Some(ClientKey::from_pem(pem, profile.client.key_id.clone())?)
            }
            _ => None,
        };
        for secret in profile.secrets() {
            redactor.register(&secret);
        }
        Ok(Self {
            profile,
            backend,
            device,
            client_key,
            redactor,
            discovery: tokio::sync::OnceCell::new(),
        })
    }

    /// The profile driven.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The run's redactor (every secret the flows see is registered there).
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The backend HTTP client (no automatic redirects).
    pub fn backend(&self) -> &reqwest::Client {
        &self.backend
    }

    /// Fetches the discovery document (uncached), returning the exchange for checks.
    pub async fn fetch_discovery(
        &self,
    ) -> Result<(Result<Discovery, FlowError>, Exchange), FlowError> {
        let req = self
            .backend
            .get(self.profile.discovery_url.clone())
            .build()
            .map_err(|e| FlowError::Config(format!("discovery request: {e}")))?;
        let exchange = http::send(&self.backend, req, "discovery").await?;
        Ok((Discovery::from_exchange(&exchange), exchange))
    }

    /// The discovery document, fetched once per run.
    pub async fn discovery(&self) -> Result<&Discovery, FlowError> {
        self.discovery
            .get_or_try_init(|| async {
                let (parsed, _) = self.fetch_discovery().await?;
                parsed
            })
            .await
    }

    /// A fresh authorization request for `nv_scopes` (openid and the purpose are added).
    pub fn authorize_request(&self, nv_scopes: &[String], login: Login) -> AuthorizeRequest {
        let mut scope = vec!["openid".to_owned()];
        let mut extra = Vec::new();
        match self.profile.purpose_style {
            PurposeStyle::Scope => scope.push(self.profile.purpose.clone()),
            PurposeStyle::Parameter => {
                extra.push(("purpose".to_owned(), self.profile.purpose.clone()))
            }
        }
        scope.extend(nv_scopes.iter().cloned());
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
        }
    }

    /// Runs the whole auth-code flow (device leg, state check, code exchange) for `nv_scopes`, or
    /// reads the profile's token source when the device leg cannot run here.
    pub async fn obtain_token(
        &self,
        nv_scopes: &[String],
        login: Login,
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
        let request = self.authorize_request(nv_scopes, login);
        let outcome = self.authorize(&request).await?;
        let code = code_of(&outcome, &request)?;
        let (response, _) = self.exchange_code(&code, &request).await?;
        Ok(ObtainedToken {
            access_token: response.access_token.clone(),
            response: Some(response),
        })
    }

    async fn token_from_source(&self, source: &TokenSource) -> Result<ObtainedToken, FlowError> {
        let token = match source {
            TokenSource::Env(name) => std::env::var(name).map_err(|_| {
                FlowError::Unavailable(format!(
                    "token source: environment variable {name} is not set"
                ))
            })?,
            TokenSource::Command(cmd) => {
                let out = tokio::process::Command::new("sh")
                    .arg("-c")
                    .arg(cmd)
                    .output()
                    .await
                    .map_err(|e| {
                        FlowError::Unavailable(format!("token source command could not start: {e}"))
                    })?;
                if !out.status.success() {
                    return Err(FlowError::Unavailable(format!(
                        "token source command exited with {}",
                        out.status
                    )));
                }
                String::from_utf8_lossy(&out.stdout).trim().to_owned()
            }
        };
        if token.is_empty() {
            return Err(FlowError::Unavailable(
                "token source gave an empty token".into(),
            ));
        }
        let token = Secret::new(token);
        self.redactor.register(&token);
        Ok(ObtainedToken {
            access_token: token,
            response: None,
        })
    }

    /// Sends an API request built on the backend client and records it.
    pub async fn send(
        &self,
        request: reqwest::Request,
        step: &'static str,
    ) -> Result<Exchange, FlowError> {
        http::send(&self.backend, request, step).await
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

/// The code of a device-leg outcome, after checking the provider redirected with a code and the
/// state intact (OAuth 2.0 §4.1.2, CAMARA ICM CSRF protection).
pub fn code_of(
    outcome: &AuthorizeOutcome,
    request: &AuthorizeRequest,
) -> Result<Secret, FlowError> {
    const STEP: &str = "authorization endpoint";
    if !outcome.redirected {
        let status = outcome.exchanges.last().map_or_else(
            || "nothing".to_owned(),
            |e| format!("HTTP {}", e.response.status),
        );
        return Err(FlowError::provider(
            STEP,
            "a redirect to the redirect_uri",
            format!("{status} without such a redirect"),
        ));
    }
    if let Some(error) = &outcome.error {
        let desc = outcome
            .error_description
            .as_deref()
            .map_or_else(String::new, |d| format!(" ({d})"));
        return Err(FlowError::provider(
            STEP,
            "a redirect with a code",
            format!("error={error}{desc}"),
        ));
    }
    if outcome.state.as_deref() != Some(request.state.as_str()) {
        return Err(FlowError::provider(
            STEP,
            format!("state {:?} returned intact", request.state),
            outcome
                .state
                .as_deref()
                .map_or_else(|| "no state".to_owned(), |s| format!("{s:?}")),
        ));
    }
    outcome
        .code
        .clone()
        .ok_or_else(|| FlowError::provider(STEP, "a `code` parameter in the redirect", "no code"))
}
