//! The exchanges of a scenario as reports show them: already redacted and cut, plain data.

use serde::Serialize;

/// How much of a body a report keeps (64 KiB); the rest is cut and the cut is marked.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// How one step of a scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// The step passed.
    Passed,
    /// A check of the step failed.
    Failed,
    /// The step could not run to a verdict.
    Error,
    /// The step did not run (a premise the profile cannot meet, or no definition matches).
    Skipped,
}

/// One step of a scenario as it ran (steps after a failed one never run and are not listed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRecord {
    /// Keyword and text, e.g. `When the request "phoneNumberVerify" is sent`.
    pub text: String,
    /// How it ended.
    pub status: StepStatus,
}

/// One HTTP header as sent or received (value redacted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderRecord {
    /// Header name, lower case.
    pub name: String,
    /// Header value, redacted.
    pub value: String,
}

/// A request or response body: redacted first, then cut at [`BODY_LIMIT_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BodyRecord {
    /// The body as text (invalid UTF-8 replaced by U+FFFD), redacted, at most
    /// [`BODY_LIMIT_BYTES`] bytes.
    pub text: String,
    /// Size of the body as it went over the wire, in bytes.
    pub size: usize,
    /// True when `text` is only the start of the (redacted) body.
    pub truncated: bool,
}

/// One exchange of a scenario, in the order sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExchangeRecord {
    /// The Gherkin step that sent it (keyword and text).
    pub step: String,
    /// What nvcert was doing, e.g. "token endpoint" or an operationId.
    pub purpose: String,
    /// HTTP method.
    pub method: String,
    /// Full URL, redacted.
    pub url: String,
    /// Request headers as sent, redacted.
    pub request_headers: Vec<HeaderRecord>,
    /// Request body, when one was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<BodyRecord>,
    /// Response status; absent when no answer came back (see `error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Response headers, redacted.
    pub response_headers: Vec<HeaderRecord>,
    /// Response body (possibly empty), absent when no answer came back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<BodyRecord>,
    /// Time from sending the request to reading the whole answer, in milliseconds.
    pub duration_ms: f64,
    /// Why no usable answer came back (transport failure, timeout, answer too large).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ExchangeRecord {
    /// The value of request header `name` (case-insensitive), if sent.
    pub fn request_header(&self, name: &str) -> Option<&str> {
        find(&self.request_headers, name)
    }

    /// The value of response header `name` (case-insensitive), if received.
    pub fn response_header(&self, name: &str) -> Option<&str> {
        find(&self.response_headers, name)
    }
}

fn find<'a>(headers: &'a [HeaderRecord], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

impl BodyRecord {
    /// `text` (already redacted) cut at [`BODY_LIMIT_BYTES`] on a character boundary; `size` is
    /// the body's size on the wire.
    pub fn cut(text: String, size: usize) -> Self {
        if text.len() <= BODY_LIMIT_BYTES {
            return Self {
                text,
                size,
                truncated: false,
            };
        }
        let mut end = BODY_LIMIT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut text = text;
        text.truncate(end);
        Self {
            text,
            size,
            truncated: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_cut_at_64_kib_on_a_character_boundary_and_marked() {
        let small = BodyRecord::cut("abc".into(), 3);
        assert!(!small.truncated);
        assert_eq!(small.text, "abc");
        let big = "é".repeat(BODY_LIMIT_BYTES);
        let cut = BodyRecord::cut(big.clone(), big.len());
        assert!(cut.truncated);
        assert!(cut.text.len() <= BODY_LIMIT_BYTES && cut.text.len() >= BODY_LIMIT_BYTES - 1);
        assert_eq!(cut.size, big.len());
    }
}
