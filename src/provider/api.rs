//! The Number Verification API: `POST /verify` and `GET /device-phone-number` under the base path,
//! plus CAMARA `ErrorInfo` 404/405 for anything else under it, with the rules of the configured
//! spec version (scope names, x-correlator pattern, body patterns, messages; wip single-use tokens).
//!
//! Owns bearer-token checking, the per-request check order (token → x-correlator → scope → amr →
//! body) and the NV request-body rules. This is the load-test hot path: one HS256 verification, one
//! read-locked map lookup, static bodies for the verify results, no logging; per-version rules and
//! faults are copied enums and a bitset. Only single-use mode (wip) adds a locked set. It must not
//! share validation code with nvcert's checker (patterns are re-implemented here on purpose).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::config::is_e164;
use super::dialect::ProviderDialect;
use super::error::ApiError;
use super::extract::{
    Bearer, Correlator, bearer, content_type_is, correlator, new_uuid, now_unix_f64,
};
use super::fault::Fault;
use super::state::{AppState, Inner, JtiError, Line, NETWORK_OR_SIM_AMR};

/// Largest verify body read; a valid one is under 100 bytes.
const MAX_BODY: usize = 16 * 1024;

const VERIFIED_TRUE: &str = r#"{"devicePhoneNumberVerified":true}"#;
const VERIFIED_FALSE: &str = r#"{"devicePhoneNumberVerified":false}"#;

/// Routes of the NV API, nested at `api_base_path`.
pub fn router(state: &AppState) -> Router<AppState> {
    let api = if state.0.faults.has(Fault::ApiMethodNotAllowedWithoutAllow) {
        // Method routers add `Allow` to 405 answers; `any` routes do not.
        Router::new()
            .route("/verify", any(verify_or_405))
            .route("/device-phone-number", any(share_or_405))
    } else {
        Router::new()
            .route("/verify", post(verify).fallback(method_not_allowed))
            .route(
                "/device-phone-number",
                get(share).fallback(method_not_allowed),
            )
    }
    .fallback(not_found);
    Router::new().nest(&state.0.config.api_base_path, api)
}

/// `/verify` under the `api-405-without-allow` fault.
async fn verify_or_405(state: State<AppState>, req: Request) -> Response {
    if req.method() == Method::POST {
        verify(state, req).await
    } else {
        method_not_allowed(state, req.headers().clone()).await
    }
}

/// `/device-phone-number` under the `api-405-without-allow` fault.
async fn share_or_405(state: State<AppState>, method: Method, headers: HeaderMap) -> Response {
    if method == Method::GET || method == Method::HEAD {
        share(state, headers).await
    } else {
        method_not_allowed(state, headers).await
    }
}

/// The part of the access token the API needs; `iss` is checked by the validation, `exp` here
/// (with sub-second precision).
#[derive(Deserialize)]
struct ApiClaims {
    sub: String,
    scope: String,
    amr: Vec<String>,
    /// Non-integer: the provider issues it to the millisecond.
    exp: f64,
}

fn unauthenticated(provider: &Inner, token_error: Option<&'static str>) -> ApiError {
    let mut e = ApiError::unauthenticated_for(provider.version, token_error);
    if provider.dialect.is_some() {
        // Orange Spain documents UNAUTHORIZED for an expired, revoked or unknown token.
        e.set_code("UNAUTHORIZED");
    }
    e
}

/// Token → line. Missing, malformed, badly signed, expired, unknown-subject or (single-use mode)
/// already used tokens are all 401 UNAUTHENTICATED (ICM Appendix A: resource server).
fn authenticate(provider: &Inner, headers: &HeaderMap) -> Result<(ApiClaims, Arc<Line>), ApiError> {
    let token = match bearer(headers) {
        Bearer::Missing => return Err(unauthenticated(provider, None)),
        Bearer::Malformed => return Err(unauthenticated(provider, Some("invalid_token"))),
        Bearer::Token(t) => t,
    };
    let keys = &provider.keys;
    let claims = match jsonwebtoken::decode::<ApiClaims>(
        token,
        &keys.access_token_decoding,
        &keys.access_token_validation,
    ) {
        Ok(d) => d.claims,
        Err(_)
            if provider.faults.has(Fault::ApiSignatureNotChecked)
                && jsonwebtoken::decode_header(token).is_ok() =>
        {
            return Ok(forged(provider));
        }
        Err(_) => return Err(unauthenticated(provider, Some("invalid_token"))),
    };
    if claims.exp <= now_unix_f64() && !provider.faults.has(Fault::ApiExpiredTokenAccepted) {
        return Err(unauthenticated(provider, Some("invalid_token")));
    }
    let line = provider
        .stores
        .lookup_subject(&claims.sub)
        .ok_or_else(|| unauthenticated(provider, Some("invalid_token")))?;
    // NV wip: "the access token MUST be restricted to a single API call".
    if provider.single_use {
        match provider
            .stores
            .consume_access_token(token, claims.exp.ceil() as u64)
        {
            Ok(()) => {}
            Err(JtiError::Replayed) => {
                return Err(unauthenticated(provider, Some("invalid_token")));
            }
            Err(JtiError::Full) => return Err(ApiError::unavailable()),
        }
    }
    Ok((claims, line))
}

/// What any JWT-shaped token stands for under `api-signature-not-checked`: the first configured
/// line, both scopes, network authentication.
fn forged(provider: &Inner) -> (ApiClaims, Arc<Line>) {
    let version = provider.version;
    let claims = ApiClaims {
        sub: String::new(),
        scope: format!("{} {}", version.scope_verify(), version.scope_share()),
        amr: vec!["nba".to_owned()],
        exp: f64::MAX,
    };
    (claims, Arc::clone(&provider.clients.fallback_line))
}

fn has_scope(scope: &str, wanted: &str) -> bool {
    scope.split(' ').any(|s| s == wanted)
}

/// The version's x-correlator rule, then the correlator faults.
fn api_correlator(provider: &Inner, headers: &HeaderMap) -> Correlator {
    let mut c = correlator(headers, provider.correlator_rule);
    let faults = provider.faults;
    if !faults.is_empty() {
        if !c.valid && faults.has(Fault::ApiCorrelatorNotValidated) {
            c.valid = true;
            if let Some(v) = headers.get("x-correlator").filter(|v| !v.is_empty()) {
                c.value = v.clone();
            }
        }
        if faults.has(Fault::ApiCorrelatorNotEchoed) {
            c.value = new_uuid();
        }
    }
    c
}

/// The common checks after authentication, in the documented order.
fn authorize(
    provider: &Inner,
    claims: &ApiClaims,
    correlator_valid: bool,
    scope: &str,
) -> Result<(), ApiError> {
    // Commonalities 0.5/0.6: a non-matching x-correlator is a 400.
    if !correlator_valid {
        return Err(ApiError::invalid_argument(&format!(
            "x-correlator does not match {}",
            provider.correlator_rule.pattern()
        )));
    }
    if !has_scope(&claims.scope, scope) && !provider.faults.has(Fault::ApiScopeNotChecked) {
        return Err(ApiError::permission_denied_for(provider.version));
    }
    // NV: the token must come from network- or SIM-based authentication (amr), not SMS OTP,
    // password or a bare tel: subject.
    if !claims
        .amr
        .iter()
        .any(|a| NETWORK_OR_SIM_AMR.contains(&a.as_str()))
        && !provider.faults.has(Fault::ApiNetworkAuthNotChecked)
    {
        return Err(ApiError::not_network_authenticated());
    }
    Ok(())
}

fn ok(provider: &Inner, body: impl Into<Body>, correlator: HeaderValue) -> Response {
    let mut resp = Response::new(body.into());
    let h = resp.headers_mut();
    let ct = if provider.faults.has(Fault::ApiContentTypeText) {
        "text/plain"
    } else {
        "application/json"
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    h.insert("x-correlator", correlator);
    resp
}

/// An `ErrorInfo` response, after the error faults.
fn fail(provider: &Inner, mut e: ApiError, correlator: HeaderValue) -> Response {
    let faults = provider.faults;
    e.set_dialect(provider.dialect);
    if !faults.is_empty() {
        if faults.has(Fault::ApiWrongErrorCode) && e.status() == StatusCode::UNAUTHORIZED {
            // The other family's code: CAMARA's where the dialect documents its own.
            e.set_code(if provider.dialect.is_some() {
                "UNAUTHENTICATED"
            } else {
                "UNAUTHORIZED"
            });
        }
        if faults.has(Fault::ApiErrorStatusMismatch) {
            e.set_body_status(400);
        }
        let status = e.status();
        if faults.has(Fault::ApiProblemJsonErrors)
            && matches!(
                status,
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            )
        {
            let body = serde_json::json!({
                "type": "about:blank",
                "title": status.canonical_reason().unwrap_or_default(),
                "status": status.as_u16(),
            });
            let mut response = (status, body.to_string()).into_response();
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            );
            h.insert("x-correlator", correlator);
            return response;
        }
        if faults.has(Fault::ApiNoBearerChallenge) {
            let mut response = e.with_correlator(correlator).into_response();
            response.headers_mut().remove(header::WWW_AUTHENTICATE);
            return response;
        }
    }
    e.with_correlator(correlator).into_response()
}

/// NV `NumberVerificationRequestBody`: an object with exactly one of the two properties. Unknown
/// properties are refused (scenario 400.3); a repeated key is a serde error, hence 400 too. Values
/// are `String`, not `&str`, so JSON escapes in a valid number are accepted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    #[serde(rename = "phoneNumber", default, deserialize_with = "present")]
    phone_number: Option<String>,
    #[serde(rename = "hashedPhoneNumber", default, deserialize_with = "present")]
    hashed_phone_number: Option<String>,
}

/// A property that is present must be a string (`null` is not "absent").
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// 400 unless there is a body and it is declared `application/json`.
fn require_json_body(headers: &HeaderMap, bytes: &[u8]) -> Result<(), ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_argument("request body is missing"));
    }
    if !content_type_is(headers, "application/json") {
        return Err(ApiError::invalid_argument(
            "request body must be application/json",
        ));
    }
    Ok(())
}

/// The two properties of a valid body, or 400.
fn strict_fields(
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<(Option<String>, Option<String>), ApiError> {
    require_json_body(headers, bytes)?;
    let parsed: VerifyBody = serde_json::from_slice(bytes).map_err(|_| {
        ApiError::invalid_argument(
            "body must be a JSON object with exactly one of phoneNumber or hashedPhoneNumber",
        )
    })?;
    Ok((parsed.phone_number, parsed.hashed_phone_number))
}

/// `api-body-not-validated`: whatever string properties can be found, nothing refused.
fn lenient_fields(bytes: &[u8]) -> (Option<String>, Option<String>) {
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let get = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    (get("phoneNumber"), get("hashedPhoneNumber"))
}

/// Orange Spain's verify body: `phoneNumberType` (RegularPhoneNumber/REGULAR or
/// HashedPhoneNumber/HASHED) and `phoneNumber`, nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DialectVerifyBody {
    #[serde(rename = "phoneNumberType")]
    phone_number_type: String,
    #[serde(rename = "phoneNumber")]
    phone_number: String,
}

/// A dialect body as (plain, hashed), or 400.
fn dialect_fields(
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<(Option<String>, Option<String>), ApiError> {
    require_json_body(headers, bytes)?;
    let parsed: DialectVerifyBody = serde_json::from_slice(bytes).map_err(|_| {
        ApiError::invalid_argument(
            "body must be a JSON object with phoneNumberType and phoneNumber",
        )
    })?;
    let t = parsed.phone_number_type.as_str();
    if ProviderDialect::is_regular_type(t) {
        Ok((Some(parsed.phone_number), None))
    } else if ProviderDialect::is_hashed_type(t) {
        Ok((None, Some(parsed.phone_number)))
    } else {
        Err(ApiError::invalid_argument(
            "phoneNumberType must be RegularPhoneNumber, REGULAR, HashedPhoneNumber or HASHED",
        ))
    }
}

/// `api-body-not-validated` under a dialect: the number read whatever the type says.
fn dialect_lenient_fields(bytes: &[u8]) -> (Option<String>, Option<String>) {
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let number = v
        .get("phoneNumber")
        .and_then(|x| x.as_str())
        .map(str::to_owned);
    let hashed = v
        .get("phoneNumberType")
        .and_then(|x| x.as_str())
        .is_some_and(ProviderDialect::is_hashed_type);
    if hashed {
        (None, number)
    } else {
        (number, None)
    }
}

/// The verify decision for `line`; `Err` is the ErrorInfo to send.
fn decide(
    provider: &Inner,
    line: &Line,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<bool, ApiError> {
    let faults = provider.faults;
    let lenient = faults.has(Fault::ApiBodyNotValidated);
    let (phone, hash) = match provider.dialect {
        Some(_) if lenient => dialect_lenient_fields(bytes),
        Some(_) => dialect_fields(headers, bytes)?,
        None if lenient => lenient_fields(bytes),
        None => strict_fields(headers, bytes)?,
    };
    let verified = match (phone, hash) {
        (Some(_), Some(_)) if !faults.has(Fault::ApiBothFieldsAccepted) => {
            return Err(ApiError::invalid_argument(
                "only one of phoneNumber or hashedPhoneNumber may be provided",
            ));
        }
        (Some(p), _) => match_phone(provider, line, &p, lenient)?,
        (None, Some(h)) => {
            if faults.has(Fault::ApiUndocumentedStatus) {
                return Err(ApiError::internal());
            }
            match_hash(provider, line, &h, lenient)?
        }
        (None, None) if lenient => false,
        (None, None) => {
            return Err(ApiError::invalid_argument(
                "one of phoneNumber or hashedPhoneNumber is required",
            ));
        }
    };
    Ok(verified || faults.has(Fault::ApiVerifyAlwaysTrue))
}

fn match_phone(provider: &Inner, line: &Line, p: &str, lenient: bool) -> Result<bool, ApiError> {
    if !provider.version.phone_number_pattern() {
        // v0.3.1: no pattern, '+' optional; compare the digits.
        let digits = p.strip_prefix('+').unwrap_or(p);
        return Ok(line.msisdn[1..] == *digits);
    }
    if !is_e164(p) && !lenient {
        return Err(ApiError::invalid_argument(
            "phoneNumber must match ^\\+[1-9][0-9]{4,14}$",
        ));
    }
    Ok(*line.msisdn == *p)
}

fn match_hash(provider: &Inner, line: &Line, h: &str, lenient: bool) -> Result<bool, ApiError> {
    let version = provider.version;
    if !is_sha256_hex(h) {
        // 2.1.0-rc.1+: pattern ^[a-fA-F0-9]{64}$; before, any string (it just does not match).
        if version.hashed_phone_number_pattern() && !lenient {
            return Err(ApiError::invalid_argument(
                "hashedPhoneNumber must match ^[a-fA-F0-9]{64}$",
            ));
        }
        return Ok(false);
    }
    let case_sensitive = provider.faults.has(Fault::ApiHashCaseSensitive);
    let eq = |ours: &str| {
        if case_sensitive {
            ours == h
        } else {
            // The pattern allows either case; the hash of "+<digits>" is compared as hex.
            ours.eq_ignore_ascii_case(h)
        }
    };
    if eq(&line.sha256_hex) {
        return Ok(true);
    }
    if !version.phone_number_pattern() {
        // v0.3.1: the hash input is the number "optionally prefixed with '+'".
        let without_plus = hex::encode(Sha256::digest(line.msisdn[1..].as_bytes()));
        return Ok(eq(&without_plus));
    }
    Ok(false)
}

async fn verify(State(state): State<AppState>, req: Request) -> Response {
    let provider = &*state.0;
    if provider.faults.has(Fault::ApiDelay100ms) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (parts, body) = req.into_parts();
    let corr = api_correlator(provider, &parts.headers);
    let result = async {
        let (claims, line) = authenticate(provider, &parts.headers)?;
        authorize(
            provider,
            &claims,
            corr.valid,
            provider.version.scope_verify(),
        )?;
        let bytes = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| ApiError::invalid_argument("request body unreadable or too large"))?;
        decide(provider, &line, &parts.headers, &bytes)
    }
    .await;
    match result {
        Ok(true) => ok(provider, VERIFIED_TRUE, corr.value),
        Ok(false) => ok(provider, VERIFIED_FALSE, corr.value),
        Err(e) => fail(provider, e, corr.value),
    }
}

/// `api-share-wrong-number`: the line's number with its last digit changed.
fn another_number(msisdn: &str) -> String {
    let mut b = msisdn.as_bytes().to_vec();
    if let Some(last) = b.last_mut() {
        *last = if *last == b'9' { b'0' } else { *last + 1 };
    }
    String::from_utf8(b).unwrap_or_default()
}

async fn share(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let provider = &*state.0;
    if provider.faults.has(Fault::ApiDelay100ms) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let corr = api_correlator(provider, &headers);
    let result = authenticate(provider, &headers).and_then(|(claims, line)| {
        authorize(
            provider,
            &claims,
            corr.valid,
            provider.version.scope_share(),
        )
        .map(|()| line)
    });
    let answer = |number: &str| match provider.dialect {
        // Orange Spain: the number and its form.
        Some(_) => format!(
            "{{\"devicePhoneNumber\":{{\"phoneNumberType\":\"REGULAR\",\"phoneNumber\":\"{number}\"}}}}"
        ),
        None => format!("{{\"devicePhoneNumber\":\"{number}\"}}"),
    };
    match result {
        Ok(line) if provider.faults.has(Fault::ApiShareWrongNumber) => {
            ok(provider, answer(&another_number(&line.msisdn)), corr.value)
        }
        Ok(line) => ok(provider, answer(&line.msisdn), corr.value),
        Err(e) => fail(provider, e, corr.value),
    }
}

async fn not_found(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let provider = &*state.0;
    fail(
        provider,
        ApiError::not_found(),
        api_correlator(provider, &headers).value,
    )
}

async fn method_not_allowed(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let provider = &*state.0;
    // axum adds the `Allow` header to method fallbacks.
    fail(
        provider,
        ApiError::method_not_allowed(),
        api_correlator(provider, &headers).value,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_number_changes_the_last_digit_only() {
        assert_eq!(another_number("+34600000001"), "+34600000002");
        assert_eq!(another_number("+34600000009"), "+34600000000");
    }
}
