//! Lint of test definitions: what in a feature file is wrong or unclear as written, judged
//! against the spec of the run, and how nvcert reads it. Findings are warnings for the reports;
//! they never fail a run and never stop a scenario from running.
//!
//! The rules come from the defects of CAMARA's own definitions (see the CAMARA research notes
//! §3.6): a scenario without `When`, schema references the spec lacks, tags naming another
//! operation, status codes written as strings, base paths that differ from the spec's, exact
//! `message` texts, undeclared testing assets, unsatisfiable token requirements, and the like.
//!
//! This file is the driver: it walks features, scenarios and steps, and keeps the rules that
//! read a Feature line, a scenario's tags and shape, or every phrasing alike. A rule that reads
//! one step phrasing lives beside that step (`steps::<domain>::lint_…`) and is listed in
//! [`STEP_RULES`].

use cucumber::gherkin::{Feature, Scenario, Step, StepType};

use super::camara_vocabulary::{feature_operation, feature_version, resolve_legacy};
use super::steps::{auth, body, lines, request, response, send};
use crate::results::Lint;
use crate::spec::{Operation, SpecDocument};

/// A rule reading one step; it reports through [`StepLint::report`].
pub(super) type StepRule = fn(&mut StepLint<'_>);

/// Every step rule, in the order their findings have always been made (which decides the order
/// of findings that share a line and a rule name).
const STEP_RULES: &[StepRule] = &[
    response::lint_status,
    schema_ref_missing,
    request::lint_base_url,
    auth::lint_token_no_single_number,
    auth::lint_token_without_number,
    body::lint_contains_neither,
    body::lint_has_no_field,
    response::lint_message_exact,
    lines::lint_undefined_assets,
    request::lint_resource_is,
    send::lint_legacy_send,
    // Rules that need the operation the step belongs to.
    response::lint_code_undocumented,
    body::lint_body_without_request_body,
    request::lint_content_type_without_body,
    response::lint_response_schema,
    auth::lint_scope_operation,
];

/// What earlier steps of a scenario (or Background) said, for rules that need it.
#[derive(Default)]
pub(super) struct Seen {
    /// Legacy `the resource is "/verify"`.
    pub resource: Option<String>,
    /// The status of the last `the response status code is …`.
    pub status: Option<u16>,
}

/// One step as a step rule sees it.
pub(super) struct StepLint<'a> {
    /// The step's text, trimmed.
    pub text: &'a str,
    /// The spec of the run.
    pub spec: &'a SpecDocument,
    /// The operation the step's scenario sends (else the Feature's), when known.
    pub operation: Option<&'a Operation>,
    /// What earlier steps said.
    pub seen: &'a mut Seen,
    findings: Vec<(&'static str, String)>,
}

impl StepLint<'_> {
    /// Records a finding of rule `rule` on this step.
    pub fn report(&mut self, rule: &'static str, message: String) {
        self.findings.push((rule, message));
    }

    /// Where the spec comes from, for messages.
    pub fn origin(&self) -> &str {
        self.spec.origin()
    }
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
        let mut lint = StepLint {
            text: step.value.trim(),
            spec: self.spec,
            operation: op,
            seen,
            findings: Vec::new(),
        };
        for rule in STEP_RULES {
            rule(&mut lint);
        }
        for (rule, message) in lint.findings {
            self.push(step.position.line, rule, scenario, message);
        }
    }
}

/// `schema-ref-missing`: a schema reference, in whatever phrasing, that the spec lacks.
fn schema_ref_missing(l: &mut StepLint<'_>) {
    for reference in schema_references(l.text) {
        if l.spec.resolved_schema(&reference).is_err() {
            let how = if body::checks_property_schema_instead(l.text) {
                "; nvcert checks the request-body property's own schema instead"
            } else {
                "; the check cannot run"
            };
            let message = format!("schema {reference} is not in {}{how}", l.origin());
            l.report("schema-ref-missing", message);
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
        if let Some(path) = request::named_resource(text) {
            resource = Some(path.to_owned());
        }
        if let Some(id) = send::sent_operation(text) {
            return spec.operation(id).cloned();
        }
        if let Some(method) = send::legacy_send_method(text) {
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

/// Test helpers for the rules beside the steps.
#[cfg(test)]
pub(super) mod testing {
    use cucumber::gherkin::{Feature, GherkinEnv};

    /// `text` parsed as feature file `t.feature`.
    pub fn parse(text: &str) -> Feature {
        let mut f = Feature::parse(text, GherkinEnv::default()).expect("parses");
        f.path = Some("t.feature".into());
        f
    }

    /// The (line, rule) findings of feature `text` against NV `version`.
    pub fn rules(text: &str, version: &str) -> Vec<(usize, String)> {
        let spec = crate::spec::builtin(version).expect("spec");
        super::lint(&[parse(text)], &spec)
            .into_iter()
            .map(|l| (l.line, l.rule))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::rules;
    use super::*;

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
