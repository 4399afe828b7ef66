//! Operator dialects the reference provider can play (`nvcert serve --dialect orange-es-v0`):
//! the same authorization server and NV API, with an operator's published quirks, so nvcert's
//! dialect support is exercised on a provider that really has them.
//!
//! The facts are written here from the operator's own page (for Orange Spain: "CAMARA - Number
//! Verification - Spain", Orange Developer), independently of the checking side's reading of
//! `specs/dialects/` — one misreading then cannot hide on both sides.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

use super::version::SpecVersion;

/// A dialect the provider can play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderDialect {
    /// Orange Spain's NV v0: base path `/camara/oes/number-verification/v0`, authorize under
    /// it, token at `/es/openapi/oauth/v2/token` with HTTP Basic, no discovery, scopes
    /// `dpv:FraudPreventionAndDetection#number-verification-verify-read` / `…-share-read`,
    /// verify body with `phoneNumberType`, `devicePhoneNumber` as an object, 401 `UNAUTHORIZED`
    /// without `status`, 403 `PERMISSION_DENIED` with `"status": "403"` (a string).
    OrangeEsV0,
}

/// An unknown dialect name; the message lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dialect `{given}`; known dialects: {known}")]
pub struct UnknownDialect {
    given: String,
    known: String,
}

impl ProviderDialect {
    /// Every dialect.
    pub const ALL: [ProviderDialect; 1] = [Self::OrangeEsV0];

    /// The dialect's name (`orange-es-v0`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrangeEsV0 => "orange-es-v0",
        }
    }

    /// The CAMARA version whose rules apply where the dialect says nothing else (scope names,
    /// patterns, messages).
    pub fn spec_version(self) -> SpecVersion {
        match self {
            Self::OrangeEsV0 => SpecVersion::V0_3_1,
        }
    }

    /// The API base path.
    pub fn api_base_path(self) -> &'static str {
        match self {
            Self::OrangeEsV0 => "/camara/oes/number-verification/v0",
        }
    }

    /// The token endpoint's path.
    pub fn token_path(self) -> &'static str {
        match self {
            Self::OrangeEsV0 => "/es/openapi/oauth/v2/token",
        }
    }

    /// The authorization endpoint's path (under the API base path for Orange).
    pub fn authorize_path(self) -> String {
        format!("{}/authorize", self.api_base_path())
    }

    /// Rewrites the dialect's scope values into the CAMARA v0 grammar the authorization
    /// endpoint parses: `dpv:Purpose#scope` becomes `dpv:Purpose` (once) and `scope`.
    pub(crate) fn camara_scope(self, scope: &str) -> String {
        let mut purposes: Vec<&str> = Vec::new();
        let mut rest: Vec<&str> = Vec::new();
        for token in scope.split(' ').filter(|t| !t.is_empty()) {
            match token.split_once('#') {
                Some((purpose, name)) if purpose.starts_with("dpv:") => {
                    if !purposes.contains(&purpose) {
                        purposes.push(purpose);
                    }
                    rest.push(name);
                }
                _ => rest.push(token),
            }
        }
        purposes.extend(rest);
        purposes.join(" ")
    }

    /// The `phoneNumberType` values of a plain number.
    pub(crate) fn is_regular_type(value: &str) -> bool {
        matches!(value, "RegularPhoneNumber" | "REGULAR")
    }

    /// The `phoneNumberType` values of a hashed number.
    pub(crate) fn is_hashed_type(value: &str) -> bool {
        matches!(value, "HashedPhoneNumber" | "HASHED")
    }
}

impl fmt::Display for ProviderDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderDialect {
    type Err = UnknownDialect;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|d| d.as_str() == s.trim())
            .ok_or_else(|| UnknownDialect {
                given: s.to_owned(),
                known: Self::ALL.map(Self::as_str).join(", "),
            })
    }
}

impl<'de> Deserialize<'de> for ProviderDialect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        let d: ProviderDialect = "orange-es-v0".parse().expect("known");
        assert_eq!(d, ProviderDialect::OrangeEsV0);
        assert_eq!(
            d.authorize_path(),
            "/camara/oes/number-verification/v0/authorize"
        );
        let e = "acme".parse::<ProviderDialect>().unwrap_err().to_string();
        assert!(e.contains("orange-es-v0"), "{e}");
    }

    #[test]
    fn errors_take_orange_shapes() {
        use axum::response::IntoResponse;
        let body = |mut e: super::super::error::ApiError| {
            e.set_dialect(Some(ProviderDialect::OrangeEsV0));
            let resp = e.into_response();
            let bytes = futures::executor::block_on(axum::body::to_bytes(resp.into_body(), 4096))
                .expect("body");
            serde_json::from_slice::<serde_json::Value>(&bytes).expect("json")
        };
        let unauthorized = body(super::super::error::ApiError::unauthenticated(None));
        assert!(unauthorized.get("status").is_none(), "{unauthorized}");
        let denied = body(super::super::error::ApiError::permission_denied());
        assert_eq!(denied["status"], "403");
        let not_network = body(super::super::error::ApiError::not_network_authenticated());
        assert_eq!(not_network["status"], 403);
    }

    #[test]
    fn dpv_scopes_become_the_v0_grammar() {
        let d = ProviderDialect::OrangeEsV0;
        assert_eq!(
            d.camara_scope(
                "dpv:FraudPreventionAndDetection#number-verification-verify-read \
                 dpv:FraudPreventionAndDetection#number-verification-share-read"
            ),
            "dpv:FraudPreventionAndDetection number-verification-verify-read \
             number-verification-share-read"
        );
        assert_eq!(d.camara_scope("openid x"), "openid x");
    }
}
