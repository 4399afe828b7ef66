//! `private_key_jwt` client assertions (RFC 7523; CAMARA ICM "Client Authentication").

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use super::FlowError;
use super::device::random_token;
use crate::secret::Secret;

/// The assertion lifetime nvcert uses; CAMARA ICM caps it at 300 s.
pub const ASSERTION_LIFETIME_SECS: u64 = 60;

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: String,
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A parsed client signing key.
#[derive(Clone)]
pub struct ClientKey {
    key: EncodingKey,
    kid: Option<String>,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientKey([redacted])")
    }
}

impl ClientKey {
    /// Parses an ES256 PKCS#8 PEM.
    pub fn from_pem(pem: &Secret, kid: Option<String>) -> Result<Self, FlowError> {
        let key = EncodingKey::from_ec_pem(pem.expose().as_bytes())
            .map_err(|e| FlowError::Config(format!("client private key: {e}")))?;
        Ok(Self { key, kid })
    }

    /// A fresh assertion for `client_id` addressed to `audience` (the token endpoint URL).
    pub fn assertion(&self, client_id: &str, audience: &str) -> Result<Secret, FlowError> {
        let iat = now_secs();
        let claims = Claims {
            iss: client_id,
            sub: client_id,
            aud: audience,
            iat,
            exp: iat + ASSERTION_LIFETIME_SECS,
            jti: random_token(16),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid.clone_from(&self.kid);
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map(Secret::new)
            .map_err(|e| FlowError::Config(format!("signing the client assertion: {e}")))
    }
}
