//! Verification of JWTs a client signs with its registered ES256 key: token-endpoint client
//! assertions (RFC 7523 §3, CAMARA ICM) and signed authorization requests (RFC 9101, ICM).
//!
//! Owns the signature check and the time/audience/issuer rules common to both. It must not decide
//! the OAuth error code (the caller maps a [`JwtRejection`] to `invalid_client` or
//! `invalid_request_object`) and must not touch the `jti` replay cache (only assertions need it).

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::extract::now_unix;

/// CAMARA ICM: assertion / request-object lifetime (`exp − iat`, and `exp` beyond receipt) ≤ 300 s.
pub(crate) const MAX_LIFETIME: u64 = 300;
/// Tolerated clock difference for `iat`/`nbf` in the future and for `exp` beyond now + 300 s.
pub(crate) const CLOCK_SKEW: u64 = 5;

/// Why a client JWT was refused; the text goes into `error_description` (no quotes in it: RFC 6749
/// restricts the character set).
#[derive(Debug)]
pub(crate) struct JwtRejection(pub String);

/// The checked claims the callers need.
#[derive(Debug)]
pub(crate) struct ClientJwt {
    /// All claims, for request objects.
    pub claims: Map<String, Value>,
    /// `exp` (Unix seconds).
    pub exp: u64,
    /// `jti`, if present.
    pub jti: Option<String>,
}

/// Reads a numeric date claim (RFC 7519 NumericDate; fractional values allowed).
fn numeric(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, JwtRejection> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(f) if f >= 0.0 && f.is_finite() => Ok(Some(f as u64)),
            _ => Err(JwtRejection(format!("{name} is not a NumericDate"))),
        },
    }
}

/// Which rules [`verify`] applies. The `check_*` switches exist for fault injection; they are all
/// true in a conformant provider.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules<'a> {
    /// Accepted `aud` values.
    pub audiences: &'a [&'a str],
    /// `sub` must equal the client_id (RFC 7523 client authentication).
    pub require_sub: bool,
    /// `iat` is mandatory.
    pub require_iat: bool,
    /// `jti` is mandatory.
    pub require_jti: bool,
    /// Check `aud` against `audiences`.
    pub check_aud: bool,
    /// Refuse an `exp` in the past.
    pub check_expiry: bool,
    /// Refuse `exp` more than 300 s after receipt and `exp − iat` > 300 s.
    pub check_lifetime: bool,
    /// Refuse an `iat` later than the receipt.
    pub check_issued_at: bool,
}

impl<'a> Rules<'a> {
    /// All checks on, nothing optional required.
    pub(crate) fn new(audiences: &'a [&'a str]) -> Self {
        Self {
            audiences,
            require_sub: false,
            require_iat: false,
            require_jti: false,
            check_aud: true,
            check_expiry: true,
            check_lifetime: true,
            check_issued_at: true,
        }
    }
}

/// Verifies `jwt`: ES256 signature by `key`, `iss` = `client_id` (and `sub` = `client_id` when
/// `rules.require_sub`), `aud` (string or array) contains one of `rules.audiences`, `exp` in the
/// future and at most 300 s away, `exp − iat` ≤ 300 s, `iat`/`nbf` not in the future.
pub(crate) fn verify(
    jwt: &str,
    key: &DecodingKey,
    client_id: &str,
    rules: &Rules<'_>,
) -> Result<ClientJwt, JwtRejection> {
    let audiences = rules.audiences;
    let header = jsonwebtoken::decode_header(jwt)
        .map_err(|_| JwtRejection("not a well-formed signed JWT".into()))?;
    // Discovery advertises ES256 only; `none` and HMAC algorithms must never be accepted.
    if header.alg != Algorithm::ES256 {
        return Err(JwtRejection("JWT must be signed with ES256".into()));
    }
    let mut v = Validation::new(Algorithm::ES256);
    // Time, audience and issuer rules are checked below, by hand, to apply the ICM limits exactly.
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Map<String, Value>>(jwt, key, &v)
        .map_err(|_| JwtRejection("signature does not verify with the registered key".into()))?;
    let claims = data.claims;

    if claims.get("iss").and_then(Value::as_str) != Some(client_id) {
        return Err(JwtRejection("iss must be the client_id".into()));
    }
    // RFC 7523 §3 item 2: for client authentication, sub is the client_id.
    if rules.require_sub && claims.get("sub").and_then(Value::as_str) != Some(client_id) {
        return Err(JwtRejection("sub must be the client_id".into()));
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audiences.contains(&a.as_str()),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .any(|a| audiences.contains(&a)),
        _ => false,
    };
    if rules.check_aud && !aud_ok {
        return Err(JwtRejection(format!(
            "aud must contain {}",
            audiences.join(" or ")
        )));
    }

    let now = now_unix();
    let exp = numeric(&claims, "exp")?.ok_or_else(|| JwtRejection("exp is required".into()))?;
    if rules.check_expiry && exp <= now {
        return Err(JwtRejection("JWT has expired".into()));
    }
    // ICM: reject when exp is more than 300 s after receipt.
    if rules.check_lifetime && exp > now + MAX_LIFETIME + CLOCK_SKEW {
        return Err(JwtRejection(
            "exp is more than 300 seconds in the future".into(),
        ));
    }
    match numeric(&claims, "iat")? {
        Some(iat) => {
            if rules.check_issued_at && iat > now + CLOCK_SKEW {
                return Err(JwtRejection("iat is in the future".into()));
            }
            // ICM: reject when exp − iat > 300 s.
            if rules.check_lifetime && exp.saturating_sub(iat) > MAX_LIFETIME {
                return Err(JwtRejection(
                    "lifetime exp - iat exceeds 300 seconds".into(),
                ));
            }
        }
        None if rules.require_iat => return Err(JwtRejection("iat is required".into())),
        None => {}
    }
    if let Some(nbf) = numeric(&claims, "nbf")?
        && nbf > now + CLOCK_SKEW
    {
        return Err(JwtRejection("JWT is not yet valid (nbf)".into()));
    }
    let jti = match claims.get("jti") {
        Some(Value::String(j)) if !j.is_empty() => Some(j.clone()),
        None if !rules.require_jti => None,
        _ => return Err(JwtRejection("jti is required".into())),
    };
    Ok(ClientJwt { claims, exp, jti })
}
