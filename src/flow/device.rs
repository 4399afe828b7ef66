//! The device leg of the auth-code flow: GET the authorization URL from the device, follow the
//! provider's redirects by hand until one points at the client's `redirect_uri`, and read the
//! code (or error) and state from it. The redirect_uri itself is never contacted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::{Flow, FlowError, http};
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

/// PKCE pair (RFC 7636, S256).
#[derive(Debug, Clone)]
pub struct Pkce {
    /// The verifier, sent at the token endpoint.
    pub verifier: Secret,
    /// `BASE64URL(SHA256(verifier))`.
    pub challenge: String,
}

impl Pkce {
    /// A fresh random pair.
    pub fn generate() -> Self {
        let verifier = random_token(32);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Self {
            verifier: Secret::new(verifier),
            challenge,
        }
    }
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
        let profile = &self.profile;
        let (client, headers) = match request.login {
            Login::Network => match (&self.device, &profile.device_leg) {
                (Some(client), Some(leg)) => (client, Some(&leg.headers)),
                _ => {
                    return Err(FlowError::Unavailable(
                        "the profile has no [device_leg] to run here".into(),
                    ));
                }
            },
            // Without the network identity: no bound address, no enrichment headers.
            Login::NonNetwork => (&self.backend, None),
        };
        let mut url = discovery.authorization_endpoint.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code");
            q.append_pair("client_id", &profile.client.client_id);
            q.append_pair("redirect_uri", profile.client.redirect_uri.as_str());
            q.append_pair("scope", &request.scope.join(" "));
            q.append_pair("state", &request.state);
            q.append_pair("nonce", &request.nonce);
            q.append_pair("prompt", "none");
            if let Some(pkce) = &request.pkce {
                q.append_pair("code_challenge", &pkce.challenge);
                q.append_pair("code_challenge_method", "S256");
            }
            for (k, v) in &request.extra {
                q.append_pair(k, v);
            }
        }
        let mut exchanges = Vec::new();
        for _ in 0..=MAX_REDIRECTS {
            let mut builder = client.get(url.clone());
            for (name, value) in headers.into_iter().flatten() {
                builder = builder.header(name.as_str(), value.as_str());
            }
            let req = builder
                .build()
                .map_err(|e| FlowError::Config(format!("authorize request: {e}")))?;
            let exchange = http::send(client, req, STEP).await?;
            let status = exchange.response.status;
            let location = exchange.response.header("location").map(str::to_owned);
            exchanges.push(exchange);
            let Some(location) = location.filter(|_| status.is_redirection()) else {
                // The provider answered without redirecting (an error page, or a UI it should not show).
                return Ok(AuthorizeOutcome {
                    redirected: false,
                    code: None,
                    state: None,
                    error: None,
                    error_description: None,
                    exchanges,
                });
            };
            let next = url.join(&location).map_err(|e| {
                FlowError::provider(
                    STEP,
                    "a Location header with a valid URL",
                    format!("{location:?} ({e})"),
                )
            })?;
            if is_redirect_uri(&next, &profile.client.redirect_uri) {
                return Ok(self.read_redirect(&next, exchanges));
            }
            url = next;
        }
        Err(FlowError::provider(
            STEP,
            format!("a redirect to the redirect_uri within {MAX_REDIRECTS} hops"),
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
