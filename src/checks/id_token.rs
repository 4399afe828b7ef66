//! ID token validation (OpenID Connect Core 1.0 §3.1.3.7; CAMARA ICM "ID Token"): a signature by
//! a key of the provider's JWKS, `iss`, `aud`, `exp`, and the authorization request's `nonce`.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::Value;

use super::{Finding, Verdict};
use crate::secret::Secret;

const SUBJECT: &str = "id_token";

/// `id_token` is signed by a key of `jwks`, issued by `issuer` for `client_id`, unexpired, and
/// carries `nonce`.
pub fn valid(
    id_token: &Secret,
    jwks: &JwkSet,
    issuer: &str,
    client_id: &str,
    nonce: &str,
) -> Verdict {
    let header = jsonwebtoken::decode_header(id_token.expose())
        .map_err(|e| Finding::new(SUBJECT, "a JWS compact serialization", e.to_string()))?;
    let candidates: Vec<_> = jwks
        .keys
        .iter()
        .filter(|k| header.kid.is_none() || k.common.key_id == header.kid)
        .collect();
    if candidates.is_empty() {
        return Err(Finding::new(
            SUBJECT,
            "a `kid` found in the JWKS",
            format!("{:?}", header.kid),
        ));
    }
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[issuer]);
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
                    Err(Finding::new(
                        SUBJECT,
                        "the authorization request's nonce (OIDC Core §3.1.3.7 step 11)",
                        found.map_or_else(|| "no nonce".to_owned(), |n| format!("{n:?}")),
                    ))
                };
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    Err(Finding::new(
        SUBJECT,
        "a valid signature by a JWKS key, iss, aud = client_id and exp",
        last_error,
    ))
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::json;

    use super::*;

    const KEY: &str = include_str!("../../fixtures/keys/demo-client-es256.TEST-ONLY.pem");
    const OTHER_KEY: &str = include_str!("../../fixtures/keys/other-client-es256.TEST-ONLY.pem");

    fn key(pem: &str) -> EncodingKey {
        EncodingKey::from_ec_pem(pem.as_bytes()).unwrap()
    }

    fn jwks() -> JwkSet {
        let mut jwk = Jwk::from_encoding_key(&key(KEY), Algorithm::ES256).unwrap();
        jwk.common.key_id = Some("k1".into());
        JwkSet { keys: vec![jwk] }
    }

    fn id_token(pem: &str, claims: serde_json::Value) -> Secret {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("k1".into());
        Secret::new(jsonwebtoken::encode(&header, &claims, &key(pem)).unwrap())
    }

    fn claims(nonce: &str, aud: &str) -> serde_json::Value {
        let now = crate::flow::now_secs();
        json!({
            "iss": "https://as.example", "sub": "s", "aud": aud,
            "iat": now, "exp": now + 300, "nonce": nonce,
        })
    }

    #[test]
    fn signature_audience_and_nonce_are_checked() {
        let check = |token: &Secret| valid(token, &jwks(), "https://as.example", "app", "n-1");
        assert_eq!(check(&id_token(KEY, claims("n-1", "app"))), Ok(()));
        for (token, expected) in [
            (
                id_token(KEY, claims("n-2", "app")),
                "the authorization request's nonce",
            ),
            (
                id_token(KEY, claims("n-1", "another-app")),
                "a valid signature",
            ),
            (
                id_token(OTHER_KEY, claims("n-1", "app")),
                "a valid signature",
            ),
            (
                Secret::new("not-a-jwt".to_owned()),
                "a JWS compact serialization",
            ),
        ] {
            let finding = check(&token).unwrap_err();
            assert!(finding.expected.starts_with(expected), "{finding}");
        }
    }
}
