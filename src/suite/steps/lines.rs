//! The test lines: the profile's device and other numbers (`[lines]`), and the testing ASSETs
//! of legacy CAMARA definitions that stand for them (`NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER1`;
//! the table is in `suite::camara_vocabulary`). A definition asking for a line the flows cannot
//! give skips its scenario with the reason.

use cucumber::{given, then, when};
use serde_json::Value;

use super::request::sha256_hex;
use crate::exchange::quote_json as shown;
use crate::suite::camara_vocabulary::{Line, UNDECLARED_DEVICE_ASSET, asset, is_declared_asset};
use crate::suite::lint::StepLint;
use crate::suite::world::{NvWorld, StepFailure, StepResult};

/// The profile's device line (the number the network identifies).
pub(super) fn device_number(world: &NvWorld) -> Result<String, StepFailure> {
    Ok(world.ctx()?.flow.profile().lines.device.clone())
}

/// The value an asset stands for: the profile line's number, or its SHA-256 hex.
pub(super) fn asset_value(world: &NvWorld, name: &str) -> Result<String, StepFailure> {
    let (line, hashed) = asset(name).map_err(StepFailure::Skip)?;
    let lines = world.ctx()?.flow.profile().lines.clone();
    let number = match line {
        Line::Device => lines.device,
        Line::Other => lines.other,
    };
    Ok(if hashed { sha256_hex(&number) } else { number })
}

/// `undefined-asset`: a testing asset, in whatever phrasing, that the definitions do not
/// declare.
pub(in crate::suite) fn lint_undefined_assets(l: &mut StepLint<'_>) {
    for word in l
        .text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
    {
        if word.starts_with("NUMBERVERIFY_") && !is_declared_asset(word) {
            let how = if word == UNDECLARED_DEVICE_ASSET {
                "; read as the device line (…PHONENUMBER1)"
            } else {
                "; the step is skipped"
            };
            l.report(
                "undefined-asset",
                format!("testing asset {word} is not declared by the definitions{how}"),
            );
        }
    }
}

step! {
/// `a valid phone number supported by the service, identified by the token` (also `a valid
/// testing phoneNumber supported by the service, identified by the token`): the profile's
/// device line, which the flow's network-based authentication identifies. Nothing to set up.
#[given(
    regex = r"^a valid (?:testing )?(?:phone number|phoneNumber) supported by the service, identified by the token$"
)]
fn line_identified_by_token(world: &mut NvWorld) -> StepResult {
    device_number(world).map(|_| ())
}
}

step! {
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
}

step! {
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
}

step! {
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
    match asset(&name).map_err(StepFailure::Skip)? {
        (Line::Device, false) => Ok(()),
        _ => Err(StepFailure::Skip(format!(
            "the flows authenticate the profile's device line, not {name}"
        ))),
    }
}
}

step! {
/// `the connection the request is sent over originates from a device with
/// NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER1`: the device leg is the profile's device line.
#[given(
    regex = r"^the connection the request is sent over originates from a device with ([A-Z][A-Z0-9_]+)$"
)]
#[when(
    regex = r"^the connection the request is sent over originates from a device with ([A-Z][A-Z0-9_]+)$"
)]
fn connection_from_asset(_world: &mut NvWorld, name: String) -> StepResult {
    match asset(&name).map_err(StepFailure::Skip)? {
        (Line::Device, false) => Ok(()),
        _ => Err(StepFailure::Skip(format!(
            "the device leg is the profile's device line, not {name}"
        ))),
    }
}
}
