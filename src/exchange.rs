//! One recorded HTTP exchange: what was sent, what came back, how long it took.
//!
//! This is the unit every check and every transcript works on. It records; it never judges.
//!
//! Its `Debug` output is redacted: method, URL with query values replaced, status, header
//! names and body lengths, never a header value, a query value or a body (they carry tokens and
//! codes).

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};

/// A request as it was sent on the wire.
#[derive(Clone)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: Method,
    /// Full URL, query included.
    pub url: url::Url,
    /// Headers as sent (names are case-insensitive, as in HTTP).
    pub headers: HeaderMap,
    /// Body bytes, `None` when no body was sent.
    pub body: Option<Vec<u8>>,
}

/// A response as it was received.
#[derive(Clone)]
pub struct RecordedResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body bytes (possibly empty).
    pub body: Vec<u8>,
}

/// A request, its response and the time between them.
#[derive(Clone)]
pub struct Exchange {
    /// What was sent.
    pub request: RecordedRequest,
    /// What came back.
    pub response: RecordedResponse,
    /// Time from sending the request to reading the whole body.
    pub elapsed: Duration,
}

impl RecordedResponse {
    /// The body parsed as JSON, or `None` when it is empty or not JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The value of header `name` as text, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl RecordedRequest {
    /// The value of header `name` as text, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The text `[redacted]`, which stands for a value `Debug` does not show.
const REDACTED: &str = "[redacted]";

/// `url` without its secrets: user info, each query value and the fragment replaced by
/// [`REDACTED`], query parameter names kept.
fn redacted_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    let user_info = !shown.username().is_empty() || shown.password().is_some();
    // Fails only for URLs that cannot have user info, which then have none to hide.
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.set_query(None);
    shown.set_fragment(None);
    let mut text = shown.to_string();
    if user_info && let Some(at) = text.find("://") {
        text.insert_str(at + 3, &format!("{REDACTED}@"));
    }
    if url.query().is_some() {
        let names: Vec<String> = url
            .query_pairs()
            .map(|(name, _)| format!("{name}={REDACTED}"))
            .collect();
        text.push('?');
        text.push_str(&names.join("&"));
    }
    if url.fragment().is_some() {
        text.push('#');
        text.push_str(REDACTED);
    }
    text
}

/// Header names only, in map order, each once.
struct HeaderNames<'a>(&'a HeaderMap);

impl fmt::Debug for HeaderNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// A body as its length.
struct BodyLen(Option<usize>);

impl fmt::Debug for BodyLen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(len) => write!(f, "{len} bytes"),
            None => f.write_str("none"),
        }
    }
}

impl fmt::Debug for RecordedRequest {
    /// Method, URL without query values, header names and body length: no secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("url", &format_args!("{}", redacted_url(&self.url)))
            .field("headers", &HeaderNames(&self.headers))
            .field("body", &BodyLen(self.body.as_ref().map(Vec::len)))
            .finish()
    }
}

impl fmt::Debug for RecordedResponse {
    /// Status, header names and body length: no secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedResponse")
            .field("status", &self.status)
            .field("headers", &HeaderNames(&self.headers))
            .field("body", &BodyLen(Some(self.body.len())))
            .finish()
    }
}

impl fmt::Debug for Exchange {
    /// The redacted request and response, and the elapsed time.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("request", &self.request)
            .field("response", &self.response)
            .field("elapsed", &self.elapsed)
            .finish()
    }
}

/// `url` as reports may show it before the run's redactor has seen it: user info, query values
/// and the fragment replaced by `[redacted]`, query parameter names kept.
pub fn shown_url(url: &url::Url) -> String {
    redacted_url(url)
}

/// Receives every exchange a flow sends while it is in scope (see [`observed`]): the suite
/// records each scenario's exchanges this way, without the flows knowing about scenarios.
pub trait ExchangeObserver: Send + Sync {
    /// `exchange` was sent and answered; `step` names the flow step (e.g. "token endpoint").
    fn exchanged(&self, step: &'static str, exchange: &Exchange);
    /// `request` was sent but no usable answer came back after `elapsed` (`error` says why).
    fn failed(&self, step: &'static str, request: &RecordedRequest, elapsed: Duration, error: &str);
}

tokio::task_local! {
    static OBSERVER: std::sync::Arc<dyn ExchangeObserver>;
}

/// Runs `future` with `observer` told of every exchange sent while it runs. A task-local scope,
/// so concurrent scenarios sharing one flow each see only their own exchanges.
pub async fn observed<F: Future>(
    observer: std::sync::Arc<dyn ExchangeObserver>,
    future: F,
) -> F::Output {
    OBSERVER.scope(observer, future).await
}

/// Tells the observer in scope, if any, of `exchange`.
pub fn notify_exchanged(step: &'static str, exchange: &Exchange) {
    let _ = OBSERVER.try_with(|o| o.exchanged(step, exchange));
}

/// Tells the observer in scope, if any, that `request` got no usable answer.
pub fn notify_failed(
    step: &'static str,
    request: &RecordedRequest,
    elapsed: Duration,
    error: &str,
) {
    let _ = OBSERVER.try_with(|o| o.failed(step, request, elapsed, error));
}

/// How many characters of a provider's value a message quotes.
pub const QUOTE_MAX_CHARS: usize = 120;

/// `text` cut to [`QUOTE_MAX_CHARS`] characters, marked with `…` when cut: messages quote what
/// a provider sent, and a hostile provider may send a lot.
pub fn quote_text(text: &str) -> String {
    match text.char_indices().nth(QUOTE_MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Compact JSON of `value`, cut like [`quote_text`].
pub fn quote_json(value: &serde_json::Value) -> String {
    quote_text(&value.to_string())
}

/// Recorded answers built by hand, for the unit tests of what reads them.
#[cfg(test)]
pub(crate) mod testing {
    use std::time::Duration;

    use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

    use super::{Exchange, RecordedRequest, RecordedResponse};

    /// A `POST url` answered with `status`, `headers` and `body`.
    pub(crate) fn answer(url: &str, status: u16, headers: &[(&str, &str)], body: &str) -> Exchange {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        Exchange {
            request: RecordedRequest {
                method: Method::POST,
                url: url.parse().expect("URL"),
                headers: HeaderMap::new(),
                body: None,
            },
            response: RecordedResponse {
                status: StatusCode::from_u16(status).expect("status"),
                headers: map,
                body: body.as_bytes().to_vec(),
            },
            elapsed: Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use http::header::{AUTHORIZATION, CONTENT_TYPE, SET_COOKIE};
    use http::{HeaderValue, Method, StatusCode};

    use super::*;

    fn exchange() -> Exchange {
        let mut request_headers = HeaderMap::new();
        request_headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Bearer header-token-3f9a"),
        );
        request_headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let mut response_headers = HeaderMap::new();
        response_headers.insert(
            SET_COOKIE,
            HeaderValue::from_static("sid=cookie-value-77c1"),
        );
        Exchange {
            request: RecordedRequest {
                method: Method::POST,
                url: url::Url::parse(
                    "https://user:url-password-5e2@op.example/token?code=code-value-81d2&state=state-value-0b7e#frag-value-aa",
                )
                .expect("url"),
                headers: request_headers,
                body: Some(b"grant_type=authorization_code&code_verifier=body-token-c4d8".to_vec()),
            },
            response: RecordedResponse {
                status: StatusCode::OK,
                headers: response_headers,
                body: br#"{"access_token":"response-token-9e61"}"#.to_vec(),
            },
            elapsed: Duration::from_millis(12),
        }
    }

    #[test]
    fn debug_shows_shape_never_values() {
        let exchange = exchange();
        let text = format!("{exchange:?}");
        let pretty = format!("{exchange:#?}");
        for shown in [&text, &pretty] {
            for secret in [
                "header-token-3f9a",
                "Bearer",
                "x-www-form-urlencoded",
                "cookie-value-77c1",
                "url-password-5e2",
                "user:",
                "code-value-81d2",
                "state-value-0b7e",
                "frag-value-aa",
                "body-token-c4d8",
                "code_verifier",
                "response-token-9e61",
                "access_token",
            ] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
        }
        for kept in [
            "POST",
            "https://[redacted]@op.example/token?code=[redacted]&state=[redacted]#[redacted]",
            "\"authorization\"",
            "\"content-type\"",
            "\"set-cookie\"",
            "200",
            "59 bytes",
            "38 bytes",
            "12ms",
        ] {
            assert!(text.contains(kept), "{kept} missing from {text}");
        }
    }

    #[test]
    fn debug_of_a_url_without_query_and_a_request_without_body() {
        let request = RecordedRequest {
            method: Method::GET,
            url: url::Url::parse("https://op.example/jwks").expect("url"),
            headers: HeaderMap::new(),
            body: None,
        };
        assert_eq!(
            format!("{request:?}"),
            "RecordedRequest { method: GET, url: https://op.example/jwks, headers: [], body: none }"
        );
    }
}
