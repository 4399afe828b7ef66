//! The provider's JWKS, fetched for the ID-token check (`checks::id_token`).

use jsonwebtoken::jwk::JwkSet;

use super::{Flow, FlowError, http};

impl Flow {
    /// The provider's JWKS.
    pub async fn jwks(&self) -> Result<JwkSet, FlowError> {
        let discovery = self.discovery().await?;
        let url = match (&discovery.jwks_uri, &self.explicit) {
            (Some(url), _) => url.clone(),
            (None, Some(_)) => {
                return Err(FlowError::Unavailable(
                    "the profile gives its endpoints explicitly but no jwks_uri".into(),
                ));
            }
            (None, None) => {
                return Err(FlowError::provider(
                    "discovery",
                    "a `jwks_uri`",
                    "no such member",
                ));
            }
        };
        let req = self
            .backend
            .get(url)
            .build()
            .map_err(|e| FlowError::Config(format!("JWKS request: {e}")))?;
        let exchange = http::send(&self.backend, req, "jwks_uri").await?;
        if !exchange.response.status.is_success() {
            return Err(FlowError::provider(
                "jwks_uri",
                "HTTP 200 with a JWK set",
                format!("HTTP {}", exchange.response.status),
            ));
        }
        serde_json::from_slice(&exchange.response.body)
            .map_err(|e| FlowError::provider("jwks_uri", "a JWK set (RFC 7517 §5)", format!("{e}")))
    }
}
