//! The Number Verification API (NV v2.1.0): `POST /verify` and `GET /device-phone-number` under
//! the configured base path, plus CAMARA `ErrorInfo` 404/405 for anything else under it.
//!
//! Owns bearer-token checking, the per-request check order (token → x-correlator → scope → amr →
//! body) and the NV request-body rules. This is the load-test hot path: one HS256 verification, one
//! read-locked map lookup, static bodies for the verify results, no logging. It must not share
//! validation code with nvcert's checker (patterns are re-implemented here on purpose).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::config::is_e164;
use super::error::ApiError;
use super::extract::{Bearer, bearer, content_type_is, correlator};
use super::state::{AppState, Line, SCOPE_SHARE, SCOPE_VERIFY};

/// Largest verify body read; a valid one is under 100 bytes.
const MAX_BODY: usize = 16 * 1024;

const VERIFIED_TRUE: &str = r#"{"devicePhoneNumberVerified":true}"#;
const VERIFIED_FALSE: &str = r#"{"devicePhoneNumberVerified":false}"#;

/// Routes of the NV API, nested at `api_base_path`.
pub fn router(state: &AppState) -> Router<AppState> {
    let api = Router::new()
        .route("/verify", post(verify).fallback(method_not_allowed))
        .route(
            "/device-phone-number",
            get(share).fallback(method_not_allowed),
        )
        .fallback(not_found);
    Router::new().nest(&state.0.config.api_base_path, api)
}

/// The part of the access token the API needs; `iss` and `exp` are checked by the validation.
#[derive(Deserialize)]
struct ApiClaims {
    sub: String,
    scope: String,
    amr: Vec<String>,
}

/// Token → line. Missing, malformed, badly signed, expired or unknown-subject tokens are all 401
/// UNAUTHENTICATED (ICM Appendix A: resource server).
fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<(ApiClaims, Arc<Line>), ApiError> {
    let s = &state.0;
    let token = match bearer(headers) {
        Bearer::Missing => return Err(ApiError::unauthenticated(None)),
        Bearer::Malformed => return Err(ApiError::unauthenticated(Some("invalid_token"))),
        Bearer::Token(t) => t,
    };
    let claims = jsonwebtoken::decode::<ApiClaims>(token, &s.at_decoding, &s.at_validation)
        .map_err(|_| ApiError::unauthenticated(Some("invalid_token")))?
        .claims;
    let line = s
        .lookup_subject(&claims.sub)
        .ok_or_else(|| ApiError::unauthenticated(Some("invalid_token")))?;
    Ok((claims, line))
}

fn has_scope(scope: &str, wanted: &str) -> bool {
    scope.split(' ').any(|s| s == wanted)
}

/// The common checks after authentication, in the documented order.
fn authorize(claims: &ApiClaims, correlator_valid: bool, scope: &str) -> Result<(), ApiError> {
    // Commonalities 0.6 design guide §5.8.5: a non-matching x-correlator is a 400.
    if !correlator_valid {
        return Err(ApiError::invalid_argument(
            "x-correlator does not match ^[a-zA-Z0-9-_:;.\\/<>{}]{0,256}$",
        ));
    }
    if !has_scope(&claims.scope, scope) {
        return Err(ApiError::permission_denied());
    }
    // NV: the token must come from network-based authentication (amr), not SMS OTP or password.
    if !claims.amr.iter().any(|a| a == "nba") {
        return Err(ApiError::not_network_authenticated());
    }
    Ok(())
}

fn ok(body: impl Into<Body>, correlator: HeaderValue) -> Response {
    let mut resp = Response::new(body.into());
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert("x-correlator", correlator);
    resp
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

async fn verify(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let corr = correlator(&parts.headers);
    let result = async {
        let (claims, line) = authenticate(&state, &parts.headers)?;
        authorize(&claims, corr.valid, SCOPE_VERIFY)?;
        let bytes = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| ApiError::invalid_argument("request body unreadable or too large"))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::invalid_argument("request body is missing"));
        }
        if !content_type_is(&parts.headers, "application/json") {
            return Err(ApiError::invalid_argument(
                "request body must be application/json",
            ));
        }
        let parsed: VerifyBody = serde_json::from_slice(&bytes).map_err(|_| {
            ApiError::invalid_argument(
                "body must be a JSON object with exactly one of phoneNumber or hashedPhoneNumber",
            )
        })?;
        let verified = match (parsed.phone_number, parsed.hashed_phone_number) {
            (Some(p), None) => {
                if !is_e164(&p) {
                    return Err(ApiError::invalid_argument(
                        "phoneNumber must match ^\\+[1-9][0-9]{4,14}$",
                    ));
                }
                *line.msisdn == *p
            }
            (None, Some(h)) => {
                if !is_sha256_hex(&h) {
                    return Err(ApiError::invalid_argument(
                        "hashedPhoneNumber must match ^[a-fA-F0-9]{64}$",
                    ));
                }
                // The pattern allows either case; the hash of "+<digits>" is compared as hex.
                line.sha256_hex.eq_ignore_ascii_case(&h)
            }
            (None, None) => {
                return Err(ApiError::invalid_argument(
                    "one of phoneNumber or hashedPhoneNumber is required",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_argument(
                    "only one of phoneNumber or hashedPhoneNumber may be provided",
                ));
            }
        };
        Ok(verified)
    }
    .await;
    match result {
        Ok(true) => ok(VERIFIED_TRUE, corr.value),
        Ok(false) => ok(VERIFIED_FALSE, corr.value),
        Err(e) => e.with_correlator(corr.value).into_response(),
    }
}

async fn share(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let corr = correlator(&headers);
    let result = authenticate(&state, &headers)
        .and_then(|(claims, line)| authorize(&claims, corr.valid, SCOPE_SHARE).map(|()| line));
    match result {
        Ok(line) => ok(
            format!("{{\"devicePhoneNumber\":\"{}\"}}", line.msisdn),
            corr.value,
        ),
        Err(e) => e.with_correlator(corr.value).into_response(),
    }
}

async fn not_found(headers: HeaderMap) -> Response {
    ApiError::not_found()
        .with_correlator(correlator(&headers).value)
        .into_response()
}

async fn method_not_allowed(headers: HeaderMap) -> Response {
    // axum adds the `Allow` header to method fallbacks.
    ApiError::method_not_allowed()
        .with_correlator(correlator(&headers).value)
        .into_response()
}
