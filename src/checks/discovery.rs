//! OpenID Connect Discovery 1.0: the document's issuer and advertised capabilities, the JWKS.

use jsonwebtoken::jwk::JwkSet;

use super::{Finding, Verdict};
use crate::flow::Discovery;

/// The discovery `issuer` is the profile's issuer (Discovery §4.3: identical; a trailing `/` is
/// tolerated, see the README's limits).
pub fn issuer_identical(discovery: &Discovery, profile_issuer: &url::Url) -> Verdict {
    let expected = profile_issuer.as_str().trim_end_matches('/');
    if discovery.issuer.trim_end_matches('/') == expected {
        Ok(())
    } else {
        Err(Finding::new(
            "discovery issuer",
            format!("{expected:?}"),
            format!("{:?}", discovery.issuer),
        ))
    }
}

/// The discovery member `member` (a string array) contains `value` (Discovery §3).
pub fn lists(discovery: &Discovery, member: &str, value: &str) -> Verdict {
    let found = discovery.strings(member);
    if found.iter().any(|v| v == value) {
        Ok(())
    } else {
        Err(Finding::new(
            format!("discovery {member}"),
            format!("it to contain {value:?}"),
            format!("{found:?}"),
        ))
    }
}

/// The JWK set holds at least one key (Discovery §3: `jwks_uri` REQUIRED; RFC 7517 §5).
pub fn jwks_has_key(jwks: &JwkSet) -> Verdict {
    if jwks.keys.is_empty() {
        Err(Finding::new(
            "jwks_uri",
            "at least one key",
            "an empty key set",
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn discovery(issuer: &str) -> Discovery {
        Discovery {
            issuer: issuer.into(),
            authorization_endpoint: "https://as.example/authorize".parse().unwrap(),
            token_endpoint: "https://as.example/token".parse().unwrap(),
            jwks_uri: None,
            document: json!({ "token_endpoint_auth_methods_supported": ["private_key_jwt"] }),
        }
    }

    #[test]
    fn issuer_must_be_the_profiles() {
        let profile: url::Url = "https://as.example".parse().unwrap();
        assert_eq!(
            issuer_identical(&discovery("https://as.example"), &profile),
            Ok(())
        );
        let finding = issuer_identical(&discovery("https://other.example"), &profile).unwrap_err();
        assert_eq!(
            finding.to_string(),
            "discovery issuer: expected \"https://as.example\", found \"https://other.example\""
        );
    }

    #[test]
    fn listed_values_and_keys() {
        let d = discovery("https://as.example");
        let member = "token_endpoint_auth_methods_supported";
        assert_eq!(lists(&d, member, "private_key_jwt"), Ok(()));
        assert!(lists(&d, member, "client_secret_basic").is_err());
        assert!(lists(&d, "missing", "x").is_err());
        let empty: JwkSet = serde_json::from_value(json!({ "keys": [] })).unwrap();
        assert_eq!(jwks_has_key(&empty).unwrap_err().found, "an empty key set");
    }
}
