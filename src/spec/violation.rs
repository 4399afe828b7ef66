//! What a provider did wrong, as data: which rule, where in the spec, where in the message,
//! what the spec wanted and what came instead.
//!
//! A `Violation` is a finding, not an error: callers collect them, count them and report them.

use std::fmt;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde::{Serialize, Serializer};

/// The rules [`super::SpecDocument::validate`] applies to an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The response status is a documented key of the operation's `responses`.
    StatusDocumented,
    /// The response media type is one the documented response lists under `content`.
    ContentType,
    /// The body is JSON and validates against the documented schema.
    BodySchema,
    /// An error body's `status` field equals the HTTP status.
    ErrorStatusMatchesHttp,
    /// A non-empty request `x-correlator` comes back unchanged.
    CorrelatorEcho,
    /// A response `x-correlator` matches the documented header schema.
    CorrelatorPattern,
}

impl Rule {
    /// Every rule, in the order `validate` applies them.
    pub const ALL: [Rule; 6] = [
        Rule::StatusDocumented,
        Rule::ContentType,
        Rule::BodySchema,
        Rule::ErrorStatusMatchesHttp,
        Rule::CorrelatorEcho,
        Rule::CorrelatorPattern,
    ];

    /// Stable identifier used in reports and serialized output.
    pub fn id(&self) -> &'static str {
        match self {
            Rule::StatusDocumented => "status-documented",
            Rule::ContentType => "content-type",
            Rule::BodySchema => "body-schema",
            Rule::ErrorStatusMatchesHttp => "error-status-matches-http",
            Rule::CorrelatorEcho => "x-correlator-echo",
            Rule::CorrelatorPattern => "x-correlator-pattern",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

/// One way an exchange departs from the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The rule that was broken (serialized as its id, e.g. `"body-schema"`).
    pub rule: Rule,
    /// Where in the spec the rule comes from, e.g. `paths./verify.post.responses.403`.
    pub location: String,
    /// JSON pointer into the response body (`""` = the whole body), when the rule concerns the body.
    pub pointer: Option<String>,
    /// What the spec asks for, in words.
    pub expected: String,
    /// What the provider sent (compact JSON or header text, cut to about 120 characters).
    pub found: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.rule, self.location)?;
        match self.pointer.as_deref() {
            Some("") => f.write_str(" at (root)")?,
            Some(p) => write!(f, " at {p}")?,
            None => {}
        }
        write!(f, ": expected {}, found {}", self.expected, self.found)
    }
}

pub(crate) use crate::exchange::{quote_json as found_json, quote_text as truncate};

/// Words for what a failed JSON-Schema keyword wanted.
pub(crate) fn describe_expected(
    kind: &ValidationErrorKind,
    fallback: impl FnOnce() -> String,
) -> String {
    match kind {
        ValidationErrorKind::Enum { options } => format!("one of {options}"),
        ValidationErrorKind::Constant { expected_value } => format!("exactly {expected_value}"),
        ValidationErrorKind::Pattern { pattern } => format!("a string matching pattern {pattern}"),
        ValidationErrorKind::Required { property } => format!("required property {property}"),
        ValidationErrorKind::Type { kind } => format!("type {}", type_words(kind)),
        ValidationErrorKind::Format { format } => format!("format \"{format}\""),
        ValidationErrorKind::MinLength { limit } => {
            format!("at least {}", count(*limit, "character"))
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!("at most {}", count(*limit, "character"))
        }
        ValidationErrorKind::MinProperties { limit } => {
            format!("at least {}", count(*limit, "property"))
        }
        ValidationErrorKind::MaxProperties { limit } => {
            format!("at most {}", count(*limit, "property"))
        }
        ValidationErrorKind::MinItems { limit } => format!("at least {}", count(*limit, "item")),
        ValidationErrorKind::MaxItems { limit } => format!("at most {}", count(*limit, "item")),
        ValidationErrorKind::Minimum { limit } => format!("a number >= {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("a number <= {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("a number > {limit}"),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!("a number < {limit}"),
        ValidationErrorKind::MultipleOf { multiple_of } => format!("a multiple of {multiple_of}"),
        ValidationErrorKind::UniqueItems => "unique items".to_owned(),
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            format!(
                "no properties besides the documented ones (unexpected: {})",
                unexpected.join(", ")
            )
        }
        ValidationErrorKind::OneOfNotValid { .. } => {
            "a value matching exactly one oneOf branch (none matched)".to_owned()
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            "a value matching exactly one oneOf branch (several matched)".to_owned()
        }
        ValidationErrorKind::AnyOf { .. } => {
            "a value matching at least one anyOf branch".to_owned()
        }
        ValidationErrorKind::Not { schema } => format!("a value not matching {schema}"),
        ValidationErrorKind::FalseSchema => "nothing (the schema allows no value here)".to_owned(),
        _ => fallback(),
    }
}

/// `1 property`, `2 properties`.
fn count(n: u64, noun: &str) -> String {
    match (n, noun.strip_suffix('y')) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        _ => format!("{n} {noun}s"),
    }
}

/// `string`, `string or null`.
fn type_words(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(t) => t.to_string(),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" or "),
    }
}
