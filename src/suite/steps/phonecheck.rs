//! PhoneCheck steps (IDlayr PhoneCheck v0.1): the token, the check, the device leg over the
//! check URL, the result. Each API answer is judged against the PhoneCheck document when it
//! comes in (as NV answers are) and kept in `world.api.last`, so the generic response steps
//! (`the response status code is 404`, `the response property …`) read it too.

use std::time::Duration;

use cucumber::{given, then, when};

use crate::checks::{self, phonecheck as verdict};
use crate::exchange::Exchange;
use crate::flow::ClientRole;
use crate::flow::phonecheck::{OP_CHECK_URL, OP_CREATE, OP_READ, OP_TOKEN, SCOPE_PHONE_CHECK};
use crate::suite::world::{NvWorld, StepFailure, StepResult, fail};

/// The longest ttl the suite waits out (the expiry check waits ttl + 1 s).
pub const MAX_TTL_WAIT_SECS: u64 = 30;

/// Records `exchange` as the answer to `operation_id`, for coverage and the response steps, and
/// judges it against the document.
fn record(world: &mut NvWorld, operation_id: &str, exchange: Exchange) -> StepResult {
    let ctx = world.ctx()?;
    ctx.observe(operation_id, exchange.response.status.as_u16());
    let contract = checks::contract::api_response(&ctx.spec, operation_id, &exchange, false);
    world.api.last = Some((operation_id.to_owned(), exchange));
    Ok(contract?)
}

fn role_of(who: &str) -> ClientRole {
    if who.is_empty() {
        ClientRole::Main
    } else {
        ClientRole::Other
    }
}

// ----- token -----------------------------------------------------------------------------------

step! {
/// `a PhoneCheck access token is requested with the scope "phone_check"`
#[when(regex = r#"^a PhoneCheck access token is requested with the scope "([^"]+)"$"#)]
async fn token_requested(world: &mut NvWorld, scope: String) -> StepResult {
    let ctx = world.ctx()?;
    let token = ctx.flow.phonecheck_token(ClientRole::Main, &scope).await?;
    let exchange = token.exchange.clone();
    world.phonecheck.token = Some(token);
    record(world, OP_TOKEN, exchange)
}
}

fn issued_token(world: &NvWorld) -> Result<&crate::flow::TokenResponse, StepFailure> {
    match world.phonecheck.token.as_ref().map(|t| &t.response) {
        Some(Ok(t)) => Ok(t),
        Some(Err(e)) => Err(fail(e.clone())),
        None => Err(fail("no PhoneCheck token was requested in this scenario")),
    }
}

step! {
/// `a PhoneCheck access token is issued` (guide step 3; RFC 6749 §4.4.3)
#[then(regex = r"^a PhoneCheck access token is issued$")]
fn token_issued(world: &mut NvWorld) -> StepResult {
    issued_token(world).map(|_| ())
}
}

step! {
/// `the PhoneCheck token is a bearer token`
#[then(regex = r"^the PhoneCheck token is a bearer token$")]
fn token_bearer(world: &mut NvWorld) -> StepResult {
    Ok(verdict::token_is_bearer(issued_token(world)?)?)
}
}

step! {
/// `the PhoneCheck token names the scope "phone_check"`
#[then(regex = r#"^the PhoneCheck token names the scope "([^"]+)"$"#)]
fn token_scope(world: &mut NvWorld, scope: String) -> StepResult {
    Ok(verdict::token_scope_includes(issued_token(world)?, &scope)?)
}
}

step! {
/// `the PhoneCheck token says when it expires`
#[then(regex = r"^the PhoneCheck token says when it expires$")]
fn token_expiry(world: &mut NvWorld) -> StepResult {
    Ok(verdict::token_expires(issued_token(world)?)?)
}
}

step! {
/// `a PhoneCheck access token` / `a PhoneCheck access token of the other client`: a
/// `phone_check` token the scenario's API requests carry.
#[given(regex = r"^a PhoneCheck access token( of the other client)?$")]
async fn bearer(world: &mut NvWorld, other: String) -> StepResult {
    let ctx = world.ctx()?;
    let token = ctx.flow.phonecheck_access_token(role_of(&other)).await?;
    world.phonecheck.bearer = Some(token);
    Ok(())
}
}

step! {
/// `a PhoneCheck access token with the scope "coverage"`: a valid token without `phone_check`;
/// skipped when the provider issues none with that scope.
#[given(regex = r#"^a PhoneCheck access token with the scope "([^"]+)"$"#)]
async fn bearer_with_scope(world: &mut NvWorld, scope: String) -> StepResult {
    let ctx = world.ctx()?;
    let token = ctx.flow.phonecheck_token(ClientRole::Main, &scope).await?;
    match token.response {
        Ok(t) => {
            world.phonecheck.bearer = Some(t.access_token);
            Ok(())
        }
        Err(found) => Err(StepFailure::Skip(format!(
            "the provider issues no token with the scope {scope:?} ({found}): a token lacking \
             {SCOPE_PHONE_CHECK} cannot be shown"
        ))),
    }
}
}

step! {
/// `no PhoneCheck access token`
#[given(regex = r"^no PhoneCheck access token$")]
fn no_bearer(world: &mut NvWorld) -> StepResult {
    world.phonecheck.bearer = None;
    Ok(())
}
}

// ----- checks ----------------------------------------------------------------------------------

/// Sends `POST /checks` with `body` and the scenario's token (none when it has none); the answer,
/// not yet recorded.
async fn send_create(world: &NvWorld, body: &serde_json::Value) -> Result<Exchange, StepFailure> {
    let ctx = world.ctx()?;
    Ok(ctx
        .flow
        .create_check(world.phonecheck.bearer.as_ref(), body)
        .await?)
}

/// Reads the check `check_id` with the scenario's token (none when it has none) and records the
/// answer.
async fn read_and_record(world: &mut NvWorld, check_id: &str) -> StepResult {
    let ctx = world.ctx()?;
    let exchange = ctx
        .flow
        .read_check(world.phonecheck.bearer.as_ref(), check_id)
        .await?;
    record(world, OP_READ, exchange)
}

step! {
/// `a PhoneCheck is created for the device's phone number` / `… for another phone number`: the
/// check must be created (status ACCEPTED, check_id, ttl, check_url).
#[given(regex = r"^a PhoneCheck is created for (the device's phone number|another phone number)$")]
#[when(regex = r"^a PhoneCheck is created for (the device's phone number|another phone number)$")]
async fn create(world: &mut NvWorld, whose: String) -> StepResult {
    let ctx = world.ctx()?;
    let lines = &ctx.flow.profile().lines;
    let number = if whose.starts_with("the device") {
        &lines.device
    } else {
        &lines.other
    };
    let exchange = send_create(world, &crate::flow::Flow::check_body(number)).await?;
    let created = verdict::created(&exchange);
    record(world, OP_CREATE, exchange)?;
    world.phonecheck.check = Some(created?);
    Ok(())
}
}

step! {
/// `a PhoneCheck is requested with the phone_number "07700 900000"`: any answer is recorded.
#[when(regex = r#"^a PhoneCheck is requested with the phone_number "([^"]*)"$"#)]
async fn create_with(world: &mut NvWorld, number: String) -> StepResult {
    let exchange = send_create(world, &serde_json::json!({ "phone_number": number })).await?;
    record(world, OP_CREATE, exchange)
}
}

step! {
/// `a PhoneCheck is requested for the device's phone number`: any answer is recorded (the
/// negative checks: no token, wrong scope).
#[when(regex = r"^a PhoneCheck is requested for the device's phone number$")]
async fn create_any(world: &mut NvWorld) -> StepResult {
    let body = crate::flow::Flow::check_body(&world.ctx()?.flow.profile().lines.device);
    let exchange = send_create(world, &body).await?;
    record(world, OP_CREATE, exchange)
}
}

fn created_check(world: &NvWorld) -> Result<&verdict::CreatedCheck, StepFailure> {
    world
        .phonecheck
        .check
        .as_ref()
        .ok_or_else(|| fail("no PhoneCheck was created in this scenario"))
}

step! {
/// `the check is ACCEPTED with a check_id, a ttl and a check_url` (guide step 3)
#[then(regex = r"^the check is ACCEPTED with a check_id, a ttl and a check_url$")]
fn accepted(world: &mut NvWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    verdict::created(exchange)?;
    Ok(())
}
}

step! {
/// `the check_url is under the API host` (guide step 3: a sub-resource of the check)
#[then(regex = r"^the check_url is under the API host$")]
fn check_url_under_api(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    Ok(verdict::check_url_under_api(
        created_check(world)?,
        &ctx.flow.profile().api_root,
    )?)
}
}

step! {
/// `the device requests the check_url over its data session`: GET, following every redirect,
/// over the profile's device leg. A check URL off the API host is not requested (the device's
/// network identity goes to the provider only).
#[when(regex = r"^the device requests the check_url over its data session$")]
async fn device_leg(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let check = created_check(world)?.clone();
    verdict::check_url_under_api(&check, &ctx.flow.profile().api_root)?;
    let outcome = ctx.flow.request_check_url(&check.check_url).await?;
    let first = outcome.exchanges.first().cloned();
    world.phonecheck.device_leg = Some(outcome);
    match first {
        Some(exchange) => record(world, OP_CHECK_URL, exchange),
        None => Err(fail("the device leg made no request")),
    }
}
}

fn device_outcome(world: &NvWorld) -> Result<&crate::flow::CheckUrlOutcome, StepFailure> {
    world
        .phonecheck
        .device_leg
        .as_ref()
        .ok_or_else(|| fail("the device did not request the check_url in this scenario"))
}

step! {
/// `the device leg completes` (guide step 5)
#[then(regex = r"^the device leg completes$")]
fn device_completes(world: &mut NvWorld) -> StepResult {
    Ok(verdict::device_leg_completed(device_outcome(world)?)?)
}
}

step! {
/// `the device leg is refused as the check_url was already used`
#[then(regex = r"^the device leg is refused as (.+)$")]
fn device_refused(world: &mut NvWorld, why: String) -> StepResult {
    Ok(verdict::device_leg_refused(device_outcome(world)?, &why)?)
}
}

step! {
/// `the check's ttl has passed`: waits the created check's ttl and a second more (at most
/// [`MAX_TTL_WAIT_SECS`]; a longer ttl skips the scenario).
#[when(regex = r"^the check's ttl has passed$")]
async fn ttl_passes(world: &mut NvWorld) -> StepResult {
    let ttl = created_check(world)?.ttl;
    if ttl > MAX_TTL_WAIT_SECS {
        return Err(StepFailure::Skip(format!(
            "the check's ttl is {ttl} s, longer than the suite waits ({MAX_TTL_WAIT_SECS} s)"
        )));
    }
    tokio::time::sleep(Duration::from_secs(ttl + 1)).await;
    Ok(())
}
}

step! {
/// `the PhoneCheck is read` (guide step 7)
#[when(regex = r"^the PhoneCheck is read$")]
async fn read(world: &mut NvWorld) -> StepResult {
    let check_id = created_check(world)?.check_id.clone();
    read_and_record(world, &check_id).await
}
}

step! {
/// `a PhoneCheck that does not exist is read`
#[when(regex = r"^a PhoneCheck that does not exist is read$")]
async fn read_unknown(world: &mut NvWorld) -> StepResult {
    read_and_record(world, &crate::suite::uuid_v4()).await
}
}

step! {
/// `the check is COMPLETED with match true`
#[then(regex = r"^the check is COMPLETED with match (true|false)$")]
fn completed(world: &mut NvWorld, expected: String) -> StepResult {
    Ok(verdict::completed_with_match(
        world.last_exchange()?,
        expected == "true",
    )?)
}
}

step! {
/// `the check is not COMPLETED before the device leg` / `… past its ttl`
#[then(regex = r"^the check is not COMPLETED (.+)$")]
fn not_completed(world: &mut NvWorld, when: String) -> StepResult {
    Ok(verdict::not_completed(world.last_exchange()?, &when)?)
}
}

step! {
/// `the PhoneCheck request is refused with HTTP 401`: a success fails the check; another refusal
/// than the status named is a SHOULD-level warning (the guide documents no error status; RFC 6750
/// §3.1 and HTTP semantics name it).
#[then(regex = r"^the PhoneCheck request is refused with HTTP (\d{3})$")]
fn refused(world: &mut NvWorld, expected: u16) -> StepResult {
    let exchange = world.last_exchange()?;
    let status = exchange.response.status.as_u16();
    if (200..400).contains(&status) {
        return Err(fail(format!(
            "PhoneCheck API: expected a refusal (HTTP {expected}), found HTTP {status}"
        )));
    }
    if status != expected {
        return world.warn(format!(
            "PhoneCheck API: expected HTTP {expected}, found HTTP {status} (refused, but not \
             with the status HTTP semantics name)"
        ));
    }
    Ok(())
}
}

step! {
/// `this CAMARA Number Verification scenario does not apply to IDlayr PhoneCheck v0.1`: what a
/// scenario of another family becomes (see `suite::features`), so that it is reported skipped
/// with its reason, never passed.
#[given(regex = r"^this (.+) scenario does not apply to (.+)$")]
fn not_applicable(_world: &mut NvWorld, _family: String, _provider: String) -> StepResult {
    Err(StepFailure::Skip(
        "the profile's dialect selects another family of verification".to_owned(),
    ))
}
}
