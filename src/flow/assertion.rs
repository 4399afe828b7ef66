//! Signed JWTs the client sends: `private_key_jwt` client assertions (RFC 7523; CAMARA ICM
//! "Client Authentication"), signed request objects (RFC 9101), JWT-bearer grant assertions and
//! DPoP proofs (RFC 9449). Tweaks let the suite send deliberately broken ones.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::FlowError;
use super::device::random_token;
use crate::secret::Secret;

/// The assertion lifetime nvcert uses; CAMARA ICM caps it at 300 s.
pub const ASSERTION_LIFETIME_SECS: u64 = 60;

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// How a client assertion deviates from a correct one.
#[derive(Debug, Clone, Default)]
pub enum AssertionTweak {
    /// A correct assertion.
    #[default]
    None,
    /// `exp` this many seconds in the past (and `iat` before it).
    ExpiredSecondsAgo(u64),
    /// `exp − iat` of this many seconds.
    LifetimeSecs(u64),
    /// This `aud` instead of the token endpoint.
    Audience(String),
    /// Send this earlier assertion again (same `jti`).
    Reuse(Secret),
}

/// A parsed client signing key.
#[derive(Clone)]
pub struct ClientKey {
    key: EncodingKey,
    kid: Option<String>,
    public_jwk: Option<Value>,
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
        let public_jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::ES256)
            .ok()
            .and_then(|jwk| serde_json::to_value(jwk).ok())
            .map(|mut v| {
                // Only the public members go into a DPoP header.
                if let Some(o) = v.as_object_mut() {
                    o.retain(|k, _| matches!(k.as_str(), "kty" | "crv" | "x" | "y"));
                }
                v
            });
        Ok(Self {
            key,
            kid,
            public_jwk,
        })
    }

    /// Signs `claims` (ES256) with header `typ` when given.
    pub fn sign(&self, claims: &Value, typ: Option<&str>) -> Result<Secret, FlowError> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid.clone_from(&self.kid);
        header.typ = typ.map(str::to_owned).or(header.typ);
        jsonwebtoken::encode(&header, claims, &self.key)
            .map(Secret::new)
            .map_err(|e| FlowError::Config(format!("signing a JWT: {e}")))
    }

    /// A client assertion for `client_id` addressed to `audience`, deviating as `tweak` says.
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        tweak: &AssertionTweak,
    ) -> Result<Secret, FlowError> {
        let now = now_secs();
        let (iat, exp, aud) = match tweak {
            AssertionTweak::Reuse(earlier) => return Ok(earlier.clone()),
            AssertionTweak::None => (now, now + ASSERTION_LIFETIME_SECS, audience),
            AssertionTweak::ExpiredSecondsAgo(s) => (now - s - 60, now - s, audience),
            AssertionTweak::LifetimeSecs(l) => (now, now + l, audience),
            AssertionTweak::Audience(a) => (now, now + ASSERTION_LIFETIME_SECS, a.as_str()),
        };
        let claims = json!({"iss": client_id, "sub": client_id, "aud": aud, "iat": iat, "exp": exp, "jti": random_token(16)});
        self.sign(&claims, None)
    }

    /// A DPoP proof for `method` on `url` (RFC 9449 §4.2).
    pub fn dpop_proof(&self, method: &str, url: &str) -> Result<Secret, FlowError> {
        let jwk = self
            .public_jwk
            .clone()
            .ok_or_else(|| FlowError::Config("no public JWK for a DPoP proof".into()))?;
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = serde_json::from_value(jwk).ok();
        let claims = json!({"jti": random_token(16), "htm": method, "htu": url, "iat": now_secs()});
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map(Secret::new)
            .map_err(|e| FlowError::Config(format!("signing a DPoP proof: {e}")))
    }
}
