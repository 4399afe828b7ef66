//! Lint of test definitions: what in a feature file is wrong or unclear as written, judged
//! against the spec of the run, and how nvcert reads it. Findings are warnings for the reports;
//! they never fail a run and never stop a scenario from running.
//!
//! The rules come from the defects of CAMARA's own definitions (see the CAMARA research notes
//! §3.6): a scenario without `When`, schema references the spec lacks, tags naming another
//! operation, status codes written as strings, base paths that differ from the spec's, exact
//! `message` texts, undeclared testing assets, unsatisfiable token requirements, and the like.

use cucumber::gherkin::{Feature, Scenario, Step, StepType};

use super::steps::camara::{ASSETS, UNDECLARED_DEVICE_ASSET, resolve_legacy, takes_body};
use crate::results::Lint;
use crate::spec::{Operation, SpecDocument};

/// The operation a Feature line names (`CAMARA Number Verification API, v2.1.0 - Operation
/// phoneNumberVerify` → `phoneNumberVerify`), as the API-Testing-Guidelines write it.
pub fn feature_operation(feature: &Feature) -> Option<String> {
    let (_, rest) = feature.name.rsplit_once("- Operation ")?;
    let id = rest.trim();
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| id.to_owned())
}

/// The API version a Feature line names (`…, v2.1.0 - Operation …` → `2.1.0`, `vwip` → `wip`).
fn feature_version(feature: &Feature) -> Option<&str> {
    let head = feature
        .name
        .split_once(" - Operation")
        .map_or(feature.name.as_str(), |(h, _)| h);
    let (_, version) = head.rsplit_once(", v")?;
    let version = version.trim();
    (!version.is_empty() && !version.contains(' ')).then_some(version)
}

/// Lints `features` against `spec`; findings in file and line order, without duplicates (an
/// expanded Scenario Outline repeats its steps).
pub fn lint(features: &[Feature], spec: &SpecDocument) -> Vec<Lint> {
    let mut out = Vec::new();
    for feature in features {
        let scenarios: Vec<&Scenario> = feature
            .scenarios
            .iter()
            .chain(feature.rules.iter().flat_map(|r| r.scenarios.iter()))
            .collect();
        if scenarios.is_empty() {
            continue;
        }
        FeatureLint::new(feature, spec, &scenarios, &mut out).run(&scenarios);
    }
    out.sort_by(|a, b| (&a.file, a.line, &a.rule).cmp(&(&b.file, b.line, &b.rule)));
    out.dedup();
    out
}

/// What earlier steps of a scenario (or Background) said, for rules that need it.
#[derive(Default)]
struct Seen {
    /// Legacy `the resource is "/verify"`.
    resource: Option<String>,
    /// The status of the last `the response status code is …`.
    status: Option<u16>,
}

struct FeatureLint<'a> {
    feature: &'a Feature,
    spec: &'a SpecDocument,
    file: String,
    /// The Feature line's operation, else the one every scenario sends.
    operation: Option<Operation>,
    out: &'a mut Vec<Lint>,
}

impl<'a> FeatureLint<'a> {
    fn new(
        feature: &'a Feature,
        spec: &'a SpecDocument,
        scenarios: &[&Scenario],
        out: &'a mut Vec<Lint>,
    ) -> Self {
        let file = feature
            .path
            .as_ref()
            .map_or_else(|| feature.name.clone(), |p| p.display().to_string());
        let named = feature_operation(feature);
        let operation = named
            .as_deref()
            .and_then(|id| spec.operation(id))
            .cloned()
            .or_else(|| {
                // Legacy Feature lines name no operation: the one all scenarios send, if single.
                let mut sent: Vec<Operation> = scenarios
                    .iter()
                    .filter_map(|s| scenario_operation(spec, s, None))
                    .collect();
                sent.dedup_by(|a, b| a.operation_id == b.operation_id);
                (sent.len() == 1).then(|| sent.remove(0))
            });
        Self {
            feature,
            spec,
            file,
            operation,
            out,
        }
    }

    fn push(&mut self, line: usize, rule: &str, scenario: Option<&str>, message: String) {
        self.out.push(Lint {
            file: self.file.clone(),
            line,
            rule: rule.to_owned(),
            message,
            scenario: scenario.map(str::to_owned),
        });
    }

    fn run(mut self, scenarios: &[&Scenario]) {
        let feature = self.feature;
        if let Some(named) = feature_operation(feature)
            && self.spec.operation(&named).is_none()
        {
            let origin = self.spec.origin().to_owned();
            self.push(
                feature.position.line,
                "unknown-operation",
                None,
                format!("the Feature line names operation {named}, which {origin} does not have"),
            );
        }
        if let Some(version) = feature_version(feature)
            && version != self.spec.version()
        {
            let spec_version = self.spec.version().to_owned();
            self.push(
                feature.position.line,
                "feature-version",
                None,
                format!(
                    "the Feature line says v{version} but the provider is judged by NV \
                     {spec_version} (use --spec-version {version} to run these definitions \
                     against their own version)"
                ),
            );
        }
        let operation = self.operation.clone();
        if let Some(background) = &feature.background {
            let mut seen = Seen::default();
            for step in &background.steps {
                self.step(step, operation.as_ref(), None, &mut seen);
            }
        }
        for scenario in scenarios {
            self.scenario(scenario);
        }
    }

    fn scenario(&mut self, scenario: &Scenario) {
        let name = Some(scenario.name.as_str());
        let own = scenario_operation(
            self.spec,
            scenario,
            self.operation.as_ref().map(|o| o.operation_id.as_str()),
        );
        let operation = own.or_else(|| self.operation.clone());
        if !scenario.steps.iter().any(|s| s.ty == StepType::When) {
            let message = match &operation {
                Some(op) => format!(
                    "the scenario has no `When` step; nvcert sends {} (the Feature line's \
                     operation) before the first response check",
                    op.operation_id
                ),
                None => "the scenario has no `When` step and the Feature line names no \
                         operation, so no request can be sent"
                    .to_owned(),
            };
            self.push(scenario.position.line, "missing-when", name, message);
        }
        if let Some(op) = &operation {
            for tag in &scenario.tags {
                if let Some(other) = tag_operation(self.spec, tag)
                    && other != op.operation_id
                {
                    self.push(
                        scenario.position.line,
                        "tag-operation",
                        name,
                        format!(
                            "tag @{tag} names operation {other}, but the scenario sends {}",
                            op.operation_id
                        ),
                    );
                }
            }
        }
        let mut seen = Seen::default();
        for step in &scenario.steps {
            self.step(step, operation.as_ref(), name, &mut seen);
        }
    }

    fn step(
        &mut self,
        step: &Step,
        op: Option<&Operation>,
        scenario: Option<&str>,
        seen: &mut Seen,
    ) {
        let line = step.position.line;
        let text = step.value.trim();
        let origin = self.spec.origin().to_owned();

        if let Some(code) = text
            .strip_prefix("the response status code is \"")
            .and_then(|r| r.strip_suffix('"'))
        {
            self.push(
                line,
                "status-as-string",
                scenario,
                format!("status code written as the string \"{code}\"; read as the integer {code}"),
            );
        }

        for reference in schema_references(text) {
            if self.spec.resolved_schema(&reference).is_err() {
                let fallback = text.starts_with("the request body property \"")
                    || text.starts_with("the same phone number is compliant");
                let how = if fallback {
                    "; nvcert checks the request-body property's own schema instead"
                } else {
                    "; the check cannot run"
                };
                self.push(
                    line,
                    "schema-ref-missing",
                    scenario,
                    format!("schema {reference} is not in {origin}{how}"),
                );
            }
        }

        if let Some(base) = text
            .strip_prefix("the resource \"")
            .and_then(|r| r.split_once('"'))
            .filter(|(_, rest)| rest.split_whitespace().eq(["as", "base", "url"]))
            .map(|(b, _)| b)
            && base.trim_end_matches('/') != self.spec.base_path().trim_end_matches('/')
        {
            let spec_base = self.spec.base_path().to_owned();
            self.push(
                line,
                "base-path",
                scenario,
                format!(
                    "base url {base} differs from the path of the spec's server URL \
                     ({spec_base}); nvcert uses {spec_base}"
                ),
            );
        }

        if text.ends_with("which does not identify a single phone number") {
            self.push(
                line,
                "unsatisfiable-token",
                scenario,
                "an NV access token always identifies one line, so a valid one that does not \
                 identify a single phone number cannot exist (CAMARA PR #255 removes this step); \
                 read as a valid access token"
                    .to_owned(),
            );
        }
        if text == "the access token is not associated with a phone number" {
            self.push(
                line,
                "unsatisfiable-token",
                scenario,
                "an NV access token always identifies a line, so no flow yields one that is not \
                 associated with a phone number; the scenario is skipped"
                    .to_owned(),
            );
        }
        if text.contains("does not contain neither") {
            self.push(
                line,
                "wording",
                scenario,
                "double negative \"does not contain neither … nor …\"; read as \"contains \
                 neither … nor …\""
                    .to_owned(),
            );
        }
        if text.contains("has NO the field") {
            self.push(
                line,
                "wording",
                scenario,
                "\"has NO the field … or …\" read as \"has neither field\"".to_owned(),
            );
        }
        if text.starts_with("the response property \"$.message\" is \"") {
            self.push(
                line,
                "message-exact",
                scenario,
                "exact message text expected, but `message` is free text (Commonalities \
                 API-Testing-Guidelines); a different text is reported as a warning, not a \
                 failure"
                    .to_owned(),
            );
        }

        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.starts_with("NUMBERVERIFY_") && !ASSETS.iter().any(|(n, _, _)| *n == word) {
                let how = if word == UNDECLARED_DEVICE_ASSET {
                    "; read as the device line (…PHONENUMBER1)"
                } else {
                    "; the step is skipped"
                };
                self.push(
                    line,
                    "undefined-asset",
                    scenario,
                    format!("testing asset {word} is not declared by the definitions{how}"),
                );
            }
        }

        if let Some(path) = text
            .strip_prefix("the resource is \"")
            .and_then(|r| r.strip_suffix('"'))
        {
            seen.resource = Some(path.to_owned());
        }
        let resource = &seen.resource;
        if let Some(method) = legacy_method(text)
            && let Ok((found, false)) =
                resolve_legacy(self.spec, &method, resource.as_deref(), None)
        {
            self.push(
                line,
                "wrong-method",
                scenario,
                format!(
                    "{method} {} is not an operation of {origin}; nvcert sends {} ({} {})",
                    resource.as_deref().unwrap_or(&found.path),
                    found.operation_id,
                    found.method,
                    found.path
                ),
            );
        }

        if let Some(status) = text
            .strip_prefix("the response status code is ")
            .and_then(|c| c.trim_matches('"').parse::<u16>().ok())
        {
            seen.status = Some(status);
        }
        if let (Some(op), Some(status), Some(code)) = (
            op,
            seen.status,
            text.strip_prefix("the response property \"$.code\" is \"")
                .and_then(|r| r.strip_suffix('"')),
        ) {
            let documented = self.spec.documented_error_codes(&op.operation_id, status);
            if !documented.is_empty() && !documented.iter().any(|c| c == code) {
                self.push(
                    line,
                    "code-undocumented",
                    scenario,
                    format!(
                        "code {code} is not documented for {} {status} in {origin} (documented: \
                         {}); a conformant provider fails this check",
                        op.operation_id,
                        documented.join(", ")
                    ),
                );
            }
        }

        if let Some(op) = op {
            self.operation_rules(step, text, op, scenario);
        }
    }

    /// Rules that need the operation the step belongs to.
    fn operation_rules(&mut self, step: &Step, text: &str, op: &Operation, scenario: Option<&str>) {
        let line = step.position.line;
        let id = op.operation_id.clone();
        let has_body = takes_body(self.spec, op);
        let body_step = (text.starts_with("the request body")
            || text.starts_with("the body property"))
            && text != "the request body is not included";
        if !has_body && body_step {
            self.push(
                line,
                "body-without-request-body",
                scenario,
                format!(
                    "{id} ({} {}) takes no request body; nvcert sends none",
                    op.method, op.path
                ),
            );
        }
        if !has_body
            && text
                .to_ascii_lowercase()
                .starts_with("the header \"content-type\" is set to")
        {
            self.push(
                line,
                "content-type-without-body",
                scenario,
                format!(
                    "{id} ({} {}) takes no request body, so a Content-Type request header \
                     describes nothing (sent as written)",
                    op.method, op.path
                ),
            );
        }
        if let Some(name) = text.strip_prefix("the response body is compliant with the schema ") {
            let success = format!(
                "#/paths/{}/{}/responses/200",
                op.path.replace('~', "~0").replace('/', "~1"),
                op.method.as_str().to_ascii_lowercase()
            );
            if let (Ok(named), Ok(actual)) = (
                self.spec.resolved_schema(name.trim()),
                self.spec.resolved_schema(&success),
            ) && named != actual
            {
                self.push(
                    line,
                    "response-schema",
                    scenario,
                    format!(
                        "{} is not the schema of {id}'s 200 answer; not applied (nvcert judges \
                         every answer against the spec anyway)",
                        name.trim()
                    ),
                );
            }
        }
        for (prefix, excluded) in [
            (
                "one of the scopes associated with the access token is ",
                false,
            ),
            (
                "none of the scopes associated with the access token is ",
                true,
            ),
        ] {
            let Some(scope) = text.strip_prefix(prefix).map(str::trim) else {
                continue;
            };
            if op.scopes.iter().any(|s| s == scope) {
                continue;
            }
            let how = if excluded {
                format!(
                    "a token without it tests nothing; nvcert uses a token without {id}'s own \
                     scope ({})",
                    op.scopes.join(" ")
                )
            } else {
                "the valid token carries every NV scope anyway".to_owned()
            };
            self.push(
                line,
                "scope-operation",
                scenario,
                format!("scope {scope} is not a scope of {id}; {how}"),
            );
        }
    }
}

/// Schema references a step names: `… schema at "X"` and legacy `… compliant with the schema X`.
fn schema_references(text: &str) -> Vec<String> {
    let mut refs = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("schema at \"") {
        rest = &rest[i + "schema at \"".len()..];
        if let Some((r, after)) = rest.split_once('"') {
            refs.push(r.to_owned());
            rest = after;
        }
    }
    if let Some((_, name)) = text.split_once(" is compliant with the schema ")
        && !name.trim().is_empty()
        && !name.trim().contains(' ')
    {
        refs.push(name.trim().to_owned());
    }
    refs
}

/// The method of a legacy `the HTTPS "POST" request is sent`.
fn legacy_method(text: &str) -> Option<http::Method> {
    let rest = text
        .strip_prefix("the HTTPS \"")
        .or_else(|| text.strip_prefix("the HTTP \""))?;
    let (method, tail) = rest.split_once('"')?;
    (tail == " request is sent")
        .then(|| http::Method::from_bytes(method.as_bytes()).ok())
        .flatten()
}

/// The operation a scenario sends: `the request "X" is sent`, or a legacy send resolved like
/// at run time.
fn scenario_operation(
    spec: &SpecDocument,
    scenario: &Scenario,
    feature_operation: Option<&str>,
) -> Option<Operation> {
    let mut resource: Option<String> = None;
    for step in &scenario.steps {
        let text = step.value.trim();
        if let Some(path) = text
            .strip_prefix("the resource is \"")
            .and_then(|r| r.strip_suffix('"'))
        {
            resource = Some(path.to_owned());
        }
        if let Some(id) = text
            .strip_prefix("the request \"")
            .and_then(|r| r.split_once('"'))
            .filter(|(_, tail)| tail.starts_with(" is sent"))
            .map(|(id, _)| id)
        {
            return spec.operation(id).cloned();
        }
        if let Some(method) = legacy_method(text) {
            return resolve_legacy(spec, &method, resource.as_deref(), feature_operation)
                .ok()
                .map(|(op, _)| op);
        }
    }
    None
}

/// The operation a tag names, CAMARA style: `phone_number_verify_401.1_…`,
/// `phoneNumberShare_403.1_…`, legacy `NumberVerification_phone_number_share100_…`.
fn tag_operation(spec: &SpecDocument, tag: &str) -> Option<String> {
    let norm: String = tag
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let norm = norm.strip_prefix("numberverification").unwrap_or(&norm);
    spec.operations()
        .map(|o| o.operation_id.clone())
        .find(|id| norm.starts_with(&id.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use cucumber::gherkin::GherkinEnv;

    use super::*;

    fn parse(text: &str) -> Feature {
        let mut f = Feature::parse(text, GherkinEnv::default()).expect("parses");
        f.path = Some("t.feature".into());
        f
    }

    fn rules(text: &str, version: &str) -> Vec<(usize, String)> {
        let spec = crate::spec::builtin(version).expect("spec");
        lint(&[parse(text)], &spec)
            .into_iter()
            .map(|l| (l.line, l.rule))
            .collect()
    }

    #[test]
    fn feature_line_operation_and_version() {
        let f = parse(
            "Feature: CAMARA Number Verification API, v2.1.0 - Operation phoneNumberVerify\n  Scenario: x\n    Given y\n",
        );
        assert_eq!(feature_operation(&f).as_deref(), Some("phoneNumberVerify"));
        assert_eq!(feature_version(&f), Some("2.1.0"));
        let legacy =
            parse("Feature: Camara Number Verification API verify\n  Scenario: x\n    Given y\n");
        assert_eq!(feature_operation(&legacy), None);
        assert_eq!(feature_version(&legacy), None);
    }

    #[test]
    fn tags_name_operations() {
        let spec = crate::spec::builtin("2.1.0").expect("spec");
        let op = |t: &str| tag_operation(&spec, t);
        assert_eq!(
            op("phone_number_verify_401.1_no_authorization_header").as_deref(),
            Some("phoneNumberVerify")
        );
        assert_eq!(
            op("phoneNumberShare_403.1_invalid_token_permissions").as_deref(),
            Some("phoneNumberShare")
        );
        assert_eq!(
            op("NumberVerification_phone_number_share100_match_true").as_deref(),
            Some("phoneNumberShare")
        );
        assert_eq!(op("NumberVerification_verify100_match_true"), None);
    }

    #[test]
    fn a_clean_definition_has_no_finding() {
        let text = r##"Feature: CAMARA Number Verification API, v2.1.0 - Operation phoneNumberVerify
  Background:
    Given the resource "/number-verification/v2" as base url
  @phone_number_verify_01
  Scenario: ok
    Given the request body property "$.phoneNumber" is set to "+34600000001"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response body complies with the OAS schema at "#/components/schemas/NumberVerificationMatchResponse"
"##;
        assert_eq!(rules(text, "2.1.0"), vec![]);
    }

    #[test]
    fn defects_are_found_with_their_lines() {
        let text = r##"Feature: CAMARA Number Verification API, v2.1.0 - Operation phoneNumberShare
  Background:
    Given the resource "/device-phone-number/v2" as base url
    And the header "Content-Type" is set to "application/json"
  @phone_number_verify_401.1_x
  Scenario: no when
    Given the request body property "$.phoneNumber" does not comply with the OAS schema at "#/components/schemas/PhoneNumber"
    Then the response status code is "401"
    And the response property "$.message" is "Exact text."
"##;
        assert_eq!(
            rules(text, "2.0.0"),
            vec![
                (1, "feature-version".to_owned()),
                (3, "base-path".to_owned()),
                (4, "content-type-without-body".to_owned()),
                (6, "missing-when".to_owned()),
                (6, "tag-operation".to_owned()),
                (7, "body-without-request-body".to_owned()),
                (7, "schema-ref-missing".to_owned()),
                (8, "status-as-string".to_owned()),
                (9, "message-exact".to_owned()),
            ]
        );
    }

    #[test]
    fn codes_are_judged_against_the_status_the_scenario_expects() {
        // CAMARA r1.2 expected 403 UNAUTHENTICATED (fixed to PERMISSION_DENIED in r1.3).
        let text = r##"Feature: Camara Number Verification API verify
  Scenario: missing scope
    Given the resource is "/verify"
    When the HTTPS "POST" request is sent
    Then the response status code is 403
    And the response property "$.code" is "UNAUTHENTICATED"
  Scenario: expired
    Given the resource is "/verify"
    When the HTTPS "POST" request is sent
    Then the response status code is 401
    And the response property "$.code" is "UNAUTHENTICATED"
"##;
        assert_eq!(
            rules(text, "1.0.0"),
            vec![(6, "code-undocumented".to_owned())]
        );
    }

    #[test]
    fn legacy_defects_are_found() {
        let text = r##"Feature: Camara Number Verification API verify
  Background:
    Given the resource "/number-verification/v1"  as  base url
  @NumberVerification_verify205
  Scenario: get on verify
    Given they use the base url
    And the resource is "/verify"
    And one of the scopes associated with the access token is number-verification:device-phone-number:read
    When the HTTPS "GET" request is sent
    And the request body has the field phoneNumber with a value of NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER
    And the access token is not associated with a phone number
    Then the response status code is 403
"##;
        assert_eq!(
            rules(text, "1.0.0"),
            vec![
                (8, "scope-operation".to_owned()),
                (9, "wrong-method".to_owned()),
                (10, "undefined-asset".to_owned()),
                (11, "unsatisfiable-token".to_owned()),
            ]
        );
    }
}
