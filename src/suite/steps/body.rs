//! The request body: set whole, property by property, or as CAMARA's definitions describe it
//! (a phone number compliant, or not, with a schema of the spec; legacy testing ASSETs).

use cucumber::{given, when};
use serde_json::{Value, json};

use super::lines::{asset_value, device_number};
use super::request::sha256_hex;
use super::send::still_setting_up;
use crate::exchange::quote_json as shown;
use crate::suite::camara_vocabulary::{
    body_operation, pointer_segment, request_body_ref, takes_body,
};
use crate::suite::jsonpath;
use crate::suite::lint::StepLint;
use crate::suite::world::{BodyPlan, NvWorld, StepFailure, StepResult, fail};

/// The body as JSON to modify (a default or non-JSON body becomes `{}`: CAMARA backgrounds set
/// a default, and scenarios that set properties then describe the whole body they want).
fn body_json(world: &NvWorld) -> Value {
    match &world.api.request.body {
        BodyPlan::Json(v) => v.clone(),
        BodyPlan::Default | BodyPlan::Absent | BodyPlan::Raw(_) => json!({}),
    }
}

/// Sets body property `path` to `value`.
fn set_property(world: &mut NvWorld, path: &str, value: Value) -> StepResult {
    let mut body = body_json(world);
    jsonpath::set(&mut body, path, value).map_err(fail)?;
    world.api.request.body = BodyPlan::Json(body);
    Ok(())
}

/// [`set_property`], remembering `path` as the property "the same phone number" refers to
/// (what the steps of CAMARA's phone-number sentences do).
fn set_number_property(world: &mut NvWorld, path: &str, value: Value) -> StepResult {
    set_property(world, path, value)?;
    world.api.last_property = Some(path.to_owned());
    Ok(())
}

/// `body-without-request-body`: any body step for an operation that takes no request body.
pub(in crate::suite) fn lint_body_without_request_body(l: &mut StepLint<'_>) {
    let Some(op) = l.operation else { return };
    let body_step = (l.text.starts_with("the request body")
        || l.text.starts_with("the body property"))
        && l.text != "the request body is not included";
    if body_step && !takes_body(l.spec, op) {
        let message = format!(
            "{} ({} {}) takes no request body; nvcert sends none",
            op.operation_id, op.method, op.path
        );
        l.report("body-without-request-body", message);
    }
}

/// Whether a step naming a schema the spec lacks is one whose check falls back to the
/// request-body property's own schema ([`property_violations`]), as the lint reads it.
pub(in crate::suite) fn checks_property_schema_instead(text: &str) -> bool {
    text.starts_with("the request body property \"")
        || text.starts_with("the same phone number is compliant")
}

/// `the request body is set by default to a request body compliant with the schema`: the
/// operation's default body, replaced as soon as a step sets a body property.
#[given(
    regex = r"^the request body is set by default to a request body compliant with the schema$"
)]
fn body_default(world: &mut NvWorld) {
    world.api.request.body = BodyPlan::Default;
}

step! {
/// `the request body is set to a valid request body`: the device's own number.
#[given(regex = r"^the request body is set to a valid request body$")]
fn body_valid(world: &mut NvWorld) -> StepResult {
    let device = world.ctx()?.flow.profile().lines.device.clone();
    world.api.request.body = BodyPlan::Json(json!({ "phoneNumber": device }));
    Ok(())
}
}

/// `the request body is set to "{}"` (the text is sent as is, JSON or not).
#[given(regex = r#"^the request body is set to "(.*)"$"#)]
fn body_raw(world: &mut NvWorld, text: String) {
    world.api.request.body = match serde_json::from_str(&text) {
        Ok(v) => BodyPlan::Json(v),
        Err(_) => BodyPlan::Raw(text),
    };
}

/// `the request body is not included`
#[given(regex = r"^the request body is not included$")]
fn body_absent(world: &mut NvWorld) {
    world.api.request.body = BodyPlan::Absent;
}

step! {
/// `the request body property "$.phoneNumber" is set to "+34…"` (also `the body property …`).
#[given(regex = r#"^the (?:request )?body property "([^"]+)" is set to "([^"]*)"$"#)]
fn body_property(world: &mut NvWorld, path: String, value: String) -> StepResult {
    set_property(world, &path, Value::String(value))
}
}

step! {
/// `the request body property "$.x" is removed`
#[given(regex = r#"^the (?:request )?body property "([^"]+)" is removed$"#)]
fn body_property_removed(world: &mut NvWorld, path: String) -> StepResult {
    let mut body = body_json(world);
    jsonpath::remove(&mut body, &path).map_err(fail)?;
    world.api.request.body = BodyPlan::Json(body);
    Ok(())
}
}

step! {
/// `the body property "$.phoneNumber" is set to the phone number identified by the access token`
#[given(
    regex = r#"^the (?:request )?body property "([^"]+)" is set to the phone number identified by the access token$"#
)]
fn body_device_number(world: &mut NvWorld, path: String) -> StepResult {
    let n = world.ctx()?.flow.profile().lines.device.clone();
    set_property(world, &path, Value::String(n))
}
}

step! {
/// `the body property "$.phoneNumber" is set to a valid phone number different from the one identified by the access token`
#[given(
    regex = r#"^the (?:request )?body property "([^"]+)" is set to a valid phone number different from the one identified by the access token$"#
)]
fn body_other_number(world: &mut NvWorld, path: String) -> StepResult {
    let n = world.ctx()?.flow.profile().lines.other.clone();
    set_property(world, &path, Value::String(n))
}
}

step! {
/// `the body property "$.hashedPhoneNumber" is set to the phone number identified by the access token, hashed in SHA-256 (in hexadecimal representation)`
#[given(
    regex = r#"^the (?:request )?body property "([^"]+)" is set to the phone number identified by the access token, hashed in SHA-256 \(in hexadecimal representation\)$"#
)]
fn body_device_hashed(world: &mut NvWorld, path: String) -> StepResult {
    let n = world.ctx()?.flow.profile().lines.device.clone();
    set_property(world, &path, Value::String(sha256_hex(&n)))
}
}

step! {
/// `… set to a valid phone number different from the one identified by the access token, hashed in SHA-256 (in hexadecimal representation)`
#[given(
    regex = r#"^the (?:request )?body property "([^"]+)" is set to a valid phone number different from the one identified by the access token, hashed in SHA-256 \(in hexadecimal representation\)$"#
)]
fn body_other_hashed(world: &mut NvWorld, path: String) -> StepResult {
    let n = world.ctx()?.flow.profile().lines.other.clone();
    set_property(world, &path, Value::String(sha256_hex(&n)))
}
}

step! {
/// The same hash in upper-case hex (the spec's pattern allows both cases).
#[given(
    regex = r#"^the (?:request )?body property "([^"]+)" is set to the phone number identified by the access token, hashed in SHA-256 in upper-case hexadecimal$"#
)]
fn body_device_hashed_upper(world: &mut NvWorld, path: String) -> StepResult {
    let n = world.ctx()?.flow.profile().lines.device.clone();
    set_property(world, &path, Value::String(sha256_hex(&n).to_uppercase()))
}
}

step! {
/// `a valid phone number identified by the token and provided in the request body`
#[given(regex = r"^a valid phone number identified by the token and provided in the request body$")]
fn number_in_body(world: &mut NvWorld) -> StepResult {
    let n = device_number(world)?;
    set_number_property(world, "$.phoneNumber", Value::String(n))
}
}

step! {
/// `the request body property "$.phoneNumber" is set to a valid phone number` (the device's).
#[given(regex = r#"^the request body property "([^"]+)" is set to a valid phone number$"#)]
fn property_valid_number(world: &mut NvWorld, path: String) -> StepResult {
    let n = device_number(world)?;
    set_number_property(world, &path, Value::String(n))
}
}

step! {
/// `the same phone number is compliant with OAS schema at "#/components/schemas/PhoneNumber"`:
/// checks the test data (the number the previous step set); a number that does not comply is
/// the profile's problem, not the provider's, so the scenario is skipped.
#[given(regex = r#"^the same phone number is compliant with OAS schema at "([^"]+)"$"#)]
fn same_number_compliant(world: &mut NvWorld, reference: String) -> StepResult {
    let path = world
        .api
        .last_property
        .clone()
        .unwrap_or_else(|| "$.phoneNumber".to_owned());
    let value = jsonpath::get(&body_json(world), &path)
        .map_err(fail)?
        .cloned()
        .ok_or_else(|| {
            StepFailure::Skip(format!(
                "no phone number was set at {path} to check against {reference}"
            ))
        })?;
    compliant(world, &path, &reference, &value)
}
}

fn compliant(world: &NvWorld, path: &str, reference: &str, value: &Value) -> StepResult {
    let violations = property_violations(world, path, reference, value)?;
    if violations.is_empty() {
        Ok(())
    } else {
        Err(StepFailure::Skip(format!(
            "the test value {} does not comply with {reference}: {}",
            shown(value),
            violations.join("; ")
        )))
    }
}

step! {
/// `the request body property "$.hashedPhoneNumber" is set to a valid phone number compliant
/// with OAS schema at "#/components/schemas/HashedPhoneNumber"`: the device's number, hashed
/// (SHA-256 hex) when the property is a hashed one, checked against the schema.
#[given(
    regex = r#"^the request body property "([^"]+)" is set to a valid phone number compliant with OAS schema at "([^"]+)"$"#
)]
fn property_compliant_number(world: &mut NvWorld, path: String, reference: String) -> StepResult {
    let n = device_number(world)?;
    let value = if path.to_ascii_lowercase().contains("hashed") {
        sha256_hex(&n)
    } else {
        n
    };
    let value = Value::String(value);
    compliant(world, &path, &reference, &value)?;
    set_number_property(world, &path, value)
}
}

step! {
/// `the request body does not contain neither "$.phoneNumber" nor "$.hashedPhoneNumber"` (sic:
/// read as "contains neither"; the lint reports the double negative).
#[given(regex = r#"^the request body does not contain (?:neither )?"([^"]+)" nor "([^"]+)"$"#)]
fn body_contains_neither(world: &mut NvWorld, first: String, second: String) -> StepResult {
    let mut body = body_json(world);
    for path in [&first, &second] {
        jsonpath::remove(&mut body, path).map_err(fail)?;
    }
    world.api.request.body = BodyPlan::Json(body);
    Ok(())
}
}

/// `wording`: [`body_contains_neither`]'s double negative.
pub(in crate::suite) fn lint_contains_neither(l: &mut StepLint<'_>) {
    if l.text.contains("does not contain neither") {
        l.report(
            "wording",
            "double negative \"does not contain neither … nor …\"; read as \"contains neither \
             … nor …\""
                .to_owned(),
        );
    }
}

step! {
/// `the request body property "$.phoneNumber" does not comply with the OAS schema at
/// "#/components/schemas/PhoneNumber"`: the first of a few malformed values that the schema
/// (or, when the spec lacks it, the property's own schema) rejects.
#[given(
    regex = r#"^the request body property "([^"]+)" does not comply with the OAS schema at "([^"]+)"$"#
)]
fn property_non_compliant(world: &mut NvWorld, path: String, reference: String) -> StepResult {
    for candidate in non_compliant_candidates() {
        if !property_violations(world, &path, &reference, &candidate)?.is_empty() {
            return set_number_property(world, &path, candidate);
        }
    }
    Err(StepFailure::Skip(format!(
        "{reference} accepts every malformed value nvcert tries, so no non-compliant value exists"
    )))
}
}

/// `the request body is compliant with the schema NumberVerificationRequestBody`: the
/// operation's default body (the device's number for `/verify`, none for a GET).
#[given(regex = r"^the request body is compliant with the schema (\S+)$")]
fn body_compliant(world: &mut NvWorld, _schema: String) {
    world.api.request.body = BodyPlan::Default;
}

step! {
/// `the request body property "$.phoneNumber" is set to: +12334foo22222` (Scenario Outline
/// value; always a string, as the examples are phone-number texts).
#[given(regex = r#"^the request body property "([^"]+)" is set to: (.*)$"#)]
fn property_set_to_example(world: &mut NvWorld, path: String, value: String) -> StepResult {
    set_number_property(world, &path, Value::String(value.trim().to_owned()))
}
}

step! {
/// `the request body has the field phoneNumber with a value of NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER1`
#[given(regex = r"^the request body has the field (\w+) with a value of ([A-Z][A-Z0-9_]+)$")]
#[when(regex = r"^the request body has the field (\w+) with a value of ([A-Z][A-Z0-9_]+)$")]
fn body_field_asset(world: &mut NvWorld, field: String, name: String) -> StepResult {
    still_setting_up(world, "the request body")?;
    let value = asset_value(world, &name)?;
    set_number_property(world, &format!("$.{field}"), Value::String(value))
}
}

step! {
/// `the request body has NO the field phoneNumber or hashedPhoneNumber` (sic): neither field.
#[given(regex = r"^the request body has NO the field (\w+) or (\w+)$")]
#[when(regex = r"^the request body has NO the field (\w+) or (\w+)$")]
fn body_without_fields(world: &mut NvWorld, first: String, second: String) -> StepResult {
    still_setting_up(world, "the request body")?;
    // A default body (the device's number) becomes `{}` here, which is what "has NO" means.
    let mut body = body_json(world);
    for field in [first, second] {
        jsonpath::remove(&mut body, &format!("$.{field}")).map_err(fail)?;
    }
    world.api.request.body = BodyPlan::Json(body);
    Ok(())
}
}

/// `wording`: [`body_without_fields`]'s "has NO the field".
pub(in crate::suite) fn lint_has_no_field(l: &mut StepLint<'_>) {
    if l.text.contains("has NO the field") {
        l.report(
            "wording",
            "\"has NO the field … or …\" read as \"has neither field\"".to_owned(),
        );
    }
}

/// The JSON pointer of the instance a `$.a.b` path names (`/a/b`).
fn instance_pointer(path: &str) -> String {
    path.trim_start_matches('$')
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|s| format!("/{}", pointer_segment(s)))
        .collect()
}

/// Violations of `value` as body property `path` against `reference`: the schema itself when
/// the spec has it; else the property's own schema inside the operation's request body
/// (CAMARA v2.1.0 names `#/components/schemas/PhoneNumber` and `…/HashedPhoneNumber`, which no
/// NV spec of v1.0.0 or later has; the lint reports the reference).
fn property_violations(
    world: &NvWorld,
    path: &str,
    reference: &str,
    value: &Value,
) -> Result<Vec<String>, StepFailure> {
    let ctx = world.ctx()?;
    let spec = &ctx.spec;
    if spec.resolved_schema(reference).is_ok() {
        let found = spec
            .validate_against(reference, value)
            .map_err(|e| fail(e.to_string()))?;
        return Ok(found.iter().map(ToString::to_string).collect());
    }
    let op = body_operation(&world.implied, spec).ok_or_else(|| {
        StepFailure::Skip(format!(
            "{reference} is not in {} and no operation takes a request body whose property \
             {path} could stand in for it",
            spec.origin()
        ))
    })?;
    let mut body = json!({});
    jsonpath::set(&mut body, path, value.clone()).map_err(fail)?;
    let pointer = instance_pointer(path);
    let found = spec
        .validate_against(&request_body_ref(&op), &body)
        .map_err(|e| fail(e.to_string()))?;
    Ok(found
        .iter()
        .filter(|v| {
            v.pointer
                .as_deref()
                .is_some_and(|p| p.starts_with(&pointer))
        })
        .map(ToString::to_string)
        .collect())
}

/// Values that break a phone-number-like schema in different ways: well-typed strings first
/// (the interesting case: the provider must check the pattern), then a wrong type.
fn non_compliant_candidates() -> Vec<Value> {
    [
        "+12334foo22222",
        "string_value",
        "123",
        "++49565456787",
        "+00012230304913849",
        "",
    ]
    .into_iter()
    .map(Value::from)
    .chain([Value::from(34_600_000_001_u64), Value::Bool(true)])
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_pointers() {
        assert_eq!(instance_pointer("$.phoneNumber"), "/phoneNumber");
        assert_eq!(instance_pointer("$.a.b"), "/a/b");
    }

    #[test]
    fn a_malformed_candidate_breaks_the_phone_number_property() {
        let s = crate::spec::builtin("2.1.0").expect("built-in spec");
        let verify = s.operation("phoneNumberVerify").expect("verify");
        let first = non_compliant_candidates()
            .into_iter()
            .find(|c| {
                let body = json!({ "phoneNumber": c });
                s.validate_against(&request_body_ref(verify), &body)
                    .is_ok_and(|v| !v.is_empty())
            })
            .expect("a candidate fails");
        assert_eq!(first, json!("+12334foo22222"));
        // The referenced schema of v2.1.0's C02.01 is missing, hence the fallback.
        assert!(
            s.resolved_schema("#/components/schemas/PhoneNumber")
                .is_err()
        );
    }
}
