//! The device leg of the auth-code flow: GET the authorization URL from the device, follow the
//! provider's redirects by hand until one points at the client's `redirect_uri`, and read the
//! code (or error) and state from it. The redirect_uri itself is never contacted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::{Flow, FlowError};
use crate::exchange::Exchange;
use crate::secret::Secret;

/// Hops after which the device gives up (OIDC providers chain a few redirects at most).
pub const MAX_REDIRECTS: usize = 10;

/// How the user is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// Over the mobile network: the device leg's headers / bind address identify the line.
    Network,
    /// The provider's non-network login (profile `[non_network_login]`), without network identity.
    NonNetwork,
}

/// PKCE pair (RFC 7636).
#[derive(Debug, Clone)]
pub struct Pkce {
    /// The verifier, sent at the token endpoint.
    pub verifier: Secret,
    /// The challenge sent at the authorization endpoint.
    pub challenge: String,
    /// `S256` (`BASE64URL(SHA256(verifier))`) or `plain` (the verifier itself).
    pub method: &'static str,
}

impl Pkce {
    /// A fresh random S256 pair.
    pub fn generate() -> Self {
        let verifier = random_token(32);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Self {
            verifier: Secret::new(verifier),
            challenge,
            method: "S256",
        }
    }

    /// A fresh `plain` pair (RFC 7636 §4.2), which CAMARA-grade servers should refuse.
    pub fn plain() -> Self {
        let verifier = random_token(32);
        Self {
            challenge: verifier.clone(),
            verifier: Secret::new(verifier),
            method: "plain",
        }
    }
}

/// Which registered client a request is made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientRole {
    /// The profile's `[client]`.
    Main,
    /// The profile's `[other_client]`.
    Other,
    /// The profile's `[short_lived_client]`.
    ShortLived,
    /// The profile's `[short_lived_client]` as its `token_client_id` (1-second tokens, long
    /// codes), or as itself when the profile names none.
    ShortLivedToken,
}

/// A signed request object (RFC 9101) carrying the authorization parameters. By default it is
/// valid: `aud` the issuer, issued now, expiring in 60 s.
#[derive(Debug, Clone, Default)]
pub struct RequestObject {
    /// Its `aud`.
    pub audience: RequestObjectAudience,
    /// Send one that expired a minute ago.
    pub expired: bool,
    /// `exp − iat` in seconds, instead of 60.
    pub lifetime_secs: Option<u64>,
    /// `iat` this many seconds after now (`exp` 60 s later).
    pub issued_in_future_secs: Option<u64>,
}

/// The `aud` of a signed request object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RequestObjectAudience {
    /// The issuer (RFC 9101 §4: "the value of aud should be the value of the authorization
    /// server (AS) issuer"; CAMARA ICM: the AS MAY accept it).
    #[default]
    Issuer,
    /// The authorization endpoint (CAMARA ICM: RECOMMENDED).
    AuthorizationEndpoint,
    /// Another value (a check of the provider's refusal).
    Other(String),
}

/// One authorization request, as the device sends it.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    /// Scope values (openid, purpose and NV scopes) in order.
    pub scope: Vec<String>,
    /// `state` (CSRF protection; must come back intact).
    pub state: String,
    /// `nonce` (must come back in the id_token).
    pub nonce: String,
    /// PKCE, when the profile uses it.
    pub pkce: Option<Pkce>,
    /// Extra query parameters.
    pub extra: Vec<(String, String)>,
    /// How the user is authenticated.
    pub login: Login,
    /// The client the request is made for.
    pub client: ClientRole,
    /// The redirect_uri sent (the client's registered one unless a check changes it).
    pub redirect_uri: url::Url,
    /// Send the parameters also as a signed request object.
    pub request_object: Option<RequestObject>,
    /// Which device sends it (with a network login).
    pub device: Device,
    /// Where the device leg stops.
    pub stop: StopAt,
}

/// Which device runs a network-login device leg.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Device {
    /// The profile's `[device_leg]`.
    #[default]
    Profile,
    /// The device of aggregator line N (`[[aggregator.lines]]`, 0-based).
    AggregatorLine(usize),
    /// The aggregator profile's `unknown_device_address`: a device no operator serves.
    Unknown,
}

/// Where a device leg stops (without contacting that URL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StopAt {
    /// At the redirect to the client's `redirect_uri`.
    #[default]
    RedirectUri,
    /// At the first redirect carrying a `code` (through an aggregator: the operator's redirect
    /// back to the aggregator's callback, whose code was issued to the aggregator).
    FirstCode,
}

/// What the device leg ended with.
#[derive(Debug, Clone)]
pub struct AuthorizeOutcome {
    /// The final redirect to the redirect_uri, if the provider sent one.
    pub redirected: bool,
    /// `code` from the redirect.
    pub code: Option<Secret>,
    /// `state` from the redirect, as received.
    pub state: Option<String>,
    /// `error` from the redirect.
    pub error: Option<String>,
    /// `error_description` from the redirect.
    pub error_description: Option<String>,
    /// Every hop, in order.
    pub exchanges: Vec<Exchange>,
    /// The redirect the leg stopped at, without its query (which carries the code).
    pub stopped_at: Option<url::Url>,
}

impl AuthorizeOutcome {
    /// Whether the flow can go on to the token endpoint, and with which code: only after a
    /// redirect to the redirect_uri carrying a code and the request's state intact (RFC 6749
    /// §4.1.2; CAMARA ICM "CSRF protection": a client that gets another state must stop).
    pub fn code_to_continue(&self, request: &AuthorizeRequest) -> Result<Secret, FlowError> {
        if !self.redirected {
            let status = self.exchanges.last().map_or_else(
                || "nothing".to_owned(),
                |e| format!("HTTP {}", e.response.status),
            );
            return Err(FlowError::provider(
                STEP,
                "a redirect to the redirect_uri",
                format!("{status} without such a redirect"),
            ));
        }
        if let Some(error) = &self.error {
            let desc = self
                .error_description
                .as_deref()
                .map_or_else(String::new, |d| format!(" ({d})"));
            return Err(FlowError::provider(
                STEP,
                "a redirect with a code",
                format!("error={error}{desc}"),
            ));
        }
        if self.state.as_deref() != Some(request.state.as_str()) {
            return Err(FlowError::provider(
                STEP,
                format!("state {:?} returned intact", request.state),
                self.state
                    .as_deref()
                    .map_or_else(|| "no state".to_owned(), |s| format!("{s:?}")),
            ));
        }
        self.code.clone().ok_or_else(|| {
            FlowError::provider(STEP, "a `code` parameter in the redirect", "no code")
        })
    }
}

/// The hops of one device leg.
#[derive(Debug, Clone)]
pub struct DeviceHops {
    /// Every hop, in order.
    pub exchanges: Vec<Exchange>,
    /// The redirect the leg stopped at without contacting it, if it stopped at one.
    pub stopped_at: Option<url::Url>,
}

/// `n` random bytes, base64url without padding.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::fill(&mut bytes[..]);
    URL_SAFE_NO_PAD.encode(bytes)
}

const STEP: &str = "authorization endpoint";

impl Flow {
    /// Runs the device leg for `request` against `authorization_endpoint`.
    pub async fn authorize(
        &self,
        request: &AuthorizeRequest,
    ) -> Result<AuthorizeOutcome, FlowError> {
        let discovery = self.discovery().await?;
        let (http_client, headers) = match request.login {
            Login::Network => self.device_client(request.device)?,
            // Without the network identity: no bound address, no enrichment headers.
            Login::NonNetwork => (&self.backend, None),
        };
        let client = self.client(request.client)?;
        let mut params: Vec<(&str, String)> = vec![
            ("response_type", "code".into()),
            ("client_id", client.client.client_id.clone()),
            ("redirect_uri", request.redirect_uri.to_string()),
            ("scope", request.scope.join(" ")),
            ("state", request.state.clone()),
            ("nonce", request.nonce.clone()),
            ("prompt", "none".into()),
        ];
        if let Some(pkce) = &request.pkce {
            self.redactor.register(&pkce.verifier);
            params.push(("code_challenge", pkce.challenge.clone()));
            params.push(("code_challenge_method", pkce.method.into()));
        }
        if let Some(ro) = &request.request_object {
            let key = client.key.as_ref().ok_or_else(|| {
                FlowError::Unavailable(
                    "a signed request object needs the client's private key".into(),
                )
            })?;
            let now = super::now_secs();
            let iat = now + ro.issued_in_future_secs.unwrap_or(0);
            let (iat, exp) = if ro.expired {
                (iat - 120, iat - 60)
            } else {
                (iat, iat + ro.lifetime_secs.unwrap_or(60))
            };
            let aud = match &ro.audience {
                RequestObjectAudience::Issuer => discovery.issuer.clone(),
                RequestObjectAudience::AuthorizationEndpoint => {
                    discovery.authorization_endpoint.to_string()
                }
                RequestObjectAudience::Other(aud) => aud.clone(),
            };
            let mut claims = serde_json::json!({
                "iss": client.client.client_id,
                "aud": aud,
                "iat": iat,
                "exp": exp,
                "jti": random_token(16),
            });
            for (k, v) in &params {
                claims[*k] = serde_json::Value::String(v.clone());
            }
            let jwt = key.sign(&claims, Some("oauth-authz-req+jwt"))?;
            self.redactor.register(&jwt);
            params.push(("request", jwt.expose().to_owned()));
        }
        let mut url = discovery.authorization_endpoint.clone();
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in &params {
                q.append_pair(k, v);
            }
            for (k, v) in &request.extra {
                q.append_pair(k, v);
            }
        }
        let hops = self
            .device_hops(url, http_client, headers, STEP, |next| {
                is_redirect_uri(next, &request.redirect_uri)
                    || (request.stop == StopAt::FirstCode
                        && next.query_pairs().any(|(k, _)| k == "code"))
            })
            .await?;
        Ok(match hops.stopped_at {
            Some(redirect) => self.read_redirect(&redirect, hops.exchanges),
            // The provider answered without redirecting (an error page, or a UI it should not show).
            None => AuthorizeOutcome {
                redirected: false,
                code: None,
                state: None,
                error: None,
                error_description: None,
                exchanges: hops.exchanges,
                stopped_at: None,
            },
        })
    }

    /// The device leg's hops from `url`: GET it from the device (with the leg's `headers`), and
    /// follow each redirect by hand, recording every exchange, until an answer that is not a
    /// redirect or a redirect `stop` says is the end (not contacted; returned in
    /// [`DeviceHops::stopped_at`]). Both the NV authorization request and the PhoneCheck check
    /// URL run here, so the rules on where the device goes apply to both.
    pub(super) async fn device_hops(
        &self,
        mut url: url::Url,
        http_client: &reqwest::Client,
        headers: Option<&std::collections::BTreeMap<String, String>>,
        step: &'static str,
        stop: impl Fn(&url::Url) -> bool,
    ) -> Result<DeviceHops, FlowError> {
        let mut exchanges = Vec::new();
        for _ in 0..=MAX_REDIRECTS {
            let mut builder = http_client.get(url.clone());
            for (name, value) in headers.into_iter().flatten() {
                builder = builder.header(name.as_str(), value.as_str());
            }
            let req = builder
                .build()
                .map_err(|e| FlowError::Config(format!("{step} request: {e}")))?;
            let exchange = self.transmit(http_client, req, step).await?;
            let status = exchange.response.status;
            let location = exchange.response.header("location").map(str::to_owned);
            exchanges.push(exchange);
            let Some(location) = location.filter(|_| status.is_redirection()) else {
                return Ok(DeviceHops {
                    exchanges,
                    stopped_at: None,
                });
            };
            let next = url.join(&location).map_err(|e| {
                FlowError::provider(
                    step,
                    "a Location header with a valid URL",
                    format!("{location:?} ({e})"),
                )
            })?;
            if stop(&next) {
                return Ok(DeviceHops {
                    exchanges,
                    stopped_at: Some(next),
                });
            }
            // Only within the provider's hosts: the device leg carries the network identity (the
            // enrichment headers), which must not reach anyone else.
            if let Err(refusal) = self.trust.check(&next) {
                return Err(FlowError::Untrusted {
                    step,
                    message: self.trust.explain("redirect to", &next, refusal),
                });
            }
            url = next;
        }
        Err(FlowError::provider(
            step,
            format!("the end of the redirects within {MAX_REDIRECTS} hops"),
            "more redirects (loop?)",
        ))
    }

    fn read_redirect(&self, url: &url::Url, exchanges: Vec<Exchange>) -> AuthorizeOutcome {
        let mut out = AuthorizeOutcome {
            redirected: true,
            code: None,
            state: None,
            error: None,
            error_description: None,
            exchanges,
            stopped_at: Some({
                let mut bare = url.clone();
                bare.set_query(None);
                bare.set_fragment(None);
                bare
            }),
        };
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                "code" => {
                    let code = Secret::new(v.into_owned());
                    self.redactor.register(&code);
                    out.code = Some(code);
                }
                "state" => out.state = Some(v.into_owned()),
                "error" => out.error = Some(v.into_owned()),
                "error_description" => out.error_description = Some(v.into_owned()),
                _ => {}
            }
        }
        out
    }
}

/// Same scheme, host, port and path: the redirect targets the client's callback.
fn is_redirect_uri(candidate: &url::Url, redirect_uri: &url::Url) -> bool {
    candidate.scheme() == redirect_uri.scheme()
        && candidate.host_str() == redirect_uri.host_str()
        && candidate.port_or_known_default() == redirect_uri.port_or_known_default()
        && candidate.path() == redirect_uri.path()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_s256_of_the_verifier() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        assert_eq!(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let p = Pkce::generate();
        assert_eq!(
            p.challenge,
            URL_SAFE_NO_PAD.encode(Sha256::digest(p.verifier.expose().as_bytes()))
        );
    }

    #[test]
    fn redirect_uri_match_ignores_query_only() {
        let r = url::Url::parse("https://client.nvcert.invalid/callback").unwrap();
        assert!(is_redirect_uri(
            &url::Url::parse("https://client.nvcert.invalid/callback?code=x").unwrap(),
            &r
        ));
        assert!(!is_redirect_uri(
            &url::Url::parse("https://client.nvcert.invalid/other").unwrap(),
            &r
        ));
        assert!(!is_redirect_uri(
            &url::Url::parse("http://client.nvcert.invalid/callback").unwrap(),
            &r
        ));
    }
}
