//! The aggregator's NV API: `{base}/verify` and `{base}/device-phone-number` resolve the
//! aggregator token, then forward the call unchanged (method, path, query, body, content type,
//! `x-correlator`) to the operator that issued the grant, with the operator token as Bearer, and
//! return the operator's status, headers and body unchanged (NV white paper, Annex – Detailed
//! Flows: the API call is routed and forwarded).
//!
//! The aggregator answers by itself only when there is nothing to forward: no or an unknown
//! aggregator token (401 `UNAUTHENTICATED`), an unknown path under the base path (404) or a
//! wrong method (405 with `Allow`, as the operators would), a body
//! too large to read (400), the operator unreachable (503 `UNAVAILABLE`) or too slow (504
//! `TIMEOUT`) — every one a CAMARA `ErrorInfo` with an `x-correlator`.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::super::error::ApiError;
use super::super::extract::{Bearer, bearer, correlator};
use super::super::state::AppState;
use super::fault::AggregatorFault;
use super::upstream::Upstream;

/// Largest request body forwarded (a valid verify body is under 100 bytes).
const MAX_BODY: usize = 16 * 1024;
/// Largest operator answer relayed.
const MAX_ANSWER: usize = 256 * 1024;

/// Headers never forwarded in either direction (RFC 9110 §7.6.1 hop-by-hop fields, and what the
/// client library sets itself).
const NOT_FORWARDED: &[&str] = &[
    "host",
    "authorization",
    "content-length",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Routes of the forwarded API, nested at the served version's base path.
pub(super) fn router(state: &AppState) -> Router<AppState> {
    // As the operators (and the reference provider): a wrong method is answered 405 with
    // `Allow` whatever the token, an unknown path 404.
    let api = Router::new()
        .route("/verify", post(verify).fallback(method_not_allowed))
        .route(
            "/device-phone-number",
            get(share).fallback(method_not_allowed),
        )
        .fallback(not_found);
    Router::new().nest(&state.0.config.api_base_path, api)
}

async fn verify(state: State<AppState>, request: Request) -> Response {
    forward(state, request, "/verify").await
}

async fn share(state: State<AppState>, request: Request) -> Response {
    forward(state, request, "/device-phone-number").await
}

/// The aggregator's own `ErrorInfo`, with the request's `x-correlator` when it is valid.
fn own_error(state: &AppState, headers: &HeaderMap, error: ApiError) -> Response {
    let c = correlator(headers, state.0.correlator_rule);
    error.with_correlator(c.value).into_response()
}

async fn not_found(State(state): State<AppState>, headers: HeaderMap) -> Response {
    own_error(&state, &headers, ApiError::not_found())
}

async fn method_not_allowed(State(state): State<AppState>, headers: HeaderMap) -> Response {
    own_error(&state, &headers, ApiError::method_not_allowed())
}

async fn forward(State(state): State<AppState>, request: Request, path: &'static str) -> Response {
    let Some(upstream) = state.0.upstream.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let version = state.0.version;
    let (parts, body) = request.into_parts();
    let token = match bearer(&parts.headers) {
        Bearer::Missing => None,
        Bearer::Malformed => Some(None),
        Bearer::Token(t) => Some(Some(t.to_owned())),
    };
    let resolved = token.clone().flatten().and_then(|t| upstream.resolve(&t));
    let try_foreign = upstream.has(AggregatorFault::AcceptsOperatorToken) && token.is_some();
    if resolved.is_none() && !try_foreign {
        // As a resource server: the token is checked before the body is read.
        return own_error(
            &state,
            &parts.headers,
            ApiError::unauthenticated_for(version, token.map(|_| "invalid_token")),
        );
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return own_error(
            &state,
            &parts.headers,
            ApiError::invalid_argument("request body unreadable or too large"),
        );
    };
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let mut outgoing = HeaderMap::new();
    for (name, value) in &parts.headers {
        if !NOT_FORWARDED.contains(&name.as_str()) {
            outgoing.append(name.clone(), value.clone());
        }
    }
    let send = |operator: usize, authorization: Option<HeaderValue>| {
        let mut headers = outgoing.clone();
        if let Some(a) = authorization {
            headers.insert(header::AUTHORIZATION, a);
        }
        let url = format!("{}{path}{query}", upstream.operators[operator].api_root);
        let request = upstream
            .http
            .request(parts.method.clone(), url)
            .headers(headers)
            .body(body.clone());
        let upstream = &upstream;
        async move { relay(upstream, operator, request.send().await).await }
    };
    let app_authorization = parts.headers.get(header::AUTHORIZATION).cloned();
    match resolved {
        Some((operator, operator_token)) => {
            let authorization = if upstream.has(AggregatorFault::PassesTokenThrough) {
                app_authorization
            } else {
                HeaderValue::from_str(&format!("Bearer {}", operator_token.expose())).ok()
            };
            match send(operator, authorization).await {
                Ok(response) => tweak(&upstream, response),
                Err(e) => own_error(&state, &parts.headers, e),
            }
        }
        None => {
            // The unknown Bearer goes to each operator until one accepts it.
            let mut last = None;
            for operator in 0..upstream.operators.len() {
                match send(operator, app_authorization.clone()).await {
                    Ok(r) if r.status() != StatusCode::UNAUTHORIZED => {
                        return tweak(&upstream, r);
                    }
                    Ok(r) => last = Some(r),
                    Err(_) => {}
                }
            }
            match last {
                Some(r) => tweak(&upstream, r),
                None => own_error(
                    &state,
                    &parts.headers,
                    ApiError::unauthenticated_for(version, Some("invalid_token")),
                ),
            }
        }
    }
}

/// The operator's answer as the aggregator's, or the aggregator's own 503/504.
async fn relay(
    upstream: &Upstream,
    operator: usize,
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<Response, ApiError> {
    let name = &upstream.operators[operator].name;
    let unreachable = |e: &reqwest::Error| {
        if e.is_timeout() {
            ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "TIMEOUT",
                format!(
                    "Request timeout exceeded. Operator {name} did not answer within {} s.",
                    upstream.timeout.as_secs()
                ),
            )
        } else {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                format!("Service Unavailable. Operator {name} could not be reached."),
            )
        }
    };
    let answer = sent.map_err(|e| unreachable(&e))?;
    let status = answer.status();
    let mut headers = HeaderMap::new();
    for (n, v) in answer.headers() {
        if !NOT_FORWARDED.contains(&n.as_str()) {
            headers.append(n.clone(), v.clone());
        }
    }
    let bytes = answer.bytes().await.map_err(|e| unreachable(&e))?;
    if bytes.len() > MAX_ANSWER {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            format!("Service Unavailable. Operator {name}'s answer is too large."),
        ));
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// The answer faults.
fn tweak(upstream: &Upstream, mut response: Response) -> Response {
    if upstream.has(AggregatorFault::RewrapsErrors) && !response.status().is_success() {
        return (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"error":"upstream"}"#,
        )
            .into_response();
    }
    if upstream.has(AggregatorFault::DropsCorrelator) {
        response
            .headers_mut()
            .remove(HeaderName::from_static("x-correlator"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::super::upstream::UpstreamSettings;
    use super::*;
    use crate::provider::SpecVersion;
    use crate::secret::Secret;

    fn upstream(faults: Vec<AggregatorFault>) -> Upstream {
        Upstream::new(UpstreamSettings {
            operators: Vec::new(),
            faults,
            client_id: "c".into(),
            client_secret: Secret::new("s"),
            callback: "http://127.0.0.1:1/callback".into(),
            timeout: std::time::Duration::from_secs(1),
            version: SpecVersion::V2_1_0,
            enrichment_header: "x-nvcert-msisdn".into(),
        })
        .expect("client")
    }

    fn answer(status: StatusCode) -> Response {
        let mut r = (
            status,
            r#"{"status":400,"code":"INVALID_ARGUMENT","message":"m"}"#,
        )
            .into_response();
        r.headers_mut()
            .insert("x-correlator", HeaderValue::from_static("c-1"));
        r
    }

    #[test]
    fn answers_pass_unchanged_without_faults() {
        let r = tweak(&upstream(Vec::new()), answer(StatusCode::BAD_REQUEST));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(r.headers()["x-correlator"], "c-1");
    }

    #[test]
    fn answer_faults_do_what_their_names_say() {
        let r = tweak(
            &upstream(vec![AggregatorFault::RewrapsErrors]),
            answer(StatusCode::BAD_REQUEST),
        );
        assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
        // Successes are not rewrapped.
        let r = tweak(
            &upstream(vec![AggregatorFault::RewrapsErrors]),
            answer(StatusCode::OK),
        );
        assert_eq!(r.status(), StatusCode::OK);
        let r = tweak(
            &upstream(vec![AggregatorFault::DropsCorrelator]),
            answer(StatusCode::OK),
        );
        assert!(r.headers().get("x-correlator").is_none());
    }

    #[test]
    fn credentials_and_hop_by_hop_fields_are_never_forwarded() {
        for name in ["authorization", "host", "content-length", "connection"] {
            assert!(NOT_FORWARDED.contains(&name), "{name}");
        }
        for name in ["x-correlator", "content-type", "accept"] {
            assert!(!NOT_FORWARDED.contains(&name), "{name}");
        }
    }
}
