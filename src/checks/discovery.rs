//! OpenID Connect Discovery 1.0: the document's issuer and advertised capabilities, the JWKS.

use jsonwebtoken::jwk::JwkSet;

use super::{Finding, Verdict};
use crate::exchange::Exchange;
use crate::flow::Discovery;

/// The discovery document is served as `application/json` (OpenID Connect Discovery 1.0 §4.2:
/// "a JSON object ... using the application/json content type"; MUST).
pub fn served_as_json(exchange: &Exchange) -> Verdict {
    super::served_as_json(exchange, "discovery response")
}

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
    fn the_document_must_be_served_as_json() {
        use crate::exchange::testing::answer;
        let url = "https://as.example/.well-known/openid-configuration";
        for (content_type, holds) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("text/html", false),
            ("application/jwk-set+json", false),
        ] {
            let exchange = answer(url, 200, &[("content-type", content_type)], "{}");
            assert_eq!(served_as_json(&exchange).is_ok(), holds, "{content_type}");
        }
        let finding = served_as_json(&answer(url, 200, &[], "{}")).unwrap_err();
        assert_eq!(
            finding.to_string(),
            "discovery response header Content-Type: expected \"application/json\", found no such header"
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
