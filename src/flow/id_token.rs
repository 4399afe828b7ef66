//! ID token validation (OpenID Connect Core §3.1.3.7): signature by a key of the provider's
//! JWKS, `iss`, `aud`, `exp`, and the `nonce` of the authorization request.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::Value;

use super::{Flow, FlowError, http};
use crate::secret::Secret;

const STEP: &str = "id_token";

impl Flow {
    /// The provider's JWKS.
    pub async fn jwks(&self) -> Result<JwkSet, FlowError> {
        let discovery = self.discovery().await?;
        let url = discovery
            .jwks_uri
            .clone()
            .ok_or_else(|| FlowError::provider("discovery", "a `jwks_uri`", "no such member"))?;
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

    /// Checks `id_token` for `client_id` and `nonce`; the message says which rule failed.
    pub async fn verify_id_token(
        &self,
        id_token: &Secret,
        client_id: &str,
        nonce: &str,
    ) -> Result<(), FlowError> {
        let discovery = self.discovery().await?;
        let jwks = self.jwks().await?;
        let header = jsonwebtoken::decode_header(id_token.expose())
            .map_err(|e| FlowError::provider(STEP, "a JWS compact serialization", e.to_string()))?;
        let candidates: Vec<_> = jwks
            .keys
            .iter()
            .filter(|k| header.kid.is_none() || k.common.key_id == header.kid)
            .collect();
        if candidates.is_empty() {
            return Err(FlowError::provider(
                STEP,
                "a `kid` found in the JWKS",
                format!("{:?}", header.kid),
            ));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_audience(&[client_id]);
        validation.set_issuer(&[discovery.issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let mut last_error = String::new();
        for jwk in candidates {
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            match jsonwebtoken::decode::<Value>(id_token.expose(), &key, &validation) {
                Ok(data) => {
                    let found = data.claims.get("nonce").and_then(Value::as_str);
                    return if found == Some(nonce) {
                        Ok(())
                    } else {
                        Err(FlowError::provider(
                            STEP,
                            "the authorization request's nonce (OIDC Core §3.1.3.7 step 11)",
                            found.map_or_else(|| "no nonce".to_owned(), |n| format!("{n:?}")),
                        ))
                    };
                }
                Err(e) => last_error = e.to_string(),
            }
        }
        Err(FlowError::provider(
            STEP,
            "a valid signature by a JWKS key, iss, aud = client_id and exp",
            last_error,
        ))
    }
}
