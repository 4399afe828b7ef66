//! One recorded HTTP exchange: what was sent, what came back, how long it took.
//!
//! This is the unit every check and every transcript works on. It records; it never judges.

use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};

/// A request as it was sent on the wire.
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone)]
pub struct RecordedResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body bytes (possibly empty).
    pub body: Vec<u8>,
}

/// A request, its response and the time between them.
#[derive(Debug, Clone)]
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
