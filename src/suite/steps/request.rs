//! Request setup: base path, resource, headers (the body has its own file, `body.rs`).

use cucumber::given;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::secret::Secret;
use crate::suite::camara_vocabulary::takes_body;
use crate::suite::lint::StepLint;
use crate::suite::world::{AuthPlan, NvWorld, StepResult, fail};

/// `the resource "/number-verification/v2" as base url` (the provider's API root is prefixed).
#[given(regex = r#"^the resource "([^"]+)"\s+as\s+base url$"#)]
fn resource(world: &mut NvWorld, path: String) {
    world.api.request.base_path = Some(path);
}

/// `base-path`: a base url other than the path of the spec's server URL.
pub(in crate::suite) fn lint_base_url(l: &mut StepLint<'_>) {
    let spec_base = l.spec.base_path();
    if let Some(base) = l
        .text
        .strip_prefix("the resource \"")
        .and_then(|r| r.split_once('"'))
        .filter(|(_, rest)| rest.split_whitespace().eq(["as", "base", "url"]))
        .map(|(b, _)| b)
        && base.trim_end_matches('/') != spec_base.trim_end_matches('/')
    {
        let message = format!(
            "base url {base} differs from the path of the spec's server URL ({spec_base}); \
             nvcert uses {spec_base}"
        );
        l.report("base-path", message);
    }
}

/// `they use the base url` (the spec's base path is always used).
#[given(regex = r"^they use the base url$")]
fn use_base_url(_world: &mut NvWorld) {}

/// `the resource is "/verify"`: the path, relative to the base path, the scenario sends to.
#[given(regex = r#"^the resource is "([^"]+)"$"#)]
fn resource_is(world: &mut NvWorld, path: String) {
    world.implied.resource = Some(path);
}

/// The path of `the resource is "/verify"`, as the lint reads it.
pub(in crate::suite) fn named_resource(text: &str) -> Option<&str> {
    text.strip_prefix("the resource is \"")
        .and_then(|r| r.strip_suffix('"'))
}

/// Remembers the resource [`resource_is`] names, for the legacy sends after it.
pub(in crate::suite) fn lint_resource_is(l: &mut StepLint<'_>) {
    if let Some(path) = named_resource(l.text) {
        l.seen.resource = Some(path.to_owned());
    }
}

step! {
/// `the header "Content-Type" is set to "application/json"`
#[given(regex = r#"^the header "([^"]+)" is set to "([^"]*)"$"#)]
fn header(world: &mut NvWorld, name: String, value: String) -> StepResult {
    if name.eq_ignore_ascii_case("authorization") {
        world.api.request.auth = AuthPlan::Literal(Secret::new(value));
        return Ok(());
    }
    set_header(world, name, value);
    Ok(())
}
}

/// `content-type-without-body`: a Content-Type request header for an operation that takes no
/// request body.
pub(in crate::suite) fn lint_content_type_without_body(l: &mut StepLint<'_>) {
    let Some(op) = l.operation else { return };
    if !takes_body(l.spec, op)
        && l.text
            .to_ascii_lowercase()
            .starts_with("the header \"content-type\" is set to")
    {
        let message = format!(
            "{} ({} {}) takes no request body, so a Content-Type request header describes \
             nothing (sent as written)",
            op.operation_id, op.method, op.path
        );
        l.report("content-type-without-body", message);
    }
}

pub(super) fn set_header(world: &mut NvWorld, name: String, value: String) {
    world
        .api
        .request
        .headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
    world.api.request.headers.push((name, value));
}

step! {
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
}

/// `the header "x-correlator" is set to a UUID value` (a UUID fits the x-correlator pattern of
/// every NV version, including those without an `XCorrelator` schema)
#[given(regex = r#"^the header "([^"]+)" is set to a UUID value$"#)]
fn header_uuid(world: &mut NvWorld, name: String) {
    set_header(world, name, uuid_v4());
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
