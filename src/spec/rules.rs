//! The rules `validate` applies to one exchange, over rules compiled at load time.
//!
//! Everything a rule compares against (documented statuses, media types, schemas, header
//! patterns) was read from the document by the loader; nothing here knows CAMARA values.

use std::sync::Arc;

use http::HeaderMap;
use serde_json::Value;

use super::violation::{describe_expected, found_json, truncate};
use super::{CompiledSchema, Operation, Rule, Violation, media_essence};
use crate::exchange::Exchange;

/// The request/response header CAMARA uses to correlate calls (HTTP names are case-insensitive;
/// `http::HeaderMap` stores them lower-case).
pub(crate) const CORRELATOR: &str = "x-correlator";

/// A key of an operation's `responses`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum StatusKey {
    /// `"403"`.
    Code(u16),
    /// `"4XX"`: the hundreds digit.
    Range(u16),
    /// `"default"`.
    Default,
}

impl StatusKey {
    /// Parses a `responses` key; `None` when it is none of the three forms.
    pub(crate) fn parse(key: &str) -> Option<Self> {
        if key == "default" {
            return Some(Self::Default);
        }
        let mut chars = key.chars();
        let class = chars.next()?.to_digit(10).filter(|d| (1..=5).contains(d))?;
        let rest = chars.as_str();
        if rest.eq_ignore_ascii_case("xx") {
            return u16::try_from(class).ok().map(Self::Range);
        }
        if rest.len() == 2 && rest.bytes().all(|b| b.is_ascii_digit()) {
            return key.parse().ok().map(Self::Code);
        }
        None
    }
}

/// Compiled rules of one operation.
#[derive(Clone)]
pub(crate) struct OperationRules {
    /// `paths./verify.post`.
    pub(crate) location: String,
    /// One entry per documented response key.
    pub(crate) responses: Vec<ResponseRules>,
}

/// Compiled rules of one documented response.
#[derive(Clone)]
pub(crate) struct ResponseRules {
    /// The key parsed.
    pub(crate) status: StatusKey,
    /// `paths./verify.post.responses.403`.
    pub(crate) location: String,
    /// Documented media types; empty when the response documents no content.
    pub(crate) content: Vec<MediaRules>,
    /// The documented `x-correlator` header, when it has a schema.
    pub(crate) correlator: Option<HeaderRule>,
    /// Error `code` values the response documents (see `SpecDocument::documented_error_codes`).
    pub(crate) error_codes: Vec<String>,
}

/// One documented media type of a response.
#[derive(Clone)]
pub(crate) struct MediaRules {
    /// Essence, lower-cased (`application/json`; may hold wildcards such as `application/*`).
    pub(crate) media_type: String,
    /// Whether bodies of this type must be JSON.
    pub(crate) json: bool,
    /// The body schema, when documented.
    pub(crate) schema: Option<Arc<CompiledSchema>>,
}

/// A documented header with a schema.
#[derive(Clone)]
pub(crate) struct HeaderRule {
    /// `paths./verify.post.responses.200.headers.x-correlator` or `components.headers.x-correlator`.
    pub(crate) location: String,
    /// The header's value schema.
    pub(crate) schema: Arc<CompiledSchema>,
}

impl OperationRules {
    /// The documented response for `status`: exact code first, then its range, then `default`.
    pub(crate) fn response_for(&self, status: u16) -> Option<&ResponseRules> {
        let find = |wanted: StatusKey| self.responses.iter().find(|r| r.status == wanted);
        find(StatusKey::Code(status))
            .or_else(|| find(StatusKey::Range(status / 100)))
            .or_else(|| find(StatusKey::Default))
    }
}

/// Applies every rule to `exchange` (see `SpecDocument::validate`).
pub(crate) fn judge(
    operation: &Operation,
    rules: &OperationRules,
    fallback_correlator: Option<&HeaderRule>,
    exchange: &Exchange,
) -> Vec<Violation> {
    let response = &exchange.response;
    let status = response.status.as_u16();
    let documented = rules.response_for(status);
    let body: Option<Value> = serde_json::from_slice(&response.body).ok();
    let mut out = Vec::new();

    // Where violations about this response point: its documented key, else the status itself.
    let response_location = match documented {
        Some(r) => r.location.clone(),
        None => format!("{}.responses.{status}", rules.location),
    };

    match documented {
        None => out.push(Violation {
            rule: Rule::StatusDocumented,
            location: format!("{}.responses", rules.location),
            pointer: None,
            expected: format!(
                "one of the documented responses [{}]",
                operation.response_keys.join(", ")
            ),
            found: status.to_string(),
        }),
        Some(documented) => check_content(
            documented,
            &response.headers,
            &response.body,
            body.as_ref(),
            &mut out,
        ),
    }

    let body_status = body
        .as_ref()
        .and_then(|b| b.as_object())
        .and_then(|o| o.get("status"));
    // A status written as a string ("403") matches when the document's schema allows a string
    // there (an operator's dialect may document it so); otherwise body-schema already says so.
    let string_allowed = |found: &Value| {
        documented.is_some()
            && found.as_str() == Some(status.to_string().as_str())
            && !out.iter().any(|v: &Violation| {
                v.rule == Rule::BodySchema && v.pointer.as_deref() == Some("/status")
            })
    };
    if status >= 400
        && let Some(found) = body_status
        && found.as_u64() != Some(u64::from(status))
        && !string_allowed(found)
    {
        out.push(Violation {
            rule: Rule::ErrorStatusMatchesHttp,
            location: response_location.clone(),
            pointer: Some("/status".to_owned()),
            expected: format!("{status} (the HTTP status)"),
            found: found_json(found),
        });
    }

    let header_location = match documented.and_then(|r| r.correlator.as_ref()) {
        Some(rule) => rule.location.clone(),
        None => format!("{response_location}.headers.{CORRELATOR}"),
    };
    let sent = exchange
        .request
        .headers
        .get(CORRELATOR)
        .filter(|v| !v.is_empty());
    let received = response.headers.get(CORRELATOR);
    let correlator_rule = match documented {
        Some(r) => r.correlator.as_ref(),
        None => fallback_correlator,
    };
    // Only a value that fits the spec's pattern can be echoed: for any other the provider must
    // answer 400 (Commonalities) and echoing it would break the pattern rule.
    let sent = sent.filter(|v| {
        correlator_rule.is_none_or(|rule| {
            rule.schema.validator.is_valid(&Value::String(
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            ))
        })
    });
    if let Some(sent) = sent {
        let echoed = received.is_some_and(|r| r.as_bytes() == sent.as_bytes());
        if !echoed {
            out.push(Violation {
                rule: Rule::CorrelatorEcho,
                location: header_location.clone(),
                pointer: None,
                expected: format!("{} (the request's x-correlator)", quoted(sent.as_bytes())),
                found: received.map_or_else(
                    || "no x-correlator header".to_owned(),
                    |r| quoted(r.as_bytes()),
                ),
            });
        }
    }

    if let (Some(received), Some(rule)) = (received, correlator_rule) {
        let value = Value::String(String::from_utf8_lossy(received.as_bytes()).into_owned());
        for error in rule.schema.validator.iter_errors(&value) {
            let mut violation = schema_violation(Rule::CorrelatorPattern, &rule.location, &error);
            // A header has no JSON structure to point into.
            violation.pointer = None;
            out.push(violation);
        }
    }

    out
}

/// Rules 2 and 3: media type and body schema of a documented response.
fn check_content(
    documented: &ResponseRules,
    headers: &HeaderMap,
    raw_body: &[u8],
    body: Option<&Value>,
    out: &mut Vec<Violation>,
) {
    if documented.content.is_empty() {
        return;
    }
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .map(|v| media_essence(&String::from_utf8_lossy(v.as_bytes())));
    let matched = content_type.as_deref().and_then(|ct| {
        documented
            .content
            .iter()
            .find(|m| media_matches(&m.media_type, ct))
    });
    if matched.is_none() {
        let listed: Vec<&str> = documented
            .content
            .iter()
            .map(|m| m.media_type.as_str())
            .collect();
        out.push(Violation {
            rule: Rule::ContentType,
            location: documented.location.clone(),
            pointer: None,
            expected: format!("Content-Type one of {}", serde_json::json!(listed)),
            found: content_type.map_or_else(
                || "no Content-Type header".to_owned(),
                |ct| format!("\"{ct}\""),
            ),
        });
    }
    // With a wrong or missing Content-Type, still judge the body against the documented JSON
    // schema: the report then says everything that is wrong at once.
    let Some(media) = matched.or_else(|| documented.content.iter().find(|m| m.json)) else {
        return;
    };
    if !media.json {
        return;
    }
    let Some(body) = body else {
        out.push(Violation {
            rule: Rule::BodySchema,
            location: documented.location.clone(),
            pointer: None,
            expected: format!("a JSON body ({})", media.media_type),
            found: if raw_body.is_empty() {
                "an empty body".to_owned()
            } else {
                quoted(raw_body)
            },
        });
        return;
    };
    if let Some(schema) = &media.schema {
        out.extend(
            schema
                .validator
                .iter_errors(body)
                .map(|error| schema_violation(Rule::BodySchema, &documented.location, &error)),
        );
    }
}

/// Whether a documented media type (maybe `type/*` or `*/*`) covers a received essence.
fn media_matches(documented: &str, received: &str) -> bool {
    if documented == received || documented == "*/*" {
        return true;
    }
    match documented.strip_suffix("/*") {
        Some(main) => received.split('/').next() == Some(main),
        None => false,
    }
}

/// A violation for one JSON-Schema error.
pub(crate) fn schema_violation(
    rule: Rule,
    location: &str,
    error: &jsonschema::ValidationError<'_>,
) -> Violation {
    Violation {
        rule,
        location: location.to_owned(),
        pointer: Some(error.instance_path().as_str().to_owned()),
        expected: describe_expected(error.kind(), || error.to_string()),
        found: found_json(error.instance()),
    }
}

/// Header or body bytes as a quoted, cut string for `found`/`expected`.
fn quoted(bytes: &[u8]) -> String {
    truncate(&Value::String(String::from_utf8_lossy(bytes).into_owned()).to_string())
}
