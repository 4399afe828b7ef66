//! Small request-parsing and crypto helpers shared by the endpoint modules.
//!
//! Owns form parsing (RFC 6749 parameter rules), the `x-correlator` rule, bearer-token parsing,
//! random values and constant-time comparison. It must not make authorization decisions, and it
//! must not be shared with the checking side of nvcert (the provider and the checker keep separate
//! validation code so one bug cannot hide on both sides).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::version::CorrelatorRule;

/// Parameters of an OAuth request, parsed by [`parse_params`].
pub(crate) type Params = HashMap<String, String>;

/// Parses `application/x-www-form-urlencoded` parameters (query string or body).
///
/// RFC 6749 §3.1: parameters without a value are treated as omitted, and a parameter must not be
/// included more than once — the error names the repeated parameter.
pub(crate) fn parse_params(raw: &[u8]) -> Result<Params, String> {
    let (params, duplicate) = parse_params_lenient(raw);
    match duplicate {
        Some(d) => Err(d),
        None => Ok(params),
    }
}

/// Like [`parse_params`] but keeps the first value of a repeated parameter and reports the first
/// repeated name, so the authorization endpoint can still validate client and redirect URI before
/// deciding how to answer.
pub(crate) fn parse_params_lenient(raw: &[u8]) -> (Params, Option<String>) {
    let mut out = Params::new();
    let mut duplicate = None;
    for (k, v) in url::form_urlencoded::parse(raw) {
        if v.is_empty() {
            continue;
        }
        if out.contains_key(k.as_ref()) {
            duplicate.get_or_insert_with(|| k.into_owned());
            continue;
        }
        out.insert(k.into_owned(), v.into_owned());
    }
    (out, duplicate)
}

/// True when the request's `Content-Type` is `type_` (parameters such as `charset` allowed).
pub(crate) fn content_type_is(headers: &HeaderMap, type_: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(type_))
}

/// The `x-correlator` to send back, and whether the request's value was acceptable.
pub(crate) struct Correlator {
    /// Value for the response header.
    pub value: HeaderValue,
    /// False when the request carried a value not matching the version's pattern (Commonalities
    /// 0.6: that must be answered with 400 INVALID_ARGUMENT).
    pub valid: bool,
}

/// Commonalities 0.5 (NV 1.1.0-rc.1 … 2.0.0) pattern `^[a-zA-Z0-9-]{0,55}$`, by hand.
fn legacy_correlator_ok(v: &[u8]) -> bool {
    v.len() <= 55 && v.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

/// CAMARA XCorrelator pattern (NV v2.1.0) `^[a-zA-Z0-9-_:;.\/<>{}]{0,256}$`, by hand: it is on the
/// hot path and a byte loop beats a regex.
fn correlator_ok(v: &[u8]) -> bool {
    v.len() <= 256
        && v.iter().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_' | b':' | b';' | b'.' | b'/' | b'<' | b'>' | b'{' | b'}'
                )
        })
}

/// Design guide §5.8.5: echo a valid, non-empty `x-correlator`; otherwise answer with a fresh
/// UUID — never echo an invalid value. Several header fields are treated as invalid, except where
/// the version has no pattern (≤ 1.0.0: the first value is echoed).
pub(crate) fn correlator(headers: &HeaderMap, rule: CorrelatorRule) -> Correlator {
    let mut all = headers.get_all("x-correlator").iter();
    let ok = |v: &HeaderValue| match rule {
        CorrelatorRule::Any => true,
        CorrelatorRule::Legacy => legacy_correlator_ok(v.as_bytes()),
        CorrelatorRule::Current => correlator_ok(v.as_bytes()),
    };
    match (all.next(), all.next()) {
        (None, _) => Correlator {
            value: new_uuid(),
            valid: true,
        },
        (Some(v), next) if ok(v) && (next.is_none() || rule == CorrelatorRule::Any) => Correlator {
            value: if v.is_empty() { new_uuid() } else { v.clone() },
            valid: true,
        },
        _ => Correlator {
            value: new_uuid(),
            valid: false,
        },
    }
}

/// A random UUID version 4 (RFC 9562 §5.4) as a header value.
pub(crate) fn new_uuid() -> HeaderValue {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    let s = format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    );
    HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static(
        "00000000-0000-4000-8000-000000000000",
    ))
}

/// Outcome of reading `Authorization: Bearer …` (RFC 6750 §2.1).
pub(crate) enum Bearer<'a> {
    /// No Authorization header.
    Missing,
    /// Present but not a single well-formed Bearer credential.
    Malformed,
    /// The token.
    Token(&'a str),
}

/// Reads the bearer token; the scheme is case-insensitive (RFC 9110 §11.1).
pub(crate) fn bearer(headers: &HeaderMap) -> Bearer<'_> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let v = match (all.next(), all.next()) {
        (None, _) => return Bearer::Missing,
        (Some(v), None) => v,
        _ => return Bearer::Malformed,
    };
    let Ok(s) = v.to_str() else {
        return Bearer::Malformed;
    };
    let Some((scheme, token)) = s.split_once(' ') else {
        return Bearer::Malformed;
    };
    let token = token.trim_start_matches(' ');
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Bearer::Malformed;
    }
    Bearer::Token(token)
}

/// Seconds since the Unix epoch, with sub-second precision.
pub(crate) fn now_unix_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Seconds since the Unix epoch.
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `n` random bytes, base64url without padding.
pub(crate) fn random_b64url(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// Constant-time equality of two byte strings of any length: compares their SHA-256 digests with
/// a branch-free fold, so neither content nor a common prefix leaks through timing.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let da = Sha256::digest(a);
    let db = Sha256::digest(b);
    da.iter()
        .zip(db.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// BASE64URL(SHA256(ASCII(verifier))) — the RFC 7636 §4.2 S256 transform.
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_skip_empty_and_refuse_duplicates() {
        let p = parse_params(b"a=1&b=&c=x+y%21").expect("ok");
        assert_eq!(p.get("a").map(String::as_str), Some("1"));
        assert!(!p.contains_key("b"));
        assert_eq!(p.get("c").map(String::as_str), Some("x y!"));
        assert_eq!(parse_params(b"a=1&a=2"), Err("a".to_owned()));
    }

    #[test]
    fn correlator_pattern() {
        assert!(correlator_ok(b"b4333c46-49c0-4f62-80d7-f0ef930f1c46"));
        assert!(correlator_ok(b"a_b:c;d.e/f<g>h{i}"));
        assert!(correlator_ok(&[b'a'; 256]));
        assert!(!correlator_ok(&[b'a'; 257]));
        for bad in ["a=b", "a b", "a?b", "a@b", "a,b", "a+b", "a#b", "a%b", "é"] {
            assert!(!correlator_ok(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn correlator_echo_and_generate() {
        let cur = CorrelatorRule::Current;
        let mut h = HeaderMap::new();
        let c = correlator(&h, cur);
        assert!(c.valid && c.value.len() == 36);
        h.insert("x-correlator", HeaderValue::from_static("abc-123"));
        let c = correlator(&h, cur);
        assert!(c.valid && c.value == "abc-123");
        h.insert("x-correlator", HeaderValue::from_static("a=b"));
        let c = correlator(&h, cur);
        assert!(!c.valid && c.value != "a=b");
        h.insert("x-correlator", HeaderValue::from_static(""));
        let c = correlator(&h, cur);
        assert!(c.valid && c.value.len() == 36);
    }

    #[test]
    fn correlator_rules_per_version() {
        let mut h = HeaderMap::new();
        h.insert("x-correlator", HeaderValue::from_static("a=b c"));
        let c = correlator(&h, CorrelatorRule::Any);
        assert!(c.valid && c.value == "a=b c");
        assert!(!correlator(&h, CorrelatorRule::Legacy).valid);
        h.insert("x-correlator", HeaderValue::from_static("a_b"));
        assert!(!correlator(&h, CorrelatorRule::Legacy).valid);
        assert!(correlator(&h, CorrelatorRule::Current).valid);
        assert!(legacy_correlator_ok(&[b'a'; 55]));
        assert!(!legacy_correlator_ok(&[b'a'; 56]));
        assert!(legacy_correlator_ok(
            b"b4333c46-49c0-4f62-80d7-f0ef930f1c46"
        ));
        h.append("x-correlator", HeaderValue::from_static("second"));
        let c = correlator(&h, CorrelatorRule::Any);
        assert!(c.valid && c.value == "a_b");
        assert!(!correlator(&h, CorrelatorRule::Current).valid);
    }

    #[test]
    fn uuid_v4_shape() {
        let u = new_uuid();
        let s = u.to_str().expect("ascii");
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
        assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert!(matches!(bearer(&h), Bearer::Missing));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert!(matches!(bearer(&h), Bearer::Token("abc")));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(matches!(bearer(&h), Bearer::Malformed));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer"));
        assert!(matches!(bearer(&h), Bearer::Malformed));
    }

    #[test]
    fn s256_rfc7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
    }
}
