//! The instance's public URLs: the OIDC issuer and every endpoint URL derived from it.
//!
//! Owns the public-URL rules (absolute http(s), no query, fragment or user info) and the
//! `{issuer}{path}` form of each endpoint, so discovery, audiences and token `iss` agree.

use super::super::error::ProviderError;

/// Where this instance is reached, as clients see it (behind a reverse proxy: the public URL).
#[derive(Debug)]
pub(crate) struct Endpoints {
    /// Public URL without trailing slash: the OIDC issuer.
    pub issuer: String,
    /// Path of the public URL without trailing slash (`""` at the root); routes are nested here.
    pub public_path: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    /// CIBA backchannel authentication endpoint `{issuer}/bc-authorize`.
    pub backchannel_endpoint: String,
}

impl Endpoints {
    /// The endpoints under `public_url` (http or https, no query, fragment or user info).
    pub(crate) fn from_public_url(public_url: &url::Url) -> Result<Self, ProviderError> {
        let bad_url = |reason: &str| ProviderError::PublicUrl {
            url: public_url.to_string(),
            reason: reason.to_owned(),
        };
        if !matches!(public_url.scheme(), "http" | "https") || !public_url.has_host() {
            return Err(bad_url("must be an absolute http(s) URL"));
        }
        // OIDC Discovery §3: the issuer has no query or fragment.
        if public_url.query().is_some() || public_url.fragment().is_some() {
            return Err(bad_url("must not have a query or fragment"));
        }
        if !public_url.username().is_empty() || public_url.password().is_some() {
            return Err(bad_url("must not carry user info"));
        }
        let issuer = public_url.as_str().trim_end_matches('/').to_owned();
        let public_path = public_url.path().trim_end_matches('/').to_owned();
        Ok(Self {
            authorization_endpoint: format!("{issuer}/authorize"),
            token_endpoint: format!("{issuer}/token"),
            jwks_uri: format!("{issuer}/jwks"),
            backchannel_endpoint: format!("{issuer}/bc-authorize"),
            issuer,
            public_path,
        })
    }
}
