//! Assertions on the last response. Each first sends what the scenario described but has not
//! sent yet ([`ensure_sent`]): legacy CAMARA definitions set the request up after `When`, and
//! one v2.1.0 scenario has no `When` at all.

use cucumber::{given, then, when};
use serde_json::Value;

use super::lines::asset_value;
use super::send::ensure_sent;
use crate::checks;
use crate::exchange::quote_json as shown;
use crate::suite::camara_vocabulary::pointer_segment;
use crate::suite::jsonpath;
use crate::suite::lint::StepLint;
use crate::suite::world::{NvWorld, StepFailure, StepResult, fail};

step! {
/// `the response status code is 200` (also `is "401"`, as CAMARA writes it both ways)
#[then(regex = r#"^the response status code is "?(\d{3})"?$"#)]
async fn status(world: &mut NvWorld, expected: u16) -> StepResult {
    ensure_sent(world).await?;
    Ok(checks::response::status(world.last_exchange()?, expected)?)
}
}

/// `status-as-string`: `the response status code is "401"`, as CAMARA sometimes writes it.
/// Also remembers the status for [`lint_code_undocumented`].
pub(in crate::suite) fn lint_status(l: &mut StepLint<'_>) {
    if let Some(code) = l
        .text
        .strip_prefix("the response status code is \"")
        .and_then(|r| r.strip_suffix('"'))
    {
        l.report(
            "status-as-string",
            format!("status code written as the string \"{code}\"; read as the integer {code}"),
        );
    }
    if let Some(status) = l
        .text
        .strip_prefix("the response status code is ")
        .and_then(|c| c.trim_matches('"').parse::<u16>().ok())
    {
        l.seen.status = Some(status);
    }
}

step! {
/// `the response status code is one of 400, 415`
#[then(regex = r"^the response status code is one of ([\d, ]+)$")]
async fn status_one_of(world: &mut NvWorld, list: String) -> StepResult {
    ensure_sent(world).await?;
    let allowed: Vec<u16> = list
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    Ok(checks::response::status_one_of(world.last_exchange()?, &allowed)?)
}
}

step! {
/// `a 405 answer carries an "Allow" header` (RFC 9110 §15.5.6; other statuses pass)
#[then(regex = r#"^a 405 answer carries an "Allow" header$"#)]
async fn allow_on_405(world: &mut NvWorld) -> StepResult {
    ensure_sent(world).await?;
    Ok(checks::response::allow_on_405(world.last_exchange()?)?)
}
}

step! {
/// `a 404 or 405 answer is a CAMARA ErrorInfo with the code "NOT_FOUND" or "METHOD_NOT_ALLOWED"`
#[then(
    regex = r#"^a 404 or 405 answer is a CAMARA ErrorInfo with the code "NOT_FOUND" or "METHOD_NOT_ALLOWED"$"#
)]
async fn camara_error_for_404_405(world: &mut NvWorld) -> StepResult {
    ensure_sent(world).await?;
    Ok(checks::response::camara_error_for_404_405(
        world.last_exchange()?,
    )?)
}
}

step! {
/// `a 401 answer carries a Bearer "WWW-Authenticate" challenge` (RFC 6750 §3). CAMARA does not
/// ask for it, so a missing challenge is a SHOULD-level finding: the scenario warns, not fails.
#[then(regex = r#"^a 401 answer carries a Bearer "WWW-Authenticate" challenge$"#)]
async fn bearer_challenge_on_401(world: &mut NvWorld) -> StepResult {
    ensure_sent(world).await?;
    match checks::response::bearer_challenge_on_401(world.last_exchange()?) {
        Ok(()) => Ok(()),
        Err(finding) => world.warn(format!(
            "{finding} (a warning: CAMARA does not require the challenge)"
        )),
    }
}
}

step! {
/// `the response header "Content-Type" is "application/json"` (media types compare without
/// parameters, case-insensitively; other headers compare exactly)
///
/// Also a `When` step: legacy CAMARA definitions check the response under `When … And`.
#[when(regex = r#"^the response header "([^"]+)" is "([^"]*)"$"#)]
#[then(regex = r#"^the response header "([^"]+)" is "([^"]*)"$"#)]
async fn header_is(world: &mut NvWorld, name: String, expected: String) -> StepResult {
    ensure_sent(world).await?;
    Ok(checks::response::header_is(world.last_exchange()?, &name, &expected)?)
}
}

step! {
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
    let ctx = world.ctx()?;
    if let (Some(dialect), Some((operation_id, _))) =
        (&ctx.flow.profile().dialect, &world.api.last)
        && !ctx.spec.documents_correlator(operation_id)
    {
        return Err(StepFailure::Skip(format!(
            "dialect {} documents no {response_name} header for {operation_id} ({})",
            dialect.name, dialect.origin
        )));
    }
    Ok(checks::response::header_echoed(
        world.last_exchange()?,
        &response_name,
        &request_name,
    )?)
}
}

step! {
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
}

/// `the response body is compliant with the schema NumberVerificationMatchResponse` (legacy
/// Background, before any request): a statement about successful answers, which the spec
/// engine checks on every exchange anyway; not applied to error answers, which would contradict
/// it. The lint reports a schema that is not the operation's.
#[given(regex = r"^the response body is compliant with the schema (\S+)$")]
fn response_compliant_declared(_world: &mut NvWorld, _schema: String) {}

/// `response-schema`: [`response_compliant_declared`] naming another schema than that of the
/// operation's 200 answer.
pub(in crate::suite) fn lint_response_schema(l: &mut StepLint<'_>) {
    let Some(op) = l.operation else { return };
    let Some(name) = l
        .text
        .strip_prefix("the response body is compliant with the schema ")
    else {
        return;
    };
    let success = format!(
        "#/paths/{}/{}/responses/200",
        pointer_segment(&op.path),
        op.method.as_str().to_ascii_lowercase()
    );
    if let (Ok(named), Ok(actual)) = (
        l.spec.resolved_schema(name.trim()),
        l.spec.resolved_schema(&success),
    ) && named != actual
    {
        let message = format!(
            "{} is not the schema of {}'s 200 answer; not applied (nvcert judges every answer \
             against the spec anyway)",
            name.trim(),
            op.operation_id
        );
        l.report("response-schema", message);
    }
}

fn property(world: &NvWorld, path: &str) -> Result<Value, StepFailure> {
    let ctx = world.ctx()?;
    // A dialect may answer a CAMARA property elsewhere ($.devicePhoneNumber.phoneNumber).
    let path = match &ctx.flow.profile().dialect {
        Some(d) => d.response_path(path),
        None => path,
    };
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
    Ok(checks::response::property_equals(path, expected, found)?)
}

/// Property `path` of the last answer equals `expected`, or, under a dialect, the value the
/// dialect documents in its place (a property the dialect leaves out counts when it says so).
fn expect_property(world: &NvWorld, path: &str, expected: &Value) -> StepResult {
    let ctx = world.ctx()?;
    if let Some(dialect) = &ctx.flow.profile().dialect {
        let body = world.last_json()?;
        let found = jsonpath::get(&body, dialect.response_path(path))
            .map_err(fail)?
            .cloned();
        for equivalent in dialect.equivalents(path, expected) {
            let holds = if equivalent.dialect_absent() {
                found.is_none()
            } else {
                found.as_ref() == Some(&equivalent.dialect)
            };
            if holds {
                return Ok(());
            }
        }
    }
    let found = property(world, path)?;
    expect_eq(path, expected, &found)
}

step! {
/// `the response property "$.status" is 400`
#[then(regex = r#"^the response property "([^"]+)" is (-?\d+)$"#)]
async fn property_number(world: &mut NvWorld, path: String, expected: i64) -> StepResult {
    ensure_sent(world).await?;
    expect_property(world, &path, &Value::from(expected))
}
}

step! {
/// `the response property "$.devicePhoneNumberVerified" == true` (also `is true`)
#[then(regex = r#"^the response property "([^"]+)" (?:is|==) (true|false)$"#)]
async fn property_bool(world: &mut NvWorld, path: String, expected: String) -> StepResult {
    ensure_sent(world).await?;
    expect_property(world, &path, &Value::Bool(expected == "true"))
}
}

step! {
/// `the response property "$.code" is "INVALID_ARGUMENT"`. For `$.message` (legacy CAMARA
/// definitions expect exact texts) a difference is a warning: the message is free text
/// (Commonalities API-Testing-Guidelines: "`message` is present, but its value is free").
#[then(regex = r#"^the response property "([^"]+)" is "([^"]*)"$"#)]
async fn property_string(world: &mut NvWorld, path: String, expected: String) -> StepResult {
    ensure_sent(world).await?;
    let found = property(world, &path)?;
    let expected = Value::String(expected);
    match expect_property(world, &path, &expected) {
        Err(_) if path == "$.message" && found.is_string() => world.warn(format!(
            "response property $.message: expected {}, found {} (the message is free text, so \
             a different one is a warning)",
            shown(&expected),
            shown(&found)
        )),
        other => other,
    }
}
}

/// `message-exact`: an exact `$.message` text, which CAMARA declares free.
pub(in crate::suite) fn lint_message_exact(l: &mut StepLint<'_>) {
    if l.text
        .starts_with("the response property \"$.message\" is \"")
    {
        l.report(
            "message-exact",
            "exact message text expected, but `message` is free text (Commonalities \
             API-Testing-Guidelines); a different text is reported as a warning, not a failure"
                .to_owned(),
        );
    }
}

/// `code-undocumented`: an error `code` the spec does not document for the operation and the
/// status the scenario expects.
pub(in crate::suite) fn lint_code_undocumented(l: &mut StepLint<'_>) {
    let (Some(op), Some(status), Some(code)) = (
        l.operation,
        l.seen.status,
        l.text
            .strip_prefix("the response property \"$.code\" is \"")
            .and_then(|r| r.strip_suffix('"')),
    ) else {
        return;
    };
    let documented = l.spec.documented_error_codes(&op.operation_id, status);
    if !documented.is_empty() && !documented.iter().any(|c| c == code) {
        let message = format!(
            "code {code} is not documented for {} {status} in {} (documented: {}); a \
             conformant provider fails this check",
            op.operation_id,
            l.origin(),
            documented.join(", ")
        );
        l.report("code-undocumented", message);
    }
}

step! {
/// `the response property "$.message" contains a user friendly text`: a non-blank string (the
/// message is free text; CAMARA only requires it to be there).
#[then(regex = r#"^the response property "([^"]+)" contains a user friendly text$"#)]
async fn property_text(world: &mut NvWorld, path: String) -> StepResult {
    ensure_sent(world).await?;
    let found = property(world, &path)?;
    Ok(checks::response::property_is_text(&path, &found)?)
}
}

step! {
/// `the response property "$.devicePhoneNumber" is equal to the phone number associated with the access token`
#[then(
    regex = r#"^the response property "([^"]+)" is equal to the phone number associated with the access token$"#
)]
async fn property_device_number(world: &mut NvWorld, path: String) -> StepResult {
    ensure_sent(world).await?;
    let device = world.ctx()?.flow.profile().lines.device.clone();
    expect_property(world, &path, &Value::String(device))
}
}

step! {
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
}

#[cfg(test)]
mod tests {
    use crate::suite::lint::testing::rules;

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
}
