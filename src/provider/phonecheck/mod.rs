//! The reference provider playing IDlayr PhoneCheck v0.1 (`nvcert serve --dialect
//! idlayr-phonecheck-v0.1`): a client-credentials token endpoint, checks created for a phone
//! number, a check URL the device requests over (simulated) mobile data, and the result.
//!
//! What it does, as the integration guide describes the API (specs/dialects/
//! idlayr-phonecheck-v0.1.yaml holds the facts and what the guide leaves open):
//! - `POST /oauth2/v1/token`: HTTP Basic, `grant_type=client_credentials`, `scope` of
//!   `phone_check` (and `coverage`, another product, so a token without `phone_check` exists);
//! - `POST /phone_check/v0.1/checks` `{"phone_number": "447900123456"}` → 201, status
//!   `ACCEPTED`, `ttl`, `_links.self` and `_links.check_url` (`…/checks/{id}/redirect`);
//! - `GET …/checks/{id}/redirect` (no token): 302 to the simulated operator, once per check and
//!   within its ttl; the operator hop reads the line from the enrichment header
//!   `x-nvcert-msisdn` (as the NV reference provider does) and answers 200;
//! - `GET …/checks/{id}` → `ACCEPTED` until the device leg, `COMPLETED` with `match` after it,
//!   `EXPIRED` past its ttl; only the client that created the check reads it (404 otherwise).
//!
//! Errors are RFC 9457 problem details. Nothing is shared with the NV reference provider's
//! modules but the listener error type, and nothing at all with the checking side.
//!
//! TEST-ONLY: the operator hop trusts the enrichment header from any caller.

mod fault;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub use fault::{PhoneCheckFault, UnknownPhoneCheckFault};
pub use state::{PhoneCheckClient, PhoneCheckConfig};

use super::ProviderError;
use state::{Check, Grant, Shared};

/// The name a profile and `nvcert serve --dialect` use for this family.
pub const DIALECT: &str = "idlayr-phonecheck-v0.1";
/// The scope PhoneCheck resources need.
pub const SCOPE_PHONE_CHECK: &str = "phone_check";
/// Another product's scope this provider also grants (a token that is valid but cannot check).
pub const SCOPE_COVERAGE: &str = "coverage";
/// The API's base path.
pub const BASE_PATH: &str = "/phone_check/v0.1";

/// The PhoneCheck provider as an axum router (use `oneshot` in tests). `public_url` is the URL it
/// advertises in `_links` (scheme, host and port; a path is not supported).
pub fn router(config: PhoneCheckConfig, public_url: &url::Url) -> Router {
    let shared = Arc::new(Shared::new(config, public_url));
    Router::new()
        .route("/oauth2/v1/token", post(token))
        .route(&format!("{BASE_PATH}/checks"), post(create_check))
        .route(&format!("{BASE_PATH}/checks/{{check_id}}"), get(read_check))
        .route(
            &format!("{BASE_PATH}/checks/{{check_id}}/redirect"),
            get(check_url),
        )
        .route("/mno/phone-check", get(operator_hop))
        .with_state(shared)
}

// ----- errors ----------------------------------------------------------------------------------

/// An RFC 9457 problem answer.
fn problem(status: StatusCode, title: &str, detail: impl Into<String>) -> Response {
    let body = json!({
        "type": format!("https://nvcert.invalid/problems/{}", status.as_u16()),
        "title": title,
        "status": status.as_u16(),
        "detail": detail.into(),
    });
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// An OAuth error answer of the token endpoint (RFC 6749 §5.2).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        json!({ "error": error, "error_description": description }).to_string(),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"idlayr\""),
        );
    }
    response
}

fn json_answer(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

// ----- token -----------------------------------------------------------------------------------

/// `client_id:client_secret` from an HTTP Basic header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some((client_id, secret)) = basic_credentials(&headers) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "HTTP Basic client authentication is required",
        );
    };
    if !s.client_secret_matches(&client_id, &secret) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if field("grant_type") != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let scopes: Vec<String> = field("scope")
        .unwrap_or_default()
        .split(' ')
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    if scopes.is_empty()
        || scopes
            .iter()
            .any(|v| v != SCOPE_PHONE_CHECK && v != SCOPE_COVERAGE)
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "scope must name phone_check or coverage",
        );
    }
    let lifetime = s.config.token_ttl_secs;
    let Some(access_token) = s.issue_token(&client_id, &scopes) else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Busy",
            "too many live tokens; retry later",
        );
    };
    let mut body = json!({
        "access_token": access_token,
        "expires_in": lifetime,
        "token_type": "bearer",
        "scope": scopes.join(" "),
    });
    if s.has(PhoneCheckFault::TokenWithoutExpiry) {
        body.as_object_mut().map(|o| o.remove("expires_in"));
    }
    if s.has(PhoneCheckFault::TokenScopeMissing) {
        body.as_object_mut().map(|o| o.remove("scope"));
    }
    let mut response = json_answer(StatusCode::OK, &body);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

// ----- API -------------------------------------------------------------------------------------

/// Why an API request is refused before it is served.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// 401: no token, or one that is unknown or expired.
    Unauthorized(&'static str),
    /// 403: the token lacks `phone_check`.
    Forbidden,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthorized(detail) => {
                let mut r = problem(StatusCode::UNAUTHORIZED, "Unauthorized", detail);
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"idlayr\""),
                );
                r
            }
            Self::Forbidden => problem(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "the access token does not carry the phone_check scope",
            ),
        }
    }
}

/// The grant behind the request's bearer token, or why there is none.
fn authenticated(s: &Shared, headers: &HeaderMap) -> Result<Grant, Refusal> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    let Some(token) = presented else {
        return Err(Refusal::Unauthorized("a Bearer access token is required"));
    };
    s.grant(&token).ok_or(Refusal::Unauthorized(
        "the access token is unknown or expired",
    ))
}

/// The grant, or 403 when it lacks `phone_check`.
fn authorized(s: &Shared, headers: &HeaderMap) -> Result<Grant, Refusal> {
    let grant = authenticated(s, headers)?;
    if !grant.scopes.iter().any(|v| v == SCOPE_PHONE_CHECK)
        && !s.has(PhoneCheckFault::ScopeNotEnforced)
    {
        return Err(Refusal::Forbidden);
    }
    Ok(grant)
}

/// E.164 digits without '+': country code first, 5 to 15 digits.
fn is_e164_digits(text: &str) -> bool {
    (5..=15).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_digit())
        && !text.starts_with('0')
}

async fn create_check(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let grant = match authorized(&s, &headers) {
        Ok(g) => g,
        Err(_)
            if s.has(PhoneCheckFault::TokenNotRequired)
                && headers.get(header::AUTHORIZATION).is_none() =>
        {
            Grant::anonymous()
        }
        Err(refusal) => return refusal.into_response(),
    };
    let number = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("phone_number")?.as_str().map(str::to_owned));
    let number = match number {
        Some(n) if is_e164_digits(&n) || s.has(PhoneCheckFault::BadNumberAccepted) => n,
        _ => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                "phone_number must be an E.164 number without '+' (e.g. 447900123456)",
            );
        }
    };
    let Some(check) = s.create_check(&grant.client_id, &number) else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Busy",
            "too many live checks; retry later",
        );
    };
    let mut answer = s.check_body(&check);
    // A new check has not met its device leg, whatever a read would say.
    answer["status"] = json!("ACCEPTED");
    if let Some(o) = answer.as_object_mut() {
        o.remove("match");
    }
    if s.has(PhoneCheckFault::CreatedNotAccepted) {
        answer["status"] = json!("PENDING");
    }
    answer["snapshot_balance"] = json!(100);
    json_answer(StatusCode::CREATED, &answer)
}

async fn read_check(
    State(s): State<Arc<Shared>>,
    Path(check_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let grant = match authorized(&s, &headers) {
        Ok(g) => g,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(check) = s.check(&check_id) else {
        if s.has(PhoneCheckFault::UnknownCheckFound) {
            let made_up = json!({
                "check_id": check_id,
                "status": "ACCEPTED",
                "_links": {
                    "self": { "href": format!("{}{BASE_PATH}/checks/{check_id}", s.public) },
                    "check_url": { "href": format!("{}{BASE_PATH}/checks/{check_id}/redirect", s.public) },
                },
            });
            return json_answer(StatusCode::OK, &made_up);
        }
        return problem(StatusCode::NOT_FOUND, "Not Found", "no such check");
    };
    if check.owner != grant.client_id && !s.has(PhoneCheckFault::OtherClientCanRead) {
        // Another client's check is not revealed to exist.
        return problem(StatusCode::NOT_FOUND, "Not Found", "no such check");
    }
    json_answer(StatusCode::OK, &s.check_body(&check))
}

/// The check URL: once per check, within its ttl, to the operator.
async fn check_url(State(s): State<Arc<Shared>>, Path(check_id): Path<String>) -> Response {
    match s.start_device_leg(&check_id) {
        Ok(session) => {
            let location = format!("{}/mno/phone-check?session={session}", s.public);
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
        Err(state::DeviceLegRefusal::Unknown) => {
            problem(StatusCode::NOT_FOUND, "Not Found", "no such check")
        }
        Err(state::DeviceLegRefusal::Used) => problem(
            StatusCode::GONE,
            "Gone",
            "this check's URL has already been used",
        ),
        Err(state::DeviceLegRefusal::Expired) => {
            problem(StatusCode::GONE, "Gone", "this check has expired")
        }
    }
}

#[derive(serde::Deserialize)]
struct OperatorQuery {
    session: String,
}

/// The simulated operator: the data session's line is the enrichment header's number.
async fn operator_hop(
    State(s): State<Arc<Shared>>,
    Query(q): Query<OperatorQuery>,
    headers: HeaderMap,
) -> Response {
    let line = headers
        .get(s.config.enrichment_header.as_str())
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_start_matches('+').to_owned());
    if s.complete_device_leg(&q.session, line.as_deref()) {
        (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], "OK").into_response()
    } else {
        problem(StatusCode::NOT_FOUND, "Not Found", "no such session")
    }
}

// ----- serving ---------------------------------------------------------------------------------

/// A running PhoneCheck provider. Dropping it also stops the server (without waiting).
#[derive(Debug)]
pub struct PhoneCheckHandle {
    /// The public URL.
    pub url: url::Url,
    /// The address the listener is bound to.
    pub local_addr: SocketAddr,
    server: super::server::Running,
}

impl PhoneCheckHandle {
    /// `{public URL}{path}`, `path` starting with `/`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url.as_str().trim_end_matches('/'))
    }

    /// Stops accepting connections, lets in-flight requests finish (at most 5 s), and waits.
    ///
    /// # Errors
    ///
    /// [`ProviderError::Serve`] when the server had stopped with an error before.
    pub async fn shutdown(mut self) -> Result<(), ProviderError> {
        self.server.stop(self.local_addr).await
    }
}

/// Binds `addr` (port 0 = ephemeral) and serves in a tokio task; `public_url` defaults to
/// `http://<bound addr>`.
pub async fn spawn(
    config: PhoneCheckConfig,
    addr: SocketAddr,
    public_url: Option<url::Url>,
) -> Result<PhoneCheckHandle, ProviderError> {
    let (listener, local_addr, url) = super::server::bind(addr, public_url).await?;
    if !url.path().trim_end_matches('/').is_empty() {
        return Err(ProviderError::PublicUrl {
            url: url.to_string(),
            reason: "the PhoneCheck provider serves at the root of its URL (no path)".to_owned(),
        });
    }
    let app = router(config, &url);
    // The same server loop as the NV provider: header-read, request and connection limits.
    let server = super::server::start(listener, app, super::config::ServerLimits::default());
    Ok(PhoneCheckHandle {
        url,
        local_addr,
        server,
    })
}

/// `Check` is used by the state only through these helpers.
impl Shared {
    fn check_body(&self, check: &Check) -> Value {
        let (status, matched) = check.status(self);
        let self_href = format!("{}{BASE_PATH}/checks/{}", self.public, check.id);
        let check_host = if self.has(PhoneCheckFault::CheckUrlOffHost) {
            "http://checks.nvcert.invalid".to_owned()
        } else {
            self.public.clone()
        };
        let mut body = json!({
            "check_id": check.id,
            "status": status,
            "charge_amount": 1,
            "charge_currency": "API",
            "created_at": state::rfc3339(check.created_unix),
            "ttl": self.config.check_ttl_secs,
            "_links": {
                "self": { "href": self_href },
                "check_url": { "href": format!("{check_host}{BASE_PATH}/checks/{}/redirect", check.id) },
            },
        });
        if let Some(m) = matched {
            body["match"] = json!(m);
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_digits_have_no_plus_and_no_leading_zero() {
        assert!(is_e164_digits("447900123456"));
        assert!(!is_e164_digits("+447900123456"));
        assert!(!is_e164_digits("07900123456"));
        assert!(!is_e164_digits("1234"));
        assert!(!is_e164_digits("44790012345a"));
    }

    #[test]
    fn basic_credentials_are_read() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YTpiOmM="),
        );
        assert_eq!(basic_credentials(&h), Some(("a".into(), "b:c".into())));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(basic_credentials(&h), None);
    }
}
