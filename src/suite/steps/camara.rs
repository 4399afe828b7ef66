//! Phrasings only CAMARA's own test definitions use, so that nvcert runs them unmodified:
//! the declarative sentences of v2.1.x (`a valid phone number supported by the service,
//! identified by the token`, `… does not comply with the OAS schema at …`) and the whole legacy
//! vocabulary of v1.0.0 … v2.0.0 (`the resource is "/verify"`, `When the HTTPS "POST" request
//! is sent` followed by more request setup, testing ASSETs such as
//! `NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER1`).
//!
//! Where a definition is wrong or cannot be satisfied as written, the step does the closest
//! sensible thing and the lint (`suite::lint`) says so; a step that cannot be satisfied at all
//! skips its scenario with the reason. Nothing here passes silently what it did not check.

use cucumber::{given, then, when};
use serde_json::{Value, json};

use super::request::sha256_hex;
use super::send::ensure_sent;
use crate::exchange::quote_json as shown;
use crate::spec::{Operation, SpecDocument};
use crate::suite::context::RunContext;
use crate::suite::jsonpath;
use crate::suite::world::{AuthPlan, BodyPlan, NvWorld, StepFailure, StepResult, fail};

// ---------------------------------------------------------------------------------------------
// Testing assets (legacy definitions)
// ---------------------------------------------------------------------------------------------

/// Which profile line a testing asset stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    /// `lines.device`: the SIM in the device, which the network identifies.
    Device,
    /// `lines.other`: another valid number.
    Other,
}

/// The testing assets legacy CAMARA definitions declare, the line each stands for, and whether
/// it is the SHA-256 hash of that line's number.
pub(crate) const ASSETS: &[(&str, Line, bool)] = &[
    (
        "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER1",
        Line::Device,
        false,
    ),
    ("NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER2", Line::Other, false),
    (
        "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER_HASHED1",
        Line::Device,
        true,
    ),
    (
        "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER_HASHED2",
        Line::Other,
        true,
    ),
    ("NUMBERVERIFY_SHARE_PHONENUMBER1", Line::Device, false),
    ("NUMBERVERIFY_SHARE_PHONENUMBER2", Line::Other, false),
];

/// An asset CAMARA uses without declaring it (v1.0.0 … v2.0.0 verify202, the expired-token
/// scenario, where the number does not matter): read as the device line; the lint reports it.
pub(crate) const UNDECLARED_DEVICE_ASSET: &str = "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER";

/// The line and hashing an asset name stands for.
fn asset(name: &str) -> Result<(Line, bool), StepFailure> {
    if name == UNDECLARED_DEVICE_ASSET {
        return Ok((Line::Device, false));
    }
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, line, hashed)| (*line, *hashed))
        .ok_or_else(|| {
            StepFailure::Skip(format!(
                "unknown testing asset {name}: nvcert maps {} to the profile's [lines]",
                ASSETS
                    .iter()
                    .map(|(n, _, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// The value an asset stands for: the profile line's number, or its SHA-256 hex.
fn asset_value(world: &NvWorld, name: &str) -> Result<String, StepFailure> {
    let (line, hashed) = asset(name)?;
    let lines = world.ctx()?.flow.profile().lines.clone();
    let number = match line {
        Line::Device => lines.device,
        Line::Other => lines.other,
    };
    Ok(if hashed { sha256_hex(&number) } else { number })
}

// ---------------------------------------------------------------------------------------------
// Operations and schemas
// ---------------------------------------------------------------------------------------------

/// `~` and `/` escaped for a JSON pointer segment (RFC 6901).
fn pointer_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// The reference of `op`'s request body, e.g. `#/paths/~1verify/post/requestBody`.
pub(crate) fn request_body_ref(op: &Operation) -> String {
    format!(
        "#/paths/{}/{}/requestBody",
        pointer_segment(&op.path),
        op.method.as_str().to_ascii_lowercase()
    )
}

/// Whether `op` takes a JSON request body.
pub(crate) fn takes_body(spec: &SpecDocument, op: &Operation) -> bool {
    spec.resolved_schema(&request_body_ref(op)).is_ok()
}

/// The operation a legacy send means: `method` on the resource the scenario named (when the
/// resource is a path of the spec but not for `method`, the path's operation: legacy 204/205
/// send `"GET"` to `/verify`); without a resource, the Feature line's operation, else the only
/// operation with that method. The flag says whether `method` is the operation's.
pub(crate) fn resolve_legacy(
    spec: &SpecDocument,
    method: &http::Method,
    resource: Option<&str>,
    feature_operation: Option<&str>,
) -> Result<(Operation, bool), String> {
    if let Some(resource) = resource {
        if let Some(op) = spec.find_operation(method, resource) {
            return Ok((op.clone(), true));
        }
        return spec
            .operations()
            .find(|o| {
                spec.find_operation(&o.method, resource)
                    .is_some_and(|f| f.operation_id == o.operation_id)
            })
            .map(|op| (op.clone(), false))
            .ok_or_else(|| {
                format!(
                    "the resource {resource:?} is not a path of {}",
                    spec.origin()
                )
            });
    }
    if let Some(op) = feature_operation.and_then(|id| spec.operation(id)) {
        return Ok((op.clone(), op.method == *method));
    }
    let mut same = spec.operations().filter(|o| o.method == *method);
    match (same.next(), same.next()) {
        (Some(op), None) => Ok((op.clone(), true)),
        _ => Err(format!(
            "the scenario names no resource (`the resource is \"…\"`) and {} has no single {method} operation",
            spec.origin()
        )),
    }
}

/// [`resolve_legacy`] for the scenario's state.
pub(super) fn legacy_operation(
    world: &NvWorld,
    ctx: &RunContext,
    method: &http::Method,
) -> Result<Operation, StepFailure> {
    resolve_legacy(
        &ctx.spec,
        method,
        world.resource.as_deref(),
        world.feature_operation.as_deref(),
    )
    .map(|(op, _)| op)
    .map_err(StepFailure::Skip)
}

/// The operation whose request body a body step describes: the Feature line's (or the legacy
/// resource's) when it takes a body, else the first operation that does.
fn body_operation(world: &NvWorld, spec: &SpecDocument) -> Option<Operation> {
    let named = world
        .feature_operation
        .as_deref()
        .and_then(|id| spec.operation(id))
        .or_else(|| {
            world
                .resource
                .as_deref()
                .and_then(|r| spec.operations().find(|o| o.path == r))
        });
    named
        .filter(|op| takes_body(spec, op))
        .or_else(|| spec.operations().find(|op| takes_body(spec, op)))
        .cloned()
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
    let op = body_operation(world, spec).ok_or_else(|| {
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

// ---------------------------------------------------------------------------------------------
// Body helpers
// ---------------------------------------------------------------------------------------------

/// The body as JSON to modify (a default or non-JSON body becomes `{}`: CAMARA scenarios that
/// set properties describe the whole body they want).
fn body_json(world: &NvWorld) -> Value {
    match &world.request.body {
        BodyPlan::Json(v) => v.clone(),
        BodyPlan::Default | BodyPlan::Absent | BodyPlan::Raw(_) => json!({}),
    }
}

fn set_property(world: &mut NvWorld, path: &str, value: Value) -> StepResult {
    let mut body = body_json(world);
    jsonpath::set(&mut body, path, value).map_err(fail)?;
    world.request.body = BodyPlan::Json(body);
    world.last_property = Some(path.to_owned());
    Ok(())
}

fn device_number(world: &NvWorld) -> Result<String, StepFailure> {
    Ok(world.ctx()?.flow.profile().lines.device.clone())
}

/// Legacy request setup may follow `When … request is sent`; after the request actually went
/// out it could no longer change it, which must not pass unnoticed.
fn still_setting_up(world: &NvWorld, what: &str) -> StepResult {
    if world.last.is_some() && world.pending_send.is_none() {
        return Err(StepFailure::Skip(format!(
            "{what} comes after the request was sent, so it cannot change it"
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// v2.1.x declarative sentences
// ---------------------------------------------------------------------------------------------

/// `a valid phone number supported by the service, identified by the token` (also `a valid
/// testing phoneNumber supported by the service, identified by the token`): the profile's
/// device line, which the flow's network-based authentication identifies. Nothing to set up.
#[given(
    regex = r"^a valid (?:testing )?(?:phone number|phoneNumber) supported by the service, identified by the token$"
)]
fn line_identified_by_token(world: &mut NvWorld) -> StepResult {
    device_number(world).map(|_| ())
}

/// `a valid phone number identified by the token and provided in the request body`
#[given(regex = r"^a valid phone number identified by the token and provided in the request body$")]
fn number_in_body(world: &mut NvWorld) -> StepResult {
    let n = device_number(world)?;
    set_property(world, "$.phoneNumber", Value::String(n))
}

/// `the token has been obtained by a supported authentication method`: true of the valid
/// token, which comes from network-based authentication (or the profile's token source, which
/// the profile vouches for).
#[given(regex = r"^the token has been obtained by a supported authentication method$")]
fn token_from_supported_method(world: &mut NvWorld) -> StepResult {
    match world.request.auth {
        AuthPlan::Valid => Ok(()),
        _ => Err(StepFailure::Skip(
            "an earlier step set the Authorization header to something other than a valid \
             access token, which contradicts this step"
                .into(),
        )),
    }
}

/// `the request body property "$.phoneNumber" is set to a valid phone number` (the device's).
#[given(regex = r#"^the request body property "([^"]+)" is set to a valid phone number$"#)]
fn property_valid_number(world: &mut NvWorld, path: String) -> StepResult {
    let n = device_number(world)?;
    set_property(world, &path, Value::String(n))
}

/// `the same phone number is compliant with OAS schema at "#/components/schemas/PhoneNumber"`:
/// checks the test data (the number the previous step set); a number that does not comply is
/// the profile's problem, not the provider's, so the scenario is skipped.
#[given(regex = r#"^the same phone number is compliant with OAS schema at "([^"]+)"$"#)]
fn same_number_compliant(world: &mut NvWorld, reference: String) -> StepResult {
    let path = world
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
    set_property(world, &path, value)
}

/// `the request body does not contain neither "$.phoneNumber" nor "$.hashedPhoneNumber"` (sic:
/// read as "contains neither"; the lint reports the double negative).
#[given(regex = r#"^the request body does not contain (?:neither )?"([^"]+)" nor "([^"]+)"$"#)]
fn body_contains_neither(world: &mut NvWorld, first: String, second: String) -> StepResult {
    let mut body = body_json(world);
    for path in [&first, &second] {
        jsonpath::remove(&mut body, path).map_err(fail)?;
    }
    world.request.body = BodyPlan::Json(body);
    Ok(())
}

/// `the request body property "$.phoneNumber" does not comply with the OAS schema at
/// "#/components/schemas/PhoneNumber"`: the first of a few malformed values that the schema
/// (or, when the spec lacks it, the property's own schema) rejects.
#[given(
    regex = r#"^the request body property "([^"]+)" does not comply with the OAS schema at "([^"]+)"$"#
)]
fn property_non_compliant(world: &mut NvWorld, path: String, reference: String) -> StepResult {
    for candidate in non_compliant_candidates() {
        if !property_violations(world, &path, &reference, &candidate)?.is_empty() {
            return set_property(world, &path, candidate);
        }
    }
    Err(StepFailure::Skip(format!(
        "{reference} accepts every malformed value nvcert tries, so no non-compliant value exists"
    )))
}

/// `the header "Authorization" is set to a valid access token which does not identify a single
/// phone number`: unsatisfiable for NV (a 3-legged NV token always identifies one line; CAMARA
/// PR #255 drops the line from C02.01). Read as a valid access token; the lint reports it.
#[given(
    regex = r#"^the header "Authorization" is set to a valid access token which does not identify a single phone number$"#
)]
fn valid_token_no_single_number(world: &mut NvWorld) {
    world.request.auth = AuthPlan::Valid;
}

// ---------------------------------------------------------------------------------------------
// Legacy vocabulary (v1.0.0 … v2.0.0)
// ---------------------------------------------------------------------------------------------

/// `they use the base url` (the spec's base path is always used).
#[given(regex = r"^they use the base url$")]
fn use_base_url(_world: &mut NvWorld) {}

/// `the resource is "/verify"`: the path, relative to the base path, the scenario sends to.
#[given(regex = r#"^the resource is "([^"]+)"$"#)]
fn resource_is(world: &mut NvWorld, path: String) {
    world.resource = Some(path);
}

fn known_scope(world: &NvWorld, scope: &str) -> StepResult {
    let ctx = world.ctx()?;
    if ctx.flow.api().all_scopes().iter().any(|s| s == scope) {
        Ok(())
    } else {
        Err(StepFailure::Skip(format!(
            "scope {scope} is not a scope of {}",
            ctx.spec.origin()
        )))
    }
}

/// `one of the scopes associated with the access token is number-verification:verify`: the
/// valid token carries every NV scope of the spec.
#[given(regex = r"^one of the scopes associated with the access token is (\S+)$")]
fn scope_included(world: &mut NvWorld, scope: String) -> StepResult {
    known_scope(world, &scope)
}

/// `none of the scopes associated with the access token is number-verification:verify`: a real
/// token without the operation's scope.
#[given(regex = r"^none of the scopes associated with the access token is (\S+)$")]
fn scope_excluded(world: &mut NvWorld, scope: String) -> StepResult {
    known_scope(world, &scope)?;
    world.request.auth = AuthPlan::WithoutRequiredScope;
    Ok(())
}

/// `the request body is compliant with the schema NumberVerificationRequestBody`: the
/// operation's default body (the device's number for `/verify`, none for a GET).
#[given(regex = r"^the request body is compliant with the schema (\S+)$")]
fn body_compliant(world: &mut NvWorld, _schema: String) {
    world.request.body = BodyPlan::Default;
}

/// `the response body is compliant with the schema NumberVerificationMatchResponse` (legacy
/// Background, before any request): a statement about successful answers, which the spec
/// engine checks on every exchange anyway; not applied to error answers, which would contradict
/// it. The lint reports a schema that is not the operation's.
#[given(regex = r"^the response body is compliant with the schema (\S+)$")]
fn response_compliant_declared(_world: &mut NvWorld, _schema: String) {}

/// `NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER1 is compliant with the schema DevicePhoneNumber`:
/// checks the profile's test line (skips when it does not comply: the test data is wrong).
#[given(regex = r"^([A-Z][A-Z0-9_]+) is compliant with the schema (\S+)$")]
fn asset_compliant(world: &mut NvWorld, name: String, schema: String) -> StepResult {
    let value = Value::String(asset_value(world, &name)?);
    let ctx = world.ctx()?;
    // A schema the spec lacks cannot be checked; the lint reports the reference.
    let Ok(violations) = ctx.spec.validate_against(&schema, &value) else {
        return Ok(());
    };
    match violations.first() {
        None => Ok(()),
        Some(v) => Err(StepFailure::Skip(format!(
            "testing asset {name} ({}) does not comply with {schema}: {v}",
            shown(&value)
        ))),
    }
}

/// `NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER1 is different to NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER2`
#[given(regex = r"^([A-Z][A-Z0-9_]+) is different to ([A-Z][A-Z0-9_]+)$")]
fn assets_differ(world: &mut NvWorld, a: String, b: String) -> StepResult {
    if asset_value(world, &a)? == asset_value(world, &b)? {
        return Err(StepFailure::Skip(format!(
            "testing assets {a} and {b} are the same number (profile [lines])"
        )));
    }
    Ok(())
}

/// `they acquired a valid access token associated with NUMBERVERIFY_SHARE_PHONENUMBER1 through
/// OIDC authorization code flow`: the valid token comes from that flow for the device line.
/// (v1.0.0 … v2.0.0 verify0 states it after `Then`, hence also a Then step.)
#[given(
    regex = r"^they acquired a valid access token associated with ([A-Z][A-Z0-9_]+) through OIDC authorization code flow$"
)]
#[then(
    regex = r"^they acquired a valid access token associated with ([A-Z][A-Z0-9_]+) through OIDC authorization code flow$"
)]
fn token_for_asset(_world: &mut NvWorld, name: String) -> StepResult {
    match asset(&name)? {
        (Line::Device, false) => Ok(()),
        _ => Err(StepFailure::Skip(format!(
            "the flows authenticate the profile's device line, not {name}"
        ))),
    }
}

/// `the request body property "$.phoneNumber" is set to: +12334foo22222` (Scenario Outline
/// value; always a string, as the examples are phone-number texts).
#[given(regex = r#"^the request body property "([^"]+)" is set to: (.*)$"#)]
fn property_set_to_example(world: &mut NvWorld, path: String, value: String) -> StepResult {
    set_property(world, &path, Value::String(value.trim().to_owned()))
}

/// `When the HTTPS "POST" request is sent` (also `HTTP`): legacy definitions go on setting the
/// request up after this, so it is sent by the first response check. The operation comes from
/// `the resource is "…"` (else the Feature line, else the method).
#[when(regex = r#"^the HTTPS? "([A-Z]+)" request is sent$"#)]
fn legacy_send(world: &mut NvWorld, method: String) -> StepResult {
    let method = http::Method::from_bytes(method.as_bytes())
        .map_err(|e| fail(format!("method {method:?}: {e}")))?;
    world.pending_send = Some(method);
    Ok(())
}

/// `the connection the request is sent over originates from a device with
/// NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER1`: the device leg is the profile's device line.
#[given(
    regex = r"^the connection the request is sent over originates from a device with ([A-Z][A-Z0-9_]+)$"
)]
#[when(
    regex = r"^the connection the request is sent over originates from a device with ([A-Z][A-Z0-9_]+)$"
)]
fn connection_from_asset(_world: &mut NvWorld, name: String) -> StepResult {
    match asset(&name)? {
        (Line::Device, false) => Ok(()),
        _ => Err(StepFailure::Skip(format!(
            "the device leg is the profile's device line, not {name}"
        ))),
    }
}

/// `the request body has the field phoneNumber with a value of NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER1`
#[given(regex = r"^the request body has the field (\w+) with a value of ([A-Z][A-Z0-9_]+)$")]
#[when(regex = r"^the request body has the field (\w+) with a value of ([A-Z][A-Z0-9_]+)$")]
fn body_field_asset(world: &mut NvWorld, field: String, name: String) -> StepResult {
    still_setting_up(world, "the request body")?;
    let value = asset_value(world, &name)?;
    set_property(world, &format!("$.{field}"), Value::String(value))
}

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
    world.request.body = BodyPlan::Json(body);
    Ok(())
}

/// `the access token has expired`: a real token of the profile's short-lived client, once its
/// lifetime has passed.
#[given(regex = r"^the access token has expired$")]
#[when(regex = r"^the access token has expired$")]
fn token_expired(world: &mut NvWorld) -> StepResult {
    still_setting_up(world, "the access token")?;
    world.request.auth = AuthPlan::Expired;
    Ok(())
}

/// `the access token is not associated with a phone number` (v1.0.0 INVALID_TOKEN_CONTEXT
/// scenarios): a 3-legged NV token always identifies a line, so no flow yields one.
#[given(regex = r"^the access token is not associated with a phone number$")]
#[when(regex = r"^the access token is not associated with a phone number$")]
fn token_without_number(_world: &mut NvWorld) -> StepResult {
    Err(StepFailure::Skip(
        "an NV access token always identifies a line (3-legged, network-authenticated), so \
         none of the provider's flows yields one that is not associated with a phone number \
         (CAMARA removed this scenario with INVALID_TOKEN_CONTEXT in v1.1.0-rc.1)"
            .into(),
    ))
}

/// `the information, e.g. authentication method reference, associated with the access token
/// indicates that network authentication was NOT used` (v2.0.0: `… that neither Network-based
/// nor SIM-based authentication was used`): a real token from the provider's non-network login.
#[given(
    regex = r"^the information, e\.g\. authentication method reference, associated with the access token indicates that (?:network authentication was NOT used|neither Network-based nor SIM-based authentication was used)$"
)]
#[when(
    regex = r"^the information, e\.g\. authentication method reference, associated with the access token indicates that (?:network authentication was NOT used|neither Network-based nor SIM-based authentication was used)$"
)]
fn token_not_network(world: &mut NvWorld) -> StepResult {
    still_setting_up(world, "the access token")?;
    world.request.auth = AuthPlan::NonNetwork;
    Ok(())
}

/// `the response property "$.devicePhoneNumber" is set to NUMBERVERIFY_SHARE_PHONENUMBER1`
#[when(regex = r#"^the response property "([^"]+)" is set to ([A-Z][A-Z0-9_]+)$"#)]
#[then(regex = r#"^the response property "([^"]+)" is set to ([A-Z][A-Z0-9_]+)$"#)]
async fn response_property_asset(world: &mut NvWorld, path: String, name: String) -> StepResult {
    ensure_sent(world).await?;
    let expected = Value::String(asset_value(world, &name)?);
    let body = world.last_json()?;
    let found = jsonpath::get(&body, &path).map_err(fail)?;
    match found {
        Some(v) if *v == expected => Ok(()),
        Some(v) => Err(fail(format!(
            "response property {path}: expected {} ({name}), found {}",
            shown(&expected),
            shown(v)
        ))),
        None => Err(fail(format!(
            "response property {path}: expected {} ({name}), found no such property in {}",
            shown(&expected),
            shown(&body)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(version: &str) -> SpecDocument {
        crate::spec::builtin(version).expect("built-in spec")
    }

    #[test]
    fn assets_map_to_profile_lines() {
        assert_eq!(
            asset("NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER2").ok(),
            Some((Line::Other, false))
        );
        assert_eq!(
            asset("NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER_HASHED1").ok(),
            Some((Line::Device, true))
        );
        assert_eq!(
            asset("NUMBERVERIFY_SHARE_PHONENUMBER1").ok(),
            Some((Line::Device, false))
        );
        assert_eq!(
            asset(UNDECLARED_DEVICE_ASSET).ok(),
            Some((Line::Device, false))
        );
        assert!(matches!(
            asset("NUMBERVERIFY_SOMETHING"),
            Err(StepFailure::Skip(_))
        ));
    }

    #[test]
    fn legacy_sends_resolve_to_spec_operations() {
        let s = spec("2.0.0");
        let post = http::Method::POST;
        let get = http::Method::GET;
        let id = |r: Result<(Operation, bool), String>| r.map(|(o, m)| (o.operation_id, m));
        assert_eq!(
            id(resolve_legacy(&s, &post, Some("/verify"), None)),
            Ok(("phoneNumberVerify".into(), true))
        );
        // Legacy 204/205 send GET to /verify: the path's operation, method flagged.
        assert_eq!(
            id(resolve_legacy(&s, &get, Some("/verify"), None)),
            Ok(("phoneNumberVerify".into(), false))
        );
        assert_eq!(
            id(resolve_legacy(&s, &get, Some("/device-phone-number"), None)),
            Ok(("phoneNumberShare".into(), true))
        );
        // verify0 names no resource: the only POST operation.
        assert_eq!(
            id(resolve_legacy(&s, &post, None, None)),
            Ok(("phoneNumberVerify".into(), true))
        );
        assert!(resolve_legacy(&s, &post, Some("/nowhere"), None).is_err());
    }

    #[test]
    fn request_body_refs_and_pointers() {
        let s = spec("2.1.0");
        let verify = s.operation("phoneNumberVerify").expect("verify");
        let share = s.operation("phoneNumberShare").expect("share");
        assert_eq!(
            request_body_ref(verify),
            "#/paths/~1verify/post/requestBody"
        );
        assert!(takes_body(&s, verify));
        assert!(!takes_body(&s, share));
        assert_eq!(instance_pointer("$.phoneNumber"), "/phoneNumber");
        assert_eq!(instance_pointer("$.a.b"), "/a/b");
    }

    #[test]
    fn a_malformed_candidate_breaks_the_phone_number_property() {
        let s = spec("2.1.0");
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
