//! Assertions on the last response. Each first sends what the scenario described but has not
//! sent yet ([`ensure_sent`]): legacy CAMARA definitions set the request up after `When`, and
//! one v2.1.0 scenario has no `When` at all.

use cucumber::{then, when};
use serde_json::Value;

use super::send::ensure_sent;
use crate::exchange::quote_json as shown;
use crate::suite::jsonpath;
use crate::suite::world::{NvWorld, StepResult, fail};

/// `the response status code is 200` (also `is "401"`, as CAMARA writes it both ways)
#[then(regex = r#"^the response status code is "?(\d{3})"?$"#)]
async fn status(world: &mut NvWorld, expected: u16) -> StepResult {
    ensure_sent(world).await?;
    let e = world.last_exchange()?;
    let found = e.response.status.as_u16();
    if found == expected {
        return Ok(());
    }
    let body = crate::exchange::quote_text(&String::from_utf8_lossy(&e.response.body));
    Err(fail(format!(
        "response status: expected {expected}, found {found} (body: {body})"
    )))
}

/// `the response status code is one of 400, 415`
#[then(regex = r"^the response status code is one of ([\d, ]+)$")]
async fn status_one_of(world: &mut NvWorld, list: String) -> StepResult {
    ensure_sent(world).await?;
    let e = world.last_exchange()?;
    let found = e.response.status.as_u16();
    let allowed: Vec<u16> = list
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    if allowed.contains(&found) {
        Ok(())
    } else {
        Err(fail(format!(
            "response status: expected one of {allowed:?}, found {found}"
        )))
    }
}

/// `the response header "Content-Type" is "application/json"` (media types compare without
/// parameters, case-insensitively; other headers compare exactly)
///
/// Also a `When` step: legacy CAMARA definitions check the response under `When … And`.
#[when(regex = r#"^the response header "([^"]+)" is "([^"]*)"$"#)]
#[then(regex = r#"^the response header "([^"]+)" is "([^"]*)"$"#)]
async fn header_is(world: &mut NvWorld, name: String, expected: String) -> StepResult {
    ensure_sent(world).await?;
    let e = world.last_exchange()?;
    let found = e.response.header(&name);
    let ok = match found {
        Some(v) if name.eq_ignore_ascii_case("content-type") => {
            media_type(v) == media_type(&expected)
        }
        Some(v) => v == expected,
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(fail(format!(
            "response header {name}: expected {expected:?}, found {}",
            found.map_or("no such header".into(), |v| format!("{v:?}"))
        )))
    }
}

fn media_type(v: &str) -> String {
    v.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// `the response header "x-correlator" has same value as the request header "x-correlator"`
///
/// Also a `When` step (legacy CAMARA definitions).
#[when(regex = r#"^the response header "([^"]+)" has same value as the request header "([^"]+)"$"#)]
#[then(regex = r#"^the response header "([^"]+)" has same value as the request header "([^"]+)"$"#)]
async fn header_echo(
    world: &mut NvWorld,
    response_name: String,
    request_name: String,
) -> StepResult {
    ensure_sent(world).await?;
    let e = world.last_exchange()?;
    let sent = e.request.header(&request_name);
    let got = e.response.header(&response_name);
    match (sent, got) {
        (Some(s), Some(g)) if s == g => Ok(()),
        (None, _) => Err(fail(format!(
            "the request carried no {request_name} header to compare with"
        ))),
        (Some(s), g) => Err(fail(format!(
            "response header {response_name}: expected {s:?} (the request's {request_name}), found {}",
            g.map_or("no such header".into(), |v| format!("{v:?}"))
        ))),
    }
}

/// `the response body complies with the OAS schema at "#/components/schemas/NumberVerificationMatchResponse"`
///
/// Also a `When` step (legacy CAMARA definitions, which write `/components/…` without `#`).
#[when(regex = r#"^the response body complies with the OAS schema at "([^"]+)"$"#)]
#[then(regex = r#"^the response body complies with the OAS schema at "([^"]+)"$"#)]
async fn body_schema(world: &mut NvWorld, schema: String) -> StepResult {
    ensure_sent(world).await?;
    let ctx = world.ctx()?;
    let body = world.last_json()?;
    let violations = ctx
        .spec
        .validate_against(&schema, &body)
        .map_err(|e| fail(e.to_string()))?;
    if violations.is_empty() {
        Ok(())
    } else {
        let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
        Err(fail(format!(
            "response body does not comply with {schema}:\n{}",
            lines.join("\n")
        )))
    }
}

fn property(world: &NvWorld, path: &str) -> Result<Value, crate::suite::world::StepFailure> {
    let body = world.last_json()?;
    jsonpath::get(&body, path)
        .map_err(fail)?
        .cloned()
        .ok_or_else(|| {
            fail(format!(
                "response property {path}: expected it to exist, found no such property in {}",
                shown(&body)
            ))
        })
}

fn expect_eq(path: &str, expected: &Value, found: &Value) -> StepResult {
    if expected == found {
        Ok(())
    } else {
        Err(fail(format!(
            "response property {path}: expected {}, found {}",
            shown(expected),
            shown(found)
        )))
    }
}

/// `the response property "$.status" is 400`
#[then(regex = r#"^the response property "([^"]+)" is (-?\d+)$"#)]
async fn property_number(world: &mut NvWorld, path: String, expected: i64) -> StepResult {
    ensure_sent(world).await?;
    let found = property(world, &path)?;
    expect_eq(&path, &Value::from(expected), &found)
}

/// `the response property "$.devicePhoneNumberVerified" == true` (also `is true`)
#[then(regex = r#"^the response property "([^"]+)" (?:is|==) (true|false)$"#)]
async fn property_bool(world: &mut NvWorld, path: String, expected: String) -> StepResult {
    ensure_sent(world).await?;
    let found = property(world, &path)?;
    expect_eq(&path, &Value::Bool(expected == "true"), &found)
}

/// `the response property "$.code" is "INVALID_ARGUMENT"`. For `$.message` (legacy CAMARA
/// definitions expect exact texts) a difference is a warning: the message is free text
/// (Commonalities API-Testing-Guidelines: "`message` is present, but its value is free").
#[then(regex = r#"^the response property "([^"]+)" is "([^"]*)"$"#)]
async fn property_string(world: &mut NvWorld, path: String, expected: String) -> StepResult {
    ensure_sent(world).await?;
    let found = property(world, &path)?;
    let expected = Value::String(expected);
    match expect_eq(&path, &expected, &found) {
        Err(_) if path == "$.message" && found.is_string() => world.warn(format!(
            "response property $.message: expected {}, found {} (the message is free text, so \
             a different one is a warning)",
            shown(&expected),
            shown(&found)
        )),
        other => other,
    }
}

/// `the response property "$.message" contains a user friendly text`: a non-blank string (the
/// message is free text; CAMARA only requires it to be there).
#[then(regex = r#"^the response property "([^"]+)" contains a user friendly text$"#)]
async fn property_text(world: &mut NvWorld, path: String) -> StepResult {
    ensure_sent(world).await?;
    match property(world, &path)? {
        Value::String(s) if !s.trim().is_empty() => Ok(()),
        other => Err(fail(format!(
            "response property {path}: expected a non-empty text, found {}",
            shown(&other)
        ))),
    }
}

/// `the response property "$.devicePhoneNumber" is equal to the phone number associated with the access token`
#[then(
    regex = r#"^the response property "([^"]+)" is equal to the phone number associated with the access token$"#
)]
async fn property_device_number(world: &mut NvWorld, path: String) -> StepResult {
    ensure_sent(world).await?;
    let device = world.ctx()?.flow.profile().lines.device.clone();
    let found = property(world, &path)?;
    expect_eq(&path, &Value::String(device), &found)
}
