//! CAMARA compatibility: how an exchange judged against a dialect's document would fare against
//! the CAMARA document it descends from. Differences are facts for an aggregator to adapt to,
//! never failures: the provider is judged by its own document.
//!
//! Each [`Difference`] carries a `key` that is the same for the same difference met in another
//! exchange or operation, so a run lists each one once.

use serde_json::Value;

use crate::exchange::Exchange;
use crate::spec::{Rule, SpecDocument, Violation};

/// One way the provider's interface differs from CAMARA's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Identifies the difference across exchanges and operations.
    pub key: String,
    /// The spec-engine rule (or `request-property`, `error-code`, `scope`, `base-path`, …).
    pub rule: String,
    /// What differs, e.g. `401 code UNAUTHORIZED where CAMARA documents UNAUTHENTICATED`.
    pub message: String,
}

impl Difference {
    fn new(key: String, rule: &str, message: String) -> Self {
        Self {
            key,
            rule: rule.to_owned(),
            message,
        }
    }
}

/// Differences of one NV exchange of `operation_id`: properties of the accepted request body
/// that CAMARA's request schema does not declare, then the answer judged against `camara`
/// (the spec engine's rules, and error codes CAMARA does not document for the status).
pub fn exchange_differences(
    camara: &SpecDocument,
    operation_id: &str,
    request_body: Option<&Value>,
    exchange: &Exchange,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let status = exchange.response.status.as_u16();
    // Only a body the provider accepted is its documented form (negative inputs are not).
    if let (Some(Value::Object(body)), true) = (request_body, (200..300).contains(&status))
        && let Some(op) = camara.operation(operation_id)
    {
        let pointer = format!(
            "#/paths/{}/{}/requestBody",
            op.path.replace('~', "~0").replace('/', "~1"),
            op.method.as_str().to_ascii_lowercase()
        );
        if let Ok(schema) = camara.resolved_schema(&pointer) {
            let mut declared = Vec::new();
            declared_properties(&schema, &mut declared);
            for name in body.keys().filter(|k| !declared.contains(k)) {
                out.push(Difference::new(
                    format!("request-property:{operation_id}:{name}"),
                    "request-property",
                    format!(
                        "{name} is not a CAMARA property (request body of {operation_id}; CAMARA \
                         declares {})",
                        declared.join(", ")
                    ),
                ));
            }
        }
    }
    let violations = camara.validate(operation_id, exchange);
    for v in &violations {
        // A status of another type is one difference, not also a status mismatch.
        let same_fact = v.rule == Rule::ErrorStatusMatchesHttp
            && violations
                .iter()
                .any(|o| o.rule == Rule::BodySchema && o.pointer == v.pointer);
        if !same_fact {
            out.push(from_violation(status, v));
        }
    }
    if !(200..300).contains(&status) {
        let documented = camara.documented_error_codes(operation_id, status);
        let code = exchange
            .response
            .json()
            .and_then(|b| b.get("code").and_then(Value::as_str).map(str::to_owned));
        if let Some(code) = code
            && !documented.is_empty()
            && !documented.contains(&code)
        {
            out.push(Difference::new(
                format!("error-code:{status}:{code}"),
                "error-code",
                format!(
                    "{status} code {code} where CAMARA documents {}",
                    documented.join(" or ")
                ),
            ));
        }
    }
    out
}

/// Differences of the documents themselves: base path and per-operation scopes.
pub fn document_differences(dialect: &SpecDocument, camara: &SpecDocument) -> Vec<Difference> {
    let mut out = Vec::new();
    if dialect.base_path() != camara.base_path() {
        out.push(Difference::new(
            "base-path".to_owned(),
            "base-path",
            format!(
                "base path {} where CAMARA documents {}",
                dialect.base_path(),
                camara.base_path()
            ),
        ));
    }
    for op in dialect.operations() {
        match camara.operation(&op.operation_id) {
            None => out.push(Difference::new(
                format!("operation:{}", op.operation_id),
                "operation",
                format!("operation {} is not a CAMARA operation", op.operation_id),
            )),
            Some(c) if c.scopes != op.scopes => out.push(Difference::new(
                format!("scope:{}", op.operation_id),
                "scope",
                format!(
                    "{} scope {} where CAMARA documents {}",
                    op.operation_id,
                    op.scopes.join(" "),
                    c.scopes.join(" ")
                ),
            )),
            Some(_) => {}
        }
    }
    out
}

/// Differences of a dialect's flow facts from CAMARA's: no discovery document (CAMARA NV's
/// security scheme is `openIdConnect`, whose URL is a discovery document), no OpenID Connect,
/// a client authentication other than ICM's `private_key_jwt`.
pub fn flow_differences(dialect: &crate::profile::Dialect) -> Vec<Difference> {
    let mut out = Vec::new();
    if !dialect.discovery {
        out.push(Difference::new(
            "flow:discovery".to_owned(),
            "discovery",
            "no OIDC discovery document (endpoints given explicitly) where CAMARA documents an \
             openIdConnect security scheme"
                .to_owned(),
        ));
    }
    if !dialect.openid {
        out.push(Difference::new(
            "flow:openid".to_owned(),
            "openid",
            "no openid scope and no id_token where CAMARA's flow is OpenID Connect".to_owned(),
        ));
    }
    if let Some(method) = dialect
        .client_auth
        .filter(|m| *m != crate::profile::ClientAuthMethod::PrivateKeyJwt)
    {
        out.push(Difference::new(
            "flow:client-auth".to_owned(),
            "client-auth",
            format!(
                "client authentication {} where the CAMARA security profile (ICM) requires \
                 private_key_jwt",
                method.as_str()
            ),
        ));
    }
    out
}

/// A spec-engine violation as a difference; a value of another JSON type reads
/// "`status` is a string (\"403\") where CAMARA documents type integer".
fn from_violation(status: u16, v: &Violation) -> Difference {
    let pointer = v.pointer.clone().unwrap_or_default();
    let name = pointer.trim_start_matches('/').replace('/', ".");
    let key = format!("{}:{status}:{pointer}:{}", v.rule, v.expected);
    let kind = serde_json::from_str::<Value>(&v.found)
        .ok()
        .map(|f| match f {
            Value::String(_) => "a string",
            Value::Object(_) => "an object",
            Value::Array(_) => "an array",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Null => "null",
        });
    let required = v
        .expected
        .strip_prefix("required property \"")
        .and_then(|r| r.strip_suffix('"'));
    let message = match (v.rule, kind, required) {
        (Rule::BodySchema, _, Some(property)) => {
            let at = if name.is_empty() {
                String::new()
            } else {
                format!("{name}.")
            };
            format!("the {status} answer has no {at}{property} where CAMARA requires it")
        }
        (Rule::BodySchema, Some(kind), None) if !name.is_empty() && v.expected.contains("type") => {
            // Scalars are shown (they are the difference); objects only by their kind.
            let shown = if matches!(kind, "an object" | "an array") {
                String::new()
            } else {
                format!(" ({})", v.found)
            };
            format!(
                "{name} is {kind}{shown} in the {status} answer where CAMARA documents {}",
                v.expected
            )
        }
        _ => format!(
            "the {status} answer{}: CAMARA expects {} ({}), found {}",
            if name.is_empty() {
                String::new()
            } else {
                format!(" at {name}")
            },
            v.expected,
            v.location,
            v.found
        ),
    };
    Difference::new(key, v.rule.id(), message)
}

/// Every property name a schema declares, through `allOf`/`oneOf`/`anyOf`.
fn declared_properties(schema: &Value, out: &mut Vec<String>) {
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for k in props.keys() {
            if !out.contains(k) {
                out.push(k.clone());
            }
        }
    }
    for combinator in ["allOf", "oneOf", "anyOf"] {
        for branch in schema
            .get(combinator)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            declared_properties(branch, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::testing;
    use serde_json::json;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Exchange {
        testing::answer(
            "http://h/number-verification/v0/verify",
            status,
            headers,
            body,
        )
    }

    fn camara() -> SpecDocument {
        crate::spec::builtin("0.3.1").expect("embedded")
    }

    #[test]
    fn an_orange_401_and_403_differ_from_camara_v0() {
        let spec = camara();
        let e = answer(
            401,
            &[("content-type", "application/json")],
            r#"{"code":"UNAUTHORIZED","message":"no"}"#,
        );
        let messages: Vec<String> = exchange_differences(&spec, "phoneNumberVerify", None, &e)
            .into_iter()
            .map(|d| d.message)
            .collect();
        assert!(
            messages
                .iter()
                .any(|m| m == "401 code UNAUTHORIZED where CAMARA documents UNAUTHENTICATED"),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("status")),
            "{messages:?}"
        );
        let e = answer(
            403,
            &[("content-type", "application/json")],
            r#"{"code":"PERMISSION_DENIED","status":"403","message":"no"}"#,
        );
        let messages: Vec<String> = exchange_differences(&spec, "phoneNumberShare", None, &e)
            .into_iter()
            .map(|d| d.message)
            .collect();
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("status is a string (\"403\")")),
            "{messages:?}"
        );
    }

    #[test]
    fn unknown_request_properties_of_an_accepted_body_are_named() {
        let spec = camara();
        let ok = answer(
            200,
            &[("content-type", "application/json")],
            r#"{"devicePhoneNumberVerified":true}"#,
        );
        let body = json!({"phoneNumberType": "RegularPhoneNumber", "phoneNumber": "+34600000001"});
        let found = exchange_differences(&spec, "phoneNumberVerify", Some(&body), &ok);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .message
                .starts_with("phoneNumberType is not a CAMARA property")
        );
        let refused = answer(
            400,
            &[("content-type", "application/json")],
            r#"{"status":400,"code":"INVALID_ARGUMENT","message":"x"}"#,
        );
        assert!(exchange_differences(&spec, "phoneNumberVerify", Some(&body), &refused).is_empty());
        // A CAMARA answer has no difference with CAMARA.
        let plain = json!({"phoneNumber": "+34600000001"});
        assert!(exchange_differences(&spec, "phoneNumberVerify", Some(&plain), &ok).is_empty());
    }
}
