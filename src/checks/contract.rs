//! An NV API answer against the OpenAPI document judging the run: status documented, content
//! type, body schema, ErrorInfo status and code, x-correlator (the rules of [`crate::spec`]).

use super::{Finding, Verdict};
use crate::exchange::Exchange;
use crate::spec::{Rule, SpecDocument};

/// `exchange`, an answer to `operation_id`, follows `spec`. With `other_method` the request used
/// another method than the operation's (a 405 probe): its status cannot be documented for the
/// operation, so only the answer's shape is judged.
pub fn api_response(
    spec: &SpecDocument,
    operation_id: &str,
    exchange: &Exchange,
    other_method: bool,
) -> Verdict {
    let mut violations = spec.validate(operation_id, exchange);
    if other_method {
        violations.retain(|v| v.rule != Rule::StatusDocumented);
    }
    if violations.is_empty() {
        return Ok(());
    }
    let count = match violations.len() {
        1 => "1 violation".to_owned(),
        n => format!("{n} violations"),
    };
    let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
    Err(Finding::new(
        operation_id,
        format!("an answer as {} documents it", spec.origin()),
        format!("{count}:\n{}", lines.join("\n")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::testing;

    fn answer(status: u16, body: &str) -> Exchange {
        let url = "http://h/number-verification/v2/verify";
        testing::answer(url, status, &[("content-type", "application/json")], body)
    }
    #[test]
    fn violations_become_one_finding_and_a_probe_may_use_any_status() {
        let spec = crate::spec::builtin("2.1.0").unwrap();
        let ok = answer(200, r#"{"devicePhoneNumberVerified":true}"#);
        assert_eq!(api_response(&spec, "phoneNumberVerify", &ok, false), Ok(()));
        let off = answer(200, r#"{"devicePhoneNumberVerified":"yes"}"#);
        let finding = api_response(&spec, "phoneNumberVerify", &off, false).unwrap_err();
        assert_eq!(finding.subject, "phoneNumberVerify");
        assert!(
            finding.found.starts_with("1 violation:\n[body-schema]"),
            "{finding}"
        );
        let teapot = answer(418, r#"{"status":418,"code":"X","message":"m"}"#);
        let undocumented = api_response(&spec, "phoneNumberVerify", &teapot, false).unwrap_err();
        assert!(
            undocumented.found.contains("[status-documented]"),
            "{undocumented}"
        );
        if let Err(probe) = api_response(&spec, "phoneNumberVerify", &teapot, true) {
            assert!(!probe.found.contains("[status-documented]"), "{probe}");
        }
    }
}
