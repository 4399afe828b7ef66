//! Key material of one provider instance: the ID-token signing key and its JWKS, the foreign key
//! of the `id-token-bad-signature` fault, the access-token HS256 key, and the pairwise-subject
//! secret.
//!
//! Keys are per instance, never statics: two instances in one process never share a key, which is
//! what makes a token from another instance "foreign-signed". The HS256 key and the pairwise secret
//! are random per instance and never leave the process.

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use rand::RngCore;
use sha2::Sha256;

use super::super::config::ProviderConfig;
use super::super::error::ProviderError;
use super::invalid;

/// Key of the `id-token-bad-signature` fault: a TEST-ONLY fixture key that is never in the JWKS.
const FOREIGN_ID_TOKEN_KEY: &str =
    include_str!("../../../fixtures/keys/other-client-es256.TEST-ONLY.pem");

/// Signing and verification keys of one instance.
pub(crate) struct Keys {
    /// Signs ID tokens (ES256); its public part is the JWKS.
    pub signing_key: EncodingKey,
    /// Signs ID tokens under the `id-token-bad-signature` fault (not in the JWKS).
    pub foreign_signing_key: EncodingKey,
    /// `kid` of the signing key, in ID-token headers and the JWKS.
    pub kid: String,
    /// The public JWK set served at `/jwks`.
    pub jwks: serde_json::Value,
    /// HS256 key for access tokens: random per instance, never leaves the process.
    pub access_token_encoding: EncodingKey,
    pub access_token_decoding: DecodingKey,
    /// How the NV API validates access tokens (signature, `iss`; `exp` is checked by the API).
    pub access_token_validation: Validation,
    /// HMAC key of pairwise subjects: random per instance.
    pairwise_secret: [u8; 32],
}

impl Keys {
    /// Parses the configured signing key, derives the JWKS, and generates the per-instance
    /// access-token key and pairwise secret. Access tokens must carry `iss` = `issuer`.
    pub(crate) fn new(config: &ProviderConfig, issuer: &str) -> Result<Self, ProviderError> {
        let pem = config
            .signing_key_pem
            .as_ref()
            .ok_or_else(|| invalid(config, "signing_key_file", "key not loaded".into()))?;
        let signing_key = EncodingKey::from_ec_pem(pem.expose().as_bytes()).map_err(|e| {
            invalid(
                config,
                "signing_key_file",
                format!("not a P-256 PKCS#8 key: {e}"),
            )
        })?;
        let mut jwk = Jwk::from_encoding_key(&signing_key, Algorithm::ES256).map_err(|e| {
            invalid(
                config,
                "signing_key_file",
                format!("cannot derive JWK: {e}"),
            )
        })?;
        jwk.common.key_id = Some(config.signing_key_id.clone());
        let foreign_signing_key = EncodingKey::from_ec_pem(FOREIGN_ID_TOKEN_KEY.as_bytes())
            .map_err(|e| {
                invalid(
                    config,
                    "signing_key_file",
                    format!("built-in foreign key: {e}"),
                )
            })?;
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let jwks = serde_json::json!({ "keys": [jwk] });

        let mut rng = rand::rng();
        let mut access_token_secret = [0u8; 32];
        rng.fill_bytes(&mut access_token_secret);
        let mut pairwise_secret = [0u8; 32];
        rng.fill_bytes(&mut pairwise_secret);

        let mut access_token_validation = Validation::new(Algorithm::HS256);
        // Expiry is checked by the API with sub-second precision (a 1-second token must fail after
        // 1 second, not after 2 or 62); `exp` must still be present.
        access_token_validation.validate_exp = false;
        access_token_validation.leeway = 0;
        access_token_validation.set_issuer(&[issuer]);
        access_token_validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        access_token_validation.validate_aud = false;

        Ok(Self {
            signing_key,
            foreign_signing_key,
            kid: config.signing_key_id.clone(),
            jwks,
            access_token_encoding: EncodingKey::from_secret(&access_token_secret),
            access_token_decoding: DecodingKey::from_secret(&access_token_secret),
            access_token_validation,
            pairwise_secret,
        })
    }

    /// The pairwise subject of `msisdn` for `client_id` (OIDC Core §8.1): 32 hex chars of
    /// HMAC-SHA256(instance secret, client_id | msisdn). ICM: `sub` must not be the MSISDN nor a
    /// global identifier.
    pub(crate) fn pairwise_sub(&self, client_id: &str, msisdn: &str) -> String {
        // HMAC accepts keys of any length; 32 bytes cannot fail.
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.pairwise_secret) else {
            return String::new();
        };
        mac.update(client_id.as_bytes());
        mac.update(b"|");
        mac.update(msisdn.as_bytes());
        let out = mac.finalize().into_bytes();
        hex::encode(&out[..16])
    }
}
