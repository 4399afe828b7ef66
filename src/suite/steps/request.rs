//! Request setup: base path, headers, body.

use cucumber::given;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::suite::jsonpath;
use crate::suite::world::{BodyPlan, NvWorld, StepResult, fail};

/// `the resource "/number-verification/v2" as base url` (the provider's API root is prefixed).
#[given(regex = r#"^the resource "([^"]+)"\s+as\s+base url$"#)]
fn resource(world: &mut NvWorld, path: String) {
    world.request.base_path = Some(path);
}

/// `the header "Content-Type" is set to "application/json"`
#[given(regex = r#"^the header "([^"]+)" is set to "([^"]*)"$"#)]
fn header(world: &mut NvWorld, name: String, value: String) -> StepResult {
    if name.eq_ignore_ascii_case("authorization") {
        world.request.auth =
            crate::suite::world::AuthPlan::Literal(crate::secret::Secret::new(value));
        return Ok(());
    }
    set_header(world, name, value);
    Ok(())
}

pub(super) fn set_header(world: &mut NvWorld, name: String, value: String) {
    world
        .request
        .headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
    world.request.headers.push((name, value));
}

/// `the header "x-correlator" complies with the schema at "#/components/schemas/XCorrelator"`:
/// a fresh UUID, checked against that schema of the spec.
#[given(regex = r#"^the header "([^"]+)" complies with the schema at "([^"]+)"$"#)]
fn header_compliant(world: &mut NvWorld, name: String, schema: String) -> StepResult {
    let ctx = world.ctx()?;
    let value = uuid_v4();
    let violations = ctx
        .spec
        .validate_against(&schema, &Value::String(value.clone()))
        .map_err(|e| fail(e.to_string()))?;
    if let Some(v) = violations.first() {
        return Err(fail(format!(
            "generated header value {value:?} does not fit {schema}: {v}"
        )));
    }
    set_header(world, name, value);
    Ok(())
}

/// `the header "x-correlator" is set to a UUID value` (a UUID fits the x-correlator pattern of
/// every NV version, including those without an `XCorrelator` schema)
#[given(regex = r#"^the header "([^"]+)" is set to a UUID value$"#)]
fn header_uuid(world: &mut NvWorld, name: String) {
    set_header(world, name, uuid_v4());
}

/// `the request body is set by default to a request body compliant with the schema`: the
/// operation's default body, replaced as soon as a step sets a body property.
#[given(
    regex = r"^the request body is set by default to a request body compliant with the schema$"
)]
fn body_default(world: &mut NvWorld) {
    world.request.body = BodyPlan::Default;
}

/// `the request body is set to a valid request body`: the device's own number.
#[given(regex = r"^the request body is set to a valid request body$")]
fn body_valid(world: &mut NvWorld) -> StepResult {
    let device = world.ctx()?.flow.profile().lines.device.clone();
    world.request.body = BodyPlan::Json(json!({ "phoneNumber": device }));
    Ok(())
}

/// `the request body is set to "{}"` (the text is sent as is, JSON or not).
#[given(regex = r#"^the request body is set to "(.*)"$"#)]
fn body_raw(world: &mut NvWorld, text: String) {
    world.request.body = match serde_json::from_str(&text) {
        Ok(v) => BodyPlan::Json(v),
        Err(_) => BodyPlan::Raw(text),
    };
}

/// `the request body is not included`
#[given(regex = r"^the request body is not included$")]
fn body_absent(world: &mut NvWorld) {
    world.request.body = BodyPlan::Absent;
}

/// `the request body property "$.phoneNumber" is set to "+34…"` (also `the body property …`).
#[given(regex = r#"^the (?:request )?body property "([^"]+)" is set to "([^"]*)"$"#)]
fn body_property(world: &mut NvWorld, path: String, value: String) -> StepResult {
    set_body_property(world, &path, Value::String(value))
}

/// `the request body property "$.x" is removed`
#[given(regex = r#"^the (?:request )?body property "([^"]+)" is removed$"#)]
fn body_property_removed(world: &mut NvWorld, path: String) -> StepResult {
    let mut body = body_json(world);
    jsonpath::remove(&mut body, &path).map_err(fail)?;
    world.request.body = BodyPlan::Json(body);
    Ok(())
}

/// `the body property "$.phoneNumber" is set to the phone number identified by the access token`
#[given(
    regex = r#"^the (?:request )?body property "([^"]+)" is set to the phone number identified by the access token$"#
)]
fn body_device_number(world: &mut NvWorld, path: String) -> StepResult {
    let n = world.ctx()?.flow.profile().lines.device.clone();
    set_body_property(world, &path, Value::String(n))
}

/// `the body property "$.phoneNumber" is set to a valid phone number different from the one identified by the access token`
#[given(
    regex = r#"^the (?:request )?body property "([^"]+)" is set to a valid phone number different from the one identified by the access token$"#
)]
fn body_other_number(world: &mut NvWorld, path: String) -> StepResult {
    let n = world.ctx()?.flow.profile().lines.other.clone();
    set_body_property(world, &path, Value::String(n))
}

/// `the body property "$.hashedPhoneNumber" is set to the phone number identified by the access token, hashed in SHA-256 (in hexadecimal representation)`
#[given(
    regex = r#"^the (?:request )?body property "([^"]+)" is set to the phone number identified by the access token, hashed in SHA-256 \(in hexadecimal representation\)$"#
)]
fn body_device_hashed(world: &mut NvWorld, path: String) -> StepResult {
    let n = world.ctx()?.flow.profile().lines.device.clone();
    set_body_property(world, &path, Value::String(sha256_hex(&n)))
}

/// `… set to a valid phone number different from the one identified by the access token, hashed in SHA-256 (in hexadecimal representation)`
#[given(
    regex = r#"^the (?:request )?body property "([^"]+)" is set to a valid phone number different from the one identified by the access token, hashed in SHA-256 \(in hexadecimal representation\)$"#
)]
fn body_other_hashed(world: &mut NvWorld, path: String) -> StepResult {
    let n = world.ctx()?.flow.profile().lines.other.clone();
    set_body_property(world, &path, Value::String(sha256_hex(&n)))
}

/// The same hash in upper-case hex (the spec's pattern allows both cases).
#[given(
    regex = r#"^the (?:request )?body property "([^"]+)" is set to the phone number identified by the access token, hashed in SHA-256 in upper-case hexadecimal$"#
)]
fn body_device_hashed_upper(world: &mut NvWorld, path: String) -> StepResult {
    let n = world.ctx()?.flow.profile().lines.device.clone();
    set_body_property(world, &path, Value::String(sha256_hex(&n).to_uppercase()))
}

fn body_json(world: &NvWorld) -> Value {
    match &world.request.body {
        // A property set replaces the default body: CAMARA backgrounds set a default and
        // scenarios then describe the body they want.
        BodyPlan::Json(v) => v.clone(),
        BodyPlan::Default | BodyPlan::Absent | BodyPlan::Raw(_) => json!({}),
    }
}

fn set_body_property(world: &mut NvWorld, path: &str, value: Value) -> StepResult {
    let mut body = body_json(world);
    jsonpath::set(&mut body, path, value).map_err(fail)?;
    world.request.body = BodyPlan::Json(body);
    Ok(())
}

/// Lower-case hex SHA-256 of the UTF-8 text (CAMARA: hash of the E.164 number with '+').
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A random UUID v4 in its canonical text form (CAMARA recommends UUIDs for x-correlator).
pub fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_of_the_plus_prefixed_number() {
        // Independently computed: printf '+123456789' | sha256sum
        assert_eq!(
            sha256_hex("+123456789"),
            "b49f9168e8a886ffd61a090b51a26e117717f5f6fa804af49ea67043a2bfa4f0"
        );
    }

    #[test]
    fn uuid_has_version_and_variant() {
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }
}
